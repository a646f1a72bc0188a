//! Installing Rapport in a workspace: from "Add to Slack" (an OAuth code) or, self-hosted,
//! from the environment's bot token; then importing the workspace's members. An install
//! messages nobody and posts nothing: that waits until an admin picks a sharing channel and
//! turns questions on.

use std::time::Duration;

use anyhow::Context as _;

use super::members as roster;
use crate::server::{
    AppState,
    db::workspaces::{self, Installation, Workspace},
    new_id,
    slack::{client::SlackCallError, profile},
};

/// Why an install did not complete.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// Slack refused the code (expired, used, wrong app): the installer should start again.
    #[error("Slack refused the install: {0}")]
    Refused(String),
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// Exchanges an install's `code` (`oauth.v2.access`), stores the workspace with its bot
/// token sealed, and imports its members in the background. A re-install updates the same
/// workspace.
#[tracing::instrument(skip_all)]
pub async fn install_with_code(state: &AppState, code: &str, redirect_uri: &str) -> Result<Workspace, InstallError> {
    let slack = state.slack()?;
    let grant = match slack.exchange_code(code, redirect_uri).await {
        Ok(grant) => grant,
        Err(SlackCallError::Refused(code)) => return Err(InstallError::Refused(code)),
        Err(other) => {
            return Err(InstallError::Failed(anyhow::Error::new(other).context("exchanging the install code")));
        }
    };
    let install = Installation {
        slack_team_id: grant.team_id,
        name: grant.team_name,
        bot_user_id: grant.bot_user_id,
        // Sealed below for the workspace's id, which the upsert settles (a re-install keeps it).
        bot_token_ciphertext: None,
        installed_by_slack_user_id: Some(grant.installer_user_id),
    };
    let mut tx = state.db.begin_write().await.context("storing the installed workspace")?;
    let mut workspace = workspaces::upsert_installation(&mut *tx, &install, &new_id(), state.now_ms())
        .await
        .context("storing the installed workspace")?;
    let sealed = slack.seal(&workspace.id, &grant.bot_token)?;
    workspaces::update_bot_token_ciphertext(&mut *tx, &workspace.id, &sealed).await.context("storing the bot token")?;
    tx.commit().await.context("storing the installed workspace")?;
    workspace.bot_token_ciphertext = Some(sealed);
    tracing::info!(workspace.id = %workspace.id, "Rapport was installed in a workspace");
    let (background, stored) = (state.clone(), workspace.clone());
    state.tasks.spawn(async move {
        if let Err(error) = import_members(&background, &stored).await {
            tracing::warn!(error = format!("{error:#}"), workspace.id = %stored.id, "could not import the members");
        }
    });
    Ok(workspace)
}

/// How long self-hosted start-up waits before asking Slack again: at first, and at most.
const FIRST_RETRY: Duration = Duration::from_secs(5);
const LONGEST_RETRY: Duration = Duration::from_secs(300);

/// Self-hosted start-up: [`install_from_environment`], tried again with growing waits until
/// it succeeds or shutdown begins. Until Slack has answered `auth.test`, the environment's
/// token acts for no workspace, since which one it belongs to is not known.
pub async fn install_from_environment_until_done(state: &AppState) {
    let mut wait = FIRST_RETRY;
    loop {
        match install_from_environment(state).await {
            Ok(workspace) => {
                tracing::info!(workspace.id = %workspace.id, "self-hosted Slack workspace is ready");
                return;
            }
            Err(error) => tracing::error!(
                error = format!("{error:#}"),
                retry_in_secs = wait.as_secs(),
                "could not reach Slack with SLACK_BOT_TOKEN"
            ),
        }
        tokio::select! {
            () = state.tasks.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        wait = (wait * 2).min(LONGEST_RETRY);
    }
}

/// Self-hosted mode: records the workspace the environment's bot token belongs to (no
/// token is stored; it stays in the environment) and imports its members. The team
/// `auth.test` reports becomes the only one the token acts for.
#[tracing::instrument(skip_all)]
pub async fn install_from_environment(state: &AppState) -> anyhow::Result<Workspace> {
    let slack = state.slack()?;
    let api = slack.fixed_api().context("no SLACK_BOT_TOKEN")?;
    let identity = api.whoami().await.context("auth.test")?;
    slack.confirm_fixed_team(&identity.team_id);
    let install = Installation {
        slack_team_id: identity.team_id,
        name: identity.team_name,
        bot_user_id: Some(identity.bot_user_id),
        bot_token_ciphertext: None,
        installed_by_slack_user_id: None,
    };
    let workspace = workspaces::upsert_installation(state.db.pool(), &install, &new_id(), state.now_ms())
        .await
        .context("storing the workspace")?;
    import_members(state, &workspace).await?;
    Ok(workspace)
}

/// Adds every member from `users.list`, page by page.
async fn import_members(state: &AppState, workspace: &Workspace) -> anyhow::Result<()> {
    let api = state.slack()?.api_for(workspace)?;
    let mut cursor = None;
    loop {
        let (users, next) = api.list_users(cursor).await.context("users.list")?;
        for user in &users {
            roster::sync_from_slack(&state.db, &workspace.id, &profile::from_slack_user(user), state.now_ms())
                .await
                .context("storing a member")?;
        }
        match next {
            Some(next) => cursor = Some(next),
            None => return Ok(()),
        }
    }
}
