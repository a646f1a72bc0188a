-- Insights from counts kept as prompts and answers change (PostgreSQL dialect; keep in step
-- with sqlite, whose file explains the tables). Counting a year of a 10,000-member team's
-- prompts and answers on every visit of `/admin/insights` took seconds (BENCHMARKS.md);
-- these tables hold the same numbers per week, kept by triggers.
--
-- A week starts on Monday 00:00 UTC (`insight_week_start`). A count falls to zero rather
-- than being deleted, and is only ever raised by an insert that names a live workspace and
-- question, so a deleted workspace, pack or question never leaves a count behind nor blocks
-- the delete.

CREATE FUNCTION insight_week_start(at_ms BIGINT) RETURNS BIGINT
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT ((at_ms - 345600000) / 604800000) * 604800000 + 345600000 $$;

CREATE TABLE insight_prompt_weeks (
    workspace_id TEXT   NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    week_start   BIGINT NOT NULL,
    question_id  TEXT   NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    status       TEXT   NOT NULL,
    prompt_count BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, week_start, question_id, status)
);
CREATE INDEX insight_prompt_weeks_question_id ON insight_prompt_weeks (question_id);

CREATE TABLE insight_answer_wait_hours (
    workspace_id TEXT   NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    question_id  TEXT   NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    wait_hour    BIGINT NOT NULL,
    week_start   BIGINT NOT NULL,
    answer_count BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, question_id, wait_hour, week_start)
);
CREATE INDEX insight_answer_wait_hours_question_id ON insight_answer_wait_hours (question_id);

CREATE TABLE insight_answer_waits (
    workspace_id TEXT   NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    question_id  TEXT   NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    wait_minute  BIGINT NOT NULL,
    week_start   BIGINT NOT NULL,
    answer_count BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, question_id, wait_minute, week_start)
);
CREATE INDEX insight_answer_waits_question_id ON insight_answer_waits (question_id);

CREATE TABLE insight_answer_hours (
    workspace_id TEXT   NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    week_start   BIGINT NOT NULL,
    hour_of_week BIGINT NOT NULL,
    answer_count BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, week_start, hour_of_week)
);

-- Worked out by `db::answers::insert` in Rust, as on SQLite (the same rules on both);
-- rows from before this migration are filled in when the server starts.
ALTER TABLE answers ADD COLUMN local_hour_of_week BIGINT;
CREATE INDEX answers_local_hour_missing ON answers (id) WHERE local_hour_of_week IS NULL;

CREATE FUNCTION insight_count_prompt() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status IS NOT DISTINCT FROM NEW.status
       AND OLD.sent_at IS NOT DISTINCT FROM NEW.sent_at AND OLD.question_id = NEW.question_id THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.sent_at IS NOT NULL THEN
        UPDATE insight_prompt_weeks SET prompt_count = prompt_count - 1
        WHERE workspace_id = OLD.workspace_id AND week_start = insight_week_start(OLD.sent_at)
          AND question_id = OLD.question_id AND status = OLD.status;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.sent_at IS NOT NULL THEN
        INSERT INTO insight_prompt_weeks AS counted (workspace_id, week_start, question_id, status, prompt_count)
        VALUES (NEW.workspace_id, insight_week_start(NEW.sent_at), NEW.question_id, NEW.status, 1)
        ON CONFLICT (workspace_id, week_start, question_id, status)
        DO UPDATE SET prompt_count = counted.prompt_count + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER insight_count_prompt
AFTER INSERT OR DELETE OR UPDATE OF status, sent_at, question_id ON prompts
FOR EACH ROW EXECUTE FUNCTION insight_count_prompt();

CREATE FUNCTION insight_count_answer() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.local_hour_of_week IS NOT DISTINCT FROM NEW.local_hour_of_week THEN
        RETURN NULL;
    END IF;
    -- A withdrawn answer leaves the median (its prompt stays answered); an answer deleted
    -- with its prompt finds none.
    -- A wait is never below zero.
    IF TG_OP = 'DELETE' THEN
        UPDATE insight_answer_waits w SET answer_count = w.answer_count - 1
        FROM prompts p
        WHERE p.id = OLD.prompt_id AND p.sent_at IS NOT NULL
          AND w.workspace_id = p.workspace_id AND w.question_id = p.question_id
          AND w.wait_minute = GREATEST(OLD.created_at - p.sent_at, 0) / 60000
          AND w.week_start = insight_week_start(p.sent_at);
        UPDATE insight_answer_wait_hours w SET answer_count = w.answer_count - 1
        FROM prompts p
        WHERE p.id = OLD.prompt_id AND p.sent_at IS NOT NULL
          AND w.workspace_id = p.workspace_id AND w.question_id = p.question_id
          AND w.wait_hour = GREATEST(OLD.created_at - p.sent_at, 0) / 3600000
          AND w.week_start = insight_week_start(p.sent_at);
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO insight_answer_waits AS counted (workspace_id, question_id, wait_minute, week_start, answer_count)
        SELECT p.workspace_id, p.question_id, GREATEST(NEW.created_at - p.sent_at, 0) / 60000,
               insight_week_start(p.sent_at), 1
        FROM prompts p
        WHERE p.id = NEW.prompt_id AND p.sent_at IS NOT NULL
        ON CONFLICT (workspace_id, question_id, wait_minute, week_start)
        DO UPDATE SET answer_count = counted.answer_count + 1;
        INSERT INTO insight_answer_wait_hours AS counted (workspace_id, question_id, wait_hour, week_start, answer_count)
        SELECT p.workspace_id, p.question_id, GREATEST(NEW.created_at - p.sent_at, 0) / 3600000,
               insight_week_start(p.sent_at), 1
        FROM prompts p
        WHERE p.id = NEW.prompt_id AND p.sent_at IS NOT NULL
        ON CONFLICT (workspace_id, question_id, wait_hour, week_start)
        DO UPDATE SET answer_count = counted.answer_count + 1;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.local_hour_of_week IS NOT NULL THEN
        UPDATE insight_answer_hours SET answer_count = answer_count - 1
        WHERE workspace_id = OLD.workspace_id AND week_start = insight_week_start(OLD.created_at)
          AND hour_of_week = OLD.local_hour_of_week;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.local_hour_of_week IS NOT NULL THEN
        INSERT INTO insight_answer_hours AS counted (workspace_id, week_start, hour_of_week, answer_count)
        VALUES (NEW.workspace_id, insight_week_start(NEW.created_at), NEW.local_hour_of_week, 1)
        ON CONFLICT (workspace_id, week_start, hour_of_week)
        DO UPDATE SET answer_count = counted.answer_count + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER insight_count_answer
AFTER INSERT OR DELETE OR UPDATE OF local_hour_of_week ON answers
FOR EACH ROW EXECUTE FUNCTION insight_count_answer();

INSERT INTO insight_prompt_weeks (workspace_id, week_start, question_id, status, prompt_count)
SELECT workspace_id, insight_week_start(sent_at), question_id, status, COUNT(*)
FROM prompts
WHERE sent_at IS NOT NULL
GROUP BY workspace_id, insight_week_start(sent_at), question_id, status;

INSERT INTO insight_answer_waits (workspace_id, question_id, wait_minute, week_start, answer_count)
SELECT p.workspace_id, p.question_id, GREATEST(a.created_at - p.sent_at, 0) / 60000, insight_week_start(p.sent_at),
       COUNT(*)
FROM answers a
JOIN prompts p ON p.id = a.prompt_id
WHERE p.sent_at IS NOT NULL
GROUP BY p.workspace_id, p.question_id, GREATEST(a.created_at - p.sent_at, 0) / 60000, insight_week_start(p.sent_at);

INSERT INTO insight_answer_wait_hours (workspace_id, question_id, wait_hour, week_start, answer_count)
SELECT workspace_id, question_id, wait_minute / 60, week_start, SUM(answer_count)
FROM insight_answer_waits
GROUP BY workspace_id, question_id, wait_minute / 60, week_start;
