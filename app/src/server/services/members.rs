//! Members as Slack describes them (roster updates) and as they ask to be treated (pause).

use crate::{
    error::AppError,
    server::{
        db::{Db, members, workspaces::Workspace},
        new_id,
    },
};

pub use crate::server::db::members::{Member, SlackProfile};

/// Who sent a Slack request, as far as Rapport knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    /// The team is not an installed workspace.
    UnknownWorkspace,
    /// The workspace is installed but the member is not known yet.
    UnknownMember,
    Member(Box<(Workspace, members::Member)>),
}

impl Sender {
    /// The workspace and member, when both are known.
    pub fn known(self) -> Option<(Workspace, members::Member)> {
        match self {
            Sender::Member(known) => Some(*known),
            Sender::UnknownWorkspace | Sender::UnknownMember => None,
        }
    }
}

/// What a guest the workspace leaves out hears when they ask Rapport for a question, a
/// profile or coworkers' answers.
pub const FOR_MEMBERS_ONLY: &str =
    "Rapport is for this team's members, so there is nothing to share with guests here. Thanks for understanding!";

/// Whether `member` is a guest that `workspace` leaves out (`include_guests` is off): they
/// are never asked (`db::members::list_askable`), cannot ask, and are shown none of the
/// team's answers in Slack.
pub fn is_left_out_guest(workspace: &Workspace, member: &members::Member) -> bool {
    member.is_guest && !workspace.include_guests
}

/// The installed workspace and the member behind a Slack request (`team_id`, `user_id`).
pub async fn identify(db: &Db, slack_team_id: &str, slack_user_id: &str) -> Result<Sender, AppError> {
    let Some(workspace) = super::workspaces::find_active(db, slack_team_id).await? else {
        return Ok(Sender::UnknownWorkspace);
    };
    let Some(member) = members::find_by_slack_user_id(db.pool(), &workspace.id, slack_user_id).await? else {
        return Ok(Sender::UnknownMember);
    };
    Ok(Sender::Member(Box::new((workspace, member))))
}

/// Adds a member or refreshes their profile; Rapport's own settings for them are kept.
pub async fn sync_from_slack(db: &Db, workspace_id: &str, profile: &SlackProfile, now_ms: i64) -> Result<(), AppError> {
    members::upsert_from_slack(db.pool(), workspace_id, profile, &new_id(), now_ms).await?;
    Ok(())
}

/// How long a new member gets the first-week pack (and a question every scheduled day).
pub const FIRST_WEEK_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// Whether the member is in their first week (the first-week pack, asked every scheduled day).
pub fn in_first_week(member: &members::Member, now_ms: i64) -> bool {
    member.welcome_until.is_some_and(|until| until > now_ms)
}

/// Welcomes a member who just joined the workspace (`team_join`): their first week starts
/// now. A member who was already welcomed keeps their first week.
pub async fn welcome(db: &Db, workspace_id: &str, slack_user_id: &str, now_ms: i64) -> Result<(), AppError> {
    if let Some(member) = members::find_by_slack_user_id(db.pool(), workspace_id, slack_user_id).await? {
        members::update_welcome_until(db.pool(), &member.id, now_ms + FIRST_WEEK_MS).await?;
    }
    Ok(())
}

/// A member Slack refused messages to has just written to Rapport (a DM or `/rapport`), so
/// Slack reaches them again: they are asked again from the next round.
pub async fn reachable_again(db: &Db, member: &members::Member, now_ms: i64) -> Result<(), AppError> {
    if member.delivery_stopped_reason.is_some() {
        members::update_delivery_stopped(db.pool(), &member.id, None, now_ms).await?;
        tracing::info!(member.id = %member.id, "a member Slack could not reach wrote to Rapport; asking them again");
    }
    Ok(())
}

/// Pauses questions for a member until `until_ms` (or indefinitely when `None`).
pub async fn pause(db: &Db, member: &members::Member, until_ms: Option<i64>, now_ms: i64) -> Result<(), AppError> {
    // "Indefinitely" is stored as the far future so one column answers "is this member paused?".
    let until = until_ms.unwrap_or(i64::MAX);
    members::update_paused_until(db.pool(), &member.id, Some(until), now_ms).await?;
    Ok(())
}

/// Resumes questions for a member.
pub async fn resume(db: &Db, member: &members::Member, now_ms: i64) -> Result<(), AppError> {
    members::update_paused_until(db.pool(), &member.id, None, now_ms).await?;
    Ok(())
}
