//! The emulated Web API methods. Each answers as Slack does: HTTP 200 with `ok: true` and
//! the method's fields, or `ok: false` with an error code; HTTP 429 with `Retry-After` when
//! a method is over its rate limit. Parameters come from the query string, a form body or a
//! JSON body, as Slack accepts all three.

use std::{collections::HashMap, time::Instant};

use axum::{
    Json,
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Map, Value, json};

use base64::{Engine as _, engine::general_purpose::STANDARD};

use super::{
    BOT_TOKEN, BOT_USER_ID, CLIENT_ID, CLIENT_SECRET, EmulatedUser, Emulator, Fault, IssuedCode, PostedMessage, World,
};

/// Users returned per `users.list` page when the caller sets no limit.
const DEFAULT_PAGE: usize = 100;

/// Handles `/emulator/api/{method}`.
pub async fn call(
    State(emulator): State<Emulator>,
    Path(method): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = match parameters(query, &headers, &body) {
        Ok(params) => params,
        Err(error) => return failure(error),
    };
    if method == "oauth.v2.access" || method == "openid.connect.token" {
        // The app authenticates with its client credentials here, not a token.
        let mut world = emulator.world();
        let fault = world.take_fault(&method);
        if fault == Some(Fault::ServerError) {
            return server_error();
        }
        let outcome = match method.as_str() {
            "oauth.v2.access" => oauth_access(&mut world, &headers, &params),
            _ => openid_token(&mut world, &headers, &params),
        };
        return match fault {
            Some(Fault::LoseAnswer) => server_error(),
            Some(Fault::CutShort) => cut_short(outcome),
            _ => respond(outcome),
        };
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let token = bearer.or_else(|| params.get("token").and_then(Value::as_str));
    if method == "openid.connect.userInfo" {
        return respond(openid_user_info(&emulator.world(), token));
    }
    if token != Some(BOT_TOKEN) {
        return failure(if token.is_none() { "not_authed" } else { "invalid_auth" });
    }

    // A slow channel answers late, without holding up calls about other channels.
    let delay = text_param(&params, "channel").and_then(|channel| emulator.world().slow_channels.get(channel).copied());
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let mut world = emulator.world();
    if let Some(retry_after) = world.throttle(&method, Instant::now()) {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, retry_after.to_string())],
            Json(json!({ "ok": false, "error": "ratelimited" })),
        )
            .into_response();
    }
    let fault = world.take_fault(&method);
    if fault == Some(Fault::ServerError) {
        return server_error();
    }
    let outcome = match method.as_str() {
        "auth.test" => Ok(auth_test(&world)),
        "chat.postMessage" => post_message(&mut world, &params),
        "chat.update" => update_message(&mut world, &params),
        "conversations.open" => open_conversation(&world, &params),
        "views.publish" => publish_view(&mut world, &params),
        "views.open" => open_view(&mut world, &params),
        "users.list" => list_users(&world, &params),
        "users.info" => user_info(&world, &params),
        "conversations.list" => Ok(list_channels()),
        "conversations.history" => history(&world, &params),
        _ => Err("unknown_method"),
    };
    drop(world);
    emulator.changed.notify_waiters();
    if fault == Some(Fault::LoseAnswer) {
        return server_error();
    }
    if fault == Some(Fault::CutShort) {
        return cut_short(outcome);
    }
    respond(outcome)
}

fn server_error() -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, "emulated Slack trouble").into_response()
}

/// Slack's answer shape: the method's fields with `ok: true`, or `ok: false` and the error.
fn respond(outcome: Result<Value, &str>) -> Response {
    match outcome {
        Ok(Value::Object(mut fields)) => {
            fields.insert("ok".into(), Value::Bool(true));
            Json(Value::Object(fields)).into_response()
        }
        Ok(_) => failure("internal_error"),
        Err(code) => failure(code),
    }
}

/// A successful answer whose last byte is lost on the way: JSON the app cannot read.
fn cut_short(outcome: Result<Value, &str>) -> Response {
    match outcome {
        Ok(Value::Object(mut fields)) => {
            fields.insert("ok".into(), Value::Bool(true));
            let mut body = Value::Object(fields).to_string();
            body.pop();
            ([(header::CONTENT_TYPE, "application/json; charset=utf-8")], body).into_response()
        }
        other => respond(other),
    }
}

fn failure(code: &str) -> Response {
    Json(json!({ "ok": false, "error": code })).into_response()
}

/// Merges query, form and JSON parameters into one map (JSON values keep their shape).
fn parameters(
    query: HashMap<String, String>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Map<String, Value>, &'static str> {
    let mut params: Map<String, Value> = query.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
    if body.is_empty() {
        return Ok(params);
    }
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if content_type.starts_with("application/json") {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(fields)) => params.extend(fields),
            _ => return Err("invalid_json"),
        }
    } else {
        let form: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|_| "invalid_form_data")?;
        for (key, value) in form {
            // Form bodies carry blocks and views as JSON text.
            let parsed = match key.as_str() {
                "blocks" | "view" | "metadata" => serde_json::from_str(&value).unwrap_or(Value::String(value)),
                _ => Value::String(value),
            };
            params.insert(key, parsed);
        }
    }
    Ok(params)
}

fn text_param<'a>(params: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    params.get(name).and_then(Value::as_str).filter(|value| !value.is_empty())
}

/// A boolean parameter read as Slack reads one: `true` and `1` are yes, in a form or in
/// JSON, as text, number or boolean; anything else, or nothing, is no.
fn flag_param(params: &Map<String, Value>, name: &str) -> bool {
    match params.get(name) {
        Some(Value::Bool(yes)) => *yes,
        Some(Value::Number(number)) => number.as_u64() == Some(1),
        Some(Value::String(text)) => matches!(text.trim().to_ascii_lowercase().as_str(), "true" | "1"),
        _ => false,
    }
}

fn auth_test(world: &World) -> Value {
    json!({
        "url": "http://emulator.slack.invalid/",
        "team": world.team_name,
        "team_id": world.team_id,
        "user": "rapport",
        "user_id": BOT_USER_ID,
        "bot_id": "BEMULATOR1",
    })
}

fn post_message(world: &mut World, params: &Map<String, Value>) -> Result<Value, &'static str> {
    let target = text_param(params, "channel").ok_or("channel_not_found")?;
    let channel = world.resolve_channel(target).ok_or("channel_not_found")?;
    if world.dm_user(&channel).is_some_and(|user| user.deleted) {
        return Err("is_archived");
    }
    let text = text_param(params, "text").unwrap_or_default().to_owned();
    let blocks = params.get("blocks").cloned().unwrap_or(Value::Array(Vec::new()));
    if text.is_empty() && blocks.as_array().is_none_or(Vec::is_empty) {
        return Err("no_text");
    }
    let metadata = match params.get("metadata") {
        None | Some(Value::Null) => Value::Null,
        Some(meta @ Value::Object(fields)) if fields.get("event_type").is_some_and(Value::is_string) => meta.clone(),
        Some(_) => return Err("invalid_metadata_format"),
    };
    let ts = world.new_ts();
    world.keep_message(PostedMessage {
        channel: channel.clone(),
        ts: ts.clone(),
        text: text.clone(),
        blocks: blocks.clone(),
        metadata,
    });
    world.version += 1;
    Ok(json!({
        "channel": channel,
        "ts": ts,
        "message": { "type": "message", "ts": ts, "text": text, "blocks": blocks, "bot_id": "BEMULATOR1", "user": BOT_USER_ID },
    }))
}

/// `conversations.history`: a channel's messages, newest first, with their metadata when
/// `include_all_metadata` is set.
fn history(world: &World, params: &Map<String, Value>) -> Result<Value, &'static str> {
    let target = text_param(params, "channel").ok_or("channel_not_found")?;
    let channel = world.resolve_channel(target).ok_or("channel_not_found")?;
    let limit = match params.get("limit") {
        Some(Value::Number(n)) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
        Some(Value::String(n)) => n.parse().ok(),
        _ => None,
    }
    .filter(|n| *n > 0)
    .unwrap_or(DEFAULT_PAGE);
    let with_metadata = flag_param(params, "include_all_metadata");
    let messages: Vec<Value> = world
        .messages
        .iter()
        .rev()
        .filter(|m| m.channel == channel)
        .take(limit)
        .map(|m| {
            let mut message = json!({ "type": "message", "ts": m.ts, "text": m.text, "blocks": m.blocks,
                                      "user": BOT_USER_ID, "bot_id": "BEMULATOR1" });
            if with_metadata && !m.metadata.is_null() {
                message["metadata"] = m.metadata.clone();
            }
            message
        })
        .collect();
    Ok(json!({ "messages": messages, "has_more": false }))
}

fn update_message(world: &mut World, params: &Map<String, Value>) -> Result<Value, &'static str> {
    let target = text_param(params, "channel").ok_or("channel_not_found")?;
    let channel = world.resolve_channel(target).ok_or("channel_not_found")?;
    let ts = text_param(params, "ts").ok_or("message_not_found")?.to_owned();
    let message = world.messages.iter_mut().find(|m| m.channel == channel && m.ts == ts).ok_or("message_not_found")?;
    if let Some(text) = text_param(params, "text") {
        message.text = text.to_owned();
    }
    if let Some(blocks) = params.get("blocks") {
        message.blocks = blocks.clone();
    }
    // Slack answers with the message as it now reads; clients read its `message`.
    Ok(json!({
        "channel": channel,
        "ts": ts,
        "text": message.text,
        "message": { "text": message.text, "user": BOT_USER_ID, "bot_id": "BEMULATOR1" },
    }))
}

fn open_conversation(world: &World, params: &Map<String, Value>) -> Result<Value, &'static str> {
    let users = match params.get("users") {
        Some(Value::Array(users)) => users.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        Some(Value::String(users)) => users.split(',').map(str::to_owned).collect(),
        _ => Vec::new(),
    };
    let [user] = users.as_slice() else {
        return Err("users_list_not_supplied");
    };
    let channel = world.user(user).map(|u| format!("D{}", u.id)).ok_or("user_not_found")?;
    Ok(json!({ "channel": { "id": channel } }))
}

fn stateful_view(world: &World, view: &Value) -> Value {
    let mut view = view.clone();
    if let Value::Object(fields) = &mut view {
        fields.insert("id".into(), json!(format!("V{}", world.next_ts)));
        fields.insert("team_id".into(), json!(world.team_id));
        fields.insert("hash".into(), json!(format!("{}.emulated", world.next_ts)));
        fields.insert("app_id".into(), json!("AEMULATOR1"));
        fields.insert("bot_id".into(), json!("BEMULATOR1"));
    }
    view
}

fn publish_view(world: &mut World, params: &Map<String, Value>) -> Result<Value, &'static str> {
    let user = text_param(params, "user_id").ok_or("invalid_arguments")?;
    if world.user(user).is_none() {
        return Err("user_not_found");
    }
    let view = params.get("view").filter(|v| v["type"] == "home").ok_or("invalid_arguments")?;
    let stateful = stateful_view(world, view);
    world.home_views.insert(user.to_owned(), stateful.clone());
    world.next_ts += 1;
    world.version += 1;
    Ok(json!({ "view": stateful }))
}

fn open_view(world: &mut World, params: &Map<String, Value>) -> Result<Value, &'static str> {
    text_param(params, "trigger_id").ok_or("invalid_trigger_id")?;
    let view = params.get("view").filter(|v| v["type"] == "modal").ok_or("invalid_arguments")?;
    let trigger_id = text_param(params, "trigger_id").unwrap_or_default();
    let stateful = stateful_view(world, view);
    if let Some(user) = world.trigger_users.get(trigger_id).cloned() {
        world.open_modals.insert(user, stateful.clone());
    }
    world.keep_modal(stateful.clone());
    world.next_ts += 1;
    world.version += 1;
    Ok(json!({ "view": stateful }))
}

pub(super) fn user_json(team_id: &str, user: &EmulatedUser) -> Value {
    json!({
        "id": user.id,
        "team_id": team_id,
        "name": user.name.split_whitespace().next().unwrap_or(&user.name).to_lowercase(),
        "real_name": user.name,
        "tz": user.time_zone,
        "deleted": user.deleted,
        "is_bot": false,
        "is_admin": user.is_admin,
        "profile": { "real_name": user.name, "display_name": user.name, "title": user.title },
    })
}

fn list_users(world: &World, params: &Map<String, Value>) -> Result<Value, &'static str> {
    let start: usize = match text_param(params, "cursor") {
        None => 0,
        Some(cursor) => cursor.strip_prefix("page:").and_then(|n| n.parse().ok()).ok_or("invalid_cursor")?,
    };
    let limit = text_param(params, "limit").and_then(|n| n.parse().ok()).filter(|n| *n > 0).unwrap_or(DEFAULT_PAGE);
    let page: Vec<Value> = world.users.iter().skip(start).take(limit).map(|u| user_json(&world.team_id, u)).collect();
    let next = start + page.len();
    let next_cursor = if next < world.users.len() { format!("page:{next}") } else { String::new() };
    Ok(json!({ "members": page, "response_metadata": { "next_cursor": next_cursor } }))
}

fn user_info(world: &World, params: &Map<String, Value>) -> Result<Value, &'static str> {
    let id = text_param(params, "user").ok_or("user_not_found")?;
    let user = world.user(id).ok_or("user_not_found")?;
    Ok(json!({ "user": user_json(&world.team_id, user) }))
}

/// Checks the app's client credentials, by HTTP Basic auth or form fields.
fn client_credentials(headers: &HeaderMap, params: &Map<String, Value>) -> Result<(), &'static str> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Basic "))
        .and_then(|encoded| STANDARD.decode(encoded).ok())
        .and_then(|decoded| String::from_utf8(decoded).ok());
    let (client_id, client_secret) = match &basic {
        Some(pair) => {
            pair.split_once(':').map(|(id, secret)| (id.to_owned(), secret.to_owned())).ok_or("invalid_client")?
        }
        None => (
            text_param(params, "client_id").unwrap_or_default().to_owned(),
            text_param(params, "client_secret").unwrap_or_default().to_owned(),
        ),
    };
    if client_id != CLIENT_ID {
        return Err("invalid_client_id");
    }
    if client_secret != CLIENT_SECRET {
        return Err("bad_client_secret");
    }
    Ok(())
}

/// Takes a code issued by the authorize page; each code is good once.
fn redeem_code(world: &mut World, params: &Map<String, Value>) -> Result<IssuedCode, &'static str> {
    let code = text_param(params, "code").ok_or("invalid_code")?;
    let position = world.oauth_codes.iter().position(|issued| issued.code == code).ok_or("invalid_code")?;
    world.oauth_codes.remove(position).ok_or("invalid_code")
}

/// `oauth.v2.access`: the bot token of an install.
fn oauth_access(world: &mut World, headers: &HeaderMap, params: &Map<String, Value>) -> Result<Value, &'static str> {
    client_credentials(headers, params)?;
    let issued = redeem_code(world, params)?;
    Ok(json!({
        "access_token": BOT_TOKEN,
        "token_type": "bot",
        "scope": "chat:write,im:write,im:history,users:read,commands,channels:read",
        "bot_user_id": BOT_USER_ID,
        "app_id": "AEMULATOR1",
        "team": { "id": world.team_id, "name": world.team_name },
        "authed_user": { "id": issued.user_id },
    }))
}

/// The user token Sign in with Slack hands out for `user_id`.
fn openid_token_for(user_id: &str) -> String {
    format!("xoxp-openid-{user_id}")
}

/// `openid.connect.token`: Sign in with Slack's token exchange, with an ID token carrying
/// the nonce the app sent, signed with RS256 by the emulator's key ([`super::openid`]), whose
/// public half is served at `/emulator/openid/connect/keys`.
fn openid_token(world: &mut World, headers: &HeaderMap, params: &Map<String, Value>) -> Result<Value, &'static str> {
    client_credentials(headers, params)?;
    let issued = redeem_code(world, params)?;
    let claims = user_claims(world, &issued.user_id).ok_or("invalid_code")?;
    let mut id_claims = claims;
    id_claims["iss"] = json!("https://slack.com");
    id_claims["aud"] = json!(CLIENT_ID);
    id_claims["iat"] = json!(chrono::Utc::now().timestamp());
    id_claims["exp"] = json!(chrono::Utc::now().timestamp() + 3600);
    if let Some(nonce) = issued.nonce {
        id_claims["nonce"] = json!(nonce);
    }
    let defect = world.bad_id_token.take();
    if let Some(defect) = defect {
        defect.spoil_claims(&mut id_claims, chrono::Utc::now().timestamp());
    }
    let signed = super::openid::sign_id_token(&id_claims);
    let id_token = defect.map_or_else(|| signed.clone(), |defect| defect.spoil_token(&signed, &id_claims));
    Ok(json!({ "access_token": openid_token_for(&issued.user_id), "token_type": "Bearer", "id_token": id_token }))
}

/// `openid.connect.userInfo`: who a Sign in with Slack token belongs to.
fn openid_user_info(world: &World, token: Option<&str>) -> Result<Value, &'static str> {
    let user_id = token.and_then(|t| t.strip_prefix("xoxp-openid-")).ok_or("invalid_auth")?;
    user_claims(world, user_id).ok_or("invalid_auth")
}

fn user_claims(world: &World, user_id: &str) -> Option<Value> {
    let user = world.user(user_id)?;
    let handle = user.name.split_whitespace().next().unwrap_or(&user.name).to_lowercase();
    Some(json!({
        "sub": user.id,
        "https://slack.com/user_id": user.id,
        "https://slack.com/team_id": world.team_id,
        "https://slack.com/team_name": world.team_name,
        "email": format!("{handle}@northwind.example"),
        "email_verified": true,
        "name": user.name,
        "locale": "en-US",
    }))
}

/// `conversations.list`: the emulated workspace's public channels.
fn list_channels() -> Value {
    let channels: Vec<Value> = super::CHANNELS
        .iter()
        .map(|(id, name)| json!({ "id": id, "name": name, "created": 1_700_000_000, "is_channel": true, "is_private": false, "is_archived": false }))
        .collect();
    json!({ "channels": channels, "response_metadata": { "next_cursor": "" } })
}

impl Emulator {
    /// Hands out a one-time code, as Slack's authorize page does once `user_id` approves.
    pub fn issue_oauth_code(&self, user_id: &str, nonce: Option<String>) -> String {
        let code = format!("{:032x}", rand::random::<u128>());
        self.world().keep_code(IssuedCode { code: code.clone(), user_id: user_id.to_owned(), nonce });
        code
    }
}
