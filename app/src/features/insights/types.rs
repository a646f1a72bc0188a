//! Wire types of insights: the period and sort an admin picks, the numbers of each chart, the
//! text every number is shown with (the same on the page and in the CSV downloads), and the
//! CSV response encoding.

use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType, codec::Post};
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The weekdays of the heatmap's rows, Monday first.
pub const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// A question needs this many asks in the period before it is ranked among the best or worst.
pub const MIN_ASKS_TO_RANK: i64 = 3;

/// How many questions are marked best, and how many worst.
pub const RANKED: usize = 3;

/// How many weeks the insights cover, ending with the current week: 4, 12 or 52.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period(u32);

impl Period {
    /// What `/admin/insights` shows without a `weeks` parameter.
    pub const DEFAULT: Period = Period(12);

    /// Every period an admin may pick, shortest first.
    pub const ALL: [Period; 3] = [Period(4), Period(12), Period(52)];

    /// Reads the `weeks` parameter; absent or empty means [`Period::DEFAULT`].
    pub fn parse(raw: Option<&str>) -> Result<Period, AppError> {
        match raw.map(str::trim) {
            None | Some("") => Ok(Period::DEFAULT),
            Some(raw) => {
                Period::ALL.into_iter().find(|period| period.0.to_string() == raw).ok_or_else(|| AppError::Invalid {
                    field: "weeks".into(),
                    message: format!("{raw:?} is not a period Rapport shows: pick 4, 12 or 52 weeks"),
                })
            }
        }
    }

    pub fn weeks(self) -> u32 {
        self.0
    }

    /// "Last 12 weeks".
    pub fn label(self) -> String {
        format!("Last {} weeks", self.0)
    }
}

/// A column of the per-question table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum QuestionColumn {
    Question,
    Pack,
    Asked,
    AnswerRate,
    SkipRate,
    Median,
}

impl QuestionColumn {
    pub const ALL: [QuestionColumn; 6] = [
        QuestionColumn::Question,
        QuestionColumn::Pack,
        QuestionColumn::Asked,
        QuestionColumn::AnswerRate,
        QuestionColumn::SkipRate,
        QuestionColumn::Median,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            QuestionColumn::Question => "question",
            QuestionColumn::Pack => "pack",
            QuestionColumn::Asked => "asked",
            QuestionColumn::AnswerRate => "answer_rate",
            QuestionColumn::SkipRate => "skip_rate",
            QuestionColumn::Median => "median",
        }
    }

    /// The column's heading, on the page and in the CSV.
    pub fn heading(self) -> &'static str {
        match self {
            QuestionColumn::Question => "Question",
            QuestionColumn::Pack => "Pack",
            QuestionColumn::Asked => "Asked",
            QuestionColumn::AnswerRate => "Answer rate",
            QuestionColumn::SkipRate => "Skip rate",
            QuestionColumn::Median => "Median time to answer",
        }
    }

    /// The order a first click sorts by: names A to Z and the quickest answers first, the
    /// other numbers largest first.
    fn first_descending(self) -> bool {
        matches!(self, QuestionColumn::Asked | QuestionColumn::AnswerRate | QuestionColumn::SkipRate)
    }
}

/// How the per-question table is sorted: `sort=answer_rate` (ascending) or
/// `sort=-answer_rate` (descending).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionSort {
    pub column: QuestionColumn,
    pub descending: bool,
}

impl QuestionSort {
    /// The best answered questions first.
    pub const DEFAULT: QuestionSort = QuestionSort { column: QuestionColumn::AnswerRate, descending: true };

    /// Reads the `sort` parameter; absent or empty means [`QuestionSort::DEFAULT`].
    pub fn parse(raw: Option<&str>) -> Result<QuestionSort, AppError> {
        let raw = raw.map(str::trim).unwrap_or_default();
        if raw.is_empty() {
            return Ok(QuestionSort::DEFAULT);
        }
        let (descending, name) = match raw.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, raw),
        };
        let column = QuestionColumn::ALL.into_iter().find(|column| column.as_str() == name).ok_or_else(|| {
            AppError::Invalid {
                field: "sort".into(),
                message: format!(
                    "{raw:?} is not a column to sort by: question, pack, asked, answer_rate, skip_rate or median, \
                     with a leading - for largest first"
                ),
            }
        })?;
        Ok(QuestionSort { column, descending })
    }

    /// The value of the `sort` parameter.
    pub fn as_param(self) -> String {
        format!("{}{}", if self.descending { "-" } else { "" }, self.column.as_str())
    }

    /// Where a click on `column`'s heading goes: the other direction of the current column, or
    /// another column in its first order.
    pub fn after_click_on(self, column: QuestionColumn) -> QuestionSort {
        if self.column == column {
            QuestionSort { column, descending: !self.descending }
        } else {
            QuestionSort { column, descending: column.first_descending() }
        }
    }
}

/// Which chart's numbers a CSV download holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Chart {
    Participation,
    Questions,
    Heatmap,
    Packs,
}

impl Chart {
    pub fn as_str(self) -> &'static str {
        match self {
            Chart::Participation => "participation",
            Chart::Questions => "questions",
            Chart::Heatmap => "heatmap",
            Chart::Packs => "packs",
        }
    }

    pub fn parse(raw: &str) -> Result<Chart, AppError> {
        match raw {
            "participation" => Ok(Chart::Participation),
            "questions" => Ok(Chart::Questions),
            "heatmap" => Ok(Chart::Heatmap),
            "packs" => Ok(Chart::Packs),
            other => Err(AppError::Invalid {
                field: "chart".into(),
                message: format!("{other:?} is not a chart: participation, questions, heatmap or packs"),
            }),
        }
    }

    /// The name the download is saved under.
    pub fn filename(self) -> &'static str {
        match self {
            Chart::Participation => "insights-participation.csv",
            Chart::Questions => "insights-questions.csv",
            Chart::Heatmap => "insights-heatmap.csv",
            Chart::Packs => "insights-packs.csv",
        }
    }
}

/// Everything `/admin/insights` shows for one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Insights {
    pub period: Period,
    pub sort: QuestionSort,
    /// The first Monday 00:00 UTC of the period, and the end of its last week (Unix ms,
    /// exclusive).
    pub starts_at: i64,
    pub ends_at: i64,
    /// Every week of the period, oldest first, empty weeks included.
    pub weeks: Vec<WeekStats>,
    /// Every question asked in the period, sorted by `sort`.
    pub questions: Vec<QuestionStats>,
    /// Every pack a question was asked from in the period, by name.
    pub packs: Vec<PackStats>,
    pub heatmap: Heatmap,
}

/// One week of participation: the questions sent that week and what became of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeekStats {
    /// The week's Monday, 00:00 UTC (Unix ms).
    pub week_start: i64,
    /// Questions sent (delivered to the member).
    pub asked: i64,
    pub answered: i64,
    pub skipped: i64,
    /// Left unanswered until the member's next round.
    pub expired: i64,
}

impl WeekStats {
    pub const HEADINGS: [&'static str; 6] = ["Week (Monday)", "Asked", "Answered", "Skipped", "Expired", "Answer rate"];

    /// The row as the table and the CSV show it, under [`WeekStats::HEADINGS`].
    pub fn cells(&self) -> [String; 6] {
        [
            iso_date(self.week_start),
            self.asked.to_string(),
            self.answered.to_string(),
            self.skipped.to_string(),
            self.expired.to_string(),
            percent(self.answered, self.asked),
        ]
    }
}

/// Whether a question is among the best or the worst answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mark {
    Best,
    Worst,
}

impl Mark {
    pub fn label(self) -> String {
        match self {
            Mark::Best => format!("Top {RANKED}"),
            Mark::Worst => format!("Bottom {RANKED}"),
        }
    }
}

/// One question's numbers over the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionStats {
    pub question_id: String,
    pub question: String,
    pub pack: String,
    pub asked: i64,
    pub answered: i64,
    pub skipped: i64,
    /// The median time from the question's arrival to its answer (ms); `None` with no answer.
    pub median_answer_ms: Option<i64>,
    /// Among the best or worst answered (see [`MIN_ASKS_TO_RANK`]).
    pub mark: Option<Mark>,
}

impl QuestionStats {
    pub const MARK_HEADING: &'static str = "Rank";

    /// The row as the table and the CSV show it: the columns of [`QuestionColumn::ALL`], then
    /// the mark.
    pub fn cells(&self) -> [String; 7] {
        [
            self.question.clone(),
            self.pack.clone(),
            self.asked.to_string(),
            percent(self.answered, self.asked),
            percent(self.skipped, self.asked),
            format_wait(self.median_answer_ms),
            self.mark.map(Mark::label).unwrap_or_default(),
        ]
    }
}

/// One pack's numbers over the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackStats {
    pub pack_id: String,
    pub pack: String,
    pub asked: i64,
    pub answered: i64,
    pub skipped: i64,
}

impl PackStats {
    pub const HEADINGS: [&'static str; 6] = ["Pack", "Asked", "Answered", "Skipped", "Answer rate", "Skip rate"];

    /// The row as the table and the CSV show it, under [`PackStats::HEADINGS`].
    pub fn cells(&self) -> [String; 6] {
        [
            self.pack.clone(),
            self.asked.to_string(),
            self.answered.to_string(),
            self.skipped.to_string(),
            percent(self.answered, self.asked),
            percent(self.skipped, self.asked),
        ]
    }
}

/// Answers by the weekday and hour they were given, in each member's own time zone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heatmap {
    /// `counts[weekday][hour]`, Monday = 0, hour 0..=23 local.
    pub counts: [[i64; 24]; 7],
}

impl Heatmap {
    /// The heading of the weekday column, then the hours.
    pub fn headings() -> Vec<String> {
        std::iter::once("Weekday".to_owned()).chain((0..24).map(hour_label)).collect()
    }

    /// The rows as the table and the CSV show them, under [`Heatmap::headings`].
    pub fn rows(&self) -> Vec<Vec<String>> {
        WEEKDAYS
            .iter()
            .zip(&self.counts)
            .map(|(day, hours)| {
                std::iter::once((*day).to_owned()).chain(hours.iter().map(i64::to_string)).collect::<Vec<String>>()
            })
            .collect()
    }

    pub fn total(&self) -> i64 {
        self.counts.iter().flatten().sum()
    }
}

/// `09:00` for hour 9.
pub fn hour_label(hour: usize) -> String {
    format!("{hour:02}:00")
}

/// `part` of `whole` as a percentage with one decimal (`66.7%`), or `-` when `whole` is 0.
/// Worked out in integers, so the page and the CSV always print the same text.
pub fn percent(part: i64, whole: i64) -> String {
    if whole <= 0 {
        return "-".to_owned();
    }
    // Tenths of a percent, rounded half up.
    let tenths = (part * 2000 + whole) / (2 * whole);
    format!("{}.{}%", tenths / 10, tenths % 10)
}

/// A time to answer as people read it: `under 1 min`, `45 min`, `2 h 5 min`, `3 d 4 h`; `-`
/// when there is none.
pub fn format_wait(ms: Option<i64>) -> String {
    let Some(ms) = ms else { return "-".to_owned() };
    if ms < 60_000 {
        return "under 1 min".to_owned();
    }
    let minutes = (ms + 30_000) / 60_000;
    if minutes < 60 {
        format!("{minutes} min")
    } else if minutes < 24 * 60 {
        format!("{} h {} min", minutes / 60, minutes % 60)
    } else {
        let hours = (minutes + 30) / 60;
        format!("{} d {} h", hours / 24, hours % 24)
    }
}

/// A week's Monday as `2026-11-02`.
pub fn iso_date(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(|at| at.format("%Y-%m-%d").to_string()).unwrap_or_default()
}

/// A week's Monday as a chart's axis shows it: `2 Nov`.
pub fn short_date(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(|at| at.format("%-d %b").to_string()).unwrap_or_default()
}

/// The encoding of a CSV download: the text as it is, `text/csv`, so a plain link saves a
/// file a spreadsheet opens (JSON, the default, would wrap it in quotes and escapes).
pub struct CsvEncoding;

/// The output codec of a server function that answers with a CSV file.
pub type Csv = Post<CsvEncoding>;

impl ContentType for CsvEncoding {
    const CONTENT_TYPE: &'static str = "text/csv; charset=utf-8";
}

impl FormatType for CsvEncoding {
    const FORMAT_TYPE: Format = Format::Text;
}

impl Encodes<String> for CsvEncoding {
    type Error = std::convert::Infallible;

    fn encode(output: &String) -> Result<Bytes, Self::Error> {
        Ok(Bytes::from(output.clone()))
    }
}

impl Decodes<String> for CsvEncoding {
    type Error = std::string::FromUtf8Error;

    fn decode(bytes: Bytes) -> Result<String, Self::Error> {
        String::from_utf8(bytes.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_is_4_12_or_52_weeks_and_anything_else_names_the_field() {
        assert_eq!(Period::parse(None), Ok(Period::DEFAULT));
        assert_eq!(Period::parse(Some("")).map(Period::weeks), Ok(12));
        assert_eq!(Period::parse(Some("4")).map(Period::weeks), Ok(4));
        assert_eq!(Period::parse(Some("52")).map(Period::weeks), Ok(52));
        for refused in ["5", "0", "-4", "twelve", "12.0"] {
            assert!(
                matches!(Period::parse(Some(refused)), Err(AppError::Invalid { field, .. }) if field == "weeks"),
                "{refused}"
            );
        }
    }

    #[test]
    fn a_sort_names_a_column_and_a_leading_minus_sorts_largest_first() {
        assert_eq!(QuestionSort::parse(None), Ok(QuestionSort::DEFAULT));
        assert_eq!(
            QuestionSort::parse(Some("-median")),
            Ok(QuestionSort { column: QuestionColumn::Median, descending: true })
        );
        assert_eq!(
            QuestionSort::parse(Some("pack")),
            Ok(QuestionSort { column: QuestionColumn::Pack, descending: false })
        );
        assert!(matches!(QuestionSort::parse(Some("text")), Err(AppError::Invalid { field, .. }) if field == "sort"));
        for column in QuestionColumn::ALL {
            for descending in [false, true] {
                let sort = QuestionSort { column, descending };
                assert_eq!(QuestionSort::parse(Some(&sort.as_param())), Ok(sort));
            }
        }
    }

    #[test]
    fn a_click_on_the_sorted_column_turns_it_round_and_on_another_sorts_by_it() {
        let by_rate = QuestionSort::DEFAULT;
        assert!(!by_rate.after_click_on(QuestionColumn::AnswerRate).descending);
        assert_eq!(
            by_rate.after_click_on(QuestionColumn::Question),
            QuestionSort { column: QuestionColumn::Question, descending: false }
        );
        assert_eq!(
            by_rate.after_click_on(QuestionColumn::Asked),
            QuestionSort { column: QuestionColumn::Asked, descending: true }
        );
    }

    #[test]
    fn a_chart_is_read_by_its_name() {
        for chart in [Chart::Participation, Chart::Questions, Chart::Heatmap, Chart::Packs] {
            assert_eq!(Chart::parse(chart.as_str()), Ok(chart));
        }
        assert!(matches!(Chart::parse("pie"), Err(AppError::Invalid { field, .. }) if field == "chart"));
    }

    #[test]
    fn a_rate_has_one_decimal_and_nothing_asked_has_no_rate() {
        assert_eq!(percent(2, 3), "66.7%");
        assert_eq!(percent(1, 3), "33.3%");
        assert_eq!(percent(1, 2), "50.0%");
        assert_eq!(percent(3, 3), "100.0%");
        assert_eq!(percent(0, 4), "0.0%");
        assert_eq!(percent(1, 8), "12.5%");
        assert_eq!(percent(0, 0), "-");
    }

    #[test]
    fn a_wait_reads_in_minutes_hours_or_days() {
        assert_eq!(format_wait(None), "-");
        assert_eq!(format_wait(Some(59_000)), "under 1 min");
        assert_eq!(format_wait(Some(45 * 60_000)), "45 min");
        assert_eq!(format_wait(Some(125 * 60_000)), "2 h 5 min");
        assert_eq!(format_wait(Some((3 * 24 + 4) * 3_600_000)), "3 d 4 h");
    }

    #[test]
    fn a_week_is_labelled_by_its_monday() {
        // 2026-11-02T00:00:00Z, a Monday.
        assert_eq!(iso_date(1_793_577_600_000), "2026-11-02");
        assert_eq!(short_date(1_793_577_600_000), "2 Nov");
    }

    #[test]
    fn the_heatmap_table_has_a_row_per_weekday_and_a_column_per_hour() {
        let mut heatmap = Heatmap::default();
        heatmap.counts[4][9] = 2;
        let rows = heatmap.rows();
        assert_eq!(Heatmap::headings().len(), 25);
        assert_eq!(rows.len(), 7);
        assert_eq!(rows[4][0], "Fri");
        assert_eq!(rows[4][10], "2");
        assert_eq!(heatmap.total(), 2);
    }
}
