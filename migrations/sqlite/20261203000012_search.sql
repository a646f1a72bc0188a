-- Search (SQLite dialect; keep in step with postgres): FTS5 indexes over the answers, the
-- questions and the people (name and title), read by app/src/server/db/search.rs.
--
-- Each index is external-content: it keeps only its tokens and reads the text from its base
-- table by the table's implicit rowid (answers, questions and members have TEXT primary keys
-- but none is WITHOUT ROWID, so each still has one). Triggers keep every index in step with
-- each insert, update of the indexed columns, and delete (cascades from a deleted workspace
-- or pack fire them too).
--
-- Tokens are Porter stems of runs of Unicode letters and digits, accents kept: what the
-- `rapport_search` configuration makes of the same text on PostgreSQL, so that both find the
-- same rows.
--
-- VACUUM may renumber implicit rowids. After a VACUUM, rebuild the three indexes with the
-- three `'rebuild'` statements at the end of this file.

CREATE VIRTUAL TABLE answers_fts USING fts5(
    text,
    content = 'answers',
    tokenize = 'porter unicode61 remove_diacritics 0'
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

CREATE VIRTUAL TABLE questions_fts USING fts5(
    text,
    content = 'questions',
    tokenize = 'porter unicode61 remove_diacritics 0'
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

CREATE VIRTUAL TABLE members_fts USING fts5(
    name,
    title,
    content = 'members',
    tokenize = 'porter unicode61 remove_diacritics 0'
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
