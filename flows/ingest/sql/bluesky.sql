-- Bluesky (AT Protocol): post views, author-feed items, getRecord envelopes, bare post records,
-- thread views, Jetstream firehose events and tap events, mixed freely, one per JSONL line or
-- many per JSON document. Reads raw_batch, writes the stg_* tables.
--
-- Canonical choices (the tests in tests/test_ingest_bluesky.py pin each one):
--   post_id    the at:// URI. A repost seen in a feed (`reason` app.bsky.feed.defs#reasonRepost)
--              is stored as '<original uri>#repost:<reposter did>': feed views do not carry the
--              repost record's own URI, and a user can repost a post only once, so this id is
--              unique and the same in whichever feed the repost is seen. The original the item
--              includes is not stored (as a retweet is stored without the original it includes).
--   author_id  the DID; records without an author view (envelopes, firehose) take it from the URI.
--   offsets    facet byte offsets (UTF-8) become character offsets into posts.text.
--   bare       a post record with no URI is stored as 'bsky-record:sha256:<hex of its minified JSON>',
--              with no author: stable across re-ingests, and never a made-up at:// URI.
--   retrieved  only Jetstream says when a version was seen (time_us); other shapes leave it NULL.

-- 0. json_transform structures, written once and composed below, so each item is parsed once.
SET VARIABLE bsky_profile = '{"did": "VARCHAR", "handle": "VARCHAR", "displayName": "VARCHAR",
    "description": "VARCHAR", "avatar": "VARCHAR", "createdAt": "VARCHAR",
    "followersCount": "BIGINT", "followsCount": "BIGINT", "postsCount": "BIGINT"}';
SET VARIABLE bsky_record = '{"$type": "VARCHAR", "uri": "VARCHAR", "text": "VARCHAR", "createdAt": "VARCHAR",
    "langs": ["VARCHAR"],
    "reply": {"root": {"uri": "VARCHAR"}, "parent": {"uri": "VARCHAR"}},
    "embed": {"$type": "VARCHAR", "record": {"uri": "VARCHAR", "record": {"uri": "VARCHAR"}}},
    "facets": [{"index": {"byteStart": "BIGINT", "byteEnd": "BIGINT"}, "features": ["JSON"]}]}';
SET VARIABLE bsky_post_view = '{"uri": "VARCHAR", "author": ' || getvariable('bsky_profile') || ',
    "record": ' || getvariable('bsky_record') || ',
    "likeCount": "BIGINT", "repostCount": "BIGINT", "replyCount": "BIGINT", "quoteCount": "BIGINT",
    "embed": {"record": {"author": ' || getvariable('bsky_profile') || ',
                         "record": {"author": ' || getvariable('bsky_profile') || '}}}}';

-- The JSON types of the keys that tell the shapes apart, in one parse; NULL for invalid JSON.
CREATE OR REPLACE TEMP MACRO bsky_types(j) AS try(json_type(j, [
    '$', '$.post', '$.record', '$.value', '$.thread', '$.feed', '$.posts', '$.records', '$.parent',
    '$.replies', '$.did', '$.kind', '$.time_us', '$.type', '$.id', '$.uri', '$.notFound', '$.blocked']));
CREATE OR REPLACE TEMP MACRO bsky_named(t) AS {
    'self': t[1], 'post': t[2], 'record': t[3], 'value': t[4], 'thread': t[5], 'feed': t[6],
    'posts': t[7], 'records': t[8], 'parent': t[9], 'replies': t[10], 'did': t[11], 'kind': t[12],
    'time_us': t[13], 'type': t[14], 'id': t[15], 'uri': t[16], 'notFound': t[17], 'blocked': t[18]};

-- The DID and the collection named in an at:// URI (at://did:plc:x/app.bsky.feed.post/rkey).
CREATE OR REPLACE TEMP MACRO bsky_did(uri) AS nullif(regexp_extract(uri, '^at://(did:[^/]+)', 1), '');
CREATE OR REPLACE TEMP MACRO bsky_collection(uri) AS nullif(regexp_extract(uri, '^at://[^/]+/([^/]+)', 1), '');

-- Facet offsets count UTF-8 bytes; posts.text is counted in characters. The character offset
-- of byte b is the length of the longest prefix of at most b bytes: decode the first b bytes,
-- dropping the partial character a b inside one leaves. ASCII text (most posts) needs none of it.
CREATE OR REPLACE TEMP MACRO bsky_char_pos(t, b) AS CASE
    WHEN b IS NULL OR b < 0 OR t IS NULL THEN NULL
    WHEN strlen(t) = length(t) THEN least(b, strlen(t))
    ELSE length(decode(encode(t)[1:b], 'ignore'))
END;

-- What a record of an AT Protocol collection is, for rejects: "like (app.bsky.feed.like)".
CREATE OR REPLACE TEMP MACRO bsky_record_kind(t) AS CASE split_part(t, '#', 1)
    WHEN 'app.bsky.feed.post' THEN 'post' WHEN 'app.bsky.feed.like' THEN 'like'
    WHEN 'app.bsky.feed.repost' THEN 'repost record' WHEN 'app.bsky.graph.follow' THEN 'follow'
    WHEN 'app.bsky.graph.block' THEN 'block' WHEN 'app.bsky.graph.list' THEN 'list'
    WHEN 'app.bsky.graph.listitem' THEN 'list item' WHEN 'app.bsky.graph.starterpack' THEN 'starter pack'
    WHEN 'app.bsky.actor.profile' THEN 'profile record' WHEN 'app.bsky.feed.generator' THEN 'feed generator'
    WHEN 'app.bsky.feed.threadgate' THEN 'thread gate' WHEN 'app.bsky.feed.postgate' THEN 'post gate'
    ELSE 'record of custom type' END || ' (' || coalesce(t, 'no $type') || ')';

-- A list's elements as child nodes, numbered 1.. in their order.
CREATE OR REPLACE TEMP MACRO bsky_children(elems, role) AS
    list_transform(elems, lambda x, i: {'pos': i, 'j': x::VARCHAR, 'role': role});

-- 1. Walk containers down to items: JSON lists, API pages ({feed}, {posts}, {records}) and
--    thread views ({thread}: the post, its parents upwards, its replies downwards). `path`
--    orders a record's items, numbered 1.. as v2 numbers a page's tweets. Most records are
--    a single item, so only containers enter the recursion.
CREATE OR REPLACE TEMP TABLE bsky_top AS
SELECT source_sha256, record_no, payload AS j, 'top' AS role, bsky_named(t) AS has
FROM (SELECT *, bsky_types(payload) AS t FROM raw_batch);

CREATE OR REPLACE TEMP MACRO bsky_is_container(has, role) AS coalesce(
    has.self = 'ARRAY' OR role IN ('thread', 'up', 'down')
    OR (role IN ('top', 'item') AND (has.thread = 'OBJECT' OR has.feed = 'ARRAY' OR has.posts = 'ARRAY'
                                     OR has.records = 'ARRAY')), false);

CREATE OR REPLACE TEMP TABLE bsky_walk AS
WITH RECURSIVE walk(source_sha256, record_no, path, j, role, has) AS (
    SELECT source_sha256, record_no, []::INTEGER[], j, role, has
    FROM bsky_top WHERE bsky_is_container(has, role)
    UNION ALL
    SELECT source_sha256, record_no, list_append(path, c.pos), c.j, c.role, bsky_named(bsky_types(c.j))
    FROM (SELECT *, unnest(CASE
            WHEN has.self = 'ARRAY' THEN bsky_children(json_extract(j, '$[*]'), 'item')
            -- a thread node: parents up, replies down (its own post is an item too)
            WHEN role IN ('thread', 'up', 'down') THEN
                CASE WHEN role <> 'down' AND has.parent = 'OBJECT'
                     THEN [{'pos': 0, 'j': json_extract(j, '$.parent')::VARCHAR, 'role': 'up'}] ELSE [] END
                || CASE WHEN role <> 'up' AND has.replies = 'ARRAY'
                        THEN bsky_children(json_extract(j, '$.replies[*]'), 'down') ELSE [] END
            WHEN has.thread = 'OBJECT' THEN [{'pos': 1, 'j': json_extract(j, '$.thread')::VARCHAR, 'role': 'thread'}]
            WHEN has.feed = 'ARRAY' THEN bsky_children(json_extract(j, '$.feed[*]'), 'item')
            WHEN has.posts = 'ARRAY' THEN bsky_children(json_extract(j, '$.posts[*]'), 'item')
            WHEN has.records = 'ARRAY' THEN bsky_children(json_extract(j, '$.records[*]'), 'item')
        END) AS c
        FROM walk WHERE bsky_is_container(has, role))
)
SELECT * FROM walk;

-- 2. Items and what each one is. A thread node is both a container and an item (its post).
CREATE OR REPLACE TEMP TABLE bsky_items AS
WITH items AS (
    SELECT source_sha256, record_no, true AS whole, 1 AS item_no, j, has FROM bsky_top
    WHERE has.self IS NOT NULL AND NOT bsky_is_container(has, role)
    UNION ALL
    SELECT source_sha256, record_no, false, row_number() OVER (PARTITION BY source_sha256, record_no ORDER BY path),
        j, has
    FROM bsky_walk
    WHERE path <> [] AND (role IN ('thread', 'up', 'down') OR NOT bsky_is_container(has, role))
)
SELECT source_sha256, record_no, whole, item_no, j, has,
    CASE
        WHEN has.self <> 'OBJECT' THEN 'scalar'
        WHEN has.post = 'OBJECT' THEN 'feed_item'
        WHEN has.uri IS NOT NULL AND has.record = 'OBJECT' THEN 'view'
        WHEN has.uri IS NOT NULL AND has.value = 'OBJECT' THEN 'envelope'
        WHEN has.did IS NOT NULL AND has.kind IS NOT NULL AND has.time_us IS NOT NULL THEN 'jetstream'
        WHEN has.type IS NOT NULL AND has.id IS NOT NULL THEN 'tap'
        WHEN has.notFound IS NOT NULL THEN 'not_found'
        WHEN has.blocked IS NOT NULL THEN 'blocked'
        WHEN starts_with(json_extract_string(j, '$."$type"'), 'app.bsky.') THEN 'bare'
        ELSE 'other'
    END AS shape
FROM items;

-- 3. Post candidates in one form: the record, and whatever view, feed and firehose context
--    came with it. Each shape is parsed once, with its own structure.
--    A post is a record of type app.bsky.feed.post ("#main" names the same, default
--    definition), and for firehose and tap events only the creation (or update) of one. A feed
--    item with reasonRepost is the repost by `reason.by` (see the header).
CREATE OR REPLACE TEMP TABLE bsky_cand AS
WITH views AS (
    SELECT *, json_transform(j, getvariable('bsky_post_view')) AS v FROM bsky_items WHERE shape = 'view'
), feed AS (
    SELECT *, json_transform(j, '{"post": ' || getvariable('bsky_post_view') || ',
        "reason": {"$type": "VARCHAR", "indexedAt": "VARCHAR", "by": ' || getvariable('bsky_profile') || '},
        "reply": {"root": {"author": ' || getvariable('bsky_profile') || '},
                  "parent": {"author": ' || getvariable('bsky_profile') || '},
                  "grandparentAuthor": ' || getvariable('bsky_profile') || '}}') AS f
    FROM bsky_items WHERE shape = 'feed_item'
), envelopes AS (
    SELECT *, json_transform(j, '{"uri": "VARCHAR", "value": ' || getvariable('bsky_record') || '}') AS e
    FROM bsky_items WHERE shape = 'envelope'
), jetstream AS (
    SELECT *, json_transform(j, '{"did": "VARCHAR", "time_us": "BIGINT", "kind": "VARCHAR",
        "commit": {"operation": "VARCHAR", "collection": "VARCHAR", "rkey": "VARCHAR",
                   "record": ' || getvariable('bsky_record') || '}}') AS e
    FROM bsky_items WHERE shape = 'jetstream'
), tap AS (
    SELECT *, json_transform(j, '{"type": "VARCHAR", "record": {"did": "VARCHAR", "collection": "VARCHAR",
        "rkey": "VARCHAR", "action": "VARCHAR", "record": ' || getvariable('bsky_record') || '}}') AS e
    FROM bsky_items WHERE shape = 'tap'
), bare AS (
    SELECT *, json_transform(j, getvariable('bsky_record')) AS r FROM bsky_items WHERE shape = 'bare'
), cand AS (
    SELECT source_sha256, record_no, item_no, shape, v.uri, v.record AS r, v AS pv FROM views
    UNION ALL BY NAME
    SELECT source_sha256, record_no, item_no, shape, f.post.uri, f.post.record AS r, f.post AS pv,
        f.reason, f.reply AS ctx
    FROM feed
    UNION ALL BY NAME
    SELECT source_sha256, record_no, item_no, shape, e.uri, e.value AS r FROM envelopes
    UNION ALL BY NAME
    -- Jetstream's time_us is when the event was seen: the collection time of this version.
    SELECT source_sha256, record_no, item_no, shape,
        'at://' || e.did || '/' || e.commit.collection || '/' || e.commit.rkey AS uri, e.commit.record AS r,
        make_timestamp(e.time_us)::TIMESTAMPTZ AS retrieved_at,
        {'source': 'firehose', 'kind': e.kind, 'op': e.commit.operation, 'collection': e.commit.collection} AS event
    FROM jetstream
    UNION ALL BY NAME
    SELECT source_sha256, record_no, item_no, shape,
        'at://' || e.record.did || '/' || e.record.collection || '/' || e.record.rkey AS uri, e.record.record AS r,
        {'source': 'tap', 'kind': e.type, 'op': e.record.action, 'collection': e.record.collection} AS event
    FROM tap
    UNION ALL BY NAME
    SELECT source_sha256, record_no, item_no, shape,
        -- json() drops the layout, so the id does not depend on indentation
        coalesce(r.uri, 'bsky-record:sha256:' || sha256(json(j)::VARCHAR)) AS uri, r
    FROM bare
), judged AS (
    SELECT *,
        coalesce(split_part(r."$type", '#', 1) = 'app.bsky.feed.post'
            AND (event IS NULL OR (event.kind IN ('commit', 'record') AND event.op IN ('create', 'update')
                                   AND event.collection = 'app.bsky.feed.post')), false) AS is_post,
        coalesce(reason."$type" = 'app.bsky.feed.defs#reasonRepost' AND reason.by.did IS NOT NULL, false) AS is_repost
    FROM cand
)
SELECT *,
    CASE WHEN is_repost THEN uri || '#repost:' || reason.by.did ELSE uri END AS post_id,
    -- a quote embeds a post; an embedded list, feed or starter pack is not a quote
    CASE WHEN split_part(r.embed."$type", '#', 1) = 'app.bsky.embed.record'
              AND bsky_collection(r.embed.record.uri) = 'app.bsky.feed.post' THEN r.embed.record.uri
         WHEN split_part(r.embed."$type", '#', 1) = 'app.bsky.embed.recordWithMedia'
              AND bsky_collection(r.embed.record.record.uri) = 'app.bsky.feed.post' THEN r.embed.record.record.uri
    END AS quote_uri,
    coalesce(r.reply.parent.uri, r.reply.root.uri) AS parent_uri
FROM judged;

CREATE OR REPLACE TEMP VIEW bsky_rows AS SELECT * FROM bsky_cand WHERE is_post;

-- 4. Posts.
INSERT INTO stg_posts BY NAME
SELECT 'bluesky' AS platform, post_id,
    CASE WHEN is_repost THEN reason.by.did ELSE coalesce(pv.author.did, bsky_did(uri)) END AS author_id,
    CASE WHEN is_repost THEN reason.by.handle ELSE pv.author.handle END AS author_handle,
    TRY_CAST(CASE WHEN is_repost THEN reason.indexedAt ELSE r.createdAt END AS TIMESTAMPTZ) AS created_at,
    CASE WHEN is_repost THEN reason.indexedAt ELSE r.createdAt END AS created_at_raw,
    r.text, r.langs[1] AS lang,
    CASE WHEN is_repost THEN 'repost' WHEN parent_uri IS NOT NULL THEN 'reply'
         WHEN quote_uri IS NOT NULL THEN 'quote' ELSE 'original' END AS kind,
    CASE WHEN NOT is_repost THEN parent_uri END AS in_reply_to_post_id,
    CASE WHEN NOT is_repost THEN bsky_did(parent_uri) END AS in_reply_to_author_id,
    CASE WHEN NOT is_repost THEN quote_uri END AS quoted_post_id,
    CASE WHEN is_repost THEN uri END AS reposted_post_id,
    CASE WHEN is_repost THEN post_id ELSE coalesce(r.reply.root.uri, parent_uri, uri) END AS conversation_id,
    -- A feed view's counts are the original post's, not the repost's: none on a repost row.
    CASE WHEN NOT is_repost THEN pv.likeCount END AS like_count,
    CASE WHEN NOT is_repost THEN pv.repostCount END AS repost_count,
    CASE WHEN NOT is_repost THEN pv.replyCount END AS reply_count,
    CASE WHEN NOT is_repost THEN pv.quoteCount END AS quote_count,
    retrieved_at, source_sha256, record_no, item_no,
    getvariable('parser_version') AS parser_version
FROM bsky_rows;

-- 5. Entities from facets: byte ranges become character ranges into the text. A range that
--    does not select what its feature names (client bugs: shifted by a space, counted in
--    another unit, zero-width, past the end) is looked for in the text, as twitwi does: the
--    '#tag' itself, the '@handle' from one character before the claimed start (a range that
--    leaves out the '@' still names the DID it carries), the URL itself. Tags and links found
--    nowhere keep their value with no position; a mention found nowhere has no handle to store
--    and is left out. Other feature types (formatting, polls, spoilers, misspelt ones such as
--    FACETTAG) are not entities: they go to other_facets as written, with their range.
CREATE OR REPLACE TEMP TABLE bsky_features AS
WITH facets AS (
    SELECT source_sha256, record_no, item_no, post_id, r.text AS text,
        unnest(list_transform(r.facets, lambda f, i: {'f': f, 'no': i})) AS facet
    FROM bsky_rows WHERE r.facets <> []
), features AS (
    SELECT source_sha256, record_no, item_no, post_id, text, facet.no AS facet_no,
        facet.f.index.byteStart AS b0, facet.f.index.byteEnd AS b1,
        unnest(list_transform(facet.f.features, lambda x, i: {'x': x, 'no': i})) AS feature
    FROM facets
)
SELECT source_sha256, record_no, item_no, post_id, text, facet_no, feature.no AS feature_no, b0, b1,
    feature.x AS x, json_extract_string(feature.x, '$."$type"') AS type,
    CASE lower(regexp_extract(type, '^app\.bsky\.richtext\.[A-Za-z.]*[#.]([A-Za-z]+)$', 1))
        WHEN 'tag' THEN 'hashtag' WHEN 'hashtag' THEN 'hashtag' WHEN 'mention' THEN 'mention'
        WHEN 'link' THEN 'url' END AS kind,
    bsky_char_pos(text, b0) AS s, bsky_char_pos(text, b1) AS e
FROM features;

INSERT INTO stg_other_facets BY NAME
SELECT 'bluesky' AS platform, post_id, facet_no, feature_no, type AS feature_type, b0 AS byte_start,
    b1 AS byte_end, s AS start_pos, e AS end_pos, x AS feature, source_sha256, record_no, item_no
FROM bsky_features WHERE kind IS NULL;

CREATE OR REPLACE TEMP TABLE bsky_facets AS
WITH typed AS (
    SELECT *, trim(coalesce(json_extract_string(x, '$.tag'), json_extract_string(x, '$.hashtag'))) AS tag,
        json_extract_string(x, '$.did') AS did, json_extract_string(x, '$.uri') AS uri
    FROM bsky_features WHERE kind IS NOT NULL
), checked AS (
    SELECT *, coalesce(CASE kind
        WHEN 'hashtag' THEN lower(slice) IN (lower('#' || tag), lower('＃' || tag))
            OR (tag IS NULL AND regexp_full_match(slice, '[#＃][^\s#＃]+'))
        WHEN 'mention' THEN regexp_full_match(slice, '@[A-Za-z0-9][A-Za-z0-9.-]*[A-Za-z0-9]')
        -- link text is free (a shortened URL, or words): it must not start or end inside a
        -- word, nor on a space, nor run across lines
        ELSE slice = trim(slice) AND NOT contains(slice, chr(10))
             AND NOT regexp_matches(substr(text, s, 1) || substr(text, e + 1, 1), '[\pL\pN]')
    END, false) AS ok
    FROM (SELECT *, CASE WHEN e > s THEN substr(text, s + 1, e - s) END AS slice,
              CASE WHEN s IS NOT NULL THEN greatest(s, 1) END AS s1  -- 1-based: one before the start
          FROM typed)
), found AS (
    SELECT *, CASE WHEN ok THEN slice WHEN kind = 'hashtag' THEN '#' || tag WHEN kind = 'url' THEN uri
                   ELSE nullif(regexp_extract(substr(text, s1), '@[A-Za-z0-9][A-Za-z0-9.-]*[A-Za-z0-9]'), '')
              END AS token
    FROM checked
)
SELECT *, CASE WHEN ok THEN s
               WHEN kind = 'hashtag' THEN nullif(instr(lower(text), lower(token)), 0) - 1
               WHEN kind = 'mention' THEN s1 - 1 + nullif(instr(substr(text, s1), token), 0) - 1
               ELSE nullif(instr(text, token), 0) - 1 END AS start_pos
FROM found;

INSERT INTO stg_entities BY NAME
SELECT 'bluesky' AS platform, post_id, kind,
    CASE kind WHEN 'hashtag' THEN coalesce(tag, substr(token, 2)) WHEN 'mention' THEN substr(token, 2)
              ELSE CASE WHEN start_pos IS NOT NULL THEN token ELSE uri END END AS value,
    CASE kind WHEN 'hashtag' THEN lower(coalesce(tag, substr(token, 2))) WHEN 'mention' THEN lower(substr(token, 2))
              ELSE uri END AS normalized,
    start_pos, start_pos + length(token) AS end_pos,
    CASE kind WHEN 'mention' THEN did END AS target_id,
    source_sha256, record_no, item_no
FROM bsky_facets
WHERE CASE kind WHEN 'mention' THEN start_pos IS NOT NULL
                WHEN 'hashtag' THEN coalesce(tag, substr(token, 2)) <> ''
                ELSE uri IS NOT NULL END;

-- 6. Authors: every profile view a post item carries (author, reposter, reply context, the
--    quoted post's author); within a record, the first one seen.
INSERT INTO stg_authors BY NAME
WITH seen AS (
    SELECT source_sha256, record_no, item_no, retrieved_at,
        unnest([pv.author, reason.by, ctx.parent.author, ctx.root.author, ctx.grandparentAuthor,
                pv.embed.record.author, pv.embed.record.record.author]) AS a
    FROM bsky_rows
)
SELECT 'bluesky' AS platform, a.did AS author_id, a.handle, a.displayName AS display_name,
    a.description AS bio, a.followersCount AS followers_count, a.followsCount AS following_count,
    a.postsCount AS post_count, TRY_CAST(a.createdAt AS TIMESTAMPTZ) AS created_at,
    a.avatar AS profile_image_url, retrieved_at, source_sha256, record_no
FROM seen
WHERE a.did IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY source_sha256, record_no, a.did ORDER BY item_no) = 1;

-- 7. Everything else is accounted for in rejects, saying what it is.
INSERT INTO stg_rejects BY NAME
SELECT source_sha256, record_no, 0 AS item_no, 'malformed JSON (truncated or corrupt line)' AS reason, j AS raw
FROM bsky_top WHERE has.self IS NULL;  -- invalid JSON has no type at all

-- A list or page with nothing in it was still a record read.
INSERT INTO stg_rejects BY NAME
SELECT source_sha256, record_no, 0 AS item_no, 'empty list or page: no posts' AS reason, j AS raw
FROM bsky_top t
WHERE bsky_is_container(has, role)
  AND NOT EXISTS (SELECT 1 FROM bsky_items i WHERE i.source_sha256 = t.source_sha256 AND i.record_no = t.record_no);

-- Candidates that are not posts: other record types, firehose deletes and other events.
INSERT INTO stg_rejects BY NAME
SELECT source_sha256, record_no, CASE WHEN whole THEN 0 ELSE item_no END AS item_no,
    CASE
        WHEN event IS NULL AND r."$type" IS NULL AND r.text IS NULL THEN 'not a post: ' || shape || ' without a record'
        WHEN event IS NULL THEN what || ', not a post'
        WHEN event.kind NOT IN ('commit', 'record') THEN event.source || ' ' || coalesce(event.kind, '?') || ' event, not a post'
        WHEN event.op = 'delete' THEN event.source || ' delete of a ' || what || ': ' || uri || ' was deleted'
        ELSE event.source || ' ' || coalesce(event.op, '?') || ' of a ' || what || ', not a post'
    END AS reason,
    j AS raw
FROM (SELECT c.*, i.j, i.whole, bsky_record_kind(coalesce(c.event.collection, c.r."$type")) AS what
      FROM bsky_cand c JOIN bsky_items i USING (source_sha256, record_no, item_no)
      WHERE NOT c.is_post);

-- Items that are no post at all, named by what they are.
INSERT INTO stg_rejects BY NAME
SELECT source_sha256, record_no, CASE WHEN whole THEN 0 ELSE item_no END AS item_no,
    CASE
        WHEN shape = 'scalar' THEN 'not a post: a JSON ' || lower(has.self)
        WHEN shape = 'not_found' THEN 'thread: post not found (deleted, or never existed)'
        WHEN shape = 'blocked' THEN 'thread: post blocked (hidden from the account that collected it)'
        WHEN list_contains(k, 'didDoc') THEN 'DID document (identity), not a post'
        WHEN k = ['did'] THEN 'handle resolution (a DID), not a post'
        WHEN list_contains(k, 'follows') THEN 'list of follows (app.bsky.graph.getFollows), not posts'
        WHEN list_contains(k, 'followers') THEN 'list of followers (app.bsky.graph.getFollowers), not posts'
        WHEN list_contains(k, 'likes') THEN 'list of likes (app.bsky.feed.getLikes), not posts'
        WHEN list_contains(k, 'repostedBy') THEN 'list of reposters (app.bsky.feed.getRepostedBy), not posts'
        WHEN list_contains(k, 'profiles') THEN 'list of profiles, not posts'
        WHEN list_contains(k, 'did') AND list_contains(k, 'handle') THEN 'Bluesky profile, not a post'
        WHEN list_contains(k, 'user_did') AND list_contains(k, 'timestamp_utc')
            THEN 'twitwi-normalised post: ingest this file with --format csv (preset twitwi-bluesky)'
        ELSE 'not a post: unrecognised record (keys: ' || array_to_string(list_sort(k)[1:8], ', ') || ')'
    END AS reason,
    j AS raw
FROM (SELECT *, CASE WHEN has.self = 'OBJECT' THEN json_keys(j) END AS k FROM bsky_items
      WHERE shape IN ('scalar', 'not_found', 'blocked', 'other'));
