-- Self-hosted admin accounts (SQLite dialect; keep in step with postgres): an email and an
-- argon2id hash of the password (never the password). Made with `rapport admin create`.
CREATE TABLE admin_accounts (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
