//! The header on every page, and the admin area's links.

use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_location};

use crate::features::auth::{api::who_is_signed_in, types::login_href};

/// The site header: the name, the main sections, and who is signed in.
#[component]
pub fn SiteHeader() -> impl IntoView {
    view! {
        <header class="site-header">
            <a class="brand" href="/">
                <span class="brand-mark" aria-hidden="true">"R"</span>
                "Rapport"
            </a>
            <nav class="site-nav" aria-label="Main">
                <A href="/people">"People"</A>
                <A href="/questions">"Questions"</A>
                <Account/>
            </nav>
        </header>
    }
}

/// "Sign in", or the signed-in person's links and "Sign out" (a form post, so it works
/// before the script runs).
#[component]
fn Account() -> impl IntoView {
    let me = Resource::new(|| (), |()| who_is_signed_in());
    let location = use_location();
    view! {
        <Transition>
            {move || Suspend::new(async move {
                match me.await.ok().flatten() {
                    None => {
                        let here = location.pathname.get();
                        let next = if here == "/login" { "/me".to_owned() } else { here };
                        view! { <a href=login_href(&next)>"Sign in"</a> }.into_any()
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
            })}
        </Transition>
    }
}

/// Links between the admin pages.
#[component]
pub fn AdminNav() -> impl IntoView {
    view! {
        <nav class="admin-nav" aria-label="Admin">
            <A href="/admin">"Checklist"</A>
            <A href="/admin/sharing">"Sharing"</A>
            <A href="/admin/schedule">"Schedule"</A>
            <A href="/admin/packs">"Packs"</A>
            <A href="/admin/members">"Members"</A>
            <A href="/admin/data">"Data"</A>
        </nav>
    }
}
