//! The emulated API under `/stripe-emulator/v1/...`: the calls Rapport makes through
//! async-stripe, answered with Stripe's object shapes and error shapes. Each request is
//! authenticated with the secret key (`Authorization: Bearer ...`), its parameters are read
//! from the form body (POST) or the query string (GET), and a POST with an
//! `Idempotency-Key` seen before answers the first response again instead of acting twice.
//! Anything else gets Stripe's "Unrecognized request URL" 404.

use app::server::secret::constant_time_eq;
use axum::{
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Map, Value};

use super::{
    StripeEmulator,
    billing::DAY,
    form::Params,
    idempotency::Reuse,
    objects,
    world::{Checkout, CheckoutStatus, Customer, MeterEvent, PortalSession, SubscriptionStatus, World, new_id},
};

/// Stripe's longest idempotency key.
const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;
/// A list's page size when the request names none, and the largest it may name.
const DEFAULT_LIMIT: usize = 10;
const MAX_LIMIT: usize = 100;
/// How long a Checkout Session stays open (Stripe's default, 24 hours).
const CHECKOUT_LIFETIME: i64 = DAY;
/// How far ahead a checkout's trial must end (Stripe asks for at least 48 hours).
const MIN_TRIAL: i64 = 2 * DAY;
/// How old a meter event's timestamp may be, and how far ahead (Stripe: 35 days, 5 minutes).
const METER_PAST_WINDOW: i64 = 35 * DAY;
const METER_FUTURE_WINDOW: i64 = 5 * 60;

/// A refusal in Stripe's shape: `{"error":{"type":…,"code":…,"message":…,"param":…}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: StatusCode,
    kind: &'static str,
    code: Option<&'static str>,
    message: String,
    param: Option<String>,
}

impl ApiError {
    /// A required parameter is missing.
    fn missing(param: &str) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            kind: "invalid_request_error",
            code: Some("parameter_missing"),
            message: format!("Missing required param: {param}."),
            param: Some(param.to_owned()),
        }
    }

    /// A parameter has a value Stripe would not take.
    fn invalid(param: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            kind: "invalid_request_error",
            code: None,
            message: message.into(),
            param: Some(param.to_owned()),
        }
    }

    /// An id that names nothing: 404 when it is the URL's object, 400 when a parameter.
    fn no_such(noun: &str, id: &str, param: &str, status: StatusCode) -> ApiError {
        ApiError {
            status,
            kind: "invalid_request_error",
            code: Some("resource_missing"),
            message: format!("No such {noun}: '{id}'"),
            param: Some(param.to_owned()),
        }
    }

    fn unrecognized_url(method: &str, path: &str) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            kind: "invalid_request_error",
            code: None,
            message: format!(
                "Unrecognized request URL ({method}: /v1/{path}). The Stripe emulator answers only the calls Rapport makes."
            ),
            param: None,
        }
    }

    fn no_key() -> ApiError {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            kind: "invalid_request_error",
            code: None,
            message: "You did not provide an API key. You need to provide your API key in the Authorization header, \
                      using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
                .to_owned(),
            param: None,
        }
    }

    fn bad_key(key: &str) -> ApiError {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            kind: "invalid_request_error",
            code: None,
            message: format!("Invalid API Key provided: {}", mask_key(key)),
            param: None,
        }
    }

    fn idempotency(message: String) -> ApiError {
        ApiError { status: StatusCode::BAD_REQUEST, kind: "idempotency_error", code: None, message, param: None }
    }

    /// An idempotency key sent to `path` that was first used at `first_path`.
    fn key_used_elsewhere(key: &str, first_path: &str, path: &str) -> ApiError {
        ApiError::idempotency(format!(
            "Keys for idempotent requests can only be used for the same endpoint they were first used for \
             ('/v1/{first_path}' vs '/v1/{path}'). Try using a key other than '{key}' if you meant to execute a different request."
        ))
    }

    /// An idempotency key sent again with other parameters than the first time.
    fn key_used_with_other_params(key: &str) -> ApiError {
        ApiError::idempotency(format!(
            "Keys for idempotent requests can only be used with the same parameters they were first used with. \
             Try using a key other than '{key}' if you meant to execute a different request."
        ))
    }

    /// The JSON body; absent parts are left out, as Stripe does.
    pub fn body(&self) -> Value {
        let mut error = Map::new();
        error.insert("type".into(), Value::String(self.kind.to_owned()));
        if let Some(code) = self.code {
            error.insert("code".into(), Value::String(code.to_owned()));
        }
        error.insert("message".into(), Value::String(self.message.clone()));
        if let Some(param) = &self.param {
            error.insert("param".into(), Value::String(param.clone()));
        }
        let mut body = Map::new();
        body.insert("error".into(), Value::Object(error));
        Value::Object(body)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(self.status, self.body().to_string(), false)
    }
}

/// A key as Stripe quotes it back: never whole, at most its mode prefix and last four.
fn mask_key(key: &str) -> String {
    let prefix = ["sk_test_", "sk_live_", "rk_test_", "rk_live_"].into_iter().find(|prefix| key.starts_with(*prefix));
    let chars: Vec<char> = key.chars().collect();
    let shown = prefix.map_or(0, str::len);
    if chars.len() < shown + 8 {
        return format!("{}{}", prefix.unwrap_or_default(), "*".repeat(8));
    }
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{}{}{tail}", prefix.unwrap_or_default(), "*".repeat(chars.len() - shown - 4))
}

fn json_response(status: StatusCode, body: String, replayed: bool) -> Response {
    let mut response = (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    if replayed {
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

/// Handles `/stripe-emulator/v1/{*path}`.
pub async fn call(
    State(emulator): State<StripeEmulator>,
    method: Method,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(error) = emulator.authenticate(&headers) {
        return error.into_response();
    }
    let encoded = if method == Method::GET { query.unwrap_or_default().into_bytes() } else { body.to_vec() };
    let Ok(params) = Params::parse(&encoded) else {
        return ApiError::invalid("body", "The request's parameters could not be read as form encoding.")
            .into_response();
    };
    let key = match idempotency_key(&method, &headers) {
        Ok(key) => key,
        Err(error) => return error.into_response(),
    };
    let now = emulator.now_secs();
    // One lock from the lookup to the store: a concurrent retry with the same key waits
    // and then replays, instead of acting a second time.
    let mut world = emulator.world();
    if let Some(key) = key {
        match world.idempotency.lookup(key, &path, &params) {
            Some(Reuse::Answer(status, body)) => return json_response(status, body, true),
            Some(Reuse::OtherPath { first_path }) => {
                return ApiError::key_used_elsewhere(key, &first_path, &path).into_response();
            }
            Some(Reuse::OtherParams) => return ApiError::key_used_with_other_params(key).into_response(),
            None => {}
        }
    }
    let (status, body) = match route(&mut world, &emulator.app_url, method.as_str(), &path, &params, now) {
        Ok(object) => (StatusCode::OK, object.to_string()),
        Err(error) => (error.status, error.body().to_string()),
    };
    // Stripe saves the result once an endpoint has begun executing; a refusal of the
    // parameters is not saved, so a corrected retry with the same key goes through.
    if let Some(key) = key
        && status.is_success()
    {
        world.idempotency.store(key, &path, &params, status, &body);
    }
    drop(world);
    json_response(status, body, false)
}

/// The `Idempotency-Key` of a POST, if it sent one.
fn idempotency_key<'a>(method: &Method, headers: &'a HeaderMap) -> Result<Option<&'a str>, ApiError> {
    if *method != Method::POST {
        return Ok(None);
    }
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    let key = value.to_str().map_err(|_| ApiError::idempotency("The idempotency key is not readable text.".into()))?;
    if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_LEN {
        return Err(ApiError::idempotency(format!(
            "Idempotency keys must be between 1 and {MAX_IDEMPOTENCY_KEY_LEN} characters long."
        )));
    }
    Ok(Some(key))
}

impl StripeEmulator {
    /// Checks the request's secret key, in constant time.
    fn authenticate(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let key = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|key| !key.is_empty())
            .ok_or_else(ApiError::no_key)?;
        if constant_time_eq(key.as_bytes(), self.secret_key.expose().as_bytes()) {
            Ok(())
        } else {
            Err(ApiError::bad_key(key))
        }
    }
}

/// Runs the endpoint `method path` names.
fn route(
    world: &mut World,
    app_url: &str,
    method: &str,
    path: &str,
    params: &Params,
    now: i64,
) -> Result<Value, ApiError> {
    let segments: Vec<&str> = path.split('/').collect();
    match (method, segments.as_slice()) {
        ("POST", ["customers"]) => Ok(create_customer(world, params, now)),
        ("GET", ["prices", id]) => retrieve_price(world, id),
        ("POST", ["checkout", "sessions"]) => create_checkout_session(world, app_url, params, now),
        ("POST", ["billing_portal", "sessions"]) => create_portal_session(world, app_url, params, now),
        ("GET", ["subscriptions"]) => list_subscriptions(world, params),
        ("GET", ["subscriptions", id]) => retrieve_subscription(world, id),
        ("POST", ["billing", "meter_events"]) => create_meter_event(world, params, now),
        ("GET", ["invoices"]) => list_invoices(world, params),
        _ => Err(ApiError::unrecognized_url(method, path)),
    }
}

/// `POST /v1/customers`.
fn create_customer(world: &mut World, params: &Params, now: i64) -> Value {
    let customer = Customer {
        id: new_id("cus"),
        name: params.text("name").map(str::to_owned),
        email: params.text("email").map(str::to_owned),
        metadata: params.map("metadata"),
        created: now,
        card: None,
    };
    let object = objects::customer(&customer);
    world.customers.push(customer);
    object
}

/// `GET /v1/prices/{id}`.
fn retrieve_price(world: &World, id: &str) -> Result<Value, ApiError> {
    world.price(id).map(objects::price).ok_or_else(|| ApiError::no_such("price", id, "id", StatusCode::NOT_FOUND))
}

/// `POST /v1/checkout/sessions`, in subscription mode for an existing customer and the
/// seeded price.
fn create_checkout_session(world: &mut World, app_url: &str, params: &Params, now: i64) -> Result<Value, ApiError> {
    match params.text("mode") {
        None => return Err(ApiError::missing("mode")),
        Some("subscription") => {}
        Some(other) => {
            return Err(ApiError::invalid(
                "mode",
                format!("The Stripe emulator only runs subscription checkouts, not mode `{other}`."),
            ));
        }
    }
    let customer = existing_customer(world, params, "customer")?;
    let price = params.text("line_items[0][price]").ok_or_else(|| ApiError::missing("line_items[0][price]"))?;
    if world.price(price).is_none() {
        return Err(ApiError::no_such("price", price, "line_items[0][price]", StatusCode::BAD_REQUEST));
    }
    if params.get("line_items[0][quantity]").is_some() {
        return Err(ApiError::invalid(
            "line_items[0][quantity]",
            "Quantity should not be specified where usage_type is `metered`. Remove quantity from `line_items[0]`.",
        ));
    }
    if params.has_prefix("line_items[1]") {
        return Err(ApiError::invalid("line_items[1]", "The Stripe emulator takes one line item."));
    }
    let success_url = web_url(params, "success_url")?.ok_or_else(|| ApiError::missing("success_url"))?;
    let cancel_url = web_url(params, "cancel_url")?;
    let trial_end = trial_end(params, now)?;
    let id = format!("cs_test_{}", super::world::random_text(24));
    let checkout = Checkout {
        url: format!("{app_url}/stripe-emulator/checkout/{id}"),
        id,
        customer,
        price: price.to_owned(),
        success_url,
        cancel_url,
        client_reference_id: params.text("client_reference_id").map(str::to_owned),
        trial_end,
        metadata: params.map("metadata"),
        subscription_metadata: params.map("subscription_data[metadata]"),
        created: now,
        expires_at: now + CHECKOUT_LIFETIME,
        status: CheckoutStatus::Open,
        subscription: None,
    };
    let object = objects::checkout(&checkout, now);
    world.add_checkout(checkout);
    Ok(object)
}

/// The id in `param` when it names a customer of the account.
fn existing_customer(world: &World, params: &Params, param: &str) -> Result<String, ApiError> {
    let id = params.text(param).ok_or_else(|| ApiError::missing(param))?;
    match world.customer(id) {
        Some(customer) => Ok(customer.id.clone()),
        None => Err(ApiError::no_such("customer", id, param, StatusCode::BAD_REQUEST)),
    }
}

/// An absolute http(s) URL in `param`, as sent (templates like `{CHECKOUT_SESSION_ID}`
/// kept).
fn web_url(params: &Params, param: &str) -> Result<Option<String>, ApiError> {
    let Some(text) = params.text(param) else { return Ok(None) };
    match url::Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(Some(text.to_owned())),
        _ => Err(ApiError { code: Some("url_invalid"), ..ApiError::invalid(param, "Not a valid URL") }),
    }
}

/// `subscription_data[trial_end]`: Unix seconds, at least 48 hours ahead.
fn trial_end(params: &Params, now: i64) -> Result<Option<i64>, ApiError> {
    const PARAM: &str = "subscription_data[trial_end]";
    let Some(text) = params.text(PARAM) else { return Ok(None) };
    let end: i64 = text.parse().map_err(|_| ApiError::invalid(PARAM, format!("Invalid integer: {text}")))?;
    if end < now + MIN_TRIAL {
        return Err(ApiError::invalid(
            PARAM,
            "`subscription_data[trial_end]` must be at least 48 hours in the future.",
        ));
    }
    Ok(Some(end))
}

/// `POST /v1/billing_portal/sessions`.
fn create_portal_session(world: &mut World, app_url: &str, params: &Params, now: i64) -> Result<Value, ApiError> {
    let customer = existing_customer(world, params, "customer")?;
    let return_url = web_url(params, "return_url")?;
    let id = new_id("bps");
    let portal =
        PortalSession { url: format!("{app_url}/stripe-emulator/portal/{id}"), id, customer, return_url, created: now };
    let object = objects::portal(&portal);
    world.add_portal(portal);
    Ok(object)
}

/// `GET /v1/subscriptions`, newest first. Without `status` canceled ones are left out, as
/// Stripe does; `status=all` includes them.
fn list_subscriptions(world: &World, params: &Params) -> Result<Value, ApiError> {
    let status = params.text("status");
    let wanted = |s: SubscriptionStatus| match status {
        None => s != SubscriptionStatus::Canceled,
        Some("all") => true,
        Some("ended") => s == SubscriptionStatus::Canceled,
        Some(other) => s.as_str() == other,
    };
    let mut subscriptions: Vec<_> = world
        .subscriptions
        .iter()
        .filter(|s| params.text("customer").is_none_or(|customer| s.customer == customer))
        .filter(|s| params.text("price").is_none_or(|price| s.price == price))
        .filter(|s| wanted(s.status))
        .collect();
    subscriptions.sort_by_key(|s| std::cmp::Reverse(s.seq));
    let ids: Vec<&str> = subscriptions.iter().map(|s| s.id.as_str()).collect();
    let (range, has_more) = page(&ids, params)?;
    let data = subscriptions[range].iter().map(|s| objects::subscription(s, &world.price)).collect();
    Ok(objects::list("/v1/subscriptions", data, has_more))
}

/// `GET /v1/subscriptions/{id}`.
fn retrieve_subscription(world: &World, id: &str) -> Result<Value, ApiError> {
    world
        .subscription(id)
        .map(|subscription| objects::subscription(subscription, &world.price))
        .ok_or_else(|| ApiError::no_such("subscription", id, "id", StatusCode::NOT_FOUND))
}

/// `GET /v1/invoices`, newest first.
fn list_invoices(world: &World, params: &Params) -> Result<Value, ApiError> {
    let mut invoices: Vec<_> = world
        .invoices
        .iter()
        .filter(|i| params.text("customer").is_none_or(|customer| i.customer == customer))
        .filter(|i| params.text("subscription").is_none_or(|subscription| i.subscription == subscription))
        .filter(|i| params.text("status").is_none_or(|status| i.status.as_str() == status))
        .collect();
    invoices.sort_by_key(|i| std::cmp::Reverse(i.seq));
    let ids: Vec<&str> = invoices.iter().map(|i| i.id.as_str()).collect();
    let (range, has_more) = page(&ids, params)?;
    let data = invoices[range].iter().map(|i| objects::invoice(i, &world.price)).collect();
    Ok(objects::list("/v1/invoices", data, has_more))
}

/// The slice of a newest-first list a request asks for (`limit`, `starting_after`), and
/// whether more follow.
fn page(ids: &[&str], params: &Params) -> Result<(std::ops::Range<usize>, bool), ApiError> {
    let limit = match params.text("limit") {
        None => DEFAULT_LIMIT,
        Some(text) => {
            let limit: usize =
                text.parse().map_err(|_| ApiError::invalid("limit", format!("Invalid integer: {text}")))?;
            if !(1..=MAX_LIMIT).contains(&limit) {
                return Err(ApiError::invalid("limit", format!("This value must be between 1 and {MAX_LIMIT}.")));
            }
            limit
        }
    };
    let start = match params.text("starting_after") {
        None => 0,
        Some(after) => ids
            .iter()
            .position(|id| *id == after)
            .map(|at| at + 1)
            .ok_or_else(|| ApiError::no_such("object", after, "starting_after", StatusCode::BAD_REQUEST))?,
    };
    let end = ids.len().min(start + limit);
    Ok((start..end, end < ids.len()))
}

/// `POST /v1/billing/meter_events` for the seeded meter.
///
/// What Stripe does with a repeated `identifier`: its API reference says it "will enforce
/// uniqueness within a rolling period of at least 24 hours", to catch accidental retries,
/// without documenting the answer; a synchronous refusal is a 400 `invalid_request_error`.
/// The emulator refuses a repeat with 400 and code `resource_already_exists` (the code
/// Rapport's gateway reads as "reported before") for as long as it remembers the identifier
/// (the last 100,000), which covers Stripe's 24 hours in any test or demo.
///
/// Stricter than Stripe: an unknown `payload[stripe_customer_id]` is refused here at once,
/// where Stripe accepts the event and reports the problem later in a meter error report.
fn create_meter_event(world: &mut World, params: &Params, now: i64) -> Result<Value, ApiError> {
    let event_name = params.text("event_name").ok_or_else(|| ApiError::missing("event_name"))?;
    if event_name != world.price.event_name {
        return Err(ApiError::invalid(
            "event_name",
            format!("No active meter was found for event_name `{event_name}`."),
        ));
    }
    let customer = existing_customer(world, params, "payload[stripe_customer_id]")?;
    let value_text = params.text("payload[value]").ok_or_else(|| ApiError::missing("payload[value]"))?;
    let value: i64 = value_text.parse().map_err(|_| {
        ApiError::invalid("payload[value]", format!("The meter event value `{value_text}` is not a whole number."))
    })?;
    let timestamp: i64 = match params.text("timestamp") {
        None => now,
        Some(text) => text.parse().map_err(|_| ApiError::invalid("timestamp", format!("Invalid integer: {text}")))?,
    };
    if timestamp < now - METER_PAST_WINDOW || timestamp > now + METER_FUTURE_WINDOW {
        return Err(ApiError::invalid(
            "timestamp",
            "The timestamp must be within the past 35 calendar days and no more than 5 minutes in the future.",
        ));
    }
    let identifier = params.text("identifier").map_or_else(|| new_id("mev"), str::to_owned);
    if world.identifier_seen(&identifier) {
        return Err(ApiError {
            code: Some("resource_already_exists"),
            ..ApiError::invalid("identifier", format!("A meter event with identifier `{identifier}` already exists."))
        });
    }
    let event = MeterEvent {
        identifier,
        event_name: event_name.to_owned(),
        customer,
        value,
        timestamp,
        created: now,
        payload: params.map("payload"),
    };
    let object = objects::meter_event(&event);
    world.add_meter_event(event);
    Ok(object)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use app::server::{clock::ManualClock, secret::Secret};

    use super::*;
    use crate::emulator::stripe::{METER_EVENT_NAME, SECRET_KEY, WEBHOOK_SECRET};

    const NOW_MS: i64 = 1_800_000_000_000;

    fn emulator() -> StripeEmulator {
        StripeEmulator::new(
            "http://127.0.0.1:9",
            SECRET_KEY,
            Secret::new(WEBHOOK_SECRET),
            Arc::new(ManualClock::new(NOW_MS)),
        )
        .unwrap()
    }

    async fn send(
        emulator: &StripeEmulator,
        method: Method,
        path: &str,
        body: &str,
        headers: &[(&'static str, &str)],
    ) -> (StatusCode, Option<String>, String) {
        let mut map = HeaderMap::new();
        map.insert(header::AUTHORIZATION, HeaderValue::from_str(&format!("Bearer {SECRET_KEY}")).unwrap());
        for (name, value) in headers {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        let (query, body) =
            if method == Method::GET { (Some(body.to_owned()), String::new()) } else { (None, body.to_owned()) };
        let response =
            call(State(emulator.clone()), method, Path(path.to_owned()), RawQuery(query), map, Bytes::from(body)).await;
        let status = response.status();
        let replayed = response.headers().get("idempotent-replayed").map(|v| v.to_str().unwrap().to_owned());
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, replayed, String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn a_repeated_idempotent_post_answers_the_first_response_and_acts_once() {
        let emulator = emulator();
        let key = [("idempotency-key", "customer-w1")];

        let first = send(&emulator, Method::POST, "customers", "name=Acme&metadata[workspace_id]=w1", &key).await;
        let again = send(&emulator, Method::POST, "customers", "metadata%5Bworkspace_id%5D=w1&name=Acme", &key).await;
        let changed = send(&emulator, Method::POST, "customers", "name=Other&metadata[workspace_id]=w1", &key).await;
        let elsewhere =
            send(&emulator, Method::POST, "checkout/sessions", "name=Acme&metadata[workspace_id]=w1", &key).await;

        assert_eq!(first.0, StatusCode::OK);
        assert_eq!(again, (StatusCode::OK, Some("true".to_owned()), first.2.clone()), "byte for byte");
        assert_eq!(emulator.world().customers.len(), 1);
        for refused in [&changed, &elsewhere] {
            assert_eq!(refused.0, StatusCode::BAD_REQUEST);
            let body: Value = serde_json::from_str(&refused.2).unwrap();
            assert_eq!(body["error"]["type"], "idempotency_error");
        }
        assert!(elsewhere.2.contains("('/v1/customers' vs '/v1/checkout/sessions')"), "{}", elsewhere.2);
        assert!(changed.2.contains("with the same parameters"), "{}", changed.2);
    }

    #[tokio::test]
    async fn a_wrong_or_missing_key_is_refused_without_echoing_it() {
        let emulator = emulator();
        let mut no_key = HeaderMap::new();
        no_key.insert("idempotency-key", HeaderValue::from_static("k"));

        let missing =
            call(State(emulator.clone()), Method::GET, Path("invoices".into()), RawQuery(None), no_key, Bytes::new())
                .await;
        let (status, _, body) =
            send(&emulator, Method::GET, "invoices", "", &[("authorization", "Bearer sk_test_wrong_secret_1234")])
                .await;

        assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(body.contains("Invalid API Key provided: sk_test_"), "{body}");
        assert!(body.contains("1234") && !body.contains("wrong_secret"), "{body}");
    }

    #[tokio::test]
    async fn unknown_ids_and_urls_get_stripes_errors() {
        let emulator = emulator();

        let (price_status, _, price) = send(&emulator, Method::GET, "prices/price_nope", "", &[]).await;
        let (session_status, _, session) = send(
            &emulator,
            Method::POST,
            "checkout/sessions",
            "mode=subscription&customer=cus_nope&line_items[0][price]=price_rapport_active_member&success_url=http://x.test/",
            &[],
        )
        .await;
        let (url_status, _, url) = send(&emulator, Method::GET, "charges", "", &[]).await;

        assert_eq!(price_status, StatusCode::NOT_FOUND);
        let price: Value = serde_json::from_str(&price).unwrap();
        assert_eq!(price["error"]["code"], "resource_missing");
        assert_eq!(session_status, StatusCode::BAD_REQUEST);
        let session: Value = serde_json::from_str(&session).unwrap();
        assert_eq!(session["error"]["message"], "No such customer: 'cus_nope'");
        assert_eq!(session["error"]["param"], "customer");
        assert_eq!(url_status, StatusCode::NOT_FOUND);
        assert!(url.contains("Unrecognized request URL (GET: /v1/charges)"));
    }

    #[tokio::test]
    async fn a_meter_event_identifier_is_accepted_once() {
        let emulator = emulator();
        let (_, _, customer) = send(&emulator, Method::POST, "customers", "name=Acme", &[]).await;
        let customer: Value = serde_json::from_str(&customer).unwrap();
        let body = format!(
            "event_name={METER_EVENT_NAME}&payload[stripe_customer_id]={}&payload[value]=7&identifier=w1-1",
            customer["id"].as_str().unwrap()
        );

        let first = send(&emulator, Method::POST, "billing/meter_events", &body, &[]).await;
        let repeat = send(&emulator, Method::POST, "billing/meter_events", &body, &[]).await;
        let unknown =
            send(&emulator, Method::POST, "billing/meter_events", &body.replace(METER_EVENT_NAME, "other"), &[]).await;

        assert_eq!(first.0, StatusCode::OK);
        assert_eq!(emulator.meter_value(customer["id"].as_str().unwrap()), Some(7));
        assert_eq!(repeat.0, StatusCode::BAD_REQUEST);
        let repeat: Value = serde_json::from_str(&repeat.2).unwrap();
        assert_eq!(repeat["error"]["code"], "resource_already_exists");
        assert_eq!(unknown.0, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn a_key_is_masked_to_its_prefix_and_last_four() {
        assert_eq!(mask_key("sk_test_abcdefghij1234"), "sk_test_**********1234");
        assert_eq!(mask_key("short"), "********");
        assert!(!mask_key("sk_live_0123456789").contains("012345"));
    }
}
