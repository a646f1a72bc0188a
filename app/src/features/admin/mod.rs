//! The admin area: the setup checklist after an install (`/admin`), where answers are shared
//! (`/admin/sharing`), when questions are asked (`/admin/schedule`), and who is asked
//! (`/admin/members`).

pub mod api;
pub mod types;
pub mod ui;
