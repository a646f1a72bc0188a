//! What a member's button presses and answer modal in Slack do: the buttons on a question
//! (Answer, Skip, Another question), "Undo" on the thank-you after a reply in the DM, and
//! those on App Home (Answer a question now, Pause, Resume, Open the dashboard).

use anyhow::Context as _;

use super::{
    answers as answering,
    asking::{self, Ask},
    home,
    me::{self, Undo},
    members as roster,
    sharing::{self, AnsweredBy},
    sign_in,
};
use crate::{
    features::answers::types::{AnswerText, Visibility},
    server::{
        AppState,
        db::{members, members::Member, prompts, questions, workspaces::Workspace},
        slack::blocks::{self, Closed},
        viewer::Viewer,
    },
};

/// A button a member pressed, as the edge parsed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Opens the answer modal for the prompt (Slack's `trigger_id` is valid for 3 seconds).
    Answer {
        prompt_id: String,
        trigger_id: String,
    },
    Skip {
        prompt_id: String,
    },
    Another {
        prompt_id: String,
    },
    AskNow,
    Pause,
    Resume,
    /// Opens a modal with a one-time link to the dashboard.
    SignIn {
        trigger_id: String,
    },
    /// Takes back an answer given by a reply in the DM; `thanks` is the thank-you message
    /// the button is on, when Slack names it.
    Undo {
        answer_id: String,
        thanks: Option<MessageAt>,
    },
}

/// A message in Slack: its channel and `ts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageAt {
    pub channel: String,
    pub ts: String,
}

/// Does what the button says and tells the member in their DM (or on App Home).
#[tracing::instrument(name = "slack action", skip_all, fields(workspace.id = %workspace.id, member.id = %member.id))]
pub async fn press(state: &AppState, workspace: &Workspace, member: &Member, action: Action) -> anyhow::Result<()> {
    let now = state.now_ms();
    match action {
        Action::Answer { prompt_id, trigger_id } => {
            let open = prompts::find_open_for_member(state.db.pool(), &member.id).await?.filter(|p| p.id == prompt_id);
            let Some(open) = open else {
                return say(state, workspace, member, "That question is closed; type `/rapport ask` for a new one.")
                    .await;
            };
            let question = questions::find(state.db.pool(), &member.workspace_id, &open.question_id).await?;
            let view = blocks::answer_modal(&question.map(|q| q.text).unwrap_or_default(), &open.id);
            state
                .slack()?
                .api_for(workspace)?
                .open_view(&trigger_id, view)
                .await
                .context("opening the answer modal")?;
        }
        Action::Skip { prompt_id } => {
            let Some(skipped) = asking::skip(&state.db, member, &prompt_id, now).await? else {
                return say(state, workspace, member, "That question is already closed.").await;
            };
            let question = questions::find(state.db.pool(), &member.workspace_id, &skipped.question_id).await?;
            let text = question.map(|q| q.text).unwrap_or_default();
            let sent = skipped.slack_message_ts.as_deref();
            let dm = member.dm_target();
            if let Err(error) =
                asking::close_message(state, workspace, &dm, sent, &skipped.id, &text, &Closed::Skipped).await
            {
                tracing::warn!(error = format!("{error:#}"), "could not close the question message");
            }
            say(state, workspace, member, "Skipped. See you next time!").await?;
        }
        Action::Another { prompt_id } => {
            let asked = asking::ask_another(state, workspace, member, &prompt_id).await?;
            // The new question itself is the answer to the button; anything else needs words.
            if !matches!(asked, Ask::New { .. }) {
                say(state, workspace, member, &ask_reply(&asked)).await?;
            }
        }
        Action::AskNow => {
            let asked = asking::ask(state, workspace, member).await?;
            say(state, workspace, member, &ask_reply(&asked)).await?;
        }
        Action::Pause | Action::Resume => {
            if action == Action::Pause {
                roster::pause(&state.db, member, None, now).await?;
            } else {
                roster::resume(&state.db, member, now).await?;
            }
            let refreshed = members::find(state.db.pool(), &workspace.id, &member.id).await?;
            home::publish(state, workspace, refreshed.as_ref().unwrap_or(member)).await?;
        }
        Action::SignIn { trigger_id } => {
            let link = sign_in::link_for(state, member).await?;
            let view = blocks::sign_in_modal(&link, sign_in::LINK_VALID_MINUTES);
            state
                .slack()?
                .api_for(workspace)?
                .open_view(&trigger_id, view)
                .await
                .context("opening the sign-in modal")?;
        }
        Action::Undo { answer_id, thanks } => undo(state, workspace, member, &answer_id, thanks.as_ref()).await?,
    }
    Ok(())
}

/// "Undo" on the thank-you: the answer is taken back, its question asked again in the
/// message that asked it, and the thank-you says so. Too late, or not the presser's answer:
/// nothing changes, and the member is told why.
async fn undo(
    state: &AppState,
    workspace: &Workspace,
    member: &Member,
    answer_id: &str,
    thanks: Option<&MessageAt>,
) -> anyhow::Result<()> {
    let viewer = Viewer::member(state.db.clone(), &workspace.id, &member.id);
    let undone = match me::undo_answer(state, &viewer, answer_id).await? {
        Undo::Undone(undone) => undone,
        Undo::TooLate => {
            let text = format!(
                "Sorry, Undo only works for {} minutes after answering. You can still withdraw the answer \
                 from <{}/me|your dashboard>.",
                sharing::UNDO_MINUTES,
                state.public_url
            );
            return say(state, workspace, member, &text).await;
        }
        Undo::NothingToUndo => {
            return say(state, workspace, member, "Nothing to undo: that answer was already taken back.").await;
        }
    };
    let api = state.slack()?.api_for(workspace)?;
    if let Some(asked_in) = undone.asked_in.as_deref() {
        let content = if undone.reopened {
            blocks::question_message(&undone.question, &undone.prompt_id)
        } else {
            blocks::closed_question_message(&undone.question, &undone.prompt_id, &Closed::Skipped)
        };
        if let Err(error) = api.update_message(&member.dm_target(), asked_in, content).await {
            // The answer is taken back either way, and a reply in the DM still answers.
            tracing::warn!(error = format!("{error:#}"), "could not update the question message");
        }
    }
    let next = if undone.reopened {
        "The question is open again: reply here to answer it."
    } else {
        "You have another question waiting, so this one is closed."
    };
    let text = format!("Undone: your answer to “{}” is taken back. {next}", blocks::escape(&undone.question));
    let Some(thanks) = thanks else { return say(state, workspace, member, &text).await };
    let updated = api.update_message(&thanks.channel, &thanks.ts, blocks::text_only_message(text.clone())).await;
    if let Err(error) = updated {
        tracing::warn!(error = format!("{error:#}"), "could not update the thank-you; replying instead");
        return say(state, workspace, member, &text).await;
    }
    Ok(())
}

/// What a member is told about asking for a question.
pub fn ask_reply(asked: &Ask) -> String {
    match asked {
        Ask::New { .. } => "On its way! Check your DMs with Rapport.".to_owned(),
        Ask::AlreadyOpen { question } => {
            format!("You already have a question waiting in your DMs: “{}”", blocks::escape(question))
        }
        Ask::NoQuestions => "There are no questions to ask yet. An admin can add some.".to_owned(),
        Ask::QuestionsOff => "Questions are not turned on in this workspace yet. An admin can turn them on.".to_owned(),
        Ask::GuestLeftOut => roster::FOR_MEMBERS_ONLY.to_owned(),
    }
}

/// Stores the answer submitted in the modal, then thanks and shares in the background (Slack
/// wants the modal's reply within 3 seconds). Returns `false` when the question was already
/// answered or skipped (nothing is stored).
#[tracing::instrument(name = "slack answer modal", skip_all, fields(workspace.id = %workspace.id, member.id = %member.id))]
pub async fn submit_answer(
    state: &AppState,
    workspace: &Workspace,
    member: &Member,
    prompt_id: &str,
    text: &AnswerText,
    visibility: Visibility,
) -> anyhow::Result<bool> {
    let answered =
        answering::answer_open_prompt(&state.db, member, Some(prompt_id), text, visibility, state.now_ms()).await?;
    let Some(answered) = answered else { return Ok(false) };
    let (background, workspace, member) = (state.clone(), workspace.clone(), member.clone());
    state.tasks.spawn(async move {
        let dm = member.dm_target();
        sharing::after_answer(&background, &workspace, &member, &answered, AnsweredBy::Modal, &dm).await;
    });
    Ok(true)
}

/// Posts `text` in the member's DM with the bot.
async fn say(state: &AppState, workspace: &Workspace, member: &Member, text: &str) -> anyhow::Result<()> {
    let dm = member.dm_target();
    let api = state.slack()?.api_for(workspace)?;
    api.post_message(&dm, blocks::text_message(text)).await.context("replying in the DM")?;
    Ok(())
}
