//! `/slack/manifest`: the app manifest for Slack's "Create an app from a manifest", built
//! from the configured public URL. JSON by default, YAML with `?format=yaml`.

use axum::{
    extract::{Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};

use app::server::AppState;

/// Bot scopes Rapport asks for, and why: post and DM (`chat:write`, `im:write`), read
/// replies to its DMs (`im:history`), know the team (`users:read`), `/rapport` (`commands`)
/// and let the installer pick a sharing channel (`channels:read`).
pub const BOT_SCOPES: [&str; 6] = ["chat:write", "im:write", "im:history", "users:read", "commands", "channels:read"];

/// The events Rapport subscribes to.
pub const BOT_EVENTS: [&str; 6] =
    ["app_home_opened", "message.im", "team_join", "user_change", "app_uninstalled", "tokens_revoked"];

#[derive(Debug, Deserialize)]
pub struct ManifestQuery {
    format: Option<String>,
}

/// Serves the manifest.
pub async fn serve(State(state): State<AppState>, Query(query): Query<ManifestQuery>) -> Response {
    let manifest = manifest(&state.public_url);
    match query.format.as_deref() {
        None | Some("json") => axum::Json(manifest).into_response(),
        Some("yaml") => {
            ([(header::CONTENT_TYPE, "application/yaml; charset=utf-8")], to_yaml(&manifest)).into_response()
        }
        Some(_) => (StatusCode::BAD_REQUEST, "format must be json or yaml").into_response(),
    }
}

/// The manifest for an app served at `public_url` (no trailing slash).
pub fn manifest(public_url: &str) -> Value {
    json!({
        "display_information": {
            "name": "Rapport",
            "description": "Get to know your coworkers, one question at a time.",
            "background_color": "#3b5bdb",
        },
        "features": {
            "app_home": { "home_tab_enabled": true, "messages_tab_enabled": true, "messages_tab_read_only_enabled": false },
            "bot_user": { "display_name": "Rapport", "always_online": true },
            "slash_commands": [{
                "command": "/rapport",
                "url": format!("{public_url}/slack/commands"),
                "description": "Get a question, see a profile, pause or resume",
                "usage_hint": "ask | profile [@someone] | pause [until YYYY-MM-DD] | resume | help",
                "should_escape": false,
            }],
        },
        "oauth_config": {
            "redirect_urls": [format!("{public_url}/slack/oauth/callback")],
            "scopes": { "bot": BOT_SCOPES },
        },
        "settings": {
            "event_subscriptions": { "request_url": format!("{public_url}/slack/events"), "bot_events": BOT_EVENTS },
            "interactivity": { "is_enabled": true, "request_url": format!("{public_url}/slack/interactions") },
            "org_deploy_enabled": false,
            "socket_mode_enabled": false,
            "token_rotation_enabled": false,
        },
    })
}

/// Writes JSON as block-style YAML. Strings are double-quoted JSON strings, which YAML reads
/// the same way, so no value can be misread as a number, boolean or null.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    write_yaml(value, 0, &mut out);
    out
}

fn write_yaml(value: &Value, indent: usize, out: &mut String) {
    let pad = "  ".repeat(indent);
    match value {
        Value::Object(fields) => {
            for (key, field) in fields {
                match field {
                    Value::Object(inner) if !inner.is_empty() => {
                        out.push_str(&format!("{pad}{key}:\n"));
                        write_yaml(field, indent + 1, out);
                    }
                    Value::Array(items) if !items.is_empty() => {
                        out.push_str(&format!("{pad}{key}:\n"));
                        write_yaml(field, indent + 1, out);
                    }
                    scalar => out.push_str(&format!("{pad}{key}: {}\n", inline(scalar))),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::Object(inner) if !inner.is_empty() => {
                        // The first field sits on the dash line; the rest align under it.
                        let mut nested = String::new();
                        write_yaml(item, indent + 1, &mut nested);
                        let nested = nested.trim_start();
                        out.push_str(&format!("{pad}- {nested}"));
                    }
                    scalar => out.push_str(&format!("{pad}- {}\n", inline(scalar))),
                }
            }
        }
        scalar => out.push_str(&format!("{pad}{}\n", inline(scalar))),
    }
}

fn inline(value: &Value) -> String {
    match value {
        Value::Object(_) => "{}".to_owned(),
        Value::Array(_) => "[]".to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_url_in_the_manifest_is_under_the_public_url() {
        let manifest = manifest("https://rapport.example.com");
        assert_eq!(
            manifest["settings"]["event_subscriptions"]["request_url"],
            "https://rapport.example.com/slack/events"
        );
        assert_eq!(
            manifest["settings"]["interactivity"]["request_url"],
            "https://rapport.example.com/slack/interactions"
        );
        assert_eq!(manifest["features"]["slash_commands"][0]["url"], "https://rapport.example.com/slack/commands");
        assert_eq!(manifest["oauth_config"]["redirect_urls"][0], "https://rapport.example.com/slack/oauth/callback");
    }

    #[test]
    fn yaml_output_nests_objects_and_lists() {
        let yaml = to_yaml(&json!({ "a": { "b": [1, "two"], "c": true }, "d": [{ "e": "f", "g": "h" }], "i": [] }));
        assert_eq!(yaml, "a:\n  b:\n    - 1\n    - \"two\"\n  c: true\nd:\n  - e: \"f\"\n    g: \"h\"\ni: []\n");
    }
}
