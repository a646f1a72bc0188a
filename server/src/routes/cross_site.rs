//! Refuses state-changing requests that a browser sent from another site (cross-site request
//! forgery): a form on any page could otherwise post to a server function with the visitor's
//! session cookie. Browsers say where a request comes from in `Sec-Fetch-Site` and `Origin`;
//! a request with neither does not come from a browser page, so it carries no one's cookie
//! by surprise. Slack's endpoints are exempt: Slack is not a browser, and its signature is
//! checked instead.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{HeaderMap, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// Lets a request through unless it changes state and a browser says it came from elsewhere
/// than `public_url` (where browsers reach this server, no trailing slash).
pub async fn refuse_cross_site(State(public_url): State<Arc<str>>, request: Request, next: Next) -> Response {
    let changes_state = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    // Slack and Stripe sign what they send; their requests come from servers, not browsers.
    let exempt = request.uri().path().starts_with("/slack/") || request.uri().path() == "/stripe/webhook";
    if changes_state && !exempt && !same_origin(request.headers(), &public_url) {
        tracing::warn!(path = %request.uri().path(), "refused a cross-site request");
        return (StatusCode::FORBIDDEN, "cross-site requests are not accepted").into_response();
    }
    next.run(request).await
}

/// Whether the browser's own account of a request places it on `public_url`'s origin.
fn same_origin(headers: &HeaderMap, public_url: &str) -> bool {
    let header = |name: &str| headers.get(name).map(|value| value.to_str().unwrap_or("invalid"));
    match (header("sec-fetch-site"), header("origin")) {
        // `none`: the user typed or bookmarked it; `same-origin`: one of our own pages.
        (Some("same-origin" | "none"), _) => true,
        // `same-site` is another origin (a sibling subdomain), `cross-site` anywhere else.
        (Some(_), _) => false,
        (None, Some(origin)) => origin == public_origin(public_url),
        (None, None) => true,
    }
}

/// The origin (`scheme://host[:port]`) of a URL without a path, as browsers send it.
fn public_origin(public_url: &str) -> &str {
    let after_scheme = public_url.find("://").map_or(0, |at| at + 3);
    match public_url[after_scheme..].find('/') {
        Some(slash) => &public_url[..after_scheme + slash],
        None => public_url,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    const OURS: &str = "https://rapport.example";

    #[test]
    fn our_own_pages_and_non_browser_clients_pass() {
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-origin")]), OURS));
        assert!(same_origin(&headers(&[("sec-fetch-site", "none")]), OURS));
        assert!(same_origin(&headers(&[("origin", "https://rapport.example")]), OURS));
        assert!(same_origin(&headers(&[]), OURS), "curl and server-to-server calls send neither");
    }

    #[test]
    fn another_site_or_a_sibling_subdomain_is_refused() {
        assert!(!same_origin(&headers(&[("sec-fetch-site", "cross-site")]), OURS));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "same-site")]), OURS));
        assert!(!same_origin(&headers(&[("origin", "https://evil.example")]), OURS));
        assert!(!same_origin(&headers(&[("origin", "http://rapport.example")]), OURS), "another scheme");
        assert!(!same_origin(&headers(&[("origin", "null")]), OURS), "a sandboxed or file page");
        let both = headers(&[("sec-fetch-site", "cross-site"), ("origin", "https://rapport.example")]);
        assert!(!same_origin(&both, OURS), "Sec-Fetch-Site, set by the browser itself, decides");
    }

    #[test]
    fn the_origin_of_a_public_url_is_its_scheme_host_and_port() {
        assert_eq!(public_origin("https://rapport.example"), "https://rapport.example");
        assert_eq!(public_origin("http://127.0.0.1:3000"), "http://127.0.0.1:3000");
        assert_eq!(public_origin("https://example.com/rapport"), "https://example.com");
    }
}
