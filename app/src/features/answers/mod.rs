//! Answers: what members say, and who may see it.

pub mod types;
