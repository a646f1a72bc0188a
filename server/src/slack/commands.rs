//! `/slack/commands`: the `/rapport` slash command. Every reply is ephemeral (only the
//! member who typed the command sees it). Each subcommand is parsed here and answered by
//! one service; a replayed request is ignored.

use app::{
    AppError,
    server::{
        AppState,
        services::{
            actions, asking,
            inbox::{self, Source},
            members::{self as roster, Member, Sender},
            people, sign_in,
        },
        slack::blocks,
        viewer::Viewer,
    },
};
use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use chrono::{NaiveDate, NaiveTime};
use serde::Deserialize;

use super::request::SlackRequest;

const HELP: &str = "*Rapport* asks you a light question now and then.\n\
• `/rapport ask`: get a question now\n\
• `/rapport profile [@someone]`: see someone's latest answers\n\
• `/rapport pause [until YYYY-MM-DD]`: take a break from questions\n\
• `/rapport resume`: get questions again\n\
• `/rapport login`: a link that signs you in to the dashboard\n\
• `/rapport help`: this message";

/// How many answers `/rapport profile` shows.
const PROFILE_ANSWERS: usize = 3;

/// The fields of Slack's form-encoded slash command that Rapport reads.
#[derive(Debug, Deserialize)]
struct CommandForm {
    team_id: String,
    user_id: String,
    #[serde(default)]
    text: String,
    trigger_id: Option<String>,
}

impl CommandForm {
    /// Reads the form Slack posts; `None` when it is not one or lacks `team_id` or `user_id`.
    fn read(body: &[u8]) -> Option<CommandForm> {
        serde_urlencoded::from_bytes(body).ok()
    }
}

/// A `/rapport` subcommand: the first word of the command's text, in any letter case, names
/// it; anything else (or nothing) asks for help.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Command<'a> {
    Ask,
    /// `profile`, with the word after it (a mention, read by [`mentioned_user_id`]).
    Profile(Option<&'a str>),
    /// `pause`, with the words after it.
    Pause(Vec<&'a str>),
    Resume,
    Login,
    Help,
}

impl<'a> Command<'a> {
    fn parse(text: &'a str) -> Command<'a> {
        let mut words = text.split_whitespace();
        match words.next().map(str::to_ascii_lowercase).as_deref() {
            Some("ask") => Command::Ask,
            Some("profile") => Command::Profile(words.next()),
            Some("pause") => Command::Pause(words.collect()),
            Some("resume") => Command::Resume,
            Some("login") => Command::Login,
            _ => Command::Help,
        }
    }
}

/// Receives one `/rapport` command.
#[tracing::instrument(name = "POST /slack/commands", skip_all)]
pub async fn receive(State(state): State<AppState>, request: SlackRequest) -> Response {
    let Some(form) = CommandForm::read(&request.body) else {
        tracing::warn!("refused a signed slash command without team_id or user_id");
        return (StatusCode::BAD_REQUEST, "missing team_id or user_id").into_response();
    };
    let request_id = form.trigger_id.as_deref().unwrap_or(&request.signature);
    let reply = match inbox::record_handled(&state, Source::SlackCommand, request_id, "rapport").await {
        Ok(true) => run(&state, &form).await,
        Ok(false) => {
            tracing::warn!("ignored a replayed slash command");
            Ok("This command was already handled.".to_owned())
        }
        Err(error) => Err(error),
    };
    let reply = reply.unwrap_or_else(|error| {
        let reference = AppError::log_with_reference(error);
        format!("Sorry, something went wrong on our side (reference {reference}). Please try again.")
    });
    Json(serde_json::json!({ "response_type": "ephemeral", "text": reply })).into_response()
}

async fn run(state: &AppState, form: &CommandForm) -> anyhow::Result<String> {
    let now = state.now_ms();
    let (workspace, member) = match roster::identify(&state.db, &form.team_id, &form.user_id).await? {
        Sender::Member(known) => *known,
        Sender::UnknownWorkspace => return Ok("Rapport is not set up for this workspace.".to_owned()),
        Sender::UnknownMember => return Ok("Rapport does not know you yet; try again in a minute.".to_owned()),
    };
    // Writing to Rapport proves Slack reaches them again.
    roster::reachable_again(&state.db, &member, now).await?;
    Ok(match Command::parse(&form.text) {
        Command::Ask => actions::ask_reply(&asking::ask(state, &workspace, &member).await?),
        // A left-out guest sees nobody's answers; `ask` refuses them in `asking::ask`.
        Command::Profile(_) if roster::is_left_out_guest(&workspace, &member) => roster::FOR_MEMBERS_ONLY.to_owned(),
        Command::Profile(mention) => profile(state, &member, mention).await?,
        Command::Pause(args) => pause(state, &member, &args, now).await?,
        Command::Resume => {
            roster::resume(&state.db, &member, now).await?;
            "Welcome back! Questions will come again.".to_owned()
        }
        Command::Login => {
            let link = sign_in::link_for(state, &member).await?;
            blocks::sign_in_text(&link, sign_in::LINK_VALID_MINUTES)
        }
        Command::Help => HELP.to_owned(),
    })
}

/// `profile [@someone]`: a member's latest team-visible answers.
async fn profile(state: &AppState, asker: &Member, mention: Option<&str>) -> anyhow::Result<String> {
    let viewer = Viewer::member(state.db.clone(), &asker.workspace_id, &asker.id);
    let subject = match mention.map(mentioned_user_id) {
        None => &asker.slack_user_id,
        Some(None) => return Ok("Mention someone like `/rapport profile @ada`.".to_owned()),
        Some(Some(user_id)) => user_id,
    };
    let Some(found) = people::profile_by_slack_user(&viewer, subject).await? else {
        return Ok("I don't know that person.".to_owned());
    };
    if found.answers.is_empty() {
        return Ok(format!("{} has not shared an answer yet.", blocks::escape(&found.name)));
    }
    let lines: Vec<String> = found
        .answers
        .iter()
        .take(PROFILE_ANSWERS)
        .map(|a| format!("• _{}_\n   {}", blocks::escape(&a.question), blocks::escape(&a.text)))
        .collect();
    Ok(format!("*{}*{}\n{}", blocks::escape(&found.name), title_suffix(&found.title), lines.join("\n")))
}

fn title_suffix(title: &str) -> String {
    if title.is_empty() { String::new() } else { format!(", {}", blocks::escape(title)) }
}

/// The user id in a Slack mention: `<@U123|ada>` or `<@U123>`.
fn mentioned_user_id(mention: &str) -> Option<&str> {
    let inner = mention.strip_prefix("<@")?.strip_suffix('>')?;
    let id = inner.split('|').next()?;
    (!id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric())).then_some(id)
}

/// `pause` or `pause until YYYY-MM-DD`.
async fn pause(state: &AppState, member: &Member, args: &[&str], now: i64) -> anyhow::Result<String> {
    let until = match args {
        [] => None,
        [word, date] if word.eq_ignore_ascii_case("until") => match parse_future_date(date, now) {
            Ok(until) => Some(until),
            Err(message) => return Ok(message),
        },
        _ => return Ok("Try `/rapport pause` or `/rapport pause until 2026-12-31`.".to_owned()),
    };
    roster::pause(&state.db, member, until.map(|(ms, _)| ms), now).await?;
    Ok(match until {
        Some((_, date)) => {
            format!("Paused. No questions until {date}; `/rapport resume` brings them back sooner.")
        }
        None => "Paused. Type `/rapport resume` whenever you want questions again.".to_owned(),
    })
}

/// Parses `YYYY-MM-DD` into the start of that day (UTC, Unix ms); it must be after today.
fn parse_future_date(raw: &str, now_ms: i64) -> Result<(i64, NaiveDate), String> {
    let date =
        NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| format!("“{raw}” is not a date like 2026-12-31."))?;
    let starts = date.and_time(NaiveTime::MIN).and_utc().timestamp_millis();
    if starts <= now_ms {
        return Err(format!("{date} has already started; pick a later date."));
    }
    Ok((starts, date))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mention_gives_its_user_id() {
        assert_eq!(mentioned_user_id("<@U123|ada>"), Some("U123"));
        assert_eq!(mentioned_user_id("<@U123>"), Some("U123"));
        assert_eq!(mentioned_user_id("@ada"), None);
        assert_eq!(mentioned_user_id("<@>"), None);
    }

    #[test]
    fn a_pause_date_must_be_a_real_future_date() {
        let now = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap().and_time(NaiveTime::MIN).and_utc().timestamp_millis();
        assert!(parse_future_date("2026-12-01", now).is_ok());
        assert!(parse_future_date("2026-11-28", now).unwrap_err().contains("already started"));
        assert!(parse_future_date("2026-02-30", now).unwrap_err().contains("not a date"));
        assert!(parse_future_date("tomorrow", now).unwrap_err().contains("not a date"));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::fuzzing;

    const SUBCOMMANDS: &[&str] = &["ask", "profile", "pause", "resume", "login", "help"];
    /// Keys a slash command's form has, so that random forms sometimes have them all.
    const FORM_KEYS: &[&str] = &["team_id", "user_id", "text", "trigger_id", "command", "token"];

    /// Whitespace of one to three characters, Unicode's included.
    const GAP: &str = "[ \t\n\u{a0}\u{2003}\u{3000}]{1,3}";

    /// Text shaped like a form: `key=value` pairs, the values unencoded and often odd.
    fn form_like() -> impl Strategy<Value = Vec<u8>> {
        let pair = (prop::sample::select(FORM_KEYS), fuzzing::text(12));
        let pair = pair.prop_map(|(key, value)| format!("{key}={value}"));
        prop::collection::vec(pair, 0..8).prop_map(|pairs| pairs.join("&").into_bytes())
    }

    proptest! {
        #![proptest_config(fuzzing::config(256))]

        #[test]
        fn any_body_is_a_command_form_or_refused(body in prop_oneof![fuzzing::bytes(256), form_like()]) {
            if let Some(form) = CommandForm::read(&body) {
                let _command = Command::parse(&form.text);
            }
        }

        #[test]
        fn a_form_slack_sends_reads_back_field_for_field(
            team_id in fuzzing::text(16),
            user_id in fuzzing::text(16),
            text in prop::option::of(fuzzing::text(40)),
            trigger_id in prop::option::of(fuzzing::text(16)),
        ) {
            let mut fields = vec![("token", "legacy"), ("team_id", team_id.as_str()), ("user_id", user_id.as_str())];
            fields.push(("command", "/rapport"));
            if let Some(text) = &text {
                fields.push(("text", text.as_str()));
            }
            if let Some(trigger_id) = &trigger_id {
                fields.push(("trigger_id", trigger_id.as_str()));
            }
            let body = serde_urlencoded::to_string(fields).unwrap();

            let form = CommandForm::read(body.as_bytes());

            let form = form.ok_or_else(|| TestCaseError::fail(format!("refused {body:?}")))?;
            prop_assert_eq!(form.team_id, team_id);
            prop_assert_eq!(form.user_id, user_id);
            prop_assert_eq!(form.text, text.unwrap_or_default());
            prop_assert_eq!(form.trigger_id, trigger_id);
        }

        #[test]
        fn any_text_is_one_command_whatever_the_spacing_around_it(text in fuzzing::text(60), gap in GAP) {
            let command = Command::parse(&text);

            let spaced = format!("{gap}{text}{gap}");
            prop_assert_eq!(Command::parse(&spaced), command.clone());
            let first = text.split_whitespace().next().map(str::to_ascii_lowercase);
            if !first.as_deref().is_some_and(|word| SUBCOMMANDS.contains(&word)) {
                prop_assert_eq!(command, Command::Help);
            }
        }

        #[test]
        fn known_commands_read_alike_whatever_the_spacing_and_letter_case(
            subcommand in prop::sample::select(SUBCOMMANDS),
            capitals in prop::collection::vec(any::<bool>(), 7),
            gaps in prop::collection::vec(GAP, 2),
            ends in ("[ \t\n]{0,2}", "[ \t\n]{0,2}"),
            with_arguments in any::<bool>(),
            user_id in "[A-Z0-9]{1,11}",
            name in prop::option::of("[a-z0-9._-]{1,20}"),
            (year, month, day) in (2027_i32..2100, 1_u32..=12, 1_u32..=28),
        ) {
            let typed: String = subcommand
                .chars()
                .zip(&capitals)
                .map(|(c, capital)| if *capital { c.to_ascii_uppercase() } else { c })
                .collect();
            let mention = match &name {
                Some(name) => format!("<@{user_id}|{name}>"),
                None => format!("<@{user_id}>"),
            };
            let date = format!("{year:04}-{month:02}-{day:02}");
            let arguments: Vec<&str> = match (subcommand, with_arguments) {
                ("profile", true) => vec![mention.as_str()],
                ("pause", true) => vec!["until", date.as_str()],
                _ => Vec::new(),
            };
            let mut text = format!("{}{typed}", ends.0);
            for (gap, argument) in gaps.iter().zip(&arguments) {
                text.push_str(gap);
                text.push_str(argument);
            }
            text.push_str(&ends.1);

            let command = Command::parse(&text);

            let expected = match subcommand {
                "ask" => Command::Ask,
                "profile" => Command::Profile(arguments.first().copied()),
                "pause" => Command::Pause(arguments.clone()),
                "resume" => Command::Resume,
                "login" => Command::Login,
                _ => Command::Help,
            };
            prop_assert_eq!(&command, &expected, "{:?}", text);
            if let Command::Profile(Some(mention)) = &command {
                prop_assert_eq!(mentioned_user_id(mention), Some(user_id.as_str()));
            }
            if let Command::Pause(words) = &command
                && let ["until", until] = words[..]
            {
                let new_years_eve = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap().and_time(NaiveTime::MIN).and_utc();
                let parsed = parse_future_date(until, new_years_eve.timestamp_millis()).map(|(_, day)| day.to_string());
                prop_assert_eq!(parsed, Ok(date));
            }
        }

        #[test]
        fn any_mention_or_pause_date_is_read_or_refused(word in fuzzing::text(24), now_ms in any::<i64>()) {
            if let Some(user_id) = mentioned_user_id(&word) {
                prop_assert!(word.starts_with("<@") && word.ends_with('>'));
                prop_assert!(!user_id.is_empty() && user_id.chars().all(|c| c.is_ascii_alphanumeric()));
            }
            if let Ok((starts_ms, _)) = parse_future_date(&word, now_ms) {
                prop_assert!(starts_ms > now_ms);
            }
        }
    }
}
