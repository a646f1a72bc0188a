//! Server functions of the people area.

use leptos::prelude::*;

use super::types::{PersonSummary, Profile};
use crate::error::AppError;

/// The team directory of the viewer's workspace.
#[server(prefix = "/api", endpoint = "people/list")]
pub async fn list_people() -> Result<Vec<PersonSummary>, AppError> {
    use crate::server::{ctx, services::people};

    ctx::respond(async { people::directory(&ctx::member().await?).await }.await)
}

/// One member's profile, by id.
#[server(prefix = "/api", endpoint = "people/get")]
pub async fn get_person(id: String) -> Result<Profile, AppError> {
    use crate::{
        ids::MemberId,
        server::{ctx, services::people},
    };

    ctx::respond(async { people::profile(&ctx::member().await?, &MemberId::parse(&id)?).await }.await)
}
