//! Server functions of `/me`: each goes through `ctx::member` and acts on the viewer's own
//! member only.

use leptos::prelude::*;

use super::types::{MyData, MyPage};
use crate::error::AppError;

/// My answers and settings.
#[server(prefix = "/api", endpoint = "me/get")]
pub async fn get_my_page() -> Result<MyPage, AppError> {
    use crate::server::{ctx, services::me};

    ctx::respond(async { me::page(&ctx::member().await?, ctx::now_ms()).await }.await)
}

/// Who may see one of my answers: `team` or `only_me`.
#[server(prefix = "/api", endpoint = "me/answers/visibility")]
pub async fn set_answer_visibility(answer_id: String, visibility: String) -> Result<(), AppError> {
    use crate::{
        features::answers::types::Visibility,
        server::{ctx, services::me},
    };

    ctx::respond(
        async {
            let viewer = ctx::member().await?;
            me::set_visibility(&ctx::state()?, &viewer, &answer_id, Visibility::parse(&visibility)?).await
        }
        .await,
    )
}

/// New words for one of my answers.
#[server(prefix = "/api", endpoint = "me/answers/edit")]
pub async fn edit_answer(answer_id: String, text: String) -> Result<(), AppError> {
    use crate::{
        features::answers::types::AnswerText,
        server::{ctx, services::me},
    };

    ctx::respond(
        async {
            let viewer = ctx::member().await?;
            me::edit(&ctx::state()?, &viewer, &answer_id, &AnswerText::parse(&text)?).await
        }
        .await,
    )
}

/// Withdraws one of my answers.
#[server(prefix = "/api", endpoint = "me/answers/withdraw")]
pub async fn withdraw_answer(answer_id: String) -> Result<(), AppError> {
    use crate::server::{ctx, services::me};

    ctx::respond(async { me::withdraw(&ctx::state()?, &ctx::member().await?, &answer_id).await }.await)
}

/// Pauses my questions until a day (`YYYY-MM-DD`), or until I resume (empty).
#[server(prefix = "/api", endpoint = "me/pause")]
pub async fn pause_questions(until: String) -> Result<(), AppError> {
    use super::types::parse_pause_until;
    use crate::server::{ctx, services::me};

    ctx::respond(
        async {
            let viewer = ctx::member().await?;
            me::pause(&viewer, parse_pause_until(&until)?, ctx::now_ms()).await
        }
        .await,
    )
}

/// Resumes my questions.
#[server(prefix = "/api", endpoint = "me/resume")]
pub async fn resume_questions() -> Result<(), AppError> {
    use crate::server::{ctx, services::me};

    ctx::respond(async { me::resume(&ctx::member().await?, ctx::now_ms()).await }.await)
}

/// Opts me out of questions (`true`) or back in (`false`).
#[server(prefix = "/api", endpoint = "me/opt_out")]
pub async fn set_opted_out(opted_out: bool) -> Result<(), AppError> {
    use crate::server::{ctx, services::me};

    ctx::respond(async { me::set_opted_out(&ctx::member().await?, opted_out, ctx::now_ms()).await }.await)
}

/// Everything Rapport keeps about me, as a JSON download (a GET, so a plain link works).
#[server(prefix = "/api", endpoint = "me/export", input = leptos::server_fn::codec::GetUrl)]
pub async fn export_my_data() -> Result<MyData, AppError> {
    use crate::server::{ctx, services::me};

    ctx::respond(
        async {
            let data = me::export(&ctx::member().await?, ctx::now_ms()).await?;
            ctx::download_as("rapport-my-data.json");
            Ok(data)
        }
        .await,
    )
}

/// Forgets me: my answers and profile data are deleted and I am no longer asked. Needs the
/// typed confirmation.
#[server(prefix = "/api", endpoint = "me/forget")]
pub async fn forget_me(confirmation: String) -> Result<(), AppError> {
    use crate::server::{ctx, services::me};

    ctx::respond(async { me::forget(&ctx::state()?, &ctx::member().await?, &confirmation).await }.await)
}
