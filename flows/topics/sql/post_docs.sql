-- The text embedded and topic-modelled for each post (rule "post-text-v1"; bump
-- flows.embed.TEXT_RULE with any change here, since cached vectors are keyed by this text).
--   * a repost stands for its original: the original's text when it is stored, else the
--     repost's own text without its "RT @handle: " prefix;
--   * URLs are removed (t.co links carry no topic and differ per share);
--   * a reply loses the run of @mentions that the platform puts in front of it;
--   * whitespace runs become one space; the result is trimmed.
WITH post AS (
    SELECT platform, post_id, author_id, kind, lang, created_at, text, reposted_post_id
    FROM posts
),

raw_doc AS (
    SELECT
        p.platform, p.post_id, p.author_id, p.kind, p.lang, p.created_at,
        CASE
            WHEN p.kind = 'repost' THEN coalesce(o.text, regexp_replace(p.text, '^RT @[\w.-]+:\s*', ''))
            WHEN p.kind = 'reply' THEN regexp_replace(p.text, '^(\s*@[\w.-]+)+', '')
            ELSE p.text
        END AS raw_text
    FROM post AS p
    LEFT JOIN post AS o
        ON p.kind = 'repost' AND o.platform = p.platform AND o.post_id = p.reposted_post_id
),

cleaned AS (
    SELECT
        * EXCLUDE (raw_text),
        trim(regexp_replace(regexp_replace(coalesce(raw_text, ''), 'https?://\S+', ' ', 'g'),
                            '\s+', ' ', 'g')) AS doc
    FROM raw_doc
),

final AS (
    SELECT platform, post_id, author_id, kind, lang, created_at, doc, sha256(doc) AS text_sha256
    FROM cleaned
)

SELECT * FROM final
