-- 0001 foundation: sources, raw records as collected, canonical posts/authors/entities, rejects.
-- Keys are natural (sha256 of the source file, record and item numbers; platform + post id),
-- so the tables come out the same whatever order files are ingested in.

CREATE TABLE sources (
    sha256          VARCHAR PRIMARY KEY,   -- of the file's bytes
    path            VARCHAR NOT NULL,      -- as given when first ingested
    name            VARCHAR NOT NULL,      -- file name
    size_bytes      BIGINT  NOT NULL,
    format          VARCHAR NOT NULL,      -- twarc2 | v2 | v1 | archive | csv | bluesky | empty
    preset          VARCHAR,               -- csv: the column mapping's name
    context         VARCHAR,               -- JSON: what re-parsing needs beyond the records
                                           -- (a custom mapping's YAML, an archive's account)
    parser_version  VARCHAR NOT NULL,
    records_read    BIGINT  NOT NULL,
    ingested        BIGINT  NOT NULL,      -- new posts this file brought
    duplicates      BIGINT  NOT NULL,      -- posts already stored (or repeated in the file)
    rejected        BIGINT  NOT NULL       -- records in `rejects`
);

-- Every record exactly as collected: a JSONL line, a whole JSON document, or a CSV row
-- (as a JSON object of header -> cell). Normalisation reads only this table.
CREATE TABLE raw_records (
    source_sha256   VARCHAR NOT NULL,
    record_no       BIGINT  NOT NULL,      -- 1-based line (JSONL), row (CSV) or 1 (document)
    payload         VARCHAR NOT NULL,
    problem         VARCHAR                -- why the reader refused it outright (not UTF-8, empty file)
);

CREATE TABLE posts (
    platform              VARCHAR NOT NULL,   -- twitter | bluesky
    post_id               VARCHAR NOT NULL,   -- tweet id (never a float) or at:// URI
    author_id             VARCHAR,            -- user id / DID; '@handle' when the data has no id
    author_handle         VARCHAR,
    created_at            TIMESTAMPTZ,        -- UTC
    text                  VARCHAR,            -- full text, HTML entities decoded
    lang                  VARCHAR,
    kind                  VARCHAR NOT NULL CHECK (kind IN ('original', 'reply', 'repost', 'quote')),
    in_reply_to_post_id   VARCHAR,
    in_reply_to_author_id VARCHAR,
    quoted_post_id        VARCHAR,
    reposted_post_id      VARCHAR,
    conversation_id       VARCHAR,            -- thread root
    like_count            BIGINT,
    repost_count          BIGINT,
    reply_count           BIGINT,
    quote_count           BIGINT,
    impression_count      BIGINT,
    source                VARCHAR,            -- the posting client, where the data says
    withheld              VARCHAR,            -- withheld-in countries (and scope), where the data says
    retrieved_at          TIMESTAMPTZ,        -- when the collector fetched this version
    source_sha256         VARCHAR NOT NULL,   -- provenance of the version kept
    record_no             BIGINT  NOT NULL,
    item_no               BIGINT  NOT NULL,
    parser_version        VARCHAR NOT NULL
    -- unique on (platform, post_id): the merge keeps one version of each post (tested);
    -- no index, because maintaining one costs more in bulk ingest than it saves.
);

CREATE TABLE authors (
    platform          VARCHAR NOT NULL,
    author_id         VARCHAR NOT NULL,
    handle            VARCHAR,
    display_name      VARCHAR,
    bio               VARCHAR,
    location          VARCHAR,
    url               VARCHAR,
    followers_count   BIGINT,
    following_count   BIGINT,
    post_count        BIGINT,
    listed_count      BIGINT,
    verified          BOOLEAN,
    protected         BOOLEAN,
    created_at        TIMESTAMPTZ,
    profile_image_url VARCHAR,
    retrieved_at      TIMESTAMPTZ,
    source_sha256     VARCHAR NOT NULL,
    record_no         BIGINT  NOT NULL
    -- unique on (platform, author_id), kept so by the merge (tested)
);

CREATE TABLE entities (
    platform      VARCHAR NOT NULL,
    post_id       VARCHAR NOT NULL,
    kind          VARCHAR NOT NULL CHECK (kind IN ('hashtag', 'mention', 'url', 'cashtag')),
    value         VARCHAR NOT NULL,   -- tag without '#', handle without '@', or the URL as written
    normalized    VARCHAR NOT NULL,   -- lower-cased tag/handle, or the expanded URL
    start_pos     INTEGER,            -- character (code point) offsets into posts.text, 0-based
    end_pos       INTEGER,
    target_id     VARCHAR             -- mentioned account's id / DID, where known
);

CREATE TABLE rejects (
    source_sha256 VARCHAR NOT NULL,
    record_no     BIGINT  NOT NULL,
    item_no       BIGINT  NOT NULL,   -- 0 for the whole record, else the item's 1-based index
    reason        VARCHAR NOT NULL,
    raw           VARCHAR             -- the rejected text, as collected
);

