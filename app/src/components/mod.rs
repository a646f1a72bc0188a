//! UI pieces shared by several pages. None of them fetches data.

mod avatar;
mod errors;
mod layout;
mod time;

pub use avatar::Avatar;
pub use errors::{AppErrorBoundary, ErrorView, NotFoundPage};
pub use layout::{AdminNav, SiteHeader};
pub use time::{AnsweredOn, format_date};
