//! After an answer: post it to the workspace's sharing channel (team-visible answers only)
//! and show the member what two or three coworkers said to the same question.

use anyhow::Context as _;
use app::{
    features::answers::types::Visibility,
    server::{
        db::{answers, members::MemberRow, workspaces::WorkspaceRow},
        services::answers::Answered,
    },
};

use super::{SlackState, blocks};

/// How many coworkers' answers a member sees after answering.
const COWORKER_ANSWERS: usize = 3;

/// Shares a new answer. An only-me answer is never posted and never shown to anyone.
pub async fn after_answer(
    slack: &SlackState,
    workspace: &WorkspaceRow,
    member: &MemberRow,
    answered: &Answered,
    dm_channel: &str,
) -> anyhow::Result<()> {
    if answered.visibility == Visibility::OnlyMe {
        return Ok(());
    }
    if let Some(channel) = workspace.sharing_channel_id.as_deref() {
        let post = format!("*{}* answered “{}”\n>{}", member.name, answered.question, quote(&answered.text));
        slack
            .api_for(workspace)?
            .post_message(channel, blocks::text_message(post))
            .await
            .context("posting to the sharing channel")?;
    }
    let coworkers: Vec<_> =
        answers::list_team_visible_for_question(slack.db.pool(), &workspace.id, &answered.question_id)
            .await?
            .into_iter()
            .filter(|answer| answer.member_id != member.id)
            .take(COWORKER_ANSWERS)
            .collect();
    if !coworkers.is_empty() {
        let lines: Vec<String> =
            coworkers.iter().map(|a| format!("*{}*: {}", a.member_name, a.text.replace('\n', " "))).collect();
        let message = format!("Here is what others said:\n{}", lines.join("\n"));
        slack
            .api_for(workspace)?
            .post_message(dm_channel, blocks::text_message(message))
            .await
            .context("showing coworkers' answers")?;
    }
    Ok(())
}

/// Keeps every line of a multi-line answer inside the Slack quote.
fn quote(text: &str) -> String {
    text.replace('\n', "\n>")
}
