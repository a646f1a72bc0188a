//! The checks at the end of the run: what the load sent and the server acknowledged, held
//! against what the database and the emulator show once the server has stopped. Each rule
//! is a pure function over those records, so it is tested on its own.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap, HashSet},
    time::Duration,
};

use super::{
    memory::{self, Judged},
    observe::{Doubles, EventRecord, Posted, PromptState, StoredAnswer},
    record::{AnswerSent, PressSent, Records},
    server_log::LogSummary,
};
use crate::server::Stopped;

/// How long a graceful stop may take: the server waits up to 10 s for its background work.
pub const STOP_LIMIT_SECS: f64 = 15.0;
/// Ids, markers or lines listed in a check's details, at most.
const LISTED: usize = 5;

/// Everything the run gathered, for the checks and the report.
pub struct Evidence {
    pub records: Records,
    /// The soak's prompts as they ended.
    pub prompts: Vec<PromptState>,
    pub answers: Vec<StoredAnswer>,
    pub events: Vec<EventRecord>,
    pub doubles: Doubles,
    /// The question messages the emulator received in each half.
    pub posted: [Posted; 2],
    /// The soak's prompts and their statuses when the server stopped half-way.
    pub at_restart: HashMap<String, String>,
    pub memory: [Judged; 2],
    pub log: LogSummary,
    /// The stop half-way and the stop at the end.
    pub stops: [Stopped; 2],
    pub drained: Drained,
}

/// The Slack events waiting in the inbox once the load had stopped.
#[derive(Debug, Clone, Copy)]
pub struct Drained {
    /// When the load stopped.
    pub waiting: i64,
    /// When the server was stopped, after waiting for the inbox.
    pub left: i64,
    pub took: Duration,
}

/// One check's verdict and the numbers behind it.
#[derive(Debug, Clone)]
pub struct Check {
    pub name: &'static str,
    pub passed: bool,
    pub details: String,
}

/// What became of one answer the server acknowledged (see [`answer_fate`] for the rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerFate {
    Stored,
    /// Stored once, on a newer open question of the same member.
    StoredOnNewerQuestion,
    /// Nothing stored, rightly: the question closed before the answer was processed.
    ClosedFirst,
    /// Nothing stored yet: its event still waits in the inbox (the events check fails).
    Waiting,
    /// Nothing stored, though the question stayed open.
    Lost,
    Doubled,
}

/// What became of an answer the server acknowledged, from the prompts the answers carrying
/// its marker are on (`stored_on`), the final status of the question it was sent for,
/// whether its event still waits in the inbox, and whether that question closed only after
/// the app had handled the answer ([`Timeline::closed_after`]).
///
/// One answer found: stored, on that question or on a newer one of the same member (the
/// first closed, by the next round or otherwise, and a new one was sent before the DM was
/// processed; the app answers whatever question is open then). More than one: doubled.
/// None, while its event waits in the inbox: waiting (recorded, not lost; the events check
/// reports it). None otherwise: lost if the question is still open at the end, since it was
/// open when the answer was sent and nothing closed it, or if it closed after the app
/// handled the answer, since it was open then; else the question closed first (expired at
/// the next round, skipped, or answered), and the app rightly stored nothing.
///
/// An answer given in the modal is recorded by its signature, which the load does not keep,
/// so for it only the first rule holds: one lost and then expired by its member's next
/// round would count as closed first.
pub fn answer_fate(
    targeted: &str,
    stored_on: &[&str],
    final_status: Option<&str>,
    waiting: bool,
    closed_after_handling: bool,
) -> AnswerFate {
    match stored_on {
        [only] if *only == targeted => AnswerFate::Stored,
        [_] => AnswerFate::StoredOnNewerQuestion,
        [] if waiting => AnswerFate::Waiting,
        [] if is_open(final_status) || closed_after_handling => AnswerFate::Lost,
        [] => AnswerFate::ClosedFirst,
        _ => AnswerFate::Doubled,
    }
}

/// When things happened, by the product's clock: when each soak question last changed
/// (for a closed one, when it closed) and when the inbox finished processing each Slack
/// event, by event id (written after the event's work is done).
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    pub question_changed: HashMap<String, i64>,
    pub event_processed: HashMap<String, i64>,
}

impl Timeline {
    /// Whether question `prompt_id` last changed after the inbox finished event `event_id`:
    /// it was still open when the answer was handled. Unknown times say no.
    pub fn closed_after(&self, prompt_id: &str, event_id: Option<&str>) -> bool {
        let handled = event_id.and_then(|id| self.event_processed.get(id));
        matches!((self.question_changed.get(prompt_id), handled), (Some(changed), Some(handled)) if changed > handled)
    }
}

/// Open, or unknown (a prompt that vanished would be a loss too).
fn is_open(status: Option<&str>) -> bool {
    matches!(status, None | Some("pending" | "in_flight" | "sent"))
}

/// The answers the load gave, counted by fate.
#[derive(Debug, Clone, Default)]
pub struct AnswerCounts {
    pub sent: usize,
    pub not_acknowledged: usize,
    pub fates: BTreeMap<&'static str, usize>,
    pub lost: Vec<String>,
    pub doubled: Vec<String>,
    /// Answers delivered twice with one event id that are stored exactly once.
    pub redelivered_once: usize,
    pub redelivered: usize,
}

/// Counts the answers `sent` by fate; `waiting` are the ids of the events still in the inbox.
pub fn count_answers(
    sent: &[AnswerSent],
    stored: &[StoredAnswer],
    status: &HashMap<String, String>,
    waiting: &HashSet<&str>,
    timeline: &Timeline,
) -> AnswerCounts {
    let mut by_marker: HashMap<&str, Vec<&str>> = HashMap::new();
    for answer in stored {
        by_marker.entry(answer.marker.as_str()).or_default().push(answer.prompt_id.as_str());
    }
    let mut counts = AnswerCounts { sent: sent.len(), ..AnswerCounts::default() };
    for answer in sent {
        if !answer.acknowledged {
            counts.not_acknowledged += 1;
            continue;
        }
        let stored_on = by_marker.get(answer.marker.as_str()).map(Vec::as_slice).unwrap_or_default();
        let ended = status.get(&answer.prompt_id).map(String::as_str);
        let in_inbox = answer.event_id.as_deref().is_some_and(|id| waiting.contains(id));
        let closed_later = timeline.closed_after(&answer.prompt_id, answer.event_id.as_deref());
        let fate = answer_fate(&answer.prompt_id, stored_on, ended, in_inbox, closed_later);
        *counts.fates.entry(fate_label(fate)).or_default() += 1;
        match fate {
            AnswerFate::Lost => counts.lost.push(answer.marker.clone()),
            AnswerFate::Doubled => counts.doubled.push(answer.marker.clone()),
            _ => {}
        }
        if answer.redelivered {
            counts.redelivered += 1;
            counts.redelivered_once += usize::from(stored_on.len() == 1);
        }
    }
    counts
}

fn fate_label(fate: AnswerFate) -> &'static str {
    match fate {
        AnswerFate::Stored => "stored on its question",
        AnswerFate::StoredOnNewerQuestion => "stored on a newer question",
        AnswerFate::ClosedFirst => "question closed first",
        AnswerFate::Waiting => "still in the inbox",
        AnswerFate::Lost => "lost",
        AnswerFate::Doubled => "doubled",
    }
}

/// The buttons the load pressed (Skip, Another question), counted by what became of their
/// question: an acknowledged press on an open question leaves it skipped, unless it closed
/// first; one still open at the end is a press lost.
///
/// Known gap: a press lost and its question expired by the next round counts as closed
/// first. The rule for DM answers ([`Timeline::closed_after`]) does not carry over: the app
/// records a press as it arrives, before handling it, so a question a round closed while
/// the press was being handled would look open when it was handled, and the press lost.
#[derive(Debug, Clone, Default)]
pub struct PressCounts {
    pub sent: usize,
    pub not_acknowledged: usize,
    pub took_effect: usize,
    pub closed_first: usize,
    pub lost: Vec<String>,
}

/// Counts the presses by what became of their question.
pub fn count_presses(presses: &[PressSent], status: &HashMap<String, String>) -> PressCounts {
    let mut counts = PressCounts { sent: presses.len(), ..PressCounts::default() };
    for press in presses {
        let ended = status.get(&press.prompt_id).map(String::as_str);
        match (press.acknowledged, ended) {
            (false, _) => counts.not_acknowledged += 1,
            (true, Some("skipped")) => counts.took_effect += 1,
            (true, ended) if is_open(ended) => counts.lost.push(press.prompt_id.clone()),
            (true, _) => counts.closed_first += 1,
        }
    }
    counts
}

/// The Slack events the server acknowledged, as the inbox holds them.
#[derive(Debug, Clone, Default)]
pub struct EventCounts {
    pub acknowledged: usize,
    pub missing: Vec<String>,
    pub recorded_twice: Vec<String>,
    pub unprocessed: Vec<String>,
    pub gave_up: Vec<String>,
}

/// Finds each acknowledged event id in the inbox `recorded`.
pub fn count_events(acknowledged: &BTreeSet<String>, recorded: &[EventRecord]) -> EventCounts {
    let mut by_id: HashMap<&str, Vec<&EventRecord>> = HashMap::new();
    for record in recorded {
        by_id.entry(record.id.as_str()).or_default().push(record);
    }
    let mut counts = EventCounts { acknowledged: acknowledged.len(), ..EventCounts::default() };
    for id in acknowledged {
        match by_id.get(id.as_str()).map(Vec::as_slice).unwrap_or_default() {
            [] => counts.missing.push(id.clone()),
            [record] if record.gave_up => counts.gave_up.push(id.clone()),
            [record] if record.processed_at.is_none() => counts.unprocessed.push(id.clone()),
            [_] => {}
            _ => counts.recorded_twice.push(id.clone()),
        }
    }
    counts
}

/// Questions asked or posted more than once.
#[derive(Debug, Clone, Default)]
pub struct PromptCounts {
    pub doubles: Doubles,
    /// Per half, prompts whose question message is in a DM more than once.
    pub posted_twice: [Vec<String>; 2],
    /// Posted in both halves: sent again after the restart. The emulator runs through the
    /// restart and keeps its messages, as Slack does, so even a send under way at the restart
    /// must find its first message (by its metadata) instead of posting another.
    pub posted_again: Vec<String>,
}

impl PromptCounts {
    fn failures(&self) -> usize {
        let doubles = &self.doubles;
        doubles.round_prompts.len()
            + doubles.open_prompts.len()
            + doubles.answers.len()
            + self.posted_twice.iter().map(Vec::len).sum::<usize>()
            + self.posted_again.len()
    }
}

/// Counts doubled rows, and question messages posted twice in a half or in both halves.
pub fn count_prompts(doubles: Doubles, posted: &[Posted; 2]) -> PromptCounts {
    let twice = |half: &Posted| -> Vec<String> {
        let mut ids: Vec<String> =
            half.per_prompt.iter().filter(|(_, count)| **count > 1).map(|(id, _)| id.clone()).collect();
        ids.sort_unstable();
        ids
    };
    let mut posted_again: Vec<String> =
        posted[0].per_prompt.keys().filter(|id| posted[1].per_prompt.contains_key(*id)).cloned().collect();
    posted_again.sort_unstable();
    PromptCounts { doubles, posted_twice: [twice(&posted[0]), twice(&posted[1])], posted_again }
}

/// Runs every check on `evidence`.
pub fn evaluate(evidence: &Evidence) -> Vec<Check> {
    let status: HashMap<String, String> =
        evidence.prompts.iter().map(|prompt| (prompt.id.clone(), prompt.status.clone())).collect();
    let records = &evidence.records;
    let waiting: HashSet<&str> = evidence
        .events
        .iter()
        .filter(|event| event.processed_at.is_none() && !event.gave_up)
        .map(|e| e.id.as_str())
        .collect();
    let timeline = Timeline {
        question_changed: evidence.prompts.iter().map(|prompt| (prompt.id.clone(), prompt.updated_at)).collect(),
        event_processed: evidence
            .events
            .iter()
            .filter_map(|event| Some((event.id.clone(), event.processed_at?)))
            .collect(),
    };
    let answers = count_answers(&records.answers, &evidence.answers, &status, &waiting, &timeline);
    let presses = count_presses(&records.presses, &status);
    let events = count_events(&records.acknowledged_events, &evidence.events);
    let prompts = count_prompts(evidence.doubles.clone(), &evidence.posted);
    vec![
        no_server_errors(records),
        answers_stored_once(&answers),
        presses_took_effect(&presses),
        events_recorded_once(&events, evidence.drained.left),
        no_prompt_doubled(&prompts),
        memory_flat(&evidence.memory[0]),
        memory_flat(&evidence.memory[1]),
        clean_stops(&evidence.stops),
        no_logged_errors(&evidence.log),
    ]
}

fn no_server_errors(records: &Records) -> Check {
    let tally = &records.tally;
    Check {
        name: "No server errors",
        // The soak's own failed database reads count too: a load that could not find open
        // questions would send nothing, and every other check would hold for want of data.
        passed: tally.server_errors == 0 && tally.failed_while_up == 0 && records.driver_errors == 0,
        details: format!(
            "{} responses 5xx of {} requests; {} refused or unanswered while the server was up; {} refused \
             during the restart (expected, not counted); {} of the soak's own database reads failed",
            tally.server_errors,
            tally.total(),
            tally.failed_while_up,
            tally.total_during_restart(),
            records.driver_errors,
        ),
    }
}

fn answers_stored_once(answers: &AnswerCounts) -> Check {
    let fates: Vec<String> = answers.fates.iter().map(|(fate, count)| format!("{count} {fate}")).collect();
    Check {
        name: "Answers stored once",
        // Nothing acknowledged proves nothing.
        passed: answers.sent > answers.not_acknowledged && answers.lost.is_empty() && answers.doubled.is_empty(),
        details: format!(
            "{} sent, {} acknowledged: {}; {} of {} delivered twice stored once{}{}",
            answers.sent,
            answers.sent - answers.not_acknowledged,
            if fates.is_empty() { "none".to_owned() } else { fates.join(", ") },
            answers.redelivered_once,
            answers.redelivered,
            listed("; lost", &answers.lost),
            listed("; doubled", &answers.doubled),
        ),
    }
}

fn presses_took_effect(presses: &PressCounts) -> Check {
    Check {
        name: "Skip and Another question took effect",
        passed: presses.sent > presses.not_acknowledged && presses.lost.is_empty(),
        details: format!(
            "{} pressed, {} acknowledged: {} skipped their question, {} found it closed first, {} lost{}",
            presses.sent,
            presses.sent - presses.not_acknowledged,
            presses.took_effect,
            presses.closed_first,
            presses.lost.len(),
            listed(":", &presses.lost),
        ),
    }
}

fn events_recorded_once(events: &EventCounts, unfinished: i64) -> Check {
    Check {
        name: "Events recorded once and processed",
        passed: events.acknowledged > 0
            && events.missing.is_empty()
            && events.recorded_twice.is_empty()
            && events.unprocessed.is_empty()
            && events.gave_up.is_empty(),
        details: format!(
            "{} event ids acknowledged: {} missing from the inbox, {} recorded twice, {} not processed, {} given up \
             ({} Slack events unfinished in the inbox at the end){}{}{}",
            events.acknowledged,
            events.missing.len(),
            events.recorded_twice.len(),
            events.unprocessed.len(),
            events.gave_up.len(),
            unfinished,
            listed("; missing", &events.missing),
            listed("; not processed", &events.unprocessed),
            listed("; given up", &events.gave_up),
        ),
    }
}

fn no_prompt_doubled(prompts: &PromptCounts) -> Check {
    let doubles = &prompts.doubles;
    Check {
        name: "No question doubled",
        passed: prompts.failures() == 0,
        details: format!(
            "{} members asked twice in one round, {} with two open questions, {} questions answered twice; \
             question messages posted twice: {} in the first half, {} in the second, {} again after the \
             restart",
            doubles.round_prompts.len(),
            doubles.open_prompts.len(),
            doubles.answers.len(),
            prompts.posted_twice[0].len(),
            prompts.posted_twice[1].len(),
            prompts.posted_again.len(),
        ),
    }
}

fn memory_flat(judged: &Judged) -> Check {
    let name = if judged.half == 1 { "Memory flat, first half" } else { "Memory flat, second half" };
    let details = match (judged.early_mib, judged.late_mib, judged.growth_percent()) {
        (Some(early), Some(late), Some(growth)) => format!(
            "{early:.1} MiB after warm-up, {late:.1} MiB at the end: {growth:+.1}% (limit +{:.0}%)",
            memory::MAX_GROWTH_PERCENT
        ),
        _ => format!("not judged: {} readings, too few for a warm-up and two windows", judged.samples),
    };
    Check { name, passed: judged.is_flat(), details }
}

fn clean_stops(stops: &[Stopped; 2]) -> Check {
    let describe = |stop: &Stopped| {
        let how = if stop.killed { "killed after the grace period".to_owned() } else { stop.status.to_string() };
        format!("{:.1} s, {how}", stop.took.as_secs_f64())
    };
    Check {
        name: "Graceful stops (SIGTERM)",
        passed: stops
            .iter()
            .all(|stop| !stop.killed && stop.status.success() && stop.took.as_secs_f64() < STOP_LIMIT_SECS),
        details: format!("half-way: {}; at the end: {}", describe(&stops[0]), describe(&stops[1])),
    }
}

fn no_logged_errors(log: &LogSummary) -> Check {
    let first: Vec<&str> = log.top_errors.iter().map(|message| message.text.as_str()).collect();
    Check {
        name: "No errors in the server log",
        passed: log.errors == 0,
        details: format!(
            "{} lines: {} ERROR, {} WARN, {} not JSON (stderr){}",
            log.lines,
            log.errors,
            log.warnings,
            log.other_lines,
            if first.is_empty() { String::new() } else { format!("; errors: {}", first.join(" / ")) },
        ),
    }
}

/// `label` and the first few `items`, or nothing when there are none.
fn listed(label: &str, items: &[String]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let shown: Vec<&str> = items.iter().take(LISTED).map(String::as_str).collect();
    let more = if items.len() > LISTED { format!(" and {} more", items.len() - LISTED) } else { String::new() };
    format!("{label} {}{more}", shown.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::soak::record::AnswerWay;

    fn statuses(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(id, status)| ((*id).to_owned(), (*status).to_owned())).collect()
    }

    #[test]
    fn an_answer_is_lost_only_if_its_question_stayed_open_and_nothing_was_stored() {
        // Stored on, final status, waiting in the inbox, closed after it was handled; fate.
        type Case<'a> = (&'a [&'a str], Option<&'a str>, bool, bool, AnswerFate);
        let table: [Case; 10] = [
            (&["p1"], Some("answered"), false, false, AnswerFate::Stored),
            (&["p2"], Some("expired"), false, false, AnswerFate::StoredOnNewerQuestion),
            (&[], Some("expired"), false, false, AnswerFate::ClosedFirst),
            (&[], Some("skipped"), false, false, AnswerFate::ClosedFirst),
            (&[], Some("expired"), false, true, AnswerFate::Lost),
            (&[], Some("skipped"), false, true, AnswerFate::Lost),
            (&[], Some("sent"), true, false, AnswerFate::Waiting),
            (&[], Some("sent"), false, false, AnswerFate::Lost),
            (&[], None, false, false, AnswerFate::Lost),
            (&["p1", "p2"], Some("answered"), false, false, AnswerFate::Doubled),
        ];
        for (stored_on, status, waiting, closed_later, expected) in table {
            assert_eq!(
                answer_fate("p1", stored_on, status, waiting, closed_later),
                expected,
                "{stored_on:?} {status:?} {waiting} {closed_later}"
            );
        }
    }

    #[test]
    fn a_question_closed_after_the_app_handled_the_request_was_open_then() {
        let timeline = Timeline {
            question_changed: [("p1", 2_000), ("p2", 1_000)].map(|(id, at)| (id.to_owned(), at)).into(),
            event_processed: [("Ev1", 1_500)].map(|(id, at)| (id.to_owned(), at)).into(),
        };

        assert!(timeline.closed_after("p1", Some("Ev1")), "closed at 2,000, handled at 1,500");
        assert!(!timeline.closed_after("p2", Some("Ev1")), "closed at 1,000, before");
        assert!(!timeline.closed_after("p1", Some("Ev2")), "never handled: unknown");
        assert!(!timeline.closed_after("p1", None), "a modal answer: unknown");
        assert!(!timeline.closed_after("p3", Some("Ev1")), "an unknown question");
    }

    #[test]
    fn unacknowledged_answers_are_not_judged_and_redeliveries_count_once() {
        let sent = |marker: &str, acknowledged: bool, redelivered: bool| AnswerSent {
            marker: marker.to_owned(),
            prompt_id: "p1".to_owned(),
            way: AnswerWay::DirectMessage,
            event_id: Some(format!("Ev{marker}")),
            acknowledged,
            redelivered,
        };
        let stored = [StoredAnswer { marker: "[soak-1]".to_owned(), prompt_id: "p1".to_owned() }];

        let counts = count_answers(
            &[sent("[soak-1]", true, true), sent("[soak-2]", false, false), sent("[soak-3]", true, false)],
            &stored,
            &statuses(&[("p1", "answered")]),
            &HashSet::new(),
            &Timeline::default(),
        );

        assert_eq!((counts.sent, counts.not_acknowledged), (3, 1));
        assert_eq!(counts.fates["stored on its question"], 1);
        assert_eq!(counts.fates["question closed first"], 1, "p1 was answered by [soak-1]");
        assert_eq!((counts.redelivered, counts.redelivered_once), (1, 1));
        assert!(counts.lost.is_empty() && counts.doubled.is_empty());
    }

    #[test]
    fn a_press_is_lost_when_its_question_is_still_open() {
        let press = |prompt_id: &str| PressSent { action: "skip", prompt_id: prompt_id.to_owned(), acknowledged: true };
        let status = statuses(&[("p1", "skipped"), ("p2", "expired"), ("p3", "sent")]);

        let counts = count_presses(&[press("p1"), press("p2"), press("p3")], &status);

        assert_eq!((counts.took_effect, counts.closed_first), (1, 1));
        assert_eq!(counts.lost, ["p3"]);
    }

    #[test]
    fn every_acknowledged_event_must_be_recorded_once_and_processed() {
        let record = |id: &str, processed: bool, gave_up: bool| EventRecord {
            id: id.to_owned(),
            processed_at: processed.then_some(1),
            gave_up,
        };
        let acknowledged: BTreeSet<String> = ["e1", "e2", "e3", "e4"].map(str::to_owned).into();

        let counts = count_events(
            &acknowledged,
            &[record("e1", true, false), record("e2", false, false), record("e3", false, true)],
        );

        assert_eq!(counts.missing, ["e4"]);
        assert_eq!(counts.unprocessed, ["e2"]);
        assert_eq!(counts.gave_up, ["e3"]);
        assert!(counts.recorded_twice.is_empty());
    }

    #[test]
    fn a_question_posted_twice_in_a_half_or_in_both_halves_fails() {
        let posted = |ids: &[(&str, usize)]| Posted {
            messages: ids.len(),
            per_prompt: ids.iter().map(|(id, count)| ((*id).to_owned(), *count)).collect(),
        };
        let halves = [posted(&[("p1", 1), ("p2", 1), ("p3", 2)]), posted(&[("p1", 1), ("p2", 1), ("p4", 1)])];

        let counts = count_prompts(Doubles::default(), &halves);

        assert_eq!(counts.posted_twice[0], ["p3"]);
        assert!(counts.posted_twice[1].is_empty());
        assert_eq!(counts.posted_again, ["p1", "p2"]);
        assert_eq!(counts.failures(), 3);
    }
}
