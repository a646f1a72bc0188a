//! Asking a member a question now, from `/rapport ask`, App Home or "Another question". The
//! prompt is stored as due now and the dispatcher is woken to deliver it, the same way it
//! delivers scheduled questions (one path, so one set of guarantees).

use app::server::{
    db::{members::MemberRow, workspaces::WorkspaceRow},
    services::prompts::{self, Ask},
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

/// Asks `member` a new question now, unless one is open.
pub async fn ask(slack: &SlackState, workspace: &WorkspaceRow, member: &MemberRow) -> anyhow::Result<Asked> {
    if workspace.questions_enabled == 0 {
        return Ok(Asked::QuestionsOff);
    }
    let asked = prompts::ask_now(&slack.db, member, slack.clock.now_ms()).await?;
    Ok(delivered(slack, asked))
}

/// "Another question": skips the open prompt `prompt_id` and asks a new one.
pub async fn ask_another(
    slack: &SlackState,
    workspace: &WorkspaceRow,
    member: &MemberRow,
    prompt_id: &str,
) -> anyhow::Result<Asked> {
    if workspace.questions_enabled == 0 {
        return Ok(Asked::QuestionsOff);
    }
    let asked = prompts::replace(&slack.db, member, prompt_id, slack.clock.now_ms()).await?;
    Ok(delivered(slack, asked))
}

fn delivered(slack: &SlackState, asked: Ask) -> Asked {
    match asked {
        Ask::New { .. } => {
            slack.dispatch_wake.notify_one();
            Asked::Sent
        }
        Ask::AlreadyOpen { question } => Asked::AlreadyOpen(question),
        Ask::NoQuestions => Asked::NoQuestions,
    }
}
