-- Per calendar month (UTC): posts $coder coded, and per code and domain the posts it is on.
WITH coded AS (
    SELECT DISTINCT platform, post_id, month FROM report_coded($codebook, $coder, $studied)
),
totals AS (
    SELECT month, count(*) AS coded FROM coded WHERE month IS NOT NULL GROUP BY month
),
present AS (
    SELECT month, code, count(*) AS posts
    FROM report_present($codebook, $coder, $studied)
    WHERE month IS NOT NULL
    GROUP BY ALL
)
SELECT t.month, t.coded, p.code, coalesce(p.posts, 0) AS posts
FROM totals t
LEFT JOIN present p ON p.month = t.month
ORDER BY t.month, p.code;
