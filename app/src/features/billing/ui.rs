//! `/admin/billing` (plan, trial days left, members active this period, the next invoice's
//! estimate, past invoices, Upgrade and Manage) and the banner that tells admins questions
//! stopped. Upgrade and Manage are `ActionForm`s: before the script runs they are plain form
//! posts that the server sends on to Stripe's page; after, the page goes there itself.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{
    api::{Manage, Upgrade, get_billing},
    types::{BillingOverview, InvoiceRow, LapseReason, Standing},
};
use crate::{
    components::{AdminNav, AppErrorBoundary, format_date},
    error::AppError,
};

/// `/admin/billing`.
#[component]
pub fn BillingPage() -> impl IntoView {
    let overview = Resource::new(|| (), |()| get_billing());
    let query = use_query_map();
    let back_from_checkout = move || query.read().get("checkout").is_some_and(|value| value == "done");
    view! {
        <Title text="Billing"/>
        <h1>"Billing"</h1>
        <AdminNav/>
        {move || {
            back_from_checkout()
                .then(|| {
                    view! {
                        <p class="form-done" role="status">
                            "Thank you. Your subscription shows here as soon as Stripe confirms it."
                        </p>
                    }
                })
        }}
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            <AppErrorBoundary>
                {move || Suspend::new(async move { overview.await.map(|overview| view! { <Overview overview/> }) })}
            </AppErrorBoundary>
        </Suspense>
    }
}

#[component]
fn Overview(overview: BillingOverview) -> impl IntoView {
    if overview.standing == Standing::Free {
        return view! { <p>"Billing is off on this server: nothing is limited."</p> }.into_any();
    }
    let price = overview.price.as_ref().map(|price| format!("{} per active member a month", price.display()));
    let can_upgrade = overview.can_upgrade();
    let can_manage = overview.can_manage();
    view! {
        <section class="billing-plan" aria-labelledby="plan-heading">
            <h2 id="plan-heading">"Plan"</h2>
            <p class="billing-standing">{plan_sentence(&overview)}</p>
            {price.map(|price| view! { <p class="billing-price">{price}</p> })}
            <p class="billing-active">
                <strong>{overview.active_members}</strong>
                {if overview.active_members == 1 { " member has" } else { " members have" }}
                " answered since "
                {format_date(overview.period_start)}
                ". A member counts once a period when they answer at least once."
            </p>
            {overview
                .estimate
                .clone()
                .map(|estimate| {
                    view! {
                        <p class="billing-estimate">
                            "Next invoice if the period ended now: " <strong>{estimate.display()}</strong>
                        </p>
                    }
                })}
            {overview
                .stripe_unreachable
                .then(|| view! { <p class="form-error">"Stripe could not be reached; some figures may be missing."</p> })}
            <div class="billing-actions">
                {can_upgrade.then(|| view! { <UpgradeButton/> })}
                {can_manage.then(|| view! { <ManageButton/> })}
            </div>
        </section>
        <Invoices invoices=overview.invoices/>
    }
    .into_any()
}

/// The plan in one sentence.
fn plan_sentence(overview: &BillingOverview) -> String {
    match &overview.standing {
        Standing::Free => "Free: billing is off.".to_owned(),
        Standing::Trial { ends_at } => {
            let days = overview.trial_days_left.unwrap_or_default();
            let left = if days == 1 { "1 day left".to_owned() } else { format!("{days} days left") };
            format!("Free trial: {left} (it ends on {}).", format_date(*ends_at))
        }
        Standing::Subscribed { period_end, cancels_at_period_end: true, .. } => {
            format!("Subscribed, cancelled: questions continue until {}.", format_date(*period_end))
        }
        Standing::Subscribed { payment_failing: true, .. } => {
            "Subscribed, but the last payment failed: Stripe is trying again. Update the card with Manage.".to_owned()
        }
        Standing::Subscribed { trialing: true, period_end, .. } => {
            format!("Subscribed: nothing is charged before {}.", format_date(*period_end))
        }
        Standing::Subscribed { period_end, .. } => {
            format!("Subscribed: the current period ends on {}.", format_date(*period_end))
        }
        Standing::Lapsed { reason } => {
            format!("{} No new questions are asked until the workspace subscribes.", reason.sentence())
        }
    }
}

#[component]
fn UpgradeButton() -> impl IntoView {
    let upgrade = ServerAction::<Upgrade>::new();
    go_to_page_of(upgrade.value().into());
    view! {
        <ActionForm action=upgrade>
            <button type="submit" class="button">"Upgrade"</button>
        </ActionForm>
        <ActionError result=upgrade.value()/>
    }
}

#[component]
fn ManageButton() -> impl IntoView {
    let manage = ServerAction::<Manage>::new();
    go_to_page_of(manage.value().into());
    view! {
        <ActionForm action=manage>
            <button type="submit" class="button button-secondary">"Manage"</button>
        </ActionForm>
        <ActionError result=manage.value()/>
    }
}

/// Once the action answers with Stripe's page, the browser goes there (a full load: it is
/// another site, or the Stripe emulator outside this app's routes).
fn go_to_page_of(result: Signal<Option<Result<String, AppError>>>) {
    Effect::new(move || {
        if let Some(Ok(page)) = result.get() {
            #[cfg(feature = "hydrate")]
            {
                let _ = window().location().set_href(&page);
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = page;
        }
    });
}

/// The error of the last Upgrade or Manage, if it failed.
#[component]
fn ActionError(#[prop(into)] result: Signal<Option<Result<String, AppError>>>) -> impl IntoView {
    move || match result.get() {
        Some(Err(error)) => Some(view! { <p class="form-error" role="alert">{error.to_string()}</p> }),
        _ => None,
    }
}

#[component]
fn Invoices(invoices: Vec<InvoiceRow>) -> impl IntoView {
    if invoices.is_empty() {
        return view! {
            <section aria-labelledby="invoices-heading">
                <h2 id="invoices-heading">"Invoices"</h2>
                <p>"No invoices yet."</p>
            </section>
        }
        .into_any();
    }
    let rows = invoices
        .into_iter()
        .map(|invoice| {
            let number = invoice.number.clone().unwrap_or_else(|| "Draft".to_owned());
            let label = match &invoice.url {
                Some(url) => view! { <a href=url.clone()>{number}</a> }.into_any(),
                None => view! { <span>{number}</span> }.into_any(),
            };
            view! {
                <tr>
                    <td>{label}</td>
                    <td>{format_date(invoice.period_start)} " – " {format_date(invoice.period_end)}</td>
                    <td class="number">{invoice.amount.display()}</td>
                    <td>{invoice.status.clone()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby="invoices-heading">
            <h2 id="invoices-heading">"Invoices"</h2>
            <table class="invoices">
                <thead>
                    <tr>
                        <th scope="col">"Invoice"</th>
                        <th scope="col">"Period"</th>
                        <th scope="col">"Amount"</th>
                        <th scope="col">"Status"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
    .into_any()
}

/// The banner admins see on every page once questions stopped for billing: why, and a link
/// to `/admin/billing`. The reason comes with the request (`SignedInAs`), so it costs no
/// request of its own and members never see it.
#[component]
pub fn BillingBanner(notice: Option<LapseReason>) -> impl IntoView {
    notice.map(|reason| {
        view! {
            <div class="billing-banner" role="status">
                {reason.sentence()}
                " Questions are paused; answers and profiles stay. "
                <a href="/admin/billing">"Subscribe to resume"</a>
            </div>
        }
    })
}
