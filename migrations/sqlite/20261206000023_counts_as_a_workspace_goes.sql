-- Deleting a workspace no longer fails on its answer counts (sqlite dialect; keep in step
-- with postgres).
--
-- Nothing to change here. On PostgreSQL, a member's BEFORE DELETE trigger, run as the
-- workspace's deletion cascades to its members, updated a count row a second time and failed
-- on the row's foreign key to the workspace already gone. SQLite checks a row's foreign key
-- on an UPDATE only when the update changes the key's columns, and the count updates never
-- do. The test of an admin deleting a workspace covers both databases.
SELECT 1;
