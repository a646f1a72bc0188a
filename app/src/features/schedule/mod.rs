//! When members are asked: the workspace's schedule (days, local time, cadence, on/off) and
//! what operators see of its rounds. Admin pages call the server functions in `api`.

pub mod api;
pub mod types;
