//! A member's own answers and settings (`/me`). Every function acts on the viewer's own
//! member only ([`Viewer::me`]); an answer id that is not theirs is not found. A change to
//! who may see an answer, or its withdrawal, reaches the answer's post in the sharing
//! channel too, so what a member takes back is gone from Slack as well.

use crate::{
    error::AppError,
    features::{
        answers::types::{AnswerText, Visibility},
        me::types::{MyAnswer, MyData, MyPage, Pause, check_forget_confirmation},
    },
    server::{
        AppState,
        db::{
            answers::{self, ManagedAnswer},
            members::{self, Member},
            workspaces,
        },
        services::{members as roster, sharing},
        slack::blocks,
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

/// Changes who may see one of my answers. Made private, its post in the sharing channel
/// says it was withdrawn.
pub async fn set_visibility(
    state: &AppState,
    viewer: &Viewer,
    answer_id: &str,
    visibility: Visibility,
) -> Result<(), AppError> {
    let answer = my_answer_by_id(viewer, answer_id).await?;
    answers::update_text_and_visibility(viewer.db.pool(), &answer.id, &answer.text, visibility, state.now_ms()).await?;
    if visibility == Visibility::OnlyMe {
        take_back_post(state, viewer, &answer).await?;
    }
    Ok(())
}

/// Rewrites one of my answers; its post in the sharing channel shows the new words.
pub async fn edit(state: &AppState, viewer: &Viewer, answer_id: &str, text: &AnswerText) -> Result<(), AppError> {
    let member = me(viewer).await?;
    let answer = my_answer_by_id(viewer, answer_id).await?;
    answers::update_text_and_visibility(viewer.db.pool(), &answer.id, text.as_str(), answer.visibility, state.now_ms())
        .await?;
    if let Some((channel, ts)) = &answer.shared {
        let post = sharing::answer_post(&member.name, &answer.question, text.as_str());
        update_post(state, viewer, channel, ts, &post).await;
    }
    Ok(())
}

/// Withdraws one of my answers: deleted here, and its post says it was withdrawn.
pub async fn withdraw(state: &AppState, viewer: &Viewer, answer_id: &str) -> Result<(), AppError> {
    let answer = my_answer_by_id(viewer, answer_id).await?;
    answers::delete(viewer.db.pool(), &answer.id).await?;
    take_back_post(state, viewer, &answer).await
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

/// "Forget me": deletes my answers (their posts say they were withdrawn) and my profile
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
    for answer in &answers {
        take_back_post(state, viewer, answer).await?;
    }
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

/// Replaces an answer's post in the sharing channel with "withdrawn" and forgets where it
/// was. Slack trouble is logged: the answer is already private or gone here.
async fn take_back_post(state: &AppState, viewer: &Viewer, answer: &ManagedAnswer) -> Result<(), AppError> {
    let Some((channel, ts)) = &answer.shared else { return Ok(()) };
    update_post(state, viewer, channel, ts, sharing::WITHDRAWN_POST).await;
    // An answer made private is still stored, with no post any more.
    answers::update_shared(viewer.db.pool(), &answer.id, None).await?;
    Ok(())
}

async fn update_post(state: &AppState, viewer: &Viewer, channel: &str, ts: &str, text: &str) {
    let outcome = async {
        let workspace = workspaces::find(viewer.db.pool(), &viewer.workspace_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the workspace is gone"))?;
        let api = state.slack()?.api_for(&workspace)?;
        api.update_message(channel, ts, blocks::text_message(text)).await?;
        anyhow::Ok(())
    };
    if let Err(error) = outcome.await {
        tracing::warn!(error = format!("{error:#}"), "could not update an answer's post in the sharing channel");
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
