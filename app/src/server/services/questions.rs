//! The questions area: the question list and everyone's answers to one question.

use crate::{
    error::AppError,
    features::questions::types::{QuestionAnswer, QuestionDetail, QuestionSummary},
    ids::{MemberId, QuestionId},
    server::{
        db::{answers, questions},
        viewer::Viewer,
    },
};

/// Every question the workspace can see, by pack, with team-visible answer counts.
pub async fn list(viewer: &Viewer) -> Result<Vec<QuestionSummary>, AppError> {
    let mut rows = questions::list_with_answer_counts(viewer.db.pool(), &viewer.workspace_id).await?;
    // A stable sort by pack name keeps each pack's questions together and in order; sorted
    // here because SQLite and PostgreSQL collate text differently.
    rows.sort_by_cached_key(|row| row.pack_name.to_lowercase());
    rows.into_iter()
        .map(|row| {
            Ok(QuestionSummary {
                id: QuestionId::parse(&row.id)?,
                text: row.text,
                pack: row.pack_name,
                answer_count: row.answer_count,
            })
        })
        .collect()
}

/// One question and its team-visible answers, newest first.
pub async fn detail(viewer: &Viewer, id: &QuestionId) -> Result<QuestionDetail, AppError> {
    let question = questions::find_visible(viewer.db.pool(), &viewer.workspace_id, id.as_str())
        .await?
        .ok_or(AppError::NotFound)?;
    let answers = answers::list_team_visible_for_question(viewer.db.pool(), &viewer.workspace_id, &question.id)
        .await?
        .into_iter()
        .map(|row| {
            Ok(QuestionAnswer {
                member_id: MemberId::parse(&row.member_id)?,
                name: row.member_name,
                title: row.member_title,
                avatar_url: row.member_avatar_url,
                text: row.text,
                answered_at_ms: row.created_at,
            })
        })
        .collect::<Result<_, AppError>>()?;
    Ok(QuestionDetail { id: id.clone(), text: question.text, pack: question.pack_name, answers })
}
