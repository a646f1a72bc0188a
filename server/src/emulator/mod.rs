//! The Slack emulator: stands in for Slack's Web API when no Slack is configured, so the
//! whole loop works on a laptop and in tests. It keeps a fictional workspace (the demo
//! team), answers the Web API methods Rapport uses with Slack's response shapes and errors,
//! and applies per-method rate limits with HTTP 429 and `Retry-After` as Slack does.

mod deliver;
pub mod openid;
mod page;
pub mod stripe;
mod web_api;

use std::{
    collections::HashMap,
    pin::Pin,
    sync::{Arc, Mutex, MutexGuard, OnceLock},
    time::{Duration, Instant},
};

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
    messages: Vec<PostedMessage>,
    home_views: HashMap<String, Value>,
    modals: Vec<Value>,
    /// The modal each user has open, by user id.
    open_modals: HashMap<String, Value>,
    /// Which user pressed the button that produced a trigger id.
    trigger_users: HashMap<String, String>,
    /// Ephemeral replies to slash commands, by user id, newest last.
    ephemeral: HashMap<String, Vec<String>>,
    /// OAuth codes handed out by the authorize page and not yet exchanged.
    oauth_codes: Vec<IssuedCode>,
    /// A defect for the next ID token handed out (tests of the app's checks).
    bad_id_token: Option<openid::BadIdToken>,
    /// Bumped on every change, so the page can wait for the app's reaction.
    version: u64,
    limits: HashMap<String, u32>,
    calls: HashMap<String, Vec<Instant>>,
    /// Injected trouble, by method: how many next calls fail, and how.
    faults: HashMap<String, (Fault, u32)>,
    /// Channels whose calls answer only after this long.
    slow_channels: HashMap<String, Duration>,
    next_ts: u64,
}

impl Emulator {
    /// An emulator holding the demo team, delivering to the app at `app_url` signed with
    /// `signing_secret`.
    pub fn new(app_url: &str, signing_secret: SigningSecret) -> anyhow::Result<Emulator> {
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
            messages: Vec::new(),
            home_views: HashMap::new(),
            modals: Vec::new(),
            open_modals: HashMap::new(),
            trigger_users: HashMap::new(),
            ephemeral: HashMap::new(),
            oauth_codes: Vec::new(),
            bad_id_token: None,
            version: 0,
            limits: HashMap::new(),
            calls: HashMap::new(),
            faults: HashMap::new(),
            slow_channels: HashMap::new(),
            next_ts: 1,
        };
        Ok(Emulator {
            world: Arc::new(Mutex::new(world)),
            changed: Arc::default(),
            settle: Arc::default(),
            app_url: app_url.to_owned(),
            signing_secret,
            http: reqwest::Client::new(),
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

    /// Every message posted so far, oldest first.
    pub fn messages(&self) -> Vec<PostedMessage> {
        self.world().messages.clone()
    }

    /// The App Home view last published for a user.
    pub fn home_view(&self, user_id: &str) -> Option<Value> {
        self.world().home_views.get(user_id).cloned()
    }

    /// Every modal opened so far, oldest first.
    pub fn modals(&self) -> Vec<Value> {
        self.world().modals.clone()
    }

    /// Limits `method` to `per_minute` calls a minute (Slack's tiers); `0` removes the limit.
    /// Makes the next ID token `openid.connect.token` hands out defective in this way.
    pub fn spoil_next_id_token(&self, defect: openid::BadIdToken) {
        self.world().bad_id_token = Some(defect);
    }

    pub fn set_rate_limit(&self, method: &str, per_minute: u32) {
        let mut world = self.world();
        if per_minute == 0 {
            world.limits.remove(method);
        } else {
            world.limits.insert(method.to_owned(), per_minute);
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
        let window = Duration::from_secs(60);
        let calls = self.calls.entry(method.to_owned()).or_default();
        calls.retain(|at| now.duration_since(*at) < window);
        if calls.len() >= usize::try_from(limit).unwrap_or(usize::MAX) {
            let oldest = calls.first().copied().unwrap_or(now);
            let wait = window.saturating_sub(now.duration_since(oldest)).as_secs().max(1);
            return Some(wait);
        }
        calls.push(now);
        None
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
