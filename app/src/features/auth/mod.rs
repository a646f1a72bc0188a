//! Signing in: the self-hosted admin account's email and password.

pub mod types;
