//! Rapport's product: the pages of the dashboard, their server functions and wire types,
//! and (with the `ssr` feature) the services and storage those server functions call.

pub mod app;
pub mod components;
pub mod error;
pub mod features;
pub mod ids;

#[cfg(test)]
mod fuzzing;

#[cfg(feature = "ssr")]
pub mod server;

pub use app::{App, shell};
pub use error::AppError;
