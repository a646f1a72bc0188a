//! The directory page (`/people`) and the profile page (`/people/:id`).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::A,
    hooks::{use_params_map, use_query_map},
};

use super::{
    api::{get_person, list_people},
    types::{Directory, InCommon, PersonPage, PersonSummary, Profile, directory_href},
};
use crate::components::{AnsweredOn, AppErrorBoundary, Avatar, Pager, QueryBox, use_query_box};

/// `/people?q=…&page=…`: the team by name, a page at a time, with a filter by name or title.
/// Before the script runs the filter is a plain GET form and the pages plain links; once it
/// runs, the list follows the filter as you type (the address follows too, without a reload).
#[component]
pub fn PeoplePage() -> impl IntoView {
    let query = use_query_map();
    let q = move || query.read().get("q").unwrap_or_default();
    let page = move || query.read().get("page").and_then(|page| page.parse::<u32>().ok());
    let directory = Resource::new(move || (q(), page()), |(q, page)| list_people(Some(q), page));

    let QueryBox { initial, typed, on_input, on_submit } = use_query_box(directory_href);

    view! {
        <Title text="People"/>
        <div class="page-heading">
            <h1>"People"</h1>
            <form class="directory-filter" method="get" action="/people" role="search" aria-label="Filter people" on:submit=on_submit>
                <input
                    class="filter"
                    type="search"
                    name="q"
                    placeholder="Filter by name or title"
                    aria-label="Filter people by name or title"
                    autocomplete="off"
                    value=initial
                    prop:value=move || typed.get()
                    on:input=on_input
                />
            </form>
        </div>
        // A transition: while the next page or filter loads, the last list stays.
        <Transition fallback=|| view! { <p class="loading">"Loading the team…"</p> }>
            <AppErrorBoundary>
                {move || Suspend::new(async move {
                    directory.await.map(|directory| view! { <DirectoryList directory/> })
                })}
            </AppErrorBoundary>
        </Transition>
    }
}

/// One page of people cards, the count, and the links to the other pages.
#[component]
fn DirectoryList(directory: Directory) -> impl IntoView {
    let Directory { people, matching, everyone, page, has_next_page, filter } = directory;
    let count = match filter.is_empty() {
        true => format!("{everyone} people"),
        false => format!("{matching} of {everyone} people"),
    };
    let empty = match (people.is_empty(), everyone, page) {
        (false, _, _) => None,
        (true, 0, _) => Some("Nobody is here yet. Members appear once Rapport is installed in Slack."),
        (true, _, 1) if !filter.is_empty() => Some("No one matches that filter."),
        (true, _, _) => Some("No more people past this page."),
    };
    let previous = (page > 1).then(|| directory_href(&filter, page - 1));
    let next = has_next_page.then(|| directory_href(&filter, page + 1));
    view! {
        <p class="count" aria-live="polite">{count}</p>
        <ul class="people-grid">
            {people.into_iter().map(|person| view! { <PersonCard person/> }).collect_view()}
        </ul>
        {empty.map(|message| view! { <p class="empty">{message}</p> })}
        {(empty.is_some() && page > 1).then(|| view! { <p><a href=directory_href(&filter, 1)>"Back to the first page"</a></p> })}
        <Pager label="Pages of people" page previous next/>
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
    let person = Resource::new(id, get_person);
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            <AppErrorBoundary>
                {move || Suspend::new(async move {
                    person.await.map(|PersonPage { profile, in_common }| view! {
                        <ProfileView profile/>
                        {in_common.map(|in_common| view! { <InCommonSection in_common/> })}
                    })
                })}
            </AppErrorBoundary>
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
