-- Rapport's core model (SQLite dialect). Keep in step with migrations/postgres.
-- Conventions: ids are app-generated text (UUIDv7); timestamps are Unix milliseconds (UTC);
-- flags are integers 0/1 because sqlx's Any driver cannot decode SQLite booleans.

CREATE TABLE workspaces (
    id                TEXT PRIMARY KEY NOT NULL,
    slack_team_id     TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL,
    default_time_zone TEXT NOT NULL DEFAULT 'UTC',
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);

CREATE TABLE members (
    id            TEXT PRIMARY KEY NOT NULL,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    slack_user_id TEXT NOT NULL,
    name          TEXT NOT NULL,
    title         TEXT NOT NULL DEFAULT '',
    avatar_url    TEXT NOT NULL DEFAULT '',
    time_zone     TEXT,
    is_bot        INTEGER NOT NULL DEFAULT 0 CHECK (is_bot IN (0, 1)),
    is_deleted    INTEGER NOT NULL DEFAULT 0 CHECK (is_deleted IN (0, 1)),
    is_guest      INTEGER NOT NULL DEFAULT 0 CHECK (is_guest IN (0, 1)),
    is_opted_out  INTEGER NOT NULL DEFAULT 0 CHECK (is_opted_out IN (0, 1)),
    is_admin      INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (workspace_id, slack_user_id)
);

-- A pack with no workspace is built in and offered to every workspace.
CREATE TABLE packs (
    id           TEXT PRIMARY KEY NOT NULL,
    workspace_id TEXT REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX packs_workspace_id ON packs (workspace_id);

CREATE TABLE questions (
    id          TEXT PRIMARY KEY NOT NULL,
    pack_id     TEXT NOT NULL REFERENCES packs (id) ON DELETE CASCADE,
    text        TEXT NOT NULL,
    position    INTEGER NOT NULL,
    is_disabled INTEGER NOT NULL DEFAULT 0 CHECK (is_disabled IN (0, 1)),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX questions_pack_id ON questions (pack_id, position);

-- One question to one member for one slot; the row is also the delivery job.
CREATE TABLE prompts (
    id               TEXT PRIMARY KEY NOT NULL,
    workspace_id     TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    member_id        TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    question_id      TEXT NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    due_at           INTEGER NOT NULL,
    sent_at          INTEGER,
    slack_message_ts TEXT,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'in_flight', 'sent', 'answered', 'skipped', 'failed', 'expired')),
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX prompts_member_id ON prompts (member_id, status);
CREATE INDEX prompts_due ON prompts (status, due_at);
CREATE INDEX prompts_question_id ON prompts (question_id);

CREATE TABLE answers (
    id           TEXT PRIMARY KEY NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    prompt_id    TEXT NOT NULL UNIQUE REFERENCES prompts (id) ON DELETE CASCADE,
    text         TEXT NOT NULL,
    visibility   TEXT NOT NULL CHECK (visibility IN ('team', 'only_me')),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX answers_workspace_id ON answers (workspace_id, created_at);

-- Slack event ids already accepted, so retries and duplicate deliveries run once.
CREATE TABLE slack_events (
    event_id      TEXT PRIMARY KEY NOT NULL,
    slack_team_id TEXT,
    event_type    TEXT NOT NULL,
    received_at   INTEGER NOT NULL,
    processed_at  INTEGER
);
