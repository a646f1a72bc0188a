//! Self-hosted admin accounts: made from the command line (`rapport admin create`), checked
//! at sign-in. Passwords are hashed with argon2id off the async workers, at most
//! [`HASHING_AT_ONCE`] at a time, and an unknown email costs the same as a known one.

use std::sync::LazyLock;

use argon2::{
    Argon2,
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng},
};
use tokio::sync::Semaphore;

use crate::{
    error::AppError,
    features::auth::types::{Email, Password},
    server::{
        db::{
            Db,
            admin_accounts::{self, AdminAccount},
        },
        new_id,
    },
};

/// How many password hashes run at once: each takes tens of milliseconds of one core and
/// 19 MiB, so a burst of sign-ins must queue rather than starve the server.
pub const HASHING_AT_ONCE: usize = 2;

static HASHING: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(HASHING_AT_ONCE));

/// A hash of a password nobody has, checked for unknown emails so that they take as long
/// as known ones (timing must not tell which emails have an account).
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_now("not the password of anyone at all").unwrap_or_default());

/// Creates the admin account of `email`. Refused with `Conflict` when it exists.
pub async fn create_admin(db: &Db, email: &Email, password: &Password, now_ms: i64) -> Result<(), AppError> {
    let password_hash = hash(password).await?;
    let account = AdminAccount {
        id: new_id(),
        email: email.as_str().to_owned(),
        password_hash,
        created_at: now_ms,
        updated_at: now_ms,
    };
    if !admin_accounts::insert_if_new(db.pool(), &account).await? {
        return Err(AppError::Conflict(format!("{} already has an admin account", email.as_str())));
    }
    Ok(())
}

/// The admin account `email` signs in to with `password`, or `None` (unknown email or wrong
/// password: the caller cannot and should not tell which).
pub async fn verify_admin(db: &Db, email: &Email, password: &Password) -> Result<Option<AdminAccount>, AppError> {
    let account = admin_accounts::find_by_email(db.pool(), email.as_str()).await?;
    let stored = match &account {
        Some(account) => account.password_hash.clone(),
        // The first use computes the dummy hash: off the async workers, like every hash.
        None => tokio::task::spawn_blocking(|| DUMMY_HASH.clone()).await.map_err(AppError::internal)?,
    };
    let matches = verify(password, stored).await?;
    Ok(account.filter(|_| matches))
}

async fn hash(password: &Password) -> Result<String, AppError> {
    let _permit = HASHING.acquire().await.map_err(AppError::internal)?;
    let password = password.clone();
    tokio::task::spawn_blocking(move || hash_now(password.expose()))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)
}

async fn verify(password: &Password, stored: String) -> Result<bool, AppError> {
    let _permit = HASHING.acquire().await.map_err(AppError::internal)?;
    let password = password.clone();
    tokio::task::spawn_blocking(move || {
        let parsed =
            PasswordHash::new(&stored).map_err(|error| anyhow::anyhow!("a stored hash is unreadable: {error}"))?;
        anyhow::Ok(Argon2::default().verify_password(password.expose().as_bytes(), &parsed).is_ok())
    })
    .await
    .map_err(AppError::internal)?
    .map_err(AppError::internal)
}

/// argon2id with the crate's defaults (OWASP's minimum: 19 MiB, 2 passes) and a random salt.
fn hash_now(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| anyhow::anyhow!("hashing a password failed: {error}"))
}
