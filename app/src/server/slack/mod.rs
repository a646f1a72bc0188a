//! The gateway to Slack's Web API: the HTTP client, which bot token to act with for a
//! workspace, the Block Kit Rapport sends, and Slack's user objects as member profiles.
//! Services call Slack only through [`SlackGateway`]; the inbound edge (signatures, receiving)
//! is the server's.

pub mod blocks;
pub mod client;
pub mod profile;
pub mod tokens;

use std::sync::{Arc, OnceLock};

use anyhow::Context as _;

use self::{
    client::{InstallGrant, SlackApi, SlackCallError, SlackConnection},
    tokens::TokenCipher,
};
use crate::server::{db::workspaces::Workspace, metrics::Metrics, secret::Secret};

/// Everything Rapport needs to talk to Slack; cheap to clone.
#[derive(Clone, Debug)]
pub struct SlackGateway {
    connection: SlackConnection,
    /// The bot token of the one workspace of a self-hosted or emulated install.
    fixed_token: Option<Secret>,
    /// Self-hosted: the Slack team `auth.test` reported for `fixed_token`, once it has
    /// answered. Shared by every clone, so the start-up task's answer reaches all of them.
    fixed_team: Arc<OnceLock<String>>,
    /// "Add to Slack" installs, when configured.
    oauth: Option<OAuthSettings>,
}

/// Why the environment's bot token does not act for a workspace (self-hosted mode).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FixedTokenError {
    /// `SLACK_BOT_TOKEN` is another workspace's; the workspace has no token of its own.
    #[error("the workspace has no bot token of its own, and SLACK_BOT_TOKEN belongs to another workspace")]
    OtherWorkspace,
    /// Slack has not yet answered `auth.test` for the token since the process started.
    #[error("Slack has not yet confirmed which workspace SLACK_BOT_TOKEN belongs to")]
    NotConfirmed,
}

/// The app's OAuth credentials and where installers approve the app.
#[derive(Clone, Debug)]
pub struct OAuthSettings {
    pub client_id: String,
    pub client_secret: Secret,
    /// Slack's authorize page (`https://slack.com/oauth/v2/authorize`, or the emulator's).
    pub authorize_url: String,
    /// Seals the bot tokens installs store.
    pub cipher: TokenCipher,
}

impl SlackGateway {
    /// A gateway to the Web API at `api_url` (no trailing slash) that counts its calls in
    /// `metrics`.
    pub fn new(
        api_url: &str,
        fixed_token: Option<Secret>,
        oauth: Option<OAuthSettings>,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<SlackGateway> {
        let connection = SlackConnection::new(api_url, metrics)?;
        Ok(SlackGateway { connection, fixed_token, fixed_team: Arc::default(), oauth })
    }

    /// The same gateway acting with another fixed bot token (tests of a revoked token).
    #[must_use]
    pub fn with_fixed_token(mut self, token: Secret) -> SlackGateway {
        self.fixed_token = Some(token);
        self
    }

    /// "Add to Slack" settings, when installs are possible.
    pub fn oauth(&self) -> Option<&OAuthSettings> {
        self.oauth.as_ref()
    }

    /// Whether the one workspace's bot token comes from the environment and installs are
    /// off (self-hosted mode).
    pub fn is_self_hosted(&self) -> bool {
        self.fixed_token.is_some() && self.oauth.is_none()
    }

    /// The Web API acting as the environment's bot token, if there is one.
    pub fn fixed_api(&self) -> Option<SlackApi> {
        self.fixed_token.as_ref().map(|token| self.connection.with_token(token))
    }

    /// Remembers the Slack team `auth.test` reported for the environment's bot token: from
    /// now on that token acts for that team's workspace only (self-hosted mode).
    pub fn confirm_fixed_team(&self, team_id: &str) {
        // One token, one team: a later answer cannot move it to another workspace.
        if let Err(earlier) = self.fixed_team.set(team_id.to_owned())
            && earlier != team_id
        {
            tracing::error!("Slack reported another workspace for SLACK_BOT_TOKEN; keeping the first");
        }
    }

    /// The Web API as `workspace`'s bot: its stored token from an install, else the token
    /// from the environment when that token is the workspace's.
    pub fn api_for(&self, workspace: &Workspace) -> anyhow::Result<SlackApi> {
        let stored = match (&workspace.bot_token_ciphertext, &self.oauth) {
            (Some(sealed), Some(oauth)) => {
                Some(oauth.cipher.open(&workspace.id, sealed).context("opening the workspace's bot token"))
            }
            _ => None,
        };
        match stored {
            Some(Ok(token)) => Ok(self.connection.with_token(&token)),
            Some(Err(error)) if self.fixed_token.is_none() => Err(error),
            // The emulator seals with a key of one process; after a restart its fixed token serves.
            Some(Err(_)) | None => self.fixed_api_for(workspace),
        }
    }

    /// The environment's bot token acting for `workspace`. The emulator's token speaks for
    /// whatever team the emulator plays; a self-hosted token belongs to exactly one team, the
    /// one `auth.test` reported ([`SlackGateway::confirm_fixed_team`]), and never stands in
    /// for another workspace, whose members and channels it must not reach.
    fn fixed_api_for(&self, workspace: &Workspace) -> anyhow::Result<SlackApi> {
        let Some(token) = &self.fixed_token else {
            anyhow::bail!("the workspace has no bot token");
        };
        if self.is_self_hosted() {
            match self.fixed_team.get() {
                Some(team) if *team == workspace.slack_team_id => {}
                Some(_) => return Err(FixedTokenError::OtherWorkspace.into()),
                None => return Err(FixedTokenError::NotConfirmed.into()),
            }
        }
        Ok(self.connection.with_token(token))
    }

    /// Exchanges an install's `code` for the workspace's bot token (`oauth.v2.access`).
    pub async fn exchange_code(&self, code: &str, redirect_uri: &str) -> Result<InstallGrant, SlackCallError> {
        let oauth = self.oauth.as_ref().ok_or_else(|| SlackCallError::Refused("installs_not_configured".into()))?;
        self.connection.exchange_code(&oauth.client_id, oauth.client_secret.expose(), code, redirect_uri).await
    }

    /// Seals a bot token for storage under the install key, bound to the workspace `workspace_id`.
    pub fn seal(&self, workspace_id: &str, token: &Secret) -> anyhow::Result<Vec<u8>> {
        let oauth = self.oauth.as_ref().context("installs are not configured, so tokens are not stored")?;
        oauth.cipher.seal(workspace_id, token)
    }
}
