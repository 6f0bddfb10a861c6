-- What a coder sees beside a post on a coding sheet: author, date, text and, for a reply,
-- the post it answers ("@handle: text") when that post is in the corpus. Reposts are left
-- out: their text is someone else's post. Sorted by platform and post id.
WITH post_authors AS (
    SELECT
        p.platform,
        p.post_id,
        p.author_id,
        coalesce(a.handle, p.author_handle, p.author_id) AS author,
        p.created_at,
        p.kind,
        coalesce(p.text, '') AS text,
        p.in_reply_to_post_id
    FROM posts AS p
    LEFT JOIN authors AS a ON a.platform = p.platform AND a.author_id = p.author_id
),

final AS (
    SELECT
        c.platform,
        c.post_id,
        c.author_id,
        c.author,
        strftime(c.created_at, '%Y-%m-%dT%H:%M:%SZ') AS date,
        strftime(c.created_at, '%Y-%m') AS month,
        c.kind,
        c.text,
        CASE WHEN parent.post_id IS NOT NULL THEN '@' || parent.author || ': ' || parent.text
             ELSE '' END AS in_reply_to,
        sha256(c.text) AS text_sha256
    FROM post_authors AS c
    LEFT JOIN post_authors AS parent
      ON parent.platform = c.platform AND parent.post_id = c.in_reply_to_post_id
    WHERE c.kind <> 'repost'
)

SELECT * FROM final ORDER BY platform, post_id
