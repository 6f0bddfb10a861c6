-- Ties made by each post (one row per post and account tied to).
--   reply:  a post answering another -> the author of the post it answers;
--   quote:  a post quoting another   -> the quoted post's author;
--   repost: a retweet / repost       -> the original post's author;
--   mention: every other @account a non-repost names (not the author itself, and not the
--            account the post already replies to, quotes or reposts: that tie has its kind).
-- Reposts make no mention ties: the words are the original author's.
-- A target is resolved from the referenced post when the corpus holds it, else from the
-- post's own fields (reply-to user, the DID in a Bluesky at:// URI, the "RT @handle:"
-- mention, a quote's twitter.com/<handle>/status/<id> link); '@handle' when only a handle is known.
INSERT INTO interactions
WITH src AS (
    SELECT platform, post_id, author_id, created_at, kind, in_reply_to_post_id, in_reply_to_author_id,
           quoted_post_id, reposted_post_id
    FROM posts WHERE author_id IS NOT NULL
),
mentions AS (
    SELECT platform, post_id, start_pos, normalized, target_id FROM entities WHERE kind = 'mention'
),
links AS (  -- a quote's link to the quoted post: twitter.com/<handle>/status/<id>
    SELECT platform, post_id,
           lower(regexp_extract(normalized, '^https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/(\w+)/status/\d+', 1))
               AS handle,
           regexp_extract(normalized, '^https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/\w+/status/(\d+)', 1)
               AS status_id
    FROM entities WHERE kind = 'url' AND regexp_matches(normalized, '(twitter|x)\.com/\w+/status/\d+')
),
handles AS (
    SELECT platform, lower(handle) AS handle, min(author_id) AS author_id
    FROM accounts_v WHERE handle IS NOT NULL GROUP BY ALL
),
refs AS (
    SELECT platform, post_id, author_id, created_at, 'reply' AS kind, in_reply_to_post_id AS target_post_id,
           in_reply_to_author_id AS hint
    FROM src WHERE kind <> 'repost' AND (in_reply_to_post_id IS NOT NULL OR in_reply_to_author_id IS NOT NULL)
    UNION ALL
    SELECT platform, post_id, author_id, created_at, 'quote', quoted_post_id, NULL
    FROM src WHERE kind <> 'repost' AND quoted_post_id IS NOT NULL
    UNION ALL
    SELECT platform, post_id, author_id, created_at, 'repost', reposted_post_id, NULL
    FROM src WHERE kind = 'repost'
),
rt_header AS (  -- "RT @handle:" names the original author of a repost
    SELECT m.platform, m.post_id,
           arg_min(coalesce(m.target_id, h.author_id, '@' || m.normalized), m.start_pos) AS author_id
    FROM mentions m
    JOIN src s ON s.platform = m.platform AND s.post_id = m.post_id AND s.kind = 'repost'
    LEFT JOIN handles h ON h.platform = m.platform AND h.handle = m.normalized
    WHERE m.start_pos <= 3
    GROUP BY ALL
),
quote_link AS (
    SELECT l.platform, l.post_id, l.status_id, coalesce(h.author_id, '@' || l.handle) AS author_id
    FROM links l LEFT JOIN handles h ON h.platform = l.platform AND h.handle = l.handle
),
resolved AS (
    SELECT r.platform, r.post_id, r.kind, r.author_id AS source_id,
           coalesce(parent.author_id, r.hint,
                    nullif(regexp_extract(r.target_post_id, '^at://([^/]+)/', 1), ''),
                    CASE r.kind WHEN 'repost' THEN rt.author_id WHEN 'quote' THEN ql.author_id END) AS target_id,
           r.target_post_id, r.created_at
    FROM refs r
    LEFT JOIN src parent ON parent.platform = r.platform AND parent.post_id = r.target_post_id
    LEFT JOIN rt_header rt ON r.kind = 'repost' AND rt.platform = r.platform AND rt.post_id = r.post_id
    LEFT JOIN quote_link ql ON r.kind = 'quote' AND ql.platform = r.platform AND ql.post_id = r.post_id
        AND ql.status_id = r.target_post_id
),
named AS (
    SELECT DISTINCT s.platform, s.post_id, 'mention' AS kind, s.author_id AS source_id,
           coalesce(m.target_id, h.author_id, '@' || m.normalized) AS target_id,
           NULL::VARCHAR AS target_post_id, s.created_at
    FROM mentions m
    JOIN src s ON s.platform = m.platform AND s.post_id = m.post_id AND s.kind <> 'repost'
    LEFT JOIN handles h ON h.platform = m.platform AND h.handle = m.normalized
),
final AS (
    SELECT * FROM resolved WHERE target_id IS NOT NULL
    UNION ALL
    SELECT n.* FROM named n
    ANTI JOIN resolved r ON r.platform = n.platform AND r.post_id = n.post_id AND r.target_id = n.target_id
)
SELECT platform, post_id, kind, source_id, target_id, target_post_id, created_at
FROM final
WHERE source_id <> target_id;
