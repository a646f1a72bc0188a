//! Services: one module per area, owning its rules. Server functions and routes call these;
//! these call the repositories in `db`.

pub mod answers;
pub mod builtin_packs;
pub mod members;
pub mod packs;
pub mod people;
pub mod picking;
pub mod prompts;
pub mod questions;
pub mod rounds;
pub mod schedule;
pub mod workspaces;
