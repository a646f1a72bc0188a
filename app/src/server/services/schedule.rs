//! A workspace's schedule: reading and saving it, and turning it into slot times in each
//! member's own time zone, right across daylight-saving changes.

use chrono::{Datelike as _, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone as _, Utc};
use chrono_tz::Tz;

use crate::{
    error::AppError,
    features::schedule::types::{Cadence, LocalTime, ScheduleView, Weekdays},
    server::{
        db::{Db, schedules, workspaces},
        viewer::Viewer,
    },
};

/// How far back a missed slot is still worth asking: a question at 14:00 after a 10:00 slot
/// missed by downtime is fine; one at midnight is not, so that round is left out.
pub const CATCH_UP_MS: i64 = 4 * 60 * 60 * 1000;

/// When rounds happen. A workspace without a saved schedule has [`Schedule::default`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub weekdays: Weekdays,
    pub local_time: LocalTime,
    pub cadence: Cadence,
}

impl Default for Schedule {
    /// Tuesdays and Thursdays at 10:00.
    fn default() -> Schedule {
        Schedule {
            weekdays: Weekdays::from_bits(0b000_1010).unwrap_or(Weekdays::WORKDAYS),
            local_time: LocalTime::TEN_AM,
            cadence: Cadence::TwiceWeekly,
        }
    }
}

/// A slot: the member's local date of the round, and the instant it falls on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub date: NaiveDate,
    pub at_ms: i64,
}

impl Slot {
    /// The round's key, `YYYY-MM-DD`.
    pub fn round_date(&self) -> String {
        self.date.format("%Y-%m-%d").to_string()
    }
}

/// Every-other-week rounds count weeks from this Monday.
const BIWEEKLY_EPOCH: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 5).expect("a valid date");

/// How many days to look back or ahead for a slot: two weeks cover every cadence.
const SEARCH_DAYS: i64 = 15;

impl Schedule {
    /// The same days and time, every selected day (a new member's first week).
    pub fn daily(self) -> Schedule {
        Schedule { cadence: Cadence::Daily, ..self }
    }

    /// Whether `date` has a round.
    pub fn is_round_day(&self, date: NaiveDate) -> bool {
        let weekday = date.weekday().num_days_from_monday();
        if !self.weekdays.contains(weekday) {
            return false;
        }
        let mut selected = self.weekdays.indexes();
        let first = selected.next().unwrap_or(0);
        match self.cadence {
            Cadence::Daily => true,
            Cadence::Weekly => weekday == first,
            Cadence::Biweekly => weekday == first && (date - BIWEEKLY_EPOCH).num_days().div_euclid(7) % 2 == 0,
            Cadence::TwiceWeekly => {
                let rest: Vec<u32> = selected.collect();
                let second = rest.iter().copied().find(|day| day - first >= 3).or(rest.last().copied());
                weekday == first || Some(weekday) == second
            }
        }
    }

    /// The instant of the round on local `date` in `zone`. A local time that does not exist
    /// that day (clocks jump forward over it) moves to the first valid minute after; one
    /// that occurs twice (clocks go back) is the first occurrence.
    pub fn slot_on(&self, date: NaiveDate, zone: Tz) -> Slot {
        let time =
            NaiveTime::from_hms_opt(self.local_time.hour(), self.local_time.minute(), 0).unwrap_or(NaiveTime::MIN);
        let mut local = NaiveDateTime::new(date, time);
        // A gap is at most a day (Samoa skipped 2011-12-30 whole, so its midnight came a day
        // later); the bound only guards against a broken zone table.
        for _ in 0..=(24 * 60) {
            if let Some(instant) = zone.from_local_datetime(&local).earliest() {
                return Slot { date, at_ms: instant.timestamp_millis() };
            }
            local += Duration::minutes(1);
        }
        Slot { date, at_ms: Utc.from_utc_datetime(&NaiveDateTime::new(date, time)).timestamp_millis() }
    }

    /// The latest slot at or before `now_ms`, if there was one in the last two weeks.
    pub fn latest_slot(&self, zone: Tz, now_ms: i64) -> Option<Slot> {
        let today = local_date(zone, now_ms)?;
        (0..SEARCH_DAYS)
            .map(|back| today - Duration::days(back))
            .filter(|date| self.is_round_day(*date))
            .map(|date| self.slot_on(date, zone))
            .find(|slot| slot.at_ms <= now_ms)
    }

    /// The first slot after `now_ms`, if there is one in the next two weeks.
    pub fn next_slot(&self, zone: Tz, now_ms: i64) -> Option<Slot> {
        let today = local_date(zone, now_ms)?;
        (0..SEARCH_DAYS)
            .map(|ahead| today + Duration::days(ahead))
            .filter(|date| self.is_round_day(*date))
            .map(|date| self.slot_on(date, zone))
            .find(|slot| slot.at_ms > now_ms)
    }
}

/// The calendar date in `zone` at `now_ms`.
fn local_date(zone: Tz, now_ms: i64) -> Option<NaiveDate> {
    Some(Utc.timestamp_millis_opt(now_ms).single()?.with_timezone(&zone).date_naive())
}

/// The workspace's schedule (the defaults when none was saved).
pub async fn load(db: &Db, workspace_id: &str) -> Result<Schedule, AppError> {
    let Some(row) = schedules::find(db.pool(), workspace_id).await? else {
        return Ok(Schedule::default());
    };
    let weekdays = u8::try_from(row.weekdays).ok().and_then(Weekdays::from_bits);
    let local_time = u16::try_from(row.local_minute).ok().and_then(LocalTime::from_minutes);
    match (weekdays, local_time, Cadence::parse(&row.cadence)) {
        (Some(weekdays), Some(local_time), Ok(cadence)) => Ok(Schedule { weekdays, local_time, cadence }),
        _ => Err(AppError::internal(anyhow::anyhow!("workspace {workspace_id} has an unreadable schedule row"))),
    }
}

/// The viewer's workspace's schedule, as admins see it.
pub async fn view(viewer: &Viewer) -> Result<ScheduleView, AppError> {
    let workspace = workspaces::find(viewer.db.pool(), &viewer.workspace_id).await?.ok_or(AppError::NotFound)?;
    let schedule = load(&viewer.db, &viewer.workspace_id).await?;
    Ok(ScheduleView {
        enabled: workspace.questions_enabled,
        weekdays: schedule.weekdays.names(),
        local_time: schedule.local_time.to_string(),
        cadence: schedule.cadence,
        include_guests: workspace.include_guests,
    })
}

/// Saves a schedule and whether asking is on, in one transaction.
pub async fn save(
    viewer: &Viewer,
    schedule: &Schedule,
    enabled: bool,
    include_guests: bool,
    now_ms: i64,
) -> Result<(), AppError> {
    let mut tx = viewer.db.begin_write().await?;
    let row = schedules::ScheduleRow {
        workspace_id: viewer.workspace_id.clone(),
        weekdays: i64::from(schedule.weekdays.bits()),
        local_minute: i64::from(schedule.local_time.minutes()),
        cadence: schedule.cadence.as_str().to_owned(),
        updated_at: now_ms,
    };
    schedules::upsert(&mut *tx, &row).await?;
    workspaces::update_asking(&mut *tx, &viewer.workspace_id, enabled, include_guests, now_ms).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE_MS: i64 = 60_000;

    fn schedule(days: &[&str], time: &str, cadence: Cadence) -> Schedule {
        let names: Vec<String> = days.iter().map(|d| (*d).to_owned()).collect();
        Schedule {
            weekdays: Weekdays::parse(&names).unwrap_or(Weekdays::WORKDAYS),
            local_time: LocalTime::parse(time).unwrap_or(LocalTime::MIDNIGHT),
            cadence,
        }
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
    }

    /// The slot as an RFC 3339 time in `zone`, to compare with what a person reads.
    fn local(slot: Slot, zone: Tz) -> String {
        Utc.timestamp_millis_opt(slot.at_ms).single().map(|t| t.with_timezone(&zone).to_rfc3339()).unwrap_or_default()
    }

    fn utc(rfc3339: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(rfc3339).map(|t| t.timestamp_millis()).unwrap_or_default()
    }

    #[test]
    fn ten_oclock_stays_ten_oclock_across_new_yorks_changes() {
        let ny: Tz = "America/New_York".parse().unwrap_or(Tz::UTC);
        let daily = schedule(&["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "10:00", Cadence::Daily);
        // Spring forward on Sunday 2026-03-08, fall back on Sunday 2026-11-01.
        assert_eq!(local(daily.slot_on(date(2026, 3, 7), ny), ny), "2026-03-07T10:00:00-05:00");
        assert_eq!(local(daily.slot_on(date(2026, 3, 8), ny), ny), "2026-03-08T10:00:00-04:00");
        assert_eq!(local(daily.slot_on(date(2026, 10, 31), ny), ny), "2026-10-31T10:00:00-04:00");
        assert_eq!(local(daily.slot_on(date(2026, 11, 1), ny), ny), "2026-11-01T10:00:00-05:00");
        // 24 hours apart in local time means 23 and 25 hours apart in real time.
        let spring = daily.slot_on(date(2026, 3, 8), ny).at_ms - daily.slot_on(date(2026, 3, 7), ny).at_ms;
        assert_eq!(spring, 23 * 60 * MINUTE_MS);
        let fall = daily.slot_on(date(2026, 11, 1), ny).at_ms - daily.slot_on(date(2026, 10, 31), ny).at_ms;
        assert_eq!(fall, 25 * 60 * MINUTE_MS);
    }

    #[test]
    fn a_time_skipped_by_berlins_spring_change_moves_to_the_first_valid_minute() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap_or(Tz::UTC);
        // On 2026-03-29 clocks jump from 02:00 to 03:00.
        let slot = schedule(&["sun"], "02:30", Cadence::Daily).slot_on(date(2026, 3, 29), berlin);
        assert_eq!(local(slot, berlin), "2026-03-29T03:00:00+02:00");
        let just_before = schedule(&["sun"], "01:59", Cadence::Daily).slot_on(date(2026, 3, 29), berlin);
        assert_eq!(local(just_before, berlin), "2026-03-29T01:59:00+01:00");
    }

    #[test]
    fn a_time_on_a_day_that_samoa_skipped_whole_moves_to_the_first_minute_after_it() {
        // Regression, found writing the slot properties: midnight of 2011-12-30 only came a
        // full day later in Apia, one minute past the search, which fell back to midnight UTC
        // (14:00 the day before there).
        let apia: Tz = "Pacific/Apia".parse().unwrap_or(Tz::UTC);
        let slot = schedule(&["fri"], "00:00", Cadence::Daily).slot_on(date(2011, 12, 30), apia);
        assert_eq!(local(slot, apia), "2011-12-31T00:00:00+14:00");
    }

    #[test]
    fn a_time_that_berlin_lives_twice_in_autumn_is_one_slot_the_first_time() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap_or(Tz::UTC);
        // On 2026-10-25 clocks go back from 03:00 to 02:00: 02:30 happens twice.
        let daily = schedule(&["sun"], "02:30", Cadence::Daily);
        let slot = daily.slot_on(date(2026, 10, 25), berlin);
        assert_eq!(local(slot, berlin), "2026-10-25T02:30:00+02:00");
        // During the second 02:30 the latest slot is still that one round, not a new one.
        let second_time = utc("2026-10-25T02:30:00+01:00");
        assert_eq!(daily.latest_slot(berlin, second_time), Some(slot));
    }

    #[test]
    fn kolkatas_half_hour_offset_and_aucklands_day_ahead_are_respected() {
        let kolkata: Tz = "Asia/Kolkata".parse().unwrap_or(Tz::UTC);
        let auckland: Tz = "Pacific/Auckland".parse().unwrap_or(Tz::UTC);
        let weekdays = schedule(&["mon", "tue", "wed", "thu", "fri"], "10:00", Cadence::Daily);
        let slot = weekdays.slot_on(date(2026, 11, 30), kolkata);
        assert_eq!(slot.at_ms, utc("2026-11-30T04:30:00Z"));
        // Monday 10:00 in Auckland (+13:00 in summer) is Sunday 21:00 UTC: the round is
        // Monday's there, though it is still Sunday in London.
        let sunday_evening_utc = utc("2026-11-29T21:30:00Z");
        let slot = weekdays.latest_slot(auckland, sunday_evening_utc);
        assert_eq!(slot.map(|s| s.round_date()), Some("2026-11-30".to_owned()));
        assert_eq!(slot.map(|s| s.at_ms), Some(utc("2026-11-29T21:00:00Z")));
        // An hour earlier, Auckland's latest slot was Friday's.
        let before = weekdays.latest_slot(auckland, utc("2026-11-29T20:00:00Z"));
        assert_eq!(before.map(|s| s.round_date()), Some("2026-11-27".to_owned()));
    }

    #[test]
    fn cadences_pick_their_days_from_the_selected_ones() {
        let utc_zone = Tz::UTC;
        let rounds = |s: Schedule| -> Vec<String> {
            (0..21)
                .map(|d| date(2026, 11, 30) + Duration::days(d))
                .filter(|d| s.is_round_day(*d))
                .map(|d| d.format("%a %d").to_string())
                .collect()
        };
        let workdays = ["mon", "tue", "wed", "thu", "fri"];
        assert_eq!(rounds(schedule(&workdays, "10:00", Cadence::Weekly)), ["Mon 30", "Mon 07", "Mon 14"]);
        assert_eq!(
            rounds(schedule(&workdays, "10:00", Cadence::TwiceWeekly)),
            ["Mon 30", "Thu 03", "Mon 07", "Thu 10", "Mon 14", "Thu 17"]
        );
        assert_eq!(rounds(schedule(&["tue", "wed"], "10:00", Cadence::TwiceWeekly)).len(), 6);
        // Weeks are counted from Monday 1970-01-05; the week of 2026-12-07 is an even one.
        assert_eq!(rounds(schedule(&["wed"], "10:00", Cadence::Biweekly)), ["Wed 09"]);
        assert_eq!(rounds(schedule(&["sat", "sun"], "10:00", Cadence::Daily)).len(), 6);
        // The next slot after a Friday round skips the weekend.
        let friday_noon = utc("2026-12-04T12:00:00Z");
        let next = schedule(&workdays, "10:00", Cadence::Daily).next_slot(utc_zone, friday_noon);
        assert_eq!(next.map(|s| s.round_date()), Some("2026-12-07".to_owned()));
    }
}

#[cfg(test)]
mod properties {
    use chrono::Offset as _;
    use proptest::prelude::*;

    use super::*;
    use crate::fuzzing;

    const HOUR_MS: i64 = 60 * 60 * 1000;
    const DAY_MS: i64 = 24 * HOUR_MS;
    const CADENCES: &[Cadence] = &[Cadence::Daily, Cadence::TwiceWeekly, Cadence::Weekly, Cadence::Biweekly];
    /// Months in which clocks change in much of the world.
    const CHANGE_MONTHS: &[u32] = &[3, 4, 9, 10, 11];

    fn any_schedule() -> impl Strategy<Value = Schedule> {
        // The small hours half the time: that is where clocks change.
        let minutes = prop_oneof![0_u16..24 * 60, 0_u16..4 * 60];
        (1_u8..0b1000_0000, minutes, prop::sample::select(CADENCES)).prop_map(|(bits, minutes, cadence)| Schedule {
            weekdays: Weekdays::from_bits(bits).unwrap(),
            local_time: LocalTime::from_minutes(minutes).unwrap(),
            cadence,
        })
    }

    /// An instant from 1970 to 2037, half the time in a month when clocks change.
    fn instant() -> impl Strategy<Value = i64> {
        let until_2038 = start_of(2038, 1);
        prop_oneof![
            0..until_2038,
            (1970_i32..2038, prop::sample::select(CHANGE_MONTHS), 0..31 * DAY_MS)
                .prop_map(|(year, month, into_it)| start_of(year, month) + into_it),
        ]
    }

    /// The first of the month, 00:00 UTC, in Unix ms.
    fn start_of(year: i32, month: u32) -> i64 {
        NaiveDate::from_ymd_opt(year, month, 1).unwrap().and_time(NaiveTime::MIN).and_utc().timestamp_millis()
    }

    /// What must hold of the slots around `now_ms`, read on a clock in `zone`: the next slot
    /// is after it, within 8 days (15 every other week), on a round day, at the local time or
    /// (when the clocks skip that time) at the first minute after it that exists; and no
    /// slot comes between the latest one and the next.
    fn check(schedule: &Schedule, zone: Tz, now_ms: i64) -> Result<(), String> {
        let next = schedule.next_slot(zone, now_ms).ok_or("no next slot")?;
        let within_days = if schedule.cadence == Cadence::Biweekly { 15 } else { 8 };
        if next.at_ms <= now_ms || next.at_ms - now_ms > within_days * DAY_MS {
            return Err(format!("{next:?} is not in the {within_days} days after {now_ms}"));
        }
        let weekday = next.date.weekday().num_days_from_monday();
        if !schedule.weekdays.contains(weekday) || !schedule.is_round_day(next.date) {
            return Err(format!("{next:?} is not on a round day"));
        }
        let time = NaiveTime::from_hms_opt(schedule.local_time.hour(), schedule.local_time.minute(), 0);
        let wanted = next.date.and_time(time.ok_or("no such time")?);
        let read = Utc.timestamp_millis_opt(next.at_ms).single().ok_or("no such instant")?.with_timezone(&zone);
        let read = read.naive_local();
        match zone.from_local_datetime(&wanted).earliest() {
            Some(first) if first.timestamp_millis() == next.at_ms => {}
            Some(_) => return Err(format!("{next:?} reads {read}, not the first {wanted}")),
            None => {
                let moved = read - wanted;
                let skipped_before = zone.from_local_datetime(&(read - Duration::minutes(1))).earliest().is_none();
                let whole_minutes = moved.num_seconds() % 60 == 0;
                if moved <= Duration::zero() || moved > Duration::days(1) || !whole_minutes || !skipped_before {
                    return Err(format!("{wanted} is skipped; {next:?} reads {read}, not the first minute after"));
                }
            }
        }
        if let Some(latest) = schedule.latest_slot(zone, now_ms) {
            if latest.at_ms > now_ms {
                return Err(format!("the latest slot {latest:?} is after {now_ms}"));
            }
            let after_latest = schedule.next_slot(zone, latest.at_ms);
            if after_latest != Some(next) {
                return Err(format!("{after_latest:?} comes between {latest:?} and {next:?}"));
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(fuzzing::config(256))]

        #[test]
        fn in_any_zone_the_next_slot_is_soon_on_a_round_day_at_the_local_time(
            zone in prop::sample::select(&chrono_tz::TZ_VARIANTS[..]),
            schedule in any_schedule(),
            now_ms in instant(),
        ) {
            check(&schedule, zone, now_ms).map_err(TestCaseError::fail)?;
        }
    }

    #[test]
    fn in_every_zone_slots_keep_to_the_local_time_across_its_2026_clock_changes() {
        let every_day = Weekdays::from_bits(0b111_1111).unwrap();
        let new_year = start_of(2026, 1);
        for zone in chrono_tz::TZ_VARIANTS {
            let offset = |ms: i64| Utc.timestamp_millis_opt(ms).single().map(|t| t.with_timezone(&zone).offset().fix());
            let changes = (0..365)
                .map(|day| new_year + day * DAY_MS + DAY_MS / 2)
                .filter(|noon| offset(*noon) != offset(noon + DAY_MS));
            for noon in changes {
                // Midnight, the small hours where most changes fall, and late evening.
                for minutes in [0, 30, 60, 90, 120, 150, 180, 210, 1410] {
                    let local_time = LocalTime::from_minutes(minutes).unwrap();
                    let schedule = Schedule { weekdays: every_day, local_time, cadence: Cadence::Daily };
                    // From the noon (UTC) before the change to two days after it.
                    for now_ms in (0..72).step_by(6).map(|hours| noon - DAY_MS + hours * HOUR_MS) {
                        assert_eq!(check(&schedule, zone, now_ms), Ok(()), "{zone}, {local_time}");
                    }
                }
            }
        }
    }
}
