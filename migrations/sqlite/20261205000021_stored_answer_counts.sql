-- Answer counts the directory and the question list read, kept as answers change (sqlite
-- dialect; keep in step with postgres).
--
-- A directory page showed each of its 48 people's count of answers and their latest one by
-- reading all of their answers, about 1,500 rows scattered over the database (69 pages a
-- second on SQLite at 10,000 members, BENCHMARKS.md), and `/questions` counted every answer
-- of the team on each visit (0.8 s). Now each member has their count and latest answer
-- stored, and each question its count per workspace, kept here in triggers so no code path
-- can forget them. Only team-visible answers count, as on the pages.
--
-- The counts live in tables of their own, not on the members' rows: on PostgreSQL, an
-- answer is stored while its workspace's row is locked (its prompt closing clears the plan,
-- migration 19), and a member's row is locked before their workspace's when the member
-- changes; writing the member's row from an answer would lock the two the other way round.

-- Each member's team-visible answers and the latest of them (by time, then id). A new answer
-- adds one and takes the latest's place when it is later; anything else (an answer removed,
-- or changing visibility or time) works the member's row out again from their answers (a
-- member has tens of answers, not thousands). A member with none may have no row.
CREATE TABLE member_answer_counts (
    member_id        TEXT    PRIMARY KEY NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    answer_count     INTEGER NOT NULL,
    latest_answer_id TEXT,
    latest_answer_at INTEGER
) WITHOUT ROWID;

-- What `member_answer_counts` holds, worked out from the answers (read one member at a time).
CREATE VIEW member_answer_tallies AS
SELECT m.id AS member_id,
       (SELECT COUNT(*) FROM prompts p JOIN answers a ON a.prompt_id = p.id
        WHERE p.member_id = m.id AND a.visibility = 'team') AS answer_count,
       (SELECT a.id FROM prompts p JOIN answers a ON a.prompt_id = p.id
        WHERE p.member_id = m.id AND a.visibility = 'team'
        ORDER BY a.created_at DESC, a.id DESC LIMIT 1) AS latest_answer_id,
       (SELECT a.created_at FROM prompts p JOIN answers a ON a.prompt_id = p.id
        WHERE p.member_id = m.id AND a.visibility = 'team'
        ORDER BY a.created_at DESC, a.id DESC LIMIT 1) AS latest_answer_at
FROM members m;

-- Team-visible answers to each question in each workspace, by members not deactivated in
-- Slack (their answers leave the dashboard). A count is raised and lowered by one as each
-- answer comes, goes or changes visibility, and by a member's whole share when they are
-- deactivated, come back, or are deleted; prompts never change question, member or
-- workspace. A count goes with its question or workspace.
CREATE TABLE question_answer_counts (
    workspace_id TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    question_id  TEXT    NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    answer_count INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, question_id)
) WITHOUT ROWID;

CREATE TRIGGER answer_counts_after_answer_insert AFTER INSERT ON answers BEGIN
    INSERT INTO member_answer_counts (member_id, answer_count, latest_answer_id, latest_answer_at)
    SELECT p.member_id, 1, new.id, new.created_at FROM prompts p
    WHERE p.id = new.prompt_id AND new.visibility = 'team'
    ON CONFLICT (member_id) DO UPDATE SET answer_count = answer_count + 1;
    UPDATE member_answer_counts SET latest_answer_id = new.id, latest_answer_at = new.created_at
    WHERE new.visibility = 'team'
      AND member_id = (SELECT member_id FROM prompts WHERE id = new.prompt_id)
      AND (latest_answer_id IS NULL OR (new.created_at, new.id) > (latest_answer_at, latest_answer_id));
    INSERT INTO question_answer_counts (workspace_id, question_id, answer_count)
    SELECT new.workspace_id, p.question_id, 1
    FROM prompts p JOIN members m ON m.id = p.member_id
    WHERE p.id = new.prompt_id AND new.visibility = 'team' AND m.is_deleted = 0
    ON CONFLICT (workspace_id, question_id) DO UPDATE SET answer_count = answer_count + 1;
END;

CREATE TRIGGER answer_counts_after_answer_update AFTER UPDATE OF visibility, created_at ON answers
WHEN old.visibility IS NOT new.visibility OR old.created_at IS NOT new.created_at
BEGIN
    INSERT INTO member_answer_counts (member_id, answer_count, latest_answer_id, latest_answer_at)
    SELECT member_id, answer_count, latest_answer_id, latest_answer_at FROM member_answer_tallies
    WHERE member_id = (SELECT member_id FROM prompts WHERE id = new.prompt_id)
    ON CONFLICT (member_id) DO UPDATE SET answer_count = excluded.answer_count,
        latest_answer_id = excluded.latest_answer_id, latest_answer_at = excluded.latest_answer_at;
    UPDATE question_answer_counts SET answer_count = answer_count + CASE WHEN new.visibility = 'team' THEN 1 ELSE -1 END
    WHERE old.visibility IS NOT new.visibility
      AND workspace_id = new.workspace_id
      AND question_id = (SELECT p.question_id FROM prompts p JOIN members m ON m.id = p.member_id
                         WHERE p.id = new.prompt_id AND m.is_deleted = 0);
    INSERT INTO question_answer_counts (workspace_id, question_id, answer_count)
    SELECT new.workspace_id, p.question_id, 1
    FROM prompts p JOIN members m ON m.id = p.member_id
    WHERE p.id = new.prompt_id AND old.visibility IS NOT new.visibility AND new.visibility = 'team'
      AND m.is_deleted = 0
    ON CONFLICT (workspace_id, question_id) DO NOTHING;
END;

-- When the answer's prompt is already gone (a member or pack deleted, cascading), the
-- prompt's and the member's own triggers have seen to the counts.
CREATE TRIGGER answer_counts_after_answer_delete AFTER DELETE ON answers BEGIN
    INSERT INTO member_answer_counts (member_id, answer_count, latest_answer_id, latest_answer_at)
    SELECT member_id, answer_count, latest_answer_id, latest_answer_at FROM member_answer_tallies
    WHERE member_id = (SELECT member_id FROM prompts WHERE id = old.prompt_id)
    ON CONFLICT (member_id) DO UPDATE SET answer_count = excluded.answer_count,
        latest_answer_id = excluded.latest_answer_id, latest_answer_at = excluded.latest_answer_at;
    UPDATE question_answer_counts SET answer_count = answer_count - 1
    WHERE old.visibility = 'team'
      AND workspace_id = old.workspace_id
      AND question_id = (SELECT p.question_id FROM prompts p JOIN members m ON m.id = p.member_id
                         WHERE p.id = old.prompt_id AND m.is_deleted = 0);
END;

-- A prompt deleted while its answer may still be there (its question or pack deleted): the
-- answer no longer reaches its member through it. The question's count goes with the question.
CREATE TRIGGER answer_counts_after_prompt_delete AFTER DELETE ON prompts BEGIN
    INSERT INTO member_answer_counts (member_id, answer_count, latest_answer_id, latest_answer_at)
    SELECT member_id, answer_count, latest_answer_id, latest_answer_at FROM member_answer_tallies
    WHERE member_id = old.member_id
    ON CONFLICT (member_id) DO UPDATE SET answer_count = excluded.answer_count,
        latest_answer_id = excluded.latest_answer_id, latest_answer_at = excluded.latest_answer_at;
END;

CREATE TRIGGER answer_counts_after_member_deactivation AFTER UPDATE OF is_deleted ON members
WHEN old.is_deleted IS NOT new.is_deleted
BEGIN
    INSERT INTO question_answer_counts (workspace_id, question_id, answer_count)
    SELECT a.workspace_id, p.question_id, CASE WHEN new.is_deleted = 0 THEN COUNT(*) ELSE -COUNT(*) END
    FROM prompts p JOIN answers a ON a.prompt_id = p.id
    WHERE p.member_id = new.id AND a.visibility = 'team'
    GROUP BY a.workspace_id, p.question_id
    ON CONFLICT (workspace_id, question_id) DO UPDATE SET answer_count = answer_count + excluded.answer_count;
END;

-- Before the member's prompts and answers cascade away (they are then past counting).
CREATE TRIGGER answer_counts_before_member_delete BEFORE DELETE ON members
WHEN old.is_deleted = 0
BEGIN
    UPDATE question_answer_counts SET answer_count = answer_count - (
        SELECT COUNT(*) FROM prompts p JOIN answers a ON a.prompt_id = p.id
        WHERE p.member_id = old.id AND a.visibility = 'team'
          AND a.workspace_id = question_answer_counts.workspace_id
          AND p.question_id = question_answer_counts.question_id)
    WHERE workspace_id = old.workspace_id
      AND question_id IN (SELECT p.question_id FROM prompts p WHERE p.member_id = old.id);
END;

-- The counts of what is already there.
INSERT INTO member_answer_counts (member_id, answer_count, latest_answer_id, latest_answer_at)
SELECT member_id, answer_count, latest_answer_id, latest_answer_at FROM member_answer_tallies WHERE answer_count > 0;

INSERT INTO question_answer_counts (workspace_id, question_id, answer_count)
SELECT a.workspace_id, p.question_id, COUNT(*)
FROM answers a
JOIN prompts p ON p.id = a.prompt_id
JOIN members m ON m.id = p.member_id
WHERE a.visibility = 'team' AND m.is_deleted = 0
GROUP BY a.workspace_id, p.question_id;
