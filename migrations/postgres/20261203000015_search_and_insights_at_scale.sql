-- Search and insights at scale (PostgreSQL dialect; keep in step with sqlite), measured with
-- 10,000 members and 200,000 answers (BENCHMARKS.md).
--
-- Search: each answer keeps its search document as a stored column, indexed, so ranking a
-- match reads it instead of making it again from the text (the expression index of
-- migration 12 only finds the rows). The expression is the one migration 12 indexed.
ALTER TABLE answers ADD COLUMN search_document tsvector
    GENERATED ALWAYS AS (to_tsvector('rapport_search', regexp_replace(text, '[[:punct:]]+', ' ', 'g'))) STORED;
DROP INDEX answers_search;
CREATE INDEX answers_search ON answers USING GIN (search_document);

-- Insights: indexes that hold every column the aggregates of app/src/server/db/insights.rs
-- read, so they count from the index alone instead of visiting a row per prompt or answer.
CREATE INDEX prompts_workspace_sent_counts ON prompts (workspace_id, sent_at) INCLUDE (status, question_id, id);
DROP INDEX prompts_workspace_sent;
CREATE INDEX answers_prompt_created ON answers (prompt_id) INCLUDE (created_at);
CREATE INDEX answers_workspace_created_prompt ON answers (workspace_id, created_at) INCLUDE (prompt_id);
DROP INDEX answers_workspace_id;
CREATE INDEX prompts_id_member ON prompts (id) INCLUDE (member_id);
