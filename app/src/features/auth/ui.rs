//! `/login`: the ways in this Rapport offers. Both are plain links and form posts, so the
//! page works before (and without) the app's script.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{
    api::get_sign_in_options,
    types::{SignInOptions, encode_next, sign_in_error_message},
};
use crate::components::AppErrorBoundary;

/// The sign-in page.
#[component]
pub fn LoginPage() -> impl IntoView {
    let options = Resource::new(|| (), |()| get_sign_in_options());
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_else(|| "/me".to_owned());
    let error = move || query.read().get("error").map(|code| sign_in_error_message(&code));
    view! {
        <Title text="Sign in"/>
        <section class="sign-in">
            <h1>"Sign in to Rapport"</h1>
            {move || error().map(|message| view! { <p class="form-error" role="alert">{message}</p> })}
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                <AppErrorBoundary>
                    {move || Suspend::new(async move {
                        options.await.map(|options| view! { <SignInChoices options next=next()/> })
                    })}
                </AppErrorBoundary>
            </Suspense>
        </section>
    }
}

/// The ways in, for `options`, each coming back to `next`.
#[component]
fn SignInChoices(options: SignInOptions, next: String) -> impl IntoView {
    let slack_href = format!("/login/slack?next={}", encode_next(&next));
    view! {
        {options.slack.then(|| view! {
            <p><a class="button" href=slack_href rel="external">"Sign in with Slack"</a></p>
        })}
        <p class="sign-in-hint">
            "In Slack, type " <code>"/rapport login"</code>
            " or press “Open the dashboard” on Rapport’s Home tab: you get a link that signs you in."
        </p>
        {options.password.then(|| view! {
            <form class="sign-in-form" method="post" action="/login/password">
                <h2>"Admin account"</h2>
                <input type="hidden" name="next" value=next/>
                <label for="email">"Email"</label>
                <input id="email" name="email" type="email" autocomplete="username" required/>
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required/>
                <button class="button" type="submit">"Sign in"</button>
            </form>
        })}
    }
}
