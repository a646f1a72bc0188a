//! Tenant isolation: every server function and every page, asked by each kind of caller of two
//! workspaces, lets in only whom it should and never shows one workspace's data to the other.

use std::collections::BTreeSet;

use app::{
    features::packs::types::{PackName, QuestionText},
    ids::PackId,
    server::{db::Db, services::packs, viewer::Viewer},
};
use leptos::server_fn::axum::server_fn_paths;

use crate::helpers::{Browser, Team, TestApp, TestDb, spawn_app, spawn_app_with_billing};

on_both_backends!(
    every_server_function_the_app_registers_has_a_row_in_the_table,
    server_functions_let_in_by_role_and_never_reach_into_another_workspace,
    pages_let_in_by_role_and_show_each_workspace_only_its_own_records,
);

/// Who may call a server function or see a page.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Anyone, signed in or not.
    Public,
    /// A signed-in member of the workspace (admins are members too).
    Member,
    /// The workspace's admins only.
    Admin,
}

/// What a caller is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Anonymous,
    Member,
    Admin,
}

/// The status a server function answers a caller without `access` with; `None` when `role`
/// has it.
fn refusal(access: Access, role: Role) -> Option<u16> {
    match (access, role) {
        (Access::Public, _) => None,
        (_, Role::Anonymous) => Some(401),
        (Access::Admin, Role::Member) => Some(403),
        _ => None,
    }
}

/// The records a caller's forms name: the caller's own (their member id and answers) and
/// their workspace's (a question, packs). The texts are written back unchanged by a rename
/// or an edit, so every secret stays in place for the checks that follow.
struct Ids {
    member_id: String,
    /// A team-visible answer of the member's, and its text.
    answer_id: String,
    answer_text: String,
    /// Another answer of the member's, for the withdrawal.
    spare_answer_id: String,
    /// The question the member answered.
    question_id: String,
    /// One of the workspace's own packs and its one question: renamed, edited, reordered,
    /// switched off, exported.
    pack_id: String,
    pack_name: String,
    pack_question_id: String,
    pack_question_text: String,
    /// A pack of the workspace's that questions are added and imported to, so that `pack_id`
    /// keeps exactly the one question the reorder names.
    growing_pack_id: String,
    /// An empty pack of the workspace's, for the deletion.
    spare_pack_id: String,
}

/// One of the two workspaces: its member and admin, their records, and what nobody outside
/// it may ever read.
struct Tenant {
    /// "Alpha" or "Beta": every name and text of the workspace starts with it.
    name: &'static str,
    workspace_id: String,
    /// What the member's forms name.
    member: Ids,
    /// What the admin's forms name: the same workspace records, the admin's own answers.
    admin: Ids,
    /// Strings that only this workspace's own people may ever be sent.
    secrets: Vec<String>,
}

impl Tenant {
    /// A workspace with a member and an admin who both answered a question for the team, and
    /// packs of its own, every name and text starting with `name`.
    async fn set_up(db: &Db, name: &'static str) -> Tenant {
        let workspace_name = format!("{name}works");
        let mut team = Team::new(db, &workspace_name).await;
        let member_name = format!("{name} Member");
        let admin_name = format!("{name} Admin");
        let member_id = team.member(&member_name, "Engineer").await;
        let admin_id = team.admin(&admin_name).await;
        let question_text = format!("{name} secret question?");
        let question_id = team.question(&question_text).await;
        let member_answer = format!("{name}-secret-marker");
        let admin_answer = format!("{name}-admin-secret-marker");
        let member_spare = format!("{name} spare answer of the member");
        let admin_spare = format!("{name} spare answer of the admin");
        let member_answer_id = team.answer(&member_id, &question_id, &member_answer, "team").await;
        let admin_answer_id = team.answer(&admin_id, &question_id, &admin_answer, "team").await;
        let member_spare_id = team.answer(&member_id, &question_id, &member_spare, "team").await;
        let admin_spare_id = team.answer(&admin_id, &question_id, &admin_spare, "team").await;

        let manager = Viewer::workspace_admin(db.clone(), team.workspace_id.clone());
        let pack_name = format!("{name} private pack");
        let pack_question_text = format!("{name} private pack question?");
        let pack = own_pack(&manager, &pack_name).await;
        let text = QuestionText::parse(&pack_question_text).unwrap();
        let pack_question_id = packs::add_question(&manager, &pack, &text, 2).await.unwrap().to_string();
        let growing_pack_id = own_pack(&manager, &format!("{name} growing pack")).await.to_string();
        let spare_pack_id = own_pack(&manager, &format!("{name} spare pack")).await.to_string();

        let ids = |member_id: &str, answer_id: &str, answer_text: &str, spare_answer_id: &str| Ids {
            member_id: member_id.to_owned(),
            answer_id: answer_id.to_owned(),
            answer_text: answer_text.to_owned(),
            spare_answer_id: spare_answer_id.to_owned(),
            question_id: question_id.clone(),
            pack_id: pack.to_string(),
            pack_name: pack_name.clone(),
            pack_question_id: pack_question_id.clone(),
            pack_question_text: pack_question_text.clone(),
            growing_pack_id: growing_pack_id.clone(),
            spare_pack_id: spare_pack_id.clone(),
        };
        let member = ids(&member_id, &member_answer_id, &member_answer, &member_spare_id);
        let admin = ids(&admin_id, &admin_answer_id, &admin_answer, &admin_spare_id);
        let secrets = vec![
            team.workspace_id.clone(),
            workspace_name,
            member_name,
            admin_name,
            question_text,
            member_answer,
            admin_answer,
            member_spare,
            admin_spare,
            pack_name,
            pack_question_text,
        ];
        Tenant { name, workspace_id: team.workspace_id.clone(), member, admin, secrets }
    }
}

/// Creates one of the workspace's own packs, as its admin does.
async fn own_pack(admin: &Viewer, name: &str) -> PackId {
    packs::create(admin, &PackName::parse(name).unwrap(), "", 1).await.unwrap()
}

/// Workspaces A ("Alpha") and B ("Beta"), side by side in one database.
async fn two_workspaces(app: &TestApp) -> (Tenant, Tenant) {
    (Tenant::set_up(&app.db, "Alpha").await, Tenant::set_up(&app.db, "Beta").await)
}

/// Someone using the app: anonymous, or a member or an admin of one of the workspaces.
struct Caller<'t> {
    label: String,
    role: Role,
    browser: Browser,
    /// The caller's workspace; for the anonymous caller, A, whose records its forms name.
    home: &'t Tenant,
    /// The other workspace.
    away: &'t Tenant,
    /// The caller's own records.
    ids: &'t Ids,
}

/// The five callers: anonymous, then a member and an admin of A, then of B.
async fn callers<'t>(app: &TestApp, a: &'t Tenant, b: &'t Tenant) -> Vec<Caller<'t>> {
    let anonymous = Caller {
        label: "the anonymous caller".to_owned(),
        role: Role::Anonymous,
        browser: app.browser(),
        home: a,
        away: b,
        ids: &a.member,
    };
    let mut callers = vec![anonymous];
    for (home, away) in [(a, b), (b, a)] {
        for (role, ids) in [(Role::Member, &home.member), (Role::Admin, &home.admin)] {
            let noun = if role == Role::Admin { "admin" } else { "member" };
            callers.push(Caller {
                label: format!("the {noun} of {}", home.name),
                role,
                browser: app.signed_in(&home.workspace_id, &ids.member_id).await,
                home,
                away,
                ids,
            });
        }
    }
    callers
}

impl Caller<'_> {
    /// Calls `row`'s server function with its form for `ids`, by the method the app registered
    /// it under: a form POST as the pages send, or a GET with the form as query (a download).
    async fn call(&self, row: &Row, ids: &Ids) -> (u16, String) {
        let form = (row.form)(ids);
        let form: Vec<(&str, &str)> = form.iter().map(|(field, value)| (field.as_str(), value.as_str())).collect();
        if !registered_for_get(row.endpoint) {
            return self.browser.call_server_fn(row.endpoint, &form).await;
        }
        let url = format!("{}/api/{}", self.browser.address, row.endpoint);
        let response = self.browser.client.get(url).query(&form).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    /// Whether the caller is a member or an admin of `tenant`.
    fn belongs_to(&self, tenant: &Tenant) -> bool {
        self.role != Role::Anonymous && self.home.name == tenant.name
    }

    /// Fails if `body` holds anything of a workspace the caller is not in (for the anonymous
    /// caller: of either).
    fn assert_sees_only_own(&self, body: &str, context: &str) {
        let foreign = if self.role == Role::Anonymous { vec![self.home, self.away] } else { vec![self.away] };
        for tenant in foreign {
            for secret in &tenant.secrets {
                assert!(!body.contains(secret.as_str()), "{context}: it shows {}'s {secret:?}: {body}", tenant.name);
            }
        }
    }
}

/// Whether the app registered the server function at `endpoint` for GET (a download link)
/// rather than for a form POST.
fn registered_for_get(endpoint: &str) -> bool {
    server_fn_paths().any(|(path, method)| path.strip_prefix("/api/") == Some(endpoint) && method.as_str() == "GET")
}

/// A server function's arguments as `(field, value)` pairs; a `Vec<String>` argument `name`
/// is sent as `name[0]`, `name[1]`, ...
type Form = Vec<(String, String)>;

/// One server function: its endpoint, who may call it, and its form.
struct Row {
    endpoint: &'static str,
    access: Access,
    /// The form for the records in `Ids`: given the other workspace's, it tries to reach
    /// into that workspace; given the caller's own, it does what the pages do.
    form: fn(&Ids) -> Form,
}

impl Row {
    /// Whether the form names records, which is when it differs from one workspace to the
    /// other (a list or a settings form names none: the workspace is always the caller's).
    fn names_records(&self, a: &Tenant, b: &Tenant) -> bool {
        (self.form)(&a.member) != (self.form)(&b.member)
    }
}

fn fields(pairs: &[(&str, &str)]) -> Form {
    pairs.iter().map(|&(field, value)| (field.to_owned(), value.to_owned())).collect()
}

/// The form of a server function without arguments.
fn no_fields(_: &Ids) -> Form {
    Vec::new()
}

/// Every server function of the app, by feature. One the app registers without a row here
/// fails `every_server_function_the_app_registers_has_a_row_in_the_table`.
fn table() -> Vec<Row> {
    vec![
        // An admin's own member id: promoting a Slack admin changes nothing they can do, and
        // demoting one would be refused.
        Row {
            endpoint: "admin/members/admin",
            access: Access::Admin,
            form: |ids| fields(&[("member_id", &ids.member_id), ("admin", "true")]),
        },
        Row {
            endpoint: "admin/members/exclude",
            access: Access::Admin,
            form: |ids| fields(&[("member_id", &ids.member_id), ("excluded", "false")]),
        },
        Row { endpoint: "admin/members/guests", access: Access::Admin, form: |_| fields(&[("include", "false")]) },
        Row { endpoint: "admin/members/list", access: Access::Admin, form: no_fields },
        Row {
            endpoint: "admin/members/retry",
            access: Access::Admin,
            form: |ids| fields(&[("member_id", &ids.member_id)]),
        },
        Row { endpoint: "admin/setup", access: Access::Admin, form: no_fields },
        Row { endpoint: "admin/summary/get", access: Access::Admin, form: no_fields },
        Row { endpoint: "admin/summary/set", access: Access::Admin, form: |_| fields(&[("enabled", "false")]) },
        Row { endpoint: "admin/sharing/get", access: Access::Admin, form: no_fields },
        Row {
            endpoint: "admin/sharing/save",
            access: Access::Admin,
            form: |_| fields(&[("channel_id", "CGENERAL01"), ("share_mode", "digest")]),
        },
        Row { endpoint: "admin/sharing/test", access: Access::Admin, form: no_fields },
        Row { endpoint: "auth/me", access: Access::Public, form: no_fields },
        Row { endpoint: "billing/get", access: Access::Admin, form: no_fields },
        // Before `billing/manage`: the upgrade gives the workspace the Stripe customer the
        // portal is for.
        Row { endpoint: "billing/upgrade", access: Access::Admin, form: no_fields },
        Row { endpoint: "billing/manage", access: Access::Admin, form: no_fields },
        Row { endpoint: "auth/options", access: Access::Public, form: no_fields },
        Row { endpoint: "home/emulator", access: Access::Public, form: no_fields },
        Row { endpoint: "insights/get", access: Access::Admin, form: no_fields },
        Row { endpoint: "insights/csv", access: Access::Admin, form: |_| fields(&[("chart", "participation")]) },
        Row { endpoint: "me/get", access: Access::Member, form: no_fields },
        Row {
            endpoint: "me/answers/visibility",
            access: Access::Member,
            form: |ids| fields(&[("answer_id", &ids.answer_id), ("visibility", "team")]),
        },
        Row {
            endpoint: "me/answers/edit",
            access: Access::Member,
            form: |ids| fields(&[("answer_id", &ids.answer_id), ("text", &ids.answer_text)]),
        },
        Row {
            endpoint: "me/answers/withdraw",
            access: Access::Member,
            form: |ids| fields(&[("answer_id", &ids.spare_answer_id)]),
        },
        Row { endpoint: "me/pause", access: Access::Member, form: |_| fields(&[("until", "2099-06-01")]) },
        Row { endpoint: "me/resume", access: Access::Member, form: no_fields },
        Row { endpoint: "me/opt_out", access: Access::Member, form: |_| fields(&[("opted_out", "false")]) },
        Row { endpoint: "me/export", access: Access::Member, form: no_fields },
        // Never confirmed: see the allowed outcomes in the test.
        Row { endpoint: "me/forget", access: Access::Member, form: |_| fields(&[("confirmation", "not yet")]) },
        Row { endpoint: "admin/data/export", access: Access::Admin, form: no_fields },
        Row { endpoint: "auth/admin", access: Access::Admin, form: no_fields },
        // Never confirmed, like `me/forget`.
        Row { endpoint: "admin/data/delete", access: Access::Admin, form: |_| fields(&[("confirmation", "not yet")]) },
        Row { endpoint: "packs/list", access: Access::Admin, form: no_fields },
        Row {
            endpoint: "packs/create",
            access: Access::Admin,
            form: |_| fields(&[("name", "Made by the isolation test"), ("description", "")]),
        },
        Row {
            endpoint: "packs/rename",
            access: Access::Admin,
            form: |ids| fields(&[("pack_id", &ids.pack_id), ("name", &ids.pack_name), ("description", "Renamed")]),
        },
        Row { endpoint: "packs/delete", access: Access::Admin, form: |ids| fields(&[("pack_id", &ids.spare_pack_id)]) },
        Row {
            endpoint: "packs/questions/add",
            access: Access::Admin,
            form: |ids| fields(&[("pack_id", &ids.growing_pack_id), ("text", "Added by the isolation test?")]),
        },
        Row {
            endpoint: "packs/questions/edit",
            access: Access::Admin,
            form: |ids| {
                fields(&[
                    ("pack_id", &ids.pack_id),
                    ("question_id", &ids.pack_question_id),
                    ("text", &ids.pack_question_text),
                ])
            },
        },
        Row {
            endpoint: "packs/questions/reorder",
            access: Access::Admin,
            form: |ids| fields(&[("pack_id", &ids.pack_id), ("question_ids[0]", &ids.pack_question_id)]),
        },
        Row {
            endpoint: "packs/questions/disable",
            access: Access::Admin,
            form: |ids| {
                fields(&[("pack_id", &ids.pack_id), ("question_id", &ids.pack_question_id), ("disabled", "true")])
            },
        },
        Row {
            endpoint: "packs/enable",
            access: Access::Admin,
            form: |ids| fields(&[("pack_id", &ids.pack_id), ("enabled", "true")]),
        },
        Row {
            endpoint: "packs/import",
            access: Access::Admin,
            form: |ids| {
                fields(&[("pack_id", &ids.growing_pack_id), ("csv", "question\nImported by the isolation test?\n")])
            },
        },
        Row { endpoint: "packs/export", access: Access::Admin, form: |ids| fields(&[("pack_id", &ids.pack_id)]) },
        Row { endpoint: "people/list", access: Access::Member, form: no_fields },
        Row { endpoint: "people/get", access: Access::Member, form: |ids| fields(&[("id", &ids.member_id)]) },
        Row { endpoint: "questions/list", access: Access::Member, form: no_fields },
        Row { endpoint: "questions/get", access: Access::Member, form: |ids| fields(&[("id", &ids.question_id)]) },
        // "secret" is in both workspaces' question and answers, so each caller's search finds
        // records of both in the database, and must be shown only its own. (The same form for
        // both: a search that finds nothing of the other workspace answers 200, not 404.)
        Row { endpoint: "search", access: Access::Member, form: |_| fields(&[("q", "secret"), ("page", "0")]) },
        Row { endpoint: "schedule/get", access: Access::Admin, form: no_fields },
        Row {
            endpoint: "schedule/save",
            access: Access::Admin,
            form: |_| {
                fields(&[
                    ("enabled", "false"),
                    ("weekdays[0]", "tue"),
                    ("weekdays[1]", "thu"),
                    ("local_time", "10:00"),
                    ("cadence", "twice_weekly"),
                    ("include_guests", "false"),
                ])
            },
        },
        Row { endpoint: "schedule/rounds", access: Access::Admin, form: no_fields },
    ]
}

async fn every_server_function_the_app_registers_has_a_row_in_the_table(db: TestDb) {
    // Running, the app has registered every server function it serves.
    let app = spawn_app(&db).await;

    let registered: BTreeSet<&str> =
        server_fn_paths().map(|(path, _method)| path.strip_prefix("/api/").unwrap_or(path)).collect();
    let listed: BTreeSet<&str> = table().iter().map(|row| row.endpoint).collect();

    let missing: Vec<&str> = registered.difference(&listed).copied().collect();
    let gone: Vec<&str> = listed.difference(&registered).copied().collect();
    assert!(
        missing.is_empty(),
        "server functions without a row in tenant_isolation::table(): {missing:?}; add one saying who may \
         call it and, if it takes an id, a form naming the records of the `Ids` it is given"
    );
    assert!(gone.is_empty(), "rows in tenant_isolation::table() for server functions the app no longer has: {gone:?}");
    app.shut_down().await;
}

async fn server_functions_let_in_by_role_and_never_reach_into_another_workspace(db: TestDb) {
    // With billing on, so that Upgrade and Manage reach (the emulator's) Stripe.
    let app = spawn_app_with_billing(&db).await;
    let (a, b) = two_workspaces(&app).await;
    let callers = callers(&app, &a, &b).await;
    let table = table();

    // First every form naming the other workspace's records, while they all still exist (the
    // calls below delete a pack and withdraw answers).
    for row in table.iter().filter(|row| row.names_records(&a, &b)) {
        for caller in &callers {
            let (status, body) = caller.call(row, &caller.away.member).await;

            let context = format!("{} by {} with {}'s ids", row.endpoint, caller.label, caller.away.name);
            caller.assert_sees_only_own(&body, &context);
            match refusal(row.access, caller.role) {
                Some(refused) => assert_eq!(status, refused, "{context}: {body}"),
                None => assert!(
                    matches!(status, 403 | 404 | 422),
                    "{context}: another workspace's records are not found, but got {status}: {body}"
                ),
            }
        }
    }

    // Then every server function with the caller's own records, as the pages call them.
    for row in &table {
        for caller in &callers {
            let (status, body) = caller.call(row, caller.ids).await;

            let context = format!("{} by {}", row.endpoint, caller.label);
            caller.assert_sees_only_own(&body, &context);
            match (refusal(row.access, caller.role), row.endpoint) {
                (Some(refused), _) => assert_eq!(status, refused, "{context}: {body}"),
                // Sent without the typed confirmation: a confirmed call would forget the caller
                // (their answers and profile) halfway through the table. The refusal still
                // shows the caller got past the access check.
                (None, "me/forget" | "admin/data/delete") => assert_eq!(status, 422, "{context}: {body}"),
                // These two talk to the Slack emulator, which knows only the demo team's
                // channels: for these made-up teams an admin may well get a refusal (no such
                // channel, no sharing channel picked), so only who is let in is checked.
                (None, "admin/sharing/save" | "admin/sharing/test") => {}
                (None, _) => assert!((200..300).contains(&status), "{context}: let in, but got {status}: {body}"),
            }
        }
    }
    app.shut_down().await;
}

/// A page, who may see it, and whether it shows one of workspace A's records.
struct Page {
    path: String,
    access: Access,
    shows_a_record_of_a: bool,
}

impl Page {
    fn new(path: impl Into<String>, access: Access, shows_a_record_of_a: bool) -> Page {
        Page { path: path.into(), access, shows_a_record_of_a }
    }

    /// The status `caller` gets: the page, a sign-in redirect, a refusal, or not found for a
    /// record of a workspace that is not theirs (as for one that does not exist).
    fn expected_status(&self, caller: &Caller<'_>, a: &Tenant) -> u16 {
        match (self.access, caller.role) {
            (Access::Public, _) => 200,
            (_, Role::Anonymous) => 302,
            (Access::Admin, Role::Member) => 403,
            _ if self.shows_a_record_of_a && !caller.belongs_to(a) => 404,
            _ => 200,
        }
    }
}

/// The pages, with A's member's profile and the question A's people answered.
fn pages(a: &Tenant) -> Vec<Page> {
    vec![
        Page::new("/", Access::Public, false),
        Page::new("/login", Access::Public, false),
        Page::new("/people", Access::Member, false),
        Page::new("/questions", Access::Member, false),
        Page::new("/search?q=secret", Access::Member, false),
        Page::new(format!("/people/{}", a.member.member_id), Access::Member, true),
        Page::new(format!("/questions/{}", a.member.question_id), Access::Member, true),
        Page::new("/me", Access::Member, false),
        Page::new("/admin", Access::Admin, false),
        Page::new("/admin/sharing", Access::Admin, false),
        Page::new("/admin/schedule", Access::Admin, false),
        Page::new("/admin/members", Access::Admin, false),
        Page::new("/admin/packs", Access::Admin, false),
        Page::new("/admin/data", Access::Admin, false),
        Page::new("/admin/billing", Access::Admin, false),
        Page::new("/admin/insights", Access::Admin, false),
    ]
}

async fn pages_let_in_by_role_and_show_each_workspace_only_its_own_records(db: TestDb) {
    let app = spawn_app(&db).await;
    let (a, b) = two_workspaces(&app).await;
    let callers = callers(&app, &a, &b).await;

    for page in pages(&a) {
        for caller in &callers {
            let response = caller.browser.get(&page.path).await;
            let status = response.status().as_u16();
            let location =
                response.headers().get("location").and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned();
            let html = response.text().await.unwrap();

            let context = format!("{} for {}", page.path, caller.label);
            caller.assert_sees_only_own(&html, &context);
            let expected = page.expected_status(caller, &a);
            assert_eq!(status, expected, "{context}: {html}");
            if expected == 302 {
                assert!(location.starts_with("/login?next="), "{context}: goes to sign-in, not to {location:?}");
            }
        }
    }
    app.shut_down().await;
}
