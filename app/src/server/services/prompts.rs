//! Asking a member on demand (`/rapport ask`, App Home, "Another question") and closing a
//! question by skipping it. The prompt is created `pending` and due now; the dispatcher
//! delivers it like a scheduled one.

use super::{members, picking};
use crate::{
    error::AppError,
    server::{
        db::{
            Db,
            members::MemberRow,
            prompts::{self, PromptRow},
            questions,
        },
        new_id,
    },
};

/// What asking now led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// A new question is on its way (the dispatcher delivers it).
    New { prompt_id: String },
    /// The member already has this question open; a member never has two.
    AlreadyOpen { question: String },
    /// The workspace has no question to ask.
    NoQuestions,
}

/// Creates a prompt for `member` due now, unless one is already open.
pub async fn ask_now(db: &Db, member: &MemberRow, now_ms: i64) -> Result<Ask, AppError> {
    let mut tx = db.begin_write().await?;
    if prompts::find_open_for_member(&mut *tx, &member.id).await?.is_some() {
        drop(tx);
        return already_open(db, member).await;
    }
    insert_on_demand(db, tx, member, now_ms).await
}

/// "Another question": skips the member's open prompt `prompt_id` and asks a new one, in one
/// transaction (the skipped one counts as asked, so the new one is different).
pub async fn replace(db: &Db, member: &MemberRow, prompt_id: &str, now_ms: i64) -> Result<Ask, AppError> {
    let mut tx = db.begin_write().await?;
    let open = prompts::find_open_for_member(&mut *tx, &member.id).await?;
    if let Some(open) = open.filter(|p| p.id == prompt_id && p.status == "sent") {
        prompts::update_status(&mut *tx, &open.id, "sent", "skipped", now_ms).await?;
    } else {
        drop(tx);
        return ask_now(db, member, now_ms).await;
    }
    insert_on_demand(db, tx, member, now_ms).await
}

/// Picks the member's next question and commits it in `tx` as a prompt due now. A member
/// who got an open question meanwhile (the unique index on open prompts) keeps that one.
async fn insert_on_demand(
    db: &Db,
    mut tx: sqlx::Transaction<'static, sqlx::Any>,
    member: &MemberRow,
    now_ms: i64,
) -> Result<Ask, AppError> {
    let first_week = members::in_first_week(member, now_ms);
    let Some(question) = picking::next_question(&mut tx, &member.workspace_id, &member.id, first_week).await? else {
        tx.commit().await?;
        return Ok(Ask::NoQuestions);
    };
    let prompt = on_demand(member, question.id, now_ms);
    match prompts::insert(&mut *tx, &prompt).await {
        Ok(()) => {}
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
            drop(tx);
            return already_open(db, member).await;
        }
        Err(error) => return Err(error.into()),
    }
    tx.commit().await?;
    Ok(Ask::New { prompt_id: prompt.id })
}

fn on_demand(member: &MemberRow, question_id: String, now_ms: i64) -> PromptRow {
    PromptRow {
        id: new_id(),
        workspace_id: member.workspace_id.clone(),
        member_id: member.id.clone(),
        question_id,
        due_at: now_ms,
        sent_at: None,
        slack_message_ts: None,
        status: "pending".to_owned(),
        created_at: now_ms,
        updated_at: now_ms,
        round_date: None,
        attempts: 0,
        next_attempt_at: now_ms,
        claimed_by: None,
        claimed_until: None,
        send_started_at: None,
        failure_reason: None,
    }
}

async fn already_open(db: &Db, member: &MemberRow) -> Result<Ask, AppError> {
    let Some(open) = prompts::find_open_for_member(db.pool(), &member.id).await? else {
        return Err(AppError::Conflict("the open question closed meanwhile; please ask again".into()));
    };
    let question = questions::find(db.pool(), &member.workspace_id, &open.question_id).await?;
    Ok(Ask::AlreadyOpen { question: question.map(|q| q.text).unwrap_or_default() })
}

/// Skips the member's open prompt `prompt_id`. Returns `false` if it is not their open one.
pub async fn skip(db: &Db, member: &MemberRow, prompt_id: &str, now_ms: i64) -> Result<bool, AppError> {
    let Some(open) = prompts::find_open_for_member(db.pool(), &member.id).await?.filter(|p| p.id == prompt_id) else {
        return Ok(false);
    };
    Ok(prompts::update_status(db.pool(), &open.id, &open.status, "skipped", now_ms).await?)
}
