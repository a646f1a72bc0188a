//! Browser sessions: tower-sessions with its records in Rapport's own database, so every
//! instance behind a load balancer sees the same sessions. A session is stored only once
//! something is kept in it: at sign-in, or when an install or a Sign in with Slack starts
//! ([`keep_for_flow`]). Browsing anonymously stores nothing and sets no cookie. A signed-in
//! session ends after [`SIGNED_IN_LIFETIME`] unused ([`renew_if_due`]).

use app::server::{
    db::{Db, sessions},
    now_ms,
    viewer::SESSION_KEY,
};
use async_trait::async_trait;
use serde::Serialize;
use time::OffsetDateTime;
use tower_sessions::{
    Expiry, Session, SessionStore,
    session::{self, Id, Record},
    session_store,
};

/// How long a signed-in session lasts unused: each save starts it again.
pub const SIGNED_IN_LIFETIME: time::Duration = time::Duration::days(14);

/// The session key under which a signed-in session notes when it was last saved (Unix ms).
pub const RENEWED_AT_KEY: &str = "renewed_at_ms";
/// How long a signed-in session in use goes between saves.
pub const RENEW_EVERY_MS: i64 = 24 * 60 * 60 * 1000;

/// Keeps a signed-in session alive while it is used; called at sign-in and on every request
/// of a signed-in viewer. tower-sessions saves a session, and sends its cookie with a fresh
/// [`SIGNED_IN_LIFETIME`], only when the session changed, so one used every day would still
/// end that long after sign-in; saving it on every request would make every page view a
/// write. So it is saved at most once in [`RENEW_EVERY_MS`] (a day, and at once when its note
/// is missing or from the future). A failure only leaves the session as it was.
pub async fn renew_if_due(session: &Session) {
    let now = now_ms();
    let renewed_at = session.get::<i64>(RENEWED_AT_KEY).await.unwrap_or_else(|error| {
        tracing::warn!(error = %error, "could not read when a session was last renewed");
        None
    });
    if renewed_at.is_some_and(|at| (0..RENEW_EVERY_MS).contains(&(now - at))) {
        return;
    }
    if let Err(error) = session.insert(RENEWED_AT_KEY, now).await {
        tracing::warn!(error = %error, "could not renew a session");
    }
}

/// How long a visitor's half-finished install or Sign in with Slack keeps its session, so a
/// visitor who never comes back leaves no long-lived row.
const FLOW_LIFETIME: time::Duration = time::Duration::minutes(30);

/// Keeps `value` under `key` for a flow that ends on a later request (the `state` of an
/// install or a Sign in with Slack). A visitor's session then lasts [`FLOW_LIFETIME`]; a
/// signed-in session keeps its own lifetime.
pub async fn keep_for_flow(session: &Session, key: &str, value: impl Serialize) -> Result<(), session::Error> {
    if session.get_value(SESSION_KEY).await?.is_none() {
        session.set_expiry(Some(Expiry::AtDateTime(OffsetDateTime::now_utc() + FLOW_LIFETIME)));
    }
    session.insert(key, value).await
}

/// A `SessionStore` over the `sessions` table.
#[derive(Clone, Debug)]
pub struct DbSessionStore {
    db: Db,
}

impl DbSessionStore {
    pub fn new(db: Db) -> Self {
        DbSessionStore { db }
    }

    /// Deletes expired sessions; run from time to time.
    pub async fn delete_expired(&self) -> anyhow::Result<u64> {
        Ok(sessions::delete_expired(self.db.pool(), now_ms()).await?)
    }
}

fn row(record: &Record) -> session_store::Result<sessions::SessionRow> {
    let data = serde_json::to_string(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))?;
    let expires_at = i64::try_from(record.expiry_date.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
    Ok(sessions::SessionRow { id: record.id.to_string(), data, expires_at })
}

fn backend(error: sqlx::Error) -> session_store::Error {
    session_store::Error::Backend(error.to_string())
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A new random id on the rare collision, rather than overwriting someone's session.
        while !sessions::insert_if_new(self.db.pool(), &row(record)?).await.map_err(backend)? {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        sessions::upsert(self.db.pool(), &row(record)?).await.map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let Some(found) = sessions::find_valid(self.db.pool(), &id.to_string(), now_ms()).await.map_err(backend)?
        else {
            return Ok(None);
        };
        let data = serde_json::from_str(&found.data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(found.expires_at) * 1_000_000)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record { id: *id, data, expiry_date }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sessions::delete(self.db.pool(), &id.to_string()).await.map_err(backend)
    }
}
