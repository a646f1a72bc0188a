//! The mixed load: a few tasks, each sending one kind of traffic at a steady pace for as long
//! as the run lasts (answers and button presses on the questions the server sent, slash
//! commands, App Home events, and two signed-in browsers), recording what every request got.
//! The server's own scheduler plans the rounds and sends the questions through the emulator;
//! the load sees them open in the database and answers them as the members would.

use std::{
    collections::HashSet,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use anyhow::Context as _;
use app::server::slack::blocks::{ACTION_ANOTHER, ACTION_SKIP};
use rand::{Rng as _, SeedableRng as _, rngs::StdRng, seq::IndexedRandom as _};
use tokio::{task::JoinHandle, time::MissedTickBehavior};

use super::{
    lock,
    observe::{MARKER_PREFIX, Observer, OpenPrompt, Person},
    pages::{self, Browser},
    record::{AnswerSent, AnswerWay, Availability, Outcome, PressSent, Records, Reply},
    slack::{Event, Slack},
};

/// How often each task acts. Together about 20 requests a second, plus the answers and
/// presses, of which there are as many as the server sends questions.
const ANSWER_EVERY: Duration = Duration::from_millis(400);
const COMMAND_EVERY: Duration = Duration::from_millis(500);
const HOME_EVERY: Duration = Duration::from_millis(500);
const BROWSE_EVERY: Duration = Duration::from_millis(125);
/// One in this many answers given in the DM, and App Home events, is delivered twice with
/// the same event id, as Slack retries when an acknowledgement is late.
const REDELIVER_ONE_IN: u32 = 6;
/// Sign-in links asked for before giving up: each is valid ten minutes of the product's
/// clock, well under a second at a high time scale. Two people's tries stay within the
/// server's burst of sign-in starts from one address (10).
const SIGN_IN_TRIES: usize = 4;
/// What the browsers search for: words of the demo's answers, of the load's answers, a name.
const SEARCH_WORDS: [&str; 8] = ["coffee", "weekend", "book", "garden", "music", "soak", "morning walk", "Lena"];
/// What the load's answers say after their marker.
const ANSWER_TEXTS: [&str; 6] = [
    "Coffee on the balcony before anyone else is up.",
    "A long walk with the dog, then music while I cook.",
    "Reading a book in the garden all weekend.",
    "Planning the next trip: trains, maps and far too many tabs.",
    "Learning the guitar, badly but happily.",
    "Morning swims at the lake whenever the weather allows.",
];

/// One task of the load.
enum Worker {
    /// Answers (in the DM or the modal), Skip and Another question on open questions.
    Answers,
    /// `/rapport ask`, `help`, `profile`.
    Commands,
    /// `app_home_opened` events: events that are no answers.
    Home,
    /// A signed-in browser opening pages in turn.
    Browser(Browser),
}

impl Worker {
    fn period(&self) -> Duration {
        match self {
            Worker::Answers => ANSWER_EVERY,
            Worker::Commands => COMMAND_EVERY,
            Worker::Home => HOME_EVERY,
            Worker::Browser(_) => BROWSE_EVERY,
        }
    }
}

/// The load's shared state: how it reaches the server and what it has recorded.
pub struct Load {
    slack: Slack,
    observer: Observer,
    people: Vec<Person>,
    /// Set by whoever stops and starts the server.
    pub availability: Availability,
    records: Mutex<Records>,
    /// Prompts the load has answered or pressed a button on: each gets one reply.
    targeted: Mutex<HashSet<String>>,
    next_marker: AtomicU64,
    running: AtomicBool,
}

impl Load {
    pub fn new(slack: Slack, observer: Observer, people: Vec<Person>) -> Load {
        Load {
            slack,
            observer,
            people,
            availability: Availability::default(),
            records: Mutex::default(),
            targeted: Mutex::default(),
            next_marker: AtomicU64::new(1),
            running: AtomicBool::new(false),
        }
    }

    /// The read-only view of the server's database the load answers from.
    pub fn observer(&self) -> &Observer {
        &self.observer
    }

    /// Signs `browser` in as `user_id` with a link from `/rapport login`, asking again when
    /// a link has expired on the way.
    pub async fn sign_in(&self, browser: &Browser, user_id: &str) -> anyhow::Result<()> {
        for _ in 0..SIGN_IN_TRIES {
            let reply = self.request("command login", "/slack/commands", self.slack.command(user_id, "login")).await;
            let token = pages::link_token(&reply.body)
                .with_context(|| format!("no sign-in link in the reply to /rapport login: {}", reply.body))?;
            let signed_in = self.request("sign-in link", "/login/link/:token", browser.sign_in(&token)).await;
            if signed_in.outcome == Outcome::Status(303) {
                return Ok(());
            }
        }
        anyhow::bail!("{user_id} could not sign in with {SIGN_IN_TRIES} links from /rapport login")
    }

    /// Starts the load's tasks, `browsers` among them.
    pub fn spawn(self: &Arc<Self>, browsers: Vec<Browser>) -> Vec<JoinHandle<()>> {
        self.running.store(true, Ordering::SeqCst);
        let mut workers = vec![Worker::Answers, Worker::Commands, Worker::Home];
        workers.extend(browsers.into_iter().map(Worker::Browser));
        (0_u64..).zip(workers).map(|(seed, worker)| tokio::spawn(work(Arc::clone(self), worker, seed))).collect()
    }

    /// Stops the tasks and waits until each has finished the request in hand.
    pub async fn stop(&self, workers: Vec<JoinHandle<()>>) {
        self.running.store(false, Ordering::SeqCst);
        for worker in workers {
            if let Err(error) = worker.await {
                lock(&self.records).driver_error(&anyhow::anyhow!("a task of the load failed: {error}"));
            }
        }
    }

    /// Everything recorded so far, leaving nothing behind.
    pub fn take_records(&self) -> Records {
        std::mem::take(&mut *lock(&self.records))
    }

    /// Sends one request and counts what it got, and whether the server was meant to be up
    /// all the while.
    async fn request(&self, kind: &'static str, path: &str, sending: impl Future<Output = Reply>) -> Reply {
        let since = self.availability.now();
        let reply = sending.await;
        let while_up = self.availability.was_up_throughout(since);
        lock(&self.records).tally.record(kind, path, &reply, while_up);
        reply
    }

    /// Replies to one open question the load has not replied to yet, if there is one.
    async fn answer_one(&self, rng: &mut StdRng) -> anyhow::Result<()> {
        let open = self.observer.open_prompts().await?;
        let prompt = {
            let mut targeted = lock(&self.targeted);
            let fresh: Vec<&OpenPrompt> =
                open.iter().filter(|p| p.status == "sent" && !targeted.contains(&p.id)).collect();
            let chosen = fresh.choose(rng).copied().cloned();
            if let Some(prompt) = &chosen {
                targeted.insert(prompt.id.clone());
            }
            chosen
        };
        let Some(prompt) = prompt else { return Ok(()) };
        match rng.random_range(0..100_u32) {
            0..65 => self.answer_in_dm(&prompt, rng.random_ratio(1, REDELIVER_ONE_IN)).await,
            65..80 => self.answer_in_modal(&prompt).await,
            80..92 => self.press(&prompt, ACTION_SKIP).await,
            _ => self.press(&prompt, ACTION_ANOTHER).await,
        }
        Ok(())
    }

    async fn answer_in_dm(&self, prompt: &OpenPrompt, redeliver: bool) {
        let (marker, text) = self.new_answer();
        let event = self.slack.direct_message(&prompt.slack_user_id, &text);
        let kinds = ("event message.im (answer)", "event message.im (answer, redelivered)");
        let acknowledged = self.deliver(&event, kinds, redeliver).await;
        lock(&self.records).answers.push(AnswerSent {
            marker,
            prompt_id: prompt.id.clone(),
            way: AnswerWay::DirectMessage,
            event_id: Some(event.id),
            acknowledged,
            redelivered: redeliver,
        });
    }

    async fn answer_in_modal(&self, prompt: &OpenPrompt) {
        let (marker, text) = self.new_answer();
        let submitting = self.slack.submit_answer(&prompt.slack_user_id, &prompt.id, &text);
        let reply = self.request("interaction view_submission (answer)", "/slack/interactions", submitting).await;
        lock(&self.records).answers.push(AnswerSent {
            marker,
            prompt_id: prompt.id.clone(),
            way: AnswerWay::Modal,
            event_id: None,
            acknowledged: reply.outcome.is_success(),
            redelivered: false,
        });
    }

    async fn press(&self, prompt: &OpenPrompt, action: &'static str) {
        let kind = if action == ACTION_SKIP {
            "interaction block_actions (skip)"
        } else {
            "interaction block_actions (another question)"
        };
        let pressing = self.slack.press(&prompt.slack_user_id, action, &prompt.id);
        let reply = self.request(kind, "/slack/interactions", pressing).await;
        lock(&self.records).presses.push(PressSent {
            action,
            prompt_id: prompt.id.clone(),
            acknowledged: reply.outcome.is_success(),
        });
    }

    /// Delivers `event` (kind `kinds.0`), and again when `redeliver` (kind `kinds.1`);
    /// whether the server acknowledged it either time.
    async fn deliver(&self, event: &Event, kinds: (&'static str, &'static str), redeliver: bool) -> bool {
        let first = self.request(kinds.0, "/slack/events", self.slack.deliver(event, 0)).await;
        let mut acknowledged = first.outcome.is_success();
        if redeliver {
            let again = self.request(kinds.1, "/slack/events", self.slack.deliver(event, 1)).await;
            acknowledged |= again.outcome.is_success();
        }
        let mut records = lock(&self.records);
        records.redeliveries += u64::from(redeliver);
        if acknowledged {
            records.acknowledged_events.insert(event.id.clone());
        }
        acknowledged
    }

    /// A new answer's marker, and its text starting with the marker.
    fn new_answer(&self) -> (String, String) {
        let number = self.next_marker.fetch_add(1, Ordering::Relaxed);
        let marker = format!("{MARKER_PREFIX}{number}]");
        let said = ANSWER_TEXTS[usize::try_from(number).unwrap_or_default() % ANSWER_TEXTS.len()];
        let text = format!("{marker} {said}");
        (marker, text)
    }

    /// A `/rapport` command from someone: `ask` when they have no open question (so the
    /// server has questions to send), else any of `ask`, `help` and `profile`.
    async fn command_one(&self, rng: &mut StdRng) -> anyhow::Result<()> {
        let Some(person) = self.people.choose(rng) else { return Ok(()) };
        let open = self.observer.open_prompts().await?;
        let has_open = open.iter().any(|prompt| prompt.slack_user_id == person.slack_user_id);
        let (kind, text) = match (has_open, rng.random_range(0..4_u32)) {
            (false, _) | (true, 0) => ("command ask", "ask".to_owned()),
            (true, 1) => ("command help", "help".to_owned()),
            (true, 2) => ("command profile", "profile".to_owned()),
            (true, _) => {
                let someone = self.people.choose(rng).unwrap_or(person);
                ("command profile @someone", format!("profile <@{}>", someone.slack_user_id))
            }
        };
        self.request(kind, "/slack/commands", self.slack.command(&person.slack_user_id, &text)).await;
        Ok(())
    }

    /// Someone opens the app's Home tab.
    async fn open_home(&self, rng: &mut StdRng) {
        let Some(person) = self.people.choose(rng) else { return };
        let event = self.slack.home_opened(&person.slack_user_id);
        let kinds = ("event app_home_opened", "event app_home_opened (redelivered)");
        self.deliver(&event, kinds, rng.random_ratio(1, REDELIVER_ONE_IN)).await;
    }

    /// `browser` opens the next page of its round (`turn`).
    async fn browse_one(&self, browser: &Browser, turn: usize, rng: &mut StdRng) {
        let visit = browser.visits[turn % browser.visits.len()];
        let member_id = self.people.choose(rng).map_or("", |person| person.id.as_str());
        let words = SEARCH_WORDS.choose(rng).copied().unwrap_or("soak");
        let path = visit.path(member_id, words);
        self.request(visit.kind(), &path, browser.open(visit, &path, words)).await;
    }

    fn is_running(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }
}

/// Runs `worker` at its pace until the load stops. A step that could not be taken (a
/// database read failed) is recorded and the next one comes at its time.
async fn work(load: Arc<Load>, worker: Worker, seed: u64) {
    let mut rng = StdRng::seed_from_u64(0x50a6_0000 + seed);
    let mut ticks = tokio::time::interval(worker.period());
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut turn = 0_usize;
    while load.is_running() {
        ticks.tick().await;
        let step = match &worker {
            Worker::Answers => load.answer_one(&mut rng).await,
            Worker::Commands => load.command_one(&mut rng).await,
            Worker::Home => {
                load.open_home(&mut rng).await;
                Ok(())
            }
            Worker::Browser(browser) => {
                load.browse_one(browser, turn, &mut rng).await;
                Ok(())
            }
        };
        turn += 1;
        if let Err(error) = step {
            lock(&load.records).driver_error(&error);
        }
    }
}
