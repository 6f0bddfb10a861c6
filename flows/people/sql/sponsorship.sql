-- Sponsorship events: an account in $sponsor_roles reposts or quotes a post by a more junior
-- trainee (student < resident < faculty) that is the trainee's own work or achievement:
-- the trainee's original post or quote (not a reply, not a repost of someone else) whose
-- lower-cased text matches $cues (papers, posters, abstracts, awards, Match news ...).
INSERT INTO sponsorship_events
WITH amplified AS (
    SELECT platform, post_id, kind, source_id, target_id, target_post_id, created_at
    FROM interactions WHERE kind IN ('repost', 'quote') AND target_post_id IS NOT NULL
),
roles AS (
    SELECT platform, author_id, role,
           CASE role WHEN 'faculty' THEN 3 WHEN 'resident' THEN 2 WHEN 'student' THEN 1 END AS seniority
    FROM author_roles
),
work AS (
    SELECT platform, post_id, author_id, regexp_extract(lower(text), $cues, 0) AS cue
    FROM posts
    WHERE kind IN ('original', 'quote') AND regexp_matches(lower(text), $cues)
),
final AS (
    SELECT a.platform, a.post_id, a.kind, a.source_id AS sponsor_id, a.target_id AS trainee_id,
           w.post_id AS work_post_id, w.cue, a.created_at
    FROM amplified a
    JOIN work w ON w.platform = a.platform AND w.post_id = a.target_post_id AND w.author_id = a.target_id
    JOIN roles s ON s.platform = a.platform AND s.author_id = a.source_id
    JOIN roles t ON t.platform = a.platform AND t.author_id = a.target_id
    WHERE list_contains($sponsor_roles, s.role) AND t.role IN ('student', 'resident')
      AND s.seniority > t.seniority
)
SELECT * FROM final ORDER BY platform, post_id;
