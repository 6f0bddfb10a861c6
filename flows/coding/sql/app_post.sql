-- One post as the coding app shows it: text, kind, date, author (handle, name, bio, role) and
-- the ids of the post it answers and the post it quotes. Parameters: $platform, $post_ids.
WITH final AS (
    SELECT
        p.platform,
        p.post_id,
        coalesce(p.text, '') AS text,
        p.kind,
        strftime(p.created_at, '%Y-%m-%d %H:%M UTC') AS date,
        coalesce(a.handle, p.author_handle, p.author_id, '') AS author,
        coalesce(a.display_name, '') AS display_name,
        coalesce(a.bio, '') AS bio,
        coalesce(r.role, '') AS role,
        p.in_reply_to_post_id,
        p.quoted_post_id,
        p.conversation_id,
        p.created_at
    FROM posts AS p
    LEFT JOIN authors AS a ON a.platform = p.platform AND a.author_id = p.author_id
    LEFT JOIN author_roles AS r ON r.platform = p.platform AND r.author_id = p.author_id
    WHERE p.platform = $platform AND list_contains($post_ids, p.post_id)
)

SELECT * FROM final ORDER BY created_at NULLS LAST, post_id
