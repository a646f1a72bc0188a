//! The Slack emulator's Web API, as any Slack client sees it.

use serde_json::Value;
use server::{
    emulator::BOT_TOKEN,
    sign_in::id_token::{self, Expected, SlackKeys},
};

use crate::helpers::{DEMO_TEAM, TestApp, TestDb, spawn_app};

async fn call(app: &TestApp, method: &str, token: &str, form: &[(&str, &str)]) -> (u16, Option<String>, Value) {
    let path = format!("/emulator/api/{method}");
    let response = app.form_request(&path, form).bearer_auth(token).send().await.unwrap();
    let status = response.status().as_u16();
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    (status, retry_after, serde_json::from_str(&response.text().await.unwrap()).unwrap())
}

#[tokio::test]
async fn a_wrong_token_is_invalid_auth_and_an_unknown_channel_is_channel_not_found() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db).await;

    let (_, _, wrong) = call(&app, "auth.test", "xoxb-wrong", &[]).await;
    let (_, _, right) = call(&app, "auth.test", BOT_TOKEN, &[]).await;
    let (_, _, nowhere) = call(&app, "chat.postMessage", BOT_TOKEN, &[("channel", "CNOWHERE"), ("text", "hi")]).await;

    assert_eq!((wrong["ok"].clone(), wrong["error"].clone()), (Value::Bool(false), Value::from("invalid_auth")));
    assert_eq!(right["ok"], true);
    assert_eq!(right["team_id"], DEMO_TEAM);
    assert_eq!(nowhere["error"], "channel_not_found");
    assert!(app.emulator.messages().is_empty());
}

#[tokio::test]
async fn users_list_pages_with_a_cursor_through_the_whole_team() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db).await;
    let mut seen = Vec::new();
    let mut cursor = String::new();

    loop {
        let (_, _, page) = call(&app, "users.list", BOT_TOKEN, &[("limit", "7"), ("cursor", &cursor)]).await;
        assert_eq!(page["ok"], true);
        let members = page["members"].as_array().unwrap();
        assert!(members.len() <= 7);
        seen.extend(members.iter().map(|m| m["id"].as_str().unwrap().to_owned()));
        cursor = page["response_metadata"]["next_cursor"].as_str().unwrap().to_owned();
        if cursor.is_empty() {
            break;
        }
    }

    assert_eq!(seen.len(), app.emulator.users().len());
    seen.dedup();
    assert_eq!(seen.len(), app.emulator.users().len());
}

#[tokio::test]
async fn over_its_rate_limit_a_method_answers_429_with_retry_after() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db).await;
    app.emulator.set_rate_limit("chat.postMessage", 2);
    let post = || call(&app, "chat.postMessage", BOT_TOKEN, &[("channel", "UDEMO002"), ("text", "hello")]);

    let (first, _, _) = post().await;
    let (second, _, _) = post().await;
    let (third, retry_after, body) = post().await;

    assert_eq!((first, second, third), (200, 200, 429));
    assert!(retry_after.unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(body["error"], "ratelimited");
    assert_eq!(app.emulator.messages().len(), 2);
    assert!(app.emulator.messages().iter().all(|m| m.channel == "DUDEMO002"));
}

on_both_backends!(the_emulator_plays_a_member_through_the_whole_loop);

async fn the_emulator_plays_a_member_through_the_whole_loop(db: TestDb) {
    server::demo::seed(&db.db, app::server::now_ms()).await.unwrap();
    let app = spawn_app(&db).await;
    let emulator = &app.emulator;
    let user = "UDEMO009";
    let dm = format!("D{user}");
    let member = app.demo_member(user).await;
    app.clear_open_question(&member).await;

    let reply = emulator.send_command(user, "ask").await.unwrap();
    assert!(reply.contains("On its way"), "{reply}");
    crate::helpers::eventually("the question arrives", || async {
        emulator.messages().iter().any(|m| m.channel == dm && m.blocks.to_string().contains("another_question"))
    })
    .await;
    let question = emulator.messages().into_iter().rfind(|m| m.channel == dm).unwrap();
    let prompt_id =
        question.blocks.to_string().split("\"value\":\"").nth(1).unwrap().split('"').next().unwrap().to_owned();

    emulator.press_button(user, "answer", &prompt_id).await.unwrap();
    assert!(emulator.open_modal(user).is_some(), "the answer button opened the modal");
    let refused = emulator.submit_modal(user, "   ", "team").await.unwrap();
    assert!(refused.is_some_and(|errors| errors["answer"].is_string()));
    let accepted = emulator.submit_modal(user, "Jazz on vinyl, loudly", "team").await.unwrap();
    assert_eq!(accepted, None);

    crate::helpers::eventually("the answer reaches the sharing channel", || async {
        emulator.messages().iter().any(|m| m.channel == "CSHARING01" && m.text.contains("Jazz on vinyl, loudly"))
    })
    .await;
    let (status, page) = app.page(&format!("/emulator?as={user}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Jazz on vinyl, loudly"));
    let (_, profile) = app.page(&format!("/people/{}", member.id)).await;
    assert!(profile.contains("Jazz on vinyl, loudly"));
}

#[tokio::test]
async fn sign_in_with_slack_exchanges_a_code_once_and_carries_the_nonce() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db).await;
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let authorize = format!(
        "{0}/emulator/oauth/authorize?client_id={1}&redirect_uri={0}/signed-in&state=s1&nonce=n123&as=UDEMO004",
        app.address,
        server::emulator::CLIENT_ID
    );
    let approved = no_redirects.get(authorize).send().await.unwrap();
    let back = approved.headers()["location"].to_str().unwrap().to_owned();
    let code = back.split("code=").nth(1).unwrap().split('&').next().unwrap().to_owned();
    assert!(back.starts_with(&format!("{}/signed-in?", app.address)) && back.ends_with("state=s1"), "{back}");
    let exchange = |secret: &'static str, code: String| {
        let app = &app;
        async move {
            let form = [("client_id", server::emulator::CLIENT_ID), ("client_secret", secret), ("code", &code)];
            let (_, body) = app.post_form("/emulator/api/openid.connect.token", &form).await;
            serde_json::from_str::<Value>(&body).unwrap()
        }
    };

    let wrong_secret = exchange("nope", code.clone()).await;
    let token = exchange(server::emulator::CLIENT_SECRET, code.clone()).await;
    let reused = exchange(server::emulator::CLIENT_SECRET, code).await;

    assert_eq!(wrong_secret["error"], "bad_client_secret");
    assert_eq!(reused["error"], "invalid_code");
    // The ID token passes the same checks as Slack's, against the emulator's published key.
    let keys = SlackKeys::new(format!("{}/emulator/openid/connect/keys", app.address), app.client.clone());
    let expected =
        Expected { client_id: server::emulator::CLIENT_ID, nonce: "n123", now_secs: chrono::Utc::now().timestamp() };
    let identity = id_token::verify(token["id_token"].as_str().unwrap(), &keys, &expected).await.unwrap();
    assert_eq!((identity.team_id.as_str(), identity.user_id.as_str()), (DEMO_TEAM, "UDEMO004"));
    let (_, _, info) = call(&app, "openid.connect.userInfo", token["access_token"].as_str().unwrap(), &[]).await;
    assert_eq!(info["https://slack.com/team_id"], DEMO_TEAM);
    assert_eq!(info["sub"], "UDEMO004");
}

#[tokio::test]
async fn the_emulated_workspace_lists_its_channels_and_refuses_foreign_redirects() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db).await;

    let (_, _, channels) = call(&app, "conversations.list", BOT_TOKEN, &[]).await;
    let foreign = app
        .get(&format!(
            "/emulator/oauth/authorize?client_id={}&redirect_uri=https://evil.example/x",
            server::emulator::CLIENT_ID
        ))
        .await;

    let names: Vec<&str> = channels["channels"].as_array().unwrap().iter().filter_map(|c| c["name"].as_str()).collect();
    assert!(names.contains(&"rapport-answers"), "{names:?}");
    assert_eq!(foreign.status().as_u16(), 400);
}

#[tokio::test]
async fn a_sign_in_naming_no_member_asks_who_signs_in_and_each_choice_approves_as_them() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db).await;
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let authorize = format!(
        "/emulator/oauth/authorize?client_id={}&redirect_uri={}/signed-in&state=s1&nonce=n123",
        server::emulator::CLIENT_ID,
        app.address
    );

    let (status, page) = app.page(&authorize).await;
    let first_choice = page.split("<a href=\"").nth(1).unwrap().split('"').next().unwrap().replace("&amp;", "&");
    let approved = no_redirects.get(format!("{}{first_choice}", app.address)).send().await.unwrap();

    assert_eq!(status, 200);
    assert!(page.contains("Sign in to Northwind Trails as"), "{page}");
    let first_member = app.emulator.users()[0].id.clone();
    assert!(first_choice.ends_with(&format!("&nonce=n123&as={first_member}")), "{first_choice}");
    let back = approved.headers()["location"].to_str().unwrap();
    assert!(back.starts_with(&format!("{}/signed-in?code=", app.address)) && back.ends_with("state=s1"), "{back}");
}

#[tokio::test]
async fn messages_can_be_posted_as_json_and_updated_and_installs_exchange_a_code_by_form() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db).await;
    let posted = app
        .client
        .post(format!("{}/emulator/api/chat.postMessage", app.address))
        .bearer_auth(BOT_TOKEN)
        .header("content-type", "application/json; charset=utf-8")
        .body(serde_json::json!({ "channel": "CSHARING01", "text": "first", "blocks": [] }).to_string())
        .send()
        .await
        .unwrap();
    let posted: Value = serde_json::from_str(&posted.text().await.unwrap()).unwrap();
    let ts = posted["ts"].as_str().unwrap();

    let (_, _, updated) =
        call(&app, "chat.update", BOT_TOKEN, &[("channel", "CSHARING01"), ("ts", ts), ("text", "second")]).await;
    let (_, _, missing) =
        call(&app, "chat.update", BOT_TOKEN, &[("channel", "CSHARING01"), ("ts", "1.2"), ("text", "x")]).await;
    let code = app.emulator.issue_oauth_code("UDEMO001", None);
    let form = [
        ("client_id", server::emulator::CLIENT_ID),
        ("client_secret", server::emulator::CLIENT_SECRET),
        ("code", &code),
    ];
    let (_, _, grant) = call(&app, "oauth.v2.access", "", &form).await;

    assert_eq!(updated["ok"], true);
    assert_eq!(missing["error"], "message_not_found");
    assert_eq!(app.emulator.messages().iter().map(|m| m.text.as_str()).collect::<Vec<_>>(), ["second"]);
    assert_eq!(grant["team"]["id"], DEMO_TEAM);
    assert_eq!(grant["authed_user"]["id"], "UDEMO001");
    assert_eq!(grant["access_token"], BOT_TOKEN);
}

#[tokio::test]
async fn an_updated_message_is_answered_as_slack_does_so_clients_read_it() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db).await;
    let api = app.state.slack().unwrap().fixed_api().unwrap();
    let posted = api.post_to("CGENERAL01", app::server::slack::blocks::text_message("Before")).await.unwrap();

    let updated =
        api.update_message(&posted.channel, &posted.ts, app::server::slack::blocks::text_message("After")).await;

    assert!(updated.is_ok(), "{updated:?}");
    assert!(app.emulator.messages().iter().any(|m| m.ts == posted.ts && m.text == "After"));
}

#[tokio::test]
async fn history_reads_its_boolean_parameter_as_slack_does() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db).await;
    let metadata = r#"{"event_type":"rapport_prompt","event_payload":{"prompt_id":"p1"}}"#;
    let (_, _, posted) = call(
        &app,
        "chat.postMessage",
        BOT_TOKEN,
        &[("channel", "CSHARING01"), ("text", "hello"), ("metadata", metadata)],
    )
    .await;
    assert_eq!(posted["ok"], true, "{posted}");

    for (flag, shown) in [("1", true), ("true", true), ("TRUE", true), ("0", false), ("false", false), ("", false)] {
        let (_, _, history) = call(
            &app,
            "conversations.history",
            BOT_TOKEN,
            &[("channel", "CSHARING01"), ("include_all_metadata", flag)],
        )
        .await;
        let message = &history["messages"][0];
        assert_eq!(message["text"], "hello");
        assert_eq!(message["metadata"]["event_type"] == "rapport_prompt", shown, "include_all_metadata={flag:?}");
    }
}

/// POSTs one of the emulator page's forms as a browser sending `headers` does; returns the
/// status (a redirect is not followed).
async fn post_page_form(app: &TestApp, path: &str, form: &[(&str, &str)], headers: &[(&str, &str)]) -> u16 {
    let mut request = app.browser().form_request(path, form);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn the_emulator_page_refuses_form_posts_from_another_site_and_they_change_nothing() {
    let db = TestDb::sqlite().await;
    server::demo::seed(&db.db, app::server::now_ms()).await.unwrap();
    let app = spawn_app(&db).await;
    let user = "UDEMO003";
    app.clear_open_question(&app.demo_member(user).await).await;
    let dm = format!("D{user}");
    let dm_messages = || app.emulator.messages().into_iter().filter(|m| m.channel == dm).collect::<Vec<_>>();
    // With no question open, every DM the app gets is answered with this hint.
    let hints = || dm_messages().iter().filter(|m| m.text.contains("don't have a question waiting")).count();
    let say = [("as", user), ("text", "hello")];
    let command = [("as", user), ("text", "help")];
    let before = dm_messages();

    let refused = [
        post_page_form(&app, "/emulator/say", &say, &[("sec-fetch-site", "cross-site")]).await,
        post_page_form(&app, "/emulator/say", &say, &[("origin", "https://evil.example")]).await,
        post_page_form(&app, "/emulator/command", &command, &[("sec-fetch-site", "cross-site")]).await,
        post_page_form(&app, "/emulator/command", &command, &[("origin", "https://evil.example")]).await,
    ];

    assert_eq!(refused, [403; 4]);
    assert_eq!(dm_messages(), before, "no DM reached the app, so it answered none");
    assert!(app.emulator.ephemeral_replies(user).is_empty(), "no command reached the app");

    let own_page = [("sec-fetch-site", "same-origin"), ("origin", app.address.as_str())];
    let said = post_page_form(&app, "/emulator/say", &say, &own_page).await;
    let commanded = post_page_form(&app, "/emulator/command", &command, &own_page).await;

    assert_eq!((said, commanded), (303, 303), "the emulator's own page still works");
    crate::helpers::eventually("the app answers the DM", || async { hints() > 0 }).await;
    assert_eq!(hints(), 1, "one DM reached the app: {:?}", dm_messages());
    assert_eq!(app.emulator.ephemeral_replies(user).len(), 1, "one command reached the app");
}

/// The emulator in a process of its own (`rapport emulator`), as the soak test runs it: the
/// app reaches it at its URL for every Web API call, and it delivers to the app signed with
/// the secret both were given. (One process here; the two meet only over HTTP.)
#[tokio::test]
async fn an_emulator_elsewhere_delivers_to_the_app_and_receives_its_messages() {
    use app::server::db::{members, prompts, workspaces};
    use server::{
        config::{EmulatorPlace, SlackConfig},
        slack::verify::SigningSecret,
        startup::{Application, EmulatorAlone, run_emulator},
    };

    let db = TestDb::sqlite().await;
    let emulator_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let emulator_url = format!("http://{}", emulator_listener.local_addr().unwrap());
    let mut config = crate::helpers::test_config(&db);
    config.slack = SlackConfig::Emulator {
        signing_secret: Some(SigningSecret::new(crate::helpers::SIGNING_SECRET)),
        rate_limits: Vec::new(),
        place: EmulatorPlace::At(emulator_url.clone()),
    };
    let app = Application::build(config).await.unwrap().without_scheduled_rounds();
    assert!(app.emulator().is_none(), "no emulator is mounted on the app");
    let app_url = format!("http://127.0.0.1:{}", app.port());
    server::demo::seed(app.db(), app::server::now_ms()).await.unwrap();
    let user = "UDEMO009";
    let workspace = workspaces::find_by_slack_team_id(app.db().pool(), DEMO_TEAM).await.unwrap().unwrap();
    let member = members::find_by_slack_user_id(app.db().pool(), &workspace.id, user).await.unwrap().unwrap();
    if let Some(open) = prompts::find_open_for_member(app.db().pool(), &member.id).await.unwrap() {
        let skipped = prompts::PromptStatus::Skipped;
        prompts::update_status(app.db().pool(), &open.id, open.status, skipped, app::server::now_ms()).await.unwrap();
    }
    let (stop_app, app_stopped) = tokio::sync::oneshot::channel::<()>();
    let app_running = tokio::spawn(app.run_until(async move {
        let _ = app_stopped.await;
    }));
    let settings = EmulatorAlone {
        app_url: app_url.clone(),
        signing_secret: SigningSecret::new(crate::helpers::SIGNING_SECRET),
        rate_limits: Vec::new(),
    };
    let (stop_emulator, emulator_stopped) = tokio::sync::oneshot::channel::<()>();
    let emulator_running = tokio::spawn(run_emulator(emulator_listener, settings, async move {
        let _ = emulator_stopped.await;
    }));
    let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)).build().unwrap();

    // A member types `/rapport ask` on the emulator's page: the command reaches the app.
    let typed = http
        .post(format!("{emulator_url}/emulator/command"))
        .form(&[("as", user), ("text", "ask")])
        .send()
        .await
        .unwrap();
    assert_eq!(typed.status(), 200, "the page shows the member again after the command");
    assert!(typed.text().await.unwrap().contains("On its way"), "the app's reply shows on the emulator's page");
    // A form posted from another site is refused, as on the app.
    let forged = http
        .post(format!("{emulator_url}/emulator/say"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("as", user), ("text", "not me")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    // The app sends the question through the emulator's Web API.
    let history = format!("{emulator_url}/emulator/api/conversations.history?channel=D{user}&include_all_metadata=1");
    crate::helpers::eventually("the question is in the member's DM on the emulator", || async {
        let response = http.get(&history).bearer_auth(BOT_TOKEN).send().await.unwrap();
        let history: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
        history["messages"].as_array().is_some_and(|messages| {
            messages.iter().any(|m| m["metadata"]["event_type"] == app::server::slack::blocks::QUESTION_METADATA_EVENT)
        })
    })
    .await;
    // The app's landing page points at the emulator's page, and the app serves none itself.
    let page = http.post(format!("{app_url}/api/home/emulator")).send().await.unwrap().text().await.unwrap();
    assert_eq!(page, format!("\"{emulator_url}/emulator\""));
    assert_eq!(http.get(format!("{app_url}/emulator")).send().await.unwrap().status(), 404);

    stop_app.send(()).unwrap();
    stop_emulator.send(()).unwrap();
    app_running.await.unwrap().unwrap();
    emulator_running.await.unwrap().unwrap();
}
