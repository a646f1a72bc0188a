//! `/search?q=…&page=…`: the people, questions and team-visible answers that hold the words
//! typed. Before the script runs the page is a plain GET form and links; once it runs, the
//! results follow the page's own box as you type (the address follows too, so a result can be
//! shared or reloaded).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use super::{
    api::search,
    types::{AnswerHit, PersonHit, QuestionHit, SearchResults, Segment, plain_text, search_href},
};
use crate::components::{AnsweredOn, AppErrorBoundary, Avatar, Pager, QueryBox, use_query_box};

/// `/search`: a search box and the results for the address's `q` and `page`.
#[component]
pub fn SearchPage() -> impl IntoView {
    let query = use_query_map();
    let q = move || query.read().get("q").unwrap_or_default();
    let page = move || query.read().get("page").and_then(|page| page.parse::<u32>().ok()).unwrap_or(1);
    let results = Resource::new(move || (q(), page()), |(q, page)| search(q, page));

    let QueryBox { initial, typed, on_input, on_submit } = use_query_box(search_href);

    view! {
        <Title text="Search"/>
        <div class="page-heading">
            <h1>"Search"</h1>
            <form class="search-form" method="get" action="/search" role="search" aria-label="Search on this page" on:submit=on_submit>
                <label class="visually-hidden" for="search-page-q">"Search people, questions and answers"</label>
                <input
                    id="search-page-q"
                    class="filter"
                    type="search"
                    name="q"
                    placeholder="Names, titles, questions, answers"
                    autocomplete="off"
                    value=initial
                    prop:value=move || typed.get()
                    on:input=on_input
                />
                <button class="button" type="submit">"Search"</button>
            </form>
        </div>
        // A transition, not a suspense: while the next results load, the last ones stay.
        <Transition fallback=|| view! { <p class="loading">"Searching…"</p> }>
            <AppErrorBoundary>
                {move || Suspend::new(async move { results.await.map(|results| view! { <Results results/> }) })}
            </AppErrorBoundary>
        </Transition>
    }
}

/// What a search found: an invitation when nothing was typed, "nothing matches", or the
/// three groups and the answers' pages.
#[component]
fn Results(results: SearchResults) -> impl IntoView {
    if results.words.is_empty() {
        return view! {
            <p class="empty" role="status">"Type a name, a job title, or a few words from a question or an answer."</p>
        }
        .into_any();
    }
    let searched = results.words.join(" ");
    if results.is_empty() {
        let first_page = (results.page > 1).then(|| search_href(&searched, 1));
        let message = match first_page {
            Some(_) => format!("No more answers for “{searched}”."),
            None => format!("Nothing matches “{searched}”. Try fewer words, or another spelling."),
        };
        return view! {
            <p class="empty" role="status">{message}</p>
            {first_page.map(|href| view! { <p><a href=href>"Back to the first page"</a></p> })}
        }
        .into_any();
    }
    let SearchResults { people, questions, answers, page, has_next_page, .. } = results;
    let status = format!("Results for “{searched}”");
    view! {
        <p class="visually-hidden" role="status">{status}</p>
        {(!people.is_empty()).then(|| view! {
            <section class="search-group" aria-labelledby="search-people">
                <h2 id="search-people" class="section-title">"People"</h2>
                <ul class="search-people">
                    {people.into_iter().map(|person| view! { <PersonResult person/> }).collect_view()}
                </ul>
            </section>
        })}
        {(!questions.is_empty()).then(|| view! {
            <section class="search-group" aria-labelledby="search-questions">
                <h2 id="search-questions" class="section-title">"Questions"</h2>
                <ul class="question-list">
                    {questions.into_iter().map(|question| view! { <QuestionResult question/> }).collect_view()}
                </ul>
            </section>
        })}
        {(!answers.is_empty()).then(|| view! {
            <section class="search-group" aria-labelledby="search-answers">
                <h2 id="search-answers" class="section-title">"Answers"</h2>
                <ol class="answers">
                    {answers.into_iter().map(|answer| view! { <AnswerResult answer/> }).collect_view()}
                </ol>
            </section>
        })}
        <Pager
            label="Pages of answers"
            page
            previous=(page > 1).then(|| search_href(&searched, page - 1))
            next=has_next_page.then(|| search_href(&searched, page + 1))
        />
    }
    .into_any()
}

/// Text with its matched words in `<mark>`. Every piece is rendered as text, escaped like any
/// other: what an answer says can never become markup.
#[component]
fn Marked(segments: Vec<Segment>) -> impl IntoView {
    segments.into_iter().map(segment_view).collect_view()
}

fn segment_view(segment: Segment) -> AnyView {
    match segment.hit {
        true => view! { <mark>{segment.text}</mark> }.into_any(),
        false => segment.text.into_any(),
    }
}

#[component]
fn PersonResult(person: PersonHit) -> impl IntoView {
    let name = plain_text(&person.name);
    view! {
        <li class="search-person">
            <A href=format!("/people/{}", person.id) attr:class="person-link">
                <Avatar url=person.avatar_url name size="small"/>
                <span class="person-text">
                    <span class="person-name"><Marked segments=person.name/></span>
                    <span class="person-title"><Marked segments=person.title/></span>
                </span>
            </A>
        </li>
    }
}

#[component]
fn QuestionResult(question: QuestionHit) -> impl IntoView {
    view! {
        <li class="question-row">
            <A href=format!("/questions/{}", question.id) attr:class="question-link">
                <Marked segments=question.text/>
            </A>
            <span class="question-count">{question.pack}</span>
        </li>
    }
}

#[component]
fn AnswerResult(answer: AnswerHit) -> impl IntoView {
    view! {
        <li class="answer search-answer">
            <A href=format!("/questions/{}", answer.question_id) attr:class="answer-question">{answer.question}</A>
            <p class="answer-text"><Marked segments=answer.snippet/></p>
            <p class="search-answer-by">
                <A href=format!("/people/{}", answer.member_id)>{answer.member_name}</A>
                " · "
                <AnsweredOn ms=answer.answered_at_ms/>
            </p>
        </li>
    }
}
