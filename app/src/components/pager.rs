//! Previous and Next links between the pages of a list.

use leptos::prelude::*;

/// "← Previous · Page N · Next →", as plain links so they work before the script runs;
/// nothing when there is one page. `label` names the list for screen readers ("Pages of
/// answers"); `previous` and `next` are the neighbouring pages' addresses, if any.
#[component]
pub fn Pager(label: &'static str, page: u32, previous: Option<String>, next: Option<String>) -> impl IntoView {
    (previous.is_some() || next.is_some()).then(|| {
        view! {
            <nav class="pager" aria-label=label>
                {previous.map(|href| view! { <a href=href rel="prev">"← Previous"</a> })}
                <span class="pager-page">{format!("Page {page}")}</span>
                {next.map(|href| view! { <a href=href rel="next">"Next →"</a> })}
            </nav>
        }
    })
}
