-- Deleting a workspace no longer fails on its answer counts (sqlite dialect; keep in step
-- with postgres).
--
-- Nothing to change here. On PostgreSQL, a member's BEFORE DELETE trigger, run as the
-- workspace's deletion cascades to its members, updated a count row twice in one statement
-- and failed the second time on the row's foreign key to the workspace already gone. SQLite
-- checks immediate foreign keys at the end of the statement, by when the count rows have
-- cascaded away as well. The test of an admin deleting a workspace covers both databases.
SELECT 1;
