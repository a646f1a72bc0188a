//! UI pieces shared by several pages. None of them fetches data.

mod avatar;
mod charts;
mod errors;
mod layout;
mod pager;
mod query_box;
mod time;

pub use avatar::Avatar;
pub use charts::{BarChart, BarGroup, Fill, HeatmapChart, RateBar, RateChart, Series};
pub use errors::{AppErrorBoundary, ErrorView, NotFoundPage};
pub use layout::{AdminNav, SiteHeader};
pub use pager::Pager;
pub use query_box::{QueryBox, use_query_box};
pub use time::{AnsweredOn, format_date};
