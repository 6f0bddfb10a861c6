-- Twitter API v1.1 (REST statuses and timelines, search, the filtered/sample stream) and the
-- X archive's tweets.js. Reads raw_batch, writes the stg_* tables; for the same tweet the
-- canonical row is the one twitter_v2.sql writes.
--
-- A record is one tweet, a JSON array of tweets (a timeline, or tweets.js whose items are
-- {"tweet": {...}}), a search envelope {"statuses": [...]}, a stream control message or an
-- API error. Only a record's own tweets become posts: an embedded retweeted_status or
-- quoted_status lends its full text and its user, as v2's includes.tweets do, but is not
-- itself a post of the corpus.

-- 0. json_transform structures, each part written once and composed. Ids are VARCHAR so
--    they are never rounded through a number (id_str always wins over id); counts and
--    indices are cast, because the archive writes them as strings ("indices": ["0", "5"]).
SET VARIABLE v1_user = '{"id_str": "VARCHAR", "id": "VARCHAR", "screen_name": "VARCHAR", "name": "VARCHAR",
    "description": "VARCHAR", "location": "VARCHAR", "url": "VARCHAR", "created_at": "VARCHAR",
    "followers_count": "BIGINT", "friends_count": "BIGINT", "statuses_count": "BIGINT",
    "listed_count": "BIGINT", "verified": "BOOLEAN", "protected": "BOOLEAN",
    "profile_image_url_https": "VARCHAR", "profile_image_url": "VARCHAR"}';
SET VARIABLE v1_media = '[{"url": "VARCHAR", "expanded_url": "VARCHAR", "indices": ["INTEGER"]}]';
SET VARIABLE v1_entities = '{"hashtags": [{"text": "VARCHAR", "indices": ["INTEGER"]}],
    "symbols": [{"text": "VARCHAR", "indices": ["INTEGER"]}],
    "user_mentions": [{"screen_name": "VARCHAR", "id_str": "VARCHAR", "id": "VARCHAR", "indices": ["INTEGER"]}],
    "urls": [{"url": "VARCHAR", "expanded_url": "VARCHAR", "unwound": {"url": "VARCHAR"}, "indices": ["INTEGER"]}],
    "media": ' || getvariable('v1_media') || '}';
-- A status's text and the entities indexed into it, in all three API modes.
SET VARIABLE v1_text = '"text": "VARCHAR", "full_text": "VARCHAR",
    "entities": ' || getvariable('v1_entities') || ',
    "extended_entities": {"media": ' || getvariable('v1_media') || '},
    "extended_tweet": {"full_text": "VARCHAR", "entities": ' || getvariable('v1_entities') || ',
                       "extended_entities": {"media": ' || getvariable('v1_media') || '}}';
SET VARIABLE v1_status_fields = '"id_str": "VARCHAR", "id": "VARCHAR", "created_at": "VARCHAR",
    "lang": "VARCHAR", "source": "VARCHAR", ' || getvariable('v1_text') || ',
    "user": ' || getvariable('v1_user') || ',
    "in_reply_to_status_id_str": "VARCHAR", "in_reply_to_status_id": "VARCHAR",
    "in_reply_to_user_id_str": "VARCHAR", "in_reply_to_user_id": "VARCHAR",
    "quoted_status_id_str": "VARCHAR", "quoted_status_id": "VARCHAR",
    "favorite_count": "BIGINT", "retweet_count": "BIGINT", "reply_count": "BIGINT", "quote_count": "BIGINT",
    "withheld_in_countries": ["VARCHAR"], "withheld_scope": "VARCHAR",
    "retweeted_status": {"id_str": "VARCHAR", "id": "VARCHAR", ' || getvariable('v1_text') || ',
                         "user": ' || getvariable('v1_user') || ',
                         "quoted_status": {"user": ' || getvariable('v1_user') || '}},
    "quoted_status": {"id_str": "VARCHAR", "id": "VARCHAR", "user": ' || getvariable('v1_user') || '}';
-- One structure for every item, so that all lists of items have one type: a status, or
-- an object that is a search envelope (told by its statuses' ids; they are read as items
-- by a second parse) or API errors.
SET VARIABLE v1_item = '{' || getvariable('v1_status_fields') || ',
    "statuses": [{"id_str": "VARCHAR"}], "errors": ["JSON"]}';

-- The full text: extended_tweet (the stream's compatibility mode) > full_text (extended
-- mode) > text; the entities and media are the ones indexed into that text. All media
-- are in extended_entities (entities.media holds the first); v2 lists each media item's
-- link among its urls, so media become url entities here too.
CREATE OR REPLACE TEMP MACRO v1_full_text(s) AS coalesce(s.extended_tweet.full_text, s.full_text, s.text);
CREATE OR REPLACE TEMP MACRO v1_entities_of(s) AS
    CASE WHEN s.extended_tweet.full_text IS NOT NULL THEN s.extended_tweet.entities ELSE s.entities END;
CREATE OR REPLACE TEMP MACRO v1_media_of(s) AS
    CASE WHEN s.extended_tweet.full_text IS NOT NULL
         THEN coalesce(s.extended_tweet.extended_entities.media, s.extended_tweet.entities.media)
         ELSE coalesce(s.extended_entities.media, s.entities.media) END;
CREATE OR REPLACE TEMP MACRO v1_is_status(s) AS
    coalesce(coalesce(s.id_str, s.id) IS NOT NULL AND v1_full_text(s) IS NOT NULL, false);
-- 'Wed Oct 10 20:19:24 +0000 2018' (API and archive); ISO 8601 (account.js).
CREATE OR REPLACE TEMP MACRO v1_time(s) AS
    coalesce(try_strptime(s, '%a %b %d %H:%M:%S %z %Y'), try_cast(s AS TIMESTAMPTZ));
-- v1 stream messages not_a_post_reason does not know by name, then its reasons.
CREATE OR REPLACE TEMP MACRO v1_not_a_post_reason(j) AS CASE
    WHEN json_type(j) <> 'OBJECT' THEN 'not a post: a JSON ' || CASE json_type(j) WHEN 'ARRAY' THEN 'array'
        WHEN 'VARCHAR' THEN 'string' WHEN 'BOOLEAN' THEN 'boolean' WHEN 'NULL' THEN 'null' ELSE 'number' END
        || ', not an object'
    WHEN json_exists(j, '$.disconnect') OR json_exists(j, '$.warning') OR json_exists(j, '$.event')
        OR json_exists(j, '$.friends') OR json_exists(j, '$.friends_str')
        THEN 'stream control message, not a post'
    ELSE not_a_post_reason(j)
END;

-- 1. What each record is, and its tweets as one list: each record is parsed once (a search
--    page's statuses twice); only records that are neither tweets nor API errors are looked
--    at again. try() turns invalid JSON into NULL.
CREATE OR REPLACE TEMP TABLE v1_records AS
WITH parsed AS (
    SELECT source_sha256, record_no, payload,
        CASE WHEN regexp_matches(payload, '^\s*\[\s*\{\s*"tweet"\s*:')  -- tweets.js: [{"tweet": {...}}, ...]
             THEN list_transform(try(json_transform(payload, '[{"tweet": ' || getvariable('v1_item') || '}]')),
                                 lambda x: x.tweet)
             WHEN regexp_matches(payload, '^\s*\[')
             THEN try(json_transform(payload, '[' || getvariable('v1_item') || ']')) END AS a,
        CASE WHEN NOT regexp_matches(payload, '^\s*\[')
             THEN try(json_transform(payload, getvariable('v1_item'))) END AS o
    FROM raw_batch
), shaped AS (
    SELECT *, coalesce(CASE
        WHEN a IS NOT NULL THEN CASE WHEN len(a) = 0 THEN 'empty' ELSE 'array' END
        WHEN v1_is_status(o) THEN 'status'
        WHEN o.statuses IS NOT NULL THEN CASE WHEN len(o.statuses) = 0 THEN 'empty' ELSE 'search' END
        WHEN len(o.errors) > 0 THEN 'errors'
        WHEN NOT json_valid(payload) THEN 'invalid'
        WHEN json_type(payload) IN ('OBJECT', 'ARRAY') THEN 'other'
        ELSE 'scalar' END, 'invalid') AS shape
    FROM parsed
)
SELECT source_sha256, record_no, shape,
    CASE shape WHEN 'status' THEN [o] WHEN 'array' THEN a
               WHEN 'search' THEN json_transform(payload, '{"statuses": [' || getvariable('v1_item') || ']}').statuses
    END AS items,
    CASE WHEN shape = 'errors' THEN o.errors END AS errors,
    CASE WHEN shape IN ('invalid', 'scalar', 'empty', 'other') THEN payload END AS refused
FROM shaped;

-- 2. Every item of every record, numbered 1.. within its record (a lone status is item 1).
--    A view: the parsed records are not copied again.
CREATE OR REPLACE TEMP VIEW v1_items AS
SELECT *, v1_is_status(t) AS is_post
FROM (SELECT source_sha256, record_no, shape, generate_subscripts(items, 1) AS item_no, unnest(items) AS t
      FROM v1_records);

-- The archive's account (account.js beside tweets.js), since archive tweets do not name
-- their author; no row when the archive came without it.
CREATE OR REPLACE TEMP TABLE v1_account AS
SELECT a.accountId AS author_id, a.username AS handle, a.accountDisplayName AS display_name,
    v1_time(a.createdAt) AS created_at
FROM (SELECT json_transform(getvariable('archive_account'), '{"accountId": "VARCHAR", "username": "VARCHAR",
        "accountDisplayName": "VARCHAR", "createdAt": "VARCHAR"}') AS a)
WHERE a.accountId IS NOT NULL;

-- 3. Tweets as flat columns (and just the entities and users still to read), with a
--    retweet's full text rebuilt from the original it embeds.
CREATE OR REPLACE TEMP TABLE v1_tweets AS
WITH base AS (
    SELECT source_sha256, record_no, item_no, t,
        coalesce(t.id_str, t.id) AS post_id,
        -- Only archive tweets lack a user object (and they have no retweeted_status).
        t.user IS NULL AS archived,
        v1_full_text(t) AS own_text,
        coalesce(t.retweeted_status.id_str, t.retweeted_status.id) AS rt_id,
        v1_full_text(t.retweeted_status) AS rt_text,
        -- "RT @name: " as the retweet wrote it (as v2 rebuilds it); from the original's user
        -- when the retweet's own text lacks it.
        coalesce(nullif(regexp_extract(v1_full_text(t), '^RT @\w+: '), ''),
                 'RT @' || t.retweeted_status.user.screen_name || ': ') AS rt_prefix
    FROM v1_items WHERE is_post
), typed AS (
    SELECT *, rt_id IS NOT NULL AND rt_text IS NOT NULL AND rt_prefix IS NOT NULL AS rebuilt,
        CASE WHEN rt_id IS NOT NULL OR (archived AND regexp_matches(own_text, '^RT @\w+:')) THEN 'repost'
             WHEN coalesce(t.in_reply_to_status_id_str, t.in_reply_to_status_id) IS NOT NULL THEN 'reply'
             WHEN coalesce(t.quoted_status_id_str, t.quoted_status.id_str, t.quoted_status.id,
                           t.quoted_status_id) IS NOT NULL THEN 'quote'
             ELSE 'original' END AS kind
    FROM base
)
SELECT source_sha256, record_no, item_no, post_id, kind,
    CASE WHEN t.user IS NOT NULL THEN coalesce(t.user.id_str, t.user.id) ELSE a.author_id END AS author_id,
    CASE WHEN t.user IS NOT NULL THEN t.user.screen_name ELSE a.handle END AS author_handle,
    v1_time(t.created_at) AS created_at, t.created_at AS created_at_raw,
    CASE WHEN rebuilt THEN rt_prefix || rt_text ELSE own_text END AS raw_text,
    html_unescape(raw_text) AS text, t.lang,
    CASE WHEN kind = 'reply' THEN coalesce(t.in_reply_to_status_id_str, t.in_reply_to_status_id) END
        AS in_reply_to_post_id,
    CASE WHEN kind = 'reply' THEN coalesce(t.in_reply_to_user_id_str, t.in_reply_to_user_id) END
        AS in_reply_to_author_id,
    -- v1 copies the original's quote onto a retweet; the retweet itself quotes nothing (as in v2).
    CASE WHEN kind <> 'repost' THEN coalesce(t.quoted_status_id_str, t.quoted_status.id_str,
                                             t.quoted_status.id, t.quoted_status_id) END AS quoted_post_id,
    rt_id AS reposted_post_id,
    -- v1 has no conversation id. A post that replies to nothing starts its own conversation
    -- (as v2 says); a reply's thread root is not in the payload, so it stays unknown.
    CASE WHEN kind <> 'reply' THEN post_id END AS conversation_id,
    t.favorite_count AS like_count, t.retweet_count AS repost_count, t.reply_count, t.quote_count,
    -- `source` is an HTML anchor; v2 gives its text.
    nullif(html_unescape(coalesce(nullif(regexp_extract(t.source, '<a[^>]*>(.*)</a>', 1), ''), t.source)), '')
        AS source,
    -- As v2 writes it: the scope (v1 says "status" where v2 says "tweet"), then the countries.
    CASE WHEN len(t.withheld_in_countries) > 0
         THEN coalesce(replace(t.withheld_scope, 'status', 'tweet') || ':', '')
              || array_to_string(t.withheld_in_countries, ',') END AS withheld,
    -- What the entities are read from: a rebuilt retweet's come from the original, shifted
    -- past "RT @name: ", plus the retweet's own leading mention.
    CASE WHEN rebuilt THEN v1_entities_of(t.retweeted_status) ELSE v1_entities_of(t) END AS e,
    CASE WHEN rebuilt THEN v1_media_of(t.retweeted_status) ELSE v1_media_of(t) END AS media,
    CASE WHEN rebuilt THEN length(rt_prefix) ELSE 0 END AS shift,
    CASE WHEN rebuilt THEN list_filter(v1_entities_of(t).user_mentions,
                                       lambda m: m.indices[1] < length(rt_prefix)) END AS rt_mention,
    -- Every user object the tweet carries, the tweet's own first.
    [t.user, t.retweeted_status.user, t.quoted_status.user, t.retweeted_status.quoted_status.user] AS users,
    t.user IS NULL AS ownerless
FROM typed
LEFT JOIN v1_account a ON t.user IS NULL;

INSERT INTO stg_posts BY NAME
SELECT 'twitter' AS platform, post_id, author_id, author_handle, created_at, created_at_raw,
    text, lang, kind, in_reply_to_post_id, in_reply_to_author_id,
    quoted_post_id, reposted_post_id, conversation_id, like_count, repost_count, reply_count,
    quote_count, NULL::BIGINT AS impression_count, source, withheld,
    NULL::TIMESTAMPTZ AS retrieved_at, source_sha256, record_no, item_no,
    getvariable('parser_version') AS parser_version
FROM v1_tweets;

-- 4. Entities, offsets (code points into the HTML-escaped text) moved into the decoded text.
INSERT INTO stg_entities BY NAME
WITH src AS (
    SELECT source_sha256, record_no, item_no, post_id, raw_text, text, e, media, shift, rt_mention FROM v1_tweets
), flat AS (
    SELECT *, 'hashtag' AS kind, x.text AS value, lower(x.text) AS normalized, NULL AS target_id,
        x.indices[1] + shift AS s, x.indices[2] + shift AS e_
    FROM (SELECT *, unnest(e.hashtags) AS x FROM src)
    UNION ALL BY NAME
    SELECT *, 'cashtag' AS kind, x.text AS value, lower(x.text) AS normalized, NULL AS target_id,
        x.indices[1] + shift AS s, x.indices[2] + shift AS e_
    FROM (SELECT *, unnest(e.symbols) AS x FROM src)
    UNION ALL BY NAME
    SELECT *, 'mention' AS kind, x.screen_name AS value, lower(x.screen_name) AS normalized,
        coalesce(x.id_str, x.id) AS target_id, x.indices[1] + shift AS s, x.indices[2] + shift AS e_
    FROM (SELECT *, unnest(e.user_mentions) AS x FROM src)
    UNION ALL BY NAME
    SELECT *, 'mention' AS kind, x.screen_name AS value, lower(x.screen_name) AS normalized,
        coalesce(x.id_str, x.id) AS target_id, x.indices[1] AS s, x.indices[2] AS e_
    FROM (SELECT *, unnest(rt_mention) AS x FROM src)
    UNION ALL BY NAME
    SELECT *, 'url' AS kind, x.url AS value, coalesce(x.unwound.url, x.expanded_url, x.url) AS normalized,
        NULL AS target_id, x.indices[1] + shift AS s, x.indices[2] + shift AS e_
    FROM (SELECT *, unnest(e.urls) AS x FROM src)
    UNION ALL BY NAME
    SELECT *, 'url' AS kind, x.url AS value, coalesce(x.expanded_url, x.url) AS normalized,
        NULL AS target_id, x.indices[1] + shift AS s, x.indices[2] + shift AS e_
    FROM (SELECT *, unnest(media) AS x FROM src)
), placed AS (
    SELECT post_id, kind, value, normalized, target_id, source_sha256, record_no, item_no, text,
        -- Most texts hold no escaped character; only those need their offsets moved.
        CASE WHEN contains(raw_text, '&') THEN unescaped_pos(raw_text, s) ELSE s END AS start_pos,
        CASE WHEN contains(raw_text, '&') THEN unescaped_pos(raw_text, e_) ELSE e_ END AS end_pos
    FROM flat WHERE value IS NOT NULL
)
-- Only entities whose offsets select them in the text are stored. Payloads edited after
-- collection carry entities of another status (a quoted tweet's tags merged in, another
-- tweet's media) that are not in this post's text; the raw record keeps them.
SELECT 'twitter' AS platform, post_id, kind, value, normalized, start_pos, end_pos,
    target_id::VARCHAR AS target_id, source_sha256, record_no, item_no
FROM placed
WHERE CASE kind WHEN 'url' THEN substr(text, start_pos + 1, end_pos - start_pos) = value
      -- '#', '@', '$' or a full-width form, then the tag or handle in any case
      ELSE substr(text, start_pos + 1, 1) IN ('#', '＃', '@', '＠', '$')
           AND lower(substr(text, start_pos + 2, end_pos - start_pos - 1)) = lower(value) END;

-- 5. Authors: every user object seen (the tweet's, the retweeted and quoted statuses'). A
--    trim_user stub ({"id", "id_str"}) is no profile, so it is not stored over one.
INSERT INTO stg_authors BY NAME
WITH seen AS (
    SELECT source_sha256, record_no, item_no, unnest(users) AS u, generate_subscripts(users, 1) AS role
    FROM v1_tweets
), one AS (
    -- One version per user and record, picked the same way whatever order the engine reads in.
    SELECT * FROM seen
    WHERE coalesce(u.id_str, u.id) IS NOT NULL AND u.screen_name IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY source_sha256, record_no, coalesce(u.id_str, u.id)
                               ORDER BY item_no, role) = 1
)
SELECT 'twitter' AS platform, coalesce(u.id_str, u.id) AS author_id, u.screen_name AS handle,
    u.name AS display_name, u.description AS bio, u.location, u.url,
    u.followers_count, u.friends_count AS following_count, u.statuses_count AS post_count,
    u.listed_count, u.verified, u.protected, v1_time(u.created_at) AS created_at,
    coalesce(u.profile_image_url_https, u.profile_image_url) AS profile_image_url,
    NULL::TIMESTAMPTZ AS retrieved_at, source_sha256, record_no
FROM one
UNION ALL BY NAME
-- The archive's owner, once per record that has posts without a user object.
SELECT DISTINCT 'twitter' AS platform, a.author_id, a.handle, a.display_name, a.created_at,
    NULL::TIMESTAMPTZ AS retrieved_at, p.source_sha256, p.record_no
FROM v1_tweets p, v1_account a
WHERE p.ownerless;

-- 6. Everything else is accounted for in rejects: whole records under item 0,
INSERT INTO stg_rejects BY NAME
SELECT source_sha256, record_no, 0 AS item_no,
    CASE shape WHEN 'invalid' THEN 'malformed JSON (truncated or corrupt line)'
               WHEN 'empty' THEN 'no posts: an empty list of tweets'
               ELSE v1_not_a_post_reason(refused) END AS reason,
    refused AS raw
FROM v1_records WHERE refused IS NOT NULL;

-- items of a list that are not tweets under their own number (re-read just those items),
INSERT INTO stg_rejects BY NAME
SELECT source_sha256, record_no, item_no, v1_not_a_post_reason(x) AS reason, x::VARCHAR AS raw
FROM (
    SELECT i.source_sha256, i.record_no, i.item_no,
        CASE i.shape WHEN 'search' THEN json_extract(r.payload, '$.statuses[' || (i.item_no - 1) || ']')
                     ELSE json_extract(r.payload, '$[' || (i.item_no - 1) || ']') END AS x
    FROM (SELECT * FROM v1_items WHERE shape <> 'status' AND NOT is_post) i
    JOIN raw_batch r USING (source_sha256, record_no)
);

-- and API errors ({"errors": [{"code": 144, "message": "No status found with that ID."}]}), one each.
INSERT INTO stg_rejects BY NAME
SELECT source_sha256, record_no, generate_subscripts(errors, 1) AS item_no,
    'API error: ' || coalesce(json_extract_string(unnest(errors), '$.code'), 'error') || ': '
        || coalesce(json_extract_string(unnest(errors), '$.message'), '') AS reason,
    unnest(errors)::VARCHAR AS raw
FROM v1_records WHERE shape = 'errors';
