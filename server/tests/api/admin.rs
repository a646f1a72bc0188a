//! The admin area over HTTP: the setup checklist, the sharing channel, the schedule; and a
//! team going from "Add to Slack" to its first answered question through it alone.

use app::server::db::{members, workspaces};
use serde_json::Value;
use std::collections::HashMap;

use crate::helpers::{Browser, DEMO_TEAM, Team, TestApp, TestDb, eventually, spawn_app};

on_both_backends!(
    an_admin_picks_a_sharing_channel_from_slacks_list_and_sends_a_test_post,
    the_admin_pages_are_for_admins_only,
    without_javascript_an_admin_form_comes_back_naming_the_field,
    from_add_to_slack_to_the_first_answered_question_through_the_admin_pages,
    an_admin_sees_who_is_asked_and_why_not_and_manages_members,
    an_admin_exports_the_workspace_and_deletes_it_with_its_name_typed,
    an_uninstalled_workspace_is_deleted_after_the_grace_period_unless_installed_again,
);

fn json((status, body): (u16, String)) -> (u16, Value) {
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

async fn an_admin_picks_a_sharing_channel_from_slacks_list_and_sends_a_test_post(db: TestDb) {
    let app = spawn_app(&db).await;
    app.demo_seeded().await;
    let admin = app.signed_in_to_demo("UDEMO001").await;
    let demo = workspaces::find_by_slack_team_id(app.db.pool(), DEMO_TEAM).await.unwrap().unwrap();

    let (status, sharing) = json(admin.call_server_fn("admin/sharing/get", &[]).await);
    let names: Vec<&str> = sharing["channels"].as_array().unwrap().iter().filter_map(|c| c["name"].as_str()).collect();
    let (unknown, error) =
        json(admin.call_server_fn("admin/sharing/save", &[("channel_id", "CNOPE"), ("share_mode", "digest")]).await);
    let unchanged = workspaces::find(app.db.pool(), &demo.id).await.unwrap().unwrap();
    let (bad_mode, _) =
        admin.call_server_fn("admin/sharing/save", &[("channel_id", "CGENERAL01"), ("share_mode", "hourly")]).await;
    let (saved, _) =
        admin.call_server_fn("admin/sharing/save", &[("channel_id", "CGENERAL01"), ("share_mode", "digest")]).await;
    let (tested, _) = admin.call_server_fn("admin/sharing/test", &[]).await;
    let (_, setup) = json(admin.call_server_fn("admin/setup", &[]).await);

    assert_eq!(status, 200);
    assert_eq!(names, ["general", "rapport-answers"], "Slack's channels, by name");
    assert_eq!(unknown, 422);
    assert!(error.to_string().contains("channel_id"), "the error names the field: {error}");
    assert_eq!(unchanged.sharing_channel_id, demo.sharing_channel_id, "a refused save changes nothing");
    assert_eq!(bad_mode, 422);
    assert_eq!((saved, tested), (200, 200));
    assert_eq!(setup["sharing_channel"], "CGENERAL01");
    assert_eq!(setup["sharing"], "digest");
    assert!(app.emulator.messages().iter().any(|m| m.channel == "CGENERAL01" && m.text.contains("test post")));
}

/// An admin's browser without JavaScript posts a form with a field left empty: the page comes
/// back naming the field, and nothing is created.
async fn without_javascript_an_admin_form_comes_back_naming_the_field(db: TestDb) {
    let app = spawn_app(&db).await;
    let team = Team::new(&app.db, "Acme").await;
    let admin = app.signed_in(&team.workspace_id, &team.admin("Ada Admin").await).await;
    let pack_count = || async { json(admin.call_server_fn("packs/list", &[]).await).1.as_array().map(Vec::len) };
    let before = pack_count().await;

    let (sent, back_to) = admin
        .submit_without_javascript("/api/packs/create", &[("name", "   "), ("description", "")], "/admin/packs")
        .await;
    assert!(sent == 302 && back_to.starts_with("/admin/packs?"), "{sent} {back_to}");
    let (status, html) = admin.page(&back_to).await;

    assert_eq!(status, 200);
    let message = html.find(r#"class="form-error""#).map(|at| &html[at..]).unwrap_or_default();
    assert!(message.contains("name:"), "the page names the field: {html}");
    assert!(before.is_some());
    assert_eq!(pack_count().await, before, "no pack was created");
}

async fn the_admin_pages_are_for_admins_only(db: TestDb) {
    let app = spawn_app(&db).await;
    let team = Team::new(&app.db, "Acme").await;
    let admin = app.signed_in(&team.workspace_id, &team.admin("Ada Admin").await).await;
    let member = app.signed_in(&team.workspace_id, &team.member("Mo Member", "Engineer").await).await;

    for path in ["/admin", "/admin/sharing", "/admin/schedule", "/admin/members", "/admin/packs", "/admin/data"] {
        let (as_admin, html) = admin.page(path).await;
        let (as_member, _) = member.page(path).await;
        let (anonymous, _) = app.browser().page(path).await;
        assert_eq!((as_admin, as_member, anonymous), (200, 403, 302), "{path}");
        assert!(html.contains("<h1>"), "{path}: {html}");
        // The lazy page's mark, which browser tests wait for before they click.
        assert!(html.contains(r#"<span hidden data-hydrated="false" class="lazy-page">"#), "{path}: {html}");
    }
    let (_, schedule) = admin.page("/admin/schedule").await;
    assert!(schedule.contains("No round is planned"), "questions are off, so no round is planned: {schedule}");
    let (_, packs) = admin.page("/admin/packs").await;
    assert!(packs.contains("Create pack") && packs.contains("<details"), "packs start collapsed: {packs}");
    let (_, checklist) = admin.page("/admin").await;
    assert!(checklist.contains("Sharing channel") && checklist.contains("To do"), "{checklist}");
    for endpoint in ["admin/setup", "admin/sharing/get", "admin/sharing/test", "admin/members/list"] {
        let (status, _) = member.call_server_fn(endpoint, &[]).await;
        assert_eq!(status, 403, "{endpoint}");
    }
}

/// Follows "Add to Slack" through the emulator's authorize page.
async fn add_to_slack(app: &TestApp, installer: &Browser) {
    let start = installer.get("/slack/install").await;
    let authorize = start.headers()["location"].to_str().unwrap().to_owned();
    let approved = installer.client.get(authorize).send().await.unwrap();
    let callback = approved.headers()["location"].to_str().unwrap().to_owned();
    let (status, page) = installer.page(callback.trim_start_matches(&app.address)).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("/rapport login"), "the install page says how to sign in: {page}");
}

async fn from_add_to_slack_to_the_first_answered_question_through_the_admin_pages(db: TestDb) {
    let app = spawn_app(&db).await;
    add_to_slack(&app, &app.browser()).await;
    let workspace = workspaces::find_by_slack_team_id(app.db.pool(), DEMO_TEAM).await.unwrap().unwrap();
    eventually("the members are imported", || async {
        members::list_for_workspace(app.db.pool(), &workspace.id).await.unwrap().len() == app.emulator.users().len()
    })
    .await;

    // The installer, a Slack admin, signs in with the link `/rapport login` gives.
    let reply = app.emulator.send_command("UDEMO001", "login").await.unwrap();
    let link = reply.split('<').nth(1).and_then(|rest| rest.split('|').next()).unwrap().to_owned();
    let admin = app.browser();
    admin.follow_sign_in_link(link.rsplit('/').next().unwrap()).await;
    let (sharing, _) =
        admin.post_form("/api/admin/sharing/save", &[("channel_id", "CSHARING01"), ("share_mode", "immediate")]).await;
    let schedule = [
        ("enabled", "true"),
        ("weekdays[1]", "tue"),
        ("weekdays[3]", "thu"),
        ("local_time", "10:00"),
        ("cadence", "twice_weekly"),
        ("include_guests", "false"),
    ];
    let (scheduled, _) = admin.post_form("/api/schedule/save", &schedule).await;
    let (_, setup) = json(admin.call_server_fn("admin/setup", &[]).await);
    assert_eq!((sharing, scheduled), (200, 200));
    assert_eq!((setup["sharing_channel"].as_str(), setup["questions_on"].as_bool()), (Some("CSHARING01"), Some(true)));

    // A member asks for a question and answers it in their DM.
    let reply = app.emulator.send_command("UDEMO003", "ask").await.unwrap();
    assert!(reply.contains("On its way"), "{reply}");
    eventually("the question arrives", || async {
        app.emulator.messages().iter().any(|m| m.channel == "DUDEMO003" && m.text.contains("question"))
    })
    .await;
    app.emulator.send_direct_message("UDEMO003", "Hiking the ridge above the lake at sunrise").await.unwrap();
    app.drain_inbox().await;
    eventually("the answer is shared in the sharing channel", || async {
        app.emulator.messages().iter().any(|m| m.channel == "CSHARING01" && m.text.contains("ridge above the lake"))
    })
    .await;
    let member = app.demo_member("UDEMO003").await;
    let (_, profile) = admin.page(&format!("/people/{}", member.id)).await;
    assert!(profile.contains("Hiking the ridge above the lake at sunrise"), "{profile}");
}

/// The members page's rows by name: (what it says about asking, the admin role).
async fn member_lines(admin: &Browser) -> HashMap<String, (Value, Value)> {
    let (status, view) = json(admin.call_server_fn("admin/members/list", &[]).await);
    assert_eq!(status, 200, "{view}");
    view["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap().to_owned(), (m["asked"].clone(), m["role"].clone())))
        .collect()
}

async fn an_admin_sees_who_is_asked_and_why_not_and_manages_members(db: TestDb) {
    let app = spawn_app(&db).await;
    let team = Team::new(&app.db, "Acme").await;
    let other = Team::new(&app.db, "Elsewhere").await;
    let admin_id = team.admin("Ada Admin").await;
    let admin = app.signed_in(&team.workspace_id, &admin_id).await;
    let mo = team.member("Mo Member", "Engineer").await;
    team.member_row("Gus Guest", "Contractor", |m| m.is_guest = true).await;
    team.member_row("Otto Out", "", |m| m.is_opted_out = true).await;
    let refused =
        team.member_row("Rita Refused", "", |m| m.delivery_stopped_reason = Some("cannot_dm_bot".into())).await;
    let outsider = other.member("Eve Elsewhere", "").await;

    let lines = member_lines(&admin).await;
    assert_eq!(lines["Mo Member"].0, "Yes");
    assert_eq!(lines["Gus Guest"].0, "Guest");
    assert_eq!(lines["Otto Out"].0, "OptedOut");
    assert_eq!(lines["Rita Refused"].0["StoppedBySlack"], "cannot_dm_bot");
    assert_eq!(lines["Ada Admin"].1, "SlackAdmin");
    assert!(!lines.contains_key("Eve Elsewhere"), "only the admin's own workspace");

    let (excluded, _) =
        admin.call_server_fn("admin/members/exclude", &[("member_id", &mo), ("excluded", "true")]).await;
    let (guests, _) = admin.call_server_fn("admin/members/guests", &[("include", "true")]).await;
    let (retried, _) = admin.call_server_fn("admin/members/retry", &[("member_id", &refused)]).await;
    let (promoted, _) = admin.call_server_fn("admin/members/admin", &[("member_id", &mo), ("admin", "true")]).await;
    let (demote_slack_admin, why) =
        json(admin.call_server_fn("admin/members/admin", &[("member_id", &admin_id), ("admin", "false")]).await);
    let (foreign, _) =
        admin.call_server_fn("admin/members/exclude", &[("member_id", &outsider), ("excluded", "true")]).await;
    assert_eq!((excluded, guests, retried, promoted), (200, 200, 200, 200));
    assert_eq!(demote_slack_admin, 409);
    assert!(why.to_string().contains("only Slack"), "{why}");
    assert_eq!(foreign, 404, "another workspace's member is not found");
    let lines = member_lines(&admin).await;
    assert_eq!(lines["Mo Member"], (Value::from("ExcludedByAdmin"), Value::from("Promoted")));
    assert_eq!(lines["Gus Guest"].0, "Yes", "guests are included now");
    assert_eq!(lines["Rita Refused"].0, "Yes", "tried again at the next round");
    let askable = members::list_askable(app.db.pool(), &team.workspace_id, true, app::server::now_ms()).await.unwrap();
    assert!(!askable.iter().any(|a| a.member.id == mo), "an excluded member is planned into no round");
    let outsider_row = members::find(app.db.pool(), &other.workspace_id, &outsider).await.unwrap().unwrap();
    assert!(!outsider_row.is_excluded);

    let as_mo = app.signed_in(&team.workspace_id, &mo).await;
    let (mo_manages, _) = as_mo.call_server_fn("admin/setup", &[]).await;
    admin.call_server_fn("admin/members/admin", &[("member_id", &mo), ("admin", "false")]).await;
    let (mo_demoted, _) = as_mo.call_server_fn("admin/setup", &[]).await;
    assert_eq!((mo_manages, mo_demoted), (200, 403), "a promotion and a demotion take effect at once");
    let (page, html) = admin.page("/admin/members").await;
    assert_eq!(page, 200);
    assert!(html.contains("Rita Refused") && html.contains("Make admin"), "{html}");
}

async fn an_admin_exports_the_workspace_and_deletes_it_with_its_name_typed(db: TestDb) {
    let app = spawn_app(&db).await;
    let mut team = Team::new(&app.db, "Acme").await;
    let other = Team::new(&app.db, "Elsewhere").await;
    let ada = team.admin("Ada Admin").await;
    let admin = app.signed_in(&team.workspace_id, &ada).await;
    let mo = team.member("Mo Member", "Engineer").await;
    let question = team.question("Tea or coffee?").await;
    team.answer(&mo, &question, "Tea, always", "team").await;
    team.answer(&mo, &question, "Secretly coffee", "only_me").await;
    other.member("Eve Elsewhere", "").await;

    let export = admin.get("/api/admin/data/export").await;
    let disposition = export.headers()["content-disposition"].to_str().unwrap().to_owned();
    let data: Value = serde_json::from_str(&export.text().await.unwrap()).unwrap();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert_eq!(data["workspace"], "Acme");
    let answers: Vec<&str> = data["answers"].as_array().unwrap().iter().map(|a| a["text"].as_str().unwrap()).collect();
    assert_eq!(answers, ["Tea, always", "Secretly coffee"]);
    assert!(!data.to_string().contains("Eve Elsewhere"), "only this workspace");

    let (wrong, error) = json(admin.call_server_fn("admin/data/delete", &[("confirmation", "acme inc")]).await);
    assert_eq!(wrong, 422);
    assert!(error.to_string().contains("confirmation"), "{error}");
    assert!(workspaces::find(app.db.pool(), &team.workspace_id).await.unwrap().is_some(), "nothing deleted");
    // A second member's answer to the same question for the team: on PostgreSQL, the
    // deletion failed when the second member's trigger took theirs off that count.
    team.answer(&ada, &question, "Coffee, black", "team").await;
    let (deleted, _) = admin.call_server_fn("admin/data/delete", &[("confirmation", "Acme")]).await;
    assert_eq!(deleted, 200);
    assert!(workspaces::find(app.db.pool(), &team.workspace_id).await.unwrap().is_none());
    assert!(members::list_for_workspace(app.db.pool(), &team.workspace_id).await.unwrap().is_empty());
    assert_eq!(members::list_for_workspace(app.db.pool(), &other.workspace_id).await.unwrap().len(), 1);
    let (after, _) = admin.call_server_fn("admin/setup", &[]).await;
    assert_eq!(after, 401, "the deleted workspace's session signs nobody in");
}

async fn an_uninstalled_workspace_is_deleted_after_the_grace_period_unless_installed_again(db: TestDb) {
    use app::server::services::{workspace_data, workspaces as workspace_service};
    const DAY: i64 = 24 * 60 * 60 * 1000;
    let now = app::server::now_ms();
    let long_gone = Team::new(&db.db, "Long gone").await;
    let recently = Team::new(&db.db, "Recently").await;
    let back = Team::new(&db.db, "Back again").await;
    let stays = Team::new(&db.db, "Stays").await;
    workspace_service::uninstall(&db.db, &slack_team_id(&db.db, &long_gone).await, now - 31 * DAY).await.unwrap();
    workspace_service::uninstall(&db.db, &slack_team_id(&db.db, &recently).await, now - 29 * DAY).await.unwrap();
    workspace_service::uninstall(&db.db, &slack_team_id(&db.db, &back).await, now - 40 * DAY).await.unwrap();
    let reinstall = workspaces::Installation {
        slack_team_id: slack_team_id(&db.db, &back).await,
        name: "Back again".into(),
        bot_user_id: Some("UBOT".into()),
        bot_token_ciphertext: None,
        installed_by_slack_user_id: None,
    };
    workspaces::upsert_installation(db.db.pool(), &reinstall, "unused", now - 35 * DAY).await.unwrap();

    let purged = workspace_data::purge_uninstalled(&db.db, now, workspace_data::DEFAULT_GRACE_DAYS).await.unwrap();

    assert_eq!(purged, 1);
    assert!(!exists(&db.db, &long_gone).await, "uninstalled over 30 days ago: deleted");
    assert!(exists(&db.db, &recently).await && exists(&db.db, &back).await && exists(&db.db, &stays).await);
}

async fn slack_team_id(db: &app::server::db::Db, team: &Team) -> String {
    workspaces::find(db.pool(), &team.workspace_id).await.unwrap().unwrap().slack_team_id
}

async fn exists(db: &app::server::db::Db, team: &Team) -> bool {
    workspaces::find(db.pool(), &team.workspace_id).await.unwrap().is_some()
}
