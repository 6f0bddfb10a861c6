-- Per account, what the superuser criteria measure (flows.superusers):
--   posts              posts authored (reposts included when $count_reposts)
--   own_posts          posts that are not reposts (the account's own words)
--   professional_posts own posts that carry a field hashtag ($hashtags) or the hashtag of a
--                      detected tweet chat, or whose lower-cased text matches $terms, or that
--                      share a link other than a photo, video or post ($personal_links), or
--                      that have a code in _coded_posts (code_assignments, when that exists);
--                      and quotes of a post that is professional by those tests
--   faculty / students distinct faculty / other student accounts tied to this one by an
--                      interaction of $kinds, made or (when $either) received
--   chats              distinct tweet chats hosted or taken part in
--   months             calendar months the corpus spans (the same for everyone)
WITH accounts AS (
    SELECT platform, author_id, handle, role FROM author_roles
),
field_tags AS (
    SELECT DISTINCT e.platform, e.post_id
    FROM entities e
    WHERE e.kind = 'hashtag'
      AND (list_contains($hashtags, e.normalized) OR e.normalized IN (SELECT hashtag FROM chats))
),
links AS (
    SELECT DISTINCT platform, post_id FROM entities
    WHERE kind = 'url' AND NOT regexp_matches(normalized, $personal_links)
),
tested AS (
    SELECT p.platform, p.post_id, p.author_id, p.kind, p.quoted_post_id,
           p.kind <> 'repost' AND (f.post_id IS NOT NULL OR c.post_id IS NOT NULL OR l.post_id IS NOT NULL
                                   OR regexp_matches(lower(coalesce(p.text, '')), $terms)) AS professional
    FROM posts p
    LEFT JOIN field_tags f ON f.platform = p.platform AND f.post_id = p.post_id
    LEFT JOIN links l ON l.platform = p.platform AND l.post_id = p.post_id
    LEFT JOIN _coded_posts c ON c.platform = p.platform AND c.post_id = p.post_id
    WHERE p.author_id IS NOT NULL
),
authored AS (
    SELECT t.platform, t.post_id, t.author_id, t.kind,
           t.professional OR (t.kind = 'quote' AND coalesce(q.professional, false)) AS professional
    FROM tested t
    LEFT JOIN tested q ON q.platform = t.platform AND q.post_id = t.quoted_post_id
),
volume AS (
    SELECT platform, author_id,
           count(*) FILTER (WHERE $count_reposts OR kind <> 'repost') AS posts,
           count(*) FILTER (WHERE kind <> 'repost') AS own_posts,
           count(*) FILTER (WHERE professional) AS professional_posts
    FROM authored GROUP BY ALL
),
ties AS (
    SELECT platform, source_id AS author_id, target_id AS other FROM interactions WHERE list_contains($kinds, kind)
    UNION
    SELECT platform, target_id, source_id FROM interactions WHERE $either AND list_contains($kinds, kind)
),
partners AS (
    SELECT t.platform, t.author_id,
           count(DISTINCT t.other) FILTER (WHERE r.role = 'faculty') AS faculty,
           count(DISTINCT t.other) FILTER (WHERE r.role = 'student') AS students
    FROM ties t JOIN author_roles r ON r.platform = t.platform AND r.author_id = t.other
    GROUP BY ALL
),
chatting AS (
    SELECT platform, author_id, count(DISTINCT chat_id) AS chats
    FROM chat_participation WHERE is_host OR is_participant GROUP BY ALL
),
span AS (
    SELECT greatest(1, coalesce(datediff('month', min(created_at), max(created_at)) + 1, 1)) AS months FROM posts
),
final AS (
    SELECT a.platform, a.author_id, coalesce(a.handle, a.author_id) AS handle, a.role,
           coalesce(v.posts, 0) AS posts, coalesce(v.own_posts, 0) AS own_posts,
           coalesce(v.professional_posts, 0) AS professional_posts,
           coalesce(p.faculty, 0) AS faculty, coalesce(p.students, 0) AS students,
           coalesce(c.chats, 0) AS chats, s.months
    FROM accounts a
    CROSS JOIN span s
    LEFT JOIN volume v USING (platform, author_id)
    LEFT JOIN partners p USING (platform, author_id)
    LEFT JOIN chatting c USING (platform, author_id)
)
SELECT * FROM final ORDER BY platform, author_id;
