//! The header on every page, and the admin area's links.

use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_location};

use crate::features::{
    auth::types::{SignedInAs, login_href},
    billing::ui::BillingBanner,
};

/// The site header: the name, the main sections, and who is signed in; under it, for admins,
/// billing's banner when questions stopped. Who is signed in was resolved with the request,
/// so the server renders it at once and hands the same value to the browser: no extra round
/// trip, and no second `<Suspense>` on every page.
#[component]
pub fn SiteHeader() -> impl IntoView {
    let me = SharedValue::new(signed_in_as_on_server).into_inner();
    let notice = me.as_ref().and_then(|me| me.billing_notice);
    view! {
        <header class="site-header">
            <a class="brand" href="/">
                <span class="brand-mark" aria-hidden="true">"R"</span>
                "Rapport"
            </a>
            // A plain GET form (Enter submits it): it works before the script runs.
            <form class="site-search" method="get" action="/search" role="search" aria-label="Search the team">
                <label class="visually-hidden" for="site-search-q">"Search people, questions and answers"</label>
                <input id="site-search-q" type="search" name="q" placeholder="Search" autocomplete="off"/>
            </form>
            <nav class="site-nav" aria-label="Main">
                <A href="/people">"People"</A>
                <A href="/questions">"Questions"</A>
                <Account me/>
            </nav>
        </header>
        <BillingBanner notice/>
    }
}

/// "Sign in", or the signed-in person's links and "Sign out" (a form post, so it works
/// before the script runs).
#[component]
fn Account(me: Option<SignedInAs>) -> impl IntoView {
    let location = use_location();
    match me {
        None => {
            let href = move || {
                let here = location.pathname.get();
                login_href(if here == "/login" { "/me" } else { &here })
            };
            view! { <a href=href>"Sign in"</a> }.into_any()
        }
        Some(me) => view! {
            {me.member.then(|| view! { <A href="/me">"Me"</A> })}
            {me.admin.then(|| view! { <A href="/admin">"Admin"</A> })}
            <form class="sign-out" method="post" action="/logout">
                <button type="submit" class="link-button" title=format!("Signed in as {}", me.name)>
                    "Sign out"
                </button>
            </form>
        }
        .into_any(),
    }
}

/// Who is signed in, on the server; the browser gets the server's answer instead.
fn signed_in_as_on_server() -> Option<SignedInAs> {
    #[cfg(feature = "ssr")]
    {
        crate::server::ctx::signed_in_as()
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// Whether billing is on, on the server; the browser gets the server's answer instead.
fn billing_on_on_server() -> bool {
    #[cfg(feature = "ssr")]
    {
        crate::server::ctx::state().is_ok_and(|state| state.stripe.is_some())
    }
    #[cfg(not(feature = "ssr"))]
    {
        false
    }
}

/// Links between the admin pages (Billing only where billing is on).
#[component]
pub fn AdminNav() -> impl IntoView {
    let billing_on = SharedValue::new(billing_on_on_server).into_inner();
    view! {
        <nav class="admin-nav" aria-label="Admin">
            // Exact: the checklist is not "current" on every page under /admin.
            <A href="/admin" exact=true>"Checklist"</A>
            <A href="/admin/sharing">"Sharing"</A>
            <A href="/admin/schedule">"Schedule"</A>
            <A href="/admin/packs">"Packs"</A>
            <A href="/admin/members">"Members"</A>
            <A href="/admin/insights">"Insights"</A>
            <A href="/admin/data">"Data"</A>
            {billing_on.then(|| view! { <A href="/admin/billing">"Billing"</A> })}
        </nav>
    }
}
