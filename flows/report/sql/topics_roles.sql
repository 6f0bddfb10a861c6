-- Posts of topic run $run per topic, author role and month (UTC): roles as report_accounts
-- gives them ('other' for accounts with none); posts without a date have a NULL month.
WITH assigned AS (
    SELECT t.topic, t.month, p.platform, p.author_id
    FROM report_topic_posts AS t
    JOIN report_posts AS p ON p.platform = t.platform AND p.post_id = t.post_id
    WHERE t.run_id = $run
),

final AS (
    SELECT a.topic, coalesce(r.role, 'other') AS role, a.month, count(*) AS posts
    FROM assigned AS a
    LEFT JOIN report_accounts AS r ON r.platform = a.platform AND r.author_id = a.author_id
    GROUP BY ALL
)

SELECT * FROM final ORDER BY topic, role, month NULLS LAST
