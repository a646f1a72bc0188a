//! `/me`: my answers (who sees each, edit, withdraw) and my settings (pause, opt out,
//! export, forget me). Every form works before the script runs.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{
    api::{
        EditAnswer, ForgetMe, PauseQuestions, ResumeQuestions, SetAnswerVisibility, SetOptedOut, WithdrawAnswer,
        get_my_page,
    },
    types::{FORGET_CONFIRMATION, MyAnswer, MyPage, Pause},
};
use crate::{
    components::{AnsweredOn, AppErrorBoundary, format_date},
    error::AppError,
    features::answers::types::Visibility,
};

/// Every action of the page; each one done reloads what the page shows.
#[derive(Clone, Copy)]
struct Actions {
    visibility: ServerAction<SetAnswerVisibility>,
    edit: ServerAction<EditAnswer>,
    withdraw: ServerAction<WithdrawAnswer>,
    pause: ServerAction<PauseQuestions>,
    resume: ServerAction<ResumeQuestions>,
    opt_out: ServerAction<SetOptedOut>,
    forget: ServerAction<ForgetMe>,
}

impl Actions {
    fn new() -> Actions {
        Actions {
            visibility: ServerAction::new(),
            edit: ServerAction::new(),
            withdraw: ServerAction::new(),
            pause: ServerAction::new(),
            resume: ServerAction::new(),
            opt_out: ServerAction::new(),
            forget: ServerAction::new(),
        }
    }

    /// Changes whenever any action finished.
    fn version(self) -> usize {
        [
            self.visibility.version().get(),
            self.edit.version().get(),
            self.withdraw.version().get(),
            self.pause.version().get(),
            self.resume.version().get(),
            self.opt_out.version().get(),
            self.forget.version().get(),
        ]
        .iter()
        .sum()
    }

    /// The last failure of any action, to show above the page.
    fn error(self) -> Option<AppError> {
        let failed = |value: Option<Result<(), AppError>>| value.and_then(Result::err);
        failed(self.visibility.value().get())
            .or_else(|| failed(self.edit.value().get()))
            .or_else(|| failed(self.withdraw.value().get()))
            .or_else(|| failed(self.pause.value().get()))
            .or_else(|| failed(self.resume.value().get()))
            .or_else(|| failed(self.opt_out.value().get()))
            .or_else(|| failed(self.forget.value().get()))
    }
}

/// The page.
#[component]
pub fn MePage() -> impl IntoView {
    let actions = Actions::new();
    let page = Resource::new(move || actions.version(), |_| get_my_page());
    view! {
        <Title text="Me"/>
        {move || actions.error().map(|error| view! { <p class="form-error" role="alert">{error.to_string()}</p> })}
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            <AppErrorBoundary>
                {move || Suspend::new(async move { page.await.map(|page| view! { <Me page actions/> }) })}
            </AppErrorBoundary>
        </Suspense>
    }
}

#[component]
fn Me(page: MyPage, actions: Actions) -> impl IntoView {
    let MyPage { member_id, name, pause, opted_out, answers } = page;
    let empty = answers.is_empty();
    view! {
        <div class="page-heading">
            <h1>{name}</h1>
            <a href=format!("/people/{member_id}")>"See my profile as the team does"</a>
        </div>
        <Settings pause opted_out actions/>
        <h2>"My answers"</h2>
        {empty.then(|| view! { <p class="empty">"You have not answered a question yet."</p> })}
        <ul class="answers my-answers">
            {answers.into_iter().map(|answer| view! { <AnswerItem answer actions/> }).collect_view()}
        </ul>
        <MyData actions/>
    }
}

/// Pause, resume, opt out or back in.
#[component]
fn Settings(pause: Pause, opted_out: bool, actions: Actions) -> impl IntoView {
    let state = match (opted_out, pause) {
        (true, _) => "You are opted out: Rapport asks you nothing.".to_owned(),
        (false, Pause::Off) => "You get a question now and then.".to_owned(),
        (false, Pause::Until(until)) => format!("Your questions are paused until {}.", format_date(until)),
        (false, Pause::Indefinitely) => "Your questions are paused until you resume them.".to_owned(),
    };
    view! {
        <section class="settings" aria-labelledby="settings-heading">
            <h2 id="settings-heading">"Questions"</h2>
            <p>{state}</p>
            {match pause {
                Pause::Off => view! {
                    <ActionForm action=actions.pause>
                        <label for="until">"Pause until (leave empty to pause until you resume)"</label>
                        <input id="until" name="until" type="date"/>
                        <button type="submit" class="button button-secondary">"Pause"</button>
                    </ActionForm>
                }
                .into_any(),
                Pause::Until(_) | Pause::Indefinitely => view! {
                    <ActionForm action=actions.resume>
                        <button type="submit" class="button">"Resume"</button>
                    </ActionForm>
                }
                .into_any(),
            }}
            <ActionForm action=actions.opt_out>
                <input type="hidden" name="opted_out" value=(!opted_out).to_string()/>
                <button type="submit" class="button button-secondary">
                    {if opted_out { "Opt back in" } else { "Opt out of questions" }}
                </button>
            </ActionForm>
        </section>
    }
}

/// One answer: who may see it, edit, withdraw.
#[component]
fn AnswerItem(answer: MyAnswer, actions: Actions) -> impl IntoView {
    let MyAnswer { id, question, text, visibility, answered_at_ms } = answer;
    let (label, other, other_label) = match visibility {
        Visibility::Team => ("Shared with the team", "only_me", "Make it only mine"),
        Visibility::OnlyMe => ("Only me", "team", "Share with the team"),
    };
    let field = format!("answer-{id}");
    let (for_visibility, for_withdraw) = (id.clone(), id.clone());
    view! {
        <li class="answer">
            <p class="answer-question">{question}</p>
            <p class="answer-text">{text.clone()}</p>
            <p class="answer-meta">
                <span class="visibility">{label}</span> " · " <AnsweredOn ms=answered_at_ms/>
            </p>
            <div class="answer-actions">
                <ActionForm action=actions.visibility>
                    <input type="hidden" name="answer_id" value=for_visibility/>
                    <input type="hidden" name="visibility" value=other/>
                    <button type="submit" class="link-button">{other_label}</button>
                </ActionForm>
                <ActionForm action=actions.withdraw>
                    <input type="hidden" name="answer_id" value=for_withdraw/>
                    <button type="submit" class="link-button">"Withdraw"</button>
                </ActionForm>
            </div>
            <details>
                <summary>"Edit"</summary>
                <ActionForm action=actions.edit>
                    <input type="hidden" name="answer_id" value=id/>
                    <label for=field.clone()>"Answer"</label>
                    <textarea id=field name="text" rows="3" maxlength="3000" required>{text}</textarea>
                    <button type="submit" class="button">"Save"</button>
                </ActionForm>
            </details>
        </li>
    }
}

/// Export my data; forget me.
#[component]
fn MyData(actions: Actions) -> impl IntoView {
    view! {
        <section class="my-data" aria-labelledby="data-heading">
            <h2 id="data-heading">"My data"</h2>
            <p><a class="button button-secondary" href="/api/me/export" rel="external" download="rapport-my-data.json">"Export my data"</a></p>
            <ActionForm action=actions.forget>
                <p>
                    "Forget me deletes your answers and what Rapport keeps about you, and stops your "
                    "questions. Your Slack account is not touched."
                </p>
                <label for="confirmation">{format!("Type “{FORGET_CONFIRMATION}” to confirm")}</label>
                <input id="confirmation" name="confirmation" type="text" autocomplete="off" required/>
                <button type="submit" class="button button-danger">"Forget me"</button>
            </ActionForm>
        </section>
    }
}
