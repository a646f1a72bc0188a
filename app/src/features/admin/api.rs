//! Server functions of the admin area; each goes through `ctx::admin` and calls one service.

use leptos::prelude::*;

use super::types::{Setup, SharingView};
use crate::error::AppError;

/// The setup checklist of the admin's workspace.
#[server(prefix = "/api", endpoint = "admin/setup")]
pub async fn get_setup() -> Result<Setup, AppError> {
    use crate::server::{ctx, services::setup};

    ctx::respond(async { setup::checklist(&ctx::state()?, &ctx::admin().await?).await }.await)
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

/// Everyone in the workspace, whether they are asked, and why not.
#[server(prefix = "/api", endpoint = "admin/members/list")]
pub async fn list_members() -> Result<super::types::MembersView, AppError> {
    use crate::server::{ctx, services::member_admin};

    ctx::respond(async { member_admin::list(&ctx::admin().await?, ctx::now_ms()).await }.await)
}

/// Leaves a member out of questions (`true`) or lets them be asked again.
#[server(prefix = "/api", endpoint = "admin/members/exclude")]
pub async fn exclude_member(member_id: String, excluded: bool) -> Result<(), AppError> {
    use crate::server::{ctx, services::member_admin};

    ctx::respond(
        async { member_admin::set_excluded(&ctx::admin().await?, &member_id, excluded, ctx::now_ms()).await }.await,
    )
}

/// Promotes a member to admin (`true`) or demotes them.
#[server(prefix = "/api", endpoint = "admin/members/admin")]
pub async fn set_member_admin(member_id: String, admin: bool) -> Result<(), AppError> {
    use crate::server::{ctx, services::member_admin};

    ctx::respond(async { member_admin::set_admin(&ctx::admin().await?, &member_id, admin, ctx::now_ms()).await }.await)
}

/// Tries a member Slack refused again at the next round.
#[server(prefix = "/api", endpoint = "admin/members/retry")]
pub async fn retry_member(member_id: String) -> Result<(), AppError> {
    use crate::server::{ctx, services::member_admin};

    ctx::respond(async { member_admin::try_again(&ctx::admin().await?, &member_id, ctx::now_ms()).await }.await)
}

/// Whether guests are asked too.
#[server(prefix = "/api", endpoint = "admin/members/guests")]
pub async fn set_include_guests(include: bool) -> Result<(), AppError> {
    use crate::server::{ctx, services::member_admin};

    ctx::respond(async { member_admin::set_include_guests(&ctx::admin().await?, include, ctx::now_ms()).await }.await)
}

/// The whole workspace's data as a JSON download (a GET, so a plain link works).
#[server(prefix = "/api", endpoint = "admin/data/export", input = leptos::server_fn::codec::GetUrl)]
pub async fn export_workspace() -> Result<super::types::WorkspaceExport, AppError> {
    use crate::server::{ctx, services::workspace_data};

    ctx::respond(
        async {
            let data = workspace_data::export(&ctx::admin().await?, ctx::now_ms()).await?;
            ctx::download_as("rapport-workspace.json");
            Ok(data)
        }
        .await,
    )
}

/// Deletes all of the workspace's data; the admin types the workspace's name to confirm.
#[server(prefix = "/api", endpoint = "admin/data/delete")]
pub async fn delete_workspace(confirmation: String) -> Result<(), AppError> {
    use crate::server::{ctx, services::workspace_data};

    ctx::respond(async { workspace_data::delete(&ctx::admin().await?, &confirmation).await }.await)
}

/// Whether the admins get the weekly summary in Slack.
#[server(prefix = "/api", endpoint = "admin/summary/get")]
pub async fn get_weekly_summary() -> Result<bool, AppError> {
    use crate::server::{ctx, services::weekly_summary};

    ctx::respond(async { weekly_summary::is_enabled(&ctx::admin().await?).await }.await)
}

/// Turns the admins' weekly summary in Slack on or off.
#[server(prefix = "/api", endpoint = "admin/summary/set")]
pub async fn set_weekly_summary(enabled: bool) -> Result<(), AppError> {
    use crate::server::{ctx, services::weekly_summary};

    ctx::respond(async { weekly_summary::set_enabled(&ctx::admin().await?, enabled, ctx::now_ms()).await }.await)
}
