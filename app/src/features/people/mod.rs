//! People: the team directory and each member's profile.

pub mod api;
pub mod types;
pub mod ui;
