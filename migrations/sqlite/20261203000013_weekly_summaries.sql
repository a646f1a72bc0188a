-- The weekly summary admins may get in Slack (sqlite dialect; keep in step with postgres): whether
-- it is on, and when it was last sent (so it goes out once a week, on one instance).
CREATE TABLE weekly_summaries (
    workspace_id TEXT PRIMARY KEY NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    enabled      INTEGER NOT NULL DEFAULT 0 CHECK (enabled IN (0, 1)),
    last_sent_at INTEGER,
    updated_at   INTEGER NOT NULL
);
