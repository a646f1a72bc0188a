//! Security headers on every response: `X-Content-Type-Options: nosniff`, a
//! `Referrer-Policy`, and a `Content-Security-Policy` that fits what the response is.
//!
//! - The dashboard's pages (Leptos) run scripts of this origin, and inline scripts only when
//!   they carry the page's nonce. [`add_defaults`] makes a fresh nonce for every request
//!   before Leptos sees it ([`RequestNonce`]); the page's render writes it on each inline
//!   script (the hydration bootstrap, the resolved resources, the streamed chunks) through
//!   [`use_request_nonce`], and [`add_defaults`] names it in the page's policy. The header
//!   does not go through the render's response options, so no way the render ends can
//!   leave a page without it.
//! - Pages the server makes itself ([`crate::plain_page`]) run no script at all.
//! - The emulators' pages allow their own inline style sheet and handlers, by hash.
//! - Everything else (server functions' JSON, Slack's endpoints, health checks, files) gets
//!   [`STRICT_POLICY`], which lets nothing load.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use axum::{
    Router,
    extract::{Request, State},
    http::{HeaderValue, header},
    middleware::Next,
    response::Response,
};
use base64::Engine as _;
use sha2::{Digest as _, Sha256};

/// The policy of every response that does not name its own: nothing may load, and no site
/// may frame it.
pub const STRICT_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// `same-origin`: our own pages and requests get the full referrer (leptos_axum sends a form
/// posted without JavaScript back to its `Referer`), other sites get none, not even the
/// origin. Nothing Rapport links to or loads from elsewhere (Slack's sign-in and avatars,
/// Stripe's pages) needs to know where the visitor came from, and a self-hosted
/// dashboard's address can itself be internal.
pub const REFERRER_POLICY: &str = "same-origin";

/// The policy of the pages the server makes itself ([`crate::plain_page`]): the dashboard's
/// style sheet and icon, forms that post to this origin, and no script.
pub const SERVER_PAGE_POLICY: &str =
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Where a dashboard page's forms may go: this origin, and Stripe's Checkout and customer
/// portal. Upgrade and Manage posted without JavaScript are answered with a redirect to
/// Stripe's page, and browsers check a form's redirects against `form-action` too.
const APP_FORM_TARGETS: &str = "'self' https://checkout.stripe.com https://billing.stripe.com";

/// The policy of a dashboard page whose inline scripts carry `nonce`. `dev_reload` adds the
/// WebSocket that `cargo leptos watch` reloads the page through (another port, so not
/// `'self'`).
///
/// Scripts: this origin (the wasm bundle's JS and its lazy chunks) and the nonce;
/// `'wasm-unsafe-eval'` lets the page compile WebAssembly and nothing else. Styles: the
/// style sheet only (no page uses a `style` attribute or element). Images: this origin,
/// `data:` (the demo's avatars) and any https URL (Slack's avatars).
pub fn app_page_policy(nonce: &str, dev_reload: bool) -> String {
    let reload = if dev_reload { " ws:" } else { "" };
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data: https:; connect-src 'self'{reload}; object-src 'none'; base-uri 'self'; \
         form-action {APP_FORM_TARGETS}; frame-ancestors 'none'"
    )
}

/// The nonce of one request, made by [`add_defaults`] before the request reaches Leptos and
/// kept in its extensions; `used` tells whether a page's render took it.
#[derive(Clone, Debug)]
pub struct RequestNonce {
    value: Arc<str>,
    used: Arc<AtomicBool>,
}

impl RequestNonce {
    /// 128 random bits, URL-safe base64 (a header value as it is).
    fn new() -> RequestNonce {
        let bytes: [u8; 16] = rand::random();
        let value = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        RequestNonce { value: value.into(), used: Arc::default() }
    }
}

/// Makes the request's nonce the one the page's render writes on its inline scripts (in
/// place of the one leptos_axum made). Runs in the Leptos context of every request (a
/// server function's too, which renders nothing). Every request of the router passes
/// through [`add_defaults`]; one that did not would keep leptos_axum's nonce, unnamed in
/// any policy, so its page would not run.
pub fn use_request_nonce() {
    use leptos::prelude::{provide_context, use_context};
    let nonce = use_context::<http::request::Parts>().and_then(|parts| parts.extensions.get::<RequestNonce>().cloned());
    if let Some(nonce) = nonce {
        nonce.used.store(true, Ordering::Relaxed);
        provide_context(leptos::nonce::Nonce::from_value(nonce.value));
    }
}

/// The policy of a page whose only inline code is `styles` (the text of its `<style>`
/// elements) and `handlers` (the values of its `on…` attributes), allowed by hash; it may
/// load its icon from this origin and post forms to this origin.
pub fn inline_page_policy(styles: &[&str], handlers: &[&str]) -> String {
    let hashes = |texts: &[&str]| -> String {
        if texts.is_empty() {
            return "'none'".to_owned();
        }
        texts.iter().map(|text| format!("'{}'", sha256_source(text))).collect::<Vec<_>>().join(" ")
    };
    let mut policy = format!("default-src 'none'; style-src {}; img-src 'self'; form-action 'self'", hashes(styles));
    if !handlers.is_empty() {
        // `'unsafe-hashes'` extends the hashes to event handler attributes, and to nothing else.
        policy.push_str(&format!("; script-src-attr 'unsafe-hashes' {}", hashes(handlers)));
    }
    policy.push_str("; base-uri 'none'; frame-ancestors 'none'");
    policy
}

/// A CSP hash source (`sha256-…`) for an inline style sheet or script.
pub fn sha256_source(text: &str) -> String {
    format!("sha256-{}", base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes())))
}

/// `router` with `policy` on the HTML pages it answers; its other answers keep the strict
/// default.
pub fn with_page_policy(router: Router, policy: &str) -> Router {
    match HeaderValue::from_str(policy) {
        Ok(policy) => router.layer(axum::middleware::map_response_with_state(policy, add_page_policy)),
        Err(error) => {
            // The strict default then applies: the pages show unstyled, nothing runs.
            tracing::error!(%error, "a page policy is not a header value");
            router
        }
    }
}

async fn add_page_policy(State(policy): State<HeaderValue>, mut response: Response) -> Response {
    let html = is_html(&response);
    if html {
        response.headers_mut().entry(header::CONTENT_SECURITY_POLICY).or_insert(policy);
    }
    response
}

/// Whether the response is an HTML page.
fn is_html(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"))
}

/// Gives every request a nonce ([`RequestNonce`]) and every response `nosniff` (a file is
/// only ever what its `Content-Type` says) and the [`REFERRER_POLICY`]; a response that set
/// no policy of its own gets [`app_page_policy`] with the request's nonce when it is a page,
/// [`STRICT_POLICY`] otherwise. `dev_reload` as for [`app_page_policy`].
pub async fn add_defaults(State(dev_reload): State<bool>, mut request: Request, next: Next) -> Response {
    let nonce = RequestNonce::new();
    request.extensions_mut().insert(nonce.clone());
    // A path, never the query, which can carry what people typed.
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let response = with_defaults(next.run(request).await, &nonce.value, dev_reload);
    if is_html(&response) && !nonce.used.load(Ordering::Relaxed) && !has_own_policy(&response, &nonce.value) {
        // A page rendered outside the Leptos context that takes the nonce: its inline
        // scripts carry none, so it cannot hydrate under its policy.
        tracing::warn!(%method, path, status = response.status().as_u16(), "a page was rendered without its nonce");
    }
    response
}

/// Whether `response` carries a policy other than the nonce policy [`add_defaults`] gave it
/// (a page the server or an emulator made, with a policy of its own).
fn has_own_policy(response: &Response, nonce: &str) -> bool {
    response
        .headers()
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|policy| policy.to_str().ok())
        .is_some_and(|policy| !policy.contains(&format!("'nonce-{nonce}'")))
}

/// [`add_defaults`] on a `response` to a request whose nonce is `nonce`.
fn with_defaults(mut response: Response, nonce: &str, dev_reload: bool) -> Response {
    let html = is_html(&response);
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.entry(header::REFERRER_POLICY).or_insert(HeaderValue::from_static(REFERRER_POLICY));
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        let policy = match html {
            // A nonce is URL-safe base64, so the policy is always a header value.
            true => HeaderValue::from_str(&app_page_policy(nonce, dev_reload))
                .unwrap_or(HeaderValue::from_static(STRICT_POLICY)),
            false => HeaderValue::from_static(STRICT_POLICY),
        };
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_gets_the_nonce_policy_anything_else_loads_nothing_and_an_own_policy_stays() {
        let typed = |content_type: &'static str| {
            let mut response = Response::new(axum::body::Body::empty());
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            response
        };
        let page = with_defaults(typed("text/html; charset=utf-8"), "abc", false);
        let json = with_defaults(typed("application/json"), "abc", false);
        let mut own = typed("text/html");
        own.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(SERVER_PAGE_POLICY));
        let own = with_defaults(own, "abc", false);

        assert_eq!(page.headers()[header::CONTENT_SECURITY_POLICY], app_page_policy("abc", false).as_str());
        assert_eq!(json.headers()[header::CONTENT_SECURITY_POLICY], STRICT_POLICY);
        assert_eq!(own.headers()[header::CONTENT_SECURITY_POLICY], SERVER_PAGE_POLICY);
        assert!(!has_own_policy(&page, "abc") && has_own_policy(&own, "abc"));
        assert_eq!(page.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    }

    #[test]
    fn each_request_gets_a_nonce_of_its_own_of_128_bits() {
        let (first, second) = (RequestNonce::new(), RequestNonce::new());
        assert_ne!(first.value, second.value);
        assert_eq!(base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&*first.value).unwrap().len(), 16);
    }

    #[test]
    fn a_hash_source_is_the_base64_sha256_of_the_text() {
        // The example of the CSP specification: `alert('Hello, world.');`.
        assert_eq!(sha256_source("alert('Hello, world.');"), "sha256-qznLcsROx4GACP2dm0UCKCzCG+HiZ1guq6ZZDob/Tng=");
    }

    #[test]
    fn a_page_policy_names_its_nonce_and_allows_the_reload_socket_only_in_development() {
        let production = app_page_policy("abc", false);
        let development = app_page_policy("abc", true);

        assert!(production.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval';"), "{production}");
        assert!(production.contains("connect-src 'self';"), "{production}");
        assert!(development.contains("connect-src 'self' ws:;"), "{development}");
        for directive in ["frame-ancestors 'none'", "object-src 'none'", "base-uri 'self'", "form-action 'self'"] {
            assert!(production.contains(directive), "{directive} in {production}");
        }
    }

    #[test]
    fn an_inline_page_policy_allows_its_styles_and_handlers_by_hash_only() {
        let policy = inline_page_policy(&["body{margin:0}"], &["this.form.submit()"]);
        let without_handlers = inline_page_policy(&["body{margin:0}"], &[]);

        let style = sha256_source("body{margin:0}");
        let handler = sha256_source("this.form.submit()");
        assert!(policy.contains(&format!("style-src '{style}';")), "{policy}");
        assert!(policy.contains(&format!("script-src-attr 'unsafe-hashes' '{handler}';")), "{policy}");
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        assert!(!without_handlers.contains("script-src"), "{without_handlers}");
    }
}
