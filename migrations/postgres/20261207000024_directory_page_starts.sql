-- The directory's pages start at a known person (postgres dialect; keep in step with sqlite).
--
-- A page of the whole directory used to be found by walking past everyone before it in
-- `members_directory` (`OFFSET`), and the team counted by walking all of it: about 1.4 ms of
-- a visit at 10,000 members on SQLite (BENCHMARKS.md, B2). The app now reads where every
-- page starts, and how many people there are, in one walk, keeps that in memory
-- (`db::directory::PageStarts`), and starts each page at its first person.
--
-- What it keeps is good while `directory_version` is what it read: every change to who the
-- directory lists, or to their order, changes it, here in triggers, so no code path and no
-- other instance can forget it. A name change that keeps the sort key, a new answer or a
-- new title changes nothing the app keeps: a page reads its people's rows afresh.
--
-- The version is the id of the last transaction that made such a change, written once per
-- transaction: a transaction adding 10,000 members updates its workspace's row once, not
-- 10,000 times (every update of one row in one transaction leaves a version of it that
-- the next update has to step past).
ALTER TABLE workspaces ADD COLUMN directory_version BIGINT NOT NULL DEFAULT 0;

-- Each workspace by its id alone (`id = ...`). With both ids in one `IN (OLD..., NEW...)`,
-- each call took longer the more workspaces its transaction had made: the benchmarks' fleet
-- of 10,000 workspaces, made in one transaction, took 127 s instead of 10 (an insert of 10
-- members took 2.5 ms at first and 7.2 ms after 3,000 workspaces).
CREATE FUNCTION directory_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    this_transaction BIGINT := pg_current_xact_id()::text::bigint;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE workspaces SET directory_version = this_transaction
        WHERE id = OLD.workspace_id AND directory_version <> this_transaction;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        UPDATE workspaces SET directory_version = this_transaction
        WHERE id = NEW.workspace_id AND directory_version <> this_transaction;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER directory_version_after_member_insert
AFTER INSERT ON members
FOR EACH ROW
WHEN (NEW.is_bot = 0 AND NEW.is_deleted = 0 AND NEW.forgotten_at IS NULL)
EXECUTE FUNCTION directory_changed();

CREATE TRIGGER directory_version_after_member_update
AFTER UPDATE OF id, workspace_id, sort_name, is_bot, is_deleted, forgotten_at ON members
FOR EACH ROW
WHEN (OLD.id IS DISTINCT FROM NEW.id
    OR OLD.workspace_id IS DISTINCT FROM NEW.workspace_id
    OR OLD.sort_name IS DISTINCT FROM NEW.sort_name
    OR OLD.is_bot IS DISTINCT FROM NEW.is_bot
    OR OLD.is_deleted IS DISTINCT FROM NEW.is_deleted
    OR OLD.forgotten_at IS DISTINCT FROM NEW.forgotten_at)
EXECUTE FUNCTION directory_changed();

CREATE TRIGGER directory_version_after_member_delete
AFTER DELETE ON members
FOR EACH ROW
WHEN (OLD.is_bot = 0 AND OLD.is_deleted = 0 AND OLD.forgotten_at IS NULL)
EXECUTE FUNCTION directory_changed();
