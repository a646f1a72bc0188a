//! Search: one box in the header, and a page of the people, questions and team-visible
//! answers that hold the words typed.

pub mod api;
pub mod types;
pub mod ui;
