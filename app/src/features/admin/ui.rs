//! The admin pages: `/admin` (the setup checklist), `/admin/sharing`, `/admin/schedule` and
//! `/admin/members`.
//! Every form is an `ActionForm`: before the script runs it is a plain form post to the
//! server function, which sends the browser back to the page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::{
    api::{
        DeleteWorkspace, ExcludeMember, RetryMember, SaveSharing, SendTestPost, SetIncludeGuests, SetMemberAdmin,
        SetWeeklySummary, get_setup, get_sharing, get_weekly_summary, list_members,
    },
    types::{AdminRole, Asked, MemberLine, MembersView, Setup, Sharing, SharingView},
};
use crate::{
    components::{AdminNav, AppErrorBoundary, format_date},
    error::AppError,
    features::auth::api::check_admin,
    features::billing::types::Standing,
    features::schedule::{
        api::{SaveSchedule, get_round_overview, get_schedule},
        types::{Cadence, RoundOverview, ScheduleView, WEEKDAY_NAMES},
    },
};

/// `/admin`: what is set up and what is not, each with the page that sets it.
#[component]
pub fn AdminPage() -> impl IntoView {
    let setup = Resource::new(|| (), |()| get_setup());
    view! {
        <Title text="Admin"/>
        <h1>"Set up Rapport"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            <AppErrorBoundary>
                {move || Suspend::new(async move { setup.await.map(|setup| view! { <Checklist setup/> }) })}
            </AppErrorBoundary>
        </Suspense>
        <AdminNav/>
    }
}

#[component]
fn Checklist(setup: Setup) -> impl IntoView {
    let summary = if setup.is_complete() {
        match setup.next_round_at {
            Some(at) => format!("All set: the next questions go out on {}.", format_date(at)),
            None => "All set.".to_owned(),
        }
    } else {
        "Nobody is asked anything until these three are done.".to_owned()
    };
    let sharing = match (&setup.sharing_channel, setup.sharing) {
        (Some(_), Sharing::Immediate) => "Answers are posted to the sharing channel as they come.",
        (Some(_), Sharing::Digest) => "Answers are posted to the sharing channel once a day.",
        (None, _) => "Pick the channel where answers are shared, and invite @Rapport to it.",
    };
    let billing = match (&setup.billing, setup.trial_days_left) {
        (Standing::Lapsed { reason }, _) => Some(format!("{} No new questions are asked.", reason.sentence())),
        (_, Some(1)) => Some("Free trial: 1 day left.".to_owned()),
        (_, Some(days)) => Some(format!("Free trial: {days} days left.")),
        _ => None,
    };
    view! {
        <p class="setup-summary">{setup.workspace_name.clone()} ": " {summary}</p>
        {billing.map(|line| view! { <p class="setup-billing">{line} " " <A href="/admin/billing">"Billing"</A></p> })}
        <ol class="checklist">
            <Step done=setup.sharing_channel.is_some() title="Sharing channel" detail=sharing href="/admin/sharing"/>
            <Step
                done=setup.schedule_saved
                title="Schedule"
                detail="Pick the days and the local time questions are asked."
                href="/admin/schedule"
            />
            <Step
                done=setup.questions_on
                title="Questions on"
                detail="Turn questions on once the channel and the schedule are right."
                href="/admin/schedule"
            />
        </ol>
    }
}

/// One line of the checklist.
#[component]
fn Step(done: bool, title: &'static str, detail: &'static str, href: &'static str) -> impl IntoView {
    view! {
        <li class=if done { "step step-done" } else { "step" }>
            <span class="step-state">{if done { "Done" } else { "To do" }}</span>
            <A href=href>{title}</A>
            <p>{detail}</p>
        </li>
    }
}

/// `/admin/sharing`: the sharing channel, immediate or daily, and a test post.
#[component]
pub fn SharingPage() -> impl IntoView {
    let save = ServerAction::<SaveSharing>::new();
    let test = ServerAction::<SendTestPost>::new();
    let sharing = Resource::new(move || save.version().get(), |_| get_sharing());
    view! {
        <Title text="Sharing"/>
        <h1>"Sharing"</h1>
        <AdminNav/>
        <Suspense fallback=|| view! { <p class="loading">"Loading channels…"</p> }>
            <AppErrorBoundary>
                {move || Suspend::new(async move {
                    sharing.await.map(|view| view! { <SharingForm view save/> })
                })}
            </AppErrorBoundary>
        </Suspense>
        <ActionForm action=test>
            <p>"Check that Rapport may post there:"</p>
            <button type="submit" class="button button-secondary">"Send a test post"</button>
        </ActionForm>
        <Outcome result=test.value() done="The test post is in the channel."/>
    }
}

#[component]
fn SharingForm(view: SharingView, save: ServerAction<SaveSharing>) -> impl IntoView {
    let SharingView { channel_id, sharing, channels } = view;
    let empty = channels.is_empty();
    view! {
        <ActionForm action=save>
            <label for="channel_id">"Sharing channel"</label>
            <select id="channel_id" name="channel_id" required>
                <option value="" disabled selected=channel_id.is_none()>"Pick a channel"</option>
                {channels
                    .into_iter()
                    .map(|channel| {
                        let selected = channel_id.as_deref() == Some(channel.id.as_str());
                        view! { <option value=channel.id selected=selected>"#" {channel.name}</option> }
                    })
                    .collect_view()}
            </select>
            {empty.then(|| view! { <p class="form-error">"Slack lists no public channel yet."</p> })}
            <fieldset>
                <legend>"When answers are posted"</legend>
                <label class="choice">
                    <input type="radio" name="share_mode" value="immediate" checked=sharing == Sharing::Immediate/>
                    " As they come"
                </label>
                <label class="choice">
                    <input type="radio" name="share_mode" value="digest" checked=sharing == Sharing::Digest/>
                    " Once a day, together"
                </label>
            </fieldset>
            <button type="submit" class="button">"Save"</button>
        </ActionForm>
        <Outcome result=save.value() done="Saved."/>
    }
}

/// `/admin/schedule`: the days, local time and cadence of rounds, and questions on or off.
#[component]
pub fn SchedulePage() -> impl IntoView {
    let save = ServerAction::<SaveSchedule>::new();
    let set_summary = ServerAction::<SetWeeklySummary>::new();
    let schedule = Resource::new(move || save.version().get(), |_| get_schedule());
    let rounds = Resource::new(move || save.version().get(), |_| get_round_overview());
    let summary = Resource::new(move || set_summary.version().get(), |_| get_weekly_summary());
    view! {
        <Title text="Schedule"/>
        <h1>"Schedule"</h1>
        <AdminNav/>
        // One boundary awaiting all three: two boundaries on one page can stall server rendering.
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            <AppErrorBoundary>
                {move || Suspend::new(async move {
                    // All are awaited before any error is returned: a resource left pending
                    // behind an early return would hold the page open.
                    let (schedule, rounds, summary) = (schedule.await, rounds.await, summary.await);
                    let (schedule, rounds, summary_on) = (schedule?, rounds?, summary?);
                    Ok::<_, AppError>(view! {
                        <Rounds rounds/>
                        <ScheduleForm schedule save/>
                        <WeeklySummary on=summary_on set=set_summary/>
                    })
                })}
            </AppErrorBoundary>
        </Suspense>
    }
}

/// The admins' weekly summary in Slack: on or off.
#[component]
fn WeeklySummary(on: bool, set: ServerAction<SetWeeklySummary>) -> impl IntoView {
    view! {
        <section class="settings" aria-labelledby="summary-heading">
            <h2 id="summary-heading">"Weekly summary"</h2>
            <p>
                "On Monday mornings each admin gets the past week in a Slack message: how many answered, "
                "and the most answered question."
            </p>
            <ActionForm action=set>
                <input type="hidden" name="enabled" value=(!on).to_string()/>
                <p>{if on { "The weekly summary is on." } else { "The weekly summary is off." }}</p>
                <button type="submit" class="button button-secondary">
                    {if on { "Turn the summary off" } else { "Turn the summary on" }}
                </button>
            </ActionForm>
            <Outcome result=set.value() done="Saved."/>
        </section>
    }
}

/// When the next round starts, and how the last one went.
#[component]
fn Rounds(rounds: RoundOverview) -> impl IntoView {
    let next = match rounds.next_round_at {
        Some(at) => format!("Next questions go out on {}.", format_date(at)),
        None => "No round is planned: turn questions on and pick at least one day.".to_owned(),
    };
    view! {
        <section class="settings" aria-labelledby="rounds-heading">
            <h2 id="rounds-heading">"Rounds"</h2>
            <p>{next}</p>
            {rounds.last_round.map(|last| {
                let failed: i64 = last.failed.iter().map(|(_, count)| count).sum();
                view! {
                    <p>
                        {format!(
                            "Last round ({}): {} asked, {} answered, {} skipped, {} expired, {} still open, {} not delivered.",
                            last.round_date,
                            last.due,
                            last.answered,
                            last.skipped,
                            last.expired,
                            last.sent + last.waiting,
                            failed,
                        )}
                    </p>
                }
            })}
        </section>
    }
}

#[component]
fn ScheduleForm(schedule: ScheduleView, save: ServerAction<SaveSchedule>) -> impl IntoView {
    let cadences = [
        (Cadence::TwiceWeekly, "Twice a week"),
        (Cadence::Weekly, "Once a week"),
        (Cadence::Biweekly, "Every other week"),
        (Cadence::Daily, "Every selected day"),
    ];
    view! {
        <ActionForm action=save>
            <fieldset>
                <legend>"Questions"</legend>
                <label class="choice">
                    <input type="radio" name="enabled" value="true" checked=schedule.enabled/>
                    " On: members are asked on schedule"
                </label>
                <label class="choice">
                    <input type="radio" name="enabled" value="false" checked=!schedule.enabled/>
                    " Off: nobody is asked"
                </label>
            </fieldset>
            <fieldset>
                <legend>"Days"</legend>
                {WEEKDAY_NAMES
                    .iter()
                    .enumerate()
                    .map(|(index, day)| {
                        let checked = schedule.weekdays.iter().any(|chosen| chosen == day);
                        view! {
                            <label class="choice">
                                <input type="checkbox" name=format!("weekdays[{index}]") value=*day checked=checked/>
                                " " {day_label(day)}
                            </label>
                        }
                    })
                    .collect_view()}
            </fieldset>
            <label for="local_time">"Time, in each member's own time zone"</label>
            <input id="local_time" name="local_time" type="time" value=schedule.local_time.clone() required/>
            <label for="cadence">"How often"</label>
            <select id="cadence" name="cadence">
                {cadences
                    .into_iter()
                    .map(|(cadence, label)| {
                        view! { <option value=cadence.as_str() selected=cadence == schedule.cadence>{label}</option> }
                    })
                    .collect_view()}
            </select>
            <fieldset>
                <legend>"Guests"</legend>
                <label class="choice">
                    <input type="radio" name="include_guests" value="false" checked=!schedule.include_guests/>
                    " Members only"
                </label>
                <label class="choice">
                    <input type="radio" name="include_guests" value="true" checked=schedule.include_guests/>
                    " Ask guests too"
                </label>
            </fieldset>
            <button type="submit" class="button">"Save"</button>
        </ActionForm>
        <Outcome result=save.value() done="Saved."/>
    }
}

/// The actions of `/admin/members`; each one done reloads the list.
#[derive(Clone, Copy)]
struct MemberActions {
    exclude: ServerAction<ExcludeMember>,
    admin: ServerAction<SetMemberAdmin>,
    retry: ServerAction<RetryMember>,
    guests: ServerAction<SetIncludeGuests>,
}

impl MemberActions {
    fn version(self) -> usize {
        self.exclude.version().get()
            + self.admin.version().get()
            + self.retry.version().get()
            + self.guests.version().get()
    }

    fn error(self) -> Option<AppError> {
        let failed = |value: Option<Result<(), AppError>>| value.and_then(Result::err);
        failed(self.exclude.value().get())
            .or_else(|| failed(self.admin.value().get()))
            .or_else(|| failed(self.retry.value().get()))
            .or_else(|| failed(self.guests.value().get()))
    }
}

/// `/admin/members`: who is asked and who is not and why; guests; exclude, promote, retry.
#[component]
pub fn MembersPage() -> impl IntoView {
    let actions = MemberActions {
        exclude: ServerAction::new(),
        admin: ServerAction::new(),
        retry: ServerAction::new(),
        guests: ServerAction::new(),
    };
    let members = Resource::new(move || actions.version(), |_| list_members());
    view! {
        <Title text="Members"/>
        <h1>"Members"</h1>
        <AdminNav/>
        {move || actions.error().map(|error| view! { <p class="form-error" role="alert">{error.to_string()}</p> })}
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            <AppErrorBoundary>
                {move || Suspend::new(async move {
                    members.await.map(|view| view! { <MemberTable view actions/> })
                })}
            </AppErrorBoundary>
        </Suspense>
    }
}

#[component]
fn MemberTable(view: MembersView, actions: MemberActions) -> impl IntoView {
    let MembersView { include_guests, members } = view;
    let asked = members.iter().filter(|member| member.asked == Asked::Yes).count();
    view! {
        <p>{format!("{asked} of {} are asked.", members.len())}</p>
        <ActionForm action=actions.guests>
            <input type="hidden" name="include" value=(!include_guests).to_string()/>
            <button type="submit" class="button button-secondary">
                {if include_guests { "Stop asking guests" } else { "Ask guests too" }}
            </button>
        </ActionForm>
        <table class="members">
            <caption class="visually-hidden">"Members and whether they are asked"</caption>
            <thead>
                <tr><th scope="col">"Member"</th><th scope="col">"Questions"</th><th scope="col">"Admin"</th><th scope="col">"Actions"</th></tr>
            </thead>
            <tbody>{members.into_iter().map(|member| view! { <MemberRow member actions/> }).collect_view()}</tbody>
        </table>
    }
}

#[component]
fn MemberRow(member: MemberLine, actions: MemberActions) -> impl IntoView {
    let MemberLine { id, name, title, asked, role, excluded } = member;
    let refused = matches!(asked, Asked::StoppedBySlack(_));
    let role_text = match role {
        AdminRole::None => "",
        AdminRole::Promoted => "Admin",
        AdminRole::SlackAdmin => "Admin (Slack)",
    };
    let (for_admin, for_retry) = (id.clone(), id.clone());
    view! {
        <tr>
            <th scope="row">{name} <span class="person-title">{title}</span></th>
            <td>{asked.describe()}</td>
            <td>{role_text}</td>
            <td class="row-actions">
                <ActionForm action=actions.exclude>
                    <input type="hidden" name="member_id" value=id/>
                    <input type="hidden" name="excluded" value=(!excluded).to_string()/>
                    <button type="submit" class="link-button">{if excluded { "Include" } else { "Exclude" }}</button>
                </ActionForm>
                {(role != AdminRole::SlackAdmin).then(|| view! {
                    <ActionForm action=actions.admin>
                        <input type="hidden" name="member_id" value=for_admin/>
                        <input type="hidden" name="admin" value=(role == AdminRole::None).to_string()/>
                        <button type="submit" class="link-button">
                            {if role == AdminRole::None { "Make admin" } else { "Remove admin" }}
                        </button>
                    </ActionForm>
                })}
                {refused.then(|| view! {
                    <ActionForm action=actions.retry>
                        <input type="hidden" name="member_id" value=for_retry/>
                        <button type="submit" class="link-button">"Try again"</button>
                    </ActionForm>
                })}
            </td>
        </tr>
    }
}

/// `/admin/data`: the whole workspace as a download, and deleting it.
#[component]
pub fn DataPage() -> impl IntoView {
    let delete = ServerAction::<DeleteWorkspace>::new();
    // The page loads no data of its own, so it asks for the admin gate outright.
    let gate = Resource::new(|| (), |()| check_admin());
    view! {
        <Title text="Data"/>
        <h1>"Your workspace's data"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            <AppErrorBoundary>
                {move || Suspend::new(async move { gate.await.map(|()| view! { <DataForms delete/> }) })}
            </AppErrorBoundary>
        </Suspense>
    }
}

#[component]
fn DataForms(delete: ServerAction<DeleteWorkspace>) -> impl IntoView {
    view! {
        <AdminNav/>
        <section aria-labelledby="export-heading">
            <h2 id="export-heading">"Export"</h2>
            <p>"Members, every answer (private ones too) and your own packs, as JSON."</p>
            <p><a class="button button-secondary" href="/api/admin/data/export" rel="external" download="rapport-workspace.json">"Export the workspace"</a></p>
        </section>
        <section aria-labelledby="delete-heading">
            <h2 id="delete-heading">"Delete"</h2>
            <p>
                "Deletes every answer, member and pack of this workspace in Rapport, at once and for good. "
                "Slack is not touched; remove the app in Slack to stop it there. After an uninstall Rapport "
                "deletes the data by itself after a grace period; installing again within it keeps everything."
            </p>
            <ActionForm action=delete>
                <label for="confirmation">"Type the workspace's name to confirm"</label>
                <input id="confirmation" name="confirmation" type="text" autocomplete="off" required/>
                <button type="submit" class="button button-danger">"Delete all data"</button>
            </ActionForm>
            <Outcome result=delete.value() done="Deleted. Nothing of this workspace is left in Rapport."/>
        </section>
    }
}

fn day_label(day: &str) -> &'static str {
    match day {
        "mon" => "Monday",
        "tue" => "Tuesday",
        "wed" => "Wednesday",
        "thu" => "Thursday",
        "fri" => "Friday",
        "sat" => "Saturday",
        _ => "Sunday",
    }
}

/// What became of the last submit: "Saved." or the error, naming the field.
#[component]
fn Outcome(#[prop(into)] result: Signal<Option<Result<(), AppError>>>, done: &'static str) -> impl IntoView {
    move || {
        result.get().map(|outcome| match outcome {
            Ok(()) => view! { <p class="form-done" role="status">{done}</p> }.into_any(),
            Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
        })
    }
}
