//! Wire types and validated input of the schedule area.

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// How often the selected days turn into rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    /// Every selected day.
    Daily,
    /// The first selected day of the week, and the first selected day at least three days
    /// after it (or the last selected day when none is that late).
    TwiceWeekly,
    /// The first selected day of each week.
    Weekly,
    /// The first selected day of every other week.
    Biweekly,
}

impl Cadence {
    pub fn as_str(self) -> &'static str {
        match self {
            Cadence::Daily => "daily",
            Cadence::TwiceWeekly => "twice_weekly",
            Cadence::Weekly => "weekly",
            Cadence::Biweekly => "biweekly",
        }
    }

    pub fn parse(raw: &str) -> Result<Cadence, AppError> {
        match raw {
            "daily" => Ok(Cadence::Daily),
            "twice_weekly" => Ok(Cadence::TwiceWeekly),
            "weekly" => Ok(Cadence::Weekly),
            "biweekly" => Ok(Cadence::Biweekly),
            other => {
                Err(invalid("cadence", format!("{other:?} is not a cadence: daily, twice_weekly, weekly or biweekly")))
            }
        }
    }
}

/// The days of the week rounds may fall on, Monday first. Never empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Weekdays(u8);

/// Day names as the wire and the database's bit order have them: bit 0 is Monday.
pub const WEEKDAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl Weekdays {
    /// Monday to Friday.
    pub const WORKDAYS: Weekdays = Weekdays(0b001_1111);

    /// Reads day names (`mon` … `sun`), in any order, at least one.
    pub fn parse(names: &[String]) -> Result<Weekdays, AppError> {
        let mut bits = 0u8;
        for name in names {
            let index = WEEKDAY_NAMES
                .iter()
                .position(|day| day.eq_ignore_ascii_case(name.trim()))
                .ok_or_else(|| invalid("weekdays", format!("{name:?} is not a day: use mon, tue, … sun")))?;
            bits |= 1 << index;
        }
        Weekdays::from_bits(bits).ok_or_else(|| invalid("weekdays", "Choose at least one day.".to_owned()))
    }

    /// From the stored bit set; `None` when no day is set or a bit is out of range.
    pub fn from_bits(bits: u8) -> Option<Weekdays> {
        (bits != 0 && bits < 0b1000_0000).then_some(Weekdays(bits))
    }

    pub fn bits(self) -> u8 {
        self.0
    }

    /// Whether the day `index` (0 = Monday) is selected.
    pub fn contains(self, index: u32) -> bool {
        index < 7 && self.0 & (1 << index) != 0
    }

    /// The selected days, Monday first, as indexes (0 = Monday).
    pub fn indexes(self) -> impl Iterator<Item = u32> {
        (0..7).filter(move |index| self.contains(*index))
    }

    pub fn names(self) -> Vec<String> {
        self.indexes().map(|index| WEEKDAY_NAMES[index as usize].to_owned()).collect()
    }
}

/// A wall-clock time of day, to the minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalTime(u16);

impl LocalTime {
    pub const MIDNIGHT: LocalTime = LocalTime(0);
    pub const TEN_AM: LocalTime = LocalTime(10 * 60);

    /// Reads `HH:MM` (24-hour).
    pub fn parse(raw: &str) -> Result<LocalTime, AppError> {
        let error = || invalid("local_time", format!("{raw:?} is not a time: use HH:MM, for example 10:00"));
        let (hours, minutes) = raw.trim().split_once(':').ok_or_else(error)?;
        let hours: u16 = hours.parse().map_err(|_| error())?;
        let minutes: u16 = minutes.parse().map_err(|_| error())?;
        if hours > 23 || minutes > 59 || raw.trim().len() > 5 {
            return Err(error());
        }
        Ok(LocalTime(hours * 60 + minutes))
    }

    /// From minutes after midnight; `None` past 23:59.
    pub fn from_minutes(minutes: u16) -> Option<LocalTime> {
        (minutes < 24 * 60).then_some(LocalTime(minutes))
    }

    pub fn minutes(self) -> u16 {
        self.0
    }

    pub fn hour(self) -> u32 {
        u32::from(self.0 / 60)
    }

    pub fn minute(self) -> u32 {
        u32::from(self.0 % 60)
    }
}

impl std::fmt::Display for LocalTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}:{:02}", self.hour(), self.minute())
    }
}

/// A workspace's schedule as admins see and save it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleView {
    /// Whether members are asked at all.
    pub enabled: bool,
    /// `mon` … `sun`.
    pub weekdays: Vec<String>,
    /// `HH:MM`, in each member's own time zone.
    pub local_time: String,
    pub cadence: Cadence,
    /// Whether guests (multi- and single-channel) are asked too.
    pub include_guests: bool,
}

/// What operators see of a workspace's rounds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundOverview {
    /// When the next member is due to be asked (Unix ms), if anyone will be.
    pub next_round_at: Option<i64>,
    pub last_round: Option<RoundCounts>,
}

/// One round: the prompts of one local date (each member's own), by what became of them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RoundCounts {
    /// `YYYY-MM-DD`.
    pub round_date: String,
    pub due: i64,
    /// Still waiting to be delivered (pending or in flight).
    pub waiting: i64,
    /// Delivered and not (yet) answered or skipped.
    pub sent: i64,
    pub answered: i64,
    pub skipped: i64,
    /// Not delivered in time, or unanswered when the next round came.
    pub expired: i64,
    /// Failed deliveries, by reason, most common first.
    pub failed: Vec<(String, i64)>,
}

fn invalid(field: &str, message: String) -> AppError {
    AppError::Invalid { field: field.to_owned(), message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekdays_read_names_in_any_order_and_refuse_nonsense() {
        let days = Weekdays::parse(&["fri".into(), "Mon".into()]).unwrap_or(Weekdays::WORKDAYS);
        assert_eq!(days.names(), ["mon", "fri"]);
        assert!(Weekdays::parse(&[]).is_err());
        assert!(Weekdays::parse(&["funday".into()]).is_err());
        assert_eq!(Weekdays::from_bits(0), None);
        assert_eq!(Weekdays::from_bits(0b1000_0000), None);
    }

    #[test]
    fn a_local_time_is_hours_and_minutes_on_a_24_hour_clock() {
        assert_eq!(LocalTime::parse("10:00").map(LocalTime::minutes), Ok(600));
        assert_eq!(LocalTime::parse("23:59").map(|t| t.to_string()), Ok("23:59".to_owned()));
        for bad in ["24:00", "10:60", "10", "ten:00", "10:00:00", "-1:00"] {
            assert!(LocalTime::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn cadences_round_trip_through_their_names() {
        for cadence in [Cadence::Daily, Cadence::TwiceWeekly, Cadence::Weekly, Cadence::Biweekly] {
            assert_eq!(Cadence::parse(cadence.as_str()), Ok(cadence));
        }
        assert!(Cadence::parse("hourly").is_err());
    }
}
