-- Posts per calendar month (UTC) by kind, every month from the first to the last post
-- (months without posts are listed with zeros, so the timeline has no silent gaps).
WITH counted AS (
    SELECT month,
           count(*) FILTER (WHERE kind = 'original') AS original,
           count(*) FILTER (WHERE kind = 'reply') AS reply,
           count(*) FILTER (WHERE kind = 'quote') AS quote,
           count(*) FILTER (WHERE kind = 'repost') AS repost,
           count(*) AS posts
    FROM report_posts
    WHERE month IS NOT NULL
    GROUP BY month
),
span AS (
    SELECT CAST(unnest(generate_series(min(month), max(month), INTERVAL 1 MONTH)) AS DATE) AS month
    FROM counted
),
final AS (
    SELECT s.month, coalesce(c.original, 0) AS original, coalesce(c.reply, 0) AS reply,
           coalesce(c.quote, 0) AS quote, coalesce(c.repost, 0) AS repost, coalesce(c.posts, 0) AS posts
    FROM span s LEFT JOIN counted c ON c.month = s.month
)
SELECT * FROM final ORDER BY month;
