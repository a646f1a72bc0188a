//! The Slack Web API client: slack-morphism's, on a connector that also speaks plain http
//! (its default is https-only; the emulator and tests listen on http://127.0.0.1).

use std::{sync::Arc, time::Duration};

use slack_morphism::{errors::SlackClientError, prelude::*};

use crate::server::{metrics::Metrics, secret::Secret};

/// Errors from Slack, sorted by what the caller should do about them.
///
/// Their text is safe to log and to store (`prompts.failure_reason`): it holds Slack's error
/// code or a fixed description of what went wrong, never the body of Slack's answer, which
/// can hold a token (`oauth.v2.access` answers with the bot token) — slack-morphism's own
/// errors print that body, so they are converted here, at the edge, and go no further.
#[derive(Debug, thiserror::Error)]
pub enum SlackCallError {
    /// Slack refused the call for good (`channel_not_found`, `invalid_auth`, ...).
    #[error("Slack refused the call: {0}")]
    Refused(String),
    /// Slack asked us to slow down; try again after this many seconds.
    #[error("rate limited by Slack (retry after {0:?} s)")]
    RateLimited(Option<u64>),
    /// The network, a 5xx or an unreadable answer: worth retrying later.
    #[error("Slack call failed: {0}")]
    Transient(String),
}

/// How long one Web API call may take. slack-morphism sets no timeout, and one hung call
/// would hold up every event queued behind it.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs the Slack call `method` with [`CALL_TIMEOUT`] and counts it by outcome; a timeout is
/// transient (worth retrying later).
async fn bounded<T>(
    metrics: &Metrics,
    method: &'static str,
    call: impl Future<Output = Result<T, SlackClientError>>,
) -> Result<T, SlackCallError> {
    within(CALL_TIMEOUT, metrics, method, call).await
}

async fn within<T>(
    limit: Duration,
    metrics: &Metrics,
    method: &'static str,
    call: impl Future<Output = Result<T, SlackClientError>>,
) -> Result<T, SlackCallError> {
    let Ok(answer) = tokio::time::timeout(limit, call).await else {
        metrics.count_slack_call(method, "timeout");
        return Err(SlackCallError::Transient(format!("no answer within {} ms", limit.as_millis())));
    };
    let result = answer.map_err(SlackCallError::from);
    // Slack's error codes are few and checked (`slack_code`), so each may be a label value.
    let outcome = match &result {
        Ok(_) => "ok",
        Err(SlackCallError::RateLimited(_)) => "ratelimited",
        Err(SlackCallError::Refused(code)) => code.as_str(),
        Err(SlackCallError::Transient(_)) => "transient",
    };
    metrics.count_slack_call(method, outcome);
    result
}

impl From<SlackClientError> for SlackCallError {
    /// Keeps what the caller needs (Slack's error code, `Retry-After`, the HTTP status, the
    /// kind of failure) and drops the rest: every variant of `SlackClientError` can carry the
    /// answer's body or a message quoting it (serde's quotes a value of the wrong type).
    fn from(error: SlackClientError) -> Self {
        match error {
            SlackClientError::ApiError(api) => SlackCallError::Refused(slack_code(&api.code)),
            SlackClientError::RateLimitError(limit) => {
                SlackCallError::RateLimited(limit.retry_after.map(|after| after.as_secs()))
            }
            SlackClientError::HttpError(answer) => {
                SlackCallError::Transient(format!("HTTP {}", answer.status_code.as_u16()))
            }
            SlackClientError::ProtocolError(protocol) => {
                SlackCallError::Transient(unreadable_answer(&protocol.json_error).to_owned())
            }
            SlackClientError::SystemError(_) => SlackCallError::Transient("the answer could not be read".to_owned()),
            SlackClientError::HttpProtocolError(_) => SlackCallError::Transient("the request failed".to_owned()),
            SlackClientError::EndOfStream(_) => SlackCallError::Transient("the answer ended early".to_owned()),
            SlackClientError::SocketModeProtocolError(_) => {
                SlackCallError::Transient("a Socket Mode protocol error".to_owned())
            }
        }
    }
}

/// Slack's error code as Rapport keeps it: Slack's codes are short `snake_case` words, so
/// anything else (a proxy's page, a token echoed back) is not kept.
fn slack_code(code: &str) -> String {
    let plausible = !code.is_empty()
        && code.len() <= 64
        && code.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_');
    if plausible { code.to_owned() } else { "unrecognised_error".to_owned() }
}

/// What kind of JSON trouble an answer had. serde's message itself is not used: for a value
/// of the wrong type it quotes the value, which may be a token.
fn unreadable_answer(error: &serde_json::Error) -> &'static str {
    match error.classify() {
        serde_json::error::Category::Io => "the answer could not be read",
        serde_json::error::Category::Syntax => "the answer was not JSON",
        serde_json::error::Category::Eof => "the answer was cut short",
        serde_json::error::Category::Data => "the answer had an unexpected shape",
    }
}

/// The HTTP client for one Slack Web API base URL, shared by every workspace's [`SlackApi`],
/// and the metrics its calls are counted in.
#[derive(Clone)]
pub struct SlackConnection {
    client: Arc<SlackHyperClient>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for SlackConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SlackConnection(..)")
    }
}

/// What Slack's `oauth.v2.access` grants on install.
#[derive(Debug, Clone)]
pub struct InstallGrant {
    pub team_id: String,
    pub team_name: String,
    pub bot_user_id: Option<String>,
    pub bot_token: Secret,
    pub installer_user_id: String,
}

impl SlackConnection {
    /// A client for the Web API at `api_url` (no trailing slash) that counts its calls in
    /// `metrics`.
    pub fn new(api_url: &str, metrics: Arc<Metrics>) -> anyhow::Result<SlackConnection> {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()?
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .build();
        let client = SlackClient::new(SlackClientHyperConnector::with_connector(connector).with_slack_api_url(api_url));
        Ok(SlackConnection { client: Arc::new(client), metrics })
    }

    /// Acts as the bot with `bot_token`.
    pub fn with_token(&self, bot_token: &Secret) -> SlackApi {
        let token = SlackApiToken::new(SlackApiTokenValue(bot_token.expose().to_owned()));
        SlackApi { client: self.client.clone(), token, metrics: self.metrics.clone() }
    }

    /// Exchanges an install's `code` for the workspace's bot token.
    pub async fn exchange_code(
        &self,
        client_id: &str,
        client_secret: &str,
        code: &str,
        redirect_uri: &str,
    ) -> Result<InstallGrant, SlackCallError> {
        let request = SlackOAuthV2AccessTokenRequest::new(
            SlackClientId(client_id.to_owned()),
            SlackClientSecret(client_secret.to_owned()),
            SlackOAuthCode(code.to_owned()),
        )
        .with_redirect_uri(
            url::Url::parse(redirect_uri).map_err(|_| SlackCallError::Refused("bad_redirect_uri".into()))?,
        );
        let grant = bounded(&self.metrics, "oauth.v2.access", self.client.oauth2_access(&request)).await?;
        Ok(InstallGrant {
            team_id: grant.team.id.0,
            team_name: grant.team.name.unwrap_or_default(),
            bot_user_id: grant.bot_user_id.map(|id| id.0),
            bot_token: Secret::new(grant.access_token.0),
            installer_user_id: grant.authed_user.id.0,
        })
    }
}

/// A bot's view of one workspace's Slack.
#[derive(Clone)]
pub struct SlackApi {
    client: Arc<SlackHyperClient>,
    token: SlackApiToken,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for SlackApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token stays out of logs and panics.
        f.write_str("SlackApi(..)")
    }
}

impl SlackApi {
    /// Posts a message to a channel, or to a user's DM with the bot when `channel` is a user
    /// id. Returns the message's `ts`.
    pub async fn post_message(&self, channel: &str, content: SlackMessageContent) -> Result<String, SlackCallError> {
        let session = self.client.open_session(&self.token);
        let request = SlackApiChatPostMessageRequest::new(SlackChannelId(channel.to_owned()), content);
        let response = bounded(&self.metrics, "chat.postMessage", session.chat_post_message(&request)).await?;
        Ok(response.ts.0)
    }

    /// Posts a message and returns where it landed: the channel (a user id becomes their DM
    /// channel) and the message's `ts`.
    pub async fn post_to(&self, channel: &str, content: SlackMessageContent) -> Result<Posted, SlackCallError> {
        let session = self.client.open_session(&self.token);
        let request = SlackApiChatPostMessageRequest::new(SlackChannelId(channel.to_owned()), content);
        let response = bounded(&self.metrics, "chat.postMessage", session.chat_post_message(&request)).await?;
        Ok(Posted { channel: response.channel.0, ts: response.ts.0 })
    }

    /// Replaces the content of the bot's message `ts` in `channel` (`chat.update`).
    pub async fn update_message(
        &self,
        channel: &str,
        ts: &str,
        content: SlackMessageContent,
    ) -> Result<(), SlackCallError> {
        let session = self.client.open_session(&self.token);
        let request =
            SlackApiChatUpdateRequest::new(SlackChannelId(channel.to_owned()), content, SlackTs(ts.to_owned()));
        bounded(&self.metrics, "chat.update", session.chat_update(&request)).await?;
        Ok(())
    }

    /// The bot's DM channel with a user (`conversations.open`). Off the hot path: messages go
    /// to the user id or the cached channel; this is for looking a message up.
    pub async fn open_dm(&self, slack_user_id: &str) -> Result<String, SlackCallError> {
        let session = self.client.open_session(&self.token);
        let request = SlackApiConversationsOpenRequest::new().with_users(vec![SlackUserId(slack_user_id.to_owned())]);
        let response = bounded(&self.metrics, "conversations.open", session.conversations_open(&request)).await?;
        Ok(response.channel.id.0)
    }

    /// The `ts` of a recent message in `channel` whose metadata is `event_type` with
    /// `key` = `value`, among the channel's latest [`LOOKUP_MESSAGES`] messages.
    pub async fn find_by_metadata(
        &self,
        channel: &str,
        event_type: &str,
        key: &str,
        value: &str,
    ) -> Result<Option<String>, SlackCallError> {
        let session = self.client.open_session(&self.token);
        let request = SlackApiConversationsHistoryRequest::new()
            .with_channel(SlackChannelId(channel.to_owned()))
            .with_limit(LOOKUP_MESSAGES)
            .with_include_all_metadata(true);
        let history = bounded(&self.metrics, "conversations.history", session.conversations_history(&request)).await?;
        let found = history.messages.into_iter().find(|message| {
            message.content.metadata.as_ref().is_some_and(|meta| {
                meta.event_type == event_type
                    && meta.event_payload.as_ref().and_then(|payload| payload.get(key)).is_some_and(|v| v == value)
            })
        });
        Ok(found.map(|message| message.origin.ts.0))
    }

    /// Publishes a member's App Home tab.
    pub async fn publish_home(&self, slack_user_id: &str, view: SlackHomeView) -> Result<(), SlackCallError> {
        let session = self.client.open_session(&self.token);
        let request = SlackApiViewsPublishRequest::new(SlackUserId(slack_user_id.to_owned()), SlackView::Home(view));
        bounded(&self.metrics, "views.publish", session.views_publish(&request)).await?;
        Ok(())
    }

    /// Opens a modal in answer to a button press (`trigger_id` is valid for 3 seconds).
    pub async fn open_view(&self, trigger_id: &str, view: SlackView) -> Result<(), SlackCallError> {
        let session = self.client.open_session(&self.token);
        let request = SlackApiViewsOpenRequest::new(SlackTriggerId(trigger_id.to_owned()), view);
        bounded(&self.metrics, "views.open", session.views_open(&request)).await?;
        Ok(())
    }

    /// One page of `users.list`, and the cursor of the next page if there is one.
    pub async fn list_users(&self, cursor: Option<String>) -> Result<(Vec<SlackUser>, Option<String>), SlackCallError> {
        let session = self.client.open_session(&self.token);
        let request = SlackApiUsersListRequest::new().with_limit(200).opt_cursor(cursor.map(SlackCursorId));
        let page = bounded(&self.metrics, "users.list", session.users_list(&request)).await?;
        let next = page.response_metadata.and_then(|meta| meta.next_cursor).map(|c| c.0).filter(|c| !c.is_empty());
        Ok((page.members, next))
    }

    /// One page of the workspace's public, unarchived channels (`conversations.list`), and
    /// the cursor of the next page if there is one.
    pub async fn list_channels(
        &self,
        cursor: Option<String>,
    ) -> Result<(Vec<Channel>, Option<String>), SlackCallError> {
        let session = self.client.open_session(&self.token);
        let request = SlackApiConversationsListRequest::new()
            .with_limit(200)
            .with_exclude_archived(true)
            .with_types(vec![SlackConversationType::Public])
            .opt_cursor(cursor.map(SlackCursorId));
        let page = bounded(&self.metrics, "conversations.list", session.conversations_list(&request)).await?;
        let next = page.response_metadata.and_then(|meta| meta.next_cursor).map(|c| c.0).filter(|c| !c.is_empty());
        let channels = page
            .channels
            .into_iter()
            .map(|channel| Channel { name: channel.name.unwrap_or_else(|| channel.id.0.clone()), id: channel.id.0 })
            .collect();
        Ok((channels, next))
    }

    /// `auth.test`: the workspace and bot user this token belongs to.
    pub async fn whoami(&self) -> Result<BotIdentity, SlackCallError> {
        let session = self.client.open_session(&self.token);
        let identity = bounded(&self.metrics, "auth.test", session.auth_test()).await?;
        Ok(BotIdentity { team_id: identity.team_id.0, team_name: identity.team, bot_user_id: identity.user_id.0 })
    }
}

/// How many of a DM's latest messages a lookup reads: a lost send is looked for minutes or
/// hours later, and the bot writes a handful of messages a day to one member.
pub const LOOKUP_MESSAGES: u16 = 100;

/// Where a posted message landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub channel: String,
    pub ts: String,
}

/// A channel of the workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    pub id: String,
    pub name: String,
}

/// Who a bot token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotIdentity {
    pub team_id: String,
    pub team_name: String,
    pub bot_user_id: String,
}

#[cfg(test)]
mod tests {
    use slack_morphism::errors;

    use super::*;

    #[tokio::test]
    async fn a_call_that_never_answers_is_a_transient_error() {
        let metrics = Metrics::new();
        let limit = Duration::from_millis(20);
        let hung = within(limit, &metrics, "auth.test", std::future::pending::<Result<(), SlackClientError>>()).await;
        assert!(matches!(hung, Err(SlackCallError::Transient(reason)) if reason.contains("20 ms")));
        let quick = within(limit, &metrics, "auth.test", async { Ok::<_, SlackClientError>(7) }).await;
        assert_eq!(quick.ok(), Some(7));
    }

    #[tokio::test]
    async fn each_call_is_counted_by_method_and_outcome() {
        let metrics = Metrics::new();
        let limit = Duration::from_secs(5);
        let refused = || async {
            Err::<(), SlackClientError>(SlackClientError::ApiError(errors::SlackClientApiError::new(
                "channel_not_found".into(),
            )))
        };
        let limited = || async {
            Err::<(), SlackClientError>(SlackClientError::RateLimitError(
                errors::SlackRateLimitError::new().with_retry_after(Duration::from_secs(3)),
            ))
        };
        let hung = std::future::pending::<Result<(), SlackClientError>>();

        assert!(within(limit, &metrics, "chat.postMessage", async { Ok::<_, SlackClientError>(()) }).await.is_ok());
        assert!(within(limit, &metrics, "chat.postMessage", refused()).await.is_err());
        for _ in 0..2 {
            assert!(within(limit, &metrics, "chat.postMessage", limited()).await.is_err());
        }
        assert!(within(Duration::from_millis(1), &metrics, "views.open", hung).await.is_err());

        let text = metrics.encode().unwrap();
        for line in [
            r#"rapport_slack_api_calls_total{method="chat.postMessage",outcome="ok"} 1"#,
            r#"rapport_slack_api_calls_total{method="chat.postMessage",outcome="channel_not_found"} 1"#,
            r#"rapport_slack_api_calls_total{method="chat.postMessage",outcome="ratelimited"} 2"#,
            r#"rapport_slack_api_calls_total{method="views.open",outcome="timeout"} 1"#,
        ] {
            assert!(text.contains(&format!("{line}\n")), "{line} in {text}");
        }
    }

    /// An answer of `oauth.v2.access` holding the bot token, in a shape the client cannot read.
    const TOKEN_BODY: &str = r#"{"ok":true,"access_token":"xoxb-secret-token","team":"xoxb-secret-token"}"#;

    #[test]
    fn a_protocol_error_whose_body_holds_a_token_converts_to_text_without_it() {
        // serde quotes a value of the wrong type, so its own message holds the token too.
        let json_error = serde_json::from_str::<u32>("\"xoxb-secret-token\"").unwrap_err();
        let error = errors::map_serde_error(json_error, Some(TOKEN_BODY));
        assert!(error.to_string().contains("xoxb-secret-token"), "slack-morphism prints the body: {error}");

        let converted = SlackCallError::from(error);

        assert_eq!(converted.to_string(), "Slack call failed: the answer had an unexpected shape");
        assert!(!format!("{converted:?}").contains("xoxb"), "{converted:?}");
    }

    #[test]
    fn every_slack_morphism_error_keeps_only_the_code_or_the_kind_of_failure() {
        let body = || TOKEN_BODY.to_owned();
        let cut_short = &TOKEN_BODY[..TOKEN_BODY.len() - 1];
        let cases = [
            (
                SlackClientError::ApiError(
                    errors::SlackClientApiError::new("invalid_auth".into()).with_http_response_body(body()),
                ),
                "Slack refused the call: invalid_auth",
            ),
            (
                // A code that is no Slack code (a token echoed back) is not kept either.
                SlackClientError::ApiError(
                    errors::SlackClientApiError::new("xoxb-secret-token".into()).with_http_response_body(body()),
                ),
                "Slack refused the call: unrecognised_error",
            ),
            (
                SlackClientError::RateLimitError(
                    errors::SlackRateLimitError::new()
                        .with_retry_after(Duration::from_secs(3))
                        .with_code("ratelimited".into())
                        .with_http_response_body(body()),
                ),
                "rate limited by Slack (retry after Some(3) s)",
            ),
            (
                SlackClientError::HttpError(
                    errors::SlackClientHttpError::new(http::StatusCode::BAD_GATEWAY).with_http_response_body(body()),
                ),
                "Slack call failed: HTTP 502",
            ),
            (
                errors::map_serde_error(
                    serde_json::from_str::<serde_json::Value>(cut_short).unwrap_err(),
                    Some(cut_short),
                ),
                "Slack call failed: the answer was cut short",
            ),
            (
                SlackClientError::SystemError(errors::SlackClientSystemError::new().with_message(body())),
                "Slack call failed: the answer could not be read",
            ),
        ];
        for (error, expected) in cases {
            assert!(error.to_string().contains("xoxb-secret-token"), "the case carries the token: {error}");
            let converted = SlackCallError::from(error);
            assert_eq!(converted.to_string(), expected);
            assert!(!format!("{converted:?}").contains("xoxb"), "{converted:?}");
        }
    }
}
