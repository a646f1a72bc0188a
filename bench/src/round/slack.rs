//! Slack's Web API for a whole fleet, as a round meets it: each workspace known by its bot
//! token (`fleet::bot_token`), the methods a delivery calls (`chat.postMessage`, and for a
//! retry's lookup `conversations.open` and `conversations.history`) answered in Slack's
//! shapes, and Slack's rate limits applied per workspace and method with HTTP 429 and
//! `Retry-After`. The built-in emulator plays one team with one token; this plays many.
//!
//! Slack's limits, as its rate-limit guide gives them: posting is "1 per second" per
//! channel with short bursts allowed, within a workspace-wide limit whose figure Slack does
//! not publish; here that limit is 60 posts a minute per workspace (one a second, bursts
//! allowed within the minute), the default of [`Limits`]. `conversations.open` and
//! `conversations.history` are Tier 3: 50 a minute. Refused calls do not count against a
//! limit. It runs in the benchmark's process, on the load's core.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use anyhow::Context as _;
use app::server::slack::blocks::{QUESTION_METADATA_EVENT, QUESTION_METADATA_PROMPT};
use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::any,
};
use serde_json::{Map, Value, json};

use crate::fleet::bot_token;

/// The window Slack's per-minute limits count calls over.
const WINDOW: Duration = Duration::from_secs(60);
/// How soon a second message may go to the same channel.
const PER_CHANNEL: Duration = Duration::from_secs(1);

/// Calls a minute per workspace.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `chat.postMessage`, across the workspace's channels.
    pub posts_per_minute: u32,
    /// `conversations.open` and `conversations.history`, each (Tier 3).
    pub lookups_per_minute: u32,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { posts_per_minute: 60, lookups_per_minute: 50 }
    }
}

/// What Slack saw of a round so far.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Every call, refused ones included.
    pub calls: u64,
    /// Calls refused with 429.
    pub rate_limited: u64,
    /// Calls refused otherwise (an unknown token, method or channel).
    pub refused: u64,
    /// Messages posted.
    pub posted: u64,
    /// Questions posted (distinct prompts) and questions posted again for a prompt already posted.
    pub questions: u64,
    pub doubled: u64,
    pub first_post: Option<Instant>,
    pub last_post: Option<Instant>,
    /// For each count of questions asked for at the start, when workspaces reached it.
    pub milestones: Vec<Milestone>,
}

/// How many workspaces have posted `questions` questions so far, and when the latest of them
/// reached it. A workspace's posts past a minute's worth wait for its earlier ones to leave
/// the window, so a round cannot end sooner than a minute after every workspace posted all
/// but its last minute's worth.
#[derive(Debug, Clone, Default)]
pub struct Milestone {
    pub questions: u64,
    pub workspaces: u64,
    pub last_reached: Option<Instant>,
}

/// The fleet's Slack, answering at [`FleetSlack::api_url`] until dropped.
pub struct FleetSlack {
    pub api_url: String,
    world: Arc<Mutex<World>>,
    serving: tokio::task::JoinHandle<()>,
}

impl Drop for FleetSlack {
    fn drop(&mut self) {
        self.serving.abort();
    }
}

impl FleetSlack {
    /// Starts Slack for the teams `team_ids` on a free loopback port, noting when each
    /// workspace reaches each count of questions in `milestones`.
    pub async fn start(
        team_ids: impl IntoIterator<Item = String>,
        limits: Limits,
        milestones: &[u64],
    ) -> anyhow::Result<FleetSlack> {
        let teams = team_ids.into_iter().map(|team| (bot_token(&team), Team::default())).collect();
        let tally = Tally { milestones: milestone_tally(milestones), ..Tally::default() };
        let world = Arc::new(Mutex::new(World { limits, teams, prompts: HashSet::new(), tally }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("binding the fleet's Slack")?;
        let api_url = format!("http://{}/api", listener.local_addr()?);
        let router = Router::new().route("/api/{method}", any(call)).with_state(world.clone());
        let serving = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                eprintln!("rapport-bench: the fleet's Slack stopped: {error}");
            }
        });
        Ok(FleetSlack { api_url, world, serving })
    }

    /// What Slack saw so far.
    pub fn tally(&self) -> Tally {
        lock(&self.world).tally.clone()
    }
}

fn milestone_tally(questions: &[u64]) -> Vec<Milestone> {
    questions.iter().map(|&questions| Milestone { questions, ..Milestone::default() }).collect()
}

fn lock(world: &Mutex<World>) -> MutexGuard<'_, World> {
    world.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

struct World {
    limits: Limits,
    /// By bot token.
    teams: HashMap<String, Team>,
    /// Every prompt whose question was posted, in any workspace.
    prompts: HashSet<String>,
    tally: Tally,
}

/// One workspace's side of Slack.
#[derive(Default)]
struct Team {
    /// When each method was called within the window, oldest first.
    calls: HashMap<&'static str, VecDeque<Instant>>,
    /// When each channel was last posted to.
    last_post: HashMap<String, Instant>,
    /// Questions posted so far.
    questions: u64,
    /// Each DM's messages, oldest first: (ts, the prompt id of its metadata).
    messages: HashMap<String, Vec<(String, Option<String>)>>,
}

impl Team {
    /// Counts a call of `method` against `per_minute`, or returns the seconds to wait.
    fn admit(&mut self, method: &'static str, per_minute: u32, now: Instant) -> Result<(), u64> {
        let calls = self.calls.entry(method).or_default();
        while calls.front().is_some_and(|at| now.duration_since(*at) >= WINDOW) {
            calls.pop_front();
        }
        if calls.len() >= usize::try_from(per_minute).unwrap_or(usize::MAX) {
            let oldest = calls.front().copied().unwrap_or(now);
            return Err(seconds_until(WINDOW.saturating_sub(now.duration_since(oldest))));
        }
        calls.push_back(now);
        Ok(())
    }
}

/// Whole seconds, rounded up, at least one (as `Retry-After` gives them).
fn seconds_until(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// What a call came to: Slack's answer, or a 429 with the seconds to wait.
enum Answer {
    Ok(Value),
    Error(&'static str),
    RateLimited(u64),
}

async fn call(
    State(world): State<Arc<Mutex<World>>>,
    Path(method): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = params(query.as_deref(), &headers, &body);
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let answer = {
        let mut world = lock(&world);
        let answer = world.answer(&method, token, &params, Instant::now());
        let tally = &mut world.tally;
        tally.calls += 1;
        match answer {
            Answer::RateLimited(_) => tally.rate_limited += 1,
            Answer::Error(_) => tally.refused += 1,
            Answer::Ok(_) => {}
        }
        answer
    };
    match answer {
        Answer::Ok(Value::Object(mut fields)) => {
            fields.insert("ok".into(), Value::Bool(true));
            Json(Value::Object(fields)).into_response()
        }
        Answer::Ok(_) => Json(json!({ "ok": true })).into_response(),
        Answer::Error(error) => Json(json!({ "ok": false, "error": error })).into_response(),
        Answer::RateLimited(seconds) => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, seconds.to_string())],
            Json(json!({ "ok": false, "error": "ratelimited" })),
        )
            .into_response(),
    }
}

/// A call's parameters: the query string, then a JSON or form body on top.
fn params(query: Option<&str>, headers: &HeaderMap, body: &[u8]) -> Map<String, Value> {
    let form = |text: &[u8]| {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(text)
            .unwrap_or_default()
            .into_iter()
            .map(|(name, value)| (name, Value::String(value)))
    };
    let mut params: Map<String, Value> = form(query.unwrap_or_default().as_bytes()).collect();
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|kind| kind.starts_with("application/json"));
    if is_json {
        if let Ok(Value::Object(fields)) = serde_json::from_slice(body) {
            params.extend(fields);
        }
    } else {
        params.extend(form(body));
    }
    params
}

impl World {
    fn answer(&mut self, method: &str, token: Option<&str>, params: &Map<String, Value>, now: Instant) -> Answer {
        let limits = self.limits;
        let Some(team) = token.and_then(|token| self.teams.get_mut(token)) else {
            return Answer::Error(if token.is_none() { "not_authed" } else { "invalid_auth" });
        };
        let text = |name: &str| params.get(name).and_then(Value::as_str).unwrap_or_default().to_owned();
        match method {
            "chat.postMessage" => {
                let channel = dm_channel(&text("channel"));
                if channel.is_empty() {
                    return Answer::Error("channel_not_found");
                }
                if team.last_post.get(&channel).is_some_and(|at| now.duration_since(*at) < PER_CHANNEL) {
                    return Answer::RateLimited(1);
                }
                if let Err(wait) = team.admit("chat.postMessage", limits.posts_per_minute, now) {
                    return Answer::RateLimited(wait);
                }
                team.last_post.insert(channel.clone(), now);
                let prompt = prompt_id(params.get("metadata"));
                self.tally.posted += 1;
                let ts =
                    format!("{}.{:06}", 1_700_000_000 + self.tally.posted / 1_000_000, self.tally.posted % 1_000_000);
                team.messages.entry(channel.clone()).or_default().push((ts.clone(), prompt.clone()));
                if let Some(prompt) = prompt {
                    if self.prompts.insert(prompt) {
                        self.tally.questions += 1;
                        team.questions += 1;
                        for milestone in &mut self.tally.milestones {
                            if milestone.questions == team.questions {
                                milestone.workspaces += 1;
                                milestone.last_reached = Some(now);
                            }
                        }
                    } else {
                        self.tally.doubled += 1;
                    }
                }
                self.tally.first_post.get_or_insert(now);
                self.tally.last_post = Some(now);
                Answer::Ok(json!({ "channel": channel, "ts": ts, "message": { "type": "message", "ts": ts } }))
            }
            "conversations.open" => {
                if let Err(wait) = team.admit("conversations.open", limits.lookups_per_minute, now) {
                    return Answer::RateLimited(wait);
                }
                let users = match params.get("users") {
                    Some(Value::Array(users)) => users.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(","),
                    _ => text("users"),
                };
                match users.split(',').collect::<Vec<_>>().as_slice() {
                    [user] if user.starts_with('U') => Answer::Ok(json!({ "channel": { "id": dm_channel(user) } })),
                    _ => Answer::Error("users_list_not_supplied"),
                }
            }
            "conversations.history" => {
                if let Err(wait) = team.admit("conversations.history", limits.lookups_per_minute, now) {
                    return Answer::RateLimited(wait);
                }
                let messages = team.messages.get(&dm_channel(&text("channel"))).map(Vec::as_slice).unwrap_or_default();
                let messages: Vec<Value> =
                    messages.iter().rev().map(|(ts, prompt)| message_json(ts, prompt.as_deref())).collect();
                Answer::Ok(json!({ "messages": messages, "has_more": false }))
            }
            _ => Answer::Error("unknown_method"),
        }
    }
}

/// The DM channel a post to `target` lands in: a user's own DM for a user id.
fn dm_channel(target: &str) -> String {
    match target.strip_prefix('U') {
        Some(_) => format!("D{target}"),
        None => target.to_owned(),
    }
}

/// The prompt id in a question's metadata, if the message is a question.
fn prompt_id(metadata: Option<&Value>) -> Option<String> {
    let metadata = metadata?;
    if metadata.get("event_type").and_then(Value::as_str) != Some(QUESTION_METADATA_EVENT) {
        return None;
    }
    metadata.get("event_payload")?.get(QUESTION_METADATA_PROMPT)?.as_str().map(str::to_owned)
}

fn message_json(ts: &str, prompt: Option<&str>) -> Value {
    let mut message = json!({ "type": "message", "ts": ts, "text": "" });
    if let Some(prompt) = prompt {
        message["metadata"] =
            json!({ "event_type": QUESTION_METADATA_EVENT, "event_payload": { QUESTION_METADATA_PROMPT: prompt } });
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world(limits: Limits) -> World {
        let teams = [(bot_token("T1"), Team::default())].into();
        let tally = Tally { milestones: milestone_tally(&[1, 3, 5]), ..Tally::default() };
        World { limits, teams, prompts: HashSet::new(), tally }
    }

    fn post(world: &mut World, user: &str, prompt: &str, at: Instant) -> Answer {
        let params = json!({
            "channel": user,
            "metadata": { "event_type": QUESTION_METADATA_EVENT, "event_payload": { QUESTION_METADATA_PROMPT: prompt } },
        });
        let Value::Object(params) = params else { unreachable!() };
        world.answer("chat.postMessage", Some(&bot_token("T1")), &params, at)
    }

    #[test]
    fn a_workspace_posts_its_minute_s_worth_then_waits_for_the_oldest_to_leave_the_window() {
        let mut world = world(Limits { posts_per_minute: 3, lookups_per_minute: 50 });
        let start = Instant::now();
        for (n, user) in ["U1", "U2", "U3"].into_iter().enumerate() {
            let at = start + Duration::from_millis(100 * n as u64);
            assert!(matches!(post(&mut world, user, user, at), Answer::Ok(_)), "{user} within the limit");
        }
        let refused = post(&mut world, "U4", "U4", start + Duration::from_millis(20_500));
        assert!(matches!(refused, Answer::RateLimited(40)), "the first post leaves the window 39.5 s later");
        assert!(matches!(post(&mut world, "U4", "U4", start + WINDOW), Answer::Ok(_)), "a minute on, room again");
        assert_eq!((world.tally.posted, world.tally.questions, world.tally.doubled), (4, 4, 0));
        let reached: Vec<_> = world.tally.milestones.iter().map(|m| (m.workspaces, m.last_reached)).collect();
        assert_eq!(reached, [(1, Some(start)), (1, Some(start + Duration::from_millis(200))), (0, None)]);
    }

    #[test]
    fn a_second_post_to_one_channel_within_a_second_is_refused_and_a_repeated_prompt_counted() {
        let mut world = world(Limits::default());
        let start = Instant::now();
        assert!(matches!(post(&mut world, "U1", "p1", start), Answer::Ok(_)));
        assert!(matches!(post(&mut world, "DU1", "p2", start + Duration::from_millis(500)), Answer::RateLimited(1)));
        assert!(matches!(post(&mut world, "DU1", "p1", start + PER_CHANNEL), Answer::Ok(_)));
        assert_eq!((world.tally.questions, world.tally.doubled), (1, 1));
    }

    #[test]
    fn an_unknown_token_is_refused_and_a_lookup_finds_the_posted_question() {
        let mut world = world(Limits::default());
        let no_params = Map::new();
        let unknown = world.answer("chat.postMessage", Some("xoxb-other"), &no_params, Instant::now());
        assert!(matches!(unknown, Answer::Error("invalid_auth")));
        assert!(matches!(post(&mut world, "U7", "p7", Instant::now()), Answer::Ok(_)));
        let Value::Object(params) = json!({ "channel": "DU7" }) else { unreachable!() };
        let Answer::Ok(history) =
            world.answer("conversations.history", Some(&bot_token("T1")), &params, Instant::now())
        else {
            panic!("the history answers");
        };
        assert_eq!(history["messages"][0]["metadata"]["event_payload"][QUESTION_METADATA_PROMPT], "p7");
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(seconds_until(Duration::from_millis(39_500)), 40);
        assert_eq!(seconds_until(Duration::from_secs(2)), 2);
        assert_eq!(seconds_until(Duration::ZERO), 1);
    }
}
