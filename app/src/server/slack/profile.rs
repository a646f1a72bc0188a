//! Slack's user objects as Rapport's member profiles.

use crate::server::db::members::SlackProfile;
use slack_morphism::prelude::*;

/// The profile fields Rapport keeps from a Slack user.
pub fn from_slack_user(user: &SlackUser) -> SlackProfile {
    let profile = user.profile.as_ref();
    let name = [
        profile.and_then(|p| p.real_name.clone()),
        user.real_name.clone(),
        profile.and_then(|p| p.display_name.clone()),
        user.name.clone(),
    ]
    .into_iter()
    .flatten()
    .find(|name| !name.trim().is_empty())
    .unwrap_or_else(|| user.id.0.clone());
    let avatar_url = profile
        .and_then(|p| p.icon.as_ref())
        .and_then(|icon| {
            let largest = icon.images.as_ref()?.resolutions.iter().max_by_key(|(size, _)| *size)?;
            Some(largest.1.clone())
        })
        .unwrap_or_default();
    SlackProfile {
        slack_user_id: user.id.0.clone(),
        name,
        title: profile.and_then(|p| p.title.clone()).unwrap_or_default(),
        avatar_url,
        time_zone: user.tz.clone().filter(|tz| !tz.is_empty()),
        is_bot: user.flags.is_bot.unwrap_or(false) || user.id.0 == "USLACKBOT",
        is_deleted: user.deleted.unwrap_or(false),
        // Single- and multi-channel guests are "restricted" users in Slack.
        is_guest: user.flags.is_restricted.unwrap_or(false) || user.flags.is_ultra_restricted.unwrap_or(false),
        is_slack_admin: user.flags.is_admin.unwrap_or(false)
            || user.flags.is_owner.unwrap_or(false)
            || user.flags.is_primary_owner.unwrap_or(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slack_user_becomes_a_profile_with_its_largest_avatar() {
        let user: SlackUser = serde_json::from_value(serde_json::json!({
            "id": "U1", "name": "ada", "tz": "Europe/London", "deleted": false, "is_restricted": true,
            "profile": { "real_name": "Ada Lovelace", "title": "Engineer",
                         "image_48": "https://img/48.png", "image_192": "https://img/192.png" }
        }))
        .unwrap();

        let profile = from_slack_user(&user);

        assert_eq!(profile.name, "Ada Lovelace");
        assert_eq!(profile.title, "Engineer");
        assert_eq!(profile.avatar_url, "https://img/192.png");
        assert_eq!(profile.time_zone.as_deref(), Some("Europe/London"));
        assert!(profile.is_guest && !profile.is_bot && !profile.is_deleted);
    }
}
