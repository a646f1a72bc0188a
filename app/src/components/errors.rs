//! How errors look: the 404 page, the error page with a reference, and the boundary that
//! turns a failed server function into one of them.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::error::{AppError, set_response_status};

/// Renders `children`, or the page for the first `AppError` they raise.
#[component]
pub fn AppErrorBoundary(children: Children) -> impl IntoView {
    view! {
        <ErrorBoundary fallback=|errors| {
            let first = errors
                .get()
                .into_iter()
                .next()
                .map(|(_, error)| {
                    error
                        .downcast_ref::<AppError>()
                        .cloned()
                        // Only our own errors reach here; anything else is a bug worth a 500.
                        .unwrap_or_else(|| AppError::with_reference("unexpected"))
                });
            first.map(|error| view! { <ErrorView error/> })
        }>{children()}</ErrorBoundary>
    }
}

/// The page shown for an error, with the matching HTTP status during server rendering.
#[component]
pub fn ErrorView(error: AppError) -> impl IntoView {
    set_response_status(error.status());
    match error {
        AppError::NotFound => view! { <NotFoundPage/> }.into_any(),
        AppError::Unauthenticated => view! { <SignInNeeded/> }.into_any(),
        AppError::Internal { reference, .. } => view! {
            <Title text="Something went wrong"/>
            <section class="error-page">
                <h1>"Something went wrong"</h1>
                <p>"We could not load this page. Please try again in a moment."</p>
                <p class="reference">
                    "If it keeps happening, quote this reference: "
                    <code>{reference}</code>
                </p>
            </section>
        }
        .into_any(),
        other => view! {
            <Title text="Not available"/>
            <section class="error-page">
                <h1>"Not available"</h1>
                <p>{other.to_string()}</p>
            </section>
        }
        .into_any(),
    }
}

/// A page that needs a signed-in viewer: the server redirects to `/login`, coming back here
/// afterwards; in the browser (a visitor following a link in the app) it says so.
#[component]
fn SignInNeeded() -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let search = location.search.get_untracked();
    let here = if search.is_empty() {
        location.pathname.get_untracked()
    } else {
        format!("{}?{search}", location.pathname.get_untracked())
    };
    let href = crate::features::auth::types::login_href(&here);
    #[cfg(feature = "ssr")]
    leptos_axum::redirect(&href);
    view! {
        <Title text="Please sign in"/>
        <section class="error-page">
            <h1>"Please sign in"</h1>
            <p>"This page shows your team, so Rapport needs to know who you are."</p>
            <p><a class="button" href=href>"Sign in"</a></p>
        </section>
    }
}

/// The 404 page.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    set_response_status(404);
    view! {
        <Title text="Page not found"/>
        <section class="error-page">
            <h1>"Page not found"</h1>
            <p>"There is nothing here. It may have moved, or the person may have left the team."</p>
            <p><a href="/people">"Back to the people directory"</a></p>
        </section>
    }
}
