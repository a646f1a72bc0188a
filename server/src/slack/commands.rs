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

/// Receives one `/rapport` command.
#[tracing::instrument(name = "POST /slack/commands", skip_all)]
pub async fn receive(State(state): State<AppState>, request: SlackRequest) -> Response {
    let Ok(form) = serde_urlencoded::from_bytes::<CommandForm>(&request.body) else {
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
    let mut words = form.text.split_whitespace();
    Ok(match words.next().map(str::to_ascii_lowercase).as_deref() {
        Some("ask") => actions::ask_reply(&asking::ask(state, &workspace, &member).await?),
        Some("profile") => profile(state, &member, words.next()).await?,
        Some("pause") => pause(state, &member, &words.collect::<Vec<_>>(), now).await?,
        Some("resume") => {
            roster::resume(&state.db, &member, now).await?;
            "Welcome back! Questions will come again.".to_owned()
        }
        Some("login") => {
            let link = sign_in::link_for(state, &member).await?;
            blocks::sign_in_text(&link, sign_in::LINK_VALID_MINUTES)
        }
        _ => HELP.to_owned(),
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
        ["until", date] => match parse_future_date(date, now) {
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
