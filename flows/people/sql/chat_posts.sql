-- The posts of each chat in _chat_windows: non-reposts inside the window that carry the
-- chat's hashtag, and replies inside the window to those posts. One row per chat and post;
-- is_answer: opens with "A<n>", or is a non-host's numbered post; is_reply: answers another post of the same chat.
CREATE OR REPLACE TEMP TABLE _chat_posts AS
WITH tagged AS (
    SELECT DISTINCT c.chat_id, p.platform, p.post_id, p.author_id, p.created_at, p.text, p.in_reply_to_post_id
    FROM _chat_windows c
    JOIN entities e ON e.platform = c.platform AND e.kind = 'hashtag' AND e.normalized = c.hashtag
    JOIN posts p ON p.platform = e.platform AND p.post_id = e.post_id
    WHERE p.kind <> 'repost' AND p.author_id IS NOT NULL
      AND p.created_at BETWEEN c.window_start AND c.window_end
),
replies_to_tagged AS (
    SELECT DISTINCT t.chat_id, p.platform, p.post_id, p.author_id, p.created_at, p.text, p.in_reply_to_post_id
    FROM tagged t
    JOIN posts p ON p.platform = t.platform AND p.in_reply_to_post_id = t.post_id
    JOIN _chat_windows c ON c.chat_id = t.chat_id
    WHERE p.kind <> 'repost' AND p.author_id IS NOT NULL
      AND p.created_at BETWEEN c.window_start AND c.window_end
),
chat_posts AS (
    SELECT * FROM tagged UNION SELECT * FROM replies_to_tagged
),
final AS (
    SELECT p.chat_id, p.platform, p.post_id, p.author_id, p.created_at,
           regexp_matches(p.text, $answer)
               OR (regexp_matches(p.text, $question) AND NOT regexp_matches(p.text, $not_question)
                   -- "T1 ..." by a participant of a T1/T2 chat
                   AND NOT EXISTS (SELECT 1 FROM _chat_hosts h WHERE h.chat_id = p.chat_id
                                                                AND h.author_id = p.author_id)) AS is_answer,
           p.in_reply_to_post_id IN (SELECT post_id FROM chat_posts q WHERE q.chat_id = p.chat_id) AS is_reply
    FROM chat_posts p
)
SELECT * FROM final;
