//! The App Home tab: published when a member opens it and again after they change something
//! there.

use anyhow::Context as _;

use crate::{
    features::answers::types::Visibility,
    server::{
        AppState,
        db::{answers, members::Member, workspaces::Workspace},
        slack::blocks::{self, Home},
    },
};

/// How many of their own answers a member sees on App Home.
const LATEST_ANSWERS: i64 = 5;

/// Publishes `member`'s App Home.
#[tracing::instrument(name = "publish App Home", skip_all, fields(workspace.id = %workspace.id, member.id = %member.id))]
pub async fn publish(state: &AppState, workspace: &Workspace, member: &Member) -> anyhow::Result<()> {
    let shared = answers::list_team_visible_for_member(state.db.pool(), &workspace.id, &member.id).await?.len();
    let latest = answers::list_own(state.db.pool(), &workspace.id, &member.id, LATEST_ANSWERS)
        .await?
        .into_iter()
        .map(|answer| (answer.question, answer.text, answer.visibility == Visibility::OnlyMe))
        .collect();
    let home = Home {
        first_name: member.name.split_whitespace().next().unwrap_or(&member.name).to_owned(),
        shared,
        paused: member.paused_until.is_some_and(|until| until > state.now_ms()),
        latest,
    };
    state
        .slack()?
        .api_for(workspace)?
        .publish_home(&member.slack_user_id, blocks::home_view(&home))
        .await
        .context("publishing the App Home")?;
    Ok(())
}
