//! The question list (`/questions`) and one question's answers (`/questions/:id`).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_params_map};

use super::{
    api::{get_question, list_questions},
    types::{QuestionDetail, QuestionSummary},
};
use crate::components::{AnsweredOn, AppErrorBoundary, Avatar};

/// `/questions`: every question, grouped by pack, with how many people answered.
#[component]
pub fn QuestionsPage() -> impl IntoView {
    let questions = Resource::new(|| (), |_| list_questions());
    view! {
        <Title text="Questions"/>
        <div class="page-heading"><h1>"Questions"</h1></div>
        <Suspense fallback=|| view! { <p class="loading">"Loading questions…"</p> }>
            <AppErrorBoundary>
                {move || Suspend::new(async move {
                    questions.await.map(|questions| view! { <QuestionList questions/> })
                })}
            </AppErrorBoundary>
        </Suspense>
    }
}

/// The questions by pack: packs with answers first; in each, the answered questions, then
/// the ones nobody answered yet folded away (240 built-in questions would otherwise make one
/// endless list).
#[component]
fn QuestionList(questions: Vec<QuestionSummary>) -> impl IntoView {
    if questions.is_empty() {
        return view! { <p class="empty">"No questions yet."</p> }.into_any();
    }
    by_pack_answered_first(questions)
        .into_iter()
        .map(|PackQuestions { pack, answered, waiting }| {
            let waiting_count = waiting.len();
            view! {
                <section class="pack">
                    <h2 class="section-title">{pack}</h2>
                    <ul class="question-list">
                        {answered.into_iter().map(|q| view! { <QuestionRow question=q/> }).collect_view()}
                    </ul>
                    {(waiting_count > 0).then(|| view! {
                        <details class="waiting-questions">
                            <summary>
                                {if waiting_count == 1 {
                                    "1 question nobody has answered yet".to_owned()
                                } else {
                                    format!("{waiting_count} questions nobody has answered yet")
                                }}
                            </summary>
                            <ul class="question-list">
                                {waiting.into_iter().map(|q| view! { <QuestionRow question=q/> }).collect_view()}
                            </ul>
                        </details>
                    })}
                </section>
            }
        })
        .collect_view()
        .into_any()
}

/// One pack's questions, split into answered and not yet.
struct PackQuestions {
    pack: String,
    answered: Vec<QuestionSummary>,
    waiting: Vec<QuestionSummary>,
}

/// Groups by pack (the list arrives ordered by pack), answered questions first in each, and
/// the packs with the most answered questions first.
fn by_pack_answered_first(questions: Vec<QuestionSummary>) -> Vec<PackQuestions> {
    let mut packs: Vec<PackQuestions> = group_by_pack(questions)
        .into_iter()
        .map(|(pack, questions)| {
            let (answered, waiting) = questions.into_iter().partition(|q| q.answer_count > 0);
            PackQuestions { pack, answered, waiting }
        })
        .collect();
    // Stable: packs with as many answered questions keep their order.
    packs.sort_by_key(|pack| std::cmp::Reverse(pack.answered.len()));
    packs
}

#[component]
fn QuestionRow(question: QuestionSummary) -> impl IntoView {
    let count = match question.answer_count {
        0 => "no answers yet".to_owned(),
        1 => "1 answer".to_owned(),
        n => format!("{n} answers"),
    };
    view! {
        <li class="question-row">
            <A href=format!("/questions/{}", question.id) attr:class="question-link">{question.text}</A>
            <span class="question-count">{count}</span>
        </li>
    }
}

/// Groups consecutive questions of the same pack (the list arrives ordered by pack).
fn group_by_pack(questions: Vec<QuestionSummary>) -> Vec<(String, Vec<QuestionSummary>)> {
    let mut groups: Vec<(String, Vec<QuestionSummary>)> = Vec::new();
    for question in questions {
        match groups.last_mut() {
            Some((pack, members)) if *pack == question.pack => members.push(question),
            _ => groups.push((question.pack.clone(), vec![question])),
        }
    }
    groups
}

/// `/questions/:id`: one question and everyone's team-visible answers.
#[component]
pub fn QuestionPage() -> impl IntoView {
    let params = use_params_map();
    let question = Resource::new(move || params.read().get("id").unwrap_or_default(), get_question);
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            <AppErrorBoundary>
                {move || Suspend::new(async move {
                    question.await.map(|question| view! { <QuestionView question/> })
                })}
            </AppErrorBoundary>
        </Suspense>
    }
}

#[component]
fn QuestionView(question: QuestionDetail) -> impl IntoView {
    let QuestionDetail { text, pack, answers, .. } = question;
    let empty = answers.is_empty();
    view! {
        <Title text=text.clone()/>
        <p class="pack-label">{pack}</p>
        <h1 class="question-heading">{text}</h1>
        <Show when=move || empty>
            <p class="empty">"Nobody has shared an answer to this one yet."</p>
        </Show>
        <ul class="answers">
            {answers
                .into_iter()
                .map(|answer| view! {
                    <li class="answer answer-with-person">
                        <A href=format!("/people/{}", answer.member_id) attr:class="answer-person">
                            <Avatar url=answer.avatar_url name=answer.name.clone() size="small"/>
                            <span class="person-name">{answer.name}</span>
                            <span class="person-title">{answer.title}</span>
                        </A>
                        <p class="answer-text">{answer.text}</p>
                        <AnsweredOn ms=answer.answered_at_ms/>
                    </li>
                })
                .collect_view()}
        </ul>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::QuestionId;

    fn question(id: &str, pack: &str) -> QuestionSummary {
        answered(id, pack, 0)
    }

    fn answered(id: &str, pack: &str, answer_count: i64) -> QuestionSummary {
        QuestionSummary { id: QuestionId::parse(id).unwrap(), text: id.into(), pack: pack.into(), answer_count }
    }

    fn texts(questions: &[QuestionSummary]) -> Vec<&str> {
        questions.iter().map(|q| q.text.as_str()).collect()
    }

    #[test]
    fn answered_questions_come_first_and_packs_with_answers_lead() {
        let packs = by_pack_answered_first(vec![
            answered("a", "Food", 0),
            answered("b", "Food", 0),
            answered("c", "Travel", 0),
            answered("d", "Travel", 3),
        ]);
        let shape: Vec<(&str, Vec<&str>, Vec<&str>)> =
            packs.iter().map(|p| (p.pack.as_str(), texts(&p.answered), texts(&p.waiting))).collect();
        assert_eq!(shape, vec![("Travel", vec!["d"], vec!["c"]), ("Food", vec![], vec!["a", "b"])]);
    }

    #[test]
    fn questions_are_grouped_under_their_pack_in_order() {
        let groups = group_by_pack(vec![question("a", "Food"), question("b", "Food"), question("c", "Travel")]);
        let shape: Vec<(&str, usize)> = groups.iter().map(|(p, qs)| (p.as_str(), qs.len())).collect();
        assert_eq!(shape, vec![("Food", 2), ("Travel", 1)]);
    }
}
