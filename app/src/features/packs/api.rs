//! Server functions of the packs area, for the admin pages: each parses its input and calls
//! one service function.

use leptos::prelude::*;

use super::types::PackView;
use crate::{
    error::AppError,
    ids::{PackId, QuestionId},
};

/// Every pack of the admin's workspace, with its questions and on/off state.
#[server(prefix = "/api", endpoint = "packs/list")]
pub async fn list_packs() -> Result<Vec<PackView>, AppError> {
    use crate::server::{ctx, services::packs};

    ctx::respond(async { packs::list(&ctx::admin().await?).await }.await)
}

/// Creates one of the workspace's own packs.
#[server(prefix = "/api", endpoint = "packs/create")]
pub async fn create_pack(name: String, description: String) -> Result<PackId, AppError> {
    use super::types::PackName;
    use crate::server::{ctx, services::packs};

    ctx::respond(
        async { packs::create(&ctx::admin().await?, &PackName::parse(&name)?, &description, ctx::now_ms()).await }
            .await,
    )
}

/// Renames one of the workspace's own packs.
#[server(prefix = "/api", endpoint = "packs/rename")]
pub async fn rename_pack(pack_id: String, name: String, description: String) -> Result<(), AppError> {
    use super::types::PackName;
    use crate::server::{ctx, services::packs};

    ctx::respond(
        async {
            let viewer = ctx::admin().await?;
            packs::rename(&viewer, &PackId::parse(&pack_id)?, &PackName::parse(&name)?, &description, ctx::now_ms())
                .await
        }
        .await,
    )
}

/// Deletes one of the workspace's own packs that was never asked from.
#[server(prefix = "/api", endpoint = "packs/delete")]
pub async fn delete_pack(pack_id: String) -> Result<(), AppError> {
    use crate::server::{ctx, services::packs};

    ctx::respond(async { packs::delete(&ctx::admin().await?, &PackId::parse(&pack_id)?).await }.await)
}

/// Adds a question at the end of one of the workspace's own packs.
#[server(prefix = "/api", endpoint = "packs/questions/add")]
pub async fn add_question(pack_id: String, text: String) -> Result<QuestionId, AppError> {
    use super::types::QuestionText;
    use crate::server::{ctx, services::packs};

    ctx::respond(
        async {
            let viewer = ctx::admin().await?;
            packs::add_question(&viewer, &PackId::parse(&pack_id)?, &QuestionText::parse(&text)?, ctx::now_ms()).await
        }
        .await,
    )
}

/// Changes a question's text.
#[server(prefix = "/api", endpoint = "packs/questions/edit")]
pub async fn edit_question(pack_id: String, question_id: String, text: String) -> Result<(), AppError> {
    use super::types::QuestionText;
    use crate::server::{ctx, services::packs};

    ctx::respond(
        async {
            let viewer = ctx::admin().await?;
            let (pack, question) = (PackId::parse(&pack_id)?, QuestionId::parse(&question_id)?);
            packs::edit_question(&viewer, &pack, &question, &QuestionText::parse(&text)?, ctx::now_ms()).await
        }
        .await,
    )
}

/// Puts a pack's questions in the given order.
#[server(prefix = "/api", endpoint = "packs/questions/reorder")]
pub async fn reorder_questions(pack_id: String, question_ids: Vec<String>) -> Result<(), AppError> {
    use crate::server::{ctx, services::packs};

    ctx::respond(
        async {
            let viewer = ctx::admin().await?;
            let order = question_ids.iter().map(|id| QuestionId::parse(id)).collect::<Result<Vec<_>, _>>()?;
            packs::reorder(&viewer, &PackId::parse(&pack_id)?, &order, ctx::now_ms()).await
        }
        .await,
    )
}

/// Switches a question off (never asked) or on again.
#[server(prefix = "/api", endpoint = "packs/questions/disable")]
pub async fn set_question_disabled(pack_id: String, question_id: String, disabled: bool) -> Result<(), AppError> {
    use crate::server::{ctx, services::packs};

    ctx::respond(
        async {
            let viewer = ctx::admin().await?;
            let (pack, question) = (PackId::parse(&pack_id)?, QuestionId::parse(&question_id)?);
            packs::set_question_disabled(&viewer, &pack, &question, disabled, ctx::now_ms()).await
        }
        .await,
    )
}

/// Switches any pack on or off for the workspace.
#[server(prefix = "/api", endpoint = "packs/enable")]
pub async fn set_pack_enabled(pack_id: String, enabled: bool) -> Result<(), AppError> {
    use crate::server::{ctx, services::packs};

    ctx::respond(
        async { packs::set_enabled(&ctx::admin().await?, &PackId::parse(&pack_id)?, enabled, ctx::now_ms()).await }
            .await,
    )
}

/// Appends a CSV's questions to one of the workspace's own packs, all or nothing. A request
/// too big to carry a file the import takes never gets here: the server's routes refuse it.
#[server(prefix = "/api", endpoint = "packs/import")]
pub async fn import_questions_csv(pack_id: String, csv: String) -> Result<usize, AppError> {
    use crate::server::{ctx, services::packs};

    ctx::respond(
        async { packs::import_csv(&ctx::admin().await?, &PackId::parse(&pack_id)?, &csv, ctx::now_ms()).await }.await,
    )
}

/// A pack's questions as CSV.
#[server(prefix = "/api", endpoint = "packs/export")]
pub async fn export_questions_csv(pack_id: String) -> Result<String, AppError> {
    use crate::server::{ctx, services::packs};

    ctx::respond(async { packs::export_csv(&ctx::admin().await?, &PackId::parse(&pack_id)?).await }.await)
}
