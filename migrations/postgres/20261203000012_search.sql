-- Search (PostgreSQL dialect; keep in step with sqlite): full-text indexes over the answers,
-- the questions and the people (name and title), read by app/src/server/db/search.rs.
--
-- `rapport_search` turns text into the tokens SQLite's FTS5 tokenizer `porter unicode61
-- remove_diacritics 0` makes of it, so that both databases find the same rows:
-- * Porter stems (the `english` configuration's Snowball stemmer stems some words
--   differently, "news" or "communication");
-- * no stop words ("the" is a word to FTS5, so it must be one here too);
-- * accents kept (FTS5 is told to keep them; `unaccent` is an extension);
-- * punctuation replaced by spaces before parsing, in every expression below, so that the
--   parser sees only runs of letters and digits as FTS5 does (it would otherwise keep
--   "ada@example.com" or "https://example.com/paint" as one token).
CREATE TEXT SEARCH DICTIONARY rapport_porter (TEMPLATE = snowball, Language = porter);
CREATE TEXT SEARCH CONFIGURATION rapport_search (COPY = simple);
ALTER TEXT SEARCH CONFIGURATION rapport_search
    ALTER MAPPING FOR asciiword, word, numword, asciihword, hword, numhword, hword_asciipart, hword_part, hword_numpart
    WITH rapport_porter;

-- Expression indexes rather than stored tsvector columns: the repositories read whole rows
-- (`SELECT * FROM members`, `q.*`), and sqlx's Any driver cannot decode a tsvector column.
-- The queries in db/search.rs repeat these expressions exactly, which is how PostgreSQL
-- knows to use the indexes; change both together.
CREATE INDEX answers_search ON answers
    USING GIN (to_tsvector('rapport_search', regexp_replace(text, '[[:punct:]]+', ' ', 'g')));

CREATE INDEX questions_search ON questions
    USING GIN (to_tsvector('rapport_search', regexp_replace(text, '[[:punct:]]+', ' ', 'g')));

-- A name counts more than a title when ranking people.
CREATE INDEX members_search ON members
    USING GIN ((setweight(to_tsvector('rapport_search', regexp_replace(name, '[[:punct:]]+', ' ', 'g')), 'A')
                || setweight(to_tsvector('rapport_search', regexp_replace(title, '[[:punct:]]+', ' ', 'g')), 'B')));
