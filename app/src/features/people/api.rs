//! Server functions of the people area.

use leptos::prelude::*;

use super::types::{InCommon, PersonSummary, Profile};
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

/// What the signed-in member and the member `id` have in common (`None`: nobody to compare).
#[server(prefix = "/api", endpoint = "people/common")]
pub async fn get_in_common(id: String) -> Result<Option<InCommon>, AppError> {
    use crate::{
        ids::MemberId,
        server::{ctx, services::in_common},
    };

    ctx::respond(async { in_common::in_common(&ctx::member().await?, &MemberId::parse(&id)?).await }.await)
}
