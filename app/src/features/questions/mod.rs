//! Questions: every question with its answer count, and everyone's answers to one.

pub mod api;
pub mod types;
pub mod ui;
