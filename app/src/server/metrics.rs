//! [`Metrics`]: what the process counts for Prometheus, in one registry per application
//! (tests run several applications in one process, and each counts apart). Counters are
//! counted where things happen (requests, Slack calls, failed prompts, Stripe webhooks);
//! gauges of what the database holds are set at scrape time (`services::metrics`).
//!
//! No label carries a secret or personal data: routes are templates (`/people/{id}`), never
//! paths, and nothing is labelled by user, member or team.

use anyhow::Context as _;
use prometheus_client::{
    encoding::{EncodeLabelSet, text},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::{Registry, Unit},
};

use super::db::prompts::PromptStatus;

/// The content type of [`Metrics::encode`]'s text (OpenMetrics, which Prometheus reads).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Every metric's name starts with this (`rapport_http_requests_total`, ...).
const PREFIX: &str = "rapport";

/// A label value longer than this is cut (a label is a name, not a message).
const MAX_LABEL_CHARS: usize = 100;

/// A request, by method, route template and status.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

/// A request's latency, by method and route template.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

/// A Slack Web API call, by method and outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SlackCallLabels {
    method: &'static str,
    outcome: String,
}

/// Prompts by status.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: &'static str,
}

/// Failed prompts by reason (Slack's error code or a fixed description).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: String,
}

/// A Stripe webhook delivery, by event type and outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WebhookLabels {
    event_type: String,
    outcome: &'static str,
}

/// The application's metrics and the registry that encodes them; shared as
/// `Arc<Metrics>` through [`AppState`](super::AppState).
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    http_requests: Family<RequestLabels, Counter>,
    http_request_duration: Family<RouteLabels, Histogram, fn() -> Histogram>,
    slack_calls: Family<SlackCallLabels, Counter>,
    prompts_failed: Family<ReasonLabels, Counter>,
    stripe_webhooks: Family<WebhookLabels, Counter>,
    prompts: Family<StatusLabels, Gauge>,
    inbox_backlog: Gauge,
    inbox_oldest_age: Gauge,
    pool_open: Gauge,
    pool_in_use: Gauge,
    lanes_held: Gauge,
}

/// Request latency buckets: 5 ms to about 10 s, doubling.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.0, 12))
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::with_prefix(PREFIX);
        let http_requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status",
            http_requests.clone(),
        );
        let http_request_duration =
            Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        registry.register_with_unit(
            "http_request_duration",
            "Time to answer an HTTP request (until the response starts), by method and route template",
            Unit::Seconds,
            http_request_duration.clone(),
        );
        let slack_calls = Family::<SlackCallLabels, Counter>::default();
        registry.register(
            "slack_api_calls",
            "Slack Web API calls by method and outcome: ok, ratelimited, timeout, transient or Slack's error code",
            slack_calls.clone(),
        );
        let prompts_failed = Family::<ReasonLabels, Counter>::default();
        registry.register("prompts_failed", "Prompts marked failed, by reason", prompts_failed.clone());
        let stripe_webhooks = Family::<WebhookLabels, Counter>::default();
        registry.register(
            "stripe_webhooks",
            "Stripe webhook deliveries by event type and outcome",
            stripe_webhooks.clone(),
        );
        let prompts = Family::<StatusLabels, Gauge>::default();
        registry.register("prompts", "Prompts in the database by status", prompts.clone());
        let inbox_backlog: Gauge = Gauge::default();
        registry.register(
            "inbox_backlog",
            "Inbox items not yet processed (waiting, held or retrying)",
            inbox_backlog.clone(),
        );
        let inbox_oldest_age: Gauge = Gauge::default();
        registry.register_with_unit(
            "inbox_oldest_item_age",
            "Age of the oldest inbox item not yet processed (0 when there is none)",
            Unit::Seconds,
            inbox_oldest_age.clone(),
        );
        let pool_open: Gauge = Gauge::default();
        registry.register("db_pool_connections_open", "Database connections open in the pool", pool_open.clone());
        let pool_in_use: Gauge = Gauge::default();
        registry.register(
            "db_pool_connections_in_use",
            "Database connections in use (open and not idle)",
            pool_in_use.clone(),
        );
        let lanes_held: Gauge = Gauge::default();
        registry.register(
            "dispatch_lanes_held",
            "Workspaces whose sending is held because Slack asked to wait (Retry-After)",
            lanes_held.clone(),
        );
        Metrics {
            registry,
            http_requests,
            http_request_duration,
            slack_calls,
            prompts_failed,
            stripe_webhooks,
            prompts,
            inbox_backlog,
            inbox_oldest_age,
            pool_open,
            pool_in_use,
            lanes_held,
        }
    }
}

impl Metrics {
    /// A new registry with every metric at zero.
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// Counts an answered request and its latency. `route` is the matched route's template
    /// (or a fixed word for none), never the request's path.
    pub fn observe_request(&self, method: &'static str, route: &str, status: u16, seconds: f64) {
        let route = label(route);
        self.http_request_duration.get_or_create(&RouteLabels { method, route: route.clone() }).observe(seconds);
        self.http_requests.get_or_create(&RequestLabels { method, route, status }).inc();
    }

    /// Counts a Slack Web API call by its outcome (`ok`, `ratelimited`, `timeout`,
    /// `transient` or Slack's error code).
    pub fn count_slack_call(&self, method: &'static str, outcome: &str) {
        self.slack_calls.get_or_create(&SlackCallLabels { method, outcome: label(outcome) }).inc();
    }

    /// Counts `count` prompts marked failed for `reason`.
    pub fn count_prompts_failed(&self, reason: &str, count: u64) {
        if count > 0 {
            self.prompts_failed.get_or_create(&ReasonLabels { reason: label(reason) }).inc_by(count);
        }
    }

    /// Counts a Stripe webhook delivery. `event_type` must be one of a known few (the caller
    /// names anything else `other`): a forged delivery must not add series.
    pub fn count_stripe_webhook(&self, event_type: &str, outcome: &'static str) {
        self.stripe_webhooks.get_or_create(&WebhookLabels { event_type: label(event_type), outcome }).inc();
    }

    /// Sets the count of prompts of every status; a status missing from `counts` is 0.
    pub fn set_prompts(&self, counts: &[(PromptStatus, i64)]) {
        for status in PromptStatus::ALL {
            let count = counts.iter().find(|(counted, _)| *counted == status).map_or(0, |(_, count)| *count);
            self.prompts.get_or_create(&StatusLabels { status: status.as_str() }).set(count);
        }
    }

    /// Sets the inbox's backlog and the age of its oldest unprocessed item.
    pub fn set_inbox(&self, backlog: i64, oldest_age_secs: i64) {
        self.inbox_backlog.set(backlog);
        self.inbox_oldest_age.set(oldest_age_secs.max(0));
    }

    /// Sets the database pool's open connections and those in use.
    pub fn set_pool(&self, open: i64, in_use: i64) {
        self.pool_open.set(open);
        self.pool_in_use.set(in_use.max(0));
    }

    /// Sets how many workspaces' sending Slack holds with `Retry-After`.
    pub fn set_lanes_held(&self, held: i64) {
        self.lanes_held.set(held);
    }

    /// Every metric in the text format Prometheus scrapes ([`CONTENT_TYPE`]).
    pub fn encode(&self) -> anyhow::Result<String> {
        let mut encoded = String::new();
        text::encode(&mut encoded, &self.registry).context("encoding the metrics")?;
        Ok(encoded)
    }
}

/// A label value the text format can carry: the encoder writes values as they are, so
/// quotes, backslashes and control characters become `_`, and a long value is cut.
fn label(value: &str) -> String {
    value.chars().take(MAX_LABEL_CHARS).map(|c| if c == '"' || c == '\\' || c.is_control() { '_' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_registries_count_apart() {
        let (one, other) = (Metrics::new(), Metrics::new());
        one.observe_request("GET", "/people/{id}", 200, 0.01);
        one.observe_request("GET", "/people/{id}", 200, 0.02);
        other.observe_request("GET", "/people/{id}", 200, 0.01);

        let line = r#"rapport_http_requests_total{method="GET",route="/people/{id}",status="200"}"#;
        assert!(one.encode().unwrap().contains(&format!("{line} 2\n")), "{}", one.encode().unwrap());
        assert!(other.encode().unwrap().contains(&format!("{line} 1\n")), "{}", other.encode().unwrap());
    }

    #[test]
    fn every_prompt_status_is_exported_and_one_that_emptied_goes_back_to_zero() {
        let metrics = Metrics::new();
        metrics.set_prompts(&[(PromptStatus::Failed, 3)]);
        metrics.set_prompts(&[(PromptStatus::Sent, 2)]);

        let text = metrics.encode().unwrap();
        assert!(text.contains("rapport_prompts{status=\"sent\"} 2\n"), "{text}");
        assert!(text.contains("rapport_prompts{status=\"failed\"} 0\n"), "{text}");
        assert!(text.contains("rapport_prompts{status=\"answered\"} 0\n"), "{text}");
    }

    #[test]
    fn a_label_value_cannot_break_out_of_its_quotes_or_line() {
        assert_eq!(label("a\"b\\c\nd"), "a_b_c_d");
        assert_eq!(label(&"x".repeat(500)).len(), MAX_LABEL_CHARS);
    }
}
