//! The landing page.

pub mod api;
pub mod ui;
