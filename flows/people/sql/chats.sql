-- One row per chat in _chat_windows that drew at least $min_answers answers (A1 ...) from
-- accounts other than its hosts.
INSERT INTO chats
WITH per_account AS (
    SELECT p.chat_id, p.author_id, h.author_id IS NOT NULL AS is_host,
           bool_or(p.is_answer OR p.is_reply) AS took_part,
           count(*) FILTER (WHERE p.is_answer) AS answers
    FROM _chat_posts p
    LEFT JOIN _chat_hosts h ON h.chat_id = p.chat_id AND h.author_id = p.author_id
    GROUP BY ALL
),
stats AS (
    SELECT p.chat_id, min(p.created_at) AS started_at, max(p.created_at) AS ended_at, count(*) AS posts
    FROM _chat_posts p GROUP BY ALL
),
people AS (
    SELECT chat_id, sum(answers) FILTER (WHERE NOT is_host) AS answers,
           count(*) FILTER (WHERE NOT is_host AND took_part) AS participants
    FROM per_account GROUP BY ALL
)
SELECT c.chat_id, c.platform, c.hashtag, c.host_id, c.first_question_post_id, c.window_start, c.window_end,
       s.started_at, s.ended_at, c.questions, coalesce(p.answers, 0)::BIGINT, s.posts, p.participants
FROM _chat_windows c JOIN stats s USING (chat_id) JOIN people p USING (chat_id)
WHERE coalesce(p.answers, 0) >= $min_answers
ORDER BY c.window_start, c.chat_id;
