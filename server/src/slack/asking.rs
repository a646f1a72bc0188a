//! Asking a member a question now, from `/rapport ask`, App Home or "Another question".

use app::server::{
    db::{members::MemberRow, workspaces::WorkspaceRow},
    now_ms,
    services::prompts,
};

use super::{SlackState, blocks};

/// What asking led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Asked {
    /// A question is on its way to the member's DM.
    Sent,
    /// The member already has this question open.
    AlreadyOpen(String),
    NoQuestions,
    /// The workspace has not turned questions on.
    QuestionsOff,
}

impl Asked {
    /// What the member is told.
    pub fn reply(&self) -> String {
        match self {
            Asked::Sent => "On its way! Check your DMs with Rapport.".to_owned(),
            Asked::AlreadyOpen(question) => {
                format!("You already have a question waiting in your DMs: “{}”", blocks::escape(question))
            }
            Asked::NoQuestions => "There are no questions to ask yet. An admin can add some.".to_owned(),
            Asked::QuestionsOff => {
                "Questions are not turned on in this workspace yet. An admin can turn them on.".to_owned()
            }
        }
    }
}

/// Creates a prompt now and sends it in a task, so the command answers within Slack's 3 s.
pub async fn ask(slack: &SlackState, workspace: &WorkspaceRow, member: &MemberRow, now: i64) -> anyhow::Result<Asked> {
    if workspace.questions_enabled == 0 {
        return Ok(Asked::QuestionsOff);
    }
    Ok(match prompts::ask_now(&slack.db, member, now).await? {
        prompts::Ask::AlreadyOpen(open) => Asked::AlreadyOpen(open.question),
        prompts::Ask::NoQuestions => Asked::NoQuestions,
        prompts::Ask::New(prompt) => {
            let slack = slack.clone();
            let channel = member.dm_channel_id.clone().unwrap_or_else(|| member.slack_user_id.clone());
            let workspace = workspace.clone();
            tokio::spawn(async move { deliver(&slack, &workspace, &channel, prompt).await });
            Asked::Sent
        }
    })
}

/// Sends a prompt's question and records the outcome on the prompt.
pub async fn deliver(slack: &SlackState, workspace: &WorkspaceRow, channel: &str, prompt: prompts::PromptToSend) {
    let message = blocks::question_message(&prompt.question, &prompt.prompt_id);
    let sent = match slack.api_for(workspace) {
        Ok(api) => api.post_message(channel, message).await.map_err(anyhow::Error::from),
        Err(error) => Err(error),
    };
    let outcome = match sent {
        Ok(ts) => prompts::record_sent(&slack.db, &prompt.prompt_id, &ts, now_ms()).await,
        Err(error) => {
            tracing::warn!(error = %error, prompt.id = %prompt.prompt_id, "could not deliver a question");
            prompts::record_failed(&slack.db, &prompt.prompt_id, now_ms()).await
        }
    };
    if let Err(error) = outcome {
        tracing::error!(error = %error, prompt.id = %prompt.prompt_id, "could not record a question's delivery");
    }
}
