//! `/admin/members`: who is asked and who is not, and why; guests in or out; excluding a
//! member; promoting or demoting an admin; trying a member Slack refused again.

use crate::{
    error::AppError,
    features::admin::types::{AdminRole, Asked, MemberLine, MembersView},
    server::{
        db::{
            members::{self, Member},
            workspaces,
        },
        viewer::Viewer,
    },
};

/// Everyone in the admin's workspace, by name, with whether they are asked.
pub async fn list(viewer: &Viewer, now_ms: i64) -> Result<MembersView, AppError> {
    let workspace = workspaces::find(viewer.db.pool(), &viewer.workspace_id).await?.ok_or(AppError::NotFound)?;
    let members = members::list_for_workspace(viewer.db.pool(), &workspace.id)
        .await?
        .into_iter()
        .filter(|member| member.slack_user_id != "USLACKBOT")
        .map(|member| MemberLine {
            asked: asked(&member, workspace.include_guests, now_ms),
            role: role(&member),
            excluded: member.is_excluded,
            id: member.id,
            name: member.name,
            title: member.title,
        })
        .collect();
    Ok(MembersView { include_guests: workspace.include_guests, members })
}

/// Leaves a member out of questions, or lets them be asked again.
pub async fn set_excluded(viewer: &Viewer, member_id: &str, excluded: bool, now_ms: i64) -> Result<(), AppError> {
    found(members::update_excluded(viewer.db.pool(), &viewer.workspace_id, member_id, excluded, now_ms).await?)
}

/// Promotes a member to admin or demotes them. A Slack admin stays an admin whatever is
/// set here, so demoting one is refused with the reason.
pub async fn set_admin(viewer: &Viewer, member_id: &str, admin: bool, now_ms: i64) -> Result<(), AppError> {
    let member = members::find(viewer.db.pool(), &viewer.workspace_id, member_id).await?.ok_or(AppError::NotFound)?;
    if !admin && member.is_slack_admin {
        return Err(AppError::Conflict(format!("{} is an admin in Slack; only Slack can change that.", member.name)));
    }
    found(members::update_admin(viewer.db.pool(), &viewer.workspace_id, member_id, admin, now_ms).await?)
}

/// Clears Slack's refusal of a member, so the next round tries them again.
pub async fn try_again(viewer: &Viewer, member_id: &str, now_ms: i64) -> Result<(), AppError> {
    let member = members::find(viewer.db.pool(), &viewer.workspace_id, member_id).await?.ok_or(AppError::NotFound)?;
    members::update_delivery_stopped(viewer.db.pool(), &member.id, None, now_ms).await?;
    Ok(())
}

/// Whether guests are asked too (the rest of the schedule unchanged).
pub async fn set_include_guests(viewer: &Viewer, include: bool, now_ms: i64) -> Result<(), AppError> {
    let workspace = workspaces::find(viewer.db.pool(), &viewer.workspace_id).await?.ok_or(AppError::NotFound)?;
    workspaces::update_asking(viewer.db.pool(), &workspace.id, workspace.questions_enabled, include, now_ms).await?;
    Ok(())
}

fn found(rows: u64) -> Result<(), AppError> {
    if rows == 0 { Err(AppError::NotFound) } else { Ok(()) }
}

/// The first reason a member is not asked in rounds, in the order `list_askable` checks.
fn asked(member: &Member, include_guests: bool, now_ms: i64) -> Asked {
    if member.is_bot {
        Asked::Bot
    } else if member.is_deleted {
        Asked::Deactivated
    } else if member.forgotten_at.is_some() {
        Asked::Forgotten
    } else if member.is_excluded {
        Asked::ExcludedByAdmin
    } else if member.is_guest && !include_guests {
        Asked::Guest
    } else if member.is_opted_out {
        Asked::OptedOut
    } else if let Some(reason) = &member.delivery_stopped_reason {
        Asked::StoppedBySlack(reason.clone())
    } else {
        match member.paused_until {
            Some(i64::MAX) => Asked::Paused,
            Some(until) if until > now_ms => Asked::PausedUntil(until),
            _ => Asked::Yes,
        }
    }
}

fn role(member: &Member) -> AdminRole {
    if member.is_slack_admin {
        AdminRole::SlackAdmin
    } else if member.is_admin {
        AdminRole::Promoted
    } else {
        AdminRole::None
    }
}
