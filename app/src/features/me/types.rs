//! Wire types of `/me`.

use serde::{Deserialize, Serialize};

use crate::{error::AppError, features::answers::types::Visibility};

/// What `/me` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyPage {
    pub member_id: String,
    pub name: String,
    pub pause: Pause,
    /// Asked no questions at all until they opt back in.
    pub opted_out: bool,
    pub answers: Vec<MyAnswer>,
}

/// Whether questions are paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Pause {
    Off,
    /// Until the start of this day (Unix ms, UTC).
    Until(i64),
    Indefinitely,
}

/// One of my answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyAnswer {
    pub id: String,
    pub question: String,
    pub text: String,
    pub visibility: Visibility,
    pub answered_at_ms: i64,
}

/// Everything Rapport keeps about me, as the export downloads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyData {
    pub exported_at_ms: i64,
    pub name: String,
    pub title: String,
    pub time_zone: Option<String>,
    pub slack_user_id: String,
    pub opted_out: bool,
    pub paused_until_ms: Option<i64>,
    pub answers: Vec<MyAnswer>,
}

/// Reads the pause form's day (`YYYY-MM-DD`, empty for "until I resume") as the start of
/// that day (Unix ms, UTC).
pub fn parse_pause_until(raw: &str) -> Result<Option<i64>, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let day = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| AppError::Invalid {
        field: "until".into(),
        message: format!("{raw:?} is not a day like 2026-12-31"),
    })?;
    Ok(Some(day.and_time(chrono::NaiveTime::MIN).and_utc().timestamp_millis()))
}

/// What a member types to confirm "forget me".
pub const FORGET_CONFIRMATION: &str = "forget me";

/// Checks the typed confirmation of "forget me".
pub fn check_forget_confirmation(typed: &str) -> Result<(), AppError> {
    if typed.trim().eq_ignore_ascii_case(FORGET_CONFIRMATION) {
        Ok(())
    } else {
        Err(AppError::Invalid {
            field: "confirmation".into(),
            message: format!("type “{FORGET_CONFIRMATION}” to confirm"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pause_lasts_until_a_day_or_until_resumed() {
        assert_eq!(parse_pause_until(""), Ok(None));
        assert_eq!(parse_pause_until("2026-12-31"), Ok(Some(1_798_675_200_000)));
        assert!(matches!(parse_pause_until("31/12/2026"), Err(AppError::Invalid { field, .. }) if field == "until"));
    }

    #[test]
    fn forgetting_needs_the_exact_words() {
        assert!(check_forget_confirmation(" Forget me ").is_ok());
        assert!(check_forget_confirmation("yes").is_err());
        assert!(check_forget_confirmation("").is_err());
    }
}
