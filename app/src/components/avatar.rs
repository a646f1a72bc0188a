//! A member's round avatar picture.

use leptos::prelude::*;

/// A member's avatar; `size` is a CSS class: `small`, `medium` or `large`.
#[component]
pub fn Avatar(url: String, name: String, #[prop(default = "medium")] size: &'static str) -> impl IntoView {
    // The name is beside every avatar already, so the picture itself is decorative.
    view! { <img class=format!("avatar avatar-{size}") src=url alt="" aria-hidden="true" title=name loading="lazy"/> }
}
