-- Topics x codes: per topic of run $run, its posts that $coder coded under $codebook and, per
-- code and domain, how many of them show it (every account's posts: topics cover the corpus).
WITH assigned AS (
    SELECT DISTINCT t.topic, t.platform, t.post_id
    FROM report_topic_posts t
    JOIN report_coded($codebook, $coder, false) c ON c.platform = t.platform AND c.post_id = t.post_id
    WHERE t.run_id = $run
),
totals AS (
    SELECT topic, count(*) AS coded FROM assigned GROUP BY topic
),
present AS (
    SELECT a.topic, p.code, count(*) AS posts
    FROM assigned a
    JOIN report_present($codebook, $coder, false) p ON p.platform = a.platform AND p.post_id = a.post_id
    GROUP BY ALL
)
SELECT t.topic, t.coded, p.code, coalesce(p.posts, 0) AS posts
FROM totals t
LEFT JOIN present p ON p.topic = t.topic
ORDER BY t.topic, p.code;
