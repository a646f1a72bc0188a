//! The Rapport process: configuration, the HTTP edges (health, Slack, Stripe, the emulators,
//! metrics), the background loops (dispatcher, inbox worker, periodic jobs), start-up and
//! shutdown, the CLI, backups and the demo workspace. `main.rs` only calls [`cli::run`];
//! tests build the same [`startup::Application`] the binary runs.

pub mod backup;
pub mod cli;
pub mod config;
pub mod demo;
pub mod dispatch;
pub mod emulator;
#[cfg(test)]
mod fuzzing;
pub mod inbox;
pub mod jobs;
pub mod metrics;
pub mod plain_page;
pub mod routes;
pub mod security_headers;
pub mod serve;
pub mod sessions;
pub mod sign_in;
pub mod slack;
pub mod startup;
pub mod state;
pub mod stripe;
pub mod telemetry;
