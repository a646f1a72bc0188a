//! `/admin/insights`: how the workspace takes part over the last 4, 12 or 52 weeks: questions
//! asked and answered per week, each question's and each pack's answer rate, and when people
//! answer in their own time. Every chart has a table of the same numbers under it and a CSV
//! download; the period and the sort are plain links, so all of it works before the script
//! runs.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{
    api::get_insights,
    types::{
        Chart, Heatmap, Insights, MIN_ASKS_TO_RANK, Mark, PackStats, Period, QuestionColumn, QuestionSort,
        QuestionStats, RANKED, WEEKDAYS, WeekStats, hour_label, percent, short_date,
    },
};
use crate::components::{
    AdminNav, AppErrorBoundary, BarChart, BarGroup, Fill, HeatmapChart, RateBar, RateChart, Series, format_date,
};

/// `/admin/insights?weeks=12&sort=-answer_rate`.
#[component]
pub fn InsightsPage() -> impl IntoView {
    let query = use_query_map();
    let weeks = move || query.read().get("weeks");
    let sort = move || query.read().get("sort");
    let insights = Resource::new(move || (weeks(), sort()), |(weeks, sort)| get_insights(weeks, sort));
    view! {
        <Title text="Insights"/>
        <h1>"Insights"</h1>
        <AdminNav/>
        {move || {
            // The links keep a valid sort; a period or sort the server refuses shows its error below.
            let current = Period::parse(weeks().as_deref()).ok();
            let sort = QuestionSort::parse(sort().as_deref()).unwrap_or(QuestionSort::DEFAULT);
            view! { <PeriodPicker current sort/> }
        }}
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            <AppErrorBoundary>
                {move || Suspend::new(async move { insights.await.map(|insights| view! { <Report insights/> }) })}
            </AppErrorBoundary>
        </Suspense>
    }
}

/// The address of the page for `period` and `sort`.
fn page_href(period: Period, sort: QuestionSort) -> String {
    format!("/admin/insights?weeks={}&sort={}", period.weeks(), sort.as_param())
}

/// The address of `chart`'s CSV for `period` and `sort`.
fn csv_href(chart: Chart, period: Period, sort: QuestionSort) -> String {
    format!("/api/insights/csv?chart={}&weeks={}&sort={}", chart.as_str(), period.weeks(), sort.as_param())
}

/// The periods to pick from, the current one marked.
#[component]
fn PeriodPicker(current: Option<Period>, sort: QuestionSort) -> impl IntoView {
    view! {
        <nav class="period-picker" aria-label="Period">
            {Period::ALL
                .into_iter()
                .map(|period| {
                    let chosen = current == Some(period);
                    view! {
                        <a href=page_href(period, sort) aria-current=chosen.then_some("page")>
                            {period.label()}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
    }
}

#[component]
fn Report(insights: Insights) -> impl IntoView {
    let Insights { period, sort, starts_at, ends_at, weeks, questions, packs, heatmap } = insights;
    view! {
        <p class="insights-span">
            {format!(
                "{}: from Monday {} to Sunday {}. Weeks start on Monday at 00:00 UTC; a question counts in the week it was sent.",
                period.label(),
                format_date(starts_at),
                format_date(ends_at - 1),
            )}
        </p>
        <Participation weeks csv=csv_href(Chart::Participation, period, sort)/>
        <Questions questions period sort csv=csv_href(Chart::Questions, period, sort)/>
        <AnswerTimes heatmap csv=csv_href(Chart::Heatmap, period, sort)/>
        <Packs packs csv=csv_href(Chart::Packs, period, sort)/>
    }
}

/// 1. Questions asked, answered, skipped and expired per week.
#[component]
fn Participation(weeks: Vec<WeekStats>, csv: String) -> impl IntoView {
    let asked: i64 = weeks.iter().map(|week| week.asked).sum();
    let answered: i64 = weeks.iter().map(|week| week.answered).sum();
    let desc = format!(
        "Bars per week, Monday's date under each: hatched for questions asked, solid for questions answered. \
         In all {} weeks: {asked} asked, {answered} answered, an answer rate of {}.",
        weeks.len(),
        percent(answered, asked),
    );
    let series = vec![
        Series { name: "Asked".to_owned(), fill: Fill::Hatched },
        Series { name: "Answered".to_owned(), fill: Fill::Solid },
    ];
    let groups: Vec<BarGroup> = weeks
        .iter()
        .map(|week| BarGroup { label: short_date(week.week_start), values: vec![week.asked, week.answered] })
        .collect();
    let headings = WeekStats::HEADINGS.map(str::to_owned).to_vec();
    let rows: Vec<Vec<String>> = weeks.iter().map(|week| week.cells().to_vec()).collect();
    view! {
        <section class="insights-section" aria-labelledby="participation-heading">
            <h2 id="participation-heading">"Participation over time"</h2>
            <BarChart id="participation" title="Questions asked and answered per week" desc series groups/>
            <NumbersTable caption="Participation per week" headings rows/>
            <CsvLink href=csv chart=Chart::Participation/>
        </section>
    }
}

/// 2. Each question's numbers, sortable by any column, the best and worst marked.
#[component]
fn Questions(questions: Vec<QuestionStats>, period: Period, sort: QuestionSort, csv: String) -> impl IntoView {
    let headings = QuestionColumn::ALL
        .into_iter()
        .map(|column| {
            let sorted = (sort.column == column).then_some(if sort.descending { "descending" } else { "ascending" });
            let arrow = match sorted {
                Some("descending") => " ▼",
                Some(_) => " ▲",
                None => "",
            };
            view! {
                <th scope="col" aria-sort=sorted>
                    <a href=page_href(period, sort.after_click_on(column))>
                        {column.heading()}
                        <span aria-hidden="true">{arrow}</span>
                    </a>
                </th>
            }
        })
        .collect_view();
    let body = if questions.is_empty() {
        view! { <p class="empty">"No question was sent in this period."</p> }.into_any()
    } else {
        let rows = questions.iter().map(|question| view! { <QuestionRow question=question.clone()/> }).collect_view();
        view! {
            // Focusable, so a keyboard can scroll a table wider than the screen.
            <div class="table-scroll" tabindex="0" role="region" aria-label="Each question asked in the period">
                <table class="numbers question-stats">
                    <caption>"Each question asked in the period"</caption>
                    <thead>
                        <tr>
                            {headings}
                            <th scope="col">{QuestionStats::MARK_HEADING}</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <section class="insights-section" aria-labelledby="questions-heading">
            <h2 id="questions-heading">"Per question"</h2>
            <p>
                {format!(
                    "Sort by any column with its heading. The {RANKED} best and {RANKED} worst answered questions \
                     are marked, among those asked at least {MIN_ASKS_TO_RANK} times. The time to answer runs from \
                     the question's arrival in Slack to the answer."
                )}
            </p>
            {body}
            <CsvLink href=csv chart=Chart::Questions/>
        </section>
    }
}

#[component]
fn QuestionRow(question: QuestionStats) -> impl IntoView {
    let [text, pack, asked, answer_rate, skip_rate, median, mark_text] = question.cells();
    let mark_class = match question.mark {
        Some(Mark::Best) => "tag tag-best",
        Some(Mark::Worst) => "tag tag-worst",
        None => "tag",
    };
    view! {
        <tr>
            <th scope="row">{text}</th>
            <td>{pack}</td>
            <td class="number">{asked}</td>
            <td class="number">{answer_rate}</td>
            <td class="number">{skip_rate}</td>
            <td class="number">{median}</td>
            <td>{question.mark.map(|_| view! { <span class=mark_class>{mark_text}</span> })}</td>
        </tr>
    }
}

/// 3. Answers by weekday and hour, in each member's own time.
#[component]
fn AnswerTimes(heatmap: Heatmap, csv: String) -> impl IntoView {
    let busiest = heatmap
        .counts
        .iter()
        .enumerate()
        .flat_map(|(day, hours)| hours.iter().enumerate().map(move |(hour, &count)| (count, day, hour)))
        .filter(|&(count, _, _)| count > 0)
        // The earliest of equally busy cells.
        .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(&a.1)).then_with(|| b.2.cmp(&a.2)));
    let busiest = match busiest {
        Some((count, day, hour)) => format!(
            " The busiest hour is {} {}–{} with {count}.",
            WEEKDAYS.get(day).copied().unwrap_or_default(),
            hour_label(hour),
            hour_label((hour + 1) % 24),
        ),
        None => String::new(),
    };
    let desc = format!(
        "A grid of weekdays (rows, Monday first) by hours of the day (columns), in each member's own time zone; \
         each cell shows its number of answers and is darker the more there are. {} answers in all.{busiest}",
        heatmap.total(),
    );
    let column_labels: Vec<String> = (0..24).map(|hour| format!("{hour:02}")).collect();
    let counts: Vec<Vec<i64>> = heatmap.counts.iter().map(|hours| hours.to_vec()).collect();
    view! {
        <section class="insights-section" aria-labelledby="answer-times-heading">
            <h2 id="answer-times-heading">"When people answer"</h2>
            <p>"In each member's own time zone (the workspace's when Slack gives none), summer time included."</p>
            <HeatmapChart
                id="answer-times"
                title="Answers by weekday and hour, in local time"
                desc
                row_labels=WEEKDAYS.map(str::to_owned).to_vec()
                column_labels
                counts
            />
            <NumbersTable
                caption="Answers by weekday (rows) and local hour (columns)"
                headings=Heatmap::headings()
                rows=heatmap.rows()
            />
            <CsvLink href=csv chart=Chart::Heatmap/>
        </section>
    }
}

/// 4. Each pack's answer rate, to compare packs.
#[component]
fn Packs(packs: Vec<PackStats>, csv: String) -> impl IntoView {
    let desc = if packs.is_empty() {
        "No pack was asked from in this period.".to_owned()
    } else {
        let rates: Vec<String> =
            packs.iter().map(|pack| format!("{}: {}", pack.pack, percent(pack.answered, pack.asked))).collect();
        format!("One bar per pack, its length the share of its questions answered. {}.", rates.join("; "))
    };
    let bars: Vec<RateBar> = packs
        .iter()
        .map(|pack| RateBar {
            label: pack.pack.clone(),
            part: pack.answered,
            whole: pack.asked,
            text: percent(pack.answered, pack.asked),
        })
        .collect();
    let headings = PackStats::HEADINGS.map(str::to_owned).to_vec();
    let rows: Vec<Vec<String>> = packs.iter().map(|pack| pack.cells().to_vec()).collect();
    view! {
        <section class="insights-section" aria-labelledby="packs-heading">
            <h2 id="packs-heading">"Per pack"</h2>
            <RateChart id="packs" title="Answer rate per pack" desc bars/>
            <NumbersTable caption="Each pack asked from in the period" headings rows/>
            <CsvLink href=csv chart=Chart::Packs/>
        </section>
    }
}

/// A table of a chart's numbers: the first column names the row, the rest are numbers.
#[component]
fn NumbersTable(#[prop(into)] caption: String, headings: Vec<String>, rows: Vec<Vec<String>>) -> impl IntoView {
    let headings = headings.into_iter().map(|heading| view! { <th scope="col">{heading}</th> }).collect_view();
    let rows = rows
        .into_iter()
        .map(|row| {
            let mut cells = row.into_iter();
            let name = cells.next().unwrap_or_default();
            let numbers = cells.map(|cell| view! { <td class="number">{cell}</td> }).collect_view();
            view! {
                <tr>
                    <th scope="row">{name}</th>
                    {numbers}
                </tr>
            }
        })
        .collect_view();
    let label = caption.clone();
    view! {
        // Focusable, so a keyboard can scroll a table wider than the screen.
        <div class="table-scroll" tabindex="0" role="region" aria-label=label>
            <table class="numbers">
                <caption>{caption}</caption>
                <thead>
                    <tr>{headings}</tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// The link to a chart's CSV (outside the router: the browser saves the file).
#[component]
fn CsvLink(href: String, chart: Chart) -> impl IntoView {
    view! {
        <p class="csv-link">
            <a href=href rel="external" download=chart.filename()>
                "Download these numbers (CSV)"
            </a>
        </p>
    }
}
