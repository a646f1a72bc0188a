-- What the Slack integration needs to remember (SQLite dialect; keep in step with postgres).

-- A workspace is active until Slack says the app was uninstalled or its tokens revoked.
ALTER TABLE workspaces ADD COLUMN status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'uninstalled'));
ALTER TABLE workspaces ADD COLUMN uninstalled_at INTEGER;
ALTER TABLE workspaces ADD COLUMN bot_user_id TEXT;
-- Nothing is posted and nobody is asked until the installer picks a channel and turns questions on.
ALTER TABLE workspaces ADD COLUMN sharing_channel_id TEXT;
-- Team-visible answers go to the sharing channel at once, or in one daily digest.
ALTER TABLE workspaces ADD COLUMN share_mode TEXT NOT NULL DEFAULT 'immediate' CHECK (share_mode IN ('immediate', 'digest'));
ALTER TABLE workspaces ADD COLUMN last_digest_at INTEGER;
ALTER TABLE workspaces ADD COLUMN questions_enabled INTEGER NOT NULL DEFAULT 0 CHECK (questions_enabled IN (0, 1));

-- The member's DM channel with the bot, learnt from their messages, so sending to them does
-- not need conversations.open.
ALTER TABLE members ADD COLUMN dm_channel_id TEXT;
-- A member who paused questions until a date (Unix ms, exclusive).
ALTER TABLE members ADD COLUMN paused_until INTEGER;

-- The event as received, so an event acknowledged just before a crash is still processed.
ALTER TABLE slack_events ADD COLUMN payload TEXT NOT NULL DEFAULT '';
-- When a worker took the event; another worker may take it again once the lease is over.
ALTER TABLE slack_events ADD COLUMN claimed_at INTEGER;

-- A member never has more than one open question, whatever runs at the same time.
CREATE UNIQUE INDEX prompts_one_open ON prompts (member_id) WHERE status IN ('pending', 'in_flight', 'sent');
CREATE INDEX slack_events_unprocessed ON slack_events (processed_at, received_at);
