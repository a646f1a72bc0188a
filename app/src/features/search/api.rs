//! Server functions of the search area.

use leptos::prelude::*;

use super::types::SearchResults;
use crate::error::AppError;

/// Page `page` (from 1; 0 reads as 1) of the results for `q` in the viewer's workspace. Any
/// text is a valid query: it is read as words, never as query syntax.
#[server(prefix = "/api", endpoint = "search")]
pub async fn search(q: String, page: u32) -> Result<SearchResults, AppError> {
    use super::types::SearchQuery;
    use crate::server::{ctx, services};

    ctx::respond(async { services::search::search(&ctx::member().await?, &SearchQuery::parse(&q), page).await }.await)
}
