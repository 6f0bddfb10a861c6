-- Candidate tweet-chat sessions. A numbered post is a non-repost whose text opens (after any
-- @handles) with "Q<n>", "T<n>" ... ($question, not $not_question) and that carries a hashtag.
-- Numbered posts with the same hashtag form one session while each follows the previous within
-- $max_gap_minutes; a session with at least $min_questions distinct numbers is a candidate (its
-- hosts and questions are then decided in flows/people/chats.py).
WITH questions AS (
    SELECT DISTINCT p.platform, p.post_id, p.author_id, p.created_at, e.normalized AS hashtag,
           CAST(regexp_extract(p.text, $question, 1) AS INTEGER) AS number
    FROM posts p
    JOIN entities e ON e.platform = p.platform AND e.post_id = p.post_id AND e.kind = 'hashtag'
    WHERE p.kind <> 'repost' AND p.author_id IS NOT NULL AND p.created_at IS NOT NULL
      AND regexp_matches(p.text, $question) AND NOT regexp_matches(p.text, $not_question)
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
           list(number ORDER BY created_at, post_id) AS question_numbers,
           min(created_at) AS first_question_at, max(created_at) AS last_question_at
    FROM numbered
    GROUP BY ALL
    HAVING count(DISTINCT number) >= $min_questions
)
SELECT f.*, (SELECT count(*) FROM entities e WHERE e.platform = f.platform AND e.kind = 'hashtag'
                                                AND e.normalized = f.hashtag) AS hashtag_uses
FROM final f
ORDER BY platform, hashtag, first_question_at;
