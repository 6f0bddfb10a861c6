-- Posts per calendar month (UTC) by kind, for the months that hold posts (inside the study's
-- inclusion window, as report_posts is): a corpus with a few stray posts years apart gets a
-- table of its months, not of every empty month between them.
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
)
SELECT * FROM counted ORDER BY month;
