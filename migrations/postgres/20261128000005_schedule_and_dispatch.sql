-- Schedules, fair picking and reliable delivery (PostgreSQL dialect; keep in step with sqlite).

-- When a workspace's members are asked, in each member's own time zone. No row means the
-- defaults (see app/src/server/services/schedule.rs). Whether asking is on at all is
-- `workspaces.questions_enabled`.
CREATE TABLE schedules (
    workspace_id TEXT PRIMARY KEY NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    -- Bit 0 is Monday ... bit 6 is Sunday.
    weekdays     BIGINT NOT NULL CHECK (weekdays BETWEEN 1 AND 127),
    -- Minutes after local midnight.
    local_minute BIGINT NOT NULL CHECK (local_minute BETWEEN 0 AND 1439),
    cadence      TEXT NOT NULL CHECK (cadence IN ('daily', 'twice_weekly', 'weekly', 'biweekly')),
    updated_at   BIGINT NOT NULL
);

-- Guests are asked only when the workspace says so.
ALTER TABLE workspaces ADD COLUMN include_guests BIGINT NOT NULL DEFAULT 0 CHECK (include_guests IN (0, 1));
-- Slack asked us to slow down: nothing is sent to this workspace before this time.
ALTER TABLE workspaces ADD COLUMN sending_paused_until BIGINT;
-- Slack refused the workspace's token for good (invalid_auth, token_revoked, ...): why.
ALTER TABLE workspaces ADD COLUMN delivery_stopped_reason TEXT;

-- A member who joined after the install gets the first-week pack until this time.
ALTER TABLE members ADD COLUMN welcome_until BIGINT;
-- When the sharing channel got the member's "Meet X" post.
ALTER TABLE members ADD COLUMN introduced_at BIGINT;
-- Slack refused messages to this member for good (user_not_found, ...): why.
ALTER TABLE members ADD COLUMN delivery_stopped_reason TEXT;

-- The member's local date of the scheduled slot; NULL for a question asked on demand.
ALTER TABLE prompts ADD COLUMN round_date TEXT;
-- Delivery bookkeeping: tries so far, when the next may start, a dispatcher's lease (its
-- claim token and end), when a Slack call first started (so a retry looks for the message
-- before sending again), and why it failed or expired.
ALTER TABLE prompts ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE prompts ADD COLUMN next_attempt_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE prompts ADD COLUMN claimed_by TEXT;
ALTER TABLE prompts ADD COLUMN claimed_until BIGINT;
ALTER TABLE prompts ADD COLUMN send_started_at BIGINT;
ALTER TABLE prompts ADD COLUMN failure_reason TEXT;
UPDATE prompts SET next_attempt_at = due_at;
-- A send interrupted before this release left its prompt in flight with no lease and no
-- message metadata to look it up by: close it rather than risk sending it twice.
UPDATE prompts SET status = 'failed', failure_reason = 'interrupted by an upgrade' WHERE status = 'in_flight';

-- One question per member per round, however many planners run.
CREATE UNIQUE INDEX prompts_one_per_round ON prompts (member_id, round_date) WHERE round_date IS NOT NULL;
CREATE INDEX prompts_claimable ON prompts (status, next_attempt_at);
CREATE INDEX prompts_workspace_sent ON prompts (workspace_id, sent_at);
CREATE INDEX prompts_workspace_round ON prompts (workspace_id, round_date);
