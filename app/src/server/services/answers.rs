//! Answering a prompt: the rules every path (Slack DM reply, modal, dashboard) shares.

use crate::{
    error::AppError,
    features::answers::types::{AnswerText, Visibility},
    server::{
        db::{
            Db, answers,
            members::Member,
            prompts::{self, PromptStatus},
            questions,
        },
        new_id,
    },
};

/// A stored answer and the question it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered {
    pub answer_id: String,
    pub prompt_id: String,
    pub question_id: String,
    pub question: String,
    pub text: String,
    pub visibility: Visibility,
    /// The `ts` of the message that asked the question in the member's DM.
    pub asked_in: Option<String>,
}

/// Stores `text` as the answer to the member's open prompt, in one transaction. With
/// `prompt_id`, only that prompt may be answered (a button or modal names its prompt).
/// Returns `None` when there is no such open prompt (nothing is stored).
pub async fn answer_open_prompt(
    db: &Db,
    member: &Member,
    prompt_id: Option<&str>,
    text: &AnswerText,
    visibility: Visibility,
    now_ms: i64,
) -> Result<Option<Answered>, AppError> {
    let mut tx = db.begin_write().await?;
    let open = prompts::find_open_for_member(&mut *tx, &member.id).await?;
    // Only a question the member has seen (sent) can be answered, never one still on its way.
    let Some(prompt) = open.filter(|p| p.status == PromptStatus::Sent && prompt_id.is_none_or(|id| id == p.id)) else {
        return Ok(None);
    };
    // The status check in the update makes a second, concurrent answer lose cleanly.
    if !prompts::update_status(&mut *tx, &prompt.id, prompt.status, PromptStatus::Answered, now_ms).await? {
        return Ok(None);
    }
    let question = questions::find(&mut *tx, &member.workspace_id, &prompt.question_id)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("prompt {} names a missing question", prompt.id)))?;
    let answer = answers::Answer {
        id: new_id(),
        workspace_id: member.workspace_id.clone(),
        prompt_id: prompt.id.clone(),
        text: text.as_str().to_owned(),
        visibility,
        created_at: now_ms,
        updated_at: now_ms,
    };
    answers::insert(&mut tx, &answer).await?;
    tx.commit().await?;
    Ok(Some(Answered {
        answer_id: answer.id,
        prompt_id: prompt.id,
        question_id: question.id,
        question: question.text,
        text: answer.text,
        visibility,
        asked_in: prompt.slack_message_ts,
    }))
}
