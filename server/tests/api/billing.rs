//! Billing over HTTP, against the Stripe emulator on the tests' clock: the webhook's checks,
//! events recorded once and read in any order, the trial, paying, failed payments, a cancel
//! at the period's end, usage reported to Stripe, and `/admin/billing`.

use app::{
    features::{
        answers::types::{AnswerText, Visibility},
        billing::types::{LapseReason, Standing},
        schedule::types::{Cadence, LocalTime, Weekdays},
    },
    server::{
        clock::{Clock as _, ManualClock},
        db::{billing as billing_db, billing::SubscriptionStatus, workspaces},
        secret::Secret,
        services::{answers, asking, billing, rounds, schedule},
        viewer::Viewer,
    },
};
use server::{
    demo,
    emulator::stripe::{self as stripe_emulator, Card, Delivery, StripeEmulator},
    stripe::verify::sign,
};

use crate::helpers::{TestApp, TestDb, spawn_app_with_billing_at};

on_both_backends!(
    a_delivery_without_a_valid_signature_is_refused_and_nothing_is_stored,
    the_same_event_twice_is_recorded_and_processed_once,
    a_checkouts_events_in_any_order_end_in_the_same_state,
    the_trial_ending_stops_new_rounds_and_paying_resumes_them,
    a_failed_payment_lapses_the_workspace_only_when_stripe_gives_up,
    a_cancel_at_period_end_keeps_questions_until_the_period_ends,
    active_members_are_reported_to_stripes_meter,
    the_billing_page_shows_the_trial_and_the_upgrade,
);

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// A Monday, 09:00 UTC: the demo team is installed then.
const INSTALLED: &str = "2026-11-02T09:00:00Z";

fn at(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339).unwrap().timestamp_millis()
}

/// The demo team installed at [`INSTALLED`], served with billing on; returns its workspace.
async fn billed_demo(db: &TestDb) -> (TestApp, ManualClock, workspaces::Workspace) {
    let clock = ManualClock::new(at(INSTALLED));
    demo::seed(&db.db, clock.now_ms()).await.unwrap();
    let app = spawn_app_with_billing_at(db, &clock).await;
    let workspace = workspaces::find_by_slack_team_id(app.db.pool(), crate::helpers::DEMO_TEAM).await.unwrap().unwrap();
    (app, clock, workspace)
}

fn stripe(app: &TestApp) -> &StripeEmulator {
    app.stripe.as_ref().expect("billing tests run the Stripe emulator")
}

/// Starts a checkout as the workspace's admin would; returns the emulator's session id.
async fn checkout(app: &TestApp, workspace: &workspaces::Workspace) -> String {
    let page = billing::start_checkout(&app.state, workspace).await.unwrap();
    page.rsplit('/').next().unwrap().to_owned()
}

/// Upgrades and pays with `card`, as an admin does on the checkout page, and processes what
/// Stripe sent; returns the workspace's Stripe customer.
async fn subscribe(app: &TestApp, workspace: &workspaces::Workspace, card: Card) -> String {
    let session = checkout(app, workspace).await;
    stripe(app).pay_checkout(&session, card).await.unwrap();
    app.drain_inbox().await;
    customer(app, workspace).await
}

/// The workspace's Stripe customer.
async fn customer(app: &TestApp, workspace: &workspaces::Workspace) -> String {
    billing_db::find(app.db.pool(), &workspace.id).await.unwrap().unwrap().stripe_customer_id.unwrap()
}

async fn standing(app: &TestApp, workspace: &workspaces::Workspace) -> Standing {
    billing::standing(&app.state, workspace).await.unwrap()
}

/// Lets the emulator catch up with the clock, then processes what it sent.
async fn settle(app: &TestApp) {
    stripe(app).tick().await.unwrap();
    app.drain_inbox().await;
}

/// Posts `payload` to the webhook with `signature` (or none); returns the status.
async fn post_webhook(app: &TestApp, payload: &str, signature: Option<String>) -> u16 {
    let mut request = app.client.post(format!("{}/stripe/webhook", app.address)).body(payload.to_owned());
    if let Some(signature) = signature {
        request = request.header("stripe-signature", signature);
    }
    request.send().await.unwrap().status().as_u16()
}

async fn stripe_events_stored(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM inbox WHERE source = 'stripe_event'")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

fn subscription_event(id: &str, customer: &str) -> String {
    serde_json::json!({
        "id": id, "object": "event", "type": "customer.subscription.updated", "created": 1_700_000_000,
        "livemode": false, "pending_webhooks": 1, "request": {"id": null, "idempotency_key": null},
        "data": {"object": {"id": "sub_x", "object": "subscription", "customer": customer}}
    })
    .to_string()
}

async fn a_delivery_without_a_valid_signature_is_refused_and_nothing_is_stored(db: TestDb) {
    let (app, clock, workspace) = billed_demo(&db).await;
    // A real event of the emulator's, kept back so the test signs it itself.
    stripe(&app).set_delivery(Delivery::Held);
    let session = checkout(&app, &workspace).await;
    stripe(&app).pay_checkout(&session, Card::Succeeds).await.unwrap();
    let (event_id, _) =
        stripe(&app).events().into_iter().find(|(_, kind)| kind.starts_with("customer.subscription")).unwrap();
    let payload = stripe(&app).event_payload(&event_id).unwrap();
    let now = clock.now_ms() / 1000;
    let ours = Secret::new(stripe_emulator::WEBHOOK_SECRET);

    let tampered = sign(&ours, now, &payload).replace("v1=", "v1=0");
    let stale = sign(&ours, now - 301, &payload);
    let future = sign(&ours, now + 301, &payload);
    let unknown_secret = sign(&Secret::new("whsec_someone_else"), now, &payload);
    for (what, signature) in [
        ("a tampered signature", Some(tampered)),
        ("a stale timestamp", Some(stale)),
        ("a timestamp from the future", Some(future)),
        ("an unknown secret", Some(unknown_secret)),
        ("a malformed header", Some("v1=abc".to_owned())),
        ("no header", None),
    ] {
        assert_eq!(post_webhook(&app, &payload, signature).await, 400, "{what} is refused");
    }
    assert_eq!(stripe_events_stored(&app).await, 0, "nothing refused is stored");

    let accepted = sign(&ours, now - 299, &payload);
    assert_eq!(post_webhook(&app, &payload, Some(accepted)).await, 200, "within 5 minutes it is accepted");
    assert_eq!(stripe_events_stored(&app).await, 1);

    // An authentic event of a type billing does not read is acknowledged, not stored.
    let other = subscription_event("evt_other", "cus_x").replace("customer.subscription.updated", "charge.refunded");
    assert_eq!(post_webhook(&app, &other, Some(sign(&ours, now, &other))).await, 200);
    assert_eq!(stripe_events_stored(&app).await, 1);
    app.shut_down().await;
}

async fn the_same_event_twice_is_recorded_and_processed_once(db: TestDb) {
    let (app, _clock, workspace) = billed_demo(&db).await;
    stripe(&app).set_delivery(Delivery::Twice);
    let session = checkout(&app, &workspace).await;
    stripe(&app).pay_checkout(&session, Card::Succeeds).await.unwrap();
    app.drain_inbox().await;

    let events = stripe(&app).events();
    let deliveries = stripe(&app).deliveries();
    assert!(deliveries.len() >= 2 * events.len(), "every event went out twice: {deliveries:?}");
    assert_eq!(stripe_events_stored(&app).await, i64::try_from(events.len()).unwrap(), "each recorded once");
    let processed: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM inbox WHERE source = 'stripe_event' AND attempts = 0 AND processed_at IS NOT NULL",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(processed, i64::try_from(events.len()).unwrap(), "each processed once");
    assert!(matches!(standing(&app, &workspace).await, Standing::Subscribed { .. }));
    app.shut_down().await;
}

/// Every order of the three deliveries of one checkout.
const ORDERS: [[usize; 3]; 6] = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];

async fn a_checkouts_events_in_any_order_end_in_the_same_state(db: TestDb) {
    let (app, _clock, first) = billed_demo(&db).await;
    let mut states = Vec::new();
    for order in ORDERS {
        // A workspace of its own for each order, installed when the demo team was.
        let workspace = another_workspace(&app, &first).await;
        stripe(&app).set_delivery(Delivery::Held);
        let session = checkout(&app, &workspace).await;
        stripe(&app).pay_checkout(&session, Card::Succeeds).await.unwrap();
        let held = stripe(&app).held();
        assert!(held.len() >= 3, "a checkout sends its session, its subscription and its invoice: {held:?}");
        let shuffled: Vec<String> = order.iter().map(|&index| held[index].clone()).collect();
        stripe(&app).release(&shuffled).await.unwrap();
        stripe(&app).release(&held).await.unwrap();
        app.drain_inbox().await;

        let account = billing_db::find(app.db.pool(), &workspace.id).await.unwrap().unwrap();
        let subscription = account.subscription.expect("the subscription is stored whatever the order");
        states.push((subscription.status, subscription.cancel_at_period_end, standing(&app, &workspace).await));
    }
    assert!(states.windows(2).all(|pair| pair[0] == pair[1]), "{states:?}");
    assert!(states[0].0.is_live(), "{states:?}");
    app.shut_down().await;
}

/// A second installed workspace with the same install time as `like`.
async fn another_workspace(app: &TestApp, like: &workspaces::Workspace) -> workspaces::Workspace {
    let id = app::server::new_id();
    let install = workspaces::Installation {
        slack_team_id: format!("T{}", &id[24..]),
        name: format!("Order test {}", &id[30..]),
        bot_user_id: Some("UBOT".to_owned()),
        bot_token_ciphertext: None,
        installed_by_slack_user_id: None,
    };
    workspaces::upsert_installation(app.db.pool(), &install, &id, like.created_at).await.unwrap();
    workspaces::find(app.db.pool(), &id).await.unwrap().unwrap()
}

/// Questions on for the demo team every day at 10:00 UTC.
async fn ask_every_day(app: &TestApp, workspace: &workspaces::Workspace) {
    let days: Vec<String> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].map(str::to_owned).to_vec();
    let every_day = schedule::Schedule {
        weekdays: Weekdays::parse(&days).unwrap(),
        local_time: LocalTime::parse("10:00").unwrap(),
        cadence: Cadence::Daily,
    };
    let viewer = Viewer::workspace_admin(app.db.clone(), workspace.id.clone());
    schedule::save(&viewer, &every_day, true, false, 0).await.unwrap();
    sqlx::query("UPDATE members SET time_zone = 'UTC' WHERE workspace_id = $1")
        .bind(&workspace.id)
        .execute(app.db.pool())
        .await
        .unwrap();
}

async fn planned_now(app: &TestApp, clock: &ManualClock, workspace: &workspaces::Workspace) -> usize {
    let planned = rounds::plan_due(&app.state, clock.now_ms()).await.unwrap();
    planned.iter().filter(|planned| planned.workspace_id == workspace.id).map(|planned| planned.prompts).sum()
}

async fn the_trial_ending_stops_new_rounds_and_paying_resumes_them(db: TestDb) {
    let (app, clock, workspace) = billed_demo(&db).await;
    ask_every_day(&app, &workspace).await;
    clock.set(at("2026-11-03T10:00:00Z"));
    assert!(planned_now(&app, &clock, &workspace).await > 0, "asked during the trial");
    app.dispatcher.run_once().await.unwrap();

    // 30 days after the install the trial is over: the next morning's round is not planned.
    clock.set(at("2026-12-03T10:00:00Z"));
    assert_eq!(standing(&app, &workspace).await, Standing::Lapsed { reason: LapseReason::TrialEnded });
    assert_eq!(planned_now(&app, &clock, &workspace).await, 0, "no round once the trial is over");
    billing::tick(&app.state).await.unwrap();
    billing::tick(&app.state).await.unwrap();
    let told: Vec<_> = app.emulator.messages().into_iter().filter(|m| m.text.contains("trial has ended")).collect();
    let admins = sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM members
         WHERE workspace_id = $1 AND (is_admin = 1 OR is_slack_admin = 1) AND is_deleted = 0 AND is_bot = 0",
    )
    .bind(&workspace.id)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(i64::try_from(told.len()).unwrap(), admins, "each admin is told once, not at every pass");

    subscribe(&app, &workspace, Card::Succeeds).await;
    assert!(matches!(standing(&app, &workspace).await, Standing::Subscribed { .. }));
    clock.advance(DAY_MS);
    assert!(planned_now(&app, &clock, &workspace).await > 0, "paying resumes the next round");
    let account = billing_db::find(app.db.pool(), &workspace.id).await.unwrap().unwrap();
    assert_eq!(account.lapse_notice_at, None, "a later lapse is told again");
    app.shut_down().await;
}

async fn a_failed_payment_lapses_the_workspace_only_when_stripe_gives_up(db: TestDb) {
    let (app, clock, workspace) = billed_demo(&db).await;
    clock.set(at("2026-12-03T10:00:00Z"));
    let customer = subscribe(&app, &workspace, Card::FailsLater).await;
    // Members were active, so the period's invoice has something to charge.
    let gateway = app.state.stripe.as_ref().unwrap();
    gateway.report_active_members(&customer, 3, clock.now_ms(), "failing-card-usage").await.unwrap();
    let period_end = match standing(&app, &workspace).await {
        Standing::Subscribed { period_end, .. } => period_end,
        other => panic!("subscribed after paying, not {other:?}"),
    };

    // The first charge at the period's end fails: Stripe retries, questions continue.
    clock.set(period_end + 60_000);
    settle(&app).await;
    assert_eq!(stripe(&app).subscription_status(&customer).as_deref(), Some("past_due"));
    assert!(matches!(standing(&app, &workspace).await, Standing::Subscribed { payment_failing: true, .. }));

    // Stripe's retries fail too; after the last one it gives up and the workspace lapses.
    for day in [3, 5, 7] {
        clock.set(period_end + day * DAY_MS + 60_000);
        settle(&app).await;
    }
    let lapsed = standing(&app, &workspace).await;
    assert!(
        matches!(lapsed, Standing::Lapsed { reason: LapseReason::PaymentFailed | LapseReason::Cancelled }),
        "{lapsed:?}"
    );
    assert!(!billing::entitled(&app.state, &workspace).await.unwrap());
    app.shut_down().await;
}

async fn a_cancel_at_period_end_keeps_questions_until_the_period_ends(db: TestDb) {
    let (app, clock, workspace) = billed_demo(&db).await;
    clock.set(at("2026-12-03T10:00:00Z"));
    let customer = subscribe(&app, &workspace, Card::Succeeds).await;

    stripe(&app).cancel_at_period_end(&customer).await;
    app.drain_inbox().await;
    let Standing::Subscribed { period_end, cancels_at_period_end: true, .. } = standing(&app, &workspace).await else {
        panic!("still subscribed, ending at the period's end")
    };
    clock.set(period_end - 60_000);
    settle(&app).await;
    assert!(billing::entitled(&app.state, &workspace).await.unwrap(), "questions continue until the end");

    clock.set(period_end + 60_000);
    settle(&app).await;
    assert_eq!(standing(&app, &workspace).await, Standing::Lapsed { reason: LapseReason::Cancelled });
    let stored = billing_db::find(app.db.pool(), &workspace.id).await.unwrap().unwrap().subscription.unwrap();
    assert_eq!(stored.status, SubscriptionStatus::Canceled);
    app.shut_down().await;
}

async fn active_members_are_reported_to_stripes_meter(db: TestDb) {
    let (app, clock, workspace) = billed_demo(&db).await;
    clock.set(at("2026-12-03T10:00:00Z"));
    let customer = subscribe(&app, &workspace, Card::Succeeds).await;
    let Standing::Subscribed { .. } = standing(&app, &workspace).await else { panic!("subscribed") };
    let subscription = billing_db::find(app.db.pool(), &workspace.id).await.unwrap().unwrap().subscription.unwrap();

    billing::report_usage(&app.state).await.unwrap();
    let counted = app::server::db::answers::count_members_who_answered(
        app.db.pool(),
        &workspace.id,
        subscription.period_start,
        clock.now_ms() + 1,
    )
    .await
    .unwrap();
    assert_eq!(stripe(&app).meter_value(&customer), Some(counted), "the count so far is reported");

    // An only-me answer in the period makes one more member active, and the next pass says so.
    let member = app.demo_member("UDEMO003").await;
    app.clear_open_question(&member).await;
    let asked = asking::ask(&app.state, &workspace, &member).await.unwrap();
    assert!(matches!(asked, asking::Ask::New { .. }), "{asked:?}");
    app.dispatcher.run_once().await.unwrap();
    let text = AnswerText::parse("Only for me, and still activity").unwrap();
    let answered =
        answers::answer_open_prompt(&app.db, &member, None, &text, Visibility::OnlyMe, clock.now_ms()).await.unwrap();
    assert!(answered.is_some(), "the question was sent and answered");
    billing::report_usage(&app.state).await.unwrap();
    assert_eq!(stripe(&app).meter_value(&customer), Some(counted + 1));
    app.shut_down().await;
}

async fn the_billing_page_shows_the_trial_and_the_upgrade(db: TestDb) {
    let (app, clock, workspace) = billed_demo(&db).await;
    clock.set(at(INSTALLED) + 10 * DAY_MS);
    let admin = sqlx::query_scalar::<_, String>(
        "SELECT id FROM members WHERE workspace_id = $1 AND is_slack_admin = 1 AND is_deleted = 0 ORDER BY id LIMIT 1",
    )
    .bind(&workspace.id)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let browser = app.signed_in(&workspace.id, &admin).await;
    let (status, page) = browser.page("/admin/billing").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Free trial: 20 days left"), "{page}");
    assert!(page.contains("Upgrade"), "{page}");
    let (_, checklist) = browser.page("/admin").await;
    assert!(checklist.contains("Free trial: 20 days left."), "{checklist}");

    // Upgrade without JavaScript: the form post is sent on to the emulator's checkout page.
    let (status, location) = browser.submit_without_javascript("/api/billing/upgrade", &[], "/admin/billing").await;
    assert_eq!(status, 302);
    assert!(location.starts_with("/stripe-emulator/checkout/"), "{location}");
    app.shut_down().await;
}
