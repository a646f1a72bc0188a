-- Sign-in (PostgreSQL dialect; keep in step with sqlite).
-- Slack's own workspace owners and admins are Rapport admins; `is_admin` stays the flag an
-- admin sets on /admin/members. A sync from Slack writes only `is_slack_admin`.
ALTER TABLE members ADD COLUMN is_slack_admin BIGINT NOT NULL DEFAULT 0 CHECK (is_slack_admin IN (0, 1));

-- One-time sign-in links handed out in Slack (`/rapport login`, App Home). Only a hash of
-- the token is kept, so a copy of the database signs nobody in.
CREATE TABLE sign_in_links (
    token_hash   TEXT PRIMARY KEY NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    member_id    TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT
);
CREATE INDEX sign_in_links_expires_at ON sign_in_links (expires_at);
