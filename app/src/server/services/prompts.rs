//! Asking a member a question on demand (`/rapport ask`, App Home). The scheduler that
//! decides when to ask comes later; the prompt row and its states are the same.

use crate::{
    error::AppError,
    server::{
        db::{Db, members::MemberRow, prompts, questions},
        new_id,
    },
};

/// A prompt ready to be delivered to Slack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptToSend {
    pub prompt_id: String,
    pub question: String,
}

/// What asking now led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// A new prompt, marked in flight: deliver it, then [`record_sent`] or [`record_failed`].
    New(PromptToSend),
    /// The member already has an open question; a member never has two.
    AlreadyOpen(PromptToSend),
    /// The workspace has no question to ask.
    NoQuestions,
}

/// Creates a prompt for `member` due now, unless one is already open.
pub async fn ask_now(db: &Db, member: &MemberRow, now_ms: i64) -> Result<Ask, AppError> {
    let mut tx = db.pool().begin().await?;
    if prompts::find_open_for_member(&mut *tx, &member.id).await?.is_some() {
        drop(tx);
        return already_open(db, member).await;
    }
    let Some(question) = questions::find_next_for_member(&mut *tx, &member.workspace_id, &member.id).await? else {
        return Ok(Ask::NoQuestions);
    };
    let prompt = prompts::PromptRow {
        id: new_id(),
        workspace_id: member.workspace_id.clone(),
        member_id: member.id.clone(),
        question_id: question.id,
        due_at: now_ms,
        sent_at: None,
        slack_message_ts: None,
        // In flight before the Slack call, so a crash in between is never a blind resend.
        status: "in_flight".to_owned(),
        created_at: now_ms,
        updated_at: now_ms,
    };
    match prompts::insert(&mut *tx, &prompt).await {
        Ok(()) => {}
        // Another request opened a question first (the unique index on open prompts).
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
            drop(tx);
            return already_open(db, member).await;
        }
        Err(error) => return Err(error.into()),
    }
    tx.commit().await?;
    Ok(Ask::New(PromptToSend { prompt_id: prompt.id, question: question.text }))
}

async fn already_open(db: &Db, member: &MemberRow) -> Result<Ask, AppError> {
    let Some(open) = prompts::find_open_for_member(db.pool(), &member.id).await? else {
        return Err(AppError::Conflict("the open question closed meanwhile; please ask again".into()));
    };
    let question = questions::find(db.pool(), &member.workspace_id, &open.question_id).await?;
    Ok(Ask::AlreadyOpen(PromptToSend { prompt_id: open.id, question: question.map(|q| q.text).unwrap_or_default() }))
}

/// Records that Slack accepted the prompt's message.
pub async fn record_sent(db: &Db, prompt_id: &str, slack_message_ts: &str, now_ms: i64) -> Result<(), AppError> {
    if !prompts::update_sent(db.pool(), prompt_id, slack_message_ts, now_ms).await? {
        tracing::warn!(prompt.id = %prompt_id, "a question was delivered after it was closed");
    }
    Ok(())
}

/// Records that Slack refused the prompt's message, so it is not open any more.
pub async fn record_failed(db: &Db, prompt_id: &str, now_ms: i64) -> Result<(), AppError> {
    prompts::update_status(db.pool(), prompt_id, "in_flight", "failed", now_ms).await?;
    Ok(())
}

/// Skips the member's open prompt `prompt_id`. Returns `false` if it is not their open one.
pub async fn skip(db: &Db, member: &MemberRow, prompt_id: &str, now_ms: i64) -> Result<bool, AppError> {
    let Some(open) = prompts::find_open_for_member(db.pool(), &member.id).await?.filter(|p| p.id == prompt_id) else {
        return Ok(false);
    };
    Ok(prompts::update_status(db.pool(), &open.id, &open.status, "skipped", now_ms).await?)
}
