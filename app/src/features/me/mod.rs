//! `/me`: a member's own answers and settings: who sees each answer, edit, withdraw; pause
//! or resume; opt out; export my data; forget me.

pub mod api;
pub mod types;
pub mod ui;
