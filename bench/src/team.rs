//! A team at scale for the benchmarks: one workspace with many members and a year of
//! answers, drawn from the demo team's words so that search and insights meet text and
//! numbers like a real team's. The same size gives the same team (a fixed seed).
//!
//! Names are a first name, a middle initial and a last name taken from different demo
//! members (about 23,000 combinations); answers join one or two sentences of the demo's
//! answers to the same question, so the text varies the way a team's does, with common and
//! rare words. Rows go in through the app's own `db` functions (their multi-row inserts),
//! [`ROWS_PER_COMMIT`] to a transaction.

use anyhow::Context as _;
use app::{
    features::answers::types::Visibility,
    server::{
        db::{
            Db, answers, members, packs,
            prompts::{self, PromptStatus},
            questions,
            workspaces::{self, ShareMode, WorkspaceStatus},
        },
        new_id,
    },
};
use rand::{Rng as _, SeedableRng as _, rngs::StdRng, seq::SliceRandom as _};
use sqlx::AnyConnection;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
const MINUTE_MS: i64 = 60 * 1000;
/// The benchmark team's Slack id; no real team has it.
pub const TEAM_ID: &str = "TBENCH0001";
/// How far back the answers go: a year, so every insights period is full.
const HISTORY_DAYS: i64 = 364;
/// Share of answers kept private ("only me"), in percent, as in the demo.
const ONLY_ME_PERCENT: u32 = 8;
/// Rows written in one transaction, as a team's rows arrive over time. Not the whole team in
/// one: triggers keep counts as rows arrive (an answer adds to its question's count and its
/// week's), and PostgreSQL can prune none of the versions of a row that a transaction still
/// open updated, so each update of a count walked further. Measured on PostgreSQL with a
/// statement a row (BENCHMARKS.md, B2): 560 s in one transaction, 198 s in transactions of
/// 5,000 rows; with 100 rows a statement, 135 s on a slower machine.
const ROWS_PER_COMMIT: usize = 5_000;

/// How big a team to make.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub members: usize,
    pub answers: usize,
}

/// What was made: the admin who signs in, and the row counts.
#[derive(Debug, Clone)]
pub struct Team {
    pub workspace_id: String,
    pub admin_member_id: String,
    /// Every member's id, for pages that show one member.
    pub member_ids: Vec<String>,
    pub members: usize,
    pub questions: usize,
    pub prompts: usize,
    pub answers: usize,
    /// Every first and last name used, for queries that find people.
    pub first_names: Vec<String>,
    pub last_names: Vec<String>,
    /// The texts of the answers made, for queries that find words of every frequency.
    pub answer_texts: Vec<String>,
}

/// Writes a team of `size` into an empty, migrated database, its answers spread over the
/// year before `now_ms`. Rounds are switched off, so the server asks nobody while measured.
pub async fn create(db: &Db, size: Size, now_ms: i64) -> anyhow::Result<Team> {
    anyhow::ensure!(size.members > 0, "a team needs members");
    let content = server::demo::content()?;
    let mut rng = StdRng::seed_from_u64(0x7ea4_5ca1_e000_0001);
    let created_at = now_ms - (HISTORY_DAYS + 7) * DAY_MS;
    let workspace = workspace_row(TEAM_ID, "Benchmark & Co", created_at);
    let mut tx = db.begin_write().await?;
    workspaces::insert(&mut *tx, &workspace).await?;

    let first_names = name_parts(&content, |name| name.split_whitespace().next());
    let last_names = name_parts(&content, |name| name.split_whitespace().last());
    let mut team_members = Vec::with_capacity(size.members);
    for number in 0..size.members {
        let person = &content.members[number % content.members.len()];
        let name = format!(
            "{} {}. {}",
            first_names[rng.random_range(0..first_names.len())],
            char::from(b'A' + rng.random_range(0..26_u8)),
            last_names[rng.random_range(0..last_names.len())]
        );
        team_members.push(member_row(&workspace.id, number, name, person, created_at));
    }
    // The first member is the admin who signs in to measure.
    let admin_member_id = team_members[0].id.clone();

    let mut pools = Vec::new();
    let mut question_rows = Vec::new();
    for pack in &content.packs {
        let pack_row = packs::Pack {
            id: new_id(),
            workspace_id: Some(workspace.id.clone()),
            name: pack.name.clone(),
            description: pack.description.clone(),
            kind: packs::PackKind::Regular,
            created_at,
            updated_at: created_at,
        };
        packs::insert(&mut *tx, &pack_row).await?;
        for (position, question) in (1_i64..).zip(&pack.questions) {
            let row = questions::Question {
                id: new_id(),
                pack_id: pack_row.id.clone(),
                text: question.text.clone(),
                position,
                is_disabled: false,
                created_at,
                updated_at: created_at,
            };
            questions::insert(&mut *tx, &row).await?;
            question_rows.push(row);
            pools.push(sentences(&question.answers));
        }
    }

    tx.commit().await.context("committing the benchmark team's workspace and packs")?;
    write_in_chunks(db, "members", &team_members, members::insert_many).await?;

    // Made member by member, written in the order a real team's would have arrived (prompts
    // by when they were asked, answers by when they were given), so the rows lie in the
    // tables as they would after a year of use: the newest together at the end.
    let mut prompt_rows = Vec::new();
    let mut answer_rows = Vec::with_capacity(size.answers);
    for (number, member) in team_members.iter().enumerate() {
        // Answers are shared out evenly; each member has an answer rate of their own.
        let answered = size.answers / size.members + usize::from(number < size.answers % size.members);
        let rate_percent = rng.random_range(45..=95_usize);
        let unanswered = answered * (100 - rate_percent) / rate_percent;
        let mut order: Vec<usize> = (0..question_rows.len()).collect();
        order.shuffle(&mut rng);
        for turn in 0..answered + unanswered {
            let question = order[turn % order.len()];
            let due_at = now_ms - rng.random_range(1..HISTORY_DAYS) * DAY_MS - rng.random_range(0..12 * 60) * MINUTE_MS;
            let sent_at = due_at + 2_000;
            let status = match turn < answered {
                true => PromptStatus::Answered,
                false if rng.random_bool(0.5) => PromptStatus::Skipped,
                false => PromptStatus::Expired,
            };
            let prompt = prompt_row(&workspace.id, &member.id, &question_rows[question].id, due_at, status);
            let prompt_id = prompt.id.clone();
            prompt_rows.push(prompt);
            if status != PromptStatus::Answered {
                continue;
            }
            let text = answer_text(&pools[question], &mut rng);
            let answered_at = sent_at + rng.random_range(1..24 * 60) * MINUTE_MS;
            let visibility = if rng.random_ratio(ONLY_ME_PERCENT, 100) { Visibility::OnlyMe } else { Visibility::Team };
            let answer = answers::Answer {
                id: new_id(),
                workspace_id: workspace.id.clone(),
                prompt_id,
                text,
                visibility,
                created_at: answered_at,
                updated_at: answered_at,
            };
            answer_rows.push(answer);
        }
    }
    prompt_rows.sort_by_key(|prompt| prompt.due_at);
    write_in_chunks(db, "questions asked", &prompt_rows, prompts::insert_many).await?;
    answer_rows.sort_by_key(|answer| answer.created_at);
    write_in_chunks(db, "answers", &answer_rows, answers::insert_many).await?;
    Ok(Team {
        workspace_id: workspace.id,
        admin_member_id,
        member_ids: team_members.iter().map(|member| member.id.clone()).collect(),
        members: team_members.len(),
        questions: question_rows.len(),
        prompts: prompt_rows.len(),
        answers: answer_rows.len(),
        first_names,
        last_names,
        answer_texts: answer_rows.into_iter().map(|answer| answer.text).collect(),
    })
}

/// Writes `rows` with `insert_many`, [`ROWS_PER_COMMIT`] to a transaction.
async fn write_in_chunks<T>(
    db: &Db,
    what: &str,
    rows: &[T],
    insert_many: impl AsyncFn(&mut AnyConnection, &[T]) -> sqlx::Result<()>,
) -> anyhow::Result<()> {
    for chunk in rows.chunks(ROWS_PER_COMMIT) {
        let mut tx = db.begin_write().await?;
        insert_many(&mut tx, chunk).await?;
        tx.commit().await.with_context(|| format!("committing the benchmark team's {what}"))?;
    }
    Ok(())
}

/// A workspace row as an install leaves it, with questions off.
pub(crate) fn workspace_row(slack_team_id: &str, name: &str, created_at: i64) -> workspaces::Workspace {
    workspaces::Workspace {
        id: new_id(),
        slack_team_id: slack_team_id.to_owned(),
        name: name.to_owned(),
        default_time_zone: "Europe/Berlin".to_owned(),
        status: WorkspaceStatus::Active,
        uninstalled_at: None,
        bot_user_id: Some("UBENCHBOT".to_owned()),
        sharing_channel_id: None,
        share_mode: ShareMode::Immediate,
        last_digest_at: None,
        // Nobody is asked while the benchmark runs.
        questions_enabled: false,
        bot_token_ciphertext: None,
        installed_by_slack_user_id: None,
        created_at,
        updated_at: created_at,
        include_guests: false,
        sending_paused_until: None,
        delivery_stopped_reason: None,
    }
}

/// Member `number` of a team, with `person`'s title and time zone; the first is its admin.
pub(crate) fn member_row(
    workspace_id: &str,
    number: usize,
    name: String,
    person: &server::demo::MemberContent,
    created_at: i64,
) -> members::Member {
    members::Member {
        id: new_id(),
        workspace_id: workspace_id.to_owned(),
        slack_user_id: format!("UB{number:08}"),
        name,
        title: person.title.clone(),
        avatar_url: format!("https://avatars.example.com/{number}.png"),
        time_zone: Some(person.time_zone.clone()),
        is_bot: false,
        is_deleted: false,
        is_guest: false,
        is_opted_out: false,
        is_admin: number == 0,
        is_slack_admin: number == 0,
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
}

fn prompt_row(
    workspace_id: &str,
    member_id: &str,
    question_id: &str,
    due_at: i64,
    status: PromptStatus,
) -> prompts::Prompt {
    let sent_at = due_at + 2_000;
    prompts::Prompt {
        id: new_id(),
        workspace_id: workspace_id.to_owned(),
        member_id: member_id.to_owned(),
        question_id: question_id.to_owned(),
        due_at,
        sent_at: Some(sent_at),
        slack_message_ts: Some(format!("{}.{:06}", sent_at / 1000, sent_at % 1_000_000)),
        status,
        created_at: due_at,
        updated_at: sent_at,
        round_date: None,
        attempts: 0,
        next_attempt_at: due_at,
        claimed_by: None,
        claimed_until: None,
        send_started_at: Some(due_at),
        failure_reason: None,
    }
}

/// The distinct name parts `part` picks from the demo members' names, in order.
fn name_parts(content: &server::demo::Content, part: impl Fn(&str) -> Option<&str>) -> Vec<String> {
    let mut parts: Vec<String> = content.members.iter().filter_map(|m| part(&m.name)).map(str::to_owned).collect();
    parts.sort_unstable();
    parts.dedup();
    parts
}

/// The sentences of a question's demo answers, each ending in its own punctuation.
fn sentences(answers: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for answer in answers {
        let mut rest = answer.as_str();
        while let Some(end) = rest.find(['.', '!', '?']).map(|at| at + 1) {
            let sentence = rest[..end].trim();
            if sentence.len() > 1 {
                found.push(sentence.to_owned());
            }
            rest = &rest[end..];
        }
        if !rest.trim().is_empty() {
            found.push(rest.trim().to_owned());
        }
    }
    found
}

/// One sentence of the pool, or two different ones a third of the time.
fn answer_text(pool: &[String], rng: &mut StdRng) -> String {
    let first = rng.random_range(0..pool.len());
    if pool.len() > 1 && rng.random_ratio(1, 3) {
        let second = (first + rng.random_range(1..pool.len())) % pool.len();
        return format!("{} {}", pool[first], pool[second]);
    }
    pool[first].clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_cut_into_sentences_with_their_punctuation() {
        let pool = sentences(&["Coffee first. Then the news! Why not?".to_owned(), "No full stop".to_owned()]);
        assert_eq!(pool, ["Coffee first.", "Then the news!", "Why not?", "No full stop"]);
    }

    #[test]
    fn a_joined_answer_never_repeats_its_sentence() {
        let pool: Vec<String> = ["A.", "B.", "C."].map(str::to_owned).into();
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..200 {
            let text = answer_text(&pool, &mut rng);
            let parts: Vec<&str> = text.split(' ').collect();
            assert!(parts.len() == 1 || parts[0] != parts[1], "{text}");
        }
    }
}
