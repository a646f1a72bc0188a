-- Fewer indexes on prompts (sqlite dialect; keep in step with postgres, which also drops
-- prompts_id_member).
--
-- A prompt's claim, its send and its answer each change `status`, and each such update
-- writes every index that holds a changed column. Each index dropped here has another that
-- serves its queries, checked with EXPLAIN QUERY PLAN and timings on 594,000 prompts in
-- 1,000 workspaces (BENCHMARKS.md, B3).
-- * prompts_member_id and prompts_one_per_round become one unique index on (member_id,
--   round_date): NULL round dates (questions asked on demand) never conflict, so it allows
--   exactly what the partial one did, and it serves every lookup by member.
-- * prompts_due holds only waiting prompts, the ones the expiry of late questions looks for.
--   `status` stays its first column: with (due_at) alone SQLite picks prompts_claimable.
-- prompts_id_member stays here: SQLite plans without statistics, and without it lists a
-- member's answers by walking all of the workspace's. prompts_workspace_round stays too:
-- without it the admin's round overview reads every prompt of the workspace.
CREATE UNIQUE INDEX prompts_member_round ON prompts (member_id, round_date);
DROP INDEX prompts_one_per_round;
DROP INDEX prompts_member_id;
CREATE INDEX prompts_pending_due ON prompts (status, due_at) WHERE status = 'pending';
DROP INDEX prompts_due;
