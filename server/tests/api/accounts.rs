//! Self-hosted admin accounts: `rapport admin create` stores an argon2id hash, never the
//! password, and the account is checked with the same cost whether the email exists or not.

use std::{io::Write as _, process::Stdio};

use app::{
    AppError,
    features::auth::types::{Email, Password},
    server::{db::admin_accounts, services::accounts},
};

use crate::helpers::TestDb;

on_both_backends!(
    an_admin_account_keeps_a_hash_and_signs_in_only_with_its_password,
    the_admin_command_reads_the_password_from_stdin
);

fn email(raw: &str) -> Email {
    Email::parse(raw).unwrap()
}

fn password(raw: &str) -> Password {
    Password::parse(raw).unwrap()
}

async fn an_admin_account_keeps_a_hash_and_signs_in_only_with_its_password(db: TestDb) {
    accounts::create_admin(&db.db, &email("Ada@Example.com"), &password("correct horse battery"), 1).await.unwrap();

    let stored = admin_accounts::find_by_email(db.db.pool(), "ada@example.com").await.unwrap().unwrap();
    assert!(stored.password_hash.starts_with("$argon2id$"), "an argon2id PHC string");
    assert!(!stored.password_hash.contains("horse"));
    let right = accounts::verify_admin(&db.db, &email("ada@example.com"), &password("correct horse battery")).await;
    let wrong = accounts::verify_admin(&db.db, &email("ada@example.com"), &password("incorrect horse battery")).await;
    let unknown = accounts::verify_admin(&db.db, &email("eve@example.com"), &password("correct horse battery")).await;
    assert_eq!(right.unwrap().map(|account| account.id), Some(stored.id));
    assert_eq!(wrong.unwrap(), None);
    assert_eq!(unknown.unwrap(), None);

    let again = accounts::create_admin(&db.db, &email("ada@example.com"), &password("another long password"), 2).await;
    assert!(matches!(again, Err(AppError::Conflict(_))), "{again:?}");
    let kept = admin_accounts::find_by_email(db.db.pool(), "ada@example.com").await.unwrap().unwrap();
    assert_eq!(kept.password_hash, stored.password_hash, "the first account is left as it was");
}

/// Runs the `rapport` binary with `args` on `db`, writing `stdin` to it.
fn rapport(db: &TestDb, args: &[&str], stdin: &str) -> (bool, String) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
        .args(args)
        .env_clear()
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "off")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), said)
}

async fn the_admin_command_reads_the_password_from_stdin(db: TestDb) {
    let (created, said) = rapport(&db, &["admin", "create", "--email", "ops@example.com"], "a long enough secret\n");
    assert!(created, "{said}");
    assert!(said.contains("Created the admin account ops@example.com"), "{said}");
    let signs_in = accounts::verify_admin(&db.db, &email("ops@example.com"), &password("a long enough secret")).await;
    assert!(signs_in.unwrap().is_some());

    let (again, said) = rapport(&db, &["admin", "create", "--email", "ops@example.com"], "a long enough secret\n");
    assert!(!again && said.contains("already has an admin account"), "{said}");
    let (short, said) = rapport(&db, &["admin", "create", "--email", "new@example.com"], "short\n");
    assert!(!short && said.contains("password: must be at least 12 characters"), "{said}");
    assert!(admin_accounts::find_by_email(db.db.pool(), "new@example.com").await.unwrap().is_none());
}
