-- The weekly summary admins may get in Slack (postgres dialect; keep in step with sqlite): whether
-- it is on, and when it was last sent (so it goes out once a week, on one instance).
CREATE TABLE weekly_summaries (
    workspace_id TEXT PRIMARY KEY NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    enabled      BIGINT NOT NULL DEFAULT 0 CHECK (enabled IN (0, 1)),
    last_sent_at BIGINT,
    updated_at   BIGINT NOT NULL
);
