//! Server functions of the schedule area, for the admin pages: each parses its input and
//! calls one service function.

use leptos::prelude::*;

use super::types::{RoundOverview, ScheduleView};
use crate::error::AppError;

/// The admin's workspace's schedule.
#[server(prefix = "/api", endpoint = "schedule/get")]
pub async fn get_schedule() -> Result<ScheduleView, AppError> {
    use crate::server::{ctx, services::schedule};

    ctx::respond(async { schedule::view(&ctx::admin().await?).await }.await)
}

/// Saves the schedule: days (`mon` … `sun`), a local time (`HH:MM`), a cadence, on/off and
/// whether guests are asked.
#[server(prefix = "/api", endpoint = "schedule/save")]
pub async fn save_schedule(
    enabled: bool,
    weekdays: Vec<String>,
    local_time: String,
    cadence: String,
    include_guests: bool,
) -> Result<(), AppError> {
    use super::types::{Cadence, LocalTime, Weekdays};
    use crate::server::{ctx, services::schedule};

    ctx::respond(
        async {
            let viewer = ctx::admin().await?;
            let parsed = schedule::Schedule {
                weekdays: Weekdays::parse(&weekdays)?,
                local_time: LocalTime::parse(&local_time)?,
                cadence: Cadence::parse(&cadence)?,
            };
            schedule::save(&viewer, &parsed, enabled, include_guests, ctx::now_ms()).await
        }
        .await,
    )
}

/// When the next round starts and how the last one went.
#[server(prefix = "/api", endpoint = "schedule/rounds")]
pub async fn get_round_overview() -> Result<RoundOverview, AppError> {
    use crate::server::{ctx, services::rounds};

    ctx::respond(
        async {
            let viewer = ctx::admin().await?;
            rounds::overview(&viewer.db, &viewer.workspace_id, ctx::now_ms()).await
        }
        .await,
    )
}
