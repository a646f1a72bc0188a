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

use super::{BOT_TOKEN, BOT_USER_ID, CLIENT_ID, CLIENT_SECRET, EmulatedUser, Emulator, PostedMessage, World};

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
    if method == "oauth.v2.access" {
        // The app authenticates with its client credentials here, not a token.
        return match oauth_access(&mut emulator.world(), &headers, &params) {
            Ok(Value::Object(mut fields)) => {
                fields.insert("ok".into(), Value::Bool(true));
                Json(Value::Object(fields)).into_response()
            }
            Ok(_) => failure("internal_error"),
            Err(code) => failure(code),
        };
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let token = bearer.or_else(|| params.get("token").and_then(Value::as_str));
    if token != Some(BOT_TOKEN) {
        return failure(if token.is_none() { "not_authed" } else { "invalid_auth" });
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
    let outcome = match method.as_str() {
        "auth.test" => Ok(auth_test(&world)),
        "chat.postMessage" => post_message(&mut world, &params),
        "chat.update" => update_message(&mut world, &params),
        "conversations.open" => open_conversation(&world, &params),
        "views.publish" => publish_view(&mut world, &params),
        "views.open" => open_view(&mut world, &params),
        "users.list" => list_users(&world, &params),
        "users.info" => user_info(&world, &params),
        _ => Err("unknown_method"),
    };
    match outcome {
        Ok(Value::Object(mut fields)) => {
            fields.insert("ok".into(), Value::Bool(true));
            Json(Value::Object(fields)).into_response()
        }
        Ok(_) => failure("internal_error"),
        Err(code) => failure(code),
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
    let text = text_param(params, "text").unwrap_or_default().to_owned();
    let blocks = params.get("blocks").cloned().unwrap_or(Value::Array(Vec::new()));
    if text.is_empty() && blocks.as_array().is_none_or(Vec::is_empty) {
        return Err("no_text");
    }
    let ts = world.new_ts();
    world.messages.push(PostedMessage {
        channel: channel.clone(),
        ts: ts.clone(),
        text: text.clone(),
        blocks: blocks.clone(),
    });
    world.version += 1;
    Ok(json!({
        "channel": channel,
        "ts": ts,
        "message": { "type": "message", "ts": ts, "text": text, "blocks": blocks, "bot_id": "BEMULATOR1", "user": BOT_USER_ID },
    }))
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
    Ok(json!({ "channel": channel, "ts": ts, "text": message.text }))
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
    world.modals.push(stateful.clone());
    world.next_ts += 1;
    world.version += 1;
    Ok(json!({ "view": stateful }))
}

fn user_json(team_id: &str, user: &EmulatedUser) -> Value {
    json!({
        "id": user.id,
        "team_id": team_id,
        "name": user.name.split_whitespace().next().unwrap_or(&user.name).to_lowercase(),
        "real_name": user.name,
        "tz": user.time_zone,
        "deleted": false,
        "is_bot": false,
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

/// `oauth.v2.access`: client credentials by HTTP Basic auth or form fields, and a code from
/// the authorize page, each code good once.
fn oauth_access(world: &mut World, headers: &HeaderMap, params: &Map<String, Value>) -> Result<Value, &'static str> {
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
    let code = text_param(params, "code").ok_or("invalid_code")?;
    let position = world.oauth_codes.iter().position(|issued| issued == code).ok_or("invalid_code")?;
    world.oauth_codes.remove(position);
    let installer = world.users.first().map(|u| u.id.clone()).unwrap_or_default();
    Ok(json!({
        "access_token": BOT_TOKEN,
        "token_type": "bot",
        "scope": "chat:write,im:write,im:history,users:read,commands,channels:read",
        "bot_user_id": BOT_USER_ID,
        "app_id": "AEMULATOR1",
        "team": { "id": world.team_id, "name": world.team_name },
        "authed_user": { "id": installer },
    }))
}

impl Emulator {
    /// Hands out a one-time OAuth code, as Slack's authorize page does once approved.
    pub fn issue_oauth_code(&self) -> String {
        let code = format!("{:032x}", rand::random::<u128>());
        self.world().oauth_codes.push(code.clone());
        code
    }
}
