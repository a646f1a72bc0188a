//! The emulator's pages, server-rendered and working without JavaScript: the hosted
//! Checkout page (`/stripe-emulator/checkout/{id}`: the plan, the trial, three test cards),
//! the customer portal (`/stripe-emulator/portal/{id}`: cancel or renew the plan, change
//! the card) and a control page (`/stripe-emulator`: the account's state, the webhook
//! deliveries, and buttons to run billing and to hold, release or resend events).
//!
//! Everything printed is escaped. Their forms act only for the app's own pages: a POST
//! whose `Origin` is another site, or that the browser marks `Sec-Fetch-Site: cross-site`,
//! is refused, so another site cannot subscribe, cancel or swap a card for someone.

use axum::{
    Router,
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;

use super::{
    Card, CheckoutOutcome, Delivery, StripeEmulator,
    form::Params,
    objects::money,
    world::{CheckoutStatus, InvoiceStatus, SubscriptionStatus, World},
};

/// Rows shown per table on the control page.
const ROWS: usize = 50;

/// The pages' routes; the emulator's state is added by [`StripeEmulator::router`].
pub fn routes() -> Router<StripeEmulator> {
    Router::new()
        .route("/stripe-emulator", get(control))
        .route("/stripe-emulator/delivery", post(set_delivery))
        .route("/stripe-emulator/release", post(release_in_order))
        .route("/stripe-emulator/release-reversed", post(release_reversed))
        .route("/stripe-emulator/resend", post(resend))
        .route("/stripe-emulator/tick", post(tick))
        .route("/stripe-emulator/end-period", post(end_period))
        .route("/stripe-emulator/checkout/{id}", get(checkout_page).post(pay))
        .route("/stripe-emulator/portal/{id}", get(portal_page).post(portal_action))
}

/// The pages' Content-Security-Policy: their style sheet, allowed by hash, and no script.
pub fn page_policy() -> String {
    crate::security_headers::inline_page_policy(&[STYLE], &[])
}

/// A page's query: the code of what just happened (never free text, so nobody can make the
/// page say something of their choosing).
#[derive(Debug, Deserialize)]
pub struct Notice {
    done: Option<String>,
    error: Option<String>,
}

async fn checkout_page(State(emulator): State<StripeEmulator>, Path(id): Path<String>) -> Response {
    render_checkout(&emulator, &id, None, StatusCode::OK)
}

/// The Subscribe button: pays with the chosen card, then on to the app's success page.
async fn pay(
    State(emulator): State<StripeEmulator>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refusal) = refuse_cross_site(&emulator, &headers) {
        return refusal;
    }
    let params = Params::parse(&body).unwrap_or_default();
    let Some(card) = params.text("card").and_then(Card::from_number) else {
        return render_checkout(&emulator, &id, Some("Choose one of the test cards."), StatusCode::BAD_REQUEST);
    };
    match emulator.pay_checkout(&id, card).await {
        Ok(CheckoutOutcome::Completed { redirect, .. }) => see_other(&redirect),
        Ok(CheckoutOutcome::Declined) => {
            render_checkout(&emulator, &id, Some("Your card was declined."), StatusCode::PAYMENT_REQUIRED)
        }
        Ok(CheckoutOutcome::AlreadyComplete { .. } | CheckoutOutcome::Expired) => {
            render_checkout(&emulator, &id, None, StatusCode::OK)
        }
        Err(_) => not_found(),
    }
}

fn render_checkout(emulator: &StripeEmulator, id: &str, error: Option<&str>, status: StatusCode) -> Response {
    let now = emulator.now_secs();
    match checkout_html(&emulator.world(), id, now, error) {
        Some(html) => (status, Html(html)).into_response(),
        None => not_found(),
    }
}

/// The hosted Checkout page of session `id`, as of `now`.
fn checkout_html(world: &World, id: &str, now: i64, error: Option<&str>) -> Option<String> {
    let session = world.checkout(id)?;
    let price = world.price(&session.price)?;
    let mut body = String::from("<main class=narrow><p class=brand>Rapport · Stripe test mode</p>");
    match session.status_at(now) {
        CheckoutStatus::Complete => body.push_str(&format!(
            "<h1>You're subscribed</h1><p>This checkout is complete.</p>\
             <p><a class=button href=\"{}\">Continue to Rapport</a></p>",
            escape(&session.success_redirect())
        )),
        CheckoutStatus::Expired => {
            body.push_str("<h1>This checkout has expired</h1><p>Start again from Rapport.</p>");
            body.push_str(&back_link(session.cancel_url.as_deref(), "Back to Rapport"));
        }
        CheckoutStatus::Open => {
            body.push_str("<h1>Subscribe to Rapport</h1>");
            if let Some(who) =
                world.customer(&session.customer).and_then(|c| c.name.clone().or_else(|| c.email.clone()))
            {
                body.push_str(&format!("<p class=hint>For {}</p>", escape(&who)));
            }
            body.push_str(&format!(
                "<p class=price><strong>{}</strong> per active member per month</p>\
                 <p class=hint>Billed at the end of each month for the members who were active.</p>",
                escape(&money(price.unit_amount, &price.currency))
            ));
            if let Some(trial_end) = session.trial_end.filter(|end| *end > now) {
                body.push_str(&format!(
                    "<p class=trial>Free trial until <strong>{}</strong>. Nothing is charged before then.</p>",
                    escape(&date(trial_end))
                ));
            }
            if let Some(error) = error {
                body.push_str(&format!("<p class=error role=alert>{}</p>", escape(error)));
            }
            body.push_str(&format!(
                "<form method=post action=\"/stripe-emulator/checkout/{}\"><fieldset><legend>Test card</legend>{}</fieldset>\
                 <button class=primary>Subscribe</button></form>",
                escape(&encode(&session.id)),
                card_choices(Some(Card::Succeeds))
            ));
            body.push_str(&back_link(session.cancel_url.as_deref(), "Back"));
        }
    }
    body.push_str("</main>");
    Some(page("Checkout", &body))
}

async fn portal_page(
    State(emulator): State<StripeEmulator>,
    Path(id): Path<String>,
    Query(notice): Query<Notice>,
) -> Response {
    let message = notice.error.as_deref().and_then(portal_error);
    let now = emulator.now_secs();
    match portal_html(&emulator.world(), &id, now, message) {
        Some(html) => Html(html).into_response(),
        None => not_found(),
    }
}

/// What a portal error code means.
fn portal_error(code: &str) -> Option<&'static str> {
    match code {
        "declined" => Some("Your card was declined. The card on file is unchanged."),
        "no-card" => Some("Choose one of the test cards."),
        "no-plan" => Some("There is no plan to change."),
        "failed" => Some("That did not work. Try again."),
        _ => None,
    }
}

/// The portal's forms: cancel, renew, change card.
async fn portal_action(
    State(emulator): State<StripeEmulator>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refusal) = refuse_cross_site(&emulator, &headers) {
        return refusal;
    }
    let customer = emulator.world().portal(&id).map(|portal| portal.customer.clone());
    let Some(customer) = customer else { return not_found() };
    let params = Params::parse(&body).unwrap_or_default();
    let outcome = match params.text("action") {
        Some("cancel") => emulator.set_pending_cancel(&customer, true).await.map_err(|_| "no-plan"),
        Some("renew") => emulator.set_pending_cancel(&customer, false).await.map_err(|_| "no-plan"),
        Some("card") => match params.text("card").and_then(Card::from_number) {
            None => Err("no-card"),
            Some(Card::Declined) => Err("declined"),
            Some(card) => emulator.try_change_card(&customer, card).await.map_err(|_| "failed"),
        },
        _ => Err("failed"),
    };
    let mut target = format!("/stripe-emulator/portal/{}", encode(&id));
    if let Err(code) = outcome {
        target.push_str(&format!("?error={code}"));
    }
    see_other(&target)
}

/// The customer portal of session `id`, as of `now`.
fn portal_html(world: &World, id: &str, now: i64, message: Option<&str>) -> Option<String> {
    let portal = world.portal(id)?;
    let customer = world.customer(&portal.customer)?;
    let action = format!("/stripe-emulator/portal/{}", escape(&encode(&portal.id)));
    let mut body =
        String::from("<main class=narrow><p class=brand>Rapport · Stripe test mode</p><h1>Your Rapport plan</h1>");
    if let Some(message) = message {
        body.push_str(&format!("<p class=error role=alert>{}</p>", escape(message)));
    }
    body.push_str("<section><h2>Plan</h2>");
    match world.newest_subscription(&customer.id) {
        None => body.push_str("<p>No subscription.</p>"),
        Some(subscription) => {
            let price = &world.price;
            body.push_str(&format!(
                "<p><strong>{}</strong> per active member per month · <span class=status>{}</span></p>",
                escape(&money(price.unit_amount, &price.currency)),
                escape(subscription.status.as_str())
            ));
            let period_end = escape(&date(subscription.current_period_end));
            match subscription.status {
                SubscriptionStatus::Canceled => body.push_str(&format!(
                    "<p>Ended on {}.</p>",
                    escape(&date(subscription.ended_at.unwrap_or(subscription.current_period_end)))
                )),
                _ if subscription.cancel_at_period_end => body.push_str(&format!(
                    "<p>Cancels on {period_end}.</p><form method=post action=\"{action}\">\
                     <input type=hidden name=action value=renew><button class=primary>Renew plan</button></form>"
                )),
                status => {
                    let note = match status {
                        SubscriptionStatus::Trialing => "Trial ends",
                        SubscriptionStatus::PastDue => "Payment overdue · period ends",
                        _ => "Renews",
                    };
                    body.push_str(&format!(
                        "<p>{note} on {period_end}.</p><form method=post action=\"{action}\">\
                         <input type=hidden name=action value=cancel><button>Cancel plan</button></form>"
                    ));
                }
            }
        }
    }
    body.push_str("</section><section><h2>Payment method</h2>");
    match customer.card {
        Some(card) => body.push_str(&format!(
            "<p>Card ending {} <span class=hint>({})</span></p>",
            escape(card.last4()),
            escape(card.behaviour())
        )),
        None => body.push_str("<p>No card on file.</p>"),
    }
    body.push_str(&format!(
        "<form method=post action=\"{action}\"><input type=hidden name=action value=card>\
         <fieldset><legend>New card</legend>{}</fieldset><button>Change card</button></form></section>",
        card_choices(customer.card.or(Some(Card::Succeeds)))
    ));
    body.push_str(&invoice_table(world, &customer.id, now));
    body.push_str(&back_link(portal.return_url.as_deref(), "Return to Rapport"));
    body.push_str("</main>");
    Some(page("Billing", &body))
}

/// The customer's latest invoices.
fn invoice_table(world: &World, customer: &str, now: i64) -> String {
    let mut invoices: Vec<_> = world.invoices.iter().filter(|invoice| invoice.customer == customer).collect();
    if invoices.is_empty() {
        return String::new();
    }
    invoices.sort_by_key(|invoice| std::cmp::Reverse(invoice.seq));
    let mut html = String::from("<section><h2>Invoices</h2><table><tr><th>Period<th>Members<th>Amount<th>Status</tr>");
    for invoice in invoices.into_iter().take(12) {
        let status = match (invoice.status, invoice.next_payment_attempt) {
            (InvoiceStatus::Open, Some(at)) if at > now => format!("open · retry {}", date(at)),
            (status, _) => status.as_str().to_owned(),
        };
        html.push_str(&format!(
            "<tr><td>{} – {}<td>{}<td>{}<td>{}</tr>",
            escape(&date(invoice.period_start)),
            escape(&date(invoice.period_end)),
            invoice.quantity,
            escape(&money(invoice.amount_due, &world.price.currency)),
            escape(&status)
        ));
    }
    html.push_str("</table></section>");
    html
}

/// The three test cards as radio buttons, `checked` one chosen.
fn card_choices(checked: Option<Card>) -> String {
    Card::ALL
        .into_iter()
        .map(|card| {
            format!(
                "<label class=choice><input type=radio name=card value=\"{}\"{}> <code>{}</code> <span class=hint>{}</span></label>",
                escape(&card.number().replace(' ', "")),
                if Some(card) == checked { " checked" } else { "" },
                escape(card.number()),
                escape(card.behaviour())
            )
        })
        .collect()
}

/// A link back to the app, when the session gave an address.
fn back_link(url: Option<&str>, label: &str) -> String {
    url.map(|url| format!("<p><a href=\"{}\">{}</a></p>", escape(url), escape(label))).unwrap_or_default()
}

async fn control(State(emulator): State<StripeEmulator>, Query(notice): Query<Notice>) -> Html<String> {
    let done = notice.done.as_deref().and_then(control_notice);
    let now = emulator.now_secs();
    let html = control_html(&emulator.world(), now, done);
    Html(html)
}

/// What a control page code means.
fn control_notice(code: &str) -> Option<&'static str> {
    match code {
        "delivery" => Some("Delivery mode changed."),
        "released" => Some("Held events sent."),
        "resent" => Some("Event sent again."),
        "ticked" => Some("Billing ran up to now."),
        "period-ended" => Some("The subscription's period ended now."),
        "failed" => Some("That did not work."),
        _ => None,
    }
}

/// The control page: the account's state and the webhook controls.
fn control_html(world: &World, now: i64, notice: Option<&str>) -> String {
    let mut body = format!(
        "<main><h1>Stripe emulator</h1><p class=hint>The app's clock: {}. Webhooks go to <code>/stripe/webhook</code>.</p>",
        escape(&date(now))
    );
    if let Some(notice) = notice {
        body.push_str(&format!("<p class=notice role=status>{}</p>", escape(notice)));
    }
    body.push_str(&delivery_section(world));
    body.push_str(
        "<section><h2>Billing</h2><form method=post action=/stripe-emulator/tick>\
         <button>Run billing up to now</button></form></section>",
    );
    body.push_str("<section><h2>Customers</h2><table><tr><th>Id<th>Name<th>Card<th>Subscription</tr>");
    for customer in world.customers.iter().rev().take(ROWS) {
        let subscription = world.newest_subscription(&customer.id);
        body.push_str(&format!(
            "<tr><td><code>{}</code><td>{}<td>{}<td>{}</tr>",
            escape(&customer.id),
            escape(customer.name.as_deref().or(customer.email.as_deref()).unwrap_or("")),
            escape(&customer.card.map(|card| format!("{} ({})", card.last4(), card.behaviour())).unwrap_or_default()),
            escape(&subscription.map(|s| format!("{} · {}", s.id, s.status.as_str())).unwrap_or_default()),
        ));
    }
    body.push_str("</table></section>");
    body.push_str(
        "<section><h2>Subscriptions</h2><table><tr><th>Id<th>Customer<th>Status<th>Period end<th>Cancels<th>Test clock</tr>",
    );
    for subscription in world.subscriptions.iter().rev().take(ROWS) {
        let end_now = if subscription.status == SubscriptionStatus::Canceled {
            String::new()
        } else {
            format!(
                "<form method=post action=/stripe-emulator/end-period><input type=hidden name=subscription value=\"{}\">\
                 <button>End the period now</button></form>",
                escape(&subscription.id)
            )
        };
        body.push_str(&format!(
            "<tr><td><code>{}</code><td><code>{}</code><td>{}<td>{}<td>{}<td>{}</tr>",
            escape(&subscription.id),
            escape(&subscription.customer),
            escape(subscription.status.as_str()),
            escape(&date(subscription.current_period_end)),
            if subscription.cancel_at_period_end { "at period end" } else { "" },
            end_now
        ));
    }
    body.push_str("</table></section>");
    body.push_str(
        "<section><h2>Invoices</h2><table><tr><th>Id<th>Customer<th>Members<th>Amount<th>Status<th>Attempts</tr>",
    );
    for invoice in world.invoices.iter().rev().take(ROWS) {
        body.push_str(&format!(
            "<tr><td><code>{}</code><td><code>{}</code><td>{}<td>{}<td>{}<td>{}</tr>",
            escape(&invoice.id),
            escape(&invoice.customer),
            invoice.quantity,
            escape(&money(invoice.amount_due, &world.price.currency)),
            escape(invoice.status.as_str()),
            invoice.attempt_count
        ));
    }
    body.push_str("</table></section>");
    body.push_str(&events_section(world));
    body.push_str("</main>");
    page("Stripe emulator", &body)
}

/// The delivery mode, its buttons and the held events.
fn delivery_section(world: &World) -> String {
    let mut html =
        String::from("<section><h2>Webhook delivery</h2><form method=post action=/stripe-emulator/delivery class=row>");
    for (mode, value, label) in [
        (Delivery::Immediate, "immediate", "Deliver at once"),
        (Delivery::Twice, "twice", "Deliver every event twice"),
        (Delivery::Held, "held", "Hold events"),
    ] {
        let current = if world.delivery == mode { " class=primary aria-pressed=true" } else { "" };
        html.push_str(&format!("<button name=mode value={value}{current}>{label}</button>"));
    }
    html.push_str("</form>");
    html.push_str(&format!("<p>{} held.</p>", world.held.len()));
    if !world.held.is_empty() {
        html.push_str(
            "<div class=row><form method=post action=/stripe-emulator/release><button>Release in order</button></form>\
             <form method=post action=/stripe-emulator/release-reversed><button>Release late and out of order</button></form></div><ol>",
        );
        for event in world.held.iter().take(ROWS) {
            html.push_str(&format!("<li><code>{}</code> {}</li>", escape(&event.id), escape(&event.kind)));
        }
        html.push_str("</ol>");
    }
    html.push_str("</section>");
    html
}

/// The latest events, with a resend button each, and the latest delivery attempts.
fn events_section(world: &World) -> String {
    let mut html = String::from("<section><h2>Events</h2><table><tr><th>Id<th>Type<th>Last delivery<th></tr>");
    for event in world.events.iter().rev().take(ROWS) {
        let last = world.deliveries.iter().rev().find(|delivery| delivery.event_id == event.id);
        let status = match last {
            None => "not sent".to_owned(),
            Some(delivery) if delivery.status == 0 => "no answer".to_owned(),
            Some(delivery) => delivery.status.to_string(),
        };
        html.push_str(&format!(
            "<tr><td><code>{0}</code><td>{1}<td>{2}<td><form method=post action=/stripe-emulator/resend>\
             <input type=hidden name=event value=\"{0}\"><button>Send again</button></form></tr>",
            escape(&event.id),
            escape(&event.kind),
            escape(&status)
        ));
    }
    html.push_str("</table></section><section><h2>Deliveries</h2><table><tr><th>When<th>Event<th>Type<th>Status</tr>");
    for delivery in world.deliveries.iter().rev().take(ROWS) {
        html.push_str(&format!(
            "<tr><td>{}<td><code>{}</code><td>{}<td>{}</tr>",
            escape(&date(delivery.at)),
            escape(&delivery.event_id),
            escape(&delivery.kind),
            if delivery.status == 0 { "no answer".to_owned() } else { delivery.status.to_string() }
        ));
    }
    html.push_str("</table></section>");
    html
}

async fn set_delivery(State(emulator): State<StripeEmulator>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refusal) = refuse_cross_site(&emulator, &headers) {
        return refusal;
    }
    let mode = match Params::parse(&body).unwrap_or_default().text("mode") {
        Some("immediate") => Delivery::Immediate,
        Some("twice") => Delivery::Twice,
        Some("held") => Delivery::Held,
        _ => return back_to_control("failed"),
    };
    emulator.set_delivery(mode);
    back_to_control("delivery")
}

async fn release_in_order(State(emulator): State<StripeEmulator>, headers: HeaderMap) -> Response {
    if let Some(refusal) = refuse_cross_site(&emulator, &headers) {
        return refusal;
    }
    let held = emulator.held();
    match emulator.release(&held).await {
        Ok(_) => back_to_control("released"),
        Err(_) => back_to_control("failed"),
    }
}

async fn release_reversed(State(emulator): State<StripeEmulator>, headers: HeaderMap) -> Response {
    if let Some(refusal) = refuse_cross_site(&emulator, &headers) {
        return refusal;
    }
    emulator.release_all_reversed().await;
    back_to_control("released")
}

async fn resend(State(emulator): State<StripeEmulator>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refusal) = refuse_cross_site(&emulator, &headers) {
        return refusal;
    }
    let params = Params::parse(&body).unwrap_or_default();
    let Some(event) = params.text("event") else { return back_to_control("failed") };
    match emulator.resend(event).await {
        Ok(_) => back_to_control("resent"),
        Err(_) => back_to_control("failed"),
    }
}

async fn tick(State(emulator): State<StripeEmulator>, headers: HeaderMap) -> Response {
    if let Some(refusal) = refuse_cross_site(&emulator, &headers) {
        return refusal;
    }
    match emulator.tick().await {
        Ok(()) => back_to_control("ticked"),
        Err(_) => back_to_control("failed"),
    }
}

/// "End the period now": the subscription's period ends at the app's current time.
async fn end_period(State(emulator): State<StripeEmulator>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refusal) = refuse_cross_site(&emulator, &headers) {
        return refusal;
    }
    let params = Params::parse(&body).unwrap_or_default();
    let Some(subscription) = params.text("subscription") else { return back_to_control("failed") };
    match emulator.end_period_now(subscription).await {
        Ok(()) => back_to_control("period-ended"),
        Err(_) => back_to_control("failed"),
    }
}

fn back_to_control(code: &str) -> Response {
    see_other(&format!("/stripe-emulator?done={}", encode(code)))
}

/// A 403 for a form post from another site: its `Origin` is not the app's, or the browser
/// says the request is cross-site.
fn refuse_cross_site(emulator: &StripeEmulator, headers: &HeaderMap) -> Option<Response> {
    let foreign_origin =
        headers.get(header::ORIGIN).is_some_and(|origin| origin.to_str().ok() != Some(emulator.app_origin.as_str()));
    let cross_site = headers.get("sec-fetch-site").is_some_and(|site| site.as_bytes() == b"cross-site");
    (foreign_origin || cross_site).then(|| {
        let body =
            "<main class=narrow><h1>Refused</h1><p>This form only takes requests from Rapport's own pages.</p></main>";
        (StatusCode::FORBIDDEN, Html(page("Refused", body))).into_response()
    })
}

/// A 303 to `location` (an address the app gave, normalised so it is a valid header).
fn see_other(location: &str) -> Response {
    let normalised = url::Url::parse(location).map_or_else(|_| location.to_owned(), String::from);
    match HeaderValue::from_str(&normalised) {
        Ok(value) => (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response(),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Html(page("Error", "<main><p>The address to go to is not valid.</p></main>")),
        )
            .into_response(),
    }
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(page("Not found", "<main class=narrow><h1>Not found</h1><p>No such session.</p></main>")),
    )
        .into_response()
}

/// A Unix time as people read it, in UTC.
fn date(secs: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp(secs, 0)
        .map_or_else(|| secs.to_string(), |at| at.format("%-d %b %Y, %H:%M UTC").to_string())
}

/// Text made safe to print in HTML, in an element or a quoted attribute.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// Text made safe to put in a URL's path segment or query value.
fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>\
         <meta name=viewport content=\"width=device-width, initial-scale=1\">\
         <title>{} · Stripe emulator</title><style>{STYLE}</style></head><body>{body}</body></html>",
        escape(title)
    )
}

const STYLE: &str = "body{margin:0;font:15px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f6f9fc;color:#1a1f36}\
main{max-width:70rem;margin:0 auto;padding:1.5rem}main.narrow{max-width:30rem}\
h1{font-size:1.4rem;margin:.3rem 0 1rem}h2{font-size:1.05rem;margin:0 0 .5rem}\
section{background:#fff;border:1px solid #e3e8ee;border-radius:8px;padding:1rem;margin:0 0 1rem}\
.brand{color:#635bff;font-weight:600;margin:0}.price{font-size:1.1rem}.hint{color:#697386}\
.trial{background:#eef6ff;border-radius:6px;padding:.5rem .75rem}\
.error{background:#fde8e8;border:1px solid #e0a0a0;border-radius:6px;padding:.5rem .75rem}\
.notice{background:#e8f5e9;border-radius:6px;padding:.5rem .75rem}\
fieldset{border:1px solid #e3e8ee;border-radius:6px;margin:.75rem 0;padding:.5rem .75rem}.choice{display:block;padding:.2rem 0}\
button,.button{font:inherit;padding:.4rem .9rem;border-radius:6px;border:1px solid #c1c9d2;background:#fff;color:inherit;cursor:pointer;text-decoration:none;display:inline-block}\
button.primary,.button{background:#635bff;border-color:#635bff;color:#fff}\
.row{display:flex;flex-wrap:wrap;gap:.5rem;margin:.3rem 0}.row form{margin:0}\
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #e3e8ee}\
code{font-size:.85em}";

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use app::server::{clock::ManualClock, secret::Secret};

    use super::*;
    use crate::emulator::stripe::{
        PRICE_ID, SECRET_KEY, WEBHOOK_SECRET,
        billing::DAY,
        world::{Checkout, Customer},
    };

    const NOW: i64 = 1_800_000_000;

    fn emulator_with_session() -> StripeEmulator {
        let emulator = StripeEmulator::new(
            "http://127.0.0.1:3000",
            SECRET_KEY,
            Secret::new(WEBHOOK_SECRET),
            Arc::new(ManualClock::new(NOW * 1000)),
        )
        .unwrap();
        emulator.set_delivery(Delivery::Held);
        let mut world = emulator.world();
        world.customers.push(Customer {
            id: "cus_1".to_owned(),
            name: Some("<b>Northwind</b>".to_owned()),
            email: None,
            metadata: Default::default(),
            created: NOW,
            card: None,
        });
        world.add_checkout(Checkout {
            id: "cs_test_1".to_owned(),
            customer: "cus_1".to_owned(),
            price: PRICE_ID.to_owned(),
            success_url: "http://127.0.0.1:3000/billing?session={CHECKOUT_SESSION_ID}".to_owned(),
            cancel_url: Some("http://127.0.0.1:3000/billing?canceled=1&x=\"y\"".to_owned()),
            client_reference_id: None,
            trial_end: Some(NOW + 14 * DAY),
            metadata: Default::default(),
            subscription_metadata: Default::default(),
            created: NOW,
            expires_at: NOW + DAY,
            status: CheckoutStatus::Open,
            subscription: None,
            url: "http://127.0.0.1:3000/stripe-emulator/checkout/cs_test_1".to_owned(),
        });
        drop(world);
        emulator
    }

    fn same_origin() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ORIGIN, HeaderValue::from_static("http://127.0.0.1:3000"));
        headers.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        headers
    }

    async fn text(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[test]
    fn the_checkout_page_shows_the_plan_trial_and_cards_and_escapes_what_it_prints() {
        let emulator = emulator_with_session();

        let html = checkout_html(&emulator.world(), "cs_test_1", NOW, None).unwrap();

        assert!(html.contains("$4.00</strong> per active member per month"));
        assert!(html.contains("Free trial until <strong>29 Jan 2027"), "{html}");
        assert!(html.contains("4242 4242 4242 4242") && html.contains("4000 0000 0000 0341"));
        assert!(html.contains("&lt;b&gt;Northwind&lt;/b&gt;") && !html.contains("<b>Northwind"));
        assert!(html.contains("canceled=1&amp;x=&quot;y&quot;"));
        assert!(checkout_html(&emulator.world(), "cs_test_nope", NOW, None).is_none());
    }

    #[tokio::test]
    async fn a_declined_card_says_so_and_a_good_one_goes_on_to_the_success_page() {
        let emulator = emulator_with_session();
        let path = || Path("cs_test_1".to_owned());

        let declined = pay(State(emulator.clone()), path(), same_origin(), Bytes::from("card=4000000000000002")).await;
        let declined_status = declined.status();
        let declined_page = text(declined).await;
        let paid = pay(State(emulator.clone()), path(), same_origin(), Bytes::from("card=4242424242424242")).await;

        assert_eq!(declined_status, StatusCode::PAYMENT_REQUIRED);
        assert!(declined_page.contains("Your card was declined."));
        assert_eq!(paid.status(), StatusCode::SEE_OTHER);
        assert_eq!(paid.headers().get(header::LOCATION).unwrap(), "http://127.0.0.1:3000/billing?session=cs_test_1");
        assert_eq!(emulator.subscription_status("cus_1").as_deref(), Some("trialing"));
        let complete = checkout_html(&emulator.world(), "cs_test_1", NOW, None).unwrap();
        assert!(complete.contains("This checkout is complete."));
    }

    #[tokio::test]
    async fn a_form_post_from_another_site_is_refused() {
        let emulator = emulator_with_session();
        let mut foreign = HeaderMap::new();
        foreign.insert(header::ORIGIN, HeaderValue::from_static("https://evil.example"));
        let mut cross_site = HeaderMap::new();
        cross_site.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));

        for headers in [foreign, cross_site] {
            let response = pay(
                State(emulator.clone()),
                Path("cs_test_1".to_owned()),
                headers,
                Bytes::from("card=4242424242424242"),
            )
            .await;

            assert_eq!(response.status(), StatusCode::FORBIDDEN);
        }
        assert_eq!(emulator.subscription_status("cus_1"), None, "nothing was bought");
        assert!(refuse_cross_site(&emulator, &same_origin()).is_none());
        assert!(refuse_cross_site(&emulator, &HeaderMap::new()).is_none(), "no Origin: a plain form post");
    }

    #[test]
    fn only_known_codes_become_messages() {
        assert_eq!(portal_error("declined"), Some("Your card was declined. The card on file is unchanged."));
        assert_eq!(portal_error("<script>"), None);
        assert_eq!(control_notice("anything"), None);
    }
}
