-- The token key check (postgres dialect; keep in step with sqlite): a fixed text sealed with
-- RAPPORT_TOKEN_KEY the first time hosted mode starts (and again by `rapport rotate-token-key`),
-- so a start with another key stops at once instead of failing on every workspace's token. One row.
CREATE TABLE token_key_checks (
    id         BIGINT PRIMARY KEY NOT NULL CHECK (id = 1),
    ciphertext BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
