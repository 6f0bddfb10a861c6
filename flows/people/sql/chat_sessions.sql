-- Candidate tweet-chat sessions. A question post is a non-repost whose text opens (after any
-- @handles) with "Q<n>" and one of : . ) - and that carries a hashtag. Question posts with
-- the same hashtag form one session while each follows the previous within $max_gap_minutes;
-- a session with at least $min_questions distinct question numbers is a candidate.
WITH questions AS (
    SELECT DISTINCT p.platform, p.post_id, p.author_id, p.created_at, e.normalized AS hashtag,
           CAST(regexp_extract(p.text, $question, 1) AS INTEGER) AS number
    FROM posts p
    JOIN entities e ON e.platform = p.platform AND e.post_id = p.post_id AND e.kind = 'hashtag'
    WHERE p.kind <> 'repost' AND p.author_id IS NOT NULL AND regexp_matches(p.text, $question)
),
gaps AS (
    SELECT *,
           CASE WHEN created_at - lag(created_at) OVER w > to_minutes($max_gap_minutes) THEN 1 ELSE 0 END AS opens
    FROM questions
    WINDOW w AS (PARTITION BY platform, hashtag ORDER BY created_at, post_id)
),
numbered AS (
    SELECT *, sum(opens) OVER (PARTITION BY platform, hashtag ORDER BY created_at, post_id
                               ROWS UNBOUNDED PRECEDING) AS session
    FROM gaps
),
final AS (
    SELECT platform, hashtag, session,
           list(post_id ORDER BY created_at, post_id) AS question_posts,
           list(author_id ORDER BY created_at, post_id) AS question_authors,
           count(DISTINCT number) AS questions,
           min(created_at) AS first_question_at, max(created_at) AS last_question_at
    FROM numbered
    GROUP BY ALL
    HAVING count(DISTINCT number) >= $min_questions
)
SELECT f.*, (SELECT count(*) FROM entities e WHERE e.platform = f.platform AND e.kind = 'hashtag'
                                                AND e.normalized = f.hashtag) AS hashtag_uses
FROM final f
ORDER BY platform, hashtag, first_question_at;
