-- Search and insights at scale (SQLite dialect; keep in step with postgres), measured with
-- 10,000 members and 200,000 answers (BENCHMARKS.md).
--
-- Search: the three FTS5 indexes of migration 12 are made again with an index of
-- three-letter prefixes: a search as the member types ends in a partial word, and without it
-- FTS5 merges the lists of every word that starts alike (answers match a prefix from three
-- letters, `db::search::ANSWER_PREFIX_FROM`). Content, tokenizer and triggers are as before.

DROP TRIGGER answers_fts_after_insert;
DROP TRIGGER answers_fts_after_delete;
DROP TRIGGER answers_fts_after_update;
DROP TABLE answers_fts;

CREATE VIRTUAL TABLE answers_fts USING fts5(
    text,
    content = 'answers',
    tokenize = 'porter unicode61 remove_diacritics 0',
    prefix = '3'
);

CREATE TRIGGER answers_fts_after_insert AFTER INSERT ON answers BEGIN
    INSERT INTO answers_fts (rowid, text) VALUES (new.rowid, new.text);
END;

CREATE TRIGGER answers_fts_after_delete AFTER DELETE ON answers BEGIN
    INSERT INTO answers_fts (answers_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
END;

CREATE TRIGGER answers_fts_after_update AFTER UPDATE OF text ON answers BEGIN
    INSERT INTO answers_fts (answers_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
    INSERT INTO answers_fts (rowid, text) VALUES (new.rowid, new.text);
END;

DROP TRIGGER questions_fts_after_insert;
DROP TRIGGER questions_fts_after_delete;
DROP TRIGGER questions_fts_after_update;
DROP TABLE questions_fts;

CREATE VIRTUAL TABLE questions_fts USING fts5(
    text,
    content = 'questions',
    tokenize = 'porter unicode61 remove_diacritics 0',
    prefix = '3'
);

CREATE TRIGGER questions_fts_after_insert AFTER INSERT ON questions BEGIN
    INSERT INTO questions_fts (rowid, text) VALUES (new.rowid, new.text);
END;

CREATE TRIGGER questions_fts_after_delete AFTER DELETE ON questions BEGIN
    INSERT INTO questions_fts (questions_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
END;

CREATE TRIGGER questions_fts_after_update AFTER UPDATE OF text ON questions BEGIN
    INSERT INTO questions_fts (questions_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
    INSERT INTO questions_fts (rowid, text) VALUES (new.rowid, new.text);
END;

DROP TRIGGER members_fts_after_insert;
DROP TRIGGER members_fts_after_delete;
DROP TRIGGER members_fts_after_update;
DROP TABLE members_fts;

CREATE VIRTUAL TABLE members_fts USING fts5(
    name,
    title,
    content = 'members',
    tokenize = 'porter unicode61 remove_diacritics 0',
    prefix = '3'
);

CREATE TRIGGER members_fts_after_insert AFTER INSERT ON members BEGIN
    INSERT INTO members_fts (rowid, name, title) VALUES (new.rowid, new.name, new.title);
END;

CREATE TRIGGER members_fts_after_delete AFTER DELETE ON members BEGIN
    INSERT INTO members_fts (members_fts, rowid, name, title) VALUES ('delete', old.rowid, old.name, old.title);
END;

CREATE TRIGGER members_fts_after_update AFTER UPDATE OF name, title ON members BEGIN
    INSERT INTO members_fts (members_fts, rowid, name, title) VALUES ('delete', old.rowid, old.name, old.title);
    INSERT INTO members_fts (rowid, name, title) VALUES (new.rowid, new.name, new.title);
END;

-- The rows already stored.
INSERT INTO answers_fts (answers_fts) VALUES ('rebuild');
INSERT INTO questions_fts (questions_fts) VALUES ('rebuild');
INSERT INTO members_fts (members_fts) VALUES ('rebuild');

-- Insights: indexes that hold every column the aggregates of app/src/server/db/insights.rs
-- read, so they count from the index alone instead of visiting a row per prompt or answer.
CREATE INDEX prompts_workspace_sent_counts ON prompts (workspace_id, sent_at, status, question_id, id);
DROP INDEX prompts_workspace_sent;
CREATE INDEX answers_prompt_created ON answers (prompt_id, created_at);
CREATE INDEX answers_workspace_created_prompt ON answers (workspace_id, created_at, prompt_id);
DROP INDEX answers_workspace_id;
CREATE INDEX prompts_id_member ON prompts (id, member_id);
