-- Which packs each workspace asks from (SQLite dialect; keep in step with postgres).
-- No row means on: a row records a workspace switching a pack off, or on again.
CREATE TABLE workspace_packs (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    pack_id      TEXT NOT NULL REFERENCES packs (id) ON DELETE CASCADE,
    is_enabled   INTEGER NOT NULL CHECK (is_enabled IN (0, 1)),
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, pack_id)
);
