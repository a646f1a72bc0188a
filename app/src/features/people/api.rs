//! Server functions of the people area.

use leptos::prelude::*;

use super::types::{Directory, PersonPage};
use crate::error::AppError;

/// Page `page` (from 1; missing: 1) of the directory of the viewer's workspace, narrowed by
/// the words of `q` (missing: everyone).
#[server(prefix = "/api", endpoint = "people/list")]
pub async fn list_people(q: Option<String>, page: Option<u32>) -> Result<Directory, AppError> {
    use super::types::DirectoryFilter;
    use crate::server::{ctx, services::people};

    let filter = DirectoryFilter::parse(q.as_deref().unwrap_or_default());
    ctx::respond(async { people::directory(&ctx::member().await?, &filter, page.unwrap_or(1)).await }.await)
}

/// One member's profile page, by id: their profile and what the signed-in member has in
/// common with them.
#[server(prefix = "/api", endpoint = "people/get")]
pub async fn get_person(id: String) -> Result<PersonPage, AppError> {
    use crate::{
        ids::MemberId,
        server::{ctx, services::people},
    };

    ctx::respond(async { people::person_page(&ctx::member().await?, &MemberId::parse(&id)?).await }.await)
}
