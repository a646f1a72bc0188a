//! Signing in, three ways, each ending in what the session remembers ([`SignedIn`]): a
//! one-time link handed out in Slack, the self-hosted admin account's password, and the
//! identity Sign in with Slack vouches for. The HTTP edge (cookies, redirects, rate limits,
//! the ID token's signature) is the server's.

use sha2::{Digest, Sha256};

use crate::{
    error::AppError,
    features::auth::types::{Email, Password},
    server::{
        AppState,
        db::{
            Db,
            members::{self, Member},
            sign_in_links::{self, SignInLink},
        },
        services::{accounts, workspaces},
        viewer::SignedIn,
    },
};

/// How long a link from Slack signs in: long enough to switch to the browser, short enough
/// that a link found later in a chat history is dead.
pub const LINK_VALID_MS: i64 = 10 * 60 * 1000;

/// Makes a one-time sign-in link for a member and returns its token (the only copy: the
/// database keeps a hash).
pub async fn create_link(db: &Db, workspace_id: &str, member_id: &str, now_ms: i64) -> Result<String, AppError> {
    let token = format!("{:032x}{:032x}", rand::random::<u128>(), rand::random::<u128>());
    let link = SignInLink {
        token_hash: token_hash(&token),
        workspace_id: workspace_id.to_owned(),
        member_id: member_id.to_owned(),
        created_at: now_ms,
        expires_at: now_ms + LINK_VALID_MS,
        used_at: None,
    };
    sign_in_links::insert(db.pool(), &link).await?;
    Ok(token)
}

/// A new one-time sign-in link for `member`, as the URL to open.
pub async fn link_for(state: &AppState, member: &Member) -> Result<String, AppError> {
    let token = create_link(&state.db, &member.workspace_id, &member.id, state.now_ms()).await?;
    Ok(format!("{}/login/link/{token}", state.public_url))
}

/// Whole minutes a link is valid, for the message that hands it out.
pub const LINK_VALID_MINUTES: i64 = LINK_VALID_MS / 60_000;

/// Uses up a link: the member it signs in, or `None` when it is unknown, expired, already
/// used, or its member has left.
pub async fn redeem_link(db: &Db, token: &str, now_ms: i64) -> Result<Option<SignedIn>, AppError> {
    let Some(link) = sign_in_links::redeem(db.pool(), &token_hash(token), now_ms).await? else {
        return Ok(None);
    };
    let member = members::find(db.pool(), &link.workspace_id, &link.member_id).await?;
    Ok(member
        .filter(|member| !member.is_deleted)
        .map(|member| SignedIn::Member { workspace_id: member.workspace_id, member_id: member.id }))
}

/// The admin account `email` and `password` sign in to, or `None`.
pub async fn with_password(db: &Db, email: &Email, password: &Password) -> Result<Option<SignedIn>, AppError> {
    let account = accounts::verify_admin(db, email, password).await?;
    Ok(account.map(|account| SignedIn::AdminAccount { account_id: account.id }))
}

/// What a Slack identity signs in to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlackSignIn {
    SignedIn(SignedIn),
    /// Rapport is not installed in the person's workspace.
    NotInstalled,
    /// The workspace is installed, but Rapport has not met this person (yet).
    UnknownMember,
    /// The person was deactivated in Slack.
    Deactivated,
    /// The person is a guest, and the workspace leaves guests out.
    GuestLeftOut,
}

/// Maps the team and user Slack vouched for to a member of an installed workspace.
pub async fn with_slack(db: &Db, slack_team_id: &str, slack_user_id: &str) -> Result<SlackSignIn, AppError> {
    let Some(workspace) = workspaces::find_active(db, slack_team_id).await? else {
        return Ok(SlackSignIn::NotInstalled);
    };
    let outcome = match members::find_by_slack_user_id(db.pool(), &workspace.id, slack_user_id).await? {
        None => SlackSignIn::UnknownMember,
        Some(member) if member.is_deleted || member.is_bot => SlackSignIn::Deactivated,
        Some(member) if super::members::is_left_out_guest(&workspace, &member) => SlackSignIn::GuestLeftOut,
        Some(member) => SlackSignIn::SignedIn(SignedIn::Member { workspace_id: workspace.id, member_id: member.id }),
    };
    Ok(outcome)
}

/// Removes expired links; run from time to time.
pub async fn delete_expired_links(db: &Db, now_ms: i64) -> Result<u64, AppError> {
    Ok(sign_in_links::delete_expired(db.pool(), now_ms).await?)
}

fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_kept_as_its_sha256() {
        assert_eq!(token_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
