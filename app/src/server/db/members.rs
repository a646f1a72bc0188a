//! The `members` table: the people of a workspace, as Slack describes them.

use std::sync::LazyLock;

use sqlx::{Any, AnyConnection, Executor, FromRow as _, any::AnyRow};

use super::{BoundQuery, LIST_SLOTS, bind_padded, bind_slots, case_slots, fetch_listed, flag, prompts::PromptStatus};

/// A person of a workspace, as Slack describes them plus Rapport's own settings for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: String,
    pub workspace_id: String,
    pub slack_user_id: String,
    pub name: String,
    pub title: String,
    pub avatar_url: String,
    pub time_zone: Option<String>,
    pub is_bot: bool,
    /// Deactivated in Slack: their answers leave the dashboard.
    pub is_deleted: bool,
    pub is_guest: bool,
    pub is_opted_out: bool,
    /// Promoted to admin in Rapport (`/admin/members`).
    pub is_admin: bool,
    /// A workspace owner or admin in Slack: an admin of Rapport too.
    pub is_slack_admin: bool,
    pub dm_channel_id: Option<String>,
    /// Questions are paused until this time (Unix ms), if set.
    pub paused_until: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// A member who joined after the install gets the first-week pack until this time.
    pub welcome_until: Option<i64>,
    /// When the sharing channel got their "Meet X" post.
    pub introduced_at: Option<i64>,
    /// Why Slack refused messages to this member for good, if it did.
    pub delivery_stopped_reason: Option<String>,
    /// When the member asked Rapport to forget them: no profile, never asked again.
    pub forgotten_at: Option<i64>,
    /// An admin left them out of questions.
    pub is_excluded: bool,
}

impl Member {
    /// Where to message the member: their DM channel with the bot once known, else their
    /// user id (Slack opens the DM).
    pub fn dm_target(&self) -> String {
        self.dm_channel_id.clone().unwrap_or_else(|| self.slack_user_id.clone())
    }

    /// Whether the member manages Rapport: an owner or admin in Slack, or promoted here.
    pub fn manages_rapport(&self) -> bool {
        self.is_admin || self.is_slack_admin
    }
}

/// A `members` row as stored (flags 0/1); becomes a [`Member`].
#[derive(Debug, Clone, sqlx::FromRow)]
struct MemberRow {
    id: String,
    workspace_id: String,
    slack_user_id: String,
    name: String,
    title: String,
    avatar_url: String,
    time_zone: Option<String>,
    is_bot: i64,
    is_deleted: i64,
    is_guest: i64,
    is_opted_out: i64,
    is_admin: i64,
    is_slack_admin: i64,
    dm_channel_id: Option<String>,
    paused_until: Option<i64>,
    created_at: i64,
    updated_at: i64,
    welcome_until: Option<i64>,
    introduced_at: Option<i64>,
    delivery_stopped_reason: Option<String>,
    forgotten_at: Option<i64>,
    is_excluded: i64,
}

impl From<MemberRow> for Member {
    fn from(row: MemberRow) -> Member {
        Member {
            id: row.id,
            workspace_id: row.workspace_id,
            slack_user_id: row.slack_user_id,
            name: row.name,
            title: row.title,
            avatar_url: row.avatar_url,
            time_zone: row.time_zone,
            is_bot: flag(row.is_bot),
            is_deleted: flag(row.is_deleted),
            is_guest: flag(row.is_guest),
            is_opted_out: flag(row.is_opted_out),
            is_admin: flag(row.is_admin),
            is_slack_admin: flag(row.is_slack_admin),
            dm_channel_id: row.dm_channel_id,
            paused_until: row.paused_until,
            created_at: row.created_at,
            updated_at: row.updated_at,
            welcome_until: row.welcome_until,
            introduced_at: row.introduced_at,
            delivery_stopped_reason: row.delivery_stopped_reason,
            forgotten_at: row.forgotten_at,
            is_excluded: flag(row.is_excluded),
        }
    }
}

/// A member's profile as Slack sends it in `team_join`, `user_change` and `users.list`:
/// exactly the columns a sync from Slack writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackProfile {
    pub slack_user_id: String,
    pub name: String,
    pub title: String,
    pub avatar_url: String,
    pub time_zone: Option<String>,
    pub is_bot: bool,
    pub is_deleted: bool,
    pub is_guest: bool,
    /// A workspace owner or admin in Slack.
    pub is_slack_admin: bool,
}

/// Stores a new member.
pub async fn insert<'e>(ex: impl Executor<'e, Database = Any>, row: &Member) -> sqlx::Result<()> {
    let sql = super::insert_sql(INSERT, 1);
    bind_insert(sqlx::query(&sql), row).execute(ex).await?;
    Ok(())
}

/// Stores many new members at once (a bulk load), [`super::ROWS_PER_INSERT`] to a statement.
pub async fn insert_many(conn: &mut AnyConnection, rows: &[Member]) -> sqlx::Result<()> {
    super::insert_rows(conn, INSERT, rows, bind_insert).await
}

/// The insert's columns; [`bind_insert`] binds a member's values in this order.
const INSERT: &str = "INSERT INTO members (id, workspace_id, slack_user_id, name, title, avatar_url, time_zone,
                                           is_bot, is_deleted, is_guest, is_opted_out, is_admin, dm_channel_id,
                                           paused_until, created_at, updated_at, welcome_until, introduced_at,
                                           delivery_stopped_reason, is_slack_admin, sort_name, filter_text)";

fn bind_insert<'q>(query: BoundQuery<'q>, row: &'q Member) -> BoundQuery<'q> {
    query
        .bind(&row.id)
        .bind(&row.workspace_id)
        .bind(&row.slack_user_id)
        .bind(&row.name)
        .bind(&row.title)
        .bind(&row.avatar_url)
        .bind(&row.time_zone)
        .bind(i64::from(row.is_bot))
        .bind(i64::from(row.is_deleted))
        .bind(i64::from(row.is_guest))
        .bind(i64::from(row.is_opted_out))
        .bind(i64::from(row.is_admin))
        .bind(&row.dm_channel_id)
        .bind(row.paused_until)
        .bind(row.created_at)
        .bind(row.updated_at)
        .bind(row.welcome_until)
        .bind(row.introduced_at)
        .bind(&row.delivery_stopped_reason)
        .bind(i64::from(row.is_slack_admin))
        .bind(sort_name(&row.name))
        .bind(filter_text(&row.name, &row.title))
}

/// How the directory orders a name: lower-cased here rather than in SQL, where SQLite
/// lower-cases only ASCII and PostgreSQL by its locale; the column compares code points on
/// both (`COLLATE "C"` on PostgreSQL), so both databases list people in the same order.
pub fn sort_name(name: &str) -> String {
    name.to_lowercase()
}

/// What the directory's filter looks through: the name and title, lower-cased as
/// [`sort_name`] is.
pub fn filter_text(name: &str, title: &str) -> String {
    format!("{name} {title}").to_lowercase()
}

/// A member of `workspace_id`, or `None` when the id belongs to no member of that workspace.
pub async fn find<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    member_id: &str,
) -> sqlx::Result<Option<Member>> {
    let row: Option<MemberRow> = sqlx::query_as("SELECT * FROM members WHERE workspace_id = $1 AND id = $2")
        .bind(workspace_id)
        .bind(member_id)
        .fetch_optional(ex)
        .await?;
    Ok(row.map(Member::from))
}

/// The members `ids` of a workspace (those that exist), in no particular order. One
/// statement for up to twenty ids.
pub async fn find_many<'e>(
    ex: impl Executor<'e, Database = Any> + Copy,
    workspace_id: &str,
    ids: &[&str],
) -> sqlx::Result<Vec<Member>> {
    static FIND: LazyLock<String> = LazyLock::new(|| {
        format!("SELECT * FROM members WHERE workspace_id = $1 AND id IN ({})", bind_slots(2, LIST_SLOTS))
    });
    let member = |row: &AnyRow| Ok(Member::from(MemberRow::from_row(row)?));
    fetch_listed(ex, &FIND, ids, |query| query.bind(workspace_id), |query, id| query.bind(*id), member).await
}

/// Every member of a workspace, by name.
pub async fn list_for_workspace<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
) -> sqlx::Result<Vec<Member>> {
    let rows: Vec<MemberRow> = sqlx::query_as("SELECT * FROM members WHERE workspace_id = $1 ORDER BY name, id")
        .bind(workspace_id)
        .fetch_all(ex)
        .await?;
    Ok(rows.into_iter().map(Member::from).collect())
}

/// Fills in the directory's sort and filter columns of members stored before they existed
/// (the migration cannot: SQL lower-cases differently from [`sort_name`]). How many.
pub async fn fill_directory_keys(db: &super::Db) -> sqlx::Result<u64> {
    let mut filled = 0;
    loop {
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT id, name, title FROM members WHERE sort_name IS NULL LIMIT 500")
                .fetch_all(db.pool())
                .await?;
        if rows.is_empty() {
            return Ok(filled);
        }
        let mut tx = db.begin_write().await?;
        for (id, name, title) in &rows {
            sqlx::query("UPDATE members SET sort_name = $2, filter_text = $3 WHERE id = $1")
                .bind(id)
                .bind(sort_name(name))
                .bind(filter_text(name, title))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        filled += rows.len() as u64;
    }
}

/// Marks a member as deactivated in Slack (their answers leave the dashboard).
pub async fn update_deleted<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    member_id: &str,
    is_deleted: bool,
    now_ms: i64,
) -> sqlx::Result<u64> {
    let result = sqlx::query("UPDATE members SET is_deleted = $3, updated_at = $4 WHERE workspace_id = $1 AND id = $2")
        .bind(workspace_id)
        .bind(member_id)
        .bind(i64::from(is_deleted))
        .bind(now_ms)
        .execute(ex)
        .await?;
    Ok(result.rows_affected())
}

/// A member by their Slack user id within a workspace.
pub async fn find_by_slack_user_id<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    slack_user_id: &str,
) -> sqlx::Result<Option<Member>> {
    let row: Option<MemberRow> = sqlx::query_as("SELECT * FROM members WHERE workspace_id = $1 AND slack_user_id = $2")
        .bind(workspace_id)
        .bind(slack_user_id)
        .fetch_optional(ex)
        .await?;
    Ok(row.map(Member::from))
}

/// Inserts a member from Slack's profile, or refreshes the profile fields of the member
/// with the same Slack user id. Rapport's own settings (opt-out, pause, admin) are kept; a
/// member who comes back from deactivation may be reached again.
pub async fn upsert_from_slack<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    profile: &SlackProfile,
    new_id: &str,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO members (id, workspace_id, slack_user_id, name, title, avatar_url, time_zone,
                              is_bot, is_deleted, is_guest, is_opted_out, is_admin, dm_channel_id, paused_until,
                              created_at, updated_at, is_slack_admin, sort_name, filter_text)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, 0, NULL, NULL, $11, $11, $12, $13, $14)
         ON CONFLICT (workspace_id, slack_user_id) DO UPDATE SET
             name = excluded.name, sort_name = excluded.sort_name,
             title = CASE WHEN members.forgotten_at IS NULL THEN excluded.title ELSE '' END,
             filter_text = CASE WHEN members.forgotten_at IS NULL THEN excluded.filter_text ELSE excluded.sort_name END,
             avatar_url = CASE WHEN members.forgotten_at IS NULL THEN excluded.avatar_url ELSE '' END,
             time_zone = CASE WHEN members.forgotten_at IS NULL THEN excluded.time_zone ELSE NULL END, is_bot = excluded.is_bot, is_deleted = excluded.is_deleted,
             is_guest = excluded.is_guest, is_slack_admin = excluded.is_slack_admin,
             updated_at = excluded.updated_at,
             delivery_stopped_reason = CASE WHEN excluded.is_deleted = 0 AND members.is_deleted = 1 THEN NULL
                                            ELSE members.delivery_stopped_reason END",
    )
    .bind(new_id)
    .bind(workspace_id)
    .bind(&profile.slack_user_id)
    .bind(&profile.name)
    .bind(&profile.title)
    .bind(&profile.avatar_url)
    .bind(&profile.time_zone)
    .bind(i64::from(profile.is_bot))
    .bind(i64::from(profile.is_deleted))
    .bind(i64::from(profile.is_guest))
    .bind(now_ms)
    .bind(i64::from(profile.is_slack_admin))
    .bind(sort_name(&profile.name))
    .bind(filter_text(&profile.name, &profile.title))
    .execute(ex)
    .await?;
    Ok(())
}

/// Sets or clears a member's pause.
pub async fn update_paused_until<'e>(
    ex: impl Executor<'e, Database = Any>,
    member_id: &str,
    paused_until: Option<i64>,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE members SET paused_until = $2, updated_at = $3 WHERE id = $1")
        .bind(member_id)
        .bind(paused_until)
        .bind(now_ms)
        .execute(ex)
        .await?;
    Ok(())
}

/// Remembers the member's DM channel with the bot.
pub async fn update_dm_channel<'e>(
    ex: impl Executor<'e, Database = Any> + Copy,
    member_id: &str,
    dm_channel_id: &str,
    now_ms: i64,
) -> sqlx::Result<()> {
    update_dm_channels(ex, &[(member_id, dm_channel_id)], now_ms).await
}

/// Remembers the DM channel of each member (pairs of member id and channel), where Slack
/// answered a message to them. One statement for up to twenty members.
pub async fn update_dm_channels<'e>(
    ex: impl Executor<'e, Database = Any> + Copy,
    channels: &[(&str, &str)],
    now_ms: i64,
) -> sqlx::Result<()> {
    static REMEMBER: LazyLock<String> = LazyLock::new(|| {
        let (channel_by_id, ids) = case_slots("id", 2, LIST_SLOTS);
        format!("UPDATE members SET dm_channel_id = {channel_by_id}, updated_at = $1 WHERE id IN ({ids})")
    });
    for chunk in channels.chunks(LIST_SLOTS) {
        let query = sqlx::query(&REMEMBER).bind(now_ms);
        bind_padded(query, chunk, LIST_SLOTS, |query, (id, channel)| query.bind(*id).bind(*channel))
            .execute(ex)
            .await?;
    }
    Ok(())
}

/// A member who may be asked, with what the planner needs about their prompts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Askable {
    pub member: Member,
    /// The latest round they were planned into (`YYYY-MM-DD`), if any.
    pub last_round_date: Option<String>,
    /// Their open prompt, if any: id, status and when it was created.
    pub open_prompt: Option<(String, PromptStatus, i64)>,
}

#[derive(sqlx::FromRow)]
struct AskableRow {
    #[sqlx(flatten)]
    member: MemberRow,
    last_round_date: Option<String>,
    open_prompt_id: Option<String>,
    open_prompt_status: Option<String>,
    open_prompt_created_at: Option<i64>,
}

impl TryFrom<AskableRow> for Askable {
    type Error = sqlx::Error;

    fn try_from(row: AskableRow) -> sqlx::Result<Askable> {
        let open_prompt = match (row.open_prompt_id, row.open_prompt_status, row.open_prompt_created_at) {
            (Some(id), Some(status), Some(created_at)) => Some((id, PromptStatus::parse(&status)?, created_at)),
            _ => None,
        };
        Ok(Askable { member: row.member.into(), last_round_date: row.last_round_date, open_prompt })
    }
}

/// The workspace's members who may be asked now: humans (not bots, not Slackbot), active,
/// not opted out or excluded by an admin, not paused, not refused by Slack, and guests only when `include_guests`.
/// The planner's pre-selection in SQL, so a round never loads people it would not ask; the
/// rule that decides at send time is `services::delivery::deliverable`.
pub async fn list_askable<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    include_guests: bool,
    now_ms: i64,
) -> sqlx::Result<Vec<Askable>> {
    let rows: Vec<AskableRow> = sqlx::query_as(
        "SELECT m.*,
                (SELECT MAX(r.round_date) FROM prompts r WHERE r.member_id = m.id) AS last_round_date,
                o.id AS open_prompt_id, o.status AS open_prompt_status, o.created_at AS open_prompt_created_at
         FROM members m
         LEFT JOIN prompts o ON o.member_id = m.id AND o.status IN ('pending', 'in_flight', 'sent')
         WHERE m.workspace_id = $1 AND m.is_bot = 0 AND m.is_deleted = 0 AND m.is_opted_out = 0
           AND m.is_excluded = 0 AND m.slack_user_id <> 'USLACKBOT' AND (m.is_guest = 0 OR $2 = 1)
           AND (m.paused_until IS NULL OR m.paused_until <= $3) AND m.delivery_stopped_reason IS NULL
         ORDER BY m.id",
    )
    .bind(workspace_id)
    .bind(i64::from(include_guests))
    .bind(now_ms)
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(Askable::try_from).collect()
}

/// When the first of the workspace's paused members comes back (those who could be asked
/// otherwise): a pause that ends is a member who may be due again.
pub async fn earliest_pause_end<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    now_ms: i64,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "SELECT MIN(paused_until) FROM members
         WHERE workspace_id = $1 AND paused_until > $2 AND is_deleted = 0 AND is_opted_out = 0 AND is_excluded = 0",
    )
    .bind(workspace_id)
    .bind(now_ms)
    .fetch_one(ex)
    .await
}

/// Starts a new member's first week (once: a second `team_join` changes nothing).
pub async fn update_welcome_until<'e>(
    ex: impl Executor<'e, Database = Any>,
    member_id: &str,
    welcome_until: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE members SET welcome_until = $2 WHERE id = $1 AND welcome_until IS NULL")
        .bind(member_id)
        .bind(welcome_until)
        .execute(ex)
        .await?;
    Ok(())
}

/// Claims the member's "Meet X" post; `false` when it was already claimed (posted once).
pub async fn claim_introduction<'e>(
    ex: impl Executor<'e, Database = Any>,
    member_id: &str,
    now_ms: i64,
) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "UPDATE members SET introduced_at = $2
         WHERE id = $1 AND introduced_at IS NULL AND welcome_until IS NOT NULL",
    )
    .bind(member_id)
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Gives a claimed "Meet X" post back (Slack refused it), so a later answer tries again.
pub async fn release_introduction<'e>(ex: impl Executor<'e, Database = Any>, member_id: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE members SET introduced_at = NULL WHERE id = $1").bind(member_id).execute(ex).await?;
    Ok(())
}

/// Records that Slack refused messages to the member for good (`Some`), or that they are
/// reachable again (`None`).
pub async fn update_delivery_stopped<'e>(
    ex: impl Executor<'e, Database = Any>,
    member_id: &str,
    reason: Option<&str>,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE members SET delivery_stopped_reason = $2, updated_at = $3 WHERE id = $1")
        .bind(member_id)
        .bind(reason)
        .bind(now_ms)
        .execute(ex)
        .await?;
    Ok(())
}

/// Opts a member out of questions, or back in (which also ends a "forget me": they chose to
/// take part again).
pub async fn update_opted_out<'e>(
    ex: impl Executor<'e, Database = Any>,
    member_id: &str,
    opted_out: bool,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE members SET is_opted_out = $2, updated_at = $3,
             forgotten_at = CASE WHEN $2 = 0 THEN NULL ELSE forgotten_at END
         WHERE id = $1",
    )
    .bind(member_id)
    .bind(i64::from(opted_out))
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(())
}

/// "Forget me": clears what Rapport keeps about the member beyond what Slack tells it
/// (title and picture go; the name stays so Slack events still match) and opts them out.
pub async fn update_forgotten<'e>(
    ex: impl Executor<'e, Database = Any>,
    member_id: &str,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE members SET title = '', filter_text = sort_name, avatar_url = '', time_zone = NULL, is_opted_out = 1,
                            paused_until = NULL, forgotten_at = $2, updated_at = $2
         WHERE id = $1",
    )
    .bind(member_id)
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(())
}

/// An admin leaves a member out of questions, or lets them be asked again.
pub async fn update_excluded<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    member_id: &str,
    excluded: bool,
    now_ms: i64,
) -> sqlx::Result<u64> {
    Ok(sqlx::query("UPDATE members SET is_excluded = $3, updated_at = $4 WHERE workspace_id = $1 AND id = $2")
        .bind(workspace_id)
        .bind(member_id)
        .bind(i64::from(excluded))
        .bind(now_ms)
        .execute(ex)
        .await?
        .rows_affected())
}

/// Promotes a member to admin of Rapport, or takes it back (Slack's own admins stay admins).
pub async fn update_admin<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    member_id: &str,
    admin: bool,
    now_ms: i64,
) -> sqlx::Result<u64> {
    Ok(sqlx::query("UPDATE members SET is_admin = $3, updated_at = $4 WHERE workspace_id = $1 AND id = $2")
        .bind(workspace_id)
        .bind(member_id)
        .bind(i64::from(admin))
        .bind(now_ms)
        .execute(ex)
        .await?
        .rows_affected())
}
