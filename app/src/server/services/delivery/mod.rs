//! Delivering questions: one workspace's lane of due prompts, batch by batch within its
//! pace. Each claimed batch is checked prompt by prompt (should it still go?), a message an
//! earlier try may have posted is looked for, the rest are marked as being sent, posted side
//! by side, and what happened is recorded.
//!
//! Prompts are rows and the row is the job: every write after a claim is made under the
//! claim's token, so a crash, a restart or a second instance never sends one twice. The
//! loop that runs lanes lives in the server (`dispatch`); the rules live here.

pub mod policy;

use std::collections::BTreeMap;

use self::policy::Verdict;
use super::billing;
use crate::server::{
    AppState,
    db::{
        members::{self, Member},
        prompts::{self, Prompt},
        questions::{self, Question},
        workspaces::{self, Workspace},
    },
    new_id,
    slack::{
        FixedTokenError,
        blocks::{self, QUESTION_METADATA_EVENT, QUESTION_METADATA_PROMPT},
        client::{SlackApi, SlackCallError},
    },
};

/// How long a claim lasts before another dispatcher may take the prompt (longer than a
/// lookup plus a send, each bounded by the Slack client's timeout). Marking a batch's sends
/// as started renews it; a prompt whose claim ran out while its batch looked up earlier
/// tries comes back lost (every later write under the claim is refused), never sent twice.
pub const LEASE_MS: i64 = 60_000;
/// How long a question waits when Slack has not yet confirmed whose the environment's bot
/// token is (self-hosted start-up).
const UNCONFIRMED_WAIT_MS: i64 = 30_000;
/// Prompts claimed at a time per workspace: a third of a minute's pace, so a round's first
/// minute in a workspace is three batches of about nine statements each, not six.
pub const BATCH: i64 = 20;
/// Messages per workspace per minute: well inside what Slack allows for `chat.postMessage`
/// to different DMs, so a large round is paced instead of throttled.
pub const SENDS_PER_MINUTE: i64 = 60;

/// What one workspace's lane did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaneReport {
    pub workspace_id: String,
    pub sent: usize,
    /// Found already posted by an earlier try and recorded, not sent again.
    pub found_posted: usize,
    pub retrying: usize,
    pub slowed_down: bool,
    /// Failed prompts by reason.
    pub failed: BTreeMap<String, usize>,
}

impl LaneReport {
    /// Adds what a later run of the same workspace's lane did.
    pub fn add(&mut self, later: LaneReport) {
        self.sent += later.sent;
        self.found_posted += later.found_posted;
        self.retrying += later.retrying;
        self.slowed_down |= later.slowed_down;
        for (reason, count) in later.failed {
            *self.failed.entry(reason).or_default() += count;
        }
    }

    fn is_empty(&self) -> bool {
        *self == LaneReport { workspace_id: self.workspace_id.clone(), ..LaneReport::default() }
    }

    fn tally(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Sent => self.sent += 1,
            Outcome::FoundPosted => self.found_posted += 1,
            Outcome::Retrying(_) => self.retrying += 1,
            Outcome::SlowedDown { .. } => self.slowed_down = true,
            Outcome::Failed(reason) | Outcome::WorkspaceStopped(reason) => *self.failed.entry(reason).or_default() += 1,
            Outcome::Lost => {}
        }
    }
}

/// Expires questions still waiting for their first try that were due before `due_before`:
/// a question arriving hours late is worse than none. Returns how many expired.
pub async fn expire_late(state: &AppState, due_before: i64) -> anyhow::Result<u64> {
    let expired = prompts::expire_undelivered_before(state.db.pool(), due_before, state.now_ms()).await?;
    if expired > 0 {
        tracing::warn!(expired, "questions could not be delivered in time and expired");
    }
    Ok(expired)
}

/// Workspaces with prompts to deliver now, leaving out those Slack asked to wait.
pub async fn workspaces_with_due(state: &AppState) -> anyhow::Result<Vec<String>> {
    Ok(prompts::list_workspaces_with_due(state.db.pool(), state.now_ms()).await?)
}

/// Delivers one workspace's due prompts, batch by batch, while its pace allows, and logs
/// what it did.
#[tracing::instrument(name = "delivery lane", skip_all, fields(workspace.id = %workspace_id))]
pub async fn run_lane(state: &AppState, workspace_id: &str) -> LaneReport {
    let mut report = LaneReport { workspace_id: workspace_id.to_owned(), ..LaneReport::default() };
    if let Err(error) = deliver_batches(state, workspace_id, &mut report).await {
        tracing::warn!(error = format!("{error:#}"), "a delivery lane stopped early");
    }
    if !report.is_empty() {
        tracing::info!(
            sent = report.sent,
            found_posted = report.found_posted,
            retrying = report.retrying,
            slowed_down = report.slowed_down,
            failed = ?report.failed,
            "delivered questions"
        );
    }
    report
}

async fn deliver_batches(state: &AppState, workspace_id: &str, report: &mut LaneReport) -> anyhow::Result<()> {
    let db = &state.db;
    loop {
        // Shutdown lets the batch in hand finish and claims no more.
        if state.tasks.is_cancelled() {
            return Ok(());
        }
        let now = state.now_ms();
        let Some(workspace) = workspaces::find(db.pool(), workspace_id).await? else { return Ok(()) };
        let entitled = billing::entitled(state, &workspace).await?;
        if workspace.is_waiting_for_slack(now) {
            return Ok(());
        }
        let used = prompts::count_recent_sends(db.pool(), workspace_id, now - 60_000, now).await?;
        let room = (SENDS_PER_MINUTE - used).min(BATCH);
        if room <= 0 {
            return Ok(());
        }
        let token = new_id();
        let batch = prompts::claim(db.pool(), db.backend(), workspace_id, &token, now, now + LEASE_MS, room).await?;
        if batch.is_empty() {
            return Ok(());
        }
        let outcomes = deliver_batch(state, &workspace, entitled, &token, &batch).await?;
        let halted = outcomes.iter().any(Outcome::halts_workspace);
        for outcome in outcomes {
            report.tally(outcome);
        }
        if halted {
            return Ok(());
        }
    }
}

/// What became of one prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Posted now.
    Sent,
    /// An earlier try had posted it after all; recorded without posting again.
    FoundPosted,
    /// Put back to try again later.
    Retrying(String),
    /// Slack asked the workspace to slow down; put back until `until`.
    SlowedDown { until: i64 },
    /// Not delivered, for this reason.
    Failed(String),
    /// Not delivered, and the workspace's sending stopped for this reason.
    WorkspaceStopped(String),
    /// Someone else took the prompt meanwhile (its lease ran out); nothing was done.
    Lost,
}

impl Outcome {
    /// Whether the rest of the workspace's batch must wait.
    pub fn halts_workspace(&self) -> bool {
        matches!(self, Outcome::SlowedDown { .. } | Outcome::WorkspaceStopped(_))
    }
}

/// A claimed prompt that may go out, with its member and question.
struct Outgoing<'a> {
    prompt: &'a Prompt,
    member: &'a Member,
    question: &'a Question,
}

/// Delivers `batch`, as this dispatcher claimed it under `token`, to its members in
/// `workspace`, and returns what became of each prompt. Every write is made under the claim
/// token, so a dispatcher that lost its claim (its lease ran out while Slack was slow)
/// changes nothing.
///
/// The batch's members and questions are read in one statement each. A prompt an earlier
/// try may have posted is looked for in Slack first, one at a time. The rest are marked as
/// being sent in one write, committed before any of them is posted, so whoever retries one
/// after a crash looks for its message first; then they are posted side by side, and the
/// ones Slack took are recorded in one write.
async fn deliver_batch(
    state: &AppState,
    workspace: &Workspace,
    entitled: bool,
    token: &str,
    batch: &[Prompt],
) -> anyhow::Result<Vec<Outcome>> {
    let db = state.db.pool();
    let member_ids: Vec<&str> = batch.iter().map(|prompt| prompt.member_id.as_str()).collect();
    let question_ids: Vec<&str> = batch.iter().map(|prompt| prompt.question_id.as_str()).collect();
    let members = members::find_many(db, &workspace.id, &member_ids).await?;
    let questions = questions::find_many(db, &workspace.id, &question_ids).await?;
    let api = state.slack().and_then(|slack| slack.api_for(workspace));
    let mut outcomes = Vec::with_capacity(batch.len());
    let (mut fresh, mut tried_before) = (Vec::new(), Vec::new());
    for prompt in batch {
        let member = members.iter().find(|member| member.id == prompt.member_id);
        let question = questions.iter().find(|question| question.id == prompt.question_id);
        let (Some(member), Some(question)) = (member, question) else {
            outcomes.push(fail(state, prompt, "member or question deleted").await?);
            continue;
        };
        if let Err(reason) = deliverable(workspace, entitled, member, prompt, state.now_ms()) {
            outcomes.push(fail(state, prompt, reason).await?);
            continue;
        }
        if let Err(error) = &api {
            outcomes.push(without_api(state, prompt, error).await?);
            continue;
        }
        let send = Outgoing { prompt, member, question };
        if prompt.send_started_at.is_some() { tried_before.push(send) } else { fresh.push(send) }
    }
    let Ok(api) = &api else { return Ok(outcomes) };
    for send in tried_before {
        if let Some(halt) = outcomes.iter().find(|outcome| outcome.halts_workspace()).cloned() {
            outcomes.push(hand_back(state, send.prompt, &halt).await?);
            continue;
        }
        match find_posted(state, api, send.member, &send.prompt.id).await {
            Ok(Some(ts)) => {
                if !prompts::update_sent(db, &send.prompt.id, token, &ts, state.now_ms()).await? {
                    outcomes.push(Outcome::Lost);
                    continue;
                }
                tracing::info!(prompt.id = %send.prompt.id, "found a question an earlier try had posted; not sending it again");
                outcomes.push(Outcome::FoundPosted);
            }
            Ok(None) => fresh.push(send),
            Err(error) => outcomes.push(judge(state, workspace, send.member, send.prompt, &error, Call::LookUp).await?),
        }
    }
    if let Some(halt) = outcomes.iter().find(|outcome| outcome.halts_workspace()).cloned() {
        for send in fresh {
            outcomes.push(hand_back(state, send.prompt, &halt).await?);
        }
        return Ok(outcomes);
    }
    outcomes.extend(post_all(state, workspace, api, token, &fresh).await?);
    Ok(outcomes)
}

/// Posts `sends` side by side, after marking them as being sent, and records the ones Slack
/// took (with any member's new DM channel); each failure is judged by the policy.
async fn post_all(
    state: &AppState,
    workspace: &Workspace,
    api: &SlackApi,
    token: &str,
    sends: &[Outgoing<'_>],
) -> anyhow::Result<Vec<Outcome>> {
    let db = state.db.pool();
    let mut outcomes = Vec::with_capacity(sends.len());
    if sends.is_empty() {
        return Ok(outcomes);
    }
    // Committed before the calls: whoever retries after a crash looks for the message first.
    let now = state.now_ms();
    let ids: Vec<&str> = sends.iter().map(|send| send.prompt.id.as_str()).collect();
    let held = prompts::update_send_started_many(db, &ids, token, now, now + LEASE_MS).await?;
    let (held, lost): (Vec<&Outgoing<'_>>, Vec<&Outgoing<'_>>) =
        sends.iter().partition(|send| held.contains(&send.prompt.id));
    outcomes.extend(lost.iter().map(|_| Outcome::Lost));
    let targets: Vec<String> = held.iter().map(|send| send.member.dm_target()).collect();
    let posts = held
        .iter()
        .zip(&targets)
        .map(|(send, target)| api.post_to(target, blocks::question_message(&send.question.text, &send.prompt.id)));
    let results = futures_util::future::join_all(posts).await;
    let (mut sent, mut channels, mut failed) = (Vec::new(), Vec::new(), Vec::new());
    for (send, result) in held.into_iter().zip(results) {
        match result {
            Ok(posted) => {
                if send.member.dm_channel_id.as_deref() != Some(posted.channel.as_str()) {
                    channels.push((send.member.id.as_str(), posted.channel));
                }
                sent.push((send.prompt.id.as_str(), posted.ts));
            }
            Err(error) => failed.push((send, error)),
        }
    }
    let now = state.now_ms();
    let sent: Vec<(&str, &str)> = sent.iter().map(|(id, ts)| (*id, ts.as_str())).collect();
    let recorded = prompts::update_sent_many(db, &sent, token, now).await?;
    for (id, _) in &sent {
        if !recorded.iter().any(|recorded| recorded == id) {
            tracing::warn!(prompt.id = %id, "a question was delivered after its prompt closed");
        }
        outcomes.push(Outcome::Sent);
    }
    let channels: Vec<(&str, &str)> = channels.iter().map(|(id, channel)| (*id, channel.as_str())).collect();
    if let Err(error) = members::update_dm_channels(db, &channels, now).await {
        tracing::warn!(error = %error, "could not remember members' DM channels");
    }
    outcomes.extend(judge_failed_posts(state, workspace, failed).await?);
    Ok(outcomes)
}

/// Judges a batch's failed posts in turn by the policy. Once one has stopped the workspace,
/// the rest fail for the same reason; once one has slowed it down, the rest Slack refused
/// for the rate wait with it (not posted, so nothing to look for), without pausing it again.
/// Any other failure is judged on its own: one that stops the workspace also fails what was
/// put back before it.
async fn judge_failed_posts(
    state: &AppState,
    workspace: &Workspace,
    failed: Vec<(&Outgoing<'_>, SlackCallError)>,
) -> anyhow::Result<Vec<Outcome>> {
    let mut outcomes = Vec::with_capacity(failed.len());
    let mut halt: Option<Outcome> = None;
    for (send, error) in failed {
        let outcome = match &halt {
            Some(stopped @ Outcome::WorkspaceStopped(_)) => hand_back(state, send.prompt, stopped).await?,
            Some(Outcome::SlowedDown { until }) if matches!(error, SlackCallError::RateLimited(_)) => {
                let now = state.now_ms();
                prompts::update_retry(state.db.pool(), send.prompt, *until, false, false, "rate limited by Slack", now)
                    .await?;
                Outcome::SlowedDown { until: *until }
            }
            _ => judge(state, workspace, send.member, send.prompt, &error, Call::Post).await?,
        };
        if outcome.halts_workspace() && !matches!(halt, Some(Outcome::WorkspaceStopped(_))) {
            halt = Some(outcome.clone());
        }
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// Hands back a prompt of a batch that was held back, untried: it waits with the workspace
/// until Slack allows again (keeping whatever an earlier try left), or fails with the
/// workspace's sending.
async fn hand_back(state: &AppState, prompt: &Prompt, halt: &Outcome) -> anyhow::Result<Outcome> {
    let db = state.db.pool();
    let now = state.now_ms();
    Ok(match halt {
        Outcome::WorkspaceStopped(reason) => {
            if prompts::update_failed(db, &prompt.id, claim_token(prompt), reason, now).await? {
                state.metrics.count_prompts_failed(reason, 1);
            }
            Outcome::Failed(reason.clone())
        }
        Outcome::SlowedDown { until } => {
            prompts::update_retry(db, prompt, *until, false, true, "waiting for Slack", now).await?;
            Outcome::SlowedDown { until: *until }
        }
        other => unreachable!("only a halting outcome holds a batch back, not {other:?}"),
    })
}

/// What becomes of a deliverable prompt when the workspace has no usable Slack client.
async fn without_api(state: &AppState, prompt: &Prompt, error: &anyhow::Error) -> anyhow::Result<Outcome> {
    match error.downcast_ref::<FixedTokenError>() {
        // Right after a self-hosted start, before Slack has said whose the environment's
        // token is: the question waits instead of failing.
        Some(FixedTokenError::NotConfirmed) => {
            let now = state.now_ms();
            let reason = "waiting for Slack to confirm the bot token's workspace";
            prompts::update_retry(state.db.pool(), prompt, now + UNCONFIRMED_WAIT_MS, false, true, reason, now).await?;
            Ok(Outcome::Retrying(reason.to_owned()))
        }
        Some(FixedTokenError::OtherWorkspace) => {
            fail(state, prompt, "SLACK_BOT_TOKEN belongs to another workspace").await
        }
        None => fail(state, prompt, "the workspace has no usable bot token").await,
    }
}

/// The token a claimed prompt was claimed under (a claimed row always has one; an empty
/// token matches no row, so a write without one changes nothing).
fn claim_token(prompt: &Prompt) -> &str {
    prompt.claimed_by.as_deref().unwrap_or_default()
}

/// Which Slack call failed: the lookup for an earlier try's message, or the post itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    LookUp,
    Post,
}

/// The one rule of who may be sent a question: `Err` names why a prompt must not go out
/// (any more). The workspace must be installed, not refused by Slack and `entitled` to
/// questions (billing's rule, `billing::entitled`, asked once per batch); the member must
/// still be in it, not opted out or excluded, reachable, and (for a scheduled question) not paused.
/// This check, made right before each send, is the one that decides. When a round is
/// planned, `db::members::list_askable` pre-selects in SQL the members this rule lets
/// through, and further leaves out bots, Slackbot and (unless included) guests, who are
/// never planned into a round (nor, by `asking::ask`, asked on demand).
pub fn deliverable(
    workspace: &Workspace,
    entitled: bool,
    member: &Member,
    prompt: &Prompt,
    now: i64,
) -> Result<(), &'static str> {
    if !workspace.is_active() {
        Err("workspace uninstalled")
    } else if !entitled {
        Err("workspace not subscribed")
    } else if workspace.delivery_stopped_reason.is_some() {
        Err("workspace stopped")
    } else if member.is_deleted {
        Err("member deactivated")
    } else if member.is_opted_out {
        Err("member opted out")
    } else if member.is_excluded {
        Err("member excluded by an admin")
    } else if member.delivery_stopped_reason.is_some() {
        Err("member unreachable")
    } else if prompt.round_date.is_some() && member.paused_until.is_some_and(|until| until > now) {
        Err("member paused")
    } else {
        Ok(())
    }
}

/// Looks for the prompt's message in the member's DM (by its metadata).
async fn find_posted(
    state: &AppState,
    api: &SlackApi,
    member: &Member,
    prompt_id: &str,
) -> Result<Option<String>, SlackCallError> {
    let channel = match &member.dm_channel_id {
        Some(channel) => channel.clone(),
        None => {
            let channel = api.open_dm(&member.slack_user_id).await?;
            let cached = members::update_dm_channel(state.db.pool(), &member.id, &channel, state.now_ms()).await;
            if let Err(error) = cached {
                tracing::warn!(error = %error, "could not remember a member's DM channel");
            }
            channel
        }
    };
    api.find_by_metadata(&channel, QUESTION_METADATA_EVENT, QUESTION_METADATA_PROMPT, prompt_id).await
}

/// Records a failed send by the policy's verdict.
async fn judge(
    state: &AppState,
    workspace: &Workspace,
    member: &Member,
    prompt: &Prompt,
    error: &SlackCallError,
    failed: Call,
) -> anyhow::Result<Outcome> {
    let db = state.db.pool();
    let now = state.now_ms();
    Ok(match policy::judge(error, prompt.attempts, &prompt.id) {
        Verdict::SlowDown { wait_ms } => {
            let until = now + wait_ms;
            workspaces::update_sending_paused_until(db, &workspace.id, until).await?;
            // A refused post was not posted: nothing to look for on the next try. A refused
            // lookup leaves the earlier try's message possibly posted: look again next time.
            let posted_maybe = failed == Call::LookUp;
            prompts::update_retry(db, prompt, until, false, posted_maybe, "rate limited by Slack", now).await?;
            tracing::warn!(workspace.id = %workspace.id, wait_ms, "Slack is rate limiting this workspace; holding its sends");
            Outcome::SlowedDown { until }
        }
        Verdict::Retry { wait_ms, reason } => {
            prompts::update_retry(db, prompt, now + wait_ms, true, true, &reason, now).await?;
            tracing::warn!(prompt.id = %prompt.id, %reason, wait_ms, "a question could not be delivered; trying again later");
            Outcome::Retrying(reason)
        }
        Verdict::Fail { reason } => return fail(state, prompt, &reason).await,
        Verdict::StopMember { reason } => {
            members::update_delivery_stopped(db, &member.id, Some(&reason), now).await?;
            tracing::warn!(member.id = %member.id, %reason, "Slack cannot reach this member; not asking them any more");
            return fail(state, prompt, &reason).await;
        }
        Verdict::StopWorkspace { reason } => {
            workspaces::update_delivery_stopped(db, &workspace.id, &reason, now).await?;
            let failed = prompts::update_failed(db, &prompt.id, claim_token(prompt), &reason, now).await?;
            let dropped = prompts::fail_waiting_for_workspace(db, &workspace.id, &reason, now).await?;
            state.metrics.count_prompts_failed(&reason, u64::from(failed) + dropped);
            tracing::error!(workspace.id = %workspace.id, %reason, dropped, "Slack refused the workspace's token; its sending stopped");
            Outcome::WorkspaceStopped(reason)
        }
    })
}

/// Fails `prompt` for `reason`, and counts it (unless its claim was lost meanwhile).
async fn fail(state: &AppState, prompt: &Prompt, reason: &str) -> anyhow::Result<Outcome> {
    if prompts::update_failed(state.db.pool(), &prompt.id, claim_token(prompt), reason, state.now_ms()).await? {
        state.metrics.count_prompts_failed(reason, 1);
    }
    tracing::info!(prompt.id = %prompt.id, %reason, "a question was not delivered");
    Ok(Outcome::Failed(reason.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(counts: &[(&str, usize)]) -> BTreeMap<String, usize> {
        counts.iter().map(|(reason, count)| ((*reason).to_owned(), *count)).collect()
    }

    #[test]
    fn a_later_run_of_a_lane_adds_every_count_to_its_report() {
        let mut report = LaneReport {
            workspace_id: "W1".to_owned(),
            sent: 3,
            found_posted: 1,
            retrying: 0,
            slowed_down: false,
            failed: failed(&[("user_not_found", 1)]),
        };

        report.add(LaneReport {
            workspace_id: "W1".to_owned(),
            sent: 2,
            found_posted: 0,
            retrying: 4,
            slowed_down: true,
            failed: failed(&[("user_not_found", 2), ("channel_not_found", 1)]),
        });

        let expected = LaneReport {
            workspace_id: "W1".to_owned(),
            sent: 5,
            found_posted: 1,
            retrying: 4,
            slowed_down: true,
            failed: failed(&[("channel_not_found", 1), ("user_not_found", 3)]),
        };
        assert_eq!(report, expected);
    }
}
