//! Signing in: the `/login` page, who is signed in, and the self-hosted admin account's
//! email and password.

pub mod api;
pub mod types;
pub mod ui;
