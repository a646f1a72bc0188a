-- Insights and the weekly summary read a workspace's prompts by when they were sent (postgres
-- dialect; keep in step with sqlite): without this index those reads scan every prompt.
CREATE INDEX prompts_workspace_sent ON prompts (workspace_id, sent_at);
