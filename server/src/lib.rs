//! The Rapport process: configuration, the HTTP router, start-up and shutdown, the CLI and
//! the demo workspace. `main.rs` only calls [`cli::run`]; tests build the same
//! [`startup::Application`] the binary runs.

pub mod cli;
pub mod config;
pub mod demo;
pub mod dispatch;
pub mod emulator;
pub mod routes;
pub mod sessions;
pub mod slack;
pub mod startup;
pub mod telemetry;
