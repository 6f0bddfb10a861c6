-- Per code and domain of $codebook: posts it is present on and accounts showing it at least
-- once (the paper's "number and % of posts, number and % of students").
WITH present AS (
    SELECT * FROM report_present($codebook, $coder, $studied)
)
SELECT code, count(*) AS posts, count(DISTINCT (platform, author_id)) AS accounts
FROM present
GROUP BY code
ORDER BY code;
