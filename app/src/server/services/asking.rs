//! Asking a member on demand (`/rapport ask`, App Home, "Another question") and closing a
//! question by skipping it. The prompt is created `pending` and due now, and the dispatcher
//! is woken to deliver it the same way it delivers scheduled questions (one path, so one
//! set of guarantees). Whether a workspace may be asked on demand is decided here only; a
//! guest the workspace leaves out is never asked.

use super::{billing, members, picking};
use crate::{
    error::AppError,
    server::{
        AppState,
        db::{
            Db,
            members::Member,
            prompts::{self, Prompt, PromptStatus},
            questions,
            workspaces::Workspace,
        },
        new_id,
        slack::blocks::{self, Closed},
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
    /// The workspace has not turned questions on.
    QuestionsOff,
    /// The member is a guest the workspace leaves out (`members::is_left_out_guest`).
    GuestLeftOut,
}

/// Whether members of `workspace` may be asked on demand: questions are turned on and the
/// workspace is entitled to them (billing's one rule, `billing::entitled`).
pub async fn may_ask(state: &AppState, workspace: &Workspace) -> Result<bool, AppError> {
    Ok(workspace.questions_enabled && billing::entitled(state, workspace).await?)
}

/// Asks `member` a new question now, unless one is open, and wakes the dispatcher.
#[tracing::instrument(skip_all, fields(workspace.id = %workspace.id, member.id = %member.id))]
pub async fn ask(state: &AppState, workspace: &Workspace, member: &Member) -> Result<Ask, AppError> {
    if members::is_left_out_guest(workspace, member) {
        return Ok(Ask::GuestLeftOut);
    }
    if !may_ask(state, workspace).await? {
        return Ok(Ask::QuestionsOff);
    }
    let asked = ask_now(&state.db, member, state.now_ms()).await?;
    Ok(woke(state, asked))
}

/// "Another question": skips the open prompt `prompt_id` and asks a new one.
#[tracing::instrument(skip_all, fields(workspace.id = %workspace.id, member.id = %member.id))]
pub async fn ask_another(
    state: &AppState,
    workspace: &Workspace,
    member: &Member,
    prompt_id: &str,
) -> Result<Ask, AppError> {
    if members::is_left_out_guest(workspace, member) {
        return Ok(Ask::GuestLeftOut);
    }
    if !may_ask(state, workspace).await? {
        return Ok(Ask::QuestionsOff);
    }
    let asked = replace(&state.db, member, prompt_id, state.now_ms()).await?;
    Ok(woke(state, asked))
}

fn woke(state: &AppState, asked: Ask) -> Ask {
    if matches!(asked, Ask::New { .. }) {
        state.wake.dispatcher.notify_one();
    }
    asked
}

/// Creates a prompt for `member` due now, unless one is already open.
async fn ask_now(db: &Db, member: &Member, now_ms: i64) -> Result<Ask, AppError> {
    let mut tx = db.begin_write().await?;
    if prompts::find_open_for_member(&mut *tx, &member.id).await?.is_some() {
        drop(tx);
        return already_open(db, member).await;
    }
    insert_on_demand(db, tx, member, now_ms).await
}

/// "Another question": skips the member's open prompt `prompt_id` and asks a new one, in one
/// transaction (the skipped one counts as asked, so the new one is different).
async fn replace(db: &Db, member: &Member, prompt_id: &str, now_ms: i64) -> Result<Ask, AppError> {
    let mut tx = db.begin_write().await?;
    let open = prompts::find_open_for_member(&mut *tx, &member.id).await?;
    if let Some(open) = open.filter(|p| p.id == prompt_id && p.status == PromptStatus::Sent) {
        prompts::update_status(&mut *tx, &open.id, PromptStatus::Sent, PromptStatus::Skipped, now_ms).await?;
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
    member: &Member,
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

fn on_demand(member: &Member, question_id: String, now_ms: i64) -> Prompt {
    Prompt {
        id: new_id(),
        workspace_id: member.workspace_id.clone(),
        member_id: member.id.clone(),
        question_id,
        due_at: now_ms,
        sent_at: None,
        slack_message_ts: None,
        status: PromptStatus::Pending,
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

async fn already_open(db: &Db, member: &Member) -> Result<Ask, AppError> {
    let Some(open) = prompts::find_open_for_member(db.pool(), &member.id).await? else {
        return Err(AppError::Conflict("the open question closed meanwhile; please ask again".into()));
    };
    let question = questions::find(db.pool(), &member.workspace_id, &open.question_id).await?;
    Ok(Ask::AlreadyOpen { question: question.map(|q| q.text).unwrap_or_default() })
}

/// Skips the member's open prompt `prompt_id`. Returns the skipped prompt, or `None` if it
/// is not their open one.
pub async fn skip(db: &Db, member: &Member, prompt_id: &str, now_ms: i64) -> Result<Option<Prompt>, AppError> {
    let Some(open) = prompts::find_open_for_member(db.pool(), &member.id).await?.filter(|p| p.id == prompt_id) else {
        return Ok(None);
    };
    let skipped = prompts::update_status(db.pool(), &open.id, open.status, PromptStatus::Skipped, now_ms).await?;
    Ok(skipped.then_some(open))
}

/// Shows in the member's DM what became of a question: the message that asked it loses its
/// buttons and says answered or skipped. Nothing to do for a question never delivered.
pub async fn close_message(
    state: &AppState,
    workspace: &Workspace,
    dm_channel: &str,
    sent: Option<&str>,
    prompt_id: &str,
    question: &str,
    closed: &Closed,
) -> anyhow::Result<()> {
    let Some(ts) = sent else { return Ok(()) };
    let content = blocks::closed_question_message(question, prompt_id, closed);
    state.slack()?.api_for(workspace)?.update_message(dm_channel, ts, content).await?;
    Ok(())
}
