//! Server functions of the admin area; each goes through `ctx::admin` and calls one service.

use leptos::prelude::*;

use super::types::{Setup, SharingView};
use crate::error::AppError;

/// The setup checklist of the admin's workspace.
#[server(prefix = "/api", endpoint = "admin/setup")]
pub async fn get_setup() -> Result<Setup, AppError> {
    use crate::server::{ctx, services::setup};

    ctx::respond(async { setup::checklist(&ctx::admin().await?, ctx::now_ms()).await }.await)
}

/// The sharing settings, with the workspace's channels from Slack.
#[server(prefix = "/api", endpoint = "admin/sharing/get")]
pub async fn get_sharing() -> Result<SharingView, AppError> {
    use crate::server::{ctx, services::setup};

    ctx::respond(async { setup::sharing(&ctx::state()?, &ctx::admin().await?).await }.await)
}

/// Saves the sharing channel (one of the workspace's channels) and how answers are shared.
#[server(prefix = "/api", endpoint = "admin/sharing/save")]
pub async fn save_sharing(channel_id: String, share_mode: String) -> Result<(), AppError> {
    use super::types::Sharing;
    use crate::server::{ctx, services::setup};

    ctx::respond(
        async {
            let viewer = ctx::admin().await?;
            let sharing = Sharing::parse(&share_mode)?;
            setup::save_sharing(&ctx::state()?, &viewer, &channel_id, sharing).await
        }
        .await,
    )
}

/// Posts a short test message to the sharing channel.
#[server(prefix = "/api", endpoint = "admin/sharing/test")]
pub async fn send_test_post() -> Result<(), AppError> {
    use crate::server::{ctx, services::setup};

    ctx::respond(async { setup::test_post(&ctx::state()?, &ctx::admin().await?).await }.await)
}
