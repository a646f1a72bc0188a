//! The admin area: the setup checklist after an install (`/admin`), where answers are shared
//! (`/admin/sharing`) and when questions are asked (`/admin/schedule`).

pub mod api;
pub mod types;
pub mod ui;
