//! The Slack emulator: stands in for Slack's Web API when no Slack is configured, so the
//! whole loop works on a laptop and in tests. It keeps a fictional workspace (the demo
//! team), answers the Web API methods Rapport uses with Slack's response shapes and errors,
//! and applies per-method rate limits with HTTP 429 and `Retry-After` as Slack does.

mod deliver;
pub mod openid;
mod page;
pub mod stripe;
mod web_api;

pub use page::page_policy;

use std::{
    collections::{HashMap, VecDeque},
    pin::Pin,
    sync::{Arc, Mutex, MutexGuard, OnceLock},
    time::{Duration, Instant},
};

use anyhow::Context as _;
use axum::{
    Router,
    routing::{any, get},
};
use serde_json::Value;

use crate::{demo, slack::verify::SigningSecret};

/// The bot token the emulator accepts; anything else is `invalid_auth`.
pub const BOT_TOKEN: &str = "xoxb-rapport-emulator";
/// The emulated Slack app's OAuth credentials.
pub const CLIENT_ID: &str = "1000000001.emulator";
pub const CLIENT_SECRET: &str = "emulator-client-secret";
/// The emulated workspace's bot user.
pub const BOT_USER_ID: &str = demo::DEMO_BOT_USER_ID;
/// The emulated workspace's channels (id, name) besides the DMs.
pub const CHANNELS: [(&str, &str); 2] = [("CGENERAL01", "general"), ("CSHARING01", "rapport-answers")];

// The emulator runs for as long as the demo does, so everything it keeps is bounded: past a
// limit the oldest goes first, and what tests and the page read is always the newest.

/// Messages kept; tests and the page read recent ones, `conversations.history` pages of 100.
const MAX_MESSAGES: usize = 10_000;
/// Modals kept, as the app opened them.
const MAX_MODALS: usize = 1_000;
/// Ephemeral replies kept per member; the page shows the last three.
const MAX_REPLIES_PER_USER: usize = 100;
/// Members whose ephemeral replies are kept; the member first replied to goes first.
const MAX_REPLY_USERS: usize = 10_000;
/// Trigger ids remembered (Slack's expire after 3 seconds).
const MAX_TRIGGERS: usize = 10_000;
/// OAuth codes handed out and not yet exchanged (Slack's expire after 10 minutes).
const MAX_OAUTH_CODES: usize = 1_000;
/// The window of the per-method rate limits: calls older than this no longer count.
const RATE_LIMIT_WINDOW: Duration = Duration::from_secs(60);

/// How long one delivery to the app may take, answer included: far more than Slack's own
/// 3 s, so a slow test machine passes, yet a stuck app cannot hold a form post or a test.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long connecting to the app may take; it listens on this machine, so this is ample.
const DELIVERY_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A message the app posted, as the emulator keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct PostedMessage {
    pub channel: String,
    pub ts: String,
    pub text: String,
    pub blocks: Value,
    /// The message's metadata (`event_type`, `event_payload`), `Null` when it has none.
    pub metadata: Value,
}

/// A one-time code from the authorize page: who approved, and the sign-in nonce if any.
#[derive(Debug, Clone)]
struct IssuedCode {
    code: String,
    user_id: String,
    nonce: Option<String>,
}

/// A fake member of the emulated workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmulatedUser {
    pub id: String,
    pub name: String,
    pub title: String,
    pub time_zone: String,
    /// Deactivated: still listed, but messages to them are refused.
    pub deleted: bool,
    /// A workspace admin in Slack (so an admin of Rapport).
    pub is_admin: bool,
}

/// Waits until the app has finished reacting to what the emulator sent it.
pub type SettleHook = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// The emulator; cheap to clone, all clones share one workspace.
#[derive(Clone)]
pub struct Emulator {
    world: Arc<Mutex<World>>,
    /// Notified whenever the emulated Slack changes.
    changed: Arc<tokio::sync::Notify>,
    /// How the page waits for the app to settle, set once by start-up.
    settle: Arc<OnceLock<SettleHook>>,
    /// Where the app under emulation listens (no trailing slash), and the secret it checks.
    app_url: String,
    /// Where the emulator itself answers (no trailing slash): the app's own URL when it is
    /// mounted there.
    own_url: String,
    signing_secret: SigningSecret,
    http: reqwest::Client,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator").field("app_url", &self.app_url).finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct World {
    team_id: String,
    team_name: String,
    users: Vec<EmulatedUser>,
    messages: VecDeque<PostedMessage>,
    home_views: HashMap<String, Value>,
    modals: VecDeque<Value>,
    /// The modal each user has open, by user id.
    open_modals: HashMap<String, Value>,
    /// Which user pressed the button that produced a trigger id.
    trigger_users: Recent<String>,
    /// Ephemeral replies to slash commands, by user id, newest last.
    ephemeral: Recent<VecDeque<String>>,
    /// OAuth codes handed out by the authorize page and not yet exchanged, oldest first.
    oauth_codes: VecDeque<IssuedCode>,
    /// A defect for the next ID token handed out (tests of the app's checks).
    bad_id_token: Option<openid::BadIdToken>,
    /// Bumped on every change, so the page can wait for the app's reaction.
    version: u64,
    limits: HashMap<String, u32>,
    /// When each rate-limited method was called within the window, oldest first; pruned on
    /// every call, so never longer than the method's limit.
    calls: HashMap<String, Vec<Instant>>,
    /// Injected trouble, by method: how many next calls fail, and how.
    faults: HashMap<String, (Fault, u32)>,
    /// Channels whose calls answer only after this long.
    slow_channels: HashMap<String, Duration>,
    next_ts: u64,
}

impl Emulator {
    /// An emulator holding the demo team, answering at `own_url` and delivering to the app at
    /// `app_url` signed with `signing_secret`.
    pub fn new(app_url: &str, own_url: &str, signing_secret: SigningSecret) -> anyhow::Result<Emulator> {
        let content = demo::content()?;
        let users = content
            .members
            .iter()
            .map(|m| EmulatedUser {
                id: m.slack_user_id.clone(),
                name: m.name.clone(),
                title: m.title.clone(),
                time_zone: m.time_zone.clone(),
                deleted: false,
                is_admin: m.is_admin,
            })
            .collect();
        let world = World {
            team_id: content.workspace.slack_team_id.clone(),
            team_name: content.workspace.name.clone(),
            users,
            messages: VecDeque::new(),
            home_views: HashMap::new(),
            modals: VecDeque::new(),
            open_modals: HashMap::new(),
            trigger_users: Recent::new(MAX_TRIGGERS),
            ephemeral: Recent::new(MAX_REPLY_USERS),
            oauth_codes: VecDeque::new(),
            bad_id_token: None,
            version: 0,
            limits: HashMap::new(),
            calls: HashMap::new(),
            faults: HashMap::new(),
            slow_channels: HashMap::new(),
            next_ts: 1,
        };
        let http = reqwest::Client::builder()
            .timeout(DELIVERY_TIMEOUT)
            .connect_timeout(DELIVERY_CONNECT_TIMEOUT)
            .build()
            .context("building the Slack emulator's delivery client")?;
        Ok(Emulator {
            world: Arc::new(Mutex::new(world)),
            changed: Arc::default(),
            settle: Arc::default(),
            app_url: app_url.to_owned(),
            own_url: own_url.to_owned(),
            signing_secret,
            http,
        })
    }

    /// The Web API under `/emulator/api/{method}`, the sign-in key set under
    /// `/emulator/openid/connect/keys` and the browser page under `/emulator`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/emulator/api/{method}", any(web_api::call))
            .route("/emulator/openid/connect/keys", get(openid::keys))
            .merge(page::routes())
            .with_state(self.clone())
    }

    /// The emulated workspace's Slack team id.
    pub fn team_id(&self) -> String {
        self.world().team_id.clone()
    }

    /// The emulated workspace's name.
    pub fn team_name(&self) -> String {
        self.world().team_name.clone()
    }

    pub fn users(&self) -> Vec<EmulatedUser> {
        self.world().users.clone()
    }

    /// The messages posted so far (the newest 10,000), oldest first.
    pub fn messages(&self) -> Vec<PostedMessage> {
        self.world().messages.iter().cloned().collect()
    }

    /// The App Home view last published for a user.
    pub fn home_view(&self, user_id: &str) -> Option<Value> {
        self.world().home_views.get(user_id).cloned()
    }

    /// The modals opened so far (the newest 1,000), oldest first.
    pub fn modals(&self) -> Vec<Value> {
        self.world().modals.iter().cloned().collect()
    }

    /// Makes the next ID token `openid.connect.token` hands out defective in this way.
    pub fn spoil_next_id_token(&self, defect: openid::BadIdToken) {
        self.world().bad_id_token = Some(defect);
    }

    /// Limits `method` to `per_minute` calls a minute (Slack's tiers); `0` removes the limit.
    pub fn set_rate_limit(&self, method: &str, per_minute: u32) {
        let mut world = self.world();
        if per_minute == 0 {
            world.limits.remove(method);
            world.calls.remove(method);
        } else {
            world.limits.insert(method.to_owned(), per_minute);
        }
    }

    /// Applies each `(method, calls a minute)` of `limits` as [`Emulator::set_rate_limit`] does.
    pub fn set_rate_limits(&self, limits: &[(String, u32)]) {
        for (method, per_minute) in limits {
            self.set_rate_limit(method, *per_minute);
        }
    }

    /// Makes the next `calls` calls of `method` go wrong as `fault` says (tests and demos of
    /// Slack having a bad day).
    pub fn inject_fault(&self, method: &str, fault: Fault, calls: u32) {
        self.world().faults.insert(method.to_owned(), (fault, calls));
    }

    /// Adds someone to the emulated workspace, as when they join it; returns their user
    /// object as Slack's `team_join` event carries it.
    pub fn join_user(&self, user: EmulatedUser) -> Value {
        let mut world = self.world();
        let json = web_api::user_json(&world.team_id, &user);
        world.users.push(user);
        drop(world);
        self.bump();
        json
    }

    /// Makes every call naming `channel` (a channel id or user id, as the app sends it)
    /// answer only after `delay`, as a Slack having a slow day for one workspace.
    pub fn slow_down_channel(&self, channel: &str, delay: Duration) {
        self.world().slow_channels.insert(channel.to_owned(), delay);
    }

    /// Deactivates a member, as an admin does in Slack: listed as deleted, and messages to
    /// their DM are refused with `is_archived`.
    pub fn deactivate_user(&self, user_id: &str) {
        let mut world = self.world();
        if let Some(user) = world.users.iter_mut().find(|u| u.id == user_id) {
            user.deleted = true;
        }
        drop(world);
        self.bump();
    }

    /// Sets how to wait for the app to finish reacting (start-up: until its inbox is
    /// drained). Only the first hook counts.
    pub fn when_settled(&self, hook: SettleHook) {
        let _ = self.settle.set(hook);
    }

    /// Waits up to `limit` for the emulated Slack to change from `version`, then for the
    /// app to settle.
    pub async fn wait_for_reaction(&self, version: u64, limit: Duration) {
        let changed = self.changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        if self.version() == version {
            let _ = tokio::time::timeout(limit, changed).await;
        }
        if let Some(settle) = self.settle.get() {
            let _ = tokio::time::timeout(limit, settle()).await;
        }
    }

    /// Records a change and wakes whoever waits for one.
    fn bump(&self) {
        self.world().version += 1;
        self.changed.notify_waiters();
    }

    fn world(&self) -> MutexGuard<'_, World> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.world.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Trouble the emulator can be told to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 500 before doing anything.
    ServerError,
    /// The call takes effect, then the answer is lost (HTTP 500): the app cannot know the
    /// message was posted, as after a timeout.
    LoseAnswer,
    /// The call takes effect and is answered with HTTP 200, but the JSON arrives cut short
    /// (its last byte lost): the app cannot read it, though it may hold a token
    /// (`oauth.v2.access` answers with the bot token).
    CutShort,
}

impl World {
    /// Counts down an injected fault for `method`, returning it while it lasts.
    fn take_fault(&mut self, method: &str) -> Option<Fault> {
        let (fault, left) = self.faults.get_mut(method)?;
        let fault = *fault;
        *left -= 1;
        if *left == 0 {
            self.faults.remove(method);
        }
        Some(fault)
    }

    /// Counts a call; returns the seconds to wait when `method` is over its limit.
    fn throttle(&mut self, method: &str, now: Instant) -> Option<u64> {
        let limit = *self.limits.get(method)?;
        let calls = self.calls.entry(method.to_owned()).or_default();
        calls.retain(|at| now.duration_since(*at) < RATE_LIMIT_WINDOW);
        if calls.len() >= usize::try_from(limit).unwrap_or(usize::MAX) {
            let oldest = calls.first().copied().unwrap_or(now);
            let wait = RATE_LIMIT_WINDOW.saturating_sub(now.duration_since(oldest)).as_secs().max(1);
            return Some(wait);
        }
        calls.push(now);
        None
    }

    /// Keeps a message the app posted, forgetting the oldest past [`MAX_MESSAGES`].
    fn keep_message(&mut self, message: PostedMessage) {
        push_bounded(&mut self.messages, message, MAX_MESSAGES);
    }

    /// Keeps a modal the app opened, forgetting the oldest past [`MAX_MODALS`].
    fn keep_modal(&mut self, modal: Value) {
        push_bounded(&mut self.modals, modal, MAX_MODALS);
    }

    /// Keeps an ephemeral reply to `user_id`, forgetting their oldest past
    /// [`MAX_REPLIES_PER_USER`].
    fn keep_reply(&mut self, user_id: &str, reply: String) {
        push_bounded(self.ephemeral.entry_or_default(user_id), reply, MAX_REPLIES_PER_USER);
    }

    /// Remembers that `trigger` came from `user_id`, forgetting the oldest past [`MAX_TRIGGERS`].
    fn keep_trigger(&mut self, trigger: &str, user_id: &str) {
        *self.trigger_users.entry_or_default(trigger) = user_id.to_owned();
    }

    /// Keeps a code until it is exchanged, forgetting the oldest past [`MAX_OAUTH_CODES`].
    fn keep_code(&mut self, code: IssuedCode) {
        push_bounded(&mut self.oauth_codes, code, MAX_OAUTH_CODES);
    }

    /// A message timestamp in Slack's `seconds.micros` form, unique and increasing.
    fn new_ts(&mut self) -> String {
        let seconds = chrono::Utc::now().timestamp();
        let ts = format!("{seconds}.{:06}", self.next_ts);
        self.next_ts += 1;
        ts
    }

    fn user(&self, id: &str) -> Option<&EmulatedUser> {
        self.users.iter().find(|u| u.id == id)
    }

    /// The user whose DM with the bot `channel` is.
    fn dm_user(&self, channel: &str) -> Option<&EmulatedUser> {
        channel.strip_prefix('D').and_then(|user| self.user(user))
    }

    /// The channel a message to `target` lands in: a user id means their DM with the bot.
    fn resolve_channel(&self, target: &str) -> Option<String> {
        if self.user(target).is_some() {
            return Some(format!("D{target}"));
        }
        if let Some(user) = target.strip_prefix('D').filter(|user| self.user(user).is_some()) {
            return Some(format!("D{user}"));
        }
        CHANNELS.iter().find(|(id, _)| *id == target).map(|(id, _)| (*id).to_owned())
    }
}

/// Adds `item` to the back of `queue`, dropping the oldest from the front past `limit`;
/// both emulators keep their records so.
pub(crate) fn push_bounded<T>(queue: &mut VecDeque<T>, item: T, limit: usize) {
    queue.push_back(item);
    while queue.len() > limit {
        queue.pop_front();
    }
}

/// A map by id that keeps its newest `limit` keys: adding one more forgets the key that was
/// added first.
#[derive(Debug)]
struct Recent<V> {
    values: HashMap<String, V>,
    /// The keys, oldest first.
    order: VecDeque<String>,
    limit: usize,
}

impl<V: Default> Recent<V> {
    fn new(limit: usize) -> Recent<V> {
        Recent { values: HashMap::new(), order: VecDeque::new(), limit }
    }

    fn get(&self, key: &str) -> Option<&V> {
        self.values.get(key)
    }

    /// The value under `key`, a default one added (and the oldest key forgotten past the
    /// limit) when there is none.
    fn entry_or_default(&mut self, key: &str) -> &mut V {
        if !self.values.contains_key(key) {
            self.order.push_back(key.to_owned());
            let excess = self.order.len().saturating_sub(self.limit);
            for oldest in self.order.drain(..excess) {
                self.values.remove(&oldest);
            }
        }
        self.values.entry(key.to_owned()).or_default()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn emulator() -> Emulator {
        Emulator::new("http://127.0.0.1:9", "http://127.0.0.1:9", SigningSecret::new("test-signing-secret")).unwrap()
    }

    fn message(n: usize) -> PostedMessage {
        PostedMessage {
            channel: "CGENERAL01".to_owned(),
            ts: format!("1.{n:06}"),
            text: format!("message {n}"),
            blocks: json!([]),
            metadata: Value::Null,
        }
    }

    #[test]
    fn past_its_limit_the_emulator_forgets_its_oldest_messages() {
        let emulator = emulator();

        let mut world = emulator.world();
        for n in 0..=MAX_MESSAGES {
            world.keep_message(message(n));
        }
        drop(world);

        let messages = emulator.messages();
        assert_eq!(messages.len(), MAX_MESSAGES);
        assert_eq!(messages[0].text, "message 1", "the oldest went");
        assert_eq!(messages[MAX_MESSAGES - 1].text, format!("message {MAX_MESSAGES}"), "the newest is last");
    }

    #[test]
    fn past_its_limit_the_emulator_forgets_its_oldest_modals() {
        let emulator = emulator();

        let mut world = emulator.world();
        for n in 0..=MAX_MODALS {
            world.keep_modal(json!({ "type": "modal", "n": n }));
        }
        drop(world);

        let modals = emulator.modals();
        assert_eq!(modals.len(), MAX_MODALS);
        assert_eq!(modals[0]["n"], 1, "the oldest went");
        assert_eq!(modals[MAX_MODALS - 1]["n"], MAX_MODALS);
    }

    #[test]
    fn past_their_limits_ephemeral_replies_forget_the_oldest_reply_then_the_oldest_member() {
        let emulator = emulator();

        let mut world = emulator.world();
        for n in 0..=MAX_REPLIES_PER_USER {
            world.keep_reply("UFIRST", format!("reply {n}"));
        }
        drop(world);
        let replies = emulator.ephemeral_replies("UFIRST");
        assert_eq!(replies.len(), MAX_REPLIES_PER_USER);
        assert_eq!(replies[0], "reply 1", "their oldest reply went");

        let mut world = emulator.world();
        for n in 1..=MAX_REPLY_USERS {
            world.keep_reply(&format!("U{n}"), "hi".to_owned());
        }
        drop(world);
        assert!(emulator.ephemeral_replies("UFIRST").is_empty(), "the member first replied to went");
        assert_eq!(emulator.ephemeral_replies("U1"), ["hi"]);
        assert_eq!(emulator.ephemeral_replies(&format!("U{MAX_REPLY_USERS}")), ["hi"]);
    }

    #[test]
    fn past_its_limit_the_emulator_forgets_its_oldest_trigger_ids() {
        let emulator = emulator();
        let mut world = emulator.world();

        for n in 0..=MAX_TRIGGERS {
            world.keep_trigger(&format!("{n}.emulator"), "UDEMO001");
        }

        assert_eq!(world.trigger_users.get("0.emulator"), None, "the oldest went");
        assert_eq!(world.trigger_users.get("1.emulator").map(String::as_str), Some("UDEMO001"));
        assert_eq!(world.trigger_users.get(&format!("{MAX_TRIGGERS}.emulator")).map(String::as_str), Some("UDEMO001"));
        assert_eq!((world.trigger_users.values.len(), world.trigger_users.order.len()), (MAX_TRIGGERS, MAX_TRIGGERS));
    }

    #[test]
    fn a_key_set_again_keeps_its_place_in_line_to_be_forgotten() {
        let mut triggers: Recent<String> = Recent::new(2);

        *triggers.entry_or_default("a") = "U1".to_owned();
        *triggers.entry_or_default("b") = "U2".to_owned();
        *triggers.entry_or_default("a") = "U3".to_owned();
        *triggers.entry_or_default("c") = "U4".to_owned();

        assert_eq!(triggers.get("a"), None, "added first, so forgotten first");
        assert_eq!(triggers.get("b").map(String::as_str), Some("U2"));
        assert_eq!(triggers.get("c").map(String::as_str), Some("U4"));
    }

    #[test]
    fn past_its_limit_the_emulator_forgets_its_oldest_unexchanged_oauth_codes() {
        let emulator = emulator();

        let codes: Vec<String> = (0..=MAX_OAUTH_CODES).map(|_| emulator.issue_oauth_code("UDEMO001", None)).collect();

        let world = emulator.world();
        let kept: Vec<&str> = world.oauth_codes.iter().map(|issued| issued.code.as_str()).collect();
        assert_eq!(kept.len(), MAX_OAUTH_CODES);
        assert!(!kept.contains(&codes[0].as_str()), "the oldest went");
        assert_eq!(kept[0], codes[1]);
        assert_eq!(kept[MAX_OAUTH_CODES - 1], codes[MAX_OAUTH_CODES]);
    }

    #[test]
    fn rate_limited_calls_are_remembered_only_within_the_window() {
        let emulator = emulator();
        emulator.set_rate_limit("chat.postMessage", 2);
        let start = Instant::now();
        let later = start + RATE_LIMIT_WINDOW;

        let mut world = emulator.world();
        let in_window = [start, start, start].map(|at| world.throttle("chat.postMessage", at).is_some());
        let after_window = world.throttle("chat.postMessage", later);
        let remembered = world.calls["chat.postMessage"].clone();
        drop(world);
        emulator.set_rate_limit("chat.postMessage", 0);

        assert_eq!(in_window, [false, false, true], "the third call is over the limit");
        assert_eq!(after_window, None, "a window later the limit is free again");
        assert_eq!(remembered, [later], "the calls before the window are forgotten");
        assert!(!emulator.world().calls.contains_key("chat.postMessage"), "no limit, no calls kept");
    }
}
