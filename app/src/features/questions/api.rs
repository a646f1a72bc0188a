//! Server functions of the questions area.

use leptos::prelude::*;

use super::types::{QuestionDetail, QuestionSummary};
use crate::error::AppError;

/// Every question the viewer's workspace can see, with team-visible answer counts.
#[server(prefix = "/api", endpoint = "questions/list")]
pub async fn list_questions() -> Result<Vec<QuestionSummary>, AppError> {
    use crate::server::{ctx, services::questions};

    ctx::respond(async { questions::list(&ctx::member().await?).await }.await)
}

/// One question with everyone's team-visible answers.
#[server(prefix = "/api", endpoint = "questions/get")]
pub async fn get_question(id: String) -> Result<QuestionDetail, AppError> {
    use crate::{
        ids::QuestionId,
        server::{ctx, services::questions},
    };

    ctx::respond(async { questions::detail(&ctx::member().await?, &QuestionId::parse(&id)?).await }.await)
}
