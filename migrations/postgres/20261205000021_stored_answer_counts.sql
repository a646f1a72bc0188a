-- Answer counts the directory and the question list read, kept as answers change (postgres
-- dialect; keep in step with sqlite, whose file explains the tables and why the members'
-- counts are not on their rows).
--
-- Each trigger that counts locks the workspace's row first (as migration 19's do): the
-- changes of one workspace's counts then happen one after the other, each statement after
-- the lock sees every change committed before it, and an answer stored while its member is
-- deactivated is counted by exactly one of the two. A member's update locks their row, then
-- the workspace's; an answer's, the workspace's, then only count rows.
CREATE TABLE member_answer_counts (
    member_id        TEXT   PRIMARY KEY NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    answer_count     BIGINT NOT NULL,
    latest_answer_id TEXT,
    latest_answer_at BIGINT
);

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

CREATE TABLE question_answer_counts (
    workspace_id TEXT   NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    question_id  TEXT   NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    answer_count BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, question_id)
);
CREATE INDEX question_answer_counts_question_id ON question_answer_counts (question_id);

-- Works a member's count and latest answer out again (no row for a member who is gone).
CREATE FUNCTION member_answer_counts_recount(member TEXT) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO member_answer_counts AS kept (member_id, answer_count, latest_answer_id, latest_answer_at)
    SELECT t.member_id, t.answer_count, t.latest_answer_id, t.latest_answer_at
    FROM member_answer_tallies t WHERE t.member_id = member
    ON CONFLICT (member_id) DO UPDATE SET answer_count = EXCLUDED.answer_count,
        latest_answer_id = EXCLUDED.latest_answer_id, latest_answer_at = EXCLUDED.latest_answer_at;
END;
$$;

-- Counts a member's new team-visible answer: one more, and the latest when it is later. No
-- answer is read, so the cost stays the same however many there are (a plan for reading
-- them, cached while the tables were empty, would walk them all).
CREATE FUNCTION member_answer_counts_add(member TEXT, answer_id TEXT, answered_at BIGINT) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO member_answer_counts AS kept (member_id, answer_count, latest_answer_id, latest_answer_at)
    VALUES (member, 1, answer_id, answered_at)
    ON CONFLICT (member_id) DO UPDATE SET answer_count = kept.answer_count + 1;
    UPDATE member_answer_counts SET latest_answer_id = answer_id, latest_answer_at = answered_at
    WHERE member_id = member
      AND (latest_answer_id IS NULL OR (answered_at, answer_id) > (latest_answer_at, latest_answer_id));
END;
$$;

CREATE FUNCTION answer_counts_keep() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    answer_row answers;
    delta BIGINT;
    member TEXT;
    question TEXT;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.visibility IS NOT DISTINCT FROM NEW.visibility
       AND OLD.created_at IS NOT DISTINCT FROM NEW.created_at THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN answer_row := OLD; ELSE answer_row := NEW; END IF;
    PERFORM 1 FROM workspaces WHERE id = answer_row.workspace_id FOR NO KEY UPDATE;
    -- No prompt: a member or pack was deleted, and their own triggers saw to the counts.
    SELECT p.member_id, p.question_id INTO member, question FROM prompts p WHERE p.id = answer_row.prompt_id;
    IF member IS NULL THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.visibility = 'team' THEN
            PERFORM member_answer_counts_add(member, NEW.id, NEW.created_at);
        END IF;
    ELSE
        PERFORM member_answer_counts_recount(member);
    END IF;
    delta := CASE
        WHEN TG_OP = 'INSERT' AND NEW.visibility = 'team' THEN 1
        WHEN TG_OP = 'DELETE' AND OLD.visibility = 'team' THEN -1
        WHEN TG_OP = 'UPDATE' AND OLD.visibility IS DISTINCT FROM NEW.visibility THEN
            CASE WHEN NEW.visibility = 'team' THEN 1 ELSE -1 END
        ELSE 0
    END;
    IF delta = 0 OR NOT EXISTS (SELECT 1 FROM members WHERE id = member AND is_deleted = 0) THEN
        RETURN NULL;
    END IF;
    UPDATE question_answer_counts SET answer_count = answer_count + delta
    WHERE workspace_id = answer_row.workspace_id AND question_id = question;
    IF NOT FOUND AND delta > 0 THEN
        INSERT INTO question_answer_counts (workspace_id, question_id, answer_count)
        VALUES (answer_row.workspace_id, question, delta);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER answer_counts_keep
AFTER INSERT OR DELETE OR UPDATE OF visibility, created_at ON answers
FOR EACH ROW EXECUTE FUNCTION answer_counts_keep();

-- A prompt deleted while its answer may still be there (its question or pack deleted): the
-- answer no longer reaches its member through it. The question's count goes with the question.
CREATE FUNCTION answer_counts_after_prompt_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM workspaces WHERE id = OLD.workspace_id FOR NO KEY UPDATE;
    PERFORM member_answer_counts_recount(OLD.member_id);
    RETURN NULL;
END;
$$;

CREATE TRIGGER answer_counts_after_prompt_delete
AFTER DELETE ON prompts
FOR EACH ROW EXECUTE FUNCTION answer_counts_after_prompt_delete();

-- A member deactivated in Slack takes their share out of each question's count; back, puts
-- it in again.
CREATE FUNCTION answer_counts_after_member_deactivation() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM workspaces WHERE id = NEW.workspace_id FOR NO KEY UPDATE;
    INSERT INTO question_answer_counts AS counted (workspace_id, question_id, answer_count)
    SELECT a.workspace_id, p.question_id, CASE WHEN NEW.is_deleted = 0 THEN COUNT(*) ELSE -COUNT(*) END
    FROM prompts p JOIN answers a ON a.prompt_id = p.id
    WHERE p.member_id = NEW.id AND a.visibility = 'team'
    GROUP BY a.workspace_id, p.question_id
    ON CONFLICT (workspace_id, question_id) DO UPDATE SET answer_count = counted.answer_count + EXCLUDED.answer_count;
    RETURN NULL;
END;
$$;

CREATE TRIGGER answer_counts_after_member_deactivation
AFTER UPDATE OF is_deleted ON members
FOR EACH ROW
WHEN (OLD.is_deleted IS DISTINCT FROM NEW.is_deleted)
EXECUTE FUNCTION answer_counts_after_member_deactivation();

-- Before the member's prompts and answers cascade away (they are then past counting).
CREATE FUNCTION answer_counts_before_member_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM workspaces WHERE id = OLD.workspace_id FOR NO KEY UPDATE;
    UPDATE question_answer_counts c SET answer_count = c.answer_count - mine.answers
    FROM (SELECT a.workspace_id, p.question_id, COUNT(*) AS answers
          FROM prompts p JOIN answers a ON a.prompt_id = p.id
          WHERE p.member_id = OLD.id AND a.visibility = 'team'
          GROUP BY a.workspace_id, p.question_id) AS mine
    WHERE c.workspace_id = mine.workspace_id AND c.question_id = mine.question_id;
    RETURN OLD;
END;
$$;

CREATE TRIGGER answer_counts_before_member_delete
BEFORE DELETE ON members
FOR EACH ROW
WHEN (OLD.is_deleted = 0)
EXECUTE FUNCTION answer_counts_before_member_delete();

-- The counts of what is already there.
INSERT INTO member_answer_counts (member_id, answer_count, latest_answer_id, latest_answer_at)
SELECT p.member_id, COUNT(*), (ARRAY_AGG(a.id ORDER BY a.created_at DESC, a.id DESC))[1],
       (ARRAY_AGG(a.created_at ORDER BY a.created_at DESC, a.id DESC))[1]
FROM prompts p JOIN answers a ON a.prompt_id = p.id
WHERE a.visibility = 'team'
GROUP BY p.member_id;

INSERT INTO question_answer_counts (workspace_id, question_id, answer_count)
SELECT a.workspace_id, p.question_id, COUNT(*)
FROM answers a
JOIN prompts p ON p.id = a.prompt_id
JOIN members m ON m.id = p.member_id
WHERE a.visibility = 'team' AND m.is_deleted = 0
GROUP BY a.workspace_id, p.question_id;
