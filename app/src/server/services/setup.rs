//! What an admin sets up after an install: the checklist, the sharing channel and how
//! answers are shared, and a test post to check Rapport may write there.

use crate::{
    error::AppError,
    features::{
        admin::types::{ChannelOption, Setup, Sharing, SharingView},
        billing::types::Standing,
    },
    server::{
        AppState,
        db::{
            schedules,
            workspaces::{self, ShareMode, Workspace},
        },
        services::{billing, rounds},
        slack::{blocks, client::SlackCallError},
        viewer::Viewer,
    },
};

/// At most this many pages of channels are read (200 each): enough for any workspace that
/// picks its channel from a list.
const CHANNEL_PAGES: usize = 20;

/// The setup checklist of the viewer's workspace, with where it stands with billing.
pub async fn checklist(state: &AppState, viewer: &Viewer) -> Result<Setup, AppError> {
    let now_ms = state.now_ms();
    let workspace = workspace(viewer).await?;
    let billing = billing::standing(state, &workspace).await?;
    let schedule_saved = schedules::find(viewer.db.pool(), &workspace.id).await?.is_some();
    let next_round_at = rounds::overview(&viewer.db, &workspace.id, now_ms).await?.next_round_at;
    Ok(Setup {
        workspace_name: workspace.name,
        sharing_channel: workspace.sharing_channel_id,
        sharing: sharing_of(workspace.share_mode),
        schedule_saved,
        questions_on: workspace.questions_enabled,
        next_round_at,
        trial_days_left: match billing {
            Standing::Trial { ends_at } => Some(billing::days_left(ends_at, now_ms)),
            _ => None,
        },
        billing,
    })
}

/// The sharing settings and the workspace's public channels, by name.
pub async fn sharing(state: &AppState, viewer: &Viewer) -> Result<SharingView, AppError> {
    let workspace = workspace(viewer).await?;
    let mut channels = channels(state, &workspace).await?;
    channels.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(SharingView { channel_id: workspace.sharing_channel_id, sharing: sharing_of(workspace.share_mode), channels })
}

/// Saves the sharing channel and mode; the channel must be one of the workspace's.
pub async fn save_sharing(
    state: &AppState,
    viewer: &Viewer,
    channel_id: &str,
    sharing: Sharing,
) -> Result<(), AppError> {
    let workspace = workspace(viewer).await?;
    if !channels(state, &workspace).await?.iter().any(|channel| channel.id == channel_id) {
        return Err(AppError::Invalid {
            field: "channel_id".into(),
            message: "pick one of the workspace's public channels".into(),
        });
    }
    let mode = match sharing {
        Sharing::Immediate => ShareMode::Immediate,
        Sharing::Digest => ShareMode::Digest,
    };
    workspaces::update_sharing(viewer.db.pool(), &workspace.id, channel_id, mode, state.now_ms()).await?;
    Ok(())
}

/// Posts a test message to the sharing channel; Slack's refusal (the bot is not in the
/// channel, say) comes back as a message the admin can act on.
pub async fn test_post(state: &AppState, viewer: &Viewer) -> Result<(), AppError> {
    let workspace = workspace(viewer).await?;
    let Some(channel) = workspace.sharing_channel_id.as_deref() else {
        return Err(AppError::Conflict("Pick a sharing channel first.".into()));
    };
    let api = state.slack().and_then(|slack| slack.api_for(&workspace)).map_err(AppError::internal)?;
    let text = "Rapport will share your team's answers here. (A test post from the admin settings.)";
    match api.post_message(channel, blocks::text_message(text)).await {
        Ok(_) => Ok(()),
        Err(SlackCallError::Refused(code)) if code.contains("not_in_channel") => Err(AppError::Conflict(
            "Slack says Rapport is not in that channel: invite @Rapport to it (/invite @Rapport) and try again.".into(),
        )),
        Err(SlackCallError::Refused(code)) => Err(AppError::Conflict(format!("Slack refused the post ({code})."))),
        Err(other) => Err(AppError::internal(other)),
    }
}

async fn workspace(viewer: &Viewer) -> Result<Workspace, AppError> {
    viewer.workspace().await
}

async fn channels(state: &AppState, workspace: &Workspace) -> Result<Vec<ChannelOption>, AppError> {
    let api = state.slack().and_then(|slack| slack.api_for(workspace)).map_err(AppError::internal)?;
    let mut found = Vec::new();
    let mut cursor = None;
    for _ in 0..CHANNEL_PAGES {
        let (page, next) = api.list_channels(cursor).await.map_err(AppError::internal)?;
        found.extend(page.into_iter().map(|channel| ChannelOption { id: channel.id, name: channel.name }));
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(found)
}

fn sharing_of(mode: ShareMode) -> Sharing {
    match mode {
        ShareMode::Immediate => Sharing::Immediate,
        ShareMode::Digest => Sharing::Digest,
    }
}
