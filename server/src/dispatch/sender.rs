//! Delivering one claimed prompt: check it should still go, look for a message an earlier
//! try may have posted, mark the send as started, post, and record what happened.

use app::server::db::{
    members::{self, MemberRow},
    prompts::{self, PromptRow},
    questions,
    workspaces::{self, WorkspaceRow},
};

use super::policy::{self, Verdict};
use crate::slack::{
    SlackState,
    blocks::{self, QUESTION_METADATA_EVENT, QUESTION_METADATA_PROMPT},
    client::{SlackApi, SlackCallError},
};

/// What became of one prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Posted now.
    Sent,
    /// An earlier try had posted it after all; recorded without posting again.
    FoundPosted,
    /// Put back to try again later.
    Retrying(String),
    /// Slack asked the workspace to slow down; put back until `until`.
    SlowedDown { until: i64 },
    /// Not delivered, for this reason.
    Failed(String),
    /// Not delivered, and the workspace's sending stopped for this reason.
    WorkspaceStopped(String),
    /// Someone else took the prompt meanwhile (its lease ran out); nothing was done.
    Lost,
}

impl Outcome {
    /// Whether the rest of the workspace's batch must wait.
    pub fn halts_workspace(&self) -> bool {
        matches!(self, Outcome::SlowedDown { .. } | Outcome::WorkspaceStopped(_))
    }
}

/// Delivers `prompt`, as this dispatcher claimed it, to its member in `workspace`. Every
/// write is made under the prompt's claim token, so a dispatcher that lost its claim (its
/// lease ran out while Slack was slow) changes nothing.
pub async fn deliver(slack: &SlackState, workspace: &WorkspaceRow, prompt: &PromptRow) -> anyhow::Result<Outcome> {
    let db = slack.db.pool();
    let token = claim_token(prompt);
    let now = slack.clock.now_ms();
    let member = members::find(db, &workspace.id, &prompt.member_id).await?;
    let question = questions::find(db, &workspace.id, &prompt.question_id).await?;
    let (Some(member), Some(question)) = (member, question) else {
        return fail(slack, prompt, "member or question deleted").await;
    };
    if let Some(reason) = not_deliverable(workspace, &member, prompt, now) {
        return fail(slack, prompt, reason).await;
    }
    let api = match slack.api_for(workspace) {
        Ok(api) => api,
        Err(_) => return fail(slack, prompt, "the workspace has no usable bot token").await,
    };
    if prompt.send_started_at.is_some() {
        match find_posted(slack, &api, &member, &prompt.id).await {
            Ok(Some(ts)) => {
                prompts::update_sent(db, &prompt.id, token, &ts, now).await?;
                tracing::info!(prompt.id = %prompt.id, "found a question an earlier try had posted; not sending it again");
                return Ok(Outcome::FoundPosted);
            }
            Ok(None) => {}
            Err(error) => return judge(slack, workspace, &member, prompt, &error, Call::LookUp).await,
        }
    }
    // Committed before the call: whoever retries after a crash looks for the message first.
    let now = slack.clock.now_ms();
    if !prompts::update_send_started(db, &prompt.id, token, now, now + super::LEASE_MS).await? {
        return Ok(Outcome::Lost);
    }
    let target = member.dm_channel_id.clone().unwrap_or_else(|| member.slack_user_id.clone());
    match api.post_to(&target, blocks::question_message(&question.text, &prompt.id)).await {
        Ok(posted) => {
            let now = slack.clock.now_ms();
            if !prompts::update_sent(db, &prompt.id, token, &posted.ts, now).await? {
                tracing::warn!(prompt.id = %prompt.id, "a question was delivered after its prompt closed");
            }
            if member.dm_channel_id.as_deref() != Some(posted.channel.as_str()) {
                members::update_dm_channel(db, &member.id, &posted.channel, now).await?;
            }
            Ok(Outcome::Sent)
        }
        Err(error) => judge(slack, workspace, &member, prompt, &error, Call::Post).await,
    }
}

/// The token a claimed prompt was claimed under (a claimed row always has one; an empty
/// token matches no row, so a write without one changes nothing).
fn claim_token(prompt: &PromptRow) -> &str {
    prompt.claimed_by.as_deref().unwrap_or_default()
}

/// Which Slack call failed: the lookup for an earlier try's message, or the post itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    LookUp,
    Post,
}

/// Why a prompt should not go out any more, if so: the workspace left or was refused, or
/// the member left, opted out, paused (for a scheduled question) or cannot be reached.
fn not_deliverable(workspace: &WorkspaceRow, member: &MemberRow, prompt: &PromptRow, now: i64) -> Option<&'static str> {
    if workspace.status != "active" {
        Some("workspace uninstalled")
    } else if workspace.delivery_stopped_reason.is_some() {
        Some("workspace stopped")
    } else if member.is_deleted == 1 {
        Some("member deactivated")
    } else if member.is_opted_out == 1 {
        Some("member opted out")
    } else if member.delivery_stopped_reason.is_some() {
        Some("member unreachable")
    } else if prompt.round_date.is_some() && member.paused_until.is_some_and(|until| until > now) {
        Some("member paused")
    } else {
        None
    }
}

/// Looks for the prompt's message in the member's DM (by its metadata).
async fn find_posted(
    slack: &SlackState,
    api: &SlackApi,
    member: &MemberRow,
    prompt_id: &str,
) -> Result<Option<String>, SlackCallError> {
    let channel = match &member.dm_channel_id {
        Some(channel) => channel.clone(),
        None => {
            let channel = api.open_dm(&member.slack_user_id).await?;
            let cached = members::update_dm_channel(slack.db.pool(), &member.id, &channel, slack.clock.now_ms()).await;
            if let Err(error) = cached {
                tracing::warn!(error = %error, "could not remember a member's DM channel");
            }
            channel
        }
    };
    api.find_by_metadata(&channel, QUESTION_METADATA_EVENT, QUESTION_METADATA_PROMPT, prompt_id).await
}

/// Records a failed send by the policy's verdict.
async fn judge(
    slack: &SlackState,
    workspace: &WorkspaceRow,
    member: &MemberRow,
    prompt: &PromptRow,
    error: &SlackCallError,
    failed: Call,
) -> anyhow::Result<Outcome> {
    let db = slack.db.pool();
    let now = slack.clock.now_ms();
    Ok(match policy::judge(error, prompt.attempts, &prompt.id) {
        Verdict::SlowDown { wait_ms } => {
            let until = now + wait_ms;
            workspaces::update_sending_paused_until(db, &workspace.id, until).await?;
            // A refused post was not posted: nothing to look for on the next try. A refused
            // lookup leaves the earlier try's message possibly posted: look again next time.
            let posted_maybe = failed == Call::LookUp;
            prompts::update_retry(db, prompt, until, false, posted_maybe, "rate limited by Slack", now).await?;
            tracing::warn!(workspace.id = %workspace.id, wait_ms, "Slack is rate limiting this workspace; holding its sends");
            Outcome::SlowedDown { until }
        }
        Verdict::Retry { wait_ms, reason } => {
            prompts::update_retry(db, prompt, now + wait_ms, true, true, &reason, now).await?;
            tracing::warn!(prompt.id = %prompt.id, %reason, wait_ms, "a question could not be delivered; trying again later");
            Outcome::Retrying(reason)
        }
        Verdict::Fail { reason } => return fail(slack, prompt, &reason).await,
        Verdict::StopMember { reason } => {
            members::update_delivery_stopped(db, &member.id, Some(&reason), now).await?;
            tracing::warn!(member.id = %member.id, %reason, "Slack cannot reach this member; not asking them any more");
            return fail(slack, prompt, &reason).await;
        }
        Verdict::StopWorkspace { reason } => {
            workspaces::update_delivery_stopped(db, &workspace.id, &reason, now).await?;
            prompts::update_failed(db, &prompt.id, claim_token(prompt), &reason, now).await?;
            let dropped = prompts::fail_waiting_for_workspace(db, &workspace.id, &reason, now).await?;
            tracing::error!(workspace.id = %workspace.id, %reason, dropped, "Slack refused the workspace's token; its sending stopped");
            Outcome::WorkspaceStopped(reason)
        }
    })
}

async fn fail(slack: &SlackState, prompt: &PromptRow, reason: &str) -> anyhow::Result<Outcome> {
    prompts::update_failed(slack.db.pool(), &prompt.id, claim_token(prompt), reason, slack.clock.now_ms()).await?;
    tracing::info!(prompt.id = %prompt.id, %reason, "a question was not delivered");
    Ok(Outcome::Failed(reason.to_owned()))
}
