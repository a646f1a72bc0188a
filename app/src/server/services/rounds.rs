//! Rounds: at each member's slot, one new question (a prompt row, which is also the
//! delivery job), and what operators see of them. Planning is idempotent: a member gets at
//! most one prompt per round however often, and on however many instances, it runs.

use std::collections::{BTreeMap, HashMap};

use chrono_tz::Tz;

use super::{
    billing,
    delivery::SENDS_PER_MINUTE,
    picking,
    schedule::{self, CATCH_UP_MS, Schedule},
};
use crate::{
    error::AppError,
    features::schedule::types::{RoundCounts, RoundOverview},
    server::{
        AppState,
        db::{
            Db,
            members::{self, Askable},
            prompts::{self, AskedRow, PromptStatus, RoundPrompt},
            workspaces::{self, Claimed, Workspace},
        },
        new_id, zones,
    },
};

/// A member asked (on demand or at an earlier slot) this recently keeps that question
/// rather than getting a second one at the next slot.
pub const RECENTLY_ASKED_MS: i64 = 12 * 60 * 60 * 1000;

/// What one planning pass did for one workspace.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Planned {
    pub workspace_id: String,
    /// New prompts, due now or at their slot.
    pub prompts: usize,
    /// Open questions closed as unanswered because the member's next round came.
    pub expired: usize,
    /// When the next member is due (Unix ms), if anyone will be.
    pub next_round_at: Option<i64>,
    /// Slack asked the workspace to wait: its questions go once the wait is over.
    pub waiting_for_slack: bool,
}

/// How long a workspace's plan holds at most, whatever it says (a little less, see
/// [`replan_within`]): a safety net for what no trigger sees (a question stuck unsent past
/// [`RECENTLY_ASKED_MS`], for one).
pub const REPLAN_AT_LEAST_EVERY_MS: i64 = 60 * 60 * 1000;
/// How soon a member who was due but got no question (none left to ask, or another planner
/// was first) is looked at again.
const RETRY_MS: i64 = 60 * 1000;
/// Prompts planned in one pass from which the database's statistics of them are refreshed,
/// and again each time the pass has planned twice as many as at the refresh before
/// ([`plan_due_each`]).
pub const MANY_PLANNED: usize = 1_000;
/// Members whose questions are written in one transaction: one commit for many, while the
/// write lock stays short (the picking is read before it).
const PLANNED_TOGETHER: usize = 50;

/// Plans the due rounds of every asking workspace whose planning time has come at `now_ms`
/// (`plan_after`, cleared by any change that may make someone due), and sets each one's
/// next planning time. Returns what was planned in each workspace where something was, once
/// for each sweep of the pass that planned some of it ([`plan_due_each`]). A workspace not
/// entitled to questions (billing) is not planned; one that cannot be planned (its error is
/// logged) does not hold up the others and is tried again soon.
pub async fn plan_due(state: &AppState, now_ms: i64) -> Result<Vec<Planned>, AppError> {
    let mut planned = Vec::new();
    plan_due_each(state, now_ms, |one| planned.push(one)).await?;
    Ok(planned)
}

/// Plans as [`plan_due`] does, handing each workspace where something was planned to
/// `planned` as soon as it is (the dispatcher starts its deliveries then, while the rest of
/// the round is planned).
///
/// A pass sweeps the workspaces twice. The first sweep plans only each workspace's
/// [`first_share`] of its due members: the questions that set when its round can end, since
/// its pace holds every later one back by whole minutes anyway. The second plans the rest,
/// workspace by workspace again (a workspace is handed to `planned` once per sweep). So in
/// a round across many workspaces, the last workspace's first questions no longer wait for
/// every other workspace's whole round to be planned. A workspace left for the second
/// sweep keeps its claim's hold ([`RETRY_MS`]) until then, so a crash in between has it
/// planned again, which is idempotent.
///
/// Once a pass has planned [`MANY_PLANNED`] prompts, the database's statistics of them are
/// refreshed, and again each time it has planned twice as many as at the refresh before, so
/// the deliveries already running and the rest of the planning find the new rows by index
/// as the table grows (`prompts::refresh_statistics`; a failure is logged and the round goes
/// on). Refreshed once, at the first thousand, PostgreSQL planned the roster of each later
/// workspace as a scan of the whole, by then much larger, table (BENCHMARKS.md, B3).
#[tracing::instrument(name = "plan rounds", skip_all)]
pub async fn plan_due_each(state: &AppState, now_ms: i64, mut planned: impl FnMut(Planned)) -> Result<(), AppError> {
    let mut refresh = StatisticsRefresh::default();
    let mut unfinished = Vec::new();
    for workspace_id in workspaces::list_plannable(state.db.pool(), now_ms).await? {
        match plan_first_share(state, &workspace_id, now_ms).await {
            Ok(Some((one, rest))) => {
                unfinished.extend(rest);
                refresh.count(&state.db, one.prompts).await;
                if one.prompts > 0 || one.expired > 0 {
                    planned(one);
                }
            }
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(workspace.id = %workspace_id, error = %error, "could not plan a workspace's round");
            }
        }
    }
    for claimed in unfinished {
        match plan_rest(&state.db, &claimed, now_ms).await {
            Ok(one) => {
                refresh.count(&state.db, one.prompts).await;
                if one.prompts > 0 || one.expired > 0 {
                    planned(one);
                }
            }
            Err(error) => {
                tracing::warn!(workspace.id = %claimed.workspace.id, error = %error, "could not plan the rest of a workspace's round");
            }
        }
    }
    Ok(())
}

/// How many of a workspace's `due` members its pass's first sweep plans: those whose
/// questions set when its round can end. The pace lets [`SENDS_PER_MINUTE`] out in any
/// minute, so the last question goes a whole number of minutes after one among the first
/// `(due - 1) % SENDS_PER_MINUTE + 1`; all later ones wait for the pace whenever they are
/// planned. A workspace with a minute's worth or fewer due is planned whole.
pub fn first_share(due: usize) -> usize {
    let pace = usize::try_from(SENDS_PER_MINUTE).unwrap_or(usize::MAX).max(1);
    if due == 0 { 0 } else { (due - 1) % pace + 1 }
}

/// When a pass refreshes the database's statistics of prompts ([`plan_due_each`]).
struct StatisticsRefresh {
    planned: usize,
    next_at: usize,
}

impl Default for StatisticsRefresh {
    fn default() -> Self {
        StatisticsRefresh { planned: 0, next_at: MANY_PLANNED }
    }
}

impl StatisticsRefresh {
    /// Counts `prompts` more planned, and refreshes the statistics when the pass's total
    /// reaches the next mark.
    async fn count(&mut self, db: &Db, prompts: usize) {
        self.planned += prompts;
        if self.planned < self.next_at {
            return;
        }
        self.next_at = self.planned.saturating_mul(2);
        if let Err(error) = prompts::refresh_statistics(db).await {
            tracing::warn!(error = %error, "could not refresh the statistics of prompts during a large round");
        }
    }
}

/// Claims one workspace and plans its first sweep ([`first_share`] of its due members).
/// When that was everyone, sets when it is planned next; otherwise also returns the claim,
/// for [`plan_rest`]. `None`: another planner had it, or it stopped asking since it was
/// listed.
async fn plan_first_share(
    state: &AppState,
    workspace_id: &str,
    now_ms: i64,
) -> Result<Option<(Planned, Option<Claimed>)>, AppError> {
    let db = &state.db;
    let hold_until = now_ms + RETRY_MS;
    let Some(claimed) = workspaces::claim_planning(db.pool(), workspace_id, now_ms, hold_until).await? else {
        return Ok(None);
    };
    // Billing changes clear the plan; a trial running out by the clock only stops asking.
    if !billing::entitled(state, &claimed.workspace).await? {
        let plan_after = now_ms + replan_within(workspace_id);
        workspaces::set_plan_after(db.pool(), workspace_id, claimed.plan_changes, plan_after).await?;
        return Ok(None);
    }
    let (planned, plan_after) = plan_workspace(db, &claimed.workspace, now_ms, first_share).await?;
    match plan_after {
        Some(plan_after) => {
            workspaces::set_plan_after(db.pool(), workspace_id, claimed.plan_changes, plan_after).await?;
            Ok(Some((planned, None)))
        }
        None => Ok(Some((planned, Some(claimed)))),
    }
}

/// Plans the rest of a claimed workspace's round after the first sweep, then sets when it is
/// planned next. Members planned in the first sweep are not due any more. Delivery checks
/// the workspace's entitlement again before each send.
async fn plan_rest(db: &Db, claimed: &Claimed, now_ms: i64) -> Result<Planned, AppError> {
    let (planned, plan_after) = plan_workspace(db, &claimed.workspace, now_ms, |due| due).await?;
    let plan_after = plan_after.unwrap_or(now_ms + RETRY_MS);
    workspaces::set_plan_after(db.pool(), &claimed.workspace.id, claimed.plan_changes, plan_after).await?;
    Ok(planned)
}

/// The safety net's wait for one workspace: [`REPLAN_AT_LEAST_EVERY_MS`] less up to a
/// quarter of it, fixed per workspace, so that workspaces planned in one pass do not all come
/// due again in the same second.
pub fn replan_within(workspace_id: &str) -> i64 {
    let spread = workspace_id.bytes().fold(0_i64, |sum, byte| (sum * 31 + i64::from(byte)) % 1_000_003);
    REPLAN_AT_LEAST_EVERY_MS - spread % (REPLAN_AT_LEAST_EVERY_MS / 4)
}

/// Plans `share(due)` of the workspace's due members, and says when anyone in it may next
/// be due; `None` when some due members were left for later.
async fn plan_workspace(
    db: &Db,
    workspace: &Workspace,
    now_ms: i64,
    share: impl Fn(usize) -> usize,
) -> Result<(Planned, Option<i64>), AppError> {
    let schedule = schedule::load(db, &workspace.id).await?;
    let askable = members::list_askable(db.pool(), &workspace.id, workspace.include_guests, now_ms).await?;
    let pause_end = members::earliest_pause_end(db.pool(), &workspace.id, now_ms).await?;
    let mut plan_after = pause_end.unwrap_or(i64::MAX).min(now_ms + replan_within(&workspace.id));
    let mut due: Vec<(&Askable, Decision)> = Vec::new();
    for row in &askable {
        let zone = zones::member_zone(row.member.time_zone.as_deref(), &workspace.default_time_zone);
        if let Some(at) = may_be_due_at(row, &schedule, zone, now_ms) {
            plan_after = plan_after.min(at);
        }
        if let Some(decision) = decide(row, &schedule, zone, now_ms) {
            due.push((row, decision));
        }
    }
    let mut planned = Planned {
        workspace_id: workspace.id.clone(),
        waiting_for_slack: workspace.is_waiting_for_slack(now_ms),
        ..Planned::default()
    };
    if due.is_empty() {
        return Ok((planned, Some(plan_after)));
    }
    let now_planned = share(due.len());
    let left_for_later = due.len() > now_planned;
    due.truncate(now_planned);
    // Read once and shared by the whole round.
    let candidates = picking::Candidates::load(&mut *db.pool().acquire().await?, &workspace.id).await?;
    for together in due.chunks(PLANNED_TOGETHER) {
        for (created, expired) in ask_in_round(db, &candidates, together, now_ms).await? {
            planned.prompts += usize::from(created);
            planned.expired += usize::from(expired);
            if !created {
                plan_after = plan_after.min(now_ms + RETRY_MS);
            }
        }
    }
    planned.next_round_at = earliest_next_slot(&schedule, workspace, &askable, now_ms);
    Ok((planned, (!left_for_later).then_some(plan_after)))
}

/// The earliest time after `now_ms` that `row`'s member may be due, as things stand: their
/// next slot, or, when a question they were asked holds them back, the moment it stops
/// holding them ([`RECENTLY_ASKED_MS`] after it was asked). Whatever else could make them
/// due sooner (their settings, the schedule, the question closing) clears the plan.
fn may_be_due_at(row: &Askable, schedule: &Schedule, zone: Tz, now_ms: i64) -> Option<i64> {
    let (schedule, _) = schedule_in_effect(row, schedule, now_ms);
    let next_slot = schedule.next_slot(zone, now_ms).map(|slot| slot.at_ms);
    let let_go = row.open_prompt.as_ref().map(|(_, _, created)| created + RECENTLY_ASKED_MS).filter(|at| *at > now_ms);
    next_slot.into_iter().chain(let_go).min()
}

/// The schedule `row`'s member is asked on: every selected day in their first week, the
/// workspace's otherwise; and whether it is their first week.
fn schedule_in_effect(row: &Askable, schedule: &Schedule, now_ms: i64) -> (Schedule, bool) {
    let first_week = super::members::in_first_week(&row.member, now_ms);
    (if first_week { schedule.daily() } else { *schedule }, first_week)
}

/// A member's due round.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Decision {
    round_date: String,
    due_at: i64,
    first_week: bool,
    /// Their unanswered question from before, closed when this one is planned.
    replaces: Option<String>,
}

/// Whether `row`'s member is due a question now, by the rules of the schedule: their latest
/// slot has come, it is not too long ago, they were not planned into it yet, and they have
/// no question still on its way or asked only recently.
fn decide(row: &Askable, schedule: &Schedule, zone: Tz, now_ms: i64) -> Option<Decision> {
    let (schedule, first_week) = schedule_in_effect(row, schedule, now_ms);
    let slot = schedule.latest_slot(zone, now_ms)?;
    let round_date = slot.round_date();
    if now_ms - slot.at_ms > CATCH_UP_MS || row.last_round_date.as_ref().is_some_and(|last| *last >= round_date) {
        return None;
    }
    let replaces = match &row.open_prompt {
        None => None,
        Some((open, PromptStatus::Sent, created)) if now_ms - created >= RECENTLY_ASKED_MS => Some(open.clone()),
        Some(_) => return None,
    };
    Some(Decision { round_date, due_at: slot.at_ms, first_week, replaces })
}

/// Plans the members' questions for the round, closing their old unanswered ones, in one
/// transaction. Returns (planned, closed an old one) for each member, in order.
///
/// What the members were asked before is read for all of them at once, and the prompts of
/// members with no old question to close are inserted in one statement; a member whose old
/// question closes is planned on their own, so the two happen together or not at all.
async fn ask_in_round(
    db: &Db,
    candidates: &picking::Candidates,
    due: &[(&Askable, Decision)],
    now_ms: i64,
) -> Result<Vec<(bool, bool)>, AppError> {
    // Picked before the transaction, so the write lock is held only for the writes.
    let member_ids: Vec<&str> = due.iter().map(|(row, _)| row.member.id.as_str()).collect();
    let mut asked: HashMap<String, Vec<AskedRow>> = HashMap::new();
    for (member_id, row) in prompts::list_asked_for_members(db.pool(), &member_ids).await? {
        asked.entry(member_id).or_default().push(row);
    }
    let planned: Vec<Option<(RoundPrompt, Option<&String>)>> = due
        .iter()
        .map(|(row, decision)| {
            let member = &row.member;
            let before = asked.get(&member.id).map_or(&[][..], Vec::as_slice);
            let question = candidates.pick(before, decision.first_week)?;
            let prompt = RoundPrompt {
                id: new_id(),
                workspace_id: member.workspace_id.clone(),
                member_id: member.id.clone(),
                question_id: question.id.clone(),
                due_at: decision.due_at,
                round_date: decision.round_date.clone(),
            };
            Some((prompt, decision.replaces.as_ref()))
        })
        .collect();
    let mut tx = db.begin_write().await?;
    // Another planner may have planned a member's round a moment ago: then theirs stays.
    let fresh: Vec<RoundPrompt> =
        planned.iter().flatten().filter(|(_, replaces)| replaces.is_none()).map(|(prompt, _)| prompt.clone()).collect();
    let inserted = prompts::insert_many_if_new(&mut tx, &fresh, now_ms).await?;
    let mut outcomes = Vec::with_capacity(due.len());
    for one in &planned {
        outcomes.push(match one {
            None => (false, false),
            Some((prompt, None)) => (inserted.contains(&prompt.id), false),
            Some((prompt, Some(old))) => replace(&mut tx, prompt, old, now_ms).await?,
        });
    }
    tx.commit().await?;
    Ok(outcomes)
}

/// Closes a member's old unanswered question `old` and plans `prompt` in its place, within
/// `tx`: the old one closes first (a member has one open question at most), and opens
/// again if another planner was first with the new one. Returns (planned, closed the old one).
async fn replace(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    prompt: &RoundPrompt,
    old: &str,
    now_ms: i64,
) -> Result<(bool, bool), AppError> {
    let mut member_tx = sqlx::Acquire::begin(&mut **tx).await?;
    let expired =
        prompts::update_status(&mut *member_tx, old, PromptStatus::Sent, PromptStatus::Expired, now_ms).await?;
    if prompts::insert_if_new(&mut member_tx, prompt, now_ms).await? {
        member_tx.commit().await?;
        Ok((true, expired))
    } else {
        member_tx.rollback().await?;
        Ok((false, false))
    }
}

/// Per workspace: when the next member is due, and how the last round went.
pub async fn overview(db: &Db, workspace_id: &str, now_ms: i64) -> Result<RoundOverview, AppError> {
    let workspace = workspaces::find(db.pool(), workspace_id).await?.ok_or(AppError::NotFound)?;
    let next_round_at = next_round_at(db, &workspace, now_ms).await?;
    let Some(round_date) = prompts::find_last_round_date(db.pool(), workspace_id, now_ms).await? else {
        return Ok(RoundOverview { next_round_at, last_round: None });
    };
    let mut counts = RoundCounts { round_date: round_date.clone(), ..RoundCounts::default() };
    let mut failed: BTreeMap<String, i64> = BTreeMap::new();
    for row in prompts::count_round_by_status(db.pool(), workspace_id, &round_date).await? {
        counts.due += row.count;
        match row.status {
            PromptStatus::Pending | PromptStatus::InFlight => counts.waiting += row.count,
            PromptStatus::Sent => counts.sent += row.count,
            PromptStatus::Answered => counts.answered += row.count,
            PromptStatus::Skipped => counts.skipped += row.count,
            PromptStatus::Expired => counts.expired += row.count,
            PromptStatus::Failed => {
                *failed.entry(row.failure_reason.unwrap_or_else(|| "unknown".to_owned())).or_default() += row.count
            }
        }
    }
    counts.failed = failed.into_iter().collect();
    counts.failed.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(RoundOverview { next_round_at, last_round: Some(counts) })
}

/// The earliest next slot among the members who would be asked, if asking is on.
async fn next_round_at(db: &Db, workspace: &Workspace, now_ms: i64) -> Result<Option<i64>, AppError> {
    let asking = workspace.is_active() && workspace.questions_enabled && workspace.delivery_stopped_reason.is_none();
    if !asking {
        return Ok(None);
    }
    let schedule = schedule::load(db, &workspace.id).await?;
    let askable = members::list_askable(db.pool(), &workspace.id, workspace.include_guests, now_ms).await?;
    Ok(earliest_next_slot(&schedule, workspace, &askable, now_ms))
}

/// The earliest slot after `now_ms` among `askable` members (one slot per time zone).
fn earliest_next_slot(schedule: &Schedule, workspace: &Workspace, askable: &[Askable], now_ms: i64) -> Option<i64> {
    let mut zones: Vec<Tz> = Vec::new();
    for row in askable {
        let zone = zones::member_zone(row.member.time_zone.as_deref(), &workspace.default_time_zone);
        if !zones.contains(&zone) {
            zones.push(zone);
        }
    }
    zones.into_iter().filter_map(|zone| schedule.next_slot(zone, now_ms)).map(|slot| slot.at_ms).min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        features::schedule::types::{Cadence, LocalTime, Weekdays},
        server::db::members::Member,
    };

    const HOUR_MS: i64 = 60 * 60 * 1000;

    fn member() -> Member {
        Member {
            id: "m1".into(),
            workspace_id: "w1".into(),
            slack_user_id: "U1".into(),
            name: "Ana".into(),
            title: String::new(),
            avatar_url: String::new(),
            time_zone: Some("UTC".into()),
            is_bot: false,
            is_deleted: false,
            is_guest: false,
            is_opted_out: false,
            is_admin: false,
            is_slack_admin: false,
            dm_channel_id: None,
            paused_until: None,
            created_at: 0,
            updated_at: 0,
            welcome_until: None,
            introduced_at: None,
            delivery_stopped_reason: None,
            forgotten_at: None,
            is_excluded: false,
        }
    }

    fn row() -> Askable {
        Askable { member: member(), last_round_date: None, open_prompt: None }
    }

    fn every_day_at_ten() -> Schedule {
        Schedule {
            weekdays: Weekdays::from_bits(0b111_1111).unwrap_or(Weekdays::WORKDAYS),
            local_time: LocalTime::TEN_AM,
            cadence: Cadence::Daily,
        }
    }

    fn at(rfc3339: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(rfc3339).map(|t| t.timestamp_millis()).unwrap_or_default()
    }

    #[test]
    fn the_first_sweep_plans_the_questions_that_set_when_a_round_can_end() {
        // At 60 a minute: a minute's worth or less at once; of 100, the first 40 (the other
        // 60 go either at once or a minute after one of them); of 61, the first alone.
        assert_eq!(SENDS_PER_MINUTE, 60, "the shares below are at 60 a minute");
        let due = [0, 1, 30, 60, 61, 100, 120, 121, 1_000];
        assert_eq!(due.map(first_share), [0, 1, 30, 60, 1, 40, 60, 1, 40]);
    }

    #[test]
    fn a_member_is_due_once_per_round_and_not_after_the_catch_up_window() {
        let schedule = every_day_at_ten();
        // A minute early, the latest slot is yesterday's, long gone.
        assert_eq!(decide(&row(), &schedule, Tz::UTC, at("2026-11-30T09:59:00Z")), None);
        let due = decide(&row(), &schedule, Tz::UTC, at("2026-11-30T10:00:00Z"));
        assert_eq!(
            due.as_ref().map(|d| (d.round_date.as_str(), d.due_at)),
            Some(("2026-11-30", at("2026-11-30T10:00:00Z")))
        );
        let mut planned = row();
        planned.last_round_date = Some("2026-11-30".into());
        assert_eq!(decide(&planned, &schedule, Tz::UTC, at("2026-11-30T10:05:00Z")), None);
        // Back after a long outage: the missed slot is not made up at night.
        assert_eq!(decide(&row(), &schedule, Tz::UTC, at("2026-11-30T14:01:00Z")), None);
    }

    #[test]
    fn an_open_question_blocks_a_new_one_unless_it_went_unanswered_for_long() {
        let schedule = every_day_at_ten();
        let now = at("2026-11-30T10:00:00Z");
        let mut waiting = row();
        waiting.open_prompt = Some(("p0".into(), PromptStatus::Pending, now - 24 * HOUR_MS));
        assert_eq!(decide(&waiting, &schedule, Tz::UTC, now), None);
        let mut recent = waiting.clone();
        recent.open_prompt = Some(("p0".into(), PromptStatus::Sent, now - HOUR_MS));
        assert_eq!(decide(&recent, &schedule, Tz::UTC, now), None);
        let mut stale = recent.clone();
        stale.open_prompt = Some(("p0".into(), PromptStatus::Sent, now - 24 * HOUR_MS));
        assert_eq!(decide(&stale, &schedule, Tz::UTC, now).and_then(|d| d.replaces), Some("p0".into()));
    }

    #[test]
    fn a_member_may_next_be_due_at_their_next_slot_or_when_their_question_lets_go() {
        // Weekly on the first of Monday and Thursday: Mondays, except in a first week.
        let weekly = Schedule {
            weekdays: Weekdays::from_bits(0b000_1001).unwrap_or(Weekdays::WORKDAYS),
            local_time: LocalTime::TEN_AM,
            cadence: Cadence::Weekly,
        };
        // Wednesday: the next Monday at 10:00, in the member's own zone.
        let wednesday = at("2026-12-02T12:00:00Z");
        assert_eq!(may_be_due_at(&row(), &weekly, Tz::UTC, wednesday), Some(at("2026-12-07T10:00:00Z")));
        assert_eq!(may_be_due_at(&row(), &weekly, Tz::America__New_York, wednesday), Some(at("2026-12-07T15:00:00Z")));
        // In their first week every selected day has a round: Thursday.
        let mut new = row();
        new.member.welcome_until = Some(wednesday + 7 * 24 * HOUR_MS);
        assert_eq!(may_be_due_at(&new, &weekly, Tz::UTC, wednesday), Some(at("2026-12-03T10:00:00Z")));
        // A question asked an hour ago holds them back until twelve hours after it was asked.
        let mut asked = row();
        asked.open_prompt = Some(("p0".into(), PromptStatus::Sent, wednesday - HOUR_MS));
        assert_eq!(may_be_due_at(&asked, &weekly, Tz::UTC, wednesday), Some(wednesday + 11 * HOUR_MS));
        // One asked long ago holds nothing back any more: the next slot counts.
        asked.open_prompt = Some(("p0".into(), PromptStatus::Sent, wednesday - 24 * HOUR_MS));
        assert_eq!(may_be_due_at(&asked, &weekly, Tz::UTC, wednesday), Some(at("2026-12-07T10:00:00Z")));
    }

    #[test]
    fn a_new_member_is_asked_every_selected_day_in_their_first_week() {
        let weekly = Schedule { cadence: Cadence::Weekly, ..every_day_at_ten() };
        let tuesday = at("2026-12-01T10:00:00Z");
        assert_eq!(decide(&row(), &weekly, Tz::UTC, tuesday), None, "weekly rounds are on Mondays");
        let mut newcomer = row();
        newcomer.member.welcome_until = Some(tuesday + 6 * 24 * HOUR_MS);
        let decision = decide(&newcomer, &weekly, Tz::UTC, tuesday);
        assert_eq!(decision.map(|d| (d.round_date, d.first_week)), Some(("2026-12-01".into(), true)));
    }
}
