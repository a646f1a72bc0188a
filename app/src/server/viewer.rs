//! Who is looking: what the session remembers about who signed in, and the [`Viewer`] it
//! resolves to once per request (member, workspace and role). Every server function starts
//! from a viewer through `ctx::member` or `ctx::admin`, so no query ever takes a workspace id
//! from the client.

use serde::{Deserialize, Serialize};

use super::{
    AppState,
    db::{Db, admin_accounts, members, workspaces},
    services,
};
use crate::{
    error::AppError,
    features::{auth::types::SignedInAs, billing::types::LapseReason},
};

/// How the self-hosted admin account is greeted: it is nobody in Slack.
const ADMIN_ACCOUNT: &str = "Admin";

/// The session key under which [`SignedIn`] is kept.
pub const SESSION_KEY: &str = "signed_in";

/// What the session remembers after a sign-in. Only ids: names, roles and whether the
/// member still exists are read again on every request, so a demotion or a deactivation
/// takes effect at once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SignedIn {
    /// A member of an installed workspace (Sign in with Slack, or a link from Slack).
    Member { workspace_id: String, member_id: String },
    /// The self-hosted admin account (email and password).
    AdminAccount { account_id: String },
}

/// What the viewer may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Not signed in, browsing the fictional demo team: may read, may change nothing.
    Visitor,
    /// A member: reads their team, manages their own answers and settings.
    Member,
    /// Manages Rapport for the workspace: packs, schedule, sharing, members, data.
    Admin,
}

/// Who is asking, in which workspace, with which role.
#[derive(Clone, Debug)]
pub struct Viewer {
    pub db: Db,
    pub workspace_id: String,
    pub role: Role,
    /// The member behind the viewer; `None` for a demo visitor and the self-hosted admin
    /// account, which is nobody in Slack.
    pub member_id: Option<String>,
    /// How the header greets them.
    pub name: String,
    /// For an admin of a lapsed workspace, why questions stopped; set by the server for the
    /// pages it renders (the header's banner), `None` elsewhere.
    pub billing_notice: Option<LapseReason>,
}

impl Viewer {
    /// An admin of `workspace_id` who is no member (services' tests, the command line).
    pub fn workspace_admin(db: Db, workspace_id: impl Into<String>) -> Viewer {
        Viewer {
            db,
            workspace_id: workspace_id.into(),
            role: Role::Admin,
            member_id: None,
            name: ADMIN_ACCOUNT.into(),
            billing_notice: None,
        }
    }

    /// A member of `workspace_id` (Slack commands act as the member who typed them).
    pub fn member(db: Db, workspace_id: impl Into<String>, member_id: impl Into<String>) -> Viewer {
        // Slack commands greet nobody, so no name is loaded for them.
        Viewer {
            db,
            workspace_id: workspace_id.into(),
            role: Role::Member,
            member_id: Some(member_id.into()),
            name: String::new(),
            billing_notice: None,
        }
    }

    /// Who the header greets; `None` for a visitor of the demo, who is nobody yet.
    pub fn signed_in_as(&self) -> Option<SignedInAs> {
        (self.role != Role::Visitor).then(|| SignedInAs {
            name: self.name.clone(),
            admin: self.is_admin(),
            member: self.member_id.is_some(),
            billing_notice: self.billing_notice,
        })
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// The viewer's workspace, as stored now.
    pub async fn workspace(&self) -> Result<workspaces::Workspace, AppError> {
        workspaces::find(self.db.pool(), &self.workspace_id).await?.ok_or(AppError::NotFound)
    }

    /// The viewer's own member id, for what only a member can do (their answers, their
    /// pause): a visitor must sign in, the admin account is nobody's profile.
    pub fn me(&self) -> Result<&str, AppError> {
        match (&self.member_id, self.role) {
            (Some(id), _) => Ok(id),
            (None, Role::Visitor) => Err(AppError::Unauthenticated),
            (None, _) => Err(AppError::Forbidden),
        }
    }
}

/// The viewer of one request, resolved from its session once, before the request is
/// handled; the server puts one in every request that may show team data.
#[derive(Clone, Debug)]
pub struct RequestViewer(pub Result<Option<Viewer>, AppError>);

/// Turns what a session remembers into a viewer, reading roles afresh.
pub async fn resolve(state: &AppState, signed_in: Option<&SignedIn>) -> Result<Option<Viewer>, AppError> {
    let db = &state.db;
    let viewer = match signed_in {
        Some(SignedIn::Member { workspace_id, member_id }) => {
            let workspace = workspaces::find(db.pool(), workspace_id).await?.filter(|w| w.is_active());
            let member = members::find(db.pool(), workspace_id, member_id).await?.filter(|m| !m.is_deleted);
            // A guest the workspace leaves out sees none of the team's answers, here as in Slack.
            let member =
                member.filter(|m| workspace.as_ref().is_some_and(|w| !services::members::is_left_out_guest(w, m)));
            member.map(|member| Viewer {
                db: db.clone(),
                workspace_id: member.workspace_id.clone(),
                role: if member.manages_rapport() { Role::Admin } else { Role::Member },
                member_id: Some(member.id),
                name: member.name,
                billing_notice: None,
            })
        }
        Some(SignedIn::AdminAccount { account_id }) => {
            let account = admin_accounts::find(db.pool(), account_id).await?;
            match account {
                Some(_) => {
                    single_workspace(db).await?.map(|workspace_id| Viewer::workspace_admin(db.clone(), workspace_id))
                }
                None => None,
            }
        }
        None => match &state.demo_team_id {
            Some(demo_team) => workspaces::find_by_slack_team_id(db.pool(), demo_team).await?.map(|demo| Viewer {
                db: db.clone(),
                workspace_id: demo.id,
                role: Role::Visitor,
                member_id: None,
                name: String::new(),
                billing_notice: None,
            }),
            None => None,
        },
    };
    Ok(viewer)
}

/// The one installed workspace of a self-hosted Rapport, which its admin account manages;
/// `None` before the install, or when several are installed (then nobody can tell which).
pub async fn single_workspace(db: &Db) -> Result<Option<String>, AppError> {
    let installed: Vec<_> = workspaces::list(db.pool(), 2).await?.into_iter().filter(|w| w.is_active()).collect();
    Ok(match installed.as_slice() {
        [only] => Some(only.id.clone()),
        _ => None,
    })
}
