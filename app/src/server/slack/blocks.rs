//! The Block Kit messages and views Rapport sends.

use slack_morphism::prelude::*;

/// Escapes text people wrote for Slack's mrkdwn, so an answer like `<!channel>` or
/// `<https://x|y>` is shown as typed and never pings or disguises a link.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Slack sends message text with `&`, `<` and `>` escaped; this gives back what was typed.
pub fn unescape(text: &str) -> String {
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

/// Action ids of the buttons on a question (the interactions endpoint matches on these).
pub const ACTION_ANSWER: &str = "answer";
pub const ACTION_SKIP: &str = "skip";
pub const ACTION_ANOTHER: &str = "another_question";
pub const ACTION_ASK_NOW: &str = "ask_now";
pub const ACTION_PAUSE: &str = "pause";
pub const ACTION_RESUME: &str = "resume";
pub const ACTION_SIGN_IN: &str = "sign_in";

/// The DM that asks a question, with its prompt id on each button.
/// The metadata event type on every question message; its payload names the prompt, so a
/// dispatcher that lost track of a send can find the message instead of sending it again.
pub const QUESTION_METADATA_EVENT: &str = "rapport_question";
/// The payload field naming the prompt.
pub const QUESTION_METADATA_PROMPT: &str = "prompt_id";

pub fn question_message(question: &str, prompt_id: &str) -> SlackMessageContent {
    let button = |label: &str, action: &str| {
        SlackBlockButtonElement::new(pt!(label.to_owned()))
            .with_action_id(SlackActionId(action.to_owned()))
            .with_value(prompt_id.to_owned())
    };
    SlackMessageContent::new()
        // The text is what notifications and screen readers show.
        .with_text(format!("Today's question: {}", escape(question)))
        .with_blocks(vec![
            SlackSectionBlock::new().with_text(md!("*Today's question*\n>{}", escape(question))).into(),
            SlackActionsBlock::new(vec![
                button("Answer", ACTION_ANSWER).with_style(SlackBlockButtonStyle::Primary).into(),
                button("Skip", ACTION_SKIP).into(),
                button("Another question", ACTION_ANOTHER).into(),
            ])
            .into(),
            SlackContextBlock::new(vec![SlackContextBlockElement::MarkDown(SlackBlockMarkDownText::new(
                "Reply in this chat to answer. Answers are shared with your team.".into(),
            ))])
            .into(),
        ])
        .with_metadata(SlackMessageMetadata {
            event_type: QUESTION_METADATA_EVENT.to_owned(),
            event_payload: Some([(QUESTION_METADATA_PROMPT.to_owned(), prompt_id.to_owned())].into()),
        })
}

/// What became of a question, for the message that asked it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Closed {
    /// Answered for the team to see; the link leads to the member's profile.
    Shared {
        profile_url: String,
    },
    /// Answered for the member's eyes only.
    KeptPrivate,
    Skipped,
}

/// The question message once it is closed: the question, what happened, and no buttons
/// (an answered question must not keep offering Answer, Skip and Another question).
pub fn closed_question_message(question: &str, prompt_id: &str, closed: &Closed) -> SlackMessageContent {
    let outcome = match closed {
        Closed::Shared { profile_url } => format!("You answered. <{profile_url}|See it on your profile>"),
        Closed::KeptPrivate => "You answered. Only you can see it.".to_owned(),
        Closed::Skipped => "Skipped.".to_owned(),
    };
    SlackMessageContent::new()
        .with_text(format!("Question: {} ({})", escape(question), outcome_word(closed)))
        .with_blocks(vec![
            SlackSectionBlock::new().with_text(md!("*Today's question*\n>{}", escape(question))).into(),
            SlackContextBlock::new(vec![SlackContextBlockElement::MarkDown(SlackBlockMarkDownText::new(outcome))])
                .into(),
        ])
        // Kept, so a dispatcher looking for this prompt's message still finds it.
        .with_metadata(SlackMessageMetadata {
            event_type: QUESTION_METADATA_EVENT.to_owned(),
            event_payload: Some([(QUESTION_METADATA_PROMPT.to_owned(), prompt_id.to_owned())].into()),
        })
}

fn outcome_word(closed: &Closed) -> &'static str {
    match closed {
        Closed::Shared { .. } | Closed::KeptPrivate => "answered",
        Closed::Skipped => "skipped",
    }
}

/// A plain text message.
pub fn text_message(text: impl Into<String>) -> SlackMessageContent {
    SlackMessageContent::new().with_text(text.into())
}

/// What a member's App Home shows.
#[derive(Debug, Clone)]
pub struct Home {
    pub first_name: String,
    /// How many answers the team can see.
    pub shared: usize,
    pub paused: bool,
    /// The newest answers: question, text, and whether only the member can see it.
    pub latest: Vec<(String, String, bool)>,
}

/// A member's App Home: their answers, "Answer a question now", and pause or resume.
pub fn home_view(home: &Home) -> SlackHomeView {
    let status = if home.paused { "Your questions are *paused*." } else { "You get a question now and then." };
    let (toggle_label, toggle_action) =
        if home.paused { ("Resume questions", ACTION_RESUME) } else { ("Pause questions", ACTION_PAUSE) };
    let mut blocks: Vec<SlackBlock> = vec![
        SlackHeaderBlock::new(pt!("Hi {}!", escape(&home.first_name))).into(),
        SlackSectionBlock::new()
            .with_text(md!(
                "You have shared *{}* answer{} with your team. {}",
                home.shared,
                if home.shared == 1 { "" } else { "s" },
                status
            ))
            .into(),
        SlackActionsBlock::new(vec![
            SlackBlockButtonElement::new(pt!("Answer a question now"))
                .with_action_id(SlackActionId(ACTION_ASK_NOW.to_owned()))
                .with_style(SlackBlockButtonStyle::Primary)
                .into(),
            SlackBlockButtonElement::new(pt!(toggle_label.to_owned()))
                .with_action_id(SlackActionId(toggle_action.to_owned()))
                .into(),
            SlackBlockButtonElement::new(pt!("Open the dashboard"))
                .with_action_id(SlackActionId(ACTION_SIGN_IN.to_owned()))
                .into(),
        ])
        .into(),
    ];
    if !home.latest.is_empty() {
        blocks.push(SlackDividerBlock::new().into());
        blocks.push(SlackSectionBlock::new().with_text(md!("*Your latest answers*")).into());
        for (question, text, only_me) in &home.latest {
            let label = if *only_me { " _(only you)_" } else { "" };
            let quoted = escape(text).replace('\n', "\n>");
            blocks.push(SlackSectionBlock::new().with_text(md!("*{}*{}\n>{}", escape(question), label, quoted)).into());
        }
    }
    SlackHomeView::new(blocks)
}

/// The text that hands a member a one-time sign-in link (`/rapport login`, App Home).
pub fn sign_in_text(link: &str, valid_minutes: i64) -> String {
    format!(
        "<{link}|Open your Rapport dashboard>. The link signs you in once, within {valid_minutes} minutes; don't share it."
    )
}

/// The modal App Home's "Open the dashboard" opens: a fresh one-time sign-in link.
pub fn sign_in_modal(link: &str, valid_minutes: i64) -> SlackView {
    SlackView::Modal(
        SlackModalView::new(
            pt!("Rapport dashboard"),
            vec![SlackSectionBlock::new().with_text(md!("{}", sign_in_text(link, valid_minutes))).into()],
        )
        .with_close(pt!("Close")),
    )
}

/// Ids inside the answer modal (the interactions endpoint reads the submission by these).
pub const MODAL_ANSWER: &str = "answer";
pub const BLOCK_ANSWER: &str = "answer";
pub const INPUT_ANSWER: &str = "text";
pub const BLOCK_VISIBILITY: &str = "visibility";
pub const INPUT_VISIBILITY: &str = "choice";

/// The modal to answer `question`; the prompt id travels in `private_metadata`.
pub fn answer_modal(question: &str, prompt_id: &str) -> SlackView {
    let option = |label: &str, value: &str| {
        SlackBlockChoiceItem::new(SlackBlockText::Plain(pt!(label.to_owned())), value.to_owned())
    };
    let team = option("Share with my team", "team");
    let input = SlackBlockPlainTextInputElement::new()
        .with_action_id(SlackActionId(INPUT_ANSWER.to_owned()))
        .with_multiline(true)
        .with_max_length(3_000);
    let visibility = SlackBlockRadioButtonsElement::new(vec![team.clone(), option("Only me", "only_me")])
        .with_action_id(SlackActionId(INPUT_VISIBILITY.to_owned()))
        .with_initial_option(team);
    SlackView::Modal(
        SlackModalView::new(
            pt!("Your answer"),
            vec![
                SlackSectionBlock::new().with_text(md!("*{}*", escape(question))).into(),
                SlackInputBlock::new(pt!("Answer"), input.into())
                    .with_block_id(SlackBlockId(BLOCK_ANSWER.to_owned()))
                    .into(),
                SlackInputBlock::new(pt!("Who can see it"), visibility.into())
                    .with_block_id(SlackBlockId(BLOCK_VISIBILITY.to_owned()))
                    .into(),
            ],
        )
        .with_submit(pt!("Share"))
        .with_close(pt!("Cancel"))
        .with_callback_id(SlackCallbackId(MODAL_ANSWER.to_owned()))
        .with_private_metadata(prompt_id.to_owned()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_people_wrote_cannot_ping_or_hide_links() {
        assert_eq!(
            escape("<!channel> see <https://x|y> & more"),
            "&lt;!channel&gt; see &lt;https://x|y&gt; &amp; more"
        );
        assert_eq!(unescape("I &lt;3 tea &amp;amp; cake"), "I <3 tea &amp; cake");
        assert_eq!(unescape(&escape("a <b> & c")), "a <b> & c");
    }
}
