//! `/slack/commands`: the `/rapport` slash command. Every reply is ephemeral (only the
//! member who typed the command sees it).

use app::{
    AppError,
    server::{
        db::{answers, members, members::MemberRow},
        services::{members as roster, workspaces},
    },
};
use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use chrono::{NaiveDate, NaiveTime};
use serde::Deserialize;

use super::{SlackState, asking, blocks, not_configured, verify_request};
use crate::routes::ServerState;

const HELP: &str = "*Rapport* asks you a light question now and then.\n\
• `/rapport ask`: get a question now\n\
• `/rapport profile [@someone]`: see someone's latest answers\n\
• `/rapport pause [until YYYY-MM-DD]`: take a break from questions\n\
• `/rapport resume`: get questions again\n\
• `/rapport help`: this message";

/// The fields of Slack's form-encoded slash command that Rapport reads.
#[derive(Debug, Deserialize)]
struct CommandForm {
    team_id: String,
    user_id: String,
    #[serde(default)]
    text: String,
}

/// Receives one `/rapport` command.
pub async fn receive(State(state): State<ServerState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(slack) = state.slack else {
        return not_configured();
    };
    if let Err(rejection) = verify_request(&slack, &headers, &body) {
        return rejection.into_response();
    }
    let Ok(form) = serde_urlencoded::from_bytes::<CommandForm>(&body) else {
        tracing::warn!("refused a signed slash command without team_id or user_id");
        return (StatusCode::BAD_REQUEST, "missing team_id or user_id").into_response();
    };
    let reply = match run(&slack, &form).await {
        Ok(reply) => reply,
        Err(error) => {
            let reference = AppError::log_with_reference(error);
            format!("Sorry, something went wrong on our side (reference {reference}). Please try again.")
        }
    };
    Json(serde_json::json!({ "response_type": "ephemeral", "text": reply })).into_response()
}

async fn run(slack: &SlackState, form: &CommandForm) -> anyhow::Result<String> {
    let Some(workspace) = workspaces::find_active(&slack.db, &form.team_id).await? else {
        return Ok("Rapport is not set up for this workspace.".to_owned());
    };
    let Some(member) = members::find_by_slack_user_id(slack.db.pool(), &workspace.id, &form.user_id).await? else {
        return Ok("Rapport does not know you yet; try again in a minute.".to_owned());
    };
    let mut words = form.text.split_whitespace();
    let now = slack.clock.now_ms();
    roster::reachable_again(&slack.db, &member, now).await?;
    Ok(match words.next().map(str::to_ascii_lowercase).as_deref() {
        Some("ask") => asking::ask(slack, &workspace, &member).await?.reply(),
        Some("profile") => profile(slack, &member, words.next()).await?,
        Some("pause") => pause(slack, &member, &words.collect::<Vec<_>>(), now).await?,
        Some("resume") => {
            roster::resume(&slack.db, &member, now).await?;
            "Welcome back! Questions will come again.".to_owned()
        }
        _ => HELP.to_owned(),
    })
}

/// `profile [@someone]`: a member's three latest team-visible answers.
async fn profile(slack: &SlackState, asker: &MemberRow, mention: Option<&str>) -> anyhow::Result<String> {
    let subject = match mention.map(mentioned_user_id) {
        None => asker.clone(),
        Some(None) => return Ok("Mention someone like `/rapport profile @ada`.".to_owned()),
        Some(Some(user_id)) => {
            match members::find_by_slack_user_id(slack.db.pool(), &asker.workspace_id, user_id).await? {
                Some(member) if member.is_deleted == 0 && member.is_bot == 0 => member,
                _ => return Ok("I don't know that person.".to_owned()),
            }
        }
    };
    let latest = answers::list_team_visible_for_member(slack.db.pool(), &asker.workspace_id, &subject.id).await?;
    if latest.is_empty() {
        return Ok(format!("{} has not shared an answer yet.", blocks::escape(&subject.name)));
    }
    let lines: Vec<String> = latest
        .iter()
        .take(3)
        .map(|a| format!("• _{}_\n   {}", blocks::escape(&a.question), blocks::escape(&a.text)))
        .collect();
    Ok(format!("*{}*{}\n{}", blocks::escape(&subject.name), title_suffix(&subject.title), lines.join("\n")))
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
async fn pause(slack: &SlackState, member: &MemberRow, args: &[&str], now: i64) -> anyhow::Result<String> {
    let until = match args {
        [] => None,
        ["until", date] => match parse_future_date(date, now) {
            Ok(until) => Some(until),
            Err(message) => return Ok(message),
        },
        _ => return Ok("Try `/rapport pause` or `/rapport pause until 2026-12-31`.".to_owned()),
    };
    roster::pause(&slack.db, member, until.map(|(ms, _)| ms), now).await?;
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
