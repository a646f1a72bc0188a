//! Insights (`/admin/insights`): participation over time, per question and per pack, and when
//! people answer in their own time, over the last 4, 12 or 52 weeks, each chart with its table
//! and a CSV download.

pub mod api;
pub mod types;
pub mod ui;
