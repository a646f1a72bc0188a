//! `/emulator`: a browser page to play any fake member of the emulated workspace: read
//! their DM with the bot and the sharing channel, reply, press buttons, fill the answer
//! modal, open App Home and run `/rapport`. Every action is delivered to the app exactly
//! as Slack would deliver it (signed HTTP requests).

use std::time::Duration;

use axum::{
    Form, Router,
    extract::{Query, State},
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::Value;

use super::{CHANNELS, EmulatedUser, Emulator, PostedMessage};

/// How long an action waits for the app's reply before showing the page again.
const REACTION_WAIT: Duration = Duration::from_secs(3);

/// The member picker's `onchange`: the pages' one piece of inline script.
const PICK_MEMBER: &str = "this.form.submit()";

pub fn routes() -> Router<Emulator> {
    Router::new()
        .route("/emulator", get(show))
        .route("/emulator/say", post(say))
        .route("/emulator/command", post(command))
        .route("/emulator/press", post(press))
        .route("/emulator/home", post(open_home))
        .route("/emulator/submit", post(submit))
        .route("/emulator/cancel", post(cancel))
        .route("/emulator/oauth/authorize", get(authorize))
}

/// The pages' Content-Security-Policy: their style sheet and the member picker's `onchange`,
/// allowed by hash, and no other inline code.
pub fn page_policy() -> String {
    let style =
        HEAD.split_once("<style>").and_then(|(_, rest)| rest.split_once("</style>")).map_or("", |(style, _)| style);
    crate::security_headers::inline_page_policy(&[style], &[PICK_MEMBER])
}

#[derive(Debug, Deserialize)]
pub struct As {
    #[serde(rename = "as")]
    user: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct TextForm {
    #[serde(rename = "as")]
    user: String,
    #[serde(default)]
    text: String,
}

#[derive(Debug, Deserialize)]
pub struct PressForm {
    #[serde(rename = "as")]
    user: String,
    action_id: String,
    #[serde(default)]
    value: String,
}

#[derive(Debug, Deserialize)]
pub struct SubmitForm {
    #[serde(rename = "as")]
    user: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    visibility: String,
}

async fn show(State(emulator): State<Emulator>, Query(query): Query<As>) -> Response {
    let users = emulator.users();
    let Some(current) = query.user.as_deref().and_then(|id| users.iter().find(|u| u.id == id)).or(users.first()) else {
        return Html("The emulated workspace has no members.").into_response();
    };
    let messages = emulator.messages();
    let dm_channel = format!("D{}", current.id);
    let dm: Vec<&PostedMessage> = messages.iter().filter(|m| m.channel == dm_channel).collect();
    let sharing: Vec<&PostedMessage> = messages.iter().filter(|m| m.channel == CHANNELS[1].0).collect();
    let me = escape(&current.id);

    let mut page = String::new();
    page.push_str(HEAD);
    page.push_str(&format!("<header><strong>Slack emulator</strong><span>Northwind Trails, as </span><form method=get action=/emulator><select name=as onchange={PICK_MEMBER} aria-label=Member>"));
    for user in &users {
        let selected = if user.id == current.id { " selected" } else { "" };
        page.push_str(&format!("<option value=\"{}\"{selected}>{}</option>", escape(&user.id), escape(&user.name)));
    }
    page.push_str("</select><noscript><button>Switch</button></noscript></form><a href=/people>Open the dashboard</a></header><main>");
    if let Some(error) = &query.error {
        page.push_str(&format!("<p class=error role=alert>{}</p>", escape(error)));
    }

    page.push_str(&format!(
        "<section class=dm aria-label=\"Direct messages\"><h2>Rapport (DM with {})</h2><ol class=messages>",
        escape(&current.name)
    ));
    for message in &dm {
        page.push_str(&render_message(message, &me));
    }
    if dm.is_empty() {
        page.push_str("<li class=hint>No messages yet. Try <code>/rapport ask</code> below.</li>");
    }
    page.push_str("</ol>");
    page.push_str(&format!("<form class=compose method=post action=/emulator/say><input type=hidden name=as value=\"{me}\"><input name=text aria-label=\"Message Rapport\" placeholder=\"Message Rapport\" autocomplete=off required><button>Send</button></form>"));
    page.push_str(&format!("<form class=compose method=post action=/emulator/command><input type=hidden name=as value=\"{me}\"><label>/rapport <input name=text aria-label=\"Slash command\" placeholder=\"ask, profile @someone, pause, resume, help\" autocomplete=off></label><button>Run</button></form>"));
    for reply in emulator.ephemeral_replies(&current.id).iter().rev().take(3) {
        page.push_str(&format!("<p class=ephemeral><em>Only visible to you:</em> {}</p>", mrkdwn(reply)));
    }
    page.push_str("</section>");

    if let Some(modal) = emulator.open_modal(&current.id) {
        page.push_str(&render_modal(&modal, &me));
    }

    page.push_str("<section class=home aria-label=\"App Home\"><h2>App Home</h2>");
    match emulator.home_view(&current.id) {
        Some(view) => page.push_str(&render_blocks(&view["blocks"], &me)),
        None => page.push_str("<p class=hint>Not opened yet.</p>"),
    }
    page.push_str(&format!("<form method=post action=/emulator/home><input type=hidden name=as value=\"{me}\"><button>Open App Home</button></form></section>"));

    page.push_str(&format!(
        "<section class=channel aria-label=\"Sharing channel\"><h2>#{}</h2><ol class=messages>",
        CHANNELS[1].1
    ));
    for message in sharing.iter().rev().take(20) {
        page.push_str(&render_message(message, &me));
    }
    if sharing.is_empty() {
        page.push_str("<li class=hint>Team-visible answers appear here.</li>");
    }
    page.push_str("</ol></section></main></body></html>");
    Html(page).into_response()
}

async fn say(State(emulator): State<Emulator>, Form(form): Form<TextForm>) -> Redirect {
    let outcome = emulator.send_direct_message(&form.user, &form.text).await.map(|_| ());
    back(&emulator, &form.user, outcome).await
}

async fn command(State(emulator): State<Emulator>, Form(form): Form<TextForm>) -> Redirect {
    let text = form.text.trim().trim_start_matches("/rapport").trim().to_owned();
    let outcome = emulator.send_command(&form.user, &text).await.map(|_| ());
    back(&emulator, &form.user, outcome).await
}

async fn press(State(emulator): State<Emulator>, Form(form): Form<PressForm>) -> Redirect {
    let outcome = emulator.press_button(&form.user, &form.action_id, &form.value).await.map(|_| ());
    back(&emulator, &form.user, outcome).await
}

async fn open_home(State(emulator): State<Emulator>, Form(form): Form<TextForm>) -> Redirect {
    let event = serde_json::json!({ "type": "app_home_opened", "user": form.user, "channel": format!("D{}", form.user), "tab": "home" });
    let outcome = emulator.send_event(event).await.map(|_| ());
    back(&emulator, &form.user, outcome).await
}

async fn submit(State(emulator): State<Emulator>, Form(form): Form<SubmitForm>) -> Redirect {
    let outcome = match emulator.submit_modal(&form.user, &form.text, &form.visibility).await {
        Ok(None) => Ok(()),
        Ok(Some(errors)) => {
            let messages: Vec<String> =
                errors.as_object().into_iter().flatten().filter_map(|(_, m)| m.as_str().map(str::to_owned)).collect();
            Err(anyhow::anyhow!(messages.join(" ")))
        }
        Err(error) => Err(error),
    };
    back(&emulator, &form.user, outcome).await
}

async fn cancel(State(emulator): State<Emulator>, Form(form): Form<TextForm>) -> Redirect {
    emulator.close_modal(&form.user);
    Redirect::to(&page_url(&form.user, None))
}

#[derive(Debug, Deserialize)]
pub struct AuthorizeQuery {
    client_id: String,
    redirect_uri: String,
    #[serde(default)]
    state: String,
    /// Sign in with Slack's nonce, echoed in the ID token.
    nonce: Option<String>,
    /// Which fake member approves: for an install the first member when absent; a sign-in
    /// without one asks who is signing in.
    #[serde(rename = "as")]
    user: Option<String>,
}

/// Slack's "Allow" page. An install, or a sign-in naming its member (`as`), is approved at
/// once: back to the app with a one-time code. A sign-in (it has a nonce) naming no member
/// first asks who is signing in, as Slack does for a browser signed in to several accounts.
async fn authorize(State(emulator): State<Emulator>, Query(query): Query<AuthorizeQuery>) -> Response {
    if query.client_id != super::CLIENT_ID {
        return (axum::http::StatusCode::BAD_REQUEST, "unknown client_id").into_response();
    }
    // Like Slack, only send codes back to the app's own address: never an open redirect.
    if !query.redirect_uri.starts_with(&format!("{}/", emulator.app_url)) {
        return (axum::http::StatusCode::BAD_REQUEST, "redirect_uri is not the app's").into_response();
    }
    let users = emulator.users();
    if query.nonce.is_some() && query.user.is_none() {
        return Html(choose_member_page(&emulator.team_name(), &query, &users)).into_response();
    }
    let Some(user) =
        query.user.as_deref().or(users.first().map(|u| u.id.as_str())).filter(|id| users.iter().any(|u| u.id == *id))
    else {
        return (axum::http::StatusCode::BAD_REQUEST, "unknown member").into_response();
    };
    let code = emulator.issue_oauth_code(user, query.nonce.clone());
    let separator = if query.redirect_uri.contains('?') { '&' } else { '?' };
    let target =
        format!("{}{separator}code={}&state={}", query.redirect_uri, urlencode(&code), urlencode(&query.state));
    Redirect::to(&target).into_response()
}

/// Sign in with Slack's "who is signing in?" page: a link per active member, each the same
/// authorize request approving as them.
fn choose_member_page(team_name: &str, query: &AuthorizeQuery, users: &[EmulatedUser]) -> String {
    let mut page = String::from(HEAD);
    page.push_str(&format!(
        "<header><strong>Slack emulator</strong><span>Sign in with Slack</span></header><main><section aria-label=\"Choose a member\"><h2>Sign in to {} as…</h2><ul class=members>",
        escape(team_name)
    ));
    // Deactivated members cannot sign in to Slack, so they are not offered.
    for user in users.iter().filter(|user| !user.deleted) {
        page.push_str(&format!(
            "<li><a href=\"{}\">{}</a> <span class=hint>{}{}</span></li>",
            escape(&approve_as_url(query, &user.id)),
            escape(&user.name),
            escape(&user.title),
            if user.is_admin { " · workspace admin" } else { "" }
        ));
    }
    page.push_str("</ul></section></main></body></html>");
    page
}

/// The authorize request `query` made, approving as `user_id`.
fn approve_as_url(query: &AuthorizeQuery, user_id: &str) -> String {
    let mut url = format!(
        "/emulator/oauth/authorize?client_id={}&redirect_uri={}&state={}",
        urlencode(&query.client_id),
        urlencode(&query.redirect_uri),
        urlencode(&query.state)
    );
    if let Some(nonce) = &query.nonce {
        url.push_str(&format!("&nonce={}", urlencode(nonce)));
    }
    url.push_str(&format!("&as={}", urlencode(user_id)));
    url
}

/// Waits for the app to react (its work runs after it answers: an event in its inbox, a
/// question on its way), then shows the page.
async fn back(emulator: &Emulator, user: &str, outcome: anyhow::Result<()>) -> Redirect {
    if let Err(error) = outcome {
        return Redirect::to(&page_url(user, Some(&format!("{error:#}"))));
    }
    emulator.wait_for_reaction(emulator.version(), REACTION_WAIT).await;
    Redirect::to(&page_url(user, None))
}

/// The page as `user` sees it, showing `error` if any. Both are percent-encoded, so neither
/// can add a parameter or a fragment of its own.
fn page_url(user: &str, error: Option<&str>) -> String {
    let mut url = format!("/emulator?as={}", urlencode(user));
    if let Some(error) = error {
        url.push_str(&format!("&error={}", urlencode(error)));
    }
    url
}

fn render_message(message: &PostedMessage, me: &str) -> String {
    let body = match message.blocks.as_array() {
        Some(blocks) if !blocks.is_empty() => render_blocks(&message.blocks, me),
        _ => format!("<p>{}</p>", mrkdwn(&message.text)),
    };
    format!("<li class=message><span class=author>Rapport</span>{body}</li>")
}

/// Renders the Block Kit Rapport uses: headers, sections, context and button rows.
fn render_blocks(blocks: &Value, me: &str) -> String {
    let mut html = String::new();
    for block in blocks.as_array().into_iter().flatten() {
        match block["type"].as_str() {
            Some("header") => {
                html.push_str(&format!("<h3>{}</h3>", escape(block["text"]["text"].as_str().unwrap_or_default())))
            }
            Some("section") => {
                html.push_str(&format!("<p>{}</p>", mrkdwn(block["text"]["text"].as_str().unwrap_or_default())))
            }
            Some("context") => {
                for element in block["elements"].as_array().into_iter().flatten() {
                    html.push_str(&format!(
                        "<p class=context>{}</p>",
                        mrkdwn(element["text"].as_str().unwrap_or_default())
                    ));
                }
            }
            Some("actions") => {
                html.push_str("<div class=actions>");
                for button in block["elements"].as_array().into_iter().flatten() {
                    html.push_str(&format!(
                        "<form method=post action=/emulator/press><input type=hidden name=as value=\"{me}\"><input type=hidden name=action_id value=\"{}\"><input type=hidden name=value value=\"{}\"><button class=\"{}\">{}</button></form>",
                        escape(button["action_id"].as_str().unwrap_or_default()),
                        escape(button["value"].as_str().unwrap_or_default()),
                        escape(button["style"].as_str().unwrap_or("default")),
                        escape(button["text"]["text"].as_str().unwrap_or_default()),
                    ));
                }
                html.push_str("</div>");
            }
            _ => {}
        }
    }
    html
}

/// The answer modal as a form (its input and radio blocks become fields).
fn render_modal(modal: &Value, me: &str) -> String {
    let mut html = format!(
        "<div class=modal role=dialog aria-label=\"{0}\"><form method=post action=/emulator/submit><h2>{0}</h2><input type=hidden name=as value=\"{me}\">",
        escape(modal["title"]["text"].as_str().unwrap_or("Modal"))
    );
    for block in modal["blocks"].as_array().into_iter().flatten() {
        match (block["type"].as_str(), block["element"]["type"].as_str()) {
            (Some("section"), _) => {
                html.push_str(&format!("<p>{}</p>", mrkdwn(block["text"]["text"].as_str().unwrap_or_default())))
            }
            (Some("input"), Some("plain_text_input")) => html.push_str(&format!(
                "<label>{}<textarea name=text rows=4 maxlength=3000 aria-label=Answer></textarea></label>",
                escape(block["label"]["text"].as_str().unwrap_or_default())
            )),
            (Some("input"), Some("radio_buttons")) => {
                html.push_str(&format!(
                    "<fieldset><legend>{}</legend>",
                    escape(block["label"]["text"].as_str().unwrap_or_default())
                ));
                let initial = block["element"]["initial_option"]["value"].as_str().unwrap_or_default();
                for option in block["element"]["options"].as_array().into_iter().flatten() {
                    let value = option["value"].as_str().unwrap_or_default();
                    let checked = if value == initial { " checked" } else { "" };
                    html.push_str(&format!(
                        "<label class=choice><input type=radio name=visibility value=\"{}\"{checked}> {}</label>",
                        escape(value),
                        escape(option["text"]["text"].as_str().unwrap_or_default())
                    ));
                }
                html.push_str("</fieldset>");
            }
            _ => {}
        }
    }
    html.push_str(&format!(
        "<div class=actions><button class=primary>{}</button></div></form><form method=post action=/emulator/cancel><input type=hidden name=as value=\"{me}\"><button>{}</button></form></div>",
        escape(modal["submit"]["text"].as_str().unwrap_or("Submit")),
        escape(modal["close"]["text"].as_str().unwrap_or("Cancel"))
    ));
    html
}

/// Slack's mrkdwn, enough for Rapport's messages: escaped, `*bold*`, `_italic_`, quotes and
/// line breaks.
fn mrkdwn(text: &str) -> String {
    text.split('\n')
        .map(|line| {
            let (quoted, line) = match line.strip_prefix('>') {
                Some(rest) => (true, rest),
                None => (false, line),
            };
            let line = emphasis(&emphasis(&links(&escape(line)), '*', "strong"), '_', "em");
            if quoted { format!("<q>{line}</q>") } else { line }
        })
        .collect::<Vec<_>>()
        .join("<br>")
}

/// Slack's `<https://…|label>` links (already escaped) as HTML links; anything else stays text.
fn links(escaped: &str) -> String {
    let mut out = String::new();
    let mut rest = escaped;
    while let Some(start) = rest.find("&lt;http") {
        let Some(end) = rest[start..].find("&gt;").map(|end| start + end) else { break };
        let inner = &rest[start + 4..end];
        let (url, label) = inner.split_once('|').unwrap_or((inner, inner));
        out.push_str(&rest[..start]);
        out.push_str(&format!("<a href=\"{url}\">{label}</a>"));
        rest = &rest[end + 4..];
    }
    out.push_str(rest);
    out
}

fn emphasis(text: &str, marker: char, tag: &str) -> String {
    let parts: Vec<&str> = text.split(marker).collect();
    let mut out = String::new();
    for (index, part) in parts.iter().enumerate() {
        let is_inside = index % 2 == 1;
        let is_closed = index + 1 < parts.len();
        match (is_inside, is_closed) {
            (true, true) => out.push_str(&format!("<{tag}>{part}</{tag}>")),
            // A marker without its pair is just a character.
            (true, false) => {
                out.push(marker);
                out.push_str(part);
            }
            (false, _) => out.push_str(part),
        }
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

fn urlencode(text: &str) -> String {
    serde_urlencoded::to_string([("v", text)]).map(|s| s[2..].to_owned()).unwrap_or_default()
}

const HEAD: &str = "<!DOCTYPE html><html lang=en><head><meta charset=utf-8><meta name=viewport content=\"width=device-width, initial-scale=1\"><title>Slack emulator · Rapport</title><link rel=icon href=/favicon.svg><style>
body{margin:0;font:15px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f4f2ee;color:#1d1c1d}
header{display:flex;flex-wrap:wrap;gap:.75rem;align-items:center;padding:.7rem 1.2rem;background:#3f0e40;color:#fff}
header a{color:#fff;margin-left:auto}header select{font:inherit;padding:.2rem}
main{display:grid;gap:1rem;padding:1rem;grid-template-columns:repeat(auto-fit,minmax(20rem,1fr));max-width:80rem;margin:0 auto}
section,.modal{background:#fff;border:1px solid #ddd;border-radius:10px;padding:1rem}
h2{font-size:1.05rem;margin:0 0 .6rem}h3{margin:.2rem 0}
.messages{list-style:none;margin:0 0 .8rem;padding:0;display:grid;gap:.6rem;max-height:28rem;overflow:auto}
.message{border-left:3px solid #3b5bdb;padding:.2rem .6rem}.message p{margin:.2rem 0}.author{font-weight:700;font-size:.85rem}
q{display:block;border-left:3px solid #ccc;padding-left:.5rem;quotes:none}
.context,.hint{color:#616061;font-size:.88rem}.actions{display:flex;flex-wrap:wrap;gap:.4rem;margin:.3rem 0}
button{font:inherit;padding:.35rem .8rem;border-radius:6px;border:1px solid #bbb;background:#fff;cursor:pointer}
button.primary{background:#007a5a;color:#fff;border-color:#007a5a}
.compose{display:flex;gap:.4rem;margin:.4rem 0}.compose input{flex:1;font:inherit;padding:.35rem}.compose label{flex:1;display:flex;gap:.3rem;align-items:center}
.ephemeral{background:#f8f8f8;border-radius:6px;padding:.4rem .6rem;font-size:.9rem}
.modal{border:2px solid #3b5bdb}.modal textarea{width:100%;font:inherit;margin:.3rem 0}.modal fieldset{border:0;padding:0;margin:.5rem 0}.choice{display:block}
.error{grid-column:1/-1;background:#fde8e8;border:1px solid #e0a0a0;padding:.5rem .8rem;border-radius:8px}
</style></head><body>";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slack::verify::SigningSecret;

    fn location(redirect: Redirect) -> String {
        redirect.into_response().headers()["location"].to_str().unwrap().to_owned()
    }

    #[tokio::test]
    async fn the_redirects_back_to_the_page_encode_the_member_and_the_error() {
        let emulator =
            Emulator::new("http://127.0.0.1:9", "http://127.0.0.1:9", SigningSecret::new("test-signing-secret"))
                .unwrap();
        let member = "U1&error=x#y";

        let cancelled =
            cancel(State(emulator.clone()), Form(TextForm { user: member.to_owned(), text: String::new() })).await;
        let failed = back(&emulator, member, Err(anyhow::anyhow!("no reply & no luck #1"))).await;

        assert_eq!(location(cancelled), "/emulator?as=U1%26error%3Dx%23y");
        assert_eq!(location(failed), "/emulator?as=U1%26error%3Dx%23y&error=no+reply+%26+no+luck+%231");
    }

    #[test]
    fn mrkdwn_escapes_html_and_renders_bold_italic_and_quotes() {
        assert_eq!(
            mrkdwn("*Today's question*\n>What <b>?"),
            "<strong>Today&#39;s question</strong><br><q>What &lt;b&gt;?</q>"
        );
        assert_eq!(mrkdwn("• _Q_ 2 * 3"), "• <em>Q</em> 2 * 3");
        assert_eq!(
            mrkdwn("You answered. <http://127.0.0.1:3000/people/m1|See it>"),
            "You answered. <a href=\"http://127.0.0.1:3000/people/m1\">See it</a>"
        );
        assert_eq!(mrkdwn("&lt;not a link&gt;"), "&amp;lt;not a link&amp;gt;");
    }

    #[test]
    fn a_member_choice_repeats_the_sign_in_request_encoded_and_names_the_member() {
        let query = AuthorizeQuery {
            client_id: "1.emulator".to_owned(),
            redirect_uri: "http://127.0.0.1:3000/auth/slack/callback?next=/people&x=1".to_owned(),
            state: "s 1".to_owned(),
            nonce: Some("n+1".to_owned()),
            user: None,
        };

        let url = approve_as_url(&query, "UDEMO004");

        assert_eq!(
            url,
            "/emulator/oauth/authorize?client_id=1.emulator\
             &redirect_uri=http%3A%2F%2F127.0.0.1%3A3000%2Fauth%2Fslack%2Fcallback%3Fnext%3D%2Fpeople%26x%3D1\
             &state=s+1&nonce=n%2B1&as=UDEMO004"
        );
    }
}
