//! Sharing answers with the team: after an answer (thanks, "Meet X", the sharing channel,
//! coworkers' answers to the same question), the daily digests, and rebuilding a post when
//! an answer in it is edited or taken back.

use anyhow::Context as _;

use super::{answers::Answered, asking, members as roster};
use crate::{
    features::answers::types::Visibility,
    server::{
        AppState,
        db::{
            answers::{self, DigestAnswerRow, SharedAs, SharedPost},
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

/// For how long the thank-you after a reply in the DM offers "Undo". Any DM to the bot
/// answers the open question, so a "brb" or a message meant for someone else is shared as
/// an answer; ten minutes is enough to read the thank-you and notice, yet short enough that
/// the answer is taken back before the team has much chance to read it or reply to it.
/// Later, the member withdraws it from `/me` (the question then stays answered).
pub const UNDO_MINUTES: i64 = 10;

/// How an answer came in. A reply in the DM may not have been meant as an answer, so its
/// thank-you offers "Undo"; the modal is answered on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnsweredBy {
    DmReply,
    Modal,
}

/// What happens after an answer is stored, on every path (DM reply, modal): the member is
/// thanked (after a DM reply, with "Undo" for [`UNDO_MINUTES`]), a new member is introduced
/// with a "Meet X" post, a team-visible answer is posted to the sharing channel (unless it
/// waits for the digest), and the member sees what two or three coworkers said (never a
/// guest the workspace leaves out). An only-me answer is never posted and never shown to
/// anyone.
///
/// The answer is already stored, so a Slack failure here is logged, never returned: a
/// retry would find no open question and tell the member they have none.
#[tracing::instrument(skip_all, fields(workspace.id = %workspace.id, member.id = %member.id))]
pub async fn after_answer(
    state: &AppState,
    workspace: &Workspace,
    member: &Member,
    answered: &Answered,
    answered_by: AnsweredBy,
    dm_channel: &str,
) {
    if let Err(error) = thank_and_share(state, workspace, member, answered, answered_by, dm_channel).await {
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
    answered_by: AnsweredBy,
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
    let thanks = match answered_by {
        AnsweredBy::DmReply => blocks::thanks_with_undo(&thanks, &answered.answer_id, UNDO_MINUTES),
        AnsweredBy::Modal => blocks::text_message(thanks),
    };
    api.post_message(dm_channel, thanks).await.context("thanking in the DM")?;
    let introduced = introduce(state, workspace, member, answered).await?;
    if answered.visibility == Visibility::OnlyMe {
        return Ok(());
    }
    let mut shared = introduced.map(|posted| shared_post(posted, SharedAs::Introduction));
    // In digest mode the answer waits for the day's digest (see `post_due_digests`).
    let immediate = workspace.sharing_channel_id.as_deref().filter(|_| workspace.share_mode == ShareMode::Immediate);
    if let Some(channel) = immediate.filter(|_| shared.is_none()) {
        let post = answer_post(&member.name, &answered.question, &answered.text);
        let posted =
            api.post_to(channel, blocks::text_message(post)).await.context("posting to the sharing channel")?;
        shared = Some(shared_post(posted, SharedAs::Answer));
    }
    if let Some(post) = &shared {
        // So a withdrawal or an edit on /me reaches the post.
        answers::update_shared(state.db.pool(), &workspace.id, &answered.answer_id, Some(post)).await?;
        // "Undo" pressed while the post was on its way found no post to take the answer out
        // of, and the answer is gone now: the post is rebuilt without it.
        let found = answers::find_managed(state.db.pool(), &workspace.id, &member.id, &answered.answer_id).await?;
        if found.is_none() {
            refresh_post(state, &workspace.id, post).await;
            return Ok(());
        }
    }
    // A guest left out of Rapport (one asked before the workspace stopped including guests)
    // may answer, but is shown nothing of the team's answers.
    if roster::is_left_out_guest(workspace, member) {
        return Ok(());
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
    let quoted = with_answer.then_some((answered.question.as_str(), answered.text.as_str()));
    let post = meet_post(&member.name, &member.title, quoted);
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
fn answer_post(member_name: &str, question: &str, text: &str) -> String {
    format!("*{}* answered “{}”\n>{}", escape(member_name), escape(question), quote(text))
}

/// What an answer's post says once its author withdrew it or made it private.
pub const WITHDRAWN_POST: &str = "_An answer was withdrawn by its author._";

/// What a digest says once every answer in it was withdrawn or made private.
pub const WITHDRAWN_DIGEST: &str = "_These answers were withdrawn by their authors._";

/// The text of a "Meet X" post, quoting the new member's answer (question, text) if given.
fn meet_post(name: &str, title: &str, answer: Option<(&str, &str)>) -> String {
    let title = if title.is_empty() { String::new() } else { format!(", {}", escape(title)) };
    let mut post = format!(":wave: Meet *{}*{title}, who joined the team this week!", escape(name));
    if let Some((question, text)) = answer {
        post.push_str(&format!("\nThey answered “{}”\n>{}", escape(question), quote(text)));
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
    let api = state.slack()?.api_for(workspace)?;
    let posted = api.post_to(channel, blocks::text_message(digest_text(&answers))).await.context("posting a digest")?;
    let post = shared_post(posted, SharedAs::Digest);
    if let Err(error) = record_post(state, &workspace.id, &answers, &post).await {
        // The digest is up: posting it again tomorrow would be worse than a post that cannot
        // follow withdrawals, so the day is not given back.
        tracing::warn!(error = format!("{error:#}"), workspace.id = %workspace.id, "a digest was posted but not recorded");
    }
    Ok(true)
}

/// The text of a digest listing `answers` (the first [`DIGEST_MAX_ANSWERS`], then a count).
fn digest_text(answers: &[DigestAnswerRow]) -> String {
    let mut lines: Vec<String> = answers
        .iter()
        .take(DIGEST_MAX_ANSWERS)
        .map(|a| format!("*{}* on “{}”\n>{}", escape(&a.member_name), escape(&a.question), quote(&a.text)))
        .collect();
    if answers.len() > DIGEST_MAX_ANSWERS {
        lines.push(format!("…and {} more on the dashboard.", answers.len() - DIGEST_MAX_ANSWERS));
    }
    format!("*Today's answers*\n\n{}", lines.join("\n\n"))
}

/// Records `post` on every answer it covers, those behind "…and N more" too, so a withdrawal
/// of any of them rebuilds it.
async fn record_post(
    state: &AppState,
    workspace_id: &str,
    covered: &[DigestAnswerRow],
    post: &SharedPost,
) -> sqlx::Result<()> {
    let mut tx = state.db.begin_write().await?;
    for answer in covered {
        answers::update_shared(&mut *tx, workspace_id, &answer.id, Some(post)).await?;
    }
    tx.commit().await
}

/// Rebuilds a post in the sharing channel from the answers it shows now: after an edit, or
/// once an answer in it was withdrawn or made private (a post left with none says so).
/// Slack trouble is logged, never returned: the change is already stored.
pub async fn refresh_post(state: &AppState, workspace_id: &str, post: &SharedPost) {
    let outcome = async {
        let workspace = workspaces::find(state.db.pool(), workspace_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the workspace is gone"))?;
        let shown = answers::list_in_post(state.db.pool(), workspace_id, &post.channel, &post.ts).await?;
        let api = state.slack()?.api_for(&workspace)?;
        api.update_message(&post.channel, &post.ts, blocks::text_message(post_text(post.kind, &shown))).await?;
        anyhow::Ok(())
    };
    if let Err(error) = outcome.await {
        tracing::warn!(
            error = format!("{error:#}"),
            workspace.id = %workspace_id,
            "could not update a post in the sharing channel"
        );
    }
}

/// What a post of `kind` says when it shows `shown` (what is left of it).
fn post_text(kind: SharedAs, shown: &[DigestAnswerRow]) -> String {
    match (kind, shown) {
        (SharedAs::Digest, []) => WITHDRAWN_DIGEST.to_owned(),
        (SharedAs::Digest, rows) => digest_text(rows),
        (SharedAs::Answer, [answer, ..]) => answer_post(&answer.member_name, &answer.question, &answer.text),
        (SharedAs::Introduction, [answer, ..]) => {
            let quoted = (answer.question.as_str(), answer.text.as_str());
            meet_post(&answer.member_name, &answer.member_title, Some(quoted))
        }
        (SharedAs::Answer | SharedAs::Introduction, []) => WITHDRAWN_POST.to_owned(),
    }
}

fn shared_post(posted: Posted, kind: SharedAs) -> SharedPost {
    SharedPost { channel: posted.channel, ts: posted.ts, kind }
}

/// Escapes an answer and keeps every line of it inside the Slack quote.
fn quote(text: &str) -> String {
    escape(text).replace('\n', "\n>")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, text: &str) -> DigestAnswerRow {
        DigestAnswerRow {
            id: format!("answer-{name}"),
            member_name: name.to_owned(),
            member_title: "Engineer".to_owned(),
            question: "Tea or coffee?".to_owned(),
            text: text.to_owned(),
            created_at: 0,
        }
    }

    #[test]
    fn a_post_is_rebuilt_in_its_own_kind_from_what_it_shows_now() {
        let ada = row("Ada", "Tea");
        let both = [ada.clone(), row("Grace", "Coffee")];

        let digest = post_text(SharedAs::Digest, &both);
        let meet = post_text(SharedAs::Introduction, std::slice::from_ref(&ada));
        let own = post_text(SharedAs::Answer, std::slice::from_ref(&ada));

        assert!(digest.starts_with("*Today's answers*") && digest.contains("*Grace* on"), "{digest}");
        assert!(meet.starts_with(":wave: Meet *Ada*, Engineer") && meet.contains(">Tea"), "{meet}");
        assert_eq!(own, "*Ada* answered “Tea or coffee?”\n>Tea");
        assert_eq!(post_text(SharedAs::Digest, &[]), WITHDRAWN_DIGEST);
        assert_eq!(post_text(SharedAs::Introduction, &[]), WITHDRAWN_POST);
        assert_eq!(post_text(SharedAs::Answer, &[]), WITHDRAWN_POST);
    }

    #[test]
    fn a_long_digest_lists_the_first_answers_and_counts_the_rest() {
        let answers: Vec<_> = (0..DIGEST_MAX_ANSWERS + 2).map(|i| row(&format!("M{i}"), "Tea")).collect();

        let digest = digest_text(&answers);

        assert!(digest.contains("*M24* on") && !digest.contains("*M25* on"), "{digest}");
        assert!(digest.ends_with("…and 2 more on the dashboard."), "{digest}");
    }
}
