-- Fewer indexes on prompts (postgres dialect; keep in step with sqlite, which keeps
-- prompts_id_member).
--
-- A prompt's claim, its send and its answer each change `status`, so none of those updates
-- can be a HOT update: each adds an entry to every index of the table, ten before this,
-- eight after. Each index dropped here has another that serves its queries, checked with
-- EXPLAIN ANALYZE on 594,000 prompts in 1,000 workspaces (BENCHMARKS.md, B3).
-- * prompts_member_id and prompts_one_per_round become one unique index on (member_id,
--   round_date): NULL round dates (questions asked on demand) never conflict, so it allows
--   exactly what the partial one did, and it serves every lookup by member.
-- * prompts_due holds only waiting prompts, the ones the expiry of late questions looks for:
--   claims, sends and answers no longer write to it.
-- * prompts_id_member goes: the primary key serves every lookup by id. SQLite keeps it: it
--   plans without statistics, and without it lists a member's answers by walking all of the
--   workspace's.
-- prompts_workspace_round stays: without it the admin's round overview reads every prompt
-- of the workspace, which grows with its size and age.
CREATE UNIQUE INDEX prompts_member_round ON prompts (member_id, round_date);
DROP INDEX prompts_one_per_round;
DROP INDEX prompts_member_id;
CREATE INDEX prompts_pending_due ON prompts (status, due_at) WHERE status = 'pending';
DROP INDEX prompts_due;
DROP INDEX prompts_id_member;
