-- Twitter API v2 and twarc2: raw pages, stream lines (`data` is an object), flattened lines
-- and single v2 documents, mixed freely. Reads raw_batch, writes the stg_* tables.
-- {{TWEET}} and {{USER}} are json_transform structures filled in by flows/ingest/normalize.py.

-- 1. What each record is. Nearly every record of a twarc2 file is a page, so try the page
--    structure first (one parse); only the rest is looked at again. try() turns invalid
--    JSON into NULL.
CREATE OR REPLACE TEMP TABLE v2_records AS
SELECT source_sha256, record_no, payload, p,
    CASE
        WHEN p.data IS NOT NULL THEN 'page'
        WHEN t IS NULL THEN 'invalid'
        WHEN t[1] <> 'OBJECT' THEN 'other'
        WHEN t[2] = 'OBJECT' THEN 'stream'
        WHEN t[3] IS NOT NULL AND t[4] IS NOT NULL THEN 'flat'
        WHEN t[5] = 'ARRAY' AND t[2] IS NULL THEN 'errors'
        ELSE 'other'
    END AS shape
FROM (
    SELECT *, CASE WHEN p.data IS NULL THEN try(json_type(payload, ['$', '$.data', '$.id', '$.text', '$.errors'])) END AS t
    FROM (SELECT *, try(json_transform(payload, '{"data": [{{TWEET}}], "includes": {"tweets": [{{TWEET}}], "users": [{{USER}}]},
                                                 "errors": ["JSON"], "__twarc": {"retrieved_at": "VARCHAR"}}')) AS p
          FROM raw_batch)
);

-- 2. Every record as lists of data tweets, included tweets, users and API errors
--    (a flattened line needs three small transforms).
CREATE OR REPLACE TEMP TABLE v2_units AS
WITH pages AS (
    SELECT source_sha256, record_no, shape, p FROM v2_records WHERE shape = 'page'
), streams AS (
    SELECT source_sha256, record_no, shape,
        json_transform(payload, '{"data": {{TWEET}}, "includes": {"tweets": [{{TWEET}}], "users": [{{USER}}]},
                                  "errors": ["JSON"], "__twarc": {"retrieved_at": "VARCHAR"}}') AS p
    FROM v2_records WHERE shape = 'stream'
), flats AS (
    SELECT source_sha256, record_no, shape,
        json_transform(payload, '{{TWEET}}') AS t,
        -- twarc's flattening inlines each referenced tweet (with its `author`) in referenced_tweets;
        -- 4CAT's NDJSON does the same, naming the user `author_user`.
        json_transform(payload, '{"referenced_tweets": [{{TWEET}}], "__twarc": {"retrieved_at": "VARCHAR"}}') AS r,
        json_transform(payload, '{"author": {{USER}}, "author_user": {{USER}}, "in_reply_to_user": {{USER}},
                                  "referenced_tweets": [{"author": {{USER}}, "author_user": {{USER}}}]}') AS u
    FROM v2_records WHERE shape = 'flat'
)
SELECT source_sha256, record_no, shape, p.__twarc.retrieved_at AS retrieved_at,
       p.data AS data, p.includes.tweets AS inc_tweets, p.includes.users AS users, p.errors AS errors
FROM pages
UNION ALL BY NAME
SELECT source_sha256, record_no, shape, p.__twarc.retrieved_at AS retrieved_at, [p.data] AS data,
       p.includes.tweets AS inc_tweets, p.includes.users AS users, p.errors AS errors
FROM streams
UNION ALL BY NAME
SELECT source_sha256, record_no, shape, r.__twarc.retrieved_at AS retrieved_at, [t] AS data,
       list_filter(r.referenced_tweets, lambda x: x.text IS NOT NULL) AS inc_tweets,
       list_filter(list_concat([coalesce(u.author, u.author_user), u.in_reply_to_user],
                               list_transform(u.referenced_tweets, lambda x: coalesce(x.author, x.author_user))),
                   lambda x: x IS NOT NULL) AS users
FROM flats
UNION ALL BY NAME
SELECT source_sha256, record_no, shape, json_transform(payload, '{"errors": ["JSON"]}').errors AS errors
FROM v2_records WHERE shape = 'errors';

-- 3. One row per data item; included tweets and users keyed by record for look-ups.
CREATE OR REPLACE TEMP TABLE v2_items AS
SELECT source_sha256, record_no, retrieved_at, unnest(data) AS t, generate_subscripts(data, 1) AS item_no
FROM v2_units;

CREATE OR REPLACE TEMP TABLE v2_inc AS
SELECT DISTINCT ON (source_sha256, record_no, i.id) source_sha256, record_no, i AS t
FROM (SELECT source_sha256, record_no, unnest(inc_tweets) AS i FROM v2_units)
WHERE i.id IS NOT NULL;

CREATE OR REPLACE TEMP TABLE v2_users AS
SELECT DISTINCT ON (source_sha256, record_no, u.id) source_sha256, record_no, retrieved_at, u
FROM (SELECT source_sha256, record_no, retrieved_at, unnest(users) AS u FROM v2_units)
WHERE u.id IS NOT NULL;

-- 4. Tweets, with a retweet's full text rebuilt from the original it points to.
CREATE OR REPLACE TEMP TABLE v2_tweets AS
WITH refs AS (
    SELECT *,
        list_filter(t.referenced_tweets, lambda r: r.type = 'retweeted')[1].id AS rt_id,
        list_filter(t.referenced_tweets, lambda r: r.type = 'quoted')[1].id AS qt_id,
        list_filter(t.referenced_tweets, lambda r: r.type = 'replied_to')[1].id AS re_id,
        regexp_extract(t.text, '^RT @\w+: ') AS rt_prefix
    FROM v2_items WHERE t.text IS NOT NULL AND t.id IS NOT NULL
)
SELECT r.*, o.t AS orig,
    CASE WHEN r.rt_id IS NOT NULL AND o.t.text IS NOT NULL AND r.rt_prefix <> ''
         THEN r.rt_prefix || coalesce(o.t.note_tweet.text, o.t.text)
         ELSE coalesce(r.t.note_tweet.text, r.t.text) END AS raw_text,
    (r.rt_id IS NOT NULL AND o.t.text IS NOT NULL AND r.rt_prefix <> '') AS rebuilt
FROM refs r
LEFT JOIN v2_inc o ON o.source_sha256 = r.source_sha256 AND o.record_no = r.record_no AND o.t.id = r.rt_id;

INSERT INTO stg_posts BY NAME
SELECT 'twitter' AS platform, t.id AS post_id, t.author_id, u.u.username AS author_handle,
    TRY_CAST(t.created_at AS TIMESTAMPTZ) AS created_at, t.created_at AS created_at_raw,
    html_unescape(raw_text) AS text, t.lang,
    CASE WHEN rt_id IS NOT NULL THEN 'repost' WHEN re_id IS NOT NULL THEN 'reply'
         WHEN qt_id IS NOT NULL THEN 'quote' ELSE 'original' END AS kind,
    re_id AS in_reply_to_post_id, t.in_reply_to_user_id AS in_reply_to_author_id,
    qt_id AS quoted_post_id, rt_id AS reposted_post_id, t.conversation_id,
    t.public_metrics.like_count, t.public_metrics.retweet_count AS repost_count,
    t.public_metrics.reply_count, t.public_metrics.quote_count, t.public_metrics.impression_count,
    t.source,
    CASE WHEN t.withheld IS NULL THEN NULL
         ELSE coalesce(json_extract_string(t.withheld, '$.scope') || ':', '')
              || array_to_string(json_extract_string(t.withheld, '$.country_codes[*]'), ',') END AS withheld,
    TRY_CAST(p.retrieved_at AS TIMESTAMPTZ) AS retrieved_at, p.source_sha256, p.record_no, item_no,
    getvariable('parser_version') AS parser_version
FROM v2_tweets p
LEFT JOIN v2_users u ON u.source_sha256 = p.source_sha256 AND u.record_no = p.record_no AND u.u.id = p.t.author_id;

-- 5. Entities, offsets moved into the decoded full text. A rebuilt retweet takes the
--    original's entities shifted past "RT @handle: ", plus its own leading mention.
CREATE OR REPLACE TEMP TABLE v2_entity_src AS
SELECT source_sha256, record_no, item_no, t.id AS post_id, raw_text,
    CASE WHEN rebuilt THEN coalesce(orig.note_tweet.entities, orig.entities)
         ELSE coalesce(t.note_tweet.entities, t.entities) END AS e,
    CASE WHEN rebuilt THEN length(rt_prefix) ELSE 0 END AS shift,
    CASE WHEN rebuilt THEN list_filter(t.entities.mentions, lambda m: m.start < length(rt_prefix)) END AS rt_mention
FROM v2_tweets;

INSERT INTO stg_entities BY NAME
WITH flat AS (
    SELECT *, 'hashtag' AS kind, unnest(e.hashtags) AS x, shift AS sh FROM v2_entity_src
    UNION ALL BY NAME SELECT *, 'cashtag' AS kind, unnest(e.cashtags) AS x, shift AS sh FROM v2_entity_src
    UNION ALL BY NAME SELECT *, 'mention' AS kind, unnest(e.mentions) AS x, shift AS sh FROM v2_entity_src
    UNION ALL BY NAME SELECT *, 'mention' AS kind, unnest(rt_mention) AS x, 0 AS sh FROM v2_entity_src
    UNION ALL BY NAME SELECT *, 'url' AS kind, unnest(e.urls) AS x, shift AS sh FROM v2_entity_src
)
SELECT 'twitter' AS platform, post_id, kind,
    CASE kind WHEN 'mention' THEN x.username WHEN 'url' THEN x.url ELSE x.tag END AS value,
    CASE kind WHEN 'mention' THEN lower(x.username)
              WHEN 'url' THEN coalesce(x.unwound_url, x.expanded_url, x.url) ELSE lower(x.tag) END AS normalized,
    unescaped_pos(raw_text, x.start + sh) AS start_pos, unescaped_pos(raw_text, x."end" + sh) AS end_pos,
    CASE kind WHEN 'mention' THEN coalesce(x.id, u.u.id) END AS target_id,
    f.source_sha256, f.record_no, item_no
FROM flat f
LEFT JOIN v2_users u ON f.kind = 'mention' AND u.source_sha256 = f.source_sha256 AND u.record_no = f.record_no
    AND lower(u.u.username) = lower(f.x.username)
WHERE coalesce(x.username, x.url, x.tag) IS NOT NULL;

-- 6. Authors: every user object seen, including those only mentioned or retweeted.
INSERT INTO stg_authors BY NAME
SELECT 'twitter' AS platform, u.id AS author_id, u.username AS handle, u.name AS display_name,
    u.description AS bio, u.location, u.url,
    u.public_metrics.followers_count, u.public_metrics.following_count,
    u.public_metrics.tweet_count AS post_count, u.public_metrics.listed_count,
    u.verified, u.protected, TRY_CAST(u.created_at AS TIMESTAMPTZ) AS created_at, u.profile_image_url,
    TRY_CAST(retrieved_at AS TIMESTAMPTZ) AS retrieved_at, source_sha256, record_no
FROM v2_users;

-- 7. Everything else is accounted for in rejects.
INSERT INTO stg_rejects BY NAME
SELECT source_sha256, record_no, 0 AS item_no,
    CASE shape WHEN 'invalid' THEN 'malformed JSON (truncated or corrupt line)'
               ELSE not_a_post_reason(payload) END AS reason,
    payload AS raw
FROM v2_records WHERE shape IN ('invalid', 'other');

-- Data items that are not tweets (users, lists, counts): re-read just those items.
INSERT INTO stg_rejects BY NAME
SELECT source_sha256, record_no, item_no, not_a_post_reason(item) AS reason, item::VARCHAR AS raw
FROM (
    SELECT i.source_sha256, i.record_no, i.item_no,
        CASE r.shape WHEN 'page' THEN json_extract(r.payload, '$.data[' || (i.item_no - 1) || ']')
                     ELSE json_extract(r.payload, '$.data') END AS item
    FROM (SELECT * FROM v2_items WHERE t.text IS NULL OR t.id IS NULL) i
    JOIN v2_records r USING (source_sha256, record_no)
);

-- API `errors` entries (deleted, protected, suspended, withheld...): one reject each,
-- numbered after the record's data items so every item of the record has its own number.
INSERT INTO stg_rejects BY NAME
SELECT source_sha256, record_no, coalesce(len(data), 0) + generate_subscripts(errors, 1) AS item_no,
    'API error: ' || coalesce(json_extract_string(unnest(errors), '$.title'), 'error') || ': '
        || coalesce(json_extract_string(unnest(errors), '$.detail'),
                    json_extract_string(unnest(errors), '$.message'), '') AS reason,
    unnest(errors)::VARCHAR AS raw
FROM v2_units WHERE len(errors) > 0;
