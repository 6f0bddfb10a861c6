-- Scratch tables for one batch of raw records, and the helpers every normaliser uses.
-- A normaliser reads `raw_batch(source_sha256, record_no, payload)` (registered by
-- normalize.py for each batch) and writes the stg_* tables; merge.sql moves the winners
-- into the canonical tables.

CREATE OR REPLACE TEMP TABLE stg_posts AS SELECT * FROM posts LIMIT 0;
CREATE OR REPLACE TEMP TABLE stg_authors AS SELECT * FROM authors LIMIT 0;
CREATE OR REPLACE TEMP TABLE stg_entities AS
    SELECT *, NULL::VARCHAR AS source_sha256, NULL::BIGINT AS record_no, NULL::BIGINT AS item_no
    FROM entities LIMIT 0;
CREATE OR REPLACE TEMP TABLE stg_rejects AS SELECT * FROM rejects LIMIT 0;
CREATE OR REPLACE TEMP TABLE stg_other_facets AS
    SELECT *, NULL::VARCHAR AS source_sha256, NULL::BIGINT AS record_no, NULL::BIGINT AS item_no
    FROM other_facets LIMIT 0;

-- Twitter escapes only &, < and > in text; decode them (&amp; last, so "&amp;lt;" stays "&lt;").
CREATE OR REPLACE TEMP MACRO html_unescape(s) AS
    replace(replace(replace(s, '&lt;', '<'), '&gt;', '>'), '&amp;', '&');

-- An entity offset counted in the escaped text, moved to the same place in the decoded text.
CREATE OR REPLACE TEMP MACRO unescaped_pos(s, pos) AS
    pos - (length(substr(s, 1, pos)) - length(html_unescape(substr(s, 1, pos))));

-- Why a JSON object that is not a post was refused, from the keys it has.
CREATE OR REPLACE TEMP MACRO not_a_post_reason(j) AS CASE
    WHEN json_exists(j, '$.users') AND NOT json_exists(j, '$.data')
        THEN 'users and referenced tweets (the includes academictwitteR writes as users_*.json beside its '
             || 'data_*.json, which reads them), not posts'
    WHEN json_exists(j, '$.action') AND json_exists(j, '$.reason') THEN 'compliance event, not a post'
    WHEN json_exists(j, '$.username') OR json_exists(j, '$.screen_name') OR json_exists(j, '$.handle')
        THEN 'user profile, not a post'
    WHEN json_exists(j, '$.tweet_count') AND json_exists(j, '$.start') THEN 'tweet counts, not posts'
    WHEN json_exists(j, '$.member_count') OR json_exists(j, '$.owner_id') THEN 'list, not a post'
    WHEN json_exists(j, '$.delete') OR json_exists(j, '$.limit') OR json_exists(j, '$.scrub_geo')
        OR json_exists(j, '$.status_withheld') OR json_exists(j, '$.user_withheld')
        THEN 'stream control message, not a post'
    WHEN json_type(j) <> 'OBJECT'
        THEN 'not a post: a JSON ' || lower(json_type(j)) || ' where a post object was expected'
    ELSE 'not a post: unrecognised record (keys: '
        || array_to_string(list_sort(json_keys(j))[1:8], ', ') || ')'
END;
