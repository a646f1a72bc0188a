//! Server functions of insights; each goes through `ctx::admin` and calls one service.

use leptos::prelude::*;

use super::types::Insights;
use crate::error::AppError;

/// The insights of the admin's workspace over the last `weeks` (4, 12 or 52; 12 when absent),
/// questions sorted by `sort` (a column, `-` first for largest first).
#[server(prefix = "/api", endpoint = "insights/get")]
pub async fn get_insights(weeks: Option<String>, sort: Option<String>) -> Result<Insights, AppError> {
    use super::types::{Period, QuestionSort};
    use crate::server::{ctx, services::insights};

    ctx::respond(
        async {
            let viewer = ctx::admin().await?;
            let (period, sort) = (Period::parse(weeks.as_deref())?, QuestionSort::parse(sort.as_deref())?);
            insights::overview(&viewer, period, sort, ctx::now_ms()).await
        }
        .await,
    )
}

/// One chart's numbers as a CSV download (a GET, so a plain link works): `chart` is
/// `participation`, `questions`, `heatmap` or `packs`, over the same `weeks` and `sort` as
/// the page.
#[server(
    prefix = "/api",
    endpoint = "insights/csv",
    input = leptos::server_fn::codec::GetUrl,
    output = super::types::Csv
)]
pub async fn export_insights_csv(
    chart: String,
    weeks: Option<String>,
    sort: Option<String>,
) -> Result<String, AppError> {
    use super::types::{Chart, Period, QuestionSort};
    use crate::server::{ctx, services::insights};

    ctx::respond(
        async {
            let viewer = ctx::admin().await?;
            let chart = Chart::parse(&chart)?;
            let (period, sort) = (Period::parse(weeks.as_deref())?, QuestionSort::parse(sort.as_deref())?);
            let csv = insights::chart_csv(&viewer, chart, period, sort, ctx::now_ms()).await?;
            ctx::download_as(chart.filename());
            // A browser following the link asks for HTML and names the page as referrer, which
            // leptos_axum answers with a redirect back to the page (its answer to a form posted
            // without JavaScript); an explicit 200 keeps the file the answer.
            crate::error::set_response_status(200);
            Ok(csv)
        }
        .await,
    )
}
