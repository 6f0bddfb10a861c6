-- Per account: posts $coder coded and, per code, posts it is present on. Accounts: the studied
-- ones in rank order when $only_studied, else the $limit accounts with the most coded posts.
WITH coded AS (
    SELECT platform, author_id, count(DISTINCT post_id) AS coded
    FROM report_coded($codebook, $coder, $studied)
    GROUP BY ALL
),
accounts AS (
    SELECT c.platform, c.author_id, c.coded, s.rank
    FROM coded c
    LEFT JOIN report_candidates s ON s.platform = c.platform AND s.author_id = c.author_id AND s.selected
    WHERE NOT $only_studied OR s.rank IS NOT NULL
    ORDER BY s.rank NULLS LAST, c.coded DESC, c.platform, c.author_id
    LIMIT $limit
),
present AS (
    SELECT platform, author_id, code, count(*) AS posts
    FROM report_present($codebook, $coder, $studied)
    GROUP BY ALL
),
final AS (
    SELECT a.platform, a.author_id, coalesce(r.handle, a.author_id) AS handle, a.rank, a.coded,
           p.code, coalesce(p.posts, 0) AS posts
    FROM accounts a
    LEFT JOIN present p ON p.platform = a.platform AND p.author_id = a.author_id
    LEFT JOIN report_accounts r ON r.platform = a.platform AND r.author_id = a.author_id
)
SELECT * FROM final
ORDER BY rank NULLS LAST, coded DESC, platform, author_id, code;
