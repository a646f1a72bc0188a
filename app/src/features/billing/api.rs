//! Server functions of billing; each goes through `ctx::admin` and calls one service.

use leptos::prelude::*;

use super::types::BillingOverview;
use crate::error::AppError;

/// What `/admin/billing` shows for the admin's workspace.
#[server(prefix = "/api", endpoint = "billing/get")]
pub async fn get_billing() -> Result<BillingOverview, AppError> {
    use crate::server::{ctx, services::billing};

    ctx::respond(
        async {
            let (state, viewer) = (ctx::state()?, ctx::admin().await?);
            billing::overview(&state, &viewer.workspace().await?).await
        }
        .await,
    )
}

/// Upgrade: opens Stripe Checkout; returns its page (a form without JavaScript is sent there).
#[server(prefix = "/api", endpoint = "billing/upgrade")]
pub async fn upgrade() -> Result<String, AppError> {
    use crate::server::{ctx, services::billing};

    ctx::respond(
        async {
            let (state, viewer) = (ctx::state()?, ctx::admin().await?);
            let page = billing::start_checkout(&state, &viewer.workspace().await?).await?;
            ctx::send_plain_form_to(&page);
            Ok(page)
        }
        .await,
    )
}

/// Manage: opens Stripe's customer portal; returns its page.
#[server(prefix = "/api", endpoint = "billing/manage")]
pub async fn manage() -> Result<String, AppError> {
    use crate::server::{ctx, services::billing};

    ctx::respond(
        async {
            let (state, viewer) = (ctx::state()?, ctx::admin().await?);
            let page = billing::open_portal(&state, &viewer.workspace().await?).await?;
            ctx::send_plain_form_to(&page);
            Ok(page)
        }
        .await,
    )
}
