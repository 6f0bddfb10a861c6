-- Participation per chat and account (from _chat_posts and _chat_hosts). A participant is
-- an account other than a host that answered (A1 ...) or replied to a post of the chat;
-- accounts that only used the hashtag during the window are kept with is_participant false.
INSERT INTO chat_participation
WITH per_account AS (
    SELECT p.chat_id, p.platform, p.author_id, h.author_id IS NOT NULL AS is_host,
           count(*) AS posts, count(*) FILTER (WHERE p.is_answer) AS answers,
           count(*) FILTER (WHERE p.is_reply) AS replies,
           min(p.created_at) AS first_at, max(p.created_at) AS last_at
    FROM _chat_posts p
    LEFT JOIN _chat_hosts h ON h.chat_id = p.chat_id AND h.author_id = p.author_id
    WHERE p.chat_id IN (SELECT chat_id FROM _chat_windows)
    GROUP BY ALL
)
SELECT chat_id, platform, author_id, is_host, NOT is_host AND (answers > 0 OR replies > 0) AS is_participant,
       posts, answers, replies, first_at, last_at
FROM per_account
ORDER BY chat_id, author_id;
