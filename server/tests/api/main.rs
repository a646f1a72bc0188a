//! Integration tests: the real application over HTTP, and the repositories, each test on
//! its own fresh SQLite database and again on its own PostgreSQL database.

// Test bodies shared by the two backends are plain `async fn`s, which clippy does not see as
// tests; a failed unwrap in them is a failed test, as it should be.
#![expect(clippy::unwrap_used, reason = "a panic is how a test fails")]

#[macro_use]
mod helpers;

mod accounts;
mod admin;
mod backup;
mod billing;
mod connections;
mod crash;
mod cross_site;
mod demo;
mod dispatch;
mod emulator;
mod guests;
mod health;
mod in_common;
mod inbox;
mod insights;
mod install;
mod interactions;
mod me;
mod metrics;
mod packs;
mod pages;
mod schedule;
mod search;
mod security_headers;
mod sign_in;
mod slack;
mod storage;
mod tenant_isolation;
mod token_key;
mod weekly_summary;
