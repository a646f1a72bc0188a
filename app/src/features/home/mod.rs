//! The landing page.

pub mod ui;
