-- Insights from counts kept as prompts and answers change (SQLite dialect; keep in step with
-- postgres). Counting a year of a 10,000-member team's prompts and answers on every visit of
-- `/admin/insights` took seconds (BENCHMARKS.md); these tables hold the same numbers per
-- week, kept by triggers, so a page reads a few thousand rows at most.
--
-- A week starts on Monday 00:00 UTC: `((at - 345600000) / 604800000) * 604800000 + 345600000`
-- (345,600,000 ms is the four days from the epoch, a Thursday, to Monday 1970-01-05;
-- `db::insights::MONDAY_EPOCH_OFFSET_MS`). A count falls to zero rather than being deleted,
-- and is only ever raised by an insert that names a live workspace and question, so a
-- workspace, pack or question deleted (its rows cascade) never leaves a count behind nor
-- blocks the delete.

-- Prompts sent, per week sent, question and status.
CREATE TABLE insight_prompt_weeks (
    workspace_id TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    week_start   INTEGER NOT NULL,
    question_id  TEXT    NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    status       TEXT    NOT NULL,
    prompt_count INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, week_start, question_id, status)
) WITHOUT ROWID;

-- Answers kept, per question, whole minutes from the prompt's sending to the answer, and
-- week the prompt was sent: the median time to answer, to the minute. The same per whole
-- hour waited finds the hour the median is in, so only that hour's minutes are read.
CREATE TABLE insight_answer_wait_hours (
    workspace_id TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    question_id  TEXT    NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    wait_hour    INTEGER NOT NULL,
    week_start   INTEGER NOT NULL,
    answer_count INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, question_id, wait_hour, week_start)
) WITHOUT ROWID;

CREATE TABLE insight_answer_waits (
    workspace_id TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    question_id  TEXT    NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    wait_minute  INTEGER NOT NULL,
    week_start   INTEGER NOT NULL,
    answer_count INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, question_id, wait_minute, week_start)
) WITHOUT ROWID;

-- Answers kept, per week given and hour of the week in the member's own time (0 is Monday
-- 00:00 to 01:00), for the heatmap.
CREATE TABLE insight_answer_hours (
    workspace_id TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    week_start   INTEGER NOT NULL,
    hour_of_week INTEGER NOT NULL,
    answer_count INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, week_start, hour_of_week)
) WITHOUT ROWID;

-- The hour of the week the answer was given in the member's time zone then (their own, or
-- the workspace's), worked out by `db::answers::insert` with the zone's rules: SQLite has no
-- time zones. Rows from before this migration are filled in when the server starts
-- (`db::answers::fill_local_hours`).
ALTER TABLE answers ADD COLUMN local_hour_of_week INTEGER;

CREATE TRIGGER insight_prompt_weeks_after_insert AFTER INSERT ON prompts
WHEN new.sent_at IS NOT NULL
BEGIN
    INSERT INTO insight_prompt_weeks (workspace_id, week_start, question_id, status, prompt_count)
    VALUES (new.workspace_id, ((new.sent_at - 345600000) / 604800000) * 604800000 + 345600000,
            new.question_id, new.status, 1)
    ON CONFLICT (workspace_id, week_start, question_id, status) DO UPDATE SET prompt_count = prompt_count + 1;
END;

CREATE TRIGGER insight_prompt_weeks_after_update AFTER UPDATE OF status, sent_at, question_id ON prompts
WHEN old.status IS NOT new.status OR old.sent_at IS NOT new.sent_at OR old.question_id IS NOT new.question_id
BEGIN
    UPDATE insight_prompt_weeks SET prompt_count = prompt_count - 1
    WHERE old.sent_at IS NOT NULL
      AND workspace_id = old.workspace_id
      AND week_start = ((old.sent_at - 345600000) / 604800000) * 604800000 + 345600000
      AND question_id = old.question_id
      AND status = old.status;
    INSERT INTO insight_prompt_weeks (workspace_id, week_start, question_id, status, prompt_count)
    SELECT new.workspace_id, ((new.sent_at - 345600000) / 604800000) * 604800000 + 345600000,
           new.question_id, new.status, 1
    WHERE new.sent_at IS NOT NULL
    ON CONFLICT (workspace_id, week_start, question_id, status) DO UPDATE SET prompt_count = prompt_count + 1;
END;

CREATE TRIGGER insight_prompt_weeks_after_delete AFTER DELETE ON prompts
WHEN old.sent_at IS NOT NULL
BEGIN
    UPDATE insight_prompt_weeks SET prompt_count = prompt_count - 1
    WHERE workspace_id = old.workspace_id
      AND week_start = ((old.sent_at - 345600000) / 604800000) * 604800000 + 345600000
      AND question_id = old.question_id
      AND status = old.status;
END;

-- A wait is never below zero (an answer is stored after its question was sent; a clock
-- stepping back must not make a negative minute).
CREATE TRIGGER insight_answers_after_insert AFTER INSERT ON answers
BEGIN
    INSERT INTO insight_answer_waits (workspace_id, question_id, wait_minute, week_start, answer_count)
    SELECT p.workspace_id, p.question_id, MAX(new.created_at - p.sent_at, 0) / 60000,
           ((p.sent_at - 345600000) / 604800000) * 604800000 + 345600000, 1
    FROM prompts p
    WHERE p.id = new.prompt_id AND p.sent_at IS NOT NULL
    ON CONFLICT (workspace_id, question_id, wait_minute, week_start) DO UPDATE SET answer_count = answer_count + 1;
    INSERT INTO insight_answer_wait_hours (workspace_id, question_id, wait_hour, week_start, answer_count)
    SELECT p.workspace_id, p.question_id, MAX(new.created_at - p.sent_at, 0) / 3600000,
           ((p.sent_at - 345600000) / 604800000) * 604800000 + 345600000, 1
    FROM prompts p
    WHERE p.id = new.prompt_id AND p.sent_at IS NOT NULL
    ON CONFLICT (workspace_id, question_id, wait_hour, week_start) DO UPDATE SET answer_count = answer_count + 1;
    INSERT INTO insight_answer_hours (workspace_id, week_start, hour_of_week, answer_count)
    SELECT new.workspace_id, ((new.created_at - 345600000) / 604800000) * 604800000 + 345600000,
           new.local_hour_of_week, 1
    WHERE new.local_hour_of_week IS NOT NULL
    ON CONFLICT (workspace_id, week_start, hour_of_week) DO UPDATE SET answer_count = answer_count + 1;
END;

-- Only the fill-in of rows from before this migration sets the hour later.
CREATE TRIGGER insight_answer_hours_after_update AFTER UPDATE OF local_hour_of_week ON answers
WHEN old.local_hour_of_week IS NOT new.local_hour_of_week
BEGIN
    UPDATE insight_answer_hours SET answer_count = answer_count - 1
    WHERE old.local_hour_of_week IS NOT NULL
      AND workspace_id = old.workspace_id
      AND week_start = ((old.created_at - 345600000) / 604800000) * 604800000 + 345600000
      AND hour_of_week = old.local_hour_of_week;
    INSERT INTO insight_answer_hours (workspace_id, week_start, hour_of_week, answer_count)
    SELECT new.workspace_id, ((new.created_at - 345600000) / 604800000) * 604800000 + 345600000,
           new.local_hour_of_week, 1
    WHERE new.local_hour_of_week IS NOT NULL
    ON CONFLICT (workspace_id, week_start, hour_of_week) DO UPDATE SET answer_count = answer_count + 1;
END;

-- A withdrawn answer leaves the median and the heatmap (its prompt stays answered). The
-- prompt is read before it goes: an answer deleted with its prompt finds none, and its
-- question's counts go with the question or workspace anyway.
CREATE TRIGGER insight_answers_after_delete AFTER DELETE ON answers
BEGIN
    UPDATE insight_answer_waits SET answer_count = answer_count - 1
    WHERE (workspace_id, question_id, wait_minute, week_start) IN (
        SELECT p.workspace_id, p.question_id, MAX(old.created_at - p.sent_at, 0) / 60000,
               ((p.sent_at - 345600000) / 604800000) * 604800000 + 345600000
        FROM prompts p
        WHERE p.id = old.prompt_id AND p.sent_at IS NOT NULL);
    UPDATE insight_answer_wait_hours SET answer_count = answer_count - 1
    WHERE (workspace_id, question_id, wait_hour, week_start) IN (
        SELECT p.workspace_id, p.question_id, MAX(old.created_at - p.sent_at, 0) / 3600000,
               ((p.sent_at - 345600000) / 604800000) * 604800000 + 345600000
        FROM prompts p
        WHERE p.id = old.prompt_id AND p.sent_at IS NOT NULL);
    UPDATE insight_answer_hours SET answer_count = answer_count - 1
    WHERE old.local_hour_of_week IS NOT NULL
      AND workspace_id = old.workspace_id
      AND week_start = ((old.created_at - 345600000) / 604800000) * 604800000 + 345600000
      AND hour_of_week = old.local_hour_of_week;
END;

-- The counts of what is already there (the hours follow as the server fills them in).
INSERT INTO insight_prompt_weeks (workspace_id, week_start, question_id, status, prompt_count)
SELECT workspace_id, week_start, question_id, status, COUNT(*)
FROM (SELECT workspace_id, ((sent_at - 345600000) / 604800000) * 604800000 + 345600000 AS week_start,
             question_id, status
      FROM prompts
      WHERE sent_at IS NOT NULL) AS sent
GROUP BY workspace_id, week_start, question_id, status;

INSERT INTO insight_answer_waits (workspace_id, question_id, wait_minute, week_start, answer_count)
SELECT workspace_id, question_id, wait_minute, week_start, COUNT(*)
FROM (SELECT p.workspace_id, p.question_id, MAX(a.created_at - p.sent_at, 0) / 60000 AS wait_minute,
             ((p.sent_at - 345600000) / 604800000) * 604800000 + 345600000 AS week_start
      FROM answers a
      JOIN prompts p ON p.id = a.prompt_id
      WHERE p.sent_at IS NOT NULL) AS waits
GROUP BY workspace_id, question_id, wait_minute, week_start;

INSERT INTO insight_answer_wait_hours (workspace_id, question_id, wait_hour, week_start, answer_count)
SELECT workspace_id, question_id, wait_minute / 60, week_start, SUM(answer_count)
FROM insight_answer_waits
GROUP BY workspace_id, question_id, wait_minute / 60, week_start;

-- Answers whose hour is still to be filled in, found without a scan.
CREATE INDEX answers_local_hour_missing ON answers (id) WHERE local_hour_of_week IS NULL;
