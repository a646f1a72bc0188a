//! The people area: the directory and profiles. Only team-visible answers of members still
//! in the workspace are ever returned.

use crate::{
    error::AppError,
    features::people::types::{
        Directory, DirectoryFilter, LatestAnswer, PersonPage, PersonSummary, Profile, ProfileAnswer,
    },
    ids::{MemberId, QuestionId},
    server::{
        db::{
            answers::{self, MemberAnswerRow},
            directory,
            members::{self, Member},
        },
        services::in_common,
        viewer::Viewer,
    },
};

/// People on one page of the directory.
pub const PEOPLE_PER_PAGE: usize = 48;

/// Page `page` (from 1; 0 reads as 1) of the viewer's workspace's directory, by name,
/// narrowed by `filter` (see [`DirectoryFilter`]).
pub async fn directory(viewer: &Viewer, filter: &DirectoryFilter, page: u32) -> Result<Directory, AppError> {
    let page = page.max(1);
    let (pool, workspace_id) = (viewer.db.pool(), viewer.workspace_id.as_str());
    let words = filter.words();
    let index = page as usize - 1;
    let starts = directory::page_starts(&viewer.db, workspace_id, PEOPLE_PER_PAGE).await?;
    let everyone = starts.everyone();
    let (rows, has_next_page, matching) = match words.is_empty() {
        true => (directory::list_page(pool, workspace_id, &starts, index).await?, index + 1 < starts.pages(), everyone),
        false => {
            let offset = index * PEOPLE_PER_PAGE;
            let mut rows = directory::list_filtered(pool, workspace_id, words, PEOPLE_PER_PAGE + 1, offset).await?;
            let has_next_page = rows.len() > PEOPLE_PER_PAGE;
            rows.truncate(PEOPLE_PER_PAGE);
            (rows, has_next_page, directory::count_filtered(pool, workspace_id, words).await?)
        }
    };
    let people = rows
        .into_iter()
        .map(|row| {
            let latest = match (row.latest_question, row.latest_text, row.latest_at) {
                (Some(question), Some(text), Some(answered_at_ms)) => {
                    Some(LatestAnswer { question, text, answered_at_ms })
                }
                _ => None,
            };
            Ok(PersonSummary {
                id: MemberId::parse(&row.id)?,
                name: row.name,
                title: row.title,
                avatar_url: row.avatar_url,
                answer_count: row.answer_count,
                latest,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok(Directory { people, matching, everyone, page, has_next_page, filter: filter.words().join(" ") })
}

/// The profile of the member Slack calls `slack_user_id` in the viewer's workspace, or
/// `None` when there is no such member or they have no profile (a bot, someone who left).
pub async fn profile_by_slack_user(viewer: &Viewer, slack_user_id: &str) -> Result<Option<Profile>, AppError> {
    let Some(member) = members::find_by_slack_user_id(viewer.db.pool(), &viewer.workspace_id, slack_user_id).await?
    else {
        return Ok(None);
    };
    match profile(viewer, &MemberId::parse(&member.id)?).await {
        Ok(found) => Ok(Some(found)),
        Err(AppError::NotFound) => Ok(None),
        Err(other) => Err(other),
    }
}

/// A member's profile with their team-visible answers, newest first. Bots and members who
/// have left the workspace have no profile.
pub async fn profile(viewer: &Viewer, id: &MemberId) -> Result<Profile, AppError> {
    let (member, answers) = shown_member(viewer, id).await?;
    profile_of(id, member, answers)
}

/// The profile page of member `id`: their [`profile`] and what the viewer has in common with
/// them ([`in_common::between`]), from one read of the member and their answers. A failure
/// to compare is logged and leaves the profile as it is: the comparison is an extra.
pub async fn person_page(viewer: &Viewer, id: &MemberId) -> Result<PersonPage, AppError> {
    let (member, answers) = shown_member(viewer, id).await?;
    let in_common = in_common::between(viewer, &member, &answers).await.unwrap_or_else(|error| {
        tracing::warn!(workspace.id = %viewer.workspace_id, error = %error, "could not compare two members' answers");
        None
    });
    Ok(PersonPage { profile: profile_of(id, member, answers)?, in_common })
}

/// Member `id` of the viewer's workspace with their team-visible answers, newest first;
/// `NotFound` for a bot, someone who left or was forgotten, or no such member.
async fn shown_member(viewer: &Viewer, id: &MemberId) -> Result<(Member, Vec<MemberAnswerRow>), AppError> {
    let member = members::find(viewer.db.pool(), &viewer.workspace_id, id.as_str())
        .await?
        .filter(|m| !m.is_bot && !m.is_deleted && m.forgotten_at.is_none())
        .ok_or(AppError::NotFound)?;
    let answers = answers::list_team_visible_for_member(viewer.db.pool(), &viewer.workspace_id, &member.id).await?;
    Ok((member, answers))
}

fn profile_of(id: &MemberId, member: Member, answers: Vec<MemberAnswerRow>) -> Result<Profile, AppError> {
    let answers = answers
        .into_iter()
        .map(|row| {
            Ok(ProfileAnswer {
                question_id: QuestionId::parse(&row.question_id)?,
                question: row.question,
                text: row.text,
                answered_at_ms: row.created_at,
            })
        })
        .collect::<Result<_, AppError>>()?;
    Ok(Profile {
        id: id.clone(),
        name: member.name,
        title: member.title,
        avatar_url: member.avatar_url,
        time_zone: member.time_zone,
        answers,
    })
}
