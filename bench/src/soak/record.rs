//! What the load sent and got back: every request's outcome by kind, the answers and button
//! presses it made (checked against the database at the end), and the Slack event ids the
//! server acknowledged.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::atomic::{AtomicU64, Ordering},
};

/// Examples kept of each kind of failure: enough to start looking, not a second log.
const EXAMPLES: usize = 5;
/// Characters of a response body kept in an example.
const EXCERPT_CHARS: usize = 200;

/// What became of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    /// The server answered with this HTTP status.
    Status(u16),
    /// Nobody was listening: the connection was refused.
    Refused,
    /// The connection broke, or no answer came within the client's timeout.
    NoAnswer,
}

impl Outcome {
    pub fn is_success(self) -> bool {
        matches!(self, Outcome::Status(200..=299))
    }

    pub fn is_server_error(self) -> bool {
        matches!(self, Outcome::Status(500..=599))
    }

    /// How the report names it.
    pub fn label(self) -> String {
        match self {
            Outcome::Status(status) => status.to_string(),
            Outcome::Refused => "refused".to_owned(),
            Outcome::NoAnswer => "no answer".to_owned(),
        }
    }
}

/// A request's outcome and the body that came with it (the error, when none came).
#[derive(Debug, Clone)]
pub struct Reply {
    pub outcome: Outcome,
    pub body: String,
}

/// Sends `request` and reads the whole answer.
pub async fn send(request: reqwest::RequestBuilder) -> Reply {
    match request.send().await {
        Ok(response) => {
            let outcome = Outcome::Status(response.status().as_u16());
            // A body cut short still came with a status; what arrived is kept.
            let body = response.text().await.unwrap_or_default();
            Reply { outcome, body }
        }
        Err(error) => {
            let outcome = if error.is_connect() { Outcome::Refused } else { Outcome::NoAnswer };
            Reply { outcome, body: format!("{:#}", anyhow::Error::from(error)) }
        }
    }
}

/// Whether the server is meant to be up, counting every change: even while it is up, odd
/// while it is restarting. A request counts as sent to a running server only when the count
/// was the same even number when it started and when it ended.
#[derive(Debug, Default)]
pub struct Availability(AtomicU64);

impl Availability {
    /// The current count, to pass to [`Availability::was_up_throughout`] afterwards.
    pub fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }

    /// The server is about to be stopped.
    pub fn going_down(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    /// The server answers again.
    pub fn back_up(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    pub fn was_up_throughout(&self, since: u64) -> bool {
        since.is_multiple_of(2) && self.now() == since
    }
}

/// One request that went wrong, as an example for the report.
#[derive(Debug, Clone)]
pub struct Failure {
    pub kind: &'static str,
    pub path: String,
    pub outcome: Outcome,
    pub excerpt: String,
}

/// Every request's outcome, by kind (`event message.im (answer)`, `page /people`, ...).
#[derive(Debug, Default)]
pub struct Tally {
    pub by_kind: BTreeMap<&'static str, BTreeMap<Outcome, u64>>,
    /// Requests that got no answer while the server was restarting, by kind: expected, and
    /// not counted in `by_kind`.
    pub during_restart: BTreeMap<&'static str, u64>,
    pub server_errors: u64,
    pub server_error_examples: Vec<Failure>,
    /// Requests refused or left unanswered while the server was meant to be up.
    pub failed_while_up: u64,
    pub failed_while_up_examples: Vec<Failure>,
}

impl Tally {
    /// Counts one request of `kind` to `path`; `while_up` says the server was meant to be up
    /// from its start to its end.
    pub fn record(&mut self, kind: &'static str, path: &str, reply: &Reply, while_up: bool) {
        let answered = matches!(reply.outcome, Outcome::Status(_));
        if !answered && !while_up {
            *self.during_restart.entry(kind).or_default() += 1;
            return;
        }
        *self.by_kind.entry(kind).or_default().entry(reply.outcome).or_default() += 1;
        let failure = || Failure {
            kind,
            path: path.to_owned(),
            outcome: reply.outcome,
            excerpt: reply.body.chars().take(EXCERPT_CHARS).collect(),
        };
        if reply.outcome.is_server_error() {
            self.server_errors += 1;
            keep_example(&mut self.server_error_examples, failure());
        }
        if !answered {
            self.failed_while_up += 1;
            keep_example(&mut self.failed_while_up_examples, failure());
        }
    }

    /// Requests the server answered or was meant to answer (the restart's gap left out).
    pub fn total(&self) -> u64 {
        self.by_kind.values().flat_map(BTreeMap::values).sum()
    }

    pub fn total_during_restart(&self) -> u64 {
        self.during_restart.values().sum()
    }
}

fn keep_example(examples: &mut Vec<Failure>, failure: Failure) {
    if examples.len() < EXAMPLES {
        examples.push(failure);
    }
}

/// How the load gave an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerWay {
    /// A reply in the member's DM with the bot (a `message.im` event, processed later).
    DirectMessage,
    /// The answer modal's submission (a `view_submission`, handled while Slack waits).
    Modal,
}

/// An answer the load gave to a question it saw open.
#[derive(Debug, Clone)]
pub struct AnswerSent {
    /// Unique to this answer and at the start of its text (`[soak-17]`), so the database
    /// shows where it went.
    pub marker: String,
    /// The member's open prompt when the answer was sent.
    pub prompt_id: String,
    pub way: AnswerWay,
    /// The Slack event that carried it, for an answer in the DM.
    pub event_id: Option<String>,
    /// The server acknowledged it (2xx), on the first delivery or the redelivery.
    pub acknowledged: bool,
    /// Delivered a second time with the same event id, as Slack retries.
    pub redelivered: bool,
}

/// A button the load pressed on a question it saw open (Skip, Another question).
#[derive(Debug, Clone)]
pub struct PressSent {
    pub action: &'static str,
    pub prompt_id: String,
    pub acknowledged: bool,
}

/// Everything the load recorded.
#[derive(Debug, Default)]
pub struct Records {
    pub tally: Tally,
    pub answers: Vec<AnswerSent>,
    pub presses: Vec<PressSent>,
    /// Ids of the Slack events the server acknowledged at least once.
    pub acknowledged_events: BTreeSet<String>,
    /// Deliveries repeated with the same event id.
    pub redeliveries: u64,
    /// The load's own troubles (a database read that failed), which cost a step of load.
    pub driver_errors: u64,
    pub driver_error_examples: Vec<String>,
}

impl Records {
    pub fn driver_error(&mut self, error: &anyhow::Error) {
        self.driver_errors += 1;
        if self.driver_error_examples.len() < EXAMPLES {
            self.driver_error_examples.push(format!("{error:#}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(outcome: Outcome) -> Reply {
        Reply { outcome, body: "body".to_owned() }
    }

    #[test]
    fn a_request_unanswered_during_the_restart_is_counted_apart() {
        let mut tally = Tally::default();

        tally.record("page /people", "/people", &reply(Outcome::Refused), false);
        tally.record("page /people", "/people", &reply(Outcome::Status(200)), false);

        assert_eq!(tally.total_during_restart(), 1);
        assert_eq!(tally.total(), 1, "an answer during the restart still counts");
        assert_eq!(tally.failed_while_up, 0);
    }

    #[test]
    fn server_errors_and_refusals_while_up_keep_examples() {
        let mut tally = Tally::default();

        tally.record("command ask", "/slack/commands", &reply(Outcome::Status(503)), true);
        tally.record("command ask", "/slack/commands", &reply(Outcome::Refused), true);

        assert_eq!((tally.server_errors, tally.failed_while_up), (1, 1));
        assert_eq!(tally.server_error_examples[0].outcome, Outcome::Status(503));
        assert_eq!(tally.by_kind["command ask"].len(), 2);
    }

    #[test]
    fn a_request_is_sent_to_a_running_server_only_if_it_stayed_up_throughout() {
        let availability = Availability::default();
        let before = availability.now();
        assert!(availability.was_up_throughout(before));

        availability.going_down();
        let during = availability.now();
        assert!(!availability.was_up_throughout(before), "it went down meanwhile");
        assert!(!availability.was_up_throughout(during));

        availability.back_up();
        assert!(!availability.was_up_throughout(during), "started while it was down");
        assert!(availability.was_up_throughout(availability.now()));
    }
}
