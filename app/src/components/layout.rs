//! The header on every page.

use leptos::prelude::*;
use leptos_router::components::A;

/// The site header: the name and the main sections.
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
            </nav>
        </header>
    }
}
