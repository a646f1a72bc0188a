-- OAuth installs, browser sessions and built-in packs (PostgreSQL dialect; keep in step with sqlite).

-- The bot token from an OAuth install, encrypted (XChaCha20-Poly1305: nonce then ciphertext).
ALTER TABLE workspaces ADD COLUMN bot_token_ciphertext BYTEA;
ALTER TABLE workspaces ADD COLUMN installed_by_slack_user_id TEXT;

-- Browser sessions (tower-sessions records): the data is JSON, the id is the cookie's value.
CREATE TABLE sessions (
    id         TEXT PRIMARY KEY NOT NULL,
    data       TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Built-in packs are shipped with Rapport (app/src/server/services/builtin_packs.json) and
-- kept in step at every start; the first-week pack is for new members only.
ALTER TABLE packs ADD COLUMN kind TEXT NOT NULL DEFAULT 'regular' CHECK (kind IN ('regular', 'first_week'));
