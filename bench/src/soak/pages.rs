//! A signed-in browser for the soak: it signs in with the one-time link `/rapport login`
//! hands out (a link made by the product, so it is valid by the product's faster clock),
//! then opens pages and calls the search server function as the pages do.

use anyhow::Context as _;
use serde_json::Value;

use super::record::{Reply, send};
use crate::search::encode;

/// A page a browser opens, or the server function it calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visit {
    People,
    Profile,
    Questions,
    Me,
    SearchPage,
    /// The search box as it asks while someone types (`/api/search`).
    SearchApi,
    Insights,
}

/// What a member opens, in turn.
pub const MEMBER_VISITS: [Visit; 6] =
    [Visit::People, Visit::Profile, Visit::Questions, Visit::Me, Visit::SearchPage, Visit::SearchApi];
/// What an admin opens, in turn: a member's pages and the insights.
pub const ADMIN_VISITS: [Visit; 7] =
    [Visit::People, Visit::Insights, Visit::Profile, Visit::Questions, Visit::Me, Visit::SearchPage, Visit::SearchApi];

impl Visit {
    /// How the report names it.
    pub fn kind(self) -> &'static str {
        match self {
            Visit::People => "page /people",
            Visit::Profile => "page /people/:id",
            Visit::Questions => "page /questions",
            Visit::Me => "page /me",
            Visit::SearchPage => "page /search?q=",
            Visit::SearchApi => "api search",
            Visit::Insights => "page /admin/insights",
        }
    }

    /// Its path, showing the member `member_id` or searching for `words`.
    pub fn path(self, member_id: &str, words: &str) -> String {
        match self {
            Visit::People => "/people".to_owned(),
            Visit::Profile => format!("/people/{member_id}"),
            Visit::Questions => "/questions".to_owned(),
            Visit::Me => "/me".to_owned(),
            Visit::SearchPage => format!("/search?q={}", encode(words)),
            Visit::SearchApi => "/api/search".to_owned(),
            Visit::Insights => "/admin/insights?weeks=4".to_owned(),
        }
    }
}

/// One person's browser: a cookie jar and its connections.
pub struct Browser {
    http: reqwest::Client,
    base_url: String,
    pub visits: &'static [Visit],
}

impl Browser {
    /// A browser that has not signed in yet; an admin's opens the admin pages too.
    pub fn new(base_url: &str, admin: bool) -> anyhow::Result<Browser> {
        let http = crate::client::browser_http().context("building a browser's HTTP client")?;
        let visits: &'static [Visit] = if admin { &ADMIN_VISITS } else { &MEMBER_VISITS };
        Ok(Browser { http, base_url: base_url.to_owned(), visits })
    }

    /// Presses "Sign in" on the page of the one-time link `token` (303 to `/me` when it
    /// worked).
    pub async fn sign_in(&self, token: &str) -> Reply {
        send(self.http.post(format!("{}/login/link/{token}", self.base_url))).await
    }

    /// Opens `visit` at `path` (as [`Visit::path`] made it), searching for `words` when it
    /// is the search server function.
    pub async fn open(&self, visit: Visit, path: &str, words: &str) -> Reply {
        let url = format!("{}{path}", self.base_url);
        match visit {
            Visit::SearchApi => send(self.http.post(url).form(&[("q", words), ("page", "1")])).await,
            _ => send(self.http.get(url).header("accept", "text/html")).await,
        }
    }
}

/// The token of the sign-in link in `/rapport login`'s reply (`{"text": "<…/login/link/TOKEN|…>…"}`).
pub fn link_token(reply: &str) -> Option<String> {
    let reply: Value = serde_json::from_str(reply).ok()?;
    let text = reply["text"].as_str()?;
    let (_, after) = text.split_once("/login/link/")?;
    let token: String = after.chars().take_while(char::is_ascii_hexdigit).collect();
    (token.len() == 64).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_token_is_read_from_the_login_reply() {
        let token = "ab".repeat(32);
        let reply = serde_json::json!({
            "response_type": "ephemeral",
            "text": format!("<http://127.0.0.1:3951/login/link/{token}|Open your Rapport dashboard>. The link …"),
        });

        assert_eq!(link_token(&reply.to_string()), Some(token));
        assert_eq!(link_token(r#"{"text": "Rapport does not know you yet"}"#), None);
        assert_eq!(link_token("not json"), None);
    }

    #[test]
    fn a_search_page_path_encodes_its_words() {
        assert_eq!(Visit::SearchPage.path("m1", "soak coffee"), "/search?q=soak%20coffee");
        assert_eq!(Visit::Profile.path("m1", "x"), "/people/m1");
    }
}
