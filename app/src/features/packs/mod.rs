//! Question packs: the built-in ones a workspace switches on or off, and its own, which
//! admins write, reorder, import and export as CSV.

pub mod api;
pub mod types;
pub mod ui;
