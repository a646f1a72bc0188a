//! The `workspaces` table: one row per Slack workspace (team) using Rapport.

use sqlx::{Any, Executor};

use super::flag;

/// Whether Rapport is installed in a workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkspaceStatus {
    Active,
    /// Slack said the app was removed or its tokens revoked.
    Uninstalled,
}

impl WorkspaceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkspaceStatus::Active => "active",
            WorkspaceStatus::Uninstalled => "uninstalled",
        }
    }

    fn parse(raw: &str) -> sqlx::Result<WorkspaceStatus> {
        match raw {
            "active" => Ok(WorkspaceStatus::Active),
            "uninstalled" => Ok(WorkspaceStatus::Uninstalled),
            other => Err(super::decode_error("workspaces.status", other)),
        }
    }
}

/// How team-visible answers reach the sharing channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShareMode {
    /// Each answer as it comes.
    Immediate,
    /// One post a day.
    Digest,
}

impl ShareMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ShareMode::Immediate => "immediate",
            ShareMode::Digest => "digest",
        }
    }

    pub fn parse(raw: &str) -> sqlx::Result<ShareMode> {
        match raw {
            "immediate" => Ok(ShareMode::Immediate),
            "digest" => Ok(ShareMode::Digest),
            other => Err(super::decode_error("workspaces.share_mode", other)),
        }
    }
}

/// A Slack workspace (team) using Rapport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    pub id: String,
    pub slack_team_id: String,
    pub name: String,
    pub default_time_zone: String,
    pub status: WorkspaceStatus,
    pub uninstalled_at: Option<i64>,
    pub bot_user_id: Option<String>,
    pub sharing_channel_id: Option<String>,
    pub share_mode: ShareMode,
    pub last_digest_at: Option<i64>,
    pub questions_enabled: bool,
    /// The bot token from an OAuth install, encrypted; `None` when the token comes from the
    /// environment (self-hosted) or the workspace was uninstalled.
    pub bot_token_ciphertext: Option<Vec<u8>>,
    pub installed_by_slack_user_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Whether guests are asked too.
    pub include_guests: bool,
    /// Slack asked us to slow down: nothing is sent to this workspace before this time.
    pub sending_paused_until: Option<i64>,
    /// Why Slack refused this workspace's token for good, if it did; cleared by a re-install.
    pub delivery_stopped_reason: Option<String>,
}

impl Workspace {
    /// Installed (not removed from Slack).
    pub fn is_active(&self) -> bool {
        self.status == WorkspaceStatus::Active
    }

    /// Slack asked the workspace to slow down and the wait is not over at `now_ms`.
    pub fn is_waiting_for_slack(&self, now_ms: i64) -> bool {
        self.sending_paused_until.is_some_and(|until| until > now_ms)
    }
}

/// A `workspaces` row as stored (flags 0/1, statuses as text); becomes a [`Workspace`].
#[derive(sqlx::FromRow)]
struct WorkspaceRow {
    id: String,
    slack_team_id: String,
    name: String,
    default_time_zone: String,
    status: String,
    uninstalled_at: Option<i64>,
    bot_user_id: Option<String>,
    sharing_channel_id: Option<String>,
    share_mode: String,
    last_digest_at: Option<i64>,
    questions_enabled: i64,
    bot_token_ciphertext: Option<Vec<u8>>,
    installed_by_slack_user_id: Option<String>,
    created_at: i64,
    updated_at: i64,
    include_guests: i64,
    sending_paused_until: Option<i64>,
    delivery_stopped_reason: Option<String>,
}

impl TryFrom<WorkspaceRow> for Workspace {
    type Error = sqlx::Error;

    fn try_from(row: WorkspaceRow) -> sqlx::Result<Workspace> {
        Ok(Workspace {
            status: WorkspaceStatus::parse(&row.status)?,
            share_mode: ShareMode::parse(&row.share_mode)?,
            questions_enabled: flag(row.questions_enabled),
            include_guests: flag(row.include_guests),
            id: row.id,
            slack_team_id: row.slack_team_id,
            name: row.name,
            default_time_zone: row.default_time_zone,
            uninstalled_at: row.uninstalled_at,
            bot_user_id: row.bot_user_id,
            sharing_channel_id: row.sharing_channel_id,
            last_digest_at: row.last_digest_at,
            bot_token_ciphertext: row.bot_token_ciphertext,
            installed_by_slack_user_id: row.installed_by_slack_user_id,
            created_at: row.created_at,
            updated_at: row.updated_at,
            sending_paused_until: row.sending_paused_until,
            delivery_stopped_reason: row.delivery_stopped_reason,
        })
    }
}

pub async fn insert<'e>(ex: impl Executor<'e, Database = Any>, row: &Workspace) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO workspaces (id, slack_team_id, name, default_time_zone, status, uninstalled_at,
                                 bot_user_id, sharing_channel_id, share_mode, last_digest_at, questions_enabled,
                                 bot_token_ciphertext, installed_by_slack_user_id, created_at, updated_at,
                                 include_guests, sending_paused_until, delivery_stopped_reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
    )
    .bind(&row.id)
    .bind(&row.slack_team_id)
    .bind(&row.name)
    .bind(&row.default_time_zone)
    .bind(row.status.as_str())
    .bind(row.uninstalled_at)
    .bind(&row.bot_user_id)
    .bind(&row.sharing_channel_id)
    .bind(row.share_mode.as_str())
    .bind(row.last_digest_at)
    .bind(i64::from(row.questions_enabled))
    .bind(&row.bot_token_ciphertext)
    .bind(&row.installed_by_slack_user_id)
    .bind(row.created_at)
    .bind(row.updated_at)
    .bind(i64::from(row.include_guests))
    .bind(row.sending_paused_until)
    .bind(&row.delivery_stopped_reason)
    .execute(ex)
    .await?;
    Ok(())
}

pub async fn find<'e>(ex: impl Executor<'e, Database = Any>, id: &str) -> sqlx::Result<Option<Workspace>> {
    let row: Option<WorkspaceRow> =
        sqlx::query_as("SELECT * FROM workspaces WHERE id = $1").bind(id).fetch_optional(ex).await?;
    row.map(Workspace::try_from).transpose()
}

pub async fn find_by_slack_team_id<'e>(
    ex: impl Executor<'e, Database = Any>,
    slack_team_id: &str,
) -> sqlx::Result<Option<Workspace>> {
    let row: Option<WorkspaceRow> = sqlx::query_as("SELECT * FROM workspaces WHERE slack_team_id = $1")
        .bind(slack_team_id)
        .fetch_optional(ex)
        .await?;
    row.map(Workspace::try_from).transpose()
}

/// The first `limit` workspaces, oldest first.
pub async fn list<'e>(ex: impl Executor<'e, Database = Any>, limit: i64) -> sqlx::Result<Vec<Workspace>> {
    let rows: Vec<WorkspaceRow> =
        sqlx::query_as("SELECT * FROM workspaces ORDER BY created_at, id LIMIT $1").bind(limit).fetch_all(ex).await?;
    rows.into_iter().map(Workspace::try_from).collect()
}

/// Marks a workspace uninstalled (idempotent: the first time is kept). Returns whether a
/// workspace with that Slack team id exists.
pub async fn update_uninstalled<'e>(
    ex: impl Executor<'e, Database = Any>,
    slack_team_id: &str,
    now_ms: i64,
) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "UPDATE workspaces
         SET status = 'uninstalled', uninstalled_at = COALESCE(uninstalled_at, $2), bot_token_ciphertext = NULL,
             updated_at = $2
         WHERE slack_team_id = $1",
    )
    .bind(slack_team_id)
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(result.rows_affected() > 0)
}

/// Deletes a workspace and, through its foreign keys, everything of it.
pub async fn delete<'e>(ex: impl Executor<'e, Database = Any>, workspace_id: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM workspaces WHERE id = $1").bind(workspace_id).execute(ex).await?;
    Ok(())
}

/// Deletes the workspaces uninstalled at or before `cutoff_ms` (and not installed again);
/// returns how many.
pub async fn delete_uninstalled_before<'e>(ex: impl Executor<'e, Database = Any>, cutoff_ms: i64) -> sqlx::Result<u64> {
    Ok(sqlx::query("DELETE FROM workspaces WHERE status = 'uninstalled' AND uninstalled_at <= $1")
        .bind(cutoff_ms)
        .execute(ex)
        .await?
        .rows_affected())
}

/// What an install records about a workspace: exactly the columns an install may set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installation {
    pub slack_team_id: String,
    pub name: String,
    pub bot_user_id: Option<String>,
    /// The sealed bot token; `None` when it stays in the environment, and for an OAuth
    /// install, which seals it for the workspace's id once stored ([`update_bot_token_ciphertext`]).
    pub bot_token_ciphertext: Option<Vec<u8>>,
    pub installed_by_slack_user_id: Option<String>,
}

/// Stores an install: a new workspace with Rapport's defaults (UTC, questions off, nothing
/// shared, guests out), or a re-install that refreshes the name, bot and token and makes the
/// workspace active again. Settings chosen in Rapport are kept. Returns the stored workspace.
pub async fn upsert_installation<'e>(
    ex: impl Executor<'e, Database = Any>,
    install: &Installation,
    new_id: &str,
    now_ms: i64,
) -> sqlx::Result<Workspace> {
    let row: WorkspaceRow = sqlx::query_as(
        "INSERT INTO workspaces (id, slack_team_id, name, default_time_zone, status, uninstalled_at, bot_user_id,
                                 sharing_channel_id, share_mode, questions_enabled, include_guests,
                                 bot_token_ciphertext, installed_by_slack_user_id, created_at, updated_at)
         VALUES ($1, $2, $3, 'UTC', 'active', NULL, $4, NULL, 'immediate', 0, 0, $5, $6, $7, $7)
         ON CONFLICT (slack_team_id) DO UPDATE SET
             name = excluded.name, status = 'active', uninstalled_at = NULL, bot_user_id = excluded.bot_user_id,
             bot_token_ciphertext = excluded.bot_token_ciphertext, delivery_stopped_reason = NULL,
             installed_by_slack_user_id = excluded.installed_by_slack_user_id, updated_at = excluded.updated_at
         RETURNING *",
    )
    .bind(new_id)
    .bind(&install.slack_team_id)
    .bind(&install.name)
    .bind(&install.bot_user_id)
    .bind(&install.bot_token_ciphertext)
    .bind(&install.installed_by_slack_user_id)
    .bind(now_ms)
    .fetch_one(ex)
    .await?;
    Workspace::try_from(row)
}

/// Stores a workspace's sealed bot token (an install seals it once the workspace's id is known).
pub async fn update_bot_token_ciphertext<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    sealed: &[u8],
) -> sqlx::Result<()> {
    sqlx::query("UPDATE workspaces SET bot_token_ciphertext = $2 WHERE id = $1")
        .bind(workspace_id)
        .bind(sealed)
        .execute(ex)
        .await?;
    Ok(())
}

/// A workspace's bot token as stored, sealed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SealedBotToken {
    pub workspace_id: String,
    pub bot_token_ciphertext: Vec<u8>,
}

/// Every stored bot token (uninstalled workspaces have none).
pub async fn list_sealed_bot_tokens<'e>(ex: impl Executor<'e, Database = Any>) -> sqlx::Result<Vec<SealedBotToken>> {
    sqlx::query_as(
        "SELECT id AS workspace_id, bot_token_ciphertext FROM workspaces
         WHERE bot_token_ciphertext IS NOT NULL
         ORDER BY id",
    )
    .fetch_all(ex)
    .await
}

/// Replaces a sealed bot token with `resealed` if it is still `sealed` (a re-install in the
/// meantime keeps its newer token); returns whether it was replaced.
pub async fn update_resealed_bot_token<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    sealed: &[u8],
    resealed: &[u8],
) -> sqlx::Result<bool> {
    let result =
        sqlx::query("UPDATE workspaces SET bot_token_ciphertext = $3 WHERE id = $1 AND bot_token_ciphertext = $2")
            .bind(workspace_id)
            .bind(sealed)
            .bind(resealed)
            .execute(ex)
            .await?;
    Ok(result.rows_affected() == 1)
}

/// Active workspaces sharing by daily digest whose last digest is at least `every_ms` old.
pub async fn list_digest_due<'e>(
    ex: impl Executor<'e, Database = Any>,
    now_ms: i64,
    every_ms: i64,
) -> sqlx::Result<Vec<Workspace>> {
    let rows: Vec<WorkspaceRow> = sqlx::query_as(
        "SELECT * FROM workspaces
         WHERE status = 'active' AND share_mode = 'digest' AND sharing_channel_id IS NOT NULL
           AND (last_digest_at IS NULL OR last_digest_at <= $1)
         ORDER BY id",
    )
    .bind(now_ms - every_ms)
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(Workspace::try_from).collect()
}

/// Moves `last_digest_at` from `from` to `to`; returns `false` if it was not `from` any more
/// (another instance got there first).
pub async fn update_last_digest_at<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    from: Option<i64>,
    to: Option<i64>,
) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "UPDATE workspaces SET last_digest_at = $3
         WHERE id = $1 AND (last_digest_at = $2 OR (last_digest_at IS NULL AND $2 IS NULL))",
    )
    .bind(workspace_id)
    .bind(from)
    .bind(to)
    .execute(ex)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Workspaces whose members are asked on schedule: installed, questions on, and Slack has not
/// refused their token.
pub async fn list_asking<'e>(ex: impl Executor<'e, Database = Any>) -> sqlx::Result<Vec<Workspace>> {
    let rows: Vec<WorkspaceRow> = sqlx::query_as(
        "SELECT * FROM workspaces
         WHERE status = 'active' AND questions_enabled = 1 AND delivery_stopped_reason IS NULL
         ORDER BY id",
    )
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(Workspace::try_from).collect()
}

/// The ids of the asking workspaces (as [`list_asking`]) whose `plan_after` has come by
/// `now_ms`, or that have none: something changed since they were last planned. The planner
/// reads each row when it claims it ([`claim_planning`]).
pub async fn list_plannable<'e>(ex: impl Executor<'e, Database = Any>, now_ms: i64) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT id FROM workspaces
         WHERE status = 'active' AND questions_enabled = 1 AND delivery_stopped_reason IS NULL
           AND (plan_after IS NULL OR plan_after <= $1)
         ORDER BY id",
    )
    .bind(now_ms)
    .fetch_all(ex)
    .await
}

/// A workspace claimed for planning: the row as the claim read it, and the count of changes
/// the plan is read at (see [`set_plan_after`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub workspace: Workspace,
    pub plan_changes: i64,
}

#[derive(sqlx::FromRow)]
struct ClaimedRow {
    #[sqlx(flatten)]
    workspace: WorkspaceRow,
    plan_changes: i64,
}

/// Claims the workspace's planning at `now_ms` if it still asks and its time has come:
/// holds it until `hold_until` (another pass or instance leaves it alone meanwhile; a
/// planner that dies lets go then) and returns the row as of the claim, so the plan uses
/// settings no older than its change count. `None`: not due, not asking any more, or another
/// planner was first.
pub async fn claim_planning<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    now_ms: i64,
    hold_until: i64,
) -> sqlx::Result<Option<Claimed>> {
    let row: Option<ClaimedRow> = sqlx::query_as(
        "UPDATE workspaces SET plan_after = $3
         WHERE id = $1 AND (plan_after IS NULL OR plan_after <= $2)
           AND status = 'active' AND questions_enabled = 1 AND delivery_stopped_reason IS NULL
         RETURNING *",
    )
    .bind(workspace_id)
    .bind(now_ms)
    .bind(hold_until)
    .fetch_optional(ex)
    .await?;
    row.map(|row| Ok(Claimed { workspace: Workspace::try_from(row.workspace)?, plan_changes: row.plan_changes }))
        .transpose()
}

/// Puts off planning the workspace until `plan_after`, unless something changed since its
/// claim read `plan_changes` (the migration's triggers count every change and clear the
/// hold): then it stays due for the next pass. Whether it was put off.
pub async fn set_plan_after<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    plan_changes: i64,
    plan_after: i64,
) -> sqlx::Result<bool> {
    let result = sqlx::query("UPDATE workspaces SET plan_after = $3 WHERE id = $1 AND plan_changes = $2")
        .bind(workspace_id)
        .bind(plan_changes)
        .bind(plan_after)
        .execute(ex)
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Turns asking on or off, and guests in or out.
pub async fn update_asking<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    questions_enabled: bool,
    include_guests: bool,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE workspaces SET questions_enabled = $2, include_guests = $3, updated_at = $4 WHERE id = $1")
        .bind(workspace_id)
        .bind(i64::from(questions_enabled))
        .bind(i64::from(include_guests))
        .bind(now_ms)
        .execute(ex)
        .await?;
    Ok(())
}

/// Sets where team-visible answers are posted and how.
pub async fn update_sharing<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    sharing_channel_id: &str,
    share_mode: ShareMode,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE workspaces SET sharing_channel_id = $2, share_mode = $3, updated_at = $4 WHERE id = $1")
        .bind(workspace_id)
        .bind(sharing_channel_id)
        .bind(share_mode.as_str())
        .bind(now_ms)
        .execute(ex)
        .await?;
    Ok(())
}

/// Holds every send to the workspace until `until` (Slack's `Retry-After`); an earlier
/// hold never shortens a later one.
pub async fn update_sending_paused_until<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    until: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE workspaces SET sending_paused_until = $2
         WHERE id = $1 AND (sending_paused_until IS NULL OR sending_paused_until < $2)",
    )
    .bind(workspace_id)
    .bind(until)
    .execute(ex)
    .await?;
    Ok(())
}

/// How many workspaces' sending is held at `now_ms` because Slack asked to wait.
pub async fn count_sending_paused<'e>(ex: impl Executor<'e, Database = Any>, now_ms: i64) -> sqlx::Result<i64> {
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM workspaces WHERE sending_paused_until > $1")
        .bind(now_ms)
        .fetch_one(ex)
        .await?;
    Ok(count)
}

/// Records that Slack refused the workspace's token for good; nothing is sent until a re-install.
pub async fn update_delivery_stopped<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    reason: &str,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE workspaces SET delivery_stopped_reason = $2, updated_at = $3 WHERE id = $1")
        .bind(workspace_id)
        .bind(reason)
        .bind(now_ms)
        .execute(ex)
        .await?;
    Ok(())
}
