//! `/`: what Rapport is, and where to go next.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::api::emulator_page;

/// The landing page.
#[component]
pub fn HomePage() -> impl IntoView {
    let emulator = Resource::new(|| (), |()| emulator_page());
    view! {
        <Title text="Get to know your coworkers"/>
        <section class="hero">
            <h1>"Get to know your coworkers, one question at a time."</h1>
            <p>
                "Now and then Rapport asks each member of your Slack workspace a light, personal "
                "question. Answers are shared with the team, and this dashboard keeps them, so "
                "you can learn who likes hiking, who bakes bread, and who has the best playlist."
            </p>
            <div class="hero-actions">
                <A href="/people" attr:class="button">"Meet the team"</A>
                <A href="/questions" attr:class="button button-secondary">"Browse questions"</A>
            </div>
            <Suspense>
                {move || {
                    emulator
                        .get()
                        .and_then(Result::ok)
                        .flatten()
                        .map(|page| {
                            view! {
                                <p class="try-it">
                                    "No Slack needed to look around: "
                                    // A page of the server, not of the app's router.
                                    <a href=page rel="external">"try it as a member in the Slack emulator"</a>
                                    ", get a question and answer it."
                                </p>
                            }
                        })
                }}
            </Suspense>
            <p class="privacy">
                "Private by design: an answer marked “only me” is never shown to anyone else."
            </p>
        </section>
    }
}
