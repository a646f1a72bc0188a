-- People's search documents, stored (PostgreSQL dialect; keep in step with sqlite).
--
-- Migration 12 indexed people by an expression, so every match had its document made again
-- from the name and title to be checked and ranked: a one-letter search matched about 4,600
-- of 10,000 people and took 53 ms (BENCHMARKS.md). Answers keep theirs as a generated
-- column (migration 15); members cannot, because the repositories read `SELECT * FROM
-- members` and sqlx's Any driver cannot decode a tsvector. So each member's document lives
-- in this side table, one row per member, kept by a trigger on every insert and on every
-- change of name or title, and removed with the member.
--
-- The document is the expression migration 12 indexed: a name counts more than a title.
CREATE TABLE member_search_documents (
    member_id TEXT     PRIMARY KEY REFERENCES members (id) ON DELETE CASCADE,
    document  tsvector NOT NULL
);

CREATE INDEX member_search_documents_search ON member_search_documents USING GIN (document);

CREATE FUNCTION member_search_document(name TEXT, title TEXT) RETURNS tsvector
LANGUAGE sql IMMUTABLE AS $$
    SELECT setweight(to_tsvector('rapport_search', regexp_replace(name, '[[:punct:]]+', ' ', 'g')), 'A')
        || setweight(to_tsvector('rapport_search', regexp_replace(title, '[[:punct:]]+', ' ', 'g')), 'B')
$$;

CREATE FUNCTION member_search_document_keep() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO member_search_documents (member_id, document)
    VALUES (NEW.id, member_search_document(NEW.name, NEW.title))
    ON CONFLICT (member_id) DO UPDATE SET document = EXCLUDED.document;
    RETURN NULL;
END
$$;

CREATE TRIGGER member_search_document_keep
AFTER INSERT OR UPDATE OF name, title ON members
FOR EACH ROW EXECUTE FUNCTION member_search_document_keep();

INSERT INTO member_search_documents (member_id, document)
SELECT id, member_search_document(name, title) FROM members;

DROP INDEX members_search;
