-- The token key check (sqlite dialect; keep in step with postgres): a fixed text sealed with
-- RAPPORT_TOKEN_KEY the first time hosted mode starts (and again by `rapport rotate-token-key`),
-- so a start with another key stops at once instead of failing on every workspace's token. One row.
CREATE TABLE token_key_checks (
    id         INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    ciphertext BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
