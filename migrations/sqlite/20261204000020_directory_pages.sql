-- The directory in pages (sqlite dialect; keep in step with postgres).
--
-- `/people` shows one page of a team at a time, by name, so a team of 10,000 does not load
-- (and window over the answers of) everyone on every visit. `sort_name` is the name
-- lower-cased by the app (`db::members::sort_name`: SQLite's lower() knows only ASCII), and
-- `filter_text` the name and title lower-cased alike, for the directory's filter. Rows
-- stored before this migration get both when the app next starts (`Db::migrate`).
--
-- The index holds exactly the people the directory lists, in its order, with the columns
-- that say so: a page's offset and the count of the team are walks along it that never read
-- a member's row (without them, every member skipped was read: 66 pages a second at 10,000
-- members).
ALTER TABLE members ADD COLUMN sort_name TEXT;
ALTER TABLE members ADD COLUMN filter_text TEXT;
CREATE INDEX members_directory ON members (workspace_id, sort_name, id, is_bot, is_deleted, forgotten_at)
    WHERE is_bot = 0 AND is_deleted = 0 AND forgotten_at IS NULL;
