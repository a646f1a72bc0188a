-- What a member manages on /me (PostgreSQL dialect; keep in step with sqlite).
-- Where an answer was posted in the sharing channel, so a withdrawal or an edit reaches Slack.
ALTER TABLE answers ADD COLUMN shared_channel_id TEXT;
ALTER TABLE answers ADD COLUMN shared_ts TEXT;
-- "Forget me": the member's answers and profile data are gone; the row stays so they are
-- never asked again unless they opt back in.
ALTER TABLE members ADD COLUMN forgotten_at BIGINT;
-- An admin left the member out of questions on /admin/members (apart from the member's own
-- opt-out, which the member controls).
ALTER TABLE members ADD COLUMN is_excluded BIGINT NOT NULL DEFAULT 0 CHECK (is_excluded IN (0, 1));
