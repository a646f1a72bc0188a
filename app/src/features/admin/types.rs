//! Wire types of the admin area.

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The setup checklist: what a workspace needs before anyone is asked anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setup {
    pub workspace_name: String,
    /// The channel team-visible answers are posted to, by id.
    pub sharing_channel: Option<String>,
    pub sharing: Sharing,
    /// An admin saved a schedule (until then the defaults apply).
    pub schedule_saved: bool,
    /// Members are asked on schedule.
    pub questions_on: bool,
    /// When the next member is due to be asked (Unix ms), if anyone will be.
    pub next_round_at: Option<i64>,
    /// Where the workspace stands with billing (`Free` when billing is off).
    pub billing: crate::features::billing::types::Standing,
    /// Whole days of the free trial left, while it runs.
    pub trial_days_left: Option<i64>,
}

impl Setup {
    /// Every step is done: questions will be asked and answers shared.
    pub fn is_complete(&self) -> bool {
        self.sharing_channel.is_some() && self.schedule_saved && self.questions_on
    }
}

/// How team-visible answers reach the sharing channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sharing {
    /// Each answer as it comes.
    Immediate,
    /// One post a day with the day's answers.
    Digest,
}

impl Sharing {
    pub fn as_str(self) -> &'static str {
        match self {
            Sharing::Immediate => "immediate",
            Sharing::Digest => "digest",
        }
    }

    pub fn parse(raw: &str) -> Result<Sharing, AppError> {
        match raw {
            "immediate" => Ok(Sharing::Immediate),
            "digest" => Ok(Sharing::Digest),
            other => Err(AppError::Invalid {
                field: "share_mode".into(),
                message: format!("{other:?} is not a way to share: immediate or digest"),
            }),
        }
    }
}

/// The sharing settings and the channels to pick from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharingView {
    pub channel_id: Option<String>,
    pub sharing: Sharing,
    /// The workspace's public channels, by name.
    pub channels: Vec<ChannelOption>,
}

/// A channel an admin may pick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelOption {
    pub id: String,
    pub name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_mode_is_read_by_its_name_and_anything_else_names_the_field() {
        assert_eq!(Sharing::parse("digest"), Ok(Sharing::Digest));
        assert!(matches!(Sharing::parse("hourly"), Err(AppError::Invalid { field, .. }) if field == "share_mode"));
    }
}

/// `/admin/members`: everyone Slack knows, whether they are asked, and why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembersView {
    pub include_guests: bool,
    pub members: Vec<MemberLine>,
}

/// One member as an admin manages them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberLine {
    pub id: String,
    pub name: String,
    pub title: String,
    pub asked: Asked,
    pub role: AdminRole,
    pub excluded: bool,
}

/// Whether a member is asked in rounds, or the first reason they are not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Asked {
    Yes,
    Bot,
    Deactivated,
    Forgotten,
    ExcludedByAdmin,
    Guest,
    OptedOut,
    PausedUntil(i64),
    Paused,
    /// Slack refused messages to them for good, with Slack's reason.
    StoppedBySlack(String),
}

impl Asked {
    /// The reason as the page says it.
    pub fn describe(&self) -> String {
        match self {
            Asked::Yes => "Asked".into(),
            Asked::Bot => "Not asked: a bot".into(),
            Asked::Deactivated => "Not asked: deactivated in Slack".into(),
            Asked::Forgotten => "Not asked: asked Rapport to forget them".into(),
            Asked::ExcludedByAdmin => "Not asked: excluded by an admin".into(),
            Asked::Guest => "Not asked: a guest (guests are not included)".into(),
            Asked::OptedOut => "Not asked: opted out".into(),
            Asked::PausedUntil(until) => format!("Not asked: paused until {}", crate::components::format_date(*until)),
            Asked::Paused => "Not asked: paused".into(),
            Asked::StoppedBySlack(reason) => format!("Not asked: Slack refused messages to them ({reason})"),
        }
    }
}

/// Whether a member manages Rapport, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdminRole {
    None,
    /// Promoted on `/admin/members`.
    Promoted,
    /// A workspace owner or admin in Slack (demoted only in Slack).
    SlackAdmin,
}

/// A workspace's data as `/admin/data` downloads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceExport {
    pub exported_at_ms: i64,
    pub workspace: String,
    pub members: Vec<ExportedMember>,
    pub answers: Vec<ExportedAnswer>,
    /// The workspace's own packs (built-in ones are the same everywhere).
    pub packs: Vec<ExportedPack>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedMember {
    pub id: String,
    pub slack_user_id: String,
    pub name: String,
    pub title: String,
    pub time_zone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedAnswer {
    pub member_id: String,
    pub member: String,
    pub question: String,
    pub text: String,
    /// `team` or `only_me`.
    pub visibility: String,
    pub answered_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedPack {
    pub name: String,
    pub description: String,
    pub questions: Vec<String>,
}
