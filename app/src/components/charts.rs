//! Charts drawn as SVG on the server, without a chart library: grouped bars, rate bars and a
//! heatmap. Each is a pure function of its numbers; it names itself for screen readers
//! (`role="img"` labelled by its `<title>` and `<desc>`) and reads without colour (patterns,
//! labels and the numbers themselves). Pages put a table of the same numbers under each.
//! The geometry is plain functions, tested below.

use leptos::prelude::*;

/// The width of every chart, in SVG units (the chart scales to its box).
pub const WIDTH: f64 = 720.0;

/// The colours of the bars: the app's accent, and a pale tint behind hatching.
const INK: &str = "#3b5bdb";
const TINT: &str = "#e9edfc";

/// Where one bar is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BarBox {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// How a series' bars are filled, so series differ without colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    Solid,
    Hatched,
}

/// One series of a bar chart (one bar in every group).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    pub name: String,
    pub fill: Fill,
}

/// One group of bars (a week), with one value per series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BarGroup {
    pub label: String,
    pub values: Vec<i64>,
}

/// The bar chart's frame: its height and the margins around the bars.
const BARS_HEIGHT: f64 = 260.0;
const BARS_TOP: f64 = 44.0;
const BARS_BOTTOM: f64 = 24.0;
const BARS_LEFT: f64 = 44.0;
const BARS_RIGHT: f64 = 8.0;

/// Groups with more bars than this leave the numbers to the table.
const MAX_BARS_WITH_VALUES: usize = 24;

/// At most this many labels under the bars; the others are skipped evenly.
const MAX_GROUP_LABELS: usize = 13;

/// The largest value of all groups (0 when there is none).
pub fn max_value(groups: &[Vec<i64>]) -> i64 {
    groups.iter().flatten().copied().max().unwrap_or(0).max(0)
}

/// Where each bar goes: groups side by side, each `series` bars wide, heights in proportion to
/// the largest value. With nothing above zero every bar is flat on the baseline.
pub fn bar_boxes(groups: &[Vec<i64>], series: usize) -> Vec<Vec<BarBox>> {
    let max = max_value(groups);
    let plot_width = WIDTH - BARS_LEFT - BARS_RIGHT;
    let plot_height = BARS_HEIGHT - BARS_TOP - BARS_BOTTOM;
    let baseline = BARS_HEIGHT - BARS_BOTTOM;
    let group_width = plot_width / groups.len().max(1) as f64;
    let bar_width = group_width * 0.8 / series.max(1) as f64;
    groups
        .iter()
        .enumerate()
        .map(|(group, values)| {
            let left = BARS_LEFT + group as f64 * group_width + group_width * 0.1;
            values
                .iter()
                .enumerate()
                .map(|(bar, &value)| {
                    let height = if max > 0 { value.max(0) as f64 / max as f64 * plot_height } else { 0.0 };
                    BarBox { x: left + bar as f64 * bar_width, y: baseline - height, width: bar_width, height }
                })
                .collect()
        })
        .collect()
}

/// Every how many groups a label is written, so at most `max_labels` are.
pub fn label_step(groups: usize, max_labels: usize) -> usize {
    groups.div_ceil(max_labels.max(1)).max(1)
}

/// A grouped bar chart: one group per label, one bar per series, the value over each bar
/// when there is room, a legend, and the largest value on the axis.
#[component]
pub fn BarChart(
    /// Unique on the page: the chart's `<title>`, `<desc>` and pattern ids start with it.
    id: &'static str,
    #[prop(into)] title: String,
    desc: String,
    series: Vec<Series>,
    groups: Vec<BarGroup>,
) -> impl IntoView {
    let values: Vec<Vec<i64>> = groups.iter().map(|group| group.values.clone()).collect();
    let boxes = bar_boxes(&values, series.len());
    let max = max_value(&values);
    let hatch_id = format!("{id}-hatch");
    let paint = |fill: Fill| match fill {
        Fill::Solid => INK.to_owned(),
        Fill::Hatched => format!("url(#{hatch_id})"),
    };
    let baseline = BARS_HEIGHT - BARS_BOTTOM;
    let with_values = values.iter().map(Vec::len).sum::<usize>() <= MAX_BARS_WITH_VALUES;
    let step = label_step(groups.len(), MAX_GROUP_LABELS);
    let legend = series
        .iter()
        .enumerate()
        .map(|(index, series)| {
            let x = BARS_LEFT + index as f64 * 150.0;
            view! {
                <rect x=number(x) y="8" width="16" height="16" fill=paint(series.fill) stroke=INK/>
                <text x=number(x + 22.0) y="21" class="chart-label">{series.name.clone()}</text>
            }
        })
        .collect_view();
    let bars = groups
        .iter()
        .zip(&boxes)
        .enumerate()
        .map(|(index, (group, boxes))| {
            let rects = boxes
                .iter()
                .zip(&group.values)
                .zip(&series)
                .map(|((bar, value), series)| {
                    let value_label = with_values.then(|| {
                        view! {
                            <text x=number(bar.x + bar.width / 2.0) y=number(bar.y - 4.0) text-anchor="middle" class="chart-value">
                                {value.to_string()}
                            </text>
                        }
                    });
                    view! {
                        <rect
                            x=number(bar.x)
                            y=number(bar.y)
                            width=number(bar.width)
                            height=number(bar.height)
                            fill=paint(series.fill)
                            stroke=INK
                        />
                        {value_label}
                    }
                })
                .collect_view();
            let label = (index % step == 0).then(|| {
                let middle = boxes.first().map_or(0.0, |first| first.x)
                    + boxes.iter().map(|bar| bar.width).sum::<f64>() / 2.0;
                view! {
                    <text x=number(middle) y=number(baseline + 16.0) text-anchor="middle" class="chart-label">
                        {group.label.clone()}
                    </text>
                }
            });
            view! { <g>{rects} {label}</g> }
        })
        .collect_view();
    let empty = (max == 0).then(|| {
        view! {
            <text x=number(WIDTH / 2.0) y=number(BARS_HEIGHT / 2.0) text-anchor="middle" class="chart-empty">
                "Nothing to show for this period"
            </text>
        }
    });
    view! {
        <ChartFrame id title desc height=BARS_HEIGHT>
            <defs>
                <pattern id=hatch_id.clone() width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
                    <rect width="6" height="6" fill=TINT/>
                    <line x1="0" y1="0" x2="0" y2="6" stroke=INK stroke-width="2"/>
                </pattern>
            </defs>
            {legend}
            <line x1=number(BARS_LEFT) y1=number(BARS_TOP) x2=number(WIDTH - BARS_RIGHT) y2=number(BARS_TOP) class="chart-grid"/>
            <text x=number(BARS_LEFT - 6.0) y=number(BARS_TOP + 4.0) text-anchor="end" class="chart-label">
                {max.to_string()}
            </text>
            <line x1=number(BARS_LEFT) y1=number(baseline) x2=number(WIDTH - BARS_RIGHT) y2=number(baseline) class="chart-axis"/>
            <text x=number(BARS_LEFT - 6.0) y=number(baseline + 4.0) text-anchor="end" class="chart-label">"0"</text>
            {bars}
            {empty}
        </ChartFrame>
    }
}

/// One bar of a rate chart: its label, `part` of `whole`, and the rate as the page writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateBar {
    pub label: String,
    pub part: i64,
    pub whole: i64,
    pub text: String,
}

/// The rate chart's frame: one row (label over bar) per bar.
const RATE_ROW: f64 = 40.0;
const RATE_TOP: f64 = 8.0;
const RATE_LEFT: f64 = 8.0;
/// Room after the longest bar for its value.
const RATE_VALUE_ROOM: f64 = 150.0;

/// How long a bar of `part` out of `whole` is when a full one is `full` long: 0 when `whole`
/// is 0, never longer than `full`.
pub fn rate_length(part: i64, whole: i64, full: f64) -> f64 {
    if whole <= 0 {
        return 0.0;
    }
    (part.max(0) as f64 / whole as f64).min(1.0) * full
}

/// A horizontal bar per item on a 0–100% scale, each over a track of the full length, with
/// its label above and its rate and counts after it.
#[component]
pub fn RateChart(
    /// Unique on the page: the chart's `<title>` and `<desc>` ids start with it.
    id: &'static str,
    #[prop(into)] title: String,
    desc: String,
    bars: Vec<RateBar>,
) -> impl IntoView {
    let full = WIDTH - RATE_LEFT - RATE_VALUE_ROOM;
    let height = RATE_TOP * 2.0 + RATE_ROW * bars.len().max(1) as f64;
    let empty = bars.is_empty().then(|| {
        view! {
            <text x=number(WIDTH / 2.0) y=number(RATE_TOP + RATE_ROW / 2.0) text-anchor="middle" class="chart-empty">
                "Nothing to show for this period"
            </text>
        }
    });
    let rows = bars
        .iter()
        .enumerate()
        .map(|(index, bar)| {
            let top = RATE_TOP + index as f64 * RATE_ROW;
            let length = rate_length(bar.part, bar.whole, full);
            view! {
                <text x=number(RATE_LEFT) y=number(top + 12.0) class="chart-label">{bar.label.clone()}</text>
                <rect x=number(RATE_LEFT) y=number(top + 17.0) width=number(full) height="14" fill="none" class="chart-track"/>
                <rect x=number(RATE_LEFT) y=number(top + 17.0) width=number(length) height="14" fill=INK/>
                <text x=number(RATE_LEFT + full + 8.0) y=number(top + 28.0) class="chart-value">
                    {format!("{} ({} of {})", bar.text, bar.part, bar.whole)}
                </text>
            }
        })
        .collect_view();
    view! {
        <ChartFrame id title desc height>
            {rows}
            {empty}
        </ChartFrame>
    }
}

/// The heatmap's frame: row labels on the left, column labels on top.
const HEAT_LEFT: f64 = 40.0;
const HEAT_TOP: f64 = 20.0;
const HEAT_ROW: f64 = 26.0;
/// Lightness (HSL %) of an empty cell and of the fullest one.
const LIGHTEST: i64 = 97;
const DARKEST: i64 = 30;
/// Cells darker than this get white numbers.
const DARK_BELOW: i64 = 60;
/// At most this many column labels; the others are skipped evenly.
const MAX_COLUMN_LABELS: usize = 8;

/// How light a cell of `count` is when the fullest has `max` (HSL lightness in %): the more,
/// the darker; an empty cell, or every cell when all are empty, is the lightest.
pub fn heat_lightness(count: i64, max: i64) -> i64 {
    if max <= 0 || count <= 0 {
        return LIGHTEST;
    }
    LIGHTEST - (LIGHTEST - DARKEST) * count.min(max) / max
}

/// A grid of counts, darker for more, each non-empty cell with its number.
#[component]
pub fn HeatmapChart(
    /// Unique on the page: the chart's `<title>` and `<desc>` ids start with it.
    id: &'static str,
    #[prop(into)] title: String,
    desc: String,
    row_labels: Vec<String>,
    column_labels: Vec<String>,
    /// `counts[row][column]`.
    counts: Vec<Vec<i64>>,
) -> impl IntoView {
    let max = max_value(&counts);
    let cell_width = (WIDTH - HEAT_LEFT - 4.0) / column_labels.len().max(1) as f64;
    let height = HEAT_TOP + HEAT_ROW * row_labels.len() as f64 + 4.0;
    let step = label_step(column_labels.len(), MAX_COLUMN_LABELS);
    let columns = column_labels
        .iter()
        .enumerate()
        .filter(|(index, _)| index % step == 0)
        .map(|(index, label)| {
            view! {
                <text x=number(HEAT_LEFT + index as f64 * cell_width) y=number(HEAT_TOP - 6.0) class="chart-label">
                    {label.clone()}
                </text>
            }
        })
        .collect_view();
    let rows = row_labels
        .iter()
        .zip(&counts)
        .enumerate()
        .map(|(row, (label, counts))| {
            let top = HEAT_TOP + row as f64 * HEAT_ROW;
            let cells = counts
                .iter()
                .enumerate()
                .map(|(column, &count)| {
                    let x = HEAT_LEFT + column as f64 * cell_width;
                    let lightness = heat_lightness(count, max);
                    let number_class = if lightness < DARK_BELOW { "chart-count chart-count-dark" } else { "chart-count" };
                    view! {
                        <rect
                            x=number(x)
                            y=number(top)
                            width=number(cell_width - 1.0)
                            height=number(HEAT_ROW - 1.0)
                            fill=format!("hsl(228, 70%, {lightness}%)")
                        />
                        {(count > 0).then(|| view! {
                            <text x=number(x + cell_width / 2.0) y=number(top + HEAT_ROW / 2.0 + 4.0) text-anchor="middle" class=number_class>
                                {count.to_string()}
                            </text>
                        })}
                    }
                })
                .collect_view();
            view! {
                <g>
                    <text x="0" y=number(top + HEAT_ROW / 2.0 + 4.0) class="chart-label">{label.clone()}</text>
                    {cells}
                </g>
            }
        })
        .collect_view();
    view! {
        <ChartFrame id title desc height>
            {columns}
            {rows}
        </ChartFrame>
    }
}

/// The `<svg>` every chart is drawn in, `WIDTH` wide and `height` high, named for screen
/// readers by its `<title>` and `<desc>`.
#[component]
fn ChartFrame(
    /// Unique on the page: the `<title>` and `<desc>` ids start with it.
    id: &'static str,
    title: String,
    desc: String,
    height: f64,
    children: Children,
) -> impl IntoView {
    let (title_id, desc_id) = (format!("{id}-title"), format!("{id}-desc"));
    view! {
        <svg
            class="chart"
            viewBox=format!("0 0 {WIDTH} {height}")
            role="img"
            aria-labelledby=format!("{title_id} {desc_id}")
        >
            <title id=title_id.clone()>{title}</title>
            <desc id=desc_id.clone()>{desc}</desc>
            {children()}
        </svg>
    }
}

/// A coordinate as SVG writes it, the same on the server and in the browser.
fn number(value: f64) -> String {
    format!("{value:.1}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLOT_HEIGHT: f64 = BARS_HEIGHT - BARS_TOP - BARS_BOTTOM;

    #[test]
    fn bar_heights_are_in_proportion_and_the_largest_fills_the_plot() {
        let boxes = bar_boxes(&[vec![2, 4], vec![1, 0]], 2);
        let heights: Vec<Vec<f64>> = boxes.iter().map(|group| group.iter().map(|bar| bar.height).collect()).collect();
        assert_eq!(heights, [vec![PLOT_HEIGHT / 2.0, PLOT_HEIGHT], vec![PLOT_HEIGHT / 4.0, 0.0]]);
        for bar in boxes.iter().flatten() {
            assert_eq!(bar.y + bar.height, BARS_HEIGHT - BARS_BOTTOM, "every bar stands on the baseline");
        }
    }

    #[test]
    fn bars_sit_side_by_side_inside_the_plot() {
        let boxes = bar_boxes(&[vec![1, 1], vec![1, 1], vec![1, 1]], 2);
        let flat: Vec<&BarBox> = boxes.iter().flatten().collect();
        for pair in flat.windows(2) {
            assert!(pair[0].x + pair[0].width <= pair[1].x + 1e-9, "no overlap");
        }
        assert!(flat.first().is_some_and(|bar| bar.x >= BARS_LEFT));
        assert!(flat.last().is_some_and(|bar| bar.x + bar.width <= WIDTH - BARS_RIGHT));
    }

    #[test]
    fn zero_data_gives_flat_bars_and_no_data_gives_none() {
        let boxes = bar_boxes(&[vec![0, 0], vec![0, 0]], 2);
        assert!(boxes.iter().flatten().all(|bar| bar.height == 0.0 && bar.y.is_finite() && bar.x.is_finite()));
        assert!(bar_boxes(&[], 2).is_empty());
        assert_eq!(max_value(&[]), 0);
        assert!(bar_boxes(&[vec![]], 0).iter().flatten().next().is_none());
    }

    #[test]
    fn rate_bars_are_in_proportion_and_nothing_asked_is_no_bar() {
        assert_eq!(rate_length(1, 2, 500.0), 250.0);
        assert_eq!(rate_length(3, 3, 500.0), 500.0);
        assert_eq!(rate_length(0, 0, 500.0), 0.0);
        assert_eq!(rate_length(5, 3, 500.0), 500.0, "never past the full length");
    }

    #[test]
    fn more_answers_make_a_darker_cell_and_no_answers_the_lightest() {
        assert_eq!(heat_lightness(0, 10), LIGHTEST);
        assert_eq!(heat_lightness(10, 10), DARKEST);
        assert!(heat_lightness(3, 10) > heat_lightness(7, 10));
        assert_eq!(heat_lightness(0, 0), LIGHTEST, "an empty heatmap divides by nothing");
    }

    #[test]
    fn labels_are_thinned_to_fit() {
        assert_eq!(label_step(4, 13), 1);
        assert_eq!(label_step(12, 13), 1);
        assert_eq!(label_step(52, 13), 4);
        assert_eq!(label_step(24, 8), 3);
        assert_eq!(label_step(0, 13), 1);
    }
}
