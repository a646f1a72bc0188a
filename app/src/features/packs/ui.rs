//! `/admin/packs`: built-in packs on or off; the workspace's own packs created, renamed,
//! deleted; their questions added, edited, moved, switched off; CSV in and out. Each pack is
//! collapsed until opened, so 240 built-in questions do not make one endless page.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{
    api::{
        AddQuestion, CreatePack, DeletePack, EditQuestion, ExportQuestionsCsv, ImportQuestionsCsv, RenamePack,
        ReorderQuestions, SetPackEnabled, SetQuestionDisabled, list_packs,
    },
    types::{PackView, QuestionView},
};
use crate::{
    components::{AdminNav, AppErrorBoundary},
    error::AppError,
};

/// Every action of the page; each one done reloads the packs.
#[derive(Clone, Copy)]
struct Actions {
    create: ServerAction<CreatePack>,
    rename: ServerAction<RenamePack>,
    delete: ServerAction<DeletePack>,
    enable: ServerAction<SetPackEnabled>,
    add: ServerAction<AddQuestion>,
    edit: ServerAction<EditQuestion>,
    reorder: ServerAction<ReorderQuestions>,
    disable: ServerAction<SetQuestionDisabled>,
    import: ServerAction<ImportQuestionsCsv>,
    export: ServerAction<ExportQuestionsCsv>,
}

impl Actions {
    fn new() -> Actions {
        Actions {
            create: ServerAction::new(),
            rename: ServerAction::new(),
            delete: ServerAction::new(),
            enable: ServerAction::new(),
            add: ServerAction::new(),
            edit: ServerAction::new(),
            reorder: ServerAction::new(),
            disable: ServerAction::new(),
            import: ServerAction::new(),
            export: ServerAction::new(),
        }
    }

    fn version(self) -> usize {
        self.create.version().get()
            + self.rename.version().get()
            + self.delete.version().get()
            + self.enable.version().get()
            + self.add.version().get()
            + self.edit.version().get()
            + self.reorder.version().get()
            + self.disable.version().get()
            + self.import.version().get()
    }

    /// The last failure of any action, naming the field when the input was the problem.
    fn error(self) -> Option<AppError> {
        fn failed<T>(value: Option<Result<T, AppError>>) -> Option<AppError> {
            value.and_then(Result::err)
        }
        failed(self.create.value().get())
            .or_else(|| failed(self.rename.value().get()))
            .or_else(|| failed(self.delete.value().get()))
            .or_else(|| failed(self.enable.value().get()))
            .or_else(|| failed(self.add.value().get()))
            .or_else(|| failed(self.edit.value().get()))
            .or_else(|| failed(self.reorder.value().get()))
            .or_else(|| failed(self.disable.value().get()))
            .or_else(|| failed(self.import.value().get()))
            .or_else(|| failed(self.export.value().get()))
    }
}

/// The page.
#[component]
pub fn PacksPage() -> impl IntoView {
    let actions = Actions::new();
    let packs = Resource::new(move || actions.version(), |_| list_packs());
    view! {
        <Title text="Question packs"/>
        <h1>"Question packs"</h1>
        <AdminNav/>
        {move || actions.error().map(|error| view! { <p class="form-error" role="alert">{error.to_string()}</p> })}
        {move || {
            actions.import.value().get().and_then(Result::ok).map(|added| {
                view! { <p class="form-done" role="status">{format!("Imported {added} questions.")}</p> }
            })
        }}
        <ExportedCsv actions/>
        <ActionForm action=actions.create>
            <h2>"New pack"</h2>
            <label for="new-pack-name">"Name"</label>
            <input id="new-pack-name" name="name" required maxlength="80"/>
            <label for="new-pack-description">"Description"</label>
            <input id="new-pack-description" name="description" maxlength="280"/>
            <button type="submit" class="button">"Create pack"</button>
        </ActionForm>
        <Suspense fallback=|| view! { <p class="loading">"Loading packs…"</p> }>
            <AppErrorBoundary>
                {move || Suspend::new(async move {
                    packs.await.map(|packs| {
                        packs.into_iter().map(|pack| view! { <Pack pack actions/> }).collect_view()
                    })
                })}
            </AppErrorBoundary>
        </Suspense>
    }
}

/// The CSV of the last export, to copy.
#[component]
fn ExportedCsv(actions: Actions) -> impl IntoView {
    move || {
        actions.export.value().get().and_then(Result::ok).map(|csv| {
            view! {
                <label for="exported-csv">"Exported CSV"</label>
                <textarea id="exported-csv" readonly rows="6">{csv}</textarea>
            }
        })
    }
}

/// One pack, collapsed until opened.
#[component]
fn Pack(pack: PackView, actions: Actions) -> impl IntoView {
    let PackView { id, name, description, builtin, first_week, enabled, questions } = pack;
    let id = id.as_str().to_owned();
    let own = !builtin;
    let order: Vec<String> = questions.iter().map(|q| q.id.as_str().to_owned()).collect();
    let label = match (builtin, first_week) {
        (_, true) => "First week",
        (true, false) => "Built-in",
        (false, false) => "Your pack",
    };
    let summary = format!("{} questions · {}", questions.len(), if enabled { "on" } else { "off" });
    let (pack_for_enable, pack_for_own, pack_for_questions) = (id.clone(), id.clone(), id);
    view! {
        <details class="pack">
            <summary>
                <span class="pack-name">{name.clone()}</span> " " <span class="tag">{label}</span> " "
                <span class="pack-summary">{summary}</span>
            </summary>
            <p>{description.clone()}</p>
            <ActionForm action=actions.enable>
                <input type="hidden" name="pack_id" value=pack_for_enable/>
                <input type="hidden" name="enabled" value=(!enabled).to_string()/>
                <button type="submit" class="button button-secondary">{if enabled { "Turn off" } else { "Turn on" }}</button>
            </ActionForm>
            {own.then(|| view! { <OwnPackForms pack_id=pack_for_own name description actions/> })}
            <ol class="pack-questions">
                {questions
                    .into_iter()
                    .enumerate()
                    .map(|(index, question)| {
                        view! {
                            <PackQuestion
                                pack_id=pack_for_questions.clone()
                                question
                                own
                                moved_up=moved_up(&order, index)
                                actions
                            />
                        }
                    })
                    .collect_view()}
            </ol>
        </details>
    }
}

/// `order` with the question at `index` moved one place up, if it can move.
fn moved_up(order: &[String], index: usize) -> Option<Vec<String>> {
    (index > 0).then(|| {
        let mut moved = order.to_vec();
        moved.swap(index - 1, index);
        moved
    })
}

/// Rename, delete, add a question, import CSV, export CSV: for the workspace's own packs.
#[component]
fn OwnPackForms(pack_id: String, name: String, description: String, actions: Actions) -> impl IntoView {
    let field = |what: &str| format!("{what}-{pack_id}");
    let (name_field, description_field, question_field, csv_field) =
        (field("name"), field("description"), field("question"), field("csv"));
    let ids = [pack_id.clone(), pack_id.clone(), pack_id.clone(), pack_id.clone(), pack_id];
    let [for_rename, for_delete, for_add, for_import, for_export] = ids;
    view! {
        <ActionForm action=actions.rename>
            <input type="hidden" name="pack_id" value=for_rename/>
            <label for=name_field.clone()>"Name"</label>
            <input id=name_field name="name" value=name required maxlength="80"/>
            <label for=description_field.clone()>"Description"</label>
            <input id=description_field name="description" value=description maxlength="280"/>
            <button type="submit" class="button button-secondary">"Rename"</button>
        </ActionForm>
        <ActionForm action=actions.add>
            <input type="hidden" name="pack_id" value=for_add/>
            <label for=question_field.clone()>"New question"</label>
            <input id=question_field name="text" required maxlength="300"/>
            <button type="submit" class="button">"Add question"</button>
        </ActionForm>
        <ActionForm action=actions.import>
            <input type="hidden" name="pack_id" value=for_import/>
            <label for=csv_field.clone()>"Import questions from CSV (a header line “question”, then one per line)"</label>
            <textarea id=csv_field name="csv" rows="4" required></textarea>
            <button type="submit" class="button button-secondary">"Import"</button>
        </ActionForm>
        <ActionForm action=actions.export>
            <input type="hidden" name="pack_id" value=for_export/>
            <button type="submit" class="button button-secondary">"Export CSV"</button>
        </ActionForm>
        <ActionForm action=actions.delete>
            <input type="hidden" name="pack_id" value=for_delete/>
            <button type="submit" class="button button-danger">"Delete pack"</button>
        </ActionForm>
    }
}

/// One question of a pack: on/off, and for own packs edit and move up.
#[component]
fn PackQuestion(
    pack_id: String,
    question: QuestionView,
    own: bool,
    moved_up: Option<Vec<String>>,
    actions: Actions,
) -> impl IntoView {
    let QuestionView { id, text, disabled, .. } = question;
    let id = id.as_str().to_owned();
    let field = format!("edit-{id}");
    let (pack_for_disable, pack_for_edit, pack_for_move) = (pack_id.clone(), pack_id.clone(), pack_id);
    let for_edit = id.clone();
    view! {
        <li class=if disabled { "pack-question disabled" } else { "pack-question" }>
            <span>{text.clone()}</span>
            {disabled.then(|| view! { " " <span class="tag">"off"</span> })}
            <ActionForm action=actions.disable>
                <input type="hidden" name="pack_id" value=pack_for_disable/>
                <input type="hidden" name="question_id" value=id/>
                <input type="hidden" name="disabled" value=(!disabled).to_string()/>
                <button type="submit" class="link-button">{if disabled { "Switch on" } else { "Switch off" }}</button>
            </ActionForm>
            {own.then(|| view! {
                <details>
                    <summary>"Edit"</summary>
                    <ActionForm action=actions.edit>
                        <input type="hidden" name="pack_id" value=pack_for_edit/>
                        <input type="hidden" name="question_id" value=for_edit/>
                        <label for=field.clone()>"Question"</label>
                        <input id=field name="text" value=text required maxlength="300"/>
                        <button type="submit" class="button">"Save"</button>
                    </ActionForm>
                </details>
            })}
            {own.then_some(moved_up).flatten().map(|order| view! {
                <ActionForm action=actions.reorder>
                    <input type="hidden" name="pack_id" value=pack_for_move/>
                    {order
                        .into_iter()
                        .enumerate()
                        .map(|(index, id)| view! { <input type="hidden" name=format!("question_ids[{index}]") value=id/> })
                        .collect_view()}
                    <button type="submit" class="link-button">"Move up"</button>
                </ActionForm>
            })}
        </li>
    }
}
