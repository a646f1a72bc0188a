//! UI pieces shared by several pages. None of them fetches data.

mod avatar;
mod charts;
mod errors;
mod layout;
mod pager;
mod time;

pub use avatar::Avatar;
pub use charts::{BarChart, BarGroup, Fill, HeatmapChart, RateBar, RateChart, Series};
pub use errors::{AppErrorBoundary, ErrorView, NotFoundPage};
pub use layout::{AdminNav, SiteHeader};
pub use pager::Pager;
pub use time::{AnsweredOn, format_date};
