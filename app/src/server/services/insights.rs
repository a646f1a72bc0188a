//! Insights for admins: participation per week, per question and per pack, and when people
//! answer, over the last 4, 12 or 52 weeks of the admin's workspace, on the page and as CSV.
//! The numbers are SQL aggregates (`db::insights`); this module fills in the empty weeks,
//! lays the answer hours out by weekday, ranks and sorts the questions, and writes the CSV
//! files with the same text as the page's tables.

use std::{cmp::Ordering, collections::HashMap};

use crate::{
    error::AppError,
    features::insights::types::{
        Chart, Heatmap, Insights, MIN_ASKS_TO_RANK, Mark, PackStats, Period, QuestionColumn, QuestionSort,
        QuestionStats, RANKED, WeekStats,
    },
    server::{
        db::insights::{self, AnswerHourRow, MONDAY_EPOCH_OFFSET_MS, WEEK_MS},
        viewer::Viewer,
    },
};

/// The span a period covers: whole weeks, Monday 00:00 UTC to Monday 00:00 UTC, the last one
/// the week of `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub starts_at: i64,
    /// Exclusive.
    pub ends_at: i64,
}

impl Span {
    pub fn of(period: Period, now_ms: i64) -> Span {
        let this_week = week_start(now_ms);
        Span { starts_at: this_week - (i64::from(period.weeks()) - 1) * WEEK_MS, ends_at: this_week + WEEK_MS }
    }
}

/// The Monday 00:00 UTC starting the week of `ms`.
pub fn week_start(ms: i64) -> i64 {
    MONDAY_EPOCH_OFFSET_MS + (ms - MONDAY_EPOCH_OFFSET_MS).div_euclid(WEEK_MS) * WEEK_MS
}

/// Everything `/admin/insights` shows for the viewer's workspace over `period`, the questions
/// sorted by `sort`.
pub async fn overview(viewer: &Viewer, period: Period, sort: QuestionSort, now_ms: i64) -> Result<Insights, AppError> {
    let span = Span::of(period, now_ms);
    Ok(Insights {
        period,
        sort,
        starts_at: span.starts_at,
        ends_at: span.ends_at,
        weeks: participation(viewer, span).await?,
        questions: questions(viewer, span, sort).await?,
        packs: packs(viewer, span).await?,
        heatmap: heatmap(viewer, span).await?,
    })
}

/// One chart's numbers as a CSV file: a header row, then the rows of the page's table with
/// the same text.
pub async fn chart_csv(
    viewer: &Viewer,
    chart: Chart,
    period: Period,
    sort: QuestionSort,
    now_ms: i64,
) -> Result<String, AppError> {
    let span = Span::of(period, now_ms);
    match chart {
        Chart::Participation => {
            let weeks = participation(viewer, span).await?;
            write_csv(WeekStats::HEADINGS.map(str::to_owned), weeks.iter().map(WeekStats::cells))
        }
        Chart::Questions => {
            let questions = questions(viewer, span, sort).await?;
            let headings = QuestionColumn::ALL
                .map(|column| column.heading().to_owned())
                .into_iter()
                .chain([QuestionStats::MARK_HEADING.to_owned()]);
            write_csv(headings, questions.iter().map(QuestionStats::cells))
        }
        Chart::Heatmap => {
            let heatmap = heatmap(viewer, span).await?;
            write_csv(Heatmap::headings(), heatmap.rows())
        }
        Chart::Packs => {
            let packs = packs(viewer, span).await?;
            write_csv(PackStats::HEADINGS.map(str::to_owned), packs.iter().map(PackStats::cells))
        }
    }
}

/// Every week of the span, oldest first; a week nothing was sent in has zeros.
async fn participation(viewer: &Viewer, span: Span) -> Result<Vec<WeekStats>, AppError> {
    let counted = insights::count_by_week(viewer.db.pool(), &viewer.workspace_id, span.starts_at, span.ends_at).await?;
    let mut counted: HashMap<i64, insights::WeekCountRow> =
        counted.into_iter().map(|row| (row.week_start, row)).collect();
    let weeks = (0..(span.ends_at - span.starts_at) / WEEK_MS).map(|index| span.starts_at + index * WEEK_MS);
    Ok(weeks
        .map(|week_start| match counted.remove(&week_start) {
            Some(row) => WeekStats {
                week_start,
                asked: row.asked,
                answered: row.answered,
                skipped: row.skipped,
                expired: row.expired,
            },
            None => WeekStats { week_start, asked: 0, answered: 0, skipped: 0, expired: 0 },
        })
        .collect())
}

/// Every question asked in the span, ranked and sorted.
async fn questions(viewer: &Viewer, span: Span, sort: QuestionSort) -> Result<Vec<QuestionStats>, AppError> {
    let rows =
        insights::count_by_question(viewer.db.pool(), &viewer.workspace_id, span.starts_at, span.ends_at).await?;
    let mut questions: Vec<QuestionStats> = rows
        .into_iter()
        .map(|row| QuestionStats {
            question_id: row.question_id,
            question: row.question,
            pack: row.pack_name,
            asked: row.asked,
            answered: row.answered,
            skipped: row.skipped,
            median_answer_ms: row.median_answer_ms,
            mark: None,
        })
        .collect();
    mark_best_and_worst(&mut questions);
    sort_questions(&mut questions, sort);
    Ok(questions)
}

/// Every pack asked from in the span, by name.
async fn packs(viewer: &Viewer, span: Span) -> Result<Vec<PackStats>, AppError> {
    let rows = insights::count_by_pack(viewer.db.pool(), &viewer.workspace_id, span.starts_at, span.ends_at).await?;
    let mut packs: Vec<PackStats> = rows
        .into_iter()
        .map(|row| PackStats {
            pack_id: row.pack_id,
            pack: row.pack_name,
            asked: row.asked,
            answered: row.answered,
            skipped: row.skipped,
        })
        .collect();
    // Sorted here, not in SQL: SQLite and PostgreSQL order accents and case differently.
    packs.sort_by_cached_key(|pack| (pack.pack.to_lowercase(), pack.pack_id.clone()));
    Ok(packs)
}

/// The answers given in the span by local weekday and hour (each answer keeps the hour of
/// the week it was given in its member's own time zone, `db::answers::insert`).
async fn heatmap(viewer: &Viewer, span: Span) -> Result<Heatmap, AppError> {
    let hours =
        insights::count_answers_by_local_hour(viewer.db.pool(), &viewer.workspace_id, span.starts_at, span.ends_at)
            .await?;
    Ok(heatmap_of(&hours))
}

/// Lays the counts per hour of the week out by weekday (Monday first) and hour.
fn heatmap_of(hours: &[AnswerHourRow]) -> Heatmap {
    let mut heatmap = Heatmap::default();
    for row in hours {
        let (Ok(day), Ok(hour)) = (usize::try_from(row.hour_of_week / 24), usize::try_from(row.hour_of_week % 24))
        else {
            continue;
        };
        if let Some(cell) = heatmap.counts.get_mut(day).and_then(|hours| hours.get_mut(hour)) {
            *cell += row.answers;
        }
    }
    heatmap
}

/// Marks the best and worst answered questions among those asked at least
/// [`MIN_ASKS_TO_RANK`] times: up to [`RANKED`] each, and never one question as both (with
/// few ranked questions, the better half are the best and the rest the worst).
fn mark_best_and_worst(questions: &mut [QuestionStats]) {
    let mut ranked: Vec<usize> = (0..questions.len()).filter(|&i| questions[i].asked >= MIN_ASKS_TO_RANK).collect();
    ranked.sort_by(|&a, &b| {
        let (a, b) = (&questions[a], &questions[b]);
        compare_rates(b.answered, b.asked, a.answered, a.asked)
            .then_with(|| b.asked.cmp(&a.asked))
            .then_with(|| a.question_id.cmp(&b.question_id))
    });
    let best = RANKED.min(ranked.len().div_ceil(2));
    let worst = RANKED.min(ranked.len() - best);
    for &index in &ranked[..best] {
        questions[index].mark = Some(Mark::Best);
    }
    for &index in &ranked[ranked.len() - worst..] {
        questions[index].mark = Some(Mark::Worst);
    }
}

/// Sorts the questions by `sort`; ties by question, then id. A question with no answer has no
/// median and comes last either way.
fn sort_questions(questions: &mut [QuestionStats], sort: QuestionSort) {
    questions.sort_by(|a, b| {
        let by_column = match sort.column {
            QuestionColumn::Question => a.question.to_lowercase().cmp(&b.question.to_lowercase()),
            QuestionColumn::Pack => a.pack.to_lowercase().cmp(&b.pack.to_lowercase()),
            QuestionColumn::Asked => a.asked.cmp(&b.asked),
            QuestionColumn::AnswerRate => compare_rates(a.answered, a.asked, b.answered, b.asked),
            QuestionColumn::SkipRate => compare_rates(a.skipped, a.asked, b.skipped, b.asked),
            QuestionColumn::Median => match (a.median_answer_ms, b.median_answer_ms) {
                (Some(a), Some(b)) if sort.descending => b.cmp(&a),
                (Some(a), Some(b)) => a.cmp(&b),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            },
        };
        // The median already put itself in order (its missing values stay last).
        let by_column =
            if sort.descending && sort.column != QuestionColumn::Median { by_column.reverse() } else { by_column };
        by_column
            .then_with(|| a.question.to_lowercase().cmp(&b.question.to_lowercase()))
            .then_with(|| a.question_id.cmp(&b.question_id))
    });
}

/// Compares `a_part / a_whole` with `b_part / b_whole` exactly (no floating point); a rate of
/// nothing asked counts as 0.
fn compare_rates(a_part: i64, a_whole: i64, b_part: i64, b_whole: i64) -> Ordering {
    match (a_whole > 0, b_whole > 0) {
        (true, true) => (i128::from(a_part) * i128::from(b_whole)).cmp(&(i128::from(b_part) * i128::from(a_whole))),
        (true, false) => a_part.cmp(&0),
        (false, true) => 0.cmp(&b_part),
        (false, false) => Ordering::Equal,
    }
}

/// A CSV file of `headings` and `rows`.
fn write_csv<H, R, C>(headings: H, rows: R) -> Result<String, AppError>
where
    H: IntoIterator<Item = String>,
    R: IntoIterator<Item = C>,
    C: IntoIterator<Item = String>,
{
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(headings).map_err(AppError::internal)?;
    for row in rows {
        writer.write_record(row).map_err(AppError::internal)?;
    }
    let bytes = writer.into_inner().map_err(|error| AppError::internal(anyhow::anyhow!("{error}")))?;
    String::from_utf8(bytes).map_err(AppError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(rfc3339: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(rfc3339).map(|t| t.timestamp_millis()).unwrap_or_default()
    }

    fn question(id: &str, asked: i64, answered: i64, skipped: i64, median: Option<i64>) -> QuestionStats {
        QuestionStats {
            question_id: id.into(),
            question: format!("Question {id}"),
            pack: "Pack".into(),
            asked,
            answered,
            skipped,
            median_answer_ms: median,
            mark: None,
        }
    }

    #[test]
    fn weeks_start_on_monday_at_midnight_utc() {
        assert_eq!(week_start(at("2026-11-25T12:00:00Z")), at("2026-11-23T00:00:00Z"));
        assert_eq!(week_start(at("2026-11-23T00:00:00Z")), at("2026-11-23T00:00:00Z"));
        assert_eq!(week_start(at("2026-11-22T23:59:59.999Z")), at("2026-11-16T00:00:00Z"));
        assert_eq!(week_start(at("1970-01-01T00:00:00Z")), at("1969-12-29T00:00:00Z"));
    }

    #[test]
    fn a_period_is_its_weeks_up_to_the_end_of_this_one() {
        let now = at("2026-11-25T12:00:00Z");
        let four = Span::of(Period::parse(Some("4")).unwrap(), now);
        assert_eq!(four, Span { starts_at: at("2026-11-02T00:00:00Z"), ends_at: at("2026-11-30T00:00:00Z") });
        let year = Span::of(Period::parse(Some("52")).unwrap(), now);
        assert_eq!((year.ends_at - year.starts_at) / WEEK_MS, 52);
    }

    #[test]
    fn each_hour_of_the_week_lands_on_its_weekday_and_hour() {
        let hours = [
            AnswerHourRow { hour_of_week: 0, answers: 2 },
            AnswerHourRow { hour_of_week: 4 * 24 + 9, answers: 3 },
            AnswerHourRow { hour_of_week: 167, answers: 1 },
        ];
        let heatmap = heatmap_of(&hours);
        assert_eq!(heatmap.counts[0][0], 2, "Monday 00:00");
        assert_eq!(heatmap.counts[4][9], 3, "Friday 09:00");
        assert_eq!(heatmap.counts[6][23], 1, "Sunday 23:00");
        assert_eq!(heatmap.total(), 6);
    }

    #[test]
    fn the_best_and_worst_are_ranked_among_questions_asked_often_enough() {
        let mut questions = vec![
            question("a", 4, 4, 0, None),
            question("b", 4, 3, 0, None),
            question("c", 3, 2, 1, None),
            question("d", 5, 2, 0, None),
            question("e", 4, 1, 2, None),
            question("f", 3, 0, 3, None),
            question("g", 3, 1, 0, None),
            // Never ranked: asked too rarely, however well answered.
            question("rare", 2, 2, 0, None),
        ];
        mark_best_and_worst(&mut questions);
        let marked = |mark| {
            questions.iter().filter(|q| q.mark == Some(mark)).map(|q| q.question_id.as_str()).collect::<Vec<_>>()
        };
        assert_eq!(marked(Mark::Best), ["a", "b", "c"]);
        assert_eq!(marked(Mark::Worst), ["e", "f", "g"]);
    }

    #[test]
    fn with_few_questions_none_is_both_best_and_worst() {
        let mut one = vec![question("a", 3, 1, 0, None)];
        mark_best_and_worst(&mut one);
        assert_eq!(one[0].mark, Some(Mark::Best));
        let mut two = vec![question("a", 3, 1, 0, None), question("b", 3, 3, 0, None)];
        mark_best_and_worst(&mut two);
        assert_eq!((two[0].mark, two[1].mark), (Some(Mark::Worst), Some(Mark::Best)));
    }

    #[test]
    fn questions_sort_by_any_column_either_way_and_missing_medians_come_last() {
        let mut questions = vec![
            question("a", 2, 1, 1, Some(5_000)),
            question("b", 4, 4, 0, None),
            question("c", 3, 1, 0, Some(1_000)),
        ];
        let ids = |questions: &[QuestionStats]| questions.iter().map(|q| q.question_id.clone()).collect::<Vec<_>>();
        let sort = |column, descending| QuestionSort { column, descending };
        sort_questions(&mut questions, sort(QuestionColumn::AnswerRate, true));
        assert_eq!(ids(&questions), ["b", "a", "c"]);
        sort_questions(&mut questions, sort(QuestionColumn::AnswerRate, false));
        assert_eq!(ids(&questions), ["c", "a", "b"]);
        sort_questions(&mut questions, sort(QuestionColumn::Asked, true));
        assert_eq!(ids(&questions), ["b", "c", "a"]);
        sort_questions(&mut questions, sort(QuestionColumn::SkipRate, true));
        assert_eq!(ids(&questions), ["a", "b", "c"]);
        sort_questions(&mut questions, sort(QuestionColumn::Median, false));
        assert_eq!(ids(&questions), ["c", "a", "b"]);
        sort_questions(&mut questions, sort(QuestionColumn::Median, true));
        assert_eq!(ids(&questions), ["a", "c", "b"]);
        sort_questions(&mut questions, sort(QuestionColumn::Question, true));
        assert_eq!(ids(&questions), ["c", "b", "a"]);
    }

    #[test]
    fn a_csv_has_its_header_row_then_the_rows() {
        let csv = write_csv(["Pack".to_owned(), "Asked".to_owned()], [vec!["Fun, mostly".to_owned(), "3".to_owned()]]);
        assert_eq!(csv.ok().as_deref(), Some("Pack,Asked\n\"Fun, mostly\",3\n"));
    }
}
