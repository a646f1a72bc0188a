//! Security headers on every response: `X-Content-Type-Options: nosniff`, a
//! `Referrer-Policy`, and a `Content-Security-Policy` that fits what the response is.
//!
//! - The dashboard's pages (Leptos) run scripts of this origin, and inline scripts only when
//!   they carry the page's nonce: Leptos makes a fresh one for every page it renders and puts
//!   it on each inline script it writes (the hydration bootstrap, the resolved resources, the
//!   streamed chunks); [`send_app_page_policy`] sends the same nonce in the header.
//! - Pages the server makes itself ([`crate::plain_page`]) run no script at all.
//! - The emulators' pages allow their own inline style sheet and handlers, by hash.
//! - Everything else (server functions' JSON, Slack's endpoints, health checks, files) gets
//!   [`STRICT_POLICY`], which lets nothing load; an HTML page that somehow went out without
//!   its own gets [`PAGE_FALLBACK_POLICY`] (and a warning), so it still works.

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

/// The policy of an HTML page that went out without its own (its render did not set the
/// nonce policy): the page must still hydrate, so only what needs no nonce is said. Seen in
/// the billing browser test, on an ordinary navigation to `/admin/billing` right after the
/// Stripe checkout (a dashboard page under [`STRICT_POLICY`] never hydrated); the warning
/// it logs is there to find out why.
pub const PAGE_FALLBACK_POLICY: &str = "frame-ancestors 'none'; object-src 'none'; base-uri 'self'";

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

/// Puts [`app_page_policy`] with the page's nonce into the response being rendered. Runs in
/// the Leptos context of every request: a page has a nonce (leptos_axum provides one per
/// render) and response options; a server function or a static file has no nonce and
/// keeps [`STRICT_POLICY`].
pub fn send_app_page_policy(dev_reload: bool) {
    let nonce = leptos::nonce::use_nonce();
    let response = leptos::prelude::use_context::<leptos_axum::ResponseOptions>();
    let (Some(nonce), Some(response)) = (nonce, response) else {
        return;
    };
    match HeaderValue::from_str(&app_page_policy(&nonce, dev_reload)) {
        Ok(policy) => response.insert_header(header::CONTENT_SECURITY_POLICY, policy),
        // A nonce is URL-safe base64; without the header the strict default applies.
        Err(error) => tracing::error!(%error, "the page's Content-Security-Policy is not a header value"),
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

/// Gives every response `nosniff` (a file is only ever what its `Content-Type` says), the
/// [`REFERRER_POLICY`], and [`STRICT_POLICY`] unless it set a policy of its own.
pub async fn add_defaults(request: Request, next: Next) -> Response {
    // A path, never the query, which can carry what people typed.
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let response = with_defaults(next.run(request).await);
    if response.headers().get(header::CONTENT_SECURITY_POLICY).is_some_and(|policy| policy == PAGE_FALLBACK_POLICY) {
        tracing::warn!(
            %method,
            path,
            status = response.status().as_u16(),
            "a page went out without its Content-Security-Policy; sent the fallback"
        );
    }
    response
}

/// [`add_defaults`] on a `response`.
fn with_defaults(mut response: Response) -> Response {
    let html = is_html(&response);
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.entry(header::REFERRER_POLICY).or_insert(HeaderValue::from_static(REFERRER_POLICY));
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        let policy = if html { PAGE_FALLBACK_POLICY } else { STRICT_POLICY };
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_without_its_policy_still_hydrates_and_anything_else_loads_nothing() {
        let typed = |content_type: &'static str| {
            let mut response = Response::new(axum::body::Body::empty());
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            response
        };
        let page = with_defaults(typed("text/html; charset=utf-8"));
        let json = with_defaults(typed("application/json"));
        assert_eq!(page.headers()[header::CONTENT_SECURITY_POLICY], PAGE_FALLBACK_POLICY);
        assert!(!PAGE_FALLBACK_POLICY.contains("default-src") && !PAGE_FALLBACK_POLICY.contains("script-src"));
        assert_eq!(json.headers()[header::CONTENT_SECURITY_POLICY], STRICT_POLICY);
        assert_eq!(page.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
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
