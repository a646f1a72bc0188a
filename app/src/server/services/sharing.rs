//! Sharing answers with the team: after an answer (thanks, "Meet X", the sharing channel,
//! coworkers' answers to the same question) and the daily digests.

use anyhow::Context as _;

use super::{answers::Answered, asking};
use crate::{
    features::answers::types::Visibility,
    server::{
        AppState,
        db::{
            answers,
            members::{self, Member},
            workspaces::{self, ShareMode, Workspace},
        },
        slack::{
            blocks::{self, Closed, escape},
            client::Posted,
        },
    },
};

/// How many coworkers' answers a member sees after answering.
const COWORKER_ANSWERS: usize = 3;

/// What happens after an answer is stored, on every path (DM reply, modal): the member is
/// thanked, a new member is introduced with a "Meet X" post, a team-visible answer is
/// posted to the sharing channel (unless it waits for the digest), and the member sees what
/// two or three coworkers said. An only-me answer is never posted and never shown to anyone.
///
/// The answer is already stored, so a Slack failure here is logged, never returned: a
/// retry would find no open question and tell the member they have none.
#[tracing::instrument(skip_all, fields(workspace.id = %workspace.id, member.id = %member.id))]
pub async fn after_answer(
    state: &AppState,
    workspace: &Workspace,
    member: &Member,
    answered: &Answered,
    dm_channel: &str,
) {
    if let Err(error) = thank_and_share(state, workspace, member, answered, dm_channel).await {
        tracing::warn!(
            error = format!("{error:#}"),
            workspace.id = %workspace.id,
            answer.id = %answered.answer_id,
            "an answer was stored but not shared"
        );
    }
}

async fn thank_and_share(
    state: &AppState,
    workspace: &Workspace,
    member: &Member,
    answered: &Answered,
    dm_channel: &str,
) -> anyhow::Result<()> {
    let api = state.slack()?.api_for(workspace)?;
    let closed = match answered.visibility {
        Visibility::Team => Closed::Shared { profile_url: format!("{}/people/{}", state.public_url, member.id) },
        Visibility::OnlyMe => Closed::KeptPrivate,
    };
    let asked_in = answered.asked_in.as_deref();
    let closing =
        asking::close_message(state, workspace, dm_channel, asked_in, &answered.prompt_id, &answered.question, &closed);
    if let Err(error) = closing.await {
        // The old buttons only lead to "already answered": not worth holding up the sharing.
        tracing::warn!(error = format!("{error:#}"), "could not close the question message");
    }
    let thanks = match answered.visibility {
        Visibility::Team => {
            format!("Thanks! Your answer to “{}” is shared with your team.", escape(&answered.question))
        }
        Visibility::OnlyMe => format!("Saved. Your answer to “{}” is visible only to you.", escape(&answered.question)),
    };
    api.post_message(dm_channel, blocks::text_message(thanks)).await.context("thanking in the DM")?;
    let mut shared = introduce(state, workspace, member, answered).await?;
    if answered.visibility == Visibility::OnlyMe {
        return Ok(());
    }
    // In digest mode the answer waits for the day's digest (see `post_due_digests`).
    let immediate = workspace.sharing_channel_id.as_deref().filter(|_| workspace.share_mode == ShareMode::Immediate);
    if let Some(channel) = immediate.filter(|_| shared.is_none()) {
        let post = answer_post(&member.name, &answered.question, &answered.text);
        shared =
            Some(api.post_to(channel, blocks::text_message(post)).await.context("posting to the sharing channel")?);
    }
    if let Some(posted) = &shared {
        // So a withdrawal or an edit on /me reaches the post.
        answers::update_shared(state.db.pool(), &answered.answer_id, Some((&posted.channel, &posted.ts))).await?;
    }
    let coworkers: Vec<_> =
        answers::list_team_visible_for_question(state.db.pool(), &workspace.id, &answered.question_id)
            .await?
            .into_iter()
            .filter(|answer| answer.member_id != member.id)
            .take(COWORKER_ANSWERS)
            .collect();
    if !coworkers.is_empty() {
        let lines: Vec<String> = coworkers
            .iter()
            .map(|a| format!("*{}*: {}", escape(&a.member_name), escape(&a.text.replace('\n', " "))))
            .collect();
        let message = format!("Here is what others said:\n{}", lines.join("\n"));
        api.post_message(dm_channel, blocks::text_message(message)).await.context("showing coworkers' answers")?;
    }
    Ok(())
}

/// Posts "Meet X" to the sharing channel after a new member's first answer (once, however
/// many answers or instances race). The post quotes the answer when it is team-visible;
/// then it returns where the post landed, so the answer is not also posted on its own.
async fn introduce(
    state: &AppState,
    workspace: &Workspace,
    member: &Member,
    answered: &Answered,
) -> anyhow::Result<Option<Posted>> {
    let Some(channel) = workspace.sharing_channel_id.as_deref() else { return Ok(None) };
    if member.welcome_until.is_none() || member.introduced_at.is_some() {
        return Ok(None);
    }
    if !members::claim_introduction(state.db.pool(), &member.id, state.now_ms()).await? {
        return Ok(None);
    }
    let with_answer = answered.visibility == Visibility::Team;
    let post = meet_post(member, with_answer.then_some(answered));
    let posted = match state.slack().and_then(|slack| slack.api_for(workspace)) {
        Ok(api) => api.post_to(channel, blocks::text_message(post)).await.map_err(anyhow::Error::from),
        Err(error) => Err(error),
    };
    match posted {
        Ok(posted) => Ok(with_answer.then_some(posted)),
        Err(error) => {
            // Give the introduction back, so their next answer tries again.
            members::release_introduction(state.db.pool(), &member.id).await?;
            Err(error.context("posting a \"Meet X\" introduction"))
        }
    }
}

/// The sharing channel's post of one answer.
pub fn answer_post(member_name: &str, question: &str, text: &str) -> String {
    format!("*{}* answered “{}”\n>{}", escape(member_name), escape(question), quote(text))
}

/// What an answer's post says once its author withdrew it or made it private.
pub const WITHDRAWN_POST: &str = "_An answer was withdrawn by its author._";

/// The text of a "Meet X" post.
fn meet_post(member: &Member, answer: Option<&Answered>) -> String {
    let title = if member.title.is_empty() { String::new() } else { format!(", {}", escape(&member.title)) };
    let mut post = format!(":wave: Meet *{}*{title}, who joined the team this week!", escape(&member.name));
    if let Some(answer) = answer {
        post.push_str(&format!("\nThey answered “{}”\n>{}", escape(&answer.question), quote(&answer.text)));
    }
    post.push_str("\nSay hi and make them feel welcome.");
    post
}

/// How often a digest workspace gets its digest.
pub const DIGEST_EVERY_MS: i64 = 24 * 60 * 60 * 1000;
/// The most answers one digest lists; the rest are on the dashboard.
const DIGEST_MAX_ANSWERS: usize = 25;

/// Posts the daily digest of every digest-mode workspace that is due, once per day even
/// with several instances (the `last_digest_at` update is conditional). Returns how many
/// digests were posted.
#[tracing::instrument(name = "daily digests", skip_all)]
pub async fn post_due_digests(state: &AppState, now_ms: i64) -> anyhow::Result<usize> {
    let mut posted = 0;
    for workspace in workspaces::list_digest_due(state.db.pool(), now_ms, DIGEST_EVERY_MS).await? {
        // Claim the day first, so two instances never post the same digest.
        if !workspaces::update_last_digest_at(state.db.pool(), &workspace.id, workspace.last_digest_at, Some(now_ms))
            .await?
        {
            continue;
        }
        match post_digest(state, &workspace, now_ms).await {
            Ok(true) => posted += 1,
            Ok(false) => {}
            Err(error) => {
                // Give the day back, so the next run posts these answers instead of losing them.
                tracing::warn!(error = format!("{error:#}"), workspace.id = %workspace.id, "could not post a digest");
                workspaces::update_last_digest_at(
                    state.db.pool(),
                    &workspace.id,
                    Some(now_ms),
                    workspace.last_digest_at,
                )
                .await?;
            }
        }
    }
    Ok(posted)
}

/// Posts the answers since the last digest; `false` when there were none.
async fn post_digest(state: &AppState, workspace: &Workspace, now_ms: i64) -> anyhow::Result<bool> {
    let since = workspace.last_digest_at.unwrap_or(now_ms - DIGEST_EVERY_MS);
    let answers = answers::list_team_visible_between(state.db.pool(), &workspace.id, since, now_ms).await?;
    let Some(channel) = workspace.sharing_channel_id.as_deref().filter(|_| !answers.is_empty()) else {
        return Ok(false);
    };
    let mut lines: Vec<String> = answers
        .iter()
        .take(DIGEST_MAX_ANSWERS)
        .map(|a| format!("*{}* on “{}”\n>{}", escape(&a.member_name), escape(&a.question), quote(&a.text)))
        .collect();
    if answers.len() > DIGEST_MAX_ANSWERS {
        lines.push(format!("…and {} more on the dashboard.", answers.len() - DIGEST_MAX_ANSWERS));
    }
    let digest = format!("*Today's answers*\n\n{}", lines.join("\n\n"));
    state
        .slack()?
        .api_for(workspace)?
        .post_message(channel, blocks::text_message(digest))
        .await
        .context("posting a digest")?;
    Ok(true)
}

/// Escapes an answer and keeps every line of it inside the Slack quote.
fn quote(text: &str) -> String {
    escape(text).replace('\n', "\n>")
}
