-- 0010 exports interop: Bluesky facet features ethnoflow does not read as entities (formatting,
-- polls, spoilers, misspelt types such as FACETTAG), kept exactly as collected and counted, so
-- nothing a client attached to a post is lost between the raw record and the tables.
CREATE TABLE other_facets (
    platform      VARCHAR NOT NULL,
    post_id       VARCHAR NOT NULL,
    facet_no      INTEGER NOT NULL,  -- the facet's place in the record's facets, from 1
    feature_no    INTEGER NOT NULL,  -- the feature's place in that facet's features, from 1
    feature_type  VARCHAR,           -- its $type as written, e.g. app.bsky.richtext.facet#bold, FACETTAG
    byte_start    BIGINT,            -- the facet's range as written (UTF-8 bytes)
    byte_end      BIGINT,
    start_pos     INTEGER,           -- the same range in characters of posts.text, 0-based
    end_pos       INTEGER,
    feature       JSON NOT NULL      -- the feature object, as collected
);
