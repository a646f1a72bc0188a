//! The Block Kit messages and views Rapport sends.

use slack_morphism::prelude::*;

/// Escapes text people wrote for Slack's mrkdwn, so an answer like `<!channel>` or
/// `<https://x|y>` is shown as typed and never pings or disguises a link.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The most characters Slack takes in a section block's text; more and the whole view is
/// refused (`invalid_blocks`).
pub const SECTION_TEXT_LIMIT: usize = 3_000;
/// The most characters of a header block's plain text.
pub const HEADER_TEXT_LIMIT: usize = 150;

/// `text` cut to at most `limit` characters, ending in an ellipsis when cut. An escape such
/// as `&amp;` is never cut in half: a cut inside one goes back to before its `&`.
pub fn fit(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_owned();
    }
    let mut kept: String = text.chars().take(limit.saturating_sub(1)).collect();
    if let Some(amp) = kept.rfind('&')
        && !kept[amp..].contains(';')
    {
        kept.truncate(amp);
    }
    kept.push('…');
    kept
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
/// "Undo" on the thank-you after a reply in the DM; its value is the answer's id.
pub const ACTION_UNDO_ANSWER: &str = "undo_answer";

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

/// The thank-you after a reply in the DM (`thanks`, mrkdwn), with "Undo" for the answer
/// `answer_id` and how long it works, in case the reply was not meant as an answer.
pub fn thanks_with_undo(thanks: &str, answer_id: &str, undo_minutes: i64) -> SlackMessageContent {
    let hint = format!("Not meant as an answer? You can undo it for {undo_minutes} minutes.");
    let undo = SlackBlockButtonElement::new(pt!("Undo"))
        .with_action_id(SlackActionId(ACTION_UNDO_ANSWER.to_owned()))
        .with_value(answer_id.to_owned());
    let note = SlackContextBlockElement::MarkDown(SlackBlockMarkDownText::new(hint.clone()));
    SlackMessageContent::new()
        // The text is what notifications and screen readers show.
        .with_text(format!("{thanks} {hint}"))
        .with_blocks(vec![
            SlackSectionBlock::new().with_text(md!(thanks.to_owned())).into(),
            SlackActionsBlock::new(vec![undo.into()]).into(),
            SlackContextBlock::new(vec![note]).into(),
        ])
}

/// A message of `text` (mrkdwn) alone. Updating a message with it also takes away the
/// message's buttons: `chat.update` keeps the old blocks unless it is given new ones.
pub fn text_only_message(text: impl Into<String>) -> SlackMessageContent {
    let text = text.into();
    SlackMessageContent::new()
        .with_text(text.clone())
        .with_blocks(vec![SlackSectionBlock::new().with_text(md!(text)).into()])
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
        SlackHeaderBlock::new(pt!(fit(&format!("Hi {}!", escape(&home.first_name)), HEADER_TEXT_LIMIT))).into(),
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
            let section = fit(&format!("*{}*{}\n>{}", escape(question), label, quoted), SECTION_TEXT_LIMIT);
            blocks.push(SlackSectionBlock::new().with_text(md!(section)).into());
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

    #[test]
    fn long_text_is_cut_to_the_limit_with_an_ellipsis_never_inside_an_escape() {
        assert_eq!(fit("short", 10), "short");
        assert_eq!(fit("abcdefghijk", 5), "abcd…");
        assert_eq!(fit("ab &amp; cd", 6), "ab …", "no half escape is left");
        assert_eq!(fit("ab &amp; cd", 9), "ab &amp;…");
        assert_eq!(fit("ééééé", 3).chars().count(), 3, "characters, not bytes");
    }

    #[test]
    fn app_home_stays_within_slacks_limits_for_the_longest_answers() {
        // The longest answer Rapport takes, of the characters that grow most when escaped.
        let longest = "<&>".repeat(1_000);
        let home = Home {
            first_name: "<".repeat(200),
            shared: 1,
            paused: false,
            latest: vec![("What is on your desk?".to_owned(), longest, false)],
        };
        let view = serde_json::to_value(home_view(&home)).unwrap();
        let blocks = view["blocks"].as_array().unwrap();
        for block in blocks {
            let text = block["text"]["text"].as_str().unwrap_or_default();
            let limit = if block["type"] == "header" { HEADER_TEXT_LIMIT } else { SECTION_TEXT_LIMIT };
            assert!(text.chars().count() <= limit, "{} characters in a {} block", text.chars().count(), block["type"]);
        }
        let last = blocks.last().unwrap()["text"]["text"].as_str().unwrap();
        assert!(last.ends_with('…') && last.starts_with("*What is on your desk?*"), "{last}");
    }
}
