-- Self-hosted admin accounts (PostgreSQL dialect; keep in step with sqlite): an email and an
-- argon2id hash of the password (never the password). Made with `rapport admin create`.
CREATE TABLE admin_accounts (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
