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
