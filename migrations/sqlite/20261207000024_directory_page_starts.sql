-- The directory's pages start at a known person (sqlite dialect; keep in step with postgres).
--
-- A page of the whole directory used to be found by walking past everyone before it in
-- `members_directory` (`OFFSET`), and the team counted by walking all of it: about 1.4 ms of
-- a visit at 10,000 members (BENCHMARKS.md, B2). The app now reads where every page starts,
-- and how many people there are, in one walk, keeps that in memory
-- (`db::directory::PageStarts`), and starts each page at its first person.
--
-- What it keeps is good while `directory_version` is what it read: every change to who the
-- directory lists, or to their order, changes it, here in triggers, so no code path and no
-- other instance can forget it. A name change that keeps the sort key, a new answer or a
-- new title changes nothing the app keeps: a page reads its people's rows afresh.
ALTER TABLE workspaces ADD COLUMN directory_version INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER directory_version_after_member_insert AFTER INSERT ON members
WHEN new.is_bot = 0 AND new.is_deleted = 0 AND new.forgotten_at IS NULL BEGIN
    UPDATE workspaces SET directory_version = directory_version + 1 WHERE id = new.workspace_id;
END;

CREATE TRIGGER directory_version_after_member_update
AFTER UPDATE OF id, workspace_id, sort_name, is_bot, is_deleted, forgotten_at ON members
WHEN old.id IS NOT new.id OR old.workspace_id IS NOT new.workspace_id
    OR old.sort_name IS NOT new.sort_name OR old.is_bot IS NOT new.is_bot
    OR old.is_deleted IS NOT new.is_deleted OR old.forgotten_at IS NOT new.forgotten_at BEGIN
    UPDATE workspaces SET directory_version = directory_version + 1 WHERE id IN (old.workspace_id, new.workspace_id);
END;

CREATE TRIGGER directory_version_after_member_delete AFTER DELETE ON members
WHEN old.is_bot = 0 AND old.is_deleted = 0 AND old.forgotten_at IS NULL BEGIN
    UPDATE workspaces SET directory_version = directory_version + 1 WHERE id = old.workspace_id;
END;
