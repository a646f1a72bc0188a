//! Product areas, one folder each: wire types, server functions and pages side by side.

pub mod admin;
pub mod answers;
pub mod auth;
pub mod billing;
pub mod home;
pub mod insights;
pub mod me;
pub mod packs;
pub mod people;
pub mod questions;
pub mod schedule;
pub mod search;
