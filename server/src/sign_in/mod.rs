//! Signing in to the dashboard, and out. Three ways in, each ending in [`start_session`]:
//! Sign in with Slack (OpenID Connect, [`slack`]), a one-time link from Slack ([`link`]) and
//! the self-hosted admin account's password ([`password`]). On every request [`attach_viewer`]
//! hands what the session remembers to the app, which resolves the viewer once, and keeps a
//! signed-in session in use alive ([`sessions::renew_if_due`]).

pub mod id_token;
pub mod limits;
mod link;
mod password;
pub mod slack;

use std::sync::Arc;

use app::features::auth::types::login_href;
use app::server::{
    AppState,
    services::billing,
    viewer::{self, RequestViewer, Role, SESSION_KEY, SignedIn, Viewer},
};
use axum::{
    Router,
    extract::{FromRef, Request, State},
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use tower_sessions::Session;

use crate::{plain_page, sessions};

/// Tells an admin's pages why questions stopped, when billing is on and they did: the
/// header's banner then needs no request of its own. A failure only leaves the banner out.
async fn add_billing_notice(state: &AppState, viewer: &mut Viewer) {
    if !viewer.is_admin() || state.stripe.is_none() {
        return;
    }
    match billing::notice(state, &viewer.workspace_id).await {
        Ok(notice) => viewer.billing_notice = notice,
        Err(error) => tracing::warn!(error = %error, "could not read the workspace's billing for the banner"),
    }
}

/// How people can sign in here.
#[derive(Clone, Debug)]
pub struct SignInSettings {
    /// Sign in with Slack, when the app has OAuth credentials (hosted, or the emulator's).
    pub slack: Option<slack::SlackSignInSettings>,
    /// The sign-in and install starts and password attempts of this process.
    pub attempts: Arc<limits::AttemptLimiter>,
}

/// The sign-in routes (the `/login` page itself is the app's).
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
    SignInSettings: FromRef<S>,
{
    Router::new()
        .route("/login/password", post(password::sign_in))
        .route("/login/slack", get(slack::start))
        .route("/login/slack/callback", get(slack::callback))
        .route("/login/link/{token}", get(link::confirm).post(link::sign_in))
        .route("/logout", post(sign_out))
}

/// Remembers who signed in, under a new session id: an id handed out before sign-in (to a
/// visitor, or planted by someone else) is worthless after it.
pub async fn start_session(session: &Session, signed_in: &SignedIn) -> Result<(), tower_sessions::session::Error> {
    session.cycle_id().await?;
    session.insert(SESSION_KEY, signed_in).await?;
    sessions::renew_if_due(session).await;
    Ok(())
}

/// `POST /logout`: forgets the session and its cookie.
async fn sign_out(session: Session) -> Response {
    if let Err(error) = session.flush().await {
        tracing::error!(error = %error, "could not end a session");
    }
    Redirect::to("/").into_response()
}

/// Resolves who is asking from the session, once, and puts the viewer into the request for
/// the app's `ctx::member` and `ctx::admin` and the page header. Requests that never show
/// team data (static files, Slack, health checks) skip it. A page a viewer may not see is
/// answered here, before any rendering: a redirect to sign-in, or 403 (the app's gates
/// still guard every server function).
pub async fn attach_viewer(
    State(state): State<AppState>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let skip = ["/pkg/", "/slack/", "/emulator/", "/healthz", "/readyz"].iter().any(|prefix| path.starts_with(prefix));
    if skip {
        return next.run(request).await;
    }
    let signed_in = session.get::<SignedIn>(SESSION_KEY).await.unwrap_or_else(|error| {
        tracing::warn!(error = %error, "could not read a session; treating the request as signed out");
        None
    });
    if signed_in.is_some() {
        sessions::renew_if_due(&session).await;
    }
    let mut viewer = viewer::resolve(&state, signed_in.as_ref()).await;
    if let Ok(Some(admin)) = &mut viewer
        && request.method() == axum::http::Method::GET
        && !path.starts_with("/api/")
    {
        add_billing_notice(&state, admin).await;
    }
    if let (Ok(viewer), true) = (&viewer, request.method() == axum::http::Method::GET) {
        let here = request.uri().path_and_query().map_or_else(|| path.to_owned(), |p| p.as_str().to_owned());
        match page_gate(path, viewer.as_ref()) {
            PageGate::Open => {}
            // 302, as the app's own redirects: the browser comes back with a GET.
            PageGate::SignIn => {
                return (StatusCode::FOUND, [(axum::http::header::LOCATION, login_href(&here))]).into_response();
            }
            PageGate::AdminsOnly => {
                return plain_page::message(
                    StatusCode::FORBIDDEN,
                    "Not available",
                    "This page is for the admins of your workspace.",
                );
            }
        }
    }
    request.extensions_mut().insert(RequestViewer(viewer));
    next.run(request).await
}

/// Whether a viewer may open a page.
#[derive(Debug, PartialEq, Eq)]
enum PageGate {
    Open,
    SignIn,
    AdminsOnly,
}

/// The pages behind sign-in, by path: the team's pages need a viewer (a demo visitor is
/// one), `/me` a member, `/admin` an admin. Everything else (the landing page, `/login`,
/// server functions, unknown paths) is open here.
fn page_gate(path: &str, viewer: Option<&viewer::Viewer>) -> PageGate {
    let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
    let role = viewer.map(|viewer| viewer.role);
    if under("/admin") {
        match role {
            None | Some(Role::Visitor) => PageGate::SignIn,
            Some(Role::Member) => PageGate::AdminsOnly,
            Some(Role::Admin) => PageGate::Open,
        }
    } else if under("/me") {
        match role {
            None | Some(Role::Visitor) => PageGate::SignIn,
            Some(_) => PageGate::Open,
        }
    } else if (under("/people") || under("/questions")) && role.is_none() {
        PageGate::SignIn
    } else {
        PageGate::Open
    }
}

/// Where to go after signing in: a path of this site, never another site (`//evil.example`
/// or `/\evil.example` would leave it), else the member's own page.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && !path.chars().any(char::is_control) =>
        {
            path.to_owned()
        }
        _ => "/me".to_owned(),
    }
}

/// Back to the sign-in page with a reason it can explain, keeping where the visitor wanted
/// to go.
fn back_to_login(error: &str, next: &str) -> Response {
    let query = serde_urlencoded::to_string([("error", error), ("next", next)]).unwrap_or_default();
    Redirect::to(&format!("/login?{query}")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_behind_sign_in_are_gated_by_role_and_the_rest_are_open() {
        assert_eq!(page_gate("/people/abc", None), PageGate::SignIn);
        assert_eq!(page_gate("/admin/members", None), PageGate::SignIn);
        assert_eq!(page_gate("/me", None), PageGate::SignIn);
        for open in ["/", "/login", "/api/people/list", "/peoplex", "/no/such/page"] {
            assert_eq!(page_gate(open, None), PageGate::Open, "{open}");
        }
    }

    #[test]
    fn only_paths_of_this_site_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/admin/packs?x=1")), "/admin/packs?x=1");
        for unsafe_next in ["//evil.example", "/\\evil.example", "https://evil.example", "evil", "/a\nb", ""] {
            assert_eq!(safe_next(Some(unsafe_next)), "/me", "{unsafe_next:?}");
        }
        assert_eq!(safe_next(None), "/me");
    }
}
