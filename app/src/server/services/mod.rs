//! Services: one module per area, owning its rules. Server functions and routes call these;
//! these call the repositories in `db`.

pub mod people;
pub mod questions;
pub mod workspaces;
