//! The demo workspace: a fictional team with members on several continents, question packs
//! and a few hundred answers over the last weeks, so every page has real content without
//! Slack. The people and words are in `content.json`; this module turns them into rows.
//!
//! Generation is deterministic for a given `now` (a fixed-seed generator), so a bug seen in
//! the demo can be reproduced.

mod avatar;

use std::collections::HashMap;

use anyhow::Context as _;
use app::{
    features::answers::types::Visibility,
    server::{
        db::{
            Db, answers, billing, members, packs,
            prompts::{self, PromptStatus},
            questions, schedules,
            workspaces::{self, ShareMode, WorkspaceStatus},
        },
        new_id,
        services::billing::TRIAL_MS,
    },
};
use serde::Deserialize;

/// The demo content, checked in as data.
const CONTENT: &str = include_str!("content.json");

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
const HOUR_MS: i64 = 60 * 60 * 1000;
/// Weeks of history; two question slots a week (Tuesday-ish and Thursday-ish).
const WEEKS: i64 = 8;
const SLOT_DAYS: [i64; 2] = [2, 5];
/// The Slack user id of the app's bot in the demo workspace.
pub const DEMO_BOT_USER_ID: &str = "UDEMOBOT";
/// The demo workspace's sharing channel (a channel of the Slack emulator).
pub const DEMO_SHARING_CHANNEL_ID: &str = "CSHARING01";
/// Share of answers kept private ("only me"), in percent.
const ONLY_ME_PERCENT: u64 = 8;

/// What `seed` wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seeded {
    pub workspace_id: String,
    pub members: usize,
    pub packs: usize,
    pub questions: usize,
    pub answers: usize,
    pub only_me_answers: usize,
}

/// The demo team's words: its people, and its packs with answers to draw from (the benchmark
/// team is drawn from them too).
#[derive(Debug, Deserialize)]
pub struct Content {
    pub(crate) workspace: WorkspaceContent,
    pub members: Vec<MemberContent>,
    pub packs: Vec<PackContent>,
    pinned: Vec<PinnedAnswer>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WorkspaceContent {
    pub(crate) name: String,
    pub(crate) slack_team_id: String,
    default_time_zone: String,
}

#[derive(Debug, Deserialize)]
pub struct MemberContent {
    pub slack_user_id: String,
    pub name: String,
    pub title: String,
    pub time_zone: String,
    pub is_admin: bool,
}

#[derive(Debug, Deserialize)]
pub struct PackContent {
    pub name: String,
    pub description: String,
    pub questions: Vec<QuestionContent>,
}

#[derive(Debug, Deserialize)]
pub struct QuestionContent {
    pub text: String,
    /// Answers members give, drawn from in turn.
    pub answers: Vec<String>,
}

/// An answer written out in full, so the demo always shows (and hides) known text.
#[derive(Debug, Deserialize)]
struct PinnedAnswer {
    slack_user_id: String,
    question: String,
    text: String,
    visibility: String,
}

/// The demo team as written in `content.json`.
pub fn content() -> anyhow::Result<Content> {
    serde_json::from_str(CONTENT).context("reading demo/content.json")
}

/// The demo team's Slack id (the team the emulator speaks for).
pub fn team_id() -> anyhow::Result<String> {
    Ok(content()?.workspace.slack_team_id)
}

/// Refuses a database that holds any team but the demo's: in the demo anonymous visitors
/// browse the dashboard, so starting it on a real team's database would publish that team.
pub async fn refuse_real_teams(db: &Db) -> anyhow::Result<()> {
    let demo_team = team_id()?;
    let found = workspaces::list(db.pool(), 2).await?;
    if let Some(real) = found.iter().find(|workspace| workspace.slack_team_id != demo_team) {
        anyhow::bail!(
            "this database holds the Slack workspace {:?}, so it is not the demo's: set the Slack variables              (SLACK_BOT_TOKEN or SLACK_CLIENT_ID, see the README) to serve it, or point DATABASE_URL elsewhere              for the demo",
            real.name
        );
    }
    Ok(())
}

/// Seeds the demo workspace unless the database already has a workspace.
pub async fn seed_if_empty(db: &Db, now_ms: i64) -> anyhow::Result<Option<Seeded>> {
    if !workspaces::list(db.pool(), 1).await?.is_empty() {
        return Ok(None);
    }
    seed(db, now_ms).await
}

/// Seeds the demo workspace in one transaction; `None` if it is already there.
pub async fn seed(db: &Db, now_ms: i64) -> anyhow::Result<Option<Seeded>> {
    let content = content()?;
    if workspaces::find_by_slack_team_id(db.pool(), &content.workspace.slack_team_id).await?.is_some() {
        return Ok(None);
    }
    let plan = Plan::new(&content, now_ms)?;
    let mut tx = db.begin_write().await?;
    workspaces::insert(&mut *tx, &plan.workspace).await?;
    schedules::upsert(&mut *tx, &plan.schedule).await?;
    // The made-up history starts weeks ago; the demo's free trial starts now.
    billing::upsert_trial_end(&mut *tx, &plan.workspace.id, now_ms + TRIAL_MS, now_ms).await?;
    members::insert_many(&mut tx, &plan.members).await?;
    for row in &plan.packs {
        packs::insert(&mut *tx, row).await?;
    }
    for row in &plan.questions {
        questions::insert(&mut *tx, row).await?;
    }
    prompts::insert_many(&mut tx, &plan.prompts).await?;
    answers::insert_many(&mut tx, &plan.answers).await?;
    tx.commit().await.context("committing the demo workspace")?;
    Ok(Some(Seeded {
        workspace_id: plan.workspace.id.clone(),
        members: plan.members.iter().filter(|m| !m.is_bot).count(),
        packs: plan.packs.len(),
        questions: plan.questions.len(),
        answers: plan.answers.len(),
        only_me_answers: plan.answers.iter().filter(|a| a.visibility == Visibility::OnlyMe).count(),
    }))
}

/// Every row of the demo workspace, built in memory before anything is written.
struct Plan {
    workspace: workspaces::Workspace,
    schedule: schedules::ScheduleRow,
    members: Vec<members::Member>,
    packs: Vec<packs::Pack>,
    questions: Vec<questions::Question>,
    prompts: Vec<prompts::Prompt>,
    answers: Vec<answers::Answer>,
}

impl Plan {
    fn new(content: &Content, now_ms: i64) -> anyhow::Result<Plan> {
        let mut rng = SplitMix64(0x005e_ed0f_4a99_0127);
        let created_at = now_ms - (WEEKS + 2) * 7 * DAY_MS;
        let workspace = workspaces::Workspace {
            id: new_id(),
            slack_team_id: content.workspace.slack_team_id.clone(),
            name: content.workspace.name.clone(),
            default_time_zone: content.workspace.default_time_zone.clone(),
            status: WorkspaceStatus::Active,
            uninstalled_at: None,
            bot_user_id: Some(DEMO_BOT_USER_ID.to_owned()),
            // The emulator's sharing channel: in the demo, the "installer" has chosen it.
            sharing_channel_id: Some(DEMO_SHARING_CHANNEL_ID.to_owned()),
            share_mode: ShareMode::Immediate,
            last_digest_at: None,
            questions_enabled: true,
            bot_token_ciphertext: None,
            installed_by_slack_user_id: None,
            created_at,
            updated_at: created_at,
            include_guests: false,
            sending_paused_until: None,
            delivery_stopped_reason: None,
        };
        // The demo team is asked every day at 10:00 (weekends too, so a demo on a Saturday
        // shows rounds), each member in their own time zone: with 14 time zones somebody's
        // morning comes round every hour or two.
        let schedule = schedules::ScheduleRow {
            workspace_id: workspace.id.clone(),
            weekdays: 0b111_1111,
            local_minute: 10 * 60,
            cadence: "daily".to_owned(),
            updated_at: created_at,
        };
        let mut plan = Plan {
            members: Vec::new(),
            packs: Vec::new(),
            questions: Vec::new(),
            prompts: Vec::new(),
            answers: Vec::new(),
            workspace,
            schedule,
        };
        plan.add_people(content, created_at);
        let pools = plan.add_packs(content, created_at);
        plan.add_history(content, &pools, now_ms, &mut rng)?;
        Ok(plan)
    }

    fn add_people(&mut self, content: &Content, created_at: i64) {
        let member =
            |slack_user_id: &str, name: &str, title: &str, time_zone: Option<&str>, is_admin: bool, is_bot: bool| {
                members::Member {
                    id: new_id(),
                    workspace_id: self.workspace.id.clone(),
                    slack_user_id: slack_user_id.to_owned(),
                    name: name.to_owned(),
                    title: title.to_owned(),
                    avatar_url: avatar::data_url(name, slack_user_id),
                    time_zone: time_zone.map(str::to_owned),
                    is_bot,
                    is_deleted: false,
                    is_guest: false,
                    is_opted_out: false,
                    is_admin: false,
                    // The demo's admins are Slack admins, as the emulator's users.list says.
                    is_slack_admin: is_admin,
                    dm_channel_id: None,
                    paused_until: None,
                    created_at,
                    updated_at: created_at,
                    welcome_until: None,
                    introduced_at: None,
                    delivery_stopped_reason: None,
                    forgotten_at: None,
                    is_excluded: false,
                }
            };
        let mut rows: Vec<_> = content
            .members
            .iter()
            .map(|m| member(&m.slack_user_id, &m.name, &m.title, Some(&m.time_zone), m.is_admin, false))
            .collect();
        // The app's own bot user is a member in Slack too; it never appears in the directory.
        rows.push(member(DEMO_BOT_USER_ID, "Rapport", "Bot", None, false, true));
        self.members = rows;
    }

    /// Adds packs and questions; returns each question's answer pool, by question index.
    fn add_packs(&mut self, content: &Content, created_at: i64) -> Vec<Vec<String>> {
        let mut pools = Vec::new();
        for pack in &content.packs {
            let pack_row = packs::Pack {
                id: new_id(),
                workspace_id: Some(self.workspace.id.clone()),
                name: pack.name.clone(),
                description: pack.description.clone(),
                kind: packs::PackKind::Regular,
                created_at,
                updated_at: created_at,
            };
            for (position, question) in (1_i64..).zip(&pack.questions) {
                self.questions.push(questions::Question {
                    id: new_id(),
                    pack_id: pack_row.id.clone(),
                    text: question.text.clone(),
                    position,
                    is_disabled: false,
                    created_at,
                    updated_at: created_at,
                });
                pools.push(question.answers.clone());
            }
            self.packs.push(pack_row);
        }
        pools
    }

    /// Two question slots a week for every member over the last weeks: most answered, the
    /// rest skipped or expired. Pinned answers take each member's newest slots.
    fn add_history(
        &mut self,
        content: &Content,
        pools: &[Vec<String>],
        now_ms: i64,
        rng: &mut SplitMix64,
    ) -> anyhow::Result<()> {
        let question_index: HashMap<String, usize> =
            self.questions.iter().enumerate().map(|(i, q)| (q.text.clone(), i)).collect();
        let mut next_answer = vec![0_usize; pools.len()];
        let start_of_today = now_ms - now_ms.rem_euclid(DAY_MS);
        let mut slots: Vec<i64> = (0..WEEKS)
            .flat_map(|week| SLOT_DAYS.map(|day| start_of_today - (week * 7 + day) * DAY_MS + 9 * HOUR_MS))
            .collect();
        slots.sort_unstable();

        let humans: Vec<members::Member> = self.members.iter().filter(|m| !m.is_bot).cloned().collect();
        for member in &humans {
            let pinned: Vec<&PinnedAnswer> =
                content.pinned.iter().filter(|p| p.slack_user_id == member.slack_user_id).collect();
            let mut pinned_questions = Vec::new();
            for answer in &pinned {
                let index = *question_index
                    .get(&answer.question)
                    .with_context(|| format!("pinned answer names an unknown question: {:?}", answer.question))?;
                pinned_questions.push(index);
            }
            let mut order: Vec<usize> = (0..self.questions.len()).filter(|i| !pinned_questions.contains(i)).collect();
            rng.shuffle(&mut order);
            // A member's own answer rate, so the team looks like a team and not a machine.
            let answer_percent = 55 + rng.below(41);
            let history = slots.len() - pinned.len();
            for (slot_number, &due_at) in slots.iter().enumerate() {
                if slot_number >= history {
                    let answer = pinned[slot_number - history];
                    let question = pinned_questions[slot_number - history];
                    let visibility = Visibility::parse(&answer.visibility)
                        .map_err(|_| anyhow::anyhow!("pinned answer has visibility {:?}", answer.visibility))?;
                    self.add_prompt(member, question, due_at, Some((&answer.text, visibility)), now_ms, rng);
                    continue;
                }
                let question = order[slot_number % order.len()];
                if rng.below(100) < answer_percent {
                    let pool = &pools[question];
                    let text = &pool[next_answer[question] % pool.len()];
                    next_answer[question] += 1;
                    let visibility =
                        if rng.below(100) < ONLY_ME_PERCENT { Visibility::OnlyMe } else { Visibility::Team };
                    self.add_prompt(member, question, due_at, Some((text, visibility)), now_ms, rng);
                } else {
                    // Nothing is left open: the emulator never delivered these, so an open one
                    // would block `/rapport ask` with a question the member cannot see.
                    let status = if rng.below(2) == 0 { PromptStatus::Skipped } else { PromptStatus::Expired };
                    let prompt = self.add_prompt(member, question, due_at, None, now_ms, rng);
                    prompt.status = status;
                }
            }
        }
        Ok(())
    }

    /// Adds a sent prompt and, when `answer` is given, its answer a little later.
    fn add_prompt(
        &mut self,
        member: &members::Member,
        question: usize,
        due_at: i64,
        answer: Option<(&str, Visibility)>,
        now_ms: i64,
        rng: &mut SplitMix64,
    ) -> &mut prompts::Prompt {
        let due_at = due_at + i64::try_from(rng.below(3 * 60)).unwrap_or(0) * 60_000;
        let sent_at = due_at + 2_000;
        let prompt = prompts::Prompt {
            id: new_id(),
            workspace_id: self.workspace.id.clone(),
            member_id: member.id.clone(),
            question_id: self.questions[question].id.clone(),
            due_at,
            sent_at: Some(sent_at),
            slack_message_ts: Some(format!("{}.{:06}", sent_at / 1000, rng.below(1_000_000))),
            status: PromptStatus::Answered,
            created_at: due_at,
            updated_at: sent_at,
            round_date: None,
            attempts: 0,
            next_attempt_at: due_at,
            claimed_by: None,
            claimed_until: None,
            send_started_at: Some(due_at),
            failure_reason: None,
        };
        if let Some((text, visibility)) = answer {
            let delay = i64::try_from(5 + rng.below(5 * 60)).unwrap_or(5) * 60_000;
            let answered_at = (sent_at + delay).min(now_ms - 60_000);
            self.answers.push(answers::Answer {
                id: new_id(),
                workspace_id: self.workspace.id.clone(),
                prompt_id: prompt.id.clone(),
                text: text.to_owned(),
                visibility,
                created_at: answered_at,
                updated_at: answered_at,
            });
        }
        self.prompts.push(prompt);
        let last = self.prompts.len() - 1;
        &mut self.prompts[last]
    }
}

/// A tiny deterministic generator (SplitMix64); the demo needs repeatability, not secrecy.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound` > 0).
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = usize::try_from(self.below(i as u64 + 1)).unwrap_or(0);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        let content: Content = serde_json::from_str(CONTENT).unwrap();
        Plan::new(&content, 1_793_698_200_000).unwrap()
    }

    #[test]
    fn the_demo_has_a_real_team_with_a_few_hundred_answers() {
        let plan = plan();
        let humans = plan.members.iter().filter(|m| !m.is_bot).count();
        assert!(humans >= 25, "{humans} members");
        assert!(plan.packs.len() >= 3);
        assert!((200..=600).contains(&plan.answers.len()), "{} answers", plan.answers.len());
        assert!(plan.answers.iter().any(|a| a.visibility == Visibility::OnlyMe));
    }

    #[test]
    fn members_live_on_several_continents() {
        let plan = plan();
        let mut continents: Vec<&str> =
            plan.members.iter().filter_map(|m| m.time_zone.as_deref()?.split('/').next()).collect();
        continents.sort_unstable();
        continents.dedup();
        assert!(continents.len() >= 4, "{continents:?}");
    }

    #[test]
    fn every_answer_is_in_the_past_and_after_its_prompt() {
        let now = 1_793_698_200_000;
        let plan = plan();
        let sent: HashMap<&str, i64> = plan.prompts.iter().map(|p| (p.id.as_str(), p.sent_at.unwrap())).collect();
        for answer in &plan.answers {
            assert!(answer.created_at < now);
            assert!(answer.created_at > sent[answer.prompt_id.as_str()]);
        }
    }

    #[test]
    fn no_demo_question_is_left_open() {
        assert!(plan().prompts.iter().all(|p| p.status != PromptStatus::Sent));
    }

    #[test]
    fn the_same_now_gives_the_same_answers() {
        let texts =
            |plan: Plan| plan.answers.into_iter().map(|a| (a.text, a.visibility, a.created_at)).collect::<Vec<_>>();
        assert_eq!(texts(plan()), texts(plan()));
    }
}
