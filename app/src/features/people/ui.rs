//! The directory page (`/people`) and the profile page (`/people/:id`).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_params_map};

use super::{
    api::{get_in_common, get_person, list_people},
    types::{InCommon, PersonSummary, Profile},
};
use crate::components::{AnsweredOn, AppErrorBoundary, Avatar};

/// `/people`: everyone in the team, with a filter that narrows the list as you type.
#[component]
pub fn PeoplePage() -> impl IntoView {
    let people = Resource::new(|| (), |_| list_people());
    let filter = RwSignal::new(String::new());
    view! {
        <Title text="People"/>
        <div class="page-heading">
            <h1>"People"</h1>
            <input
                class="filter"
                type="search"
                placeholder="Filter by name or title"
                aria-label="Filter people by name or title"
                autocomplete="off"
                bind:value=filter
            />
        </div>
        <Suspense fallback=|| view! { <p class="loading">"Loading the team…"</p> }>
            <AppErrorBoundary>
                {move || Suspend::new(async move {
                    people.await.map(|people| view! { <Directory people filter/> })
                })}
            </AppErrorBoundary>
        </Suspense>
    }
}

/// The list of people cards, narrowed by `filter`.
#[component]
fn Directory(people: Vec<PersonSummary>, filter: RwSignal<String>) -> impl IntoView {
    let total = people.len();
    let people = StoredValue::new(people);
    let visible = Memo::new(move |_| {
        let filter = filter.get();
        people.with_value(|all| all.iter().filter(|p| p.matches(&filter)).cloned().collect::<Vec<_>>())
    });
    let shown = move || visible.with(Vec::len);
    view! {
        <p class="count" aria-live="polite">
            {move || match (shown(), total) {
                (shown, total) if shown == total => format!("{total} people"),
                (shown, total) => format!("{shown} of {total} people"),
            }}
        </p>
        <ul class="people-grid">
            <For each=move || visible.get() key=|person| person.id.clone() let:person>
                <PersonCard person/>
            </For>
        </ul>
        <Show when=move || { shown() == 0 && total != 0 }>
            <p class="empty">"No one matches that filter."</p>
        </Show>
        <Show when=move || total == 0>
            <p class="empty">"Nobody is here yet. Members appear once Rapport is installed in Slack."</p>
        </Show>
    }
}

#[component]
fn PersonCard(person: PersonSummary) -> impl IntoView {
    let href = format!("/people/{}", person.id);
    let answers = match person.answer_count {
        1 => "1 answer".to_owned(),
        n => format!("{n} answers"),
    };
    view! {
        <li class="person-card">
            <A href=href attr:class="person-link">
                <Avatar url=person.avatar_url name=person.name.clone()/>
                <span class="person-text">
                    <span class="person-name">{person.name}</span>
                    <span class="person-title">{person.title}</span>
                    <span class="person-count">{answers}</span>
                </span>
            </A>
            {person.latest.map(|latest| view! {
                <blockquote class="latest">
                    <p class="latest-question">{latest.question}</p>
                    <p class="latest-text">{latest.text}</p>
                </blockquote>
            })}
        </li>
    }
}

/// `/people/:id`: one member and their team-visible answers, newest first; for a signed-in
/// member looking at someone else, what the two have in common.
#[component]
pub fn ProfilePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let profile = Resource::new(id, get_person);
    let in_common = Resource::new(id, get_in_common);
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            <AppErrorBoundary>
                {move || Suspend::new(async move {
                    profile.await.map(|profile| view! { <ProfileView profile/> })
                })}
            </AppErrorBoundary>
        </Suspense>
        <Suspense>
            {move || Suspend::new(async move {
                // A failure here leaves the profile as it is: the section is an extra.
                in_common.await.ok().flatten().map(|in_common| view! { <InCommonSection in_common/> })
            })}
        </Suspense>
    }
}

/// "Things in common": the questions both answered, most alike first, side by side.
#[component]
fn InCommonSection(in_common: InCommon) -> impl IntoView {
    let InCommon { name, pairs, both_said } = in_common;
    let summary = match pairs.len() {
        0 => format!("You and {name} have not answered the same question yet."),
        1 => format!("You and {name} both answered 1 question."),
        n => format!("You and {name} both answered {n} questions."),
    };
    let said = (!both_said.is_empty()).then(|| {
        let words = both_said.into_iter().map(|word| view! { <strong>{word}</strong> " " }).collect_view();
        view! { <p class="both-said">"You both mentioned: " {words}</p> }
    });
    let theirs_label = name.clone();
    view! {
        <section class="in-common" aria-labelledby="in-common-heading">
            <h2 id="in-common-heading" class="section-title">"Things in common"</h2>
            {said}
            <p>{summary}</p>
            <ol class="common-pairs">
                {pairs
                    .into_iter()
                    .map(|pair| {
                        let theirs_label = theirs_label.clone();
                        view! {
                            <li class="common-pair">
                                <A href=format!("/questions/{}", pair.question_id) attr:class="answer-question">
                                    {pair.question}
                                </A>
                                <div class="side-by-side">
                                    <blockquote>
                                        <p class="who">"You"</p>
                                        <p>{pair.mine}</p>
                                    </blockquote>
                                    <blockquote>
                                        <p class="who">{theirs_label}</p>
                                        <p>{pair.theirs}</p>
                                    </blockquote>
                                </div>
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        </section>
    }
}

#[component]
fn ProfileView(profile: Profile) -> impl IntoView {
    let Profile { name, title, avatar_url, time_zone, answers, .. } = profile;
    let empty = answers.is_empty();
    view! {
        <Title text=name.clone()/>
        <section class="profile-header">
            <Avatar url=avatar_url name=name.clone() size="large"/>
            <div>
                <h1>{name.clone()}</h1>
                <p class="person-title">{title}</p>
                {time_zone.map(|zone| view! { <p class="time-zone">{zone.replace('_', " ")}</p> })}
            </div>
        </section>
        <h2 class="section-title">"Answers"</h2>
        <Show when=move || empty>
            <p class="empty">{format!("{name} has not shared an answer yet.")}</p>
        </Show>
        <ol class="answers">
            {answers
                .into_iter()
                .map(|answer| view! {
                    <li class="answer">
                        <A href=format!("/questions/{}", answer.question_id) attr:class="answer-question">
                            {answer.question}
                        </A>
                        <p class="answer-text">{answer.text}</p>
                        <AnsweredOn ms=answer.answered_at_ms/>
                    </li>
                })
                .collect_view()}
        </ol>
    }
}
