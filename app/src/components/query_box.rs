//! A box whose words the page's address follows as you type (`?q=`), for pages that list
//! what matches them. Before the script runs the box sits in a plain GET form; once it runs,
//! typing (after a short pause) or submitting replaces the address without a reload, and the
//! page's resource, keyed on the address, loads what matches.

use std::time::Duration;

use leptos::{
    ev::{Event, SubmitEvent},
    prelude::*,
};
use leptos_router::{
    NavigateOptions,
    hooks::{use_navigate, use_query_map},
};

/// How long typing pauses before the address follows it.
const TYPING_PAUSE: Duration = Duration::from_millis(200);

/// The box's state and handlers, for `value`, `prop:value`, `on:input` and the form's
/// `on:submit`.
pub struct QueryBox<Input, Submit> {
    /// The address's `q` when the page was rendered: the box's `value` before the script runs.
    pub initial: String,
    /// What the box shows: the address's `q`, then what is typed into it.
    pub typed: RwSignal<String>,
    pub on_input: Input,
    pub on_submit: Submit,
}

/// A query box on the current page; `href(words, page)` is the address of the page's first
/// page of results for `words`.
pub fn use_query_box(
    href: fn(&str, u32) -> String,
) -> QueryBox<impl FnMut(Event) + 'static, impl FnMut(SubmitEvent) + 'static> {
    let query = use_query_map();
    let initial = query.read_untracked().get("q").unwrap_or_default();
    let typed = RwSignal::new(initial.clone());
    // The words this box last sent the address to: its own navigation must not overwrite
    // what was typed meanwhile, but any other change of address (back, forward) shows.
    let sent = StoredValue::new(initial.clone());
    Effect::new(move || {
        let q = query.read().get("q").unwrap_or_default();
        if sent.get_value() != q {
            sent.set_value(q.clone());
            typed.set(q);
        }
    });
    let navigate = use_navigate();
    let show = move |text: String| {
        sent.set_value(text.clone());
        let options = NavigateOptions { replace: true, scroll: false, ..NavigateOptions::default() };
        navigate(&href(&text, 1), options);
    };
    let mut show_when_typing_pauses = debounce(TYPING_PAUSE, show.clone());
    let on_input = move |ev: Event| {
        let text = event_target_value(&ev);
        typed.set(text.clone());
        show_when_typing_pauses(text);
    };
    // With the script running, the form need not reload the page.
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        show(typed.get_untracked());
    };
    QueryBox { initial, typed, on_input, on_submit }
}
