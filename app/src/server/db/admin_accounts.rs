//! The `admin_accounts` table: self-hosted admin accounts (email and password hash).

use sqlx::{Any, Executor};

/// A stored admin account. The hash is a PHC string (`$argon2id$…`), never the password.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AdminAccount {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl std::fmt::Debug for AdminAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The hash is not the password, but it is what an attacker would try to crack.
        f.debug_struct("AdminAccount").field("id", &self.id).finish_non_exhaustive()
    }
}

/// Stores a new account. Returns `false` when the email already has one.
pub async fn insert_if_new<'e>(ex: impl Executor<'e, Database = Any>, account: &AdminAccount) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "INSERT INTO admin_accounts (id, email, password_hash, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (email) DO NOTHING",
    )
    .bind(&account.id)
    .bind(&account.email)
    .bind(&account.password_hash)
    .bind(account.created_at)
    .bind(account.updated_at)
    .execute(ex)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// The account of `email` (already lower-cased), if there is one.
pub async fn find_by_email<'e>(
    ex: impl Executor<'e, Database = Any>,
    email: &str,
) -> sqlx::Result<Option<AdminAccount>> {
    sqlx::query_as("SELECT * FROM admin_accounts WHERE email = $1").bind(email).fetch_optional(ex).await
}

/// The account with id `id`, if it still exists.
pub async fn find<'e>(ex: impl Executor<'e, Database = Any>, id: &str) -> sqlx::Result<Option<AdminAccount>> {
    sqlx::query_as("SELECT * FROM admin_accounts WHERE id = $1").bind(id).fetch_optional(ex).await
}

/// Whether any admin account exists (the sign-in page then offers the password form).
pub async fn any<'e>(ex: impl Executor<'e, Database = Any>) -> sqlx::Result<bool> {
    let found: Option<(String,)> = sqlx::query_as("SELECT id FROM admin_accounts LIMIT 1").fetch_optional(ex).await?;
    Ok(found.is_some())
}
