//! What the soak reads beside the server: its SQLite database, opened read-only (WAL mode
//! lets a reader run beside the writer), and the Slack emulator's record of the messages it
//! was sent. The SQL is the soak's own: it asks questions no part of the app asks (doubles,
//! markers), and it must not depend on the code it checks.

use std::collections::HashMap;

use anyhow::Context as _;
use app::server::{
    db::{Db, inbox},
    slack::blocks::{QUESTION_METADATA_EVENT, QUESTION_METADATA_PROMPT},
};
use serde_json::Value;

/// The open statuses of a prompt (the app's `PromptStatus::Pending | InFlight | Sent`).
const OPEN: &str = "('pending', 'in_flight', 'sent')";
/// Every answer the load gives starts with this, then its number and `]`.
pub const MARKER_PREFIX: &str = "[soak-";
/// Messages read per DM: more than the emulator keeps in all (10,000).
const HISTORY_LIMIT: usize = 10_000;

/// A member of the demo team, as the load picks them.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: String,
    pub slack_user_id: String,
    /// An admin of Rapport (in the demo, a Slack admin).
    pub manages: bool,
}

/// A member's open question.
#[derive(Debug, Clone)]
pub struct OpenPrompt {
    pub id: String,
    pub slack_user_id: String,
    /// `sent` once it is in the member's DM; only then can it be answered.
    pub status: String,
}

/// A prompt as it ended.
#[derive(Debug, Clone)]
pub struct PromptState {
    pub id: String,
    pub status: String,
    /// The round it belongs to; `None` when asked on demand.
    pub round_date: Option<String>,
    /// When its status last changed, by the product's clock (for a closed question, when it
    /// closed: nothing changes it after that).
    pub updated_at: i64,
}

/// A Slack event as the inbox recorded it.
#[derive(Debug, Clone)]
pub struct EventRecord {
    pub id: String,
    /// When the inbox finished processing it, by the product's clock (written after the
    /// event's work is done); `None` while it waits.
    pub processed_at: Option<i64>,
    pub gave_up: bool,
}

/// An answer the load gave, found in the database by its marker.
#[derive(Debug, Clone)]
pub struct StoredAnswer {
    pub marker: String,
    pub prompt_id: String,
}

/// Rows that the app's rules say cannot be there more than once, found more than once.
#[derive(Debug, Clone, Default)]
pub struct Doubles {
    /// (member, round date, prompts): one member asked twice in one round.
    pub round_prompts: Vec<(String, String, i64)>,
    /// (member, prompts): a member with more than one open question.
    pub open_prompts: Vec<(String, i64)>,
    /// (prompt, answers): a question answered twice.
    pub answers: Vec<(String, i64)>,
}

/// The question messages the emulator holds, counted by prompt.
#[derive(Debug, Clone, Default)]
pub struct Posted {
    /// Messages read over every member's DM, questions or not.
    pub messages: usize,
    pub per_prompt: HashMap<String, usize>,
}

impl Posted {
    /// What was posted after `earlier`, a reading of the same emulator: the counts it added.
    /// An error when a count went down (the emulator dropped its oldest messages past its
    /// bound), since the difference would then hide doubles.
    pub fn since(&self, earlier: &Posted) -> anyhow::Result<Posted> {
        let mut per_prompt = HashMap::new();
        for (prompt_id, before) in &earlier.per_prompt {
            let now = self.per_prompt.get(prompt_id).copied().unwrap_or_default();
            anyhow::ensure!(now >= *before, "the emulator no longer holds every question message (prompt {prompt_id})");
        }
        for (prompt_id, now) in &self.per_prompt {
            let added = now - earlier.per_prompt.get(prompt_id).copied().unwrap_or_default();
            if added > 0 {
                per_prompt.insert(prompt_id.clone(), added);
            }
        }
        let messages =
            self.messages.checked_sub(earlier.messages).context("the emulator holds fewer messages than before")?;
        Ok(Posted { messages, per_prompt })
    }
}

/// The server's database, read-only.
pub struct Observer {
    db: Db,
}

impl Observer {
    /// Opens the SQLite database at `database_url` (`sqlite://…`) read-only.
    pub async fn open(database_url: &str) -> anyhow::Result<Observer> {
        let read_only = format!("{database_url}?mode=ro");
        let db = Db::connect(&read_only).await.context("opening the soak's database read-only")?;
        Ok(Observer { db })
    }

    /// The demo team's people, bots and deactivated members left out.
    pub async fn people(&self) -> anyhow::Result<Vec<Person>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT id, slack_user_id, CASE WHEN is_admin = 1 OR is_slack_admin = 1 THEN 1 ELSE 0 END
             FROM members WHERE is_bot = 0 AND is_deleted = 0 ORDER BY slack_user_id",
        )
        .fetch_all(self.db.pool())
        .await
        .context("reading the team's members")?;
        Ok(rows
            .into_iter()
            .map(|(id, slack_user_id, manages)| Person { id, slack_user_id, manages: manages == 1 })
            .collect())
    }

    /// Every open question and whose it is.
    pub async fn open_prompts(&self) -> anyhow::Result<Vec<OpenPrompt>> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(&format!(
            "SELECT p.id, m.slack_user_id, p.status FROM prompts p JOIN members m ON m.id = p.member_id
             WHERE p.status IN {OPEN}"
        ))
        .fetch_all(self.db.pool())
        .await
        .context("reading the open questions")?;
        Ok(rows.into_iter().map(|(id, slack_user_id, status)| OpenPrompt { id, slack_user_id, status }).collect())
    }

    /// Inbox items not yet processed or given up (the soak's are all Slack events: commands
    /// and interactions are stored already handled).
    pub async fn unfinished_events(&self) -> anyhow::Result<i64> {
        inbox::count_unfinished(self.db.pool()).await.context("counting the unfinished Slack events")
    }

    /// Every prompt created since `since_ms`: the soak's, not the demo's history (which
    /// lies days in the past, and the product's clock never runs behind the wall clock).
    pub async fn prompts_since(&self, since_ms: i64) -> anyhow::Result<Vec<PromptState>> {
        let rows: Vec<(String, String, Option<String>, i64)> =
            sqlx::query_as("SELECT id, status, round_date, updated_at FROM prompts WHERE created_at >= $1 ORDER BY id")
                .bind(since_ms)
                .fetch_all(self.db.pool())
                .await
                .context("reading the soak's prompts")?;
        Ok(rows
            .into_iter()
            .map(|(id, status, round_date, updated_at)| PromptState { id, status, round_date, updated_at })
            .collect())
    }

    /// The answers whose text starts with a soak marker, with the marker and their prompt.
    pub async fn soak_answers(&self) -> anyhow::Result<Vec<StoredAnswer>> {
        // `[` has no special meaning in LIKE; only `%` and `_` do.
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT text, prompt_id FROM answers WHERE text LIKE $1")
            .bind(format!("{MARKER_PREFIX}%"))
            .fetch_all(self.db.pool())
            .await
            .context("reading the soak's answers")?;
        Ok(rows
            .into_iter()
            .filter_map(|(text, prompt_id)| Some(StoredAnswer { marker: marker_of(&text)?, prompt_id }))
            .collect())
    }

    /// Every Slack event in the inbox.
    pub async fn events(&self) -> anyhow::Result<Vec<EventRecord>> {
        let rows: Vec<(String, Option<i64>, Option<i64>)> =
            sqlx::query_as("SELECT external_id, processed_at, gave_up_at FROM inbox WHERE source = 'slack_event'")
                .fetch_all(self.db.pool())
                .await
                .context("reading the recorded Slack events")?;
        Ok(rows
            .into_iter()
            .map(|(id, processed_at, gave_up_at)| EventRecord { id, processed_at, gave_up: gave_up_at.is_some() })
            .collect())
    }

    /// Prompts and answers there more than once where there may be only one.
    pub async fn doubles(&self) -> anyhow::Result<Doubles> {
        let pool = self.db.pool();
        let round_prompts: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT member_id, round_date, COUNT(*) FROM prompts WHERE round_date IS NOT NULL
             GROUP BY member_id, round_date HAVING COUNT(*) > 1",
        )
        .fetch_all(pool)
        .await
        .context("looking for members asked twice in a round")?;
        let open_prompts: Vec<(String, i64)> = sqlx::query_as(&format!(
            "SELECT member_id, COUNT(*) FROM prompts WHERE status IN {OPEN} GROUP BY member_id HAVING COUNT(*) > 1"
        ))
        .fetch_all(pool)
        .await
        .context("looking for members with two open questions")?;
        let answers: Vec<(String, i64)> =
            sqlx::query_as("SELECT prompt_id, COUNT(*) FROM answers GROUP BY prompt_id HAVING COUNT(*) > 1")
                .fetch_all(pool)
                .await
                .context("looking for questions answered twice")?;
        Ok(Doubles { round_prompts, open_prompts, answers })
    }
}

/// The marker at the start of an answer's text (`[soak-17]`), if it has one.
pub fn marker_of(text: &str) -> Option<String> {
    let number = text.strip_prefix(MARKER_PREFIX)?.split_once(']')?.0;
    (!number.is_empty() && number.bytes().all(|byte| byte.is_ascii_digit()))
        .then(|| format!("{MARKER_PREFIX}{number}]"))
}

/// Counts the question messages in every member's DM, as the emulator at `base_url` holds
/// them (the newest 10,000 messages over all channels).
pub async fn posted_questions(base_url: &str, people: &[Person]) -> anyhow::Result<Posted> {
    let http = reqwest::Client::new();
    let mut posted = Posted::default();
    for person in people {
        let url = format!(
            "{base_url}/emulator/api/conversations.history?channel=D{}&limit={HISTORY_LIMIT}&include_all_metadata=true",
            person.slack_user_id
        );
        let response = http
            .get(url)
            .bearer_auth(server::emulator::BOT_TOKEN)
            .send()
            .await
            .with_context(|| format!("reading the emulator's DM with {}", person.slack_user_id))?;
        let history: Value = serde_json::from_str(&response.text().await?)
            .with_context(|| format!("reading the emulator's answer about {}", person.slack_user_id))?;
        anyhow::ensure!(history["ok"] == true, "the emulator refused conversations.history: {history}");
        let messages = history["messages"].as_array().map(Vec::as_slice).unwrap_or_default();
        posted.messages += messages.len();
        for prompt_id in messages.iter().filter_map(question_of) {
            *posted.per_prompt.entry(prompt_id.to_owned()).or_default() += 1;
        }
    }
    Ok(posted)
}

/// The prompt a message asks, when it is a question (its metadata names the prompt).
fn question_of(message: &Value) -> Option<&str> {
    let metadata = &message["metadata"];
    if metadata["event_type"] != QUESTION_METADATA_EVENT {
        return None;
    }
    metadata["event_payload"][QUESTION_METADATA_PROMPT].as_str()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_marker_is_read_only_from_the_start_of_an_answer() {
        assert_eq!(marker_of("[soak-17] Coffee first."), Some("[soak-17]".to_owned()));
        assert_eq!(marker_of("[soak-] nothing"), None);
        assert_eq!(marker_of("[soak-1x] nothing"), None);
        assert_eq!(marker_of("I said [soak-3]"), None);
    }

    #[test]
    fn what_was_posted_since_a_reading_is_what_each_count_added() {
        let reading = |messages: usize, counts: &[(&str, usize)]| Posted {
            messages,
            per_prompt: counts.iter().map(|(id, count)| ((*id).to_owned(), *count)).collect(),
        };
        let halfway = reading(10, &[("p1", 1), ("p2", 1)]);
        let end = reading(25, &[("p1", 1), ("p2", 2), ("p3", 1)]);

        let second = end.since(&halfway).unwrap();

        assert_eq!(second.messages, 15);
        let mut added: Vec<_> = second.per_prompt.into_iter().collect();
        added.sort();
        assert_eq!(added, [("p2".to_owned(), 1), ("p3".to_owned(), 1)]);
        let dropped = reading(25, &[("p2", 2), ("p3", 1)]);
        assert!(dropped.since(&halfway).is_err(), "p1's message is gone: the emulator dropped old messages");
    }

    #[test]
    fn only_question_messages_name_a_prompt() {
        let question = json!({ "metadata": { "event_type": QUESTION_METADATA_EVENT,
                                             "event_payload": { QUESTION_METADATA_PROMPT: "p1" } } });
        assert_eq!(question_of(&question), Some("p1"));
        assert_eq!(question_of(&json!({ "text": "Thanks!" })), None);
        assert_eq!(question_of(&json!({ "metadata": { "event_type": "other", "event_payload": {} } })), None);
    }
}
