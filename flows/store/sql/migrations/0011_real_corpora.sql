-- 0011 real corpora: dates that cannot be true, inbox files that are not corpora, files that grew.

-- A post whose timestamp is outside what its platform allows (before the platform existed, more
-- than a day after it was retrieved, or unreadable) is kept with created_at NULL; the value as
-- collected and why it was set aside are kept beside it.
ALTER TABLE posts ADD COLUMN created_at_raw VARCHAR;   -- the timestamp as written, when set aside
ALTER TABLE posts ADD COLUMN date_issue VARCHAR;       -- before_platform | after_retrieval | unreadable
-- Posts stored before this migration: a date before the platform existed is set aside the same way
-- (ingest applies every rule from now on; `ethnoflow reparse` applies them to what is stored).
UPDATE posts SET created_at_raw = created_at::VARCHAR, date_issue = 'before_platform', created_at = NULL
WHERE created_at < CASE platform WHEN 'bluesky' THEN TIMESTAMPTZ '2022-11-01 00:00:00+00'
                                 ELSE TIMESTAMPTZ '2006-03-21 00:00:00+00' END;
UPDATE authors SET created_at = NULL WHERE created_at < TIMESTAMPTZ '2006-03-21 00:00:00+00';

-- Inbox files that are not corpora (a PDF, notes.txt): skipped with a warning and not looked at
-- again until their bytes change (a new sha256).
CREATE TABLE skipped_files (
    sha256  VARCHAR PRIMARY KEY,   -- of the file's bytes when it was skipped
    path    VARCHAR NOT NULL,      -- as found
    name    VARCHAR NOT NULL,
    reason  VARCHAR NOT NULL       -- why it is not a corpus, and what to do
);

-- A source that grew (a partial copy completed later) supersedes the version it extends: the old
-- version's rows are moved to the new one, its raw records and rejects dropped.
ALTER TABLE sources ADD COLUMN supersedes VARCHAR;     -- sha256 of the earlier, shorter version

-- An honest 'unknown' role: a bio no rule reads and no role prototype resembles (or no bio at all)
-- is unknown, not 'other'. DuckDB cannot change a CHECK constraint in place, so the table is rebuilt.
CREATE TABLE author_roles_0011 (
    platform      VARCHAR NOT NULL,
    author_id     VARCHAR NOT NULL,
    handle        VARCHAR,
    role          VARCHAR NOT NULL CHECK (role IN ('student', 'resident', 'faculty',
                                                    'health_professional', 'organization', 'other', 'unknown')),
    method        VARCHAR NOT NULL CHECK (method IN ('override', 'rule', 'embedding', 'default')),
    score         DOUBLE,             -- embedding: cosine similarity to the nearest role prototype
    evidence      VARCHAR NOT NULL,   -- JSON list of strings, the deciding one first
    model_id      VARCHAR,            -- embedding model, when it decided
    basis_sha256  VARCHAR NOT NULL    -- of rules version, display name, bio, override (and model)
);
INSERT INTO author_roles_0011 SELECT * FROM author_roles;
DROP TABLE author_roles;
ALTER TABLE author_roles_0011 RENAME TO author_roles;
