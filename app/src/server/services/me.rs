//! A member's own answers and settings (`/me`, and "Undo" on the thank-you after a reply in
//! Slack). Every function acts on the viewer's own member only ([`Viewer::me`]); an answer
//! id that is not theirs is not found. An edit, a change to who may see an answer, or its
//! withdrawal reaches the post in the sharing channel that shows it too (its own post, a
//! "Meet X" post or a digest), so what a member takes back is gone from Slack as well.

use crate::{
    error::AppError,
    features::{
        answers::types::{AnswerText, Visibility},
        me::types::{MyAnswer, MyData, MyPage, Pause, check_forget_confirmation},
    },
    server::{
        AppState,
        db::{
            answers::{self, ManagedAnswer, SharedPost},
            members::{self, Member},
            prompts::{self, PromptStatus},
        },
        services::{members as roster, sharing},
        viewer::Viewer,
    },
};

/// What `/me` shows.
pub async fn page(viewer: &Viewer, now_ms: i64) -> Result<MyPage, AppError> {
    let member = me(viewer).await?;
    let answers = answers::list_managed(viewer.db.pool(), &viewer.workspace_id, &member.id).await?;
    Ok(MyPage {
        member_id: member.id.clone(),
        name: member.name.clone(),
        pause: pause_of(&member, now_ms),
        opted_out: member.is_opted_out,
        answers: answers.into_iter().map(my_answer).collect(),
    })
}

/// Changes who may see one of my answers. Made private, it leaves the post in the sharing
/// channel that showed it (a post left with no answer says they were withdrawn).
pub async fn set_visibility(
    state: &AppState,
    viewer: &Viewer,
    answer_id: &str,
    visibility: Visibility,
) -> Result<(), AppError> {
    let answer = my_answer_by_id(viewer, answer_id).await?;
    let made_private = visibility == Visibility::OnlyMe;
    let mut tx = viewer.db.begin_write().await?;
    answers::update_text_and_visibility(&mut *tx, &answer.id, &answer.text, visibility, state.now_ms()).await?;
    if made_private {
        // A private answer is still stored, but no post shows it any more.
        answers::update_shared(&mut *tx, &viewer.workspace_id, &answer.id, None).await?;
    }
    tx.commit().await?;
    if made_private {
        refresh_posts(state, viewer, answer.shared.as_ref()).await;
    }
    Ok(())
}

/// Rewrites one of my answers; the post in the sharing channel that shows it is rebuilt
/// with the new words.
pub async fn edit(state: &AppState, viewer: &Viewer, answer_id: &str, text: &AnswerText) -> Result<(), AppError> {
    let answer = my_answer_by_id(viewer, answer_id).await?;
    answers::update_text_and_visibility(viewer.db.pool(), &answer.id, text.as_str(), answer.visibility, state.now_ms())
        .await?;
    refresh_posts(state, viewer, answer.shared.as_ref()).await;
    Ok(())
}

/// Withdraws one of my answers: deleted here, and gone from the post that showed it.
pub async fn withdraw(state: &AppState, viewer: &Viewer, answer_id: &str) -> Result<(), AppError> {
    let answer = my_answer_by_id(viewer, answer_id).await?;
    answers::delete(viewer.db.pool(), &answer.id).await?;
    refresh_posts(state, viewer, answer.shared.as_ref()).await;
    Ok(())
}

/// What "Undo" on the thank-you after a reply in the DM led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Undo {
    /// The answer is withdrawn (deleted, and gone from the post that showed it) and its
    /// question handed back.
    Undone(Undone),
    /// Past [`sharing::UNDO_MINUTES`]: nothing changed (`/me` can still withdraw it).
    TooLate,
    /// No answer of mine by that id (taken back or withdrawn already, or someone else's):
    /// nothing changed.
    NothingToUndo,
}

/// The question an undone answer was for, as it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undone {
    pub prompt_id: String,
    pub question: String,
    /// The `ts` of the message that asked it in the member's DM.
    pub asked_in: Option<String>,
    /// Whether the question is open again (`sent`); `false` when another question was
    /// already waiting, so this one is closed as skipped (a member has one open at most).
    pub reopened: bool,
}

/// Takes back one of my answers given moments ago ("Undo" after a reply in the DM that was
/// not meant as an answer): withdrawn as [`withdraw`] does, and its question open again so
/// a new reply answers it, within [`sharing::UNDO_MINUTES`] of answering.
pub async fn undo_answer(state: &AppState, viewer: &Viewer, answer_id: &str) -> Result<Undo, AppError> {
    let member_id = viewer.me()?;
    let now = state.now_ms();
    let mut tx = viewer.db.begin_write().await?;
    let Some(answer) = answers::find_managed(&mut *tx, &viewer.workspace_id, member_id, answer_id).await? else {
        return Ok(Undo::NothingToUndo);
    };
    if now - answer.created_at > sharing::UNDO_MINUTES * 60_000 {
        return Ok(Undo::TooLate);
    }
    let Some(prompt) = prompts::find(&mut *tx, &viewer.workspace_id, &answer.prompt_id).await? else {
        return Ok(Undo::NothingToUndo);
    };
    // A question asked since (`/rapport ask`, a round) keeps its place; this one closes.
    let reopened = prompts::find_open_for_member(&mut *tx, member_id).await?.is_none();
    let back_to = if reopened { PromptStatus::Sent } else { PromptStatus::Skipped };
    // Conditional on `answered`, so a second press, or two at once, changes nothing.
    if !prompts::update_status(&mut *tx, &prompt.id, PromptStatus::Answered, back_to, now).await? {
        return Ok(Undo::NothingToUndo);
    }
    answers::delete(&mut *tx, &answer.id).await?;
    tx.commit().await?;
    refresh_posts(state, viewer, answer.shared.as_ref()).await;
    let undone =
        Undone { prompt_id: prompt.id, question: answer.question, asked_in: prompt.slack_message_ts, reopened };
    Ok(Undo::Undone(undone))
}

/// Pauses my questions until the start of `until_ms`'s day, or indefinitely.
pub async fn pause(viewer: &Viewer, until_ms: Option<i64>, now_ms: i64) -> Result<(), AppError> {
    let member = me(viewer).await?;
    if until_ms.is_some_and(|until| until <= now_ms) {
        return Err(AppError::Invalid { field: "until".into(), message: "pick a day after today".into() });
    }
    roster::pause(&viewer.db, &member, until_ms, now_ms).await
}

pub async fn resume(viewer: &Viewer, now_ms: i64) -> Result<(), AppError> {
    roster::resume(&viewer.db, &me(viewer).await?, now_ms).await
}

/// Opts me out of questions, or back in.
pub async fn set_opted_out(viewer: &Viewer, opted_out: bool, now_ms: i64) -> Result<(), AppError> {
    let member = me(viewer).await?;
    members::update_opted_out(viewer.db.pool(), &member.id, opted_out, now_ms).await?;
    Ok(())
}

/// Everything Rapport keeps about me.
pub async fn export(viewer: &Viewer, now_ms: i64) -> Result<MyData, AppError> {
    let member = me(viewer).await?;
    let answers = answers::list_managed(viewer.db.pool(), &viewer.workspace_id, &member.id).await?;
    Ok(MyData {
        exported_at_ms: now_ms,
        name: member.name,
        title: member.title,
        time_zone: member.time_zone,
        slack_user_id: member.slack_user_id,
        opted_out: member.is_opted_out,
        paused_until_ms: member.paused_until,
        answers: answers.into_iter().map(my_answer).collect(),
    })
}

/// "Forget me": deletes my answers (gone from the posts that showed them) and my profile
/// data, and opts me out. My Slack membership is untouched; I am asked again only if I opt
/// back in.
pub async fn forget(state: &AppState, viewer: &Viewer, confirmation: &str) -> Result<(), AppError> {
    check_forget_confirmation(confirmation)?;
    let member = me(viewer).await?;
    let answers = answers::list_managed(viewer.db.pool(), &viewer.workspace_id, &member.id).await?;
    let mut tx = viewer.db.begin_write().await?;
    for answer in &answers {
        answers::delete(&mut *tx, &answer.id).await?;
    }
    members::update_forgotten(&mut *tx, &member.id, state.now_ms()).await?;
    tx.commit().await?;
    // Several answers may share one digest: each post is rebuilt once.
    let mut posts: Vec<&SharedPost> = Vec::new();
    for post in answers.iter().filter_map(|answer| answer.shared.as_ref()) {
        if !posts.contains(&post) {
            posts.push(post);
        }
    }
    refresh_posts(state, viewer, posts).await;
    Ok(())
}

/// The viewer's own member row (a visitor must sign in; the admin account has none).
async fn me(viewer: &Viewer) -> Result<Member, AppError> {
    let id = viewer.me()?;
    members::find(viewer.db.pool(), &viewer.workspace_id, id).await?.ok_or(AppError::Unauthenticated)
}

async fn my_answer_by_id(viewer: &Viewer, answer_id: &str) -> Result<ManagedAnswer, AppError> {
    let id = viewer.me()?;
    answers::find_managed(viewer.db.pool(), &viewer.workspace_id, id, answer_id).await?.ok_or(AppError::NotFound)
}

/// Rebuilds each post from what is stored now (the change is stored first; Slack trouble
/// is logged in `sharing`).
async fn refresh_posts(state: &AppState, viewer: &Viewer, posts: impl IntoIterator<Item = &SharedPost>) {
    for post in posts {
        sharing::refresh_post(state, &viewer.workspace_id, post).await;
    }
}

fn my_answer(answer: ManagedAnswer) -> MyAnswer {
    MyAnswer {
        id: answer.id,
        question: answer.question,
        text: answer.text,
        visibility: answer.visibility,
        answered_at_ms: answer.created_at,
    }
}

fn pause_of(member: &Member, now_ms: i64) -> Pause {
    match member.paused_until {
        Some(i64::MAX) => Pause::Indefinitely,
        Some(until) if until > now_ms => Pause::Until(until),
        _ => Pause::Off,
    }
}
