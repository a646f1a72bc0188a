//! A workspace's data as a whole (`/admin/data`): the export, deletion on an admin's typed
//! confirmation, and deletion after an uninstall once the grace period is over (a re-install
//! within it keeps everything).

use crate::{
    error::AppError,
    features::admin::types::{ExportedAnswer, ExportedMember, ExportedPack, WorkspaceExport},
    server::{
        db::{Db, answers, members, workspaces},
        services::packs,
        viewer::Viewer,
    },
};

/// How long an uninstalled workspace's data is kept by default, in days.
pub const DEFAULT_GRACE_DAYS: i64 = 30;

/// Everything of the admin's workspace: members, answers (private ones too: the workspace's
/// admin is answerable for them), its own packs.
pub async fn export(viewer: &Viewer, now_ms: i64) -> Result<WorkspaceExport, AppError> {
    let workspace = workspaces::find(viewer.db.pool(), &viewer.workspace_id).await?.ok_or(AppError::NotFound)?;
    let members = members::list_for_workspace(viewer.db.pool(), &workspace.id)
        .await?
        .into_iter()
        .filter(|member| !member.is_bot && member.forgotten_at.is_none())
        .map(|member| ExportedMember {
            id: member.id,
            slack_user_id: member.slack_user_id,
            name: member.name,
            title: member.title,
            time_zone: member.time_zone,
        })
        .collect();
    let answers = answers::list_for_export(viewer.db.pool(), &workspace.id)
        .await?
        .into_iter()
        .map(|row| ExportedAnswer {
            member_id: row.member_id,
            member: row.member_name,
            question: row.question,
            text: row.text,
            visibility: row.visibility,
            answered_at_ms: row.created_at,
        })
        .collect();
    let packs = packs::list(viewer)
        .await?
        .into_iter()
        .filter(|pack| !pack.builtin)
        .map(|pack| ExportedPack {
            name: pack.name,
            description: pack.description,
            questions: pack.questions.into_iter().map(|question| question.text).collect(),
        })
        .collect();
    Ok(WorkspaceExport { exported_at_ms: now_ms, workspace: workspace.name, members, answers, packs })
}

/// Deletes everything of the admin's workspace, once the admin typed its name.
pub async fn delete(viewer: &Viewer, typed_name: &str) -> Result<(), AppError> {
    let workspace = workspaces::find(viewer.db.pool(), &viewer.workspace_id).await?.ok_or(AppError::NotFound)?;
    if typed_name.trim() != workspace.name {
        return Err(AppError::Invalid {
            field: "confirmation".into(),
            message: format!("type the workspace's name, “{}”, to confirm", workspace.name),
        });
    }
    workspaces::delete(viewer.db.pool(), &workspace.id).await?;
    tracing::info!(workspace.id = %workspace.id, "an admin deleted the workspace's data");
    Ok(())
}

/// Deletes the workspaces uninstalled more than `grace_days` ago; run from time to time.
pub async fn purge_uninstalled(db: &Db, now_ms: i64, grace_days: i64) -> Result<u64, AppError> {
    let cutoff = now_ms - grace_days * 24 * 60 * 60 * 1000;
    Ok(workspaces::delete_uninstalled_before(db.pool(), cutoff).await?)
}
