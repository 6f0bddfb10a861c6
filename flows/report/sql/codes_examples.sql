-- Example posts per assignable code: the highest-scoring posts (people's codes have no score),
-- at most one per account, ties broken by a hash of the post id, so the choice is the same on
-- every run and independent of insertion order. Very short posts are skipped.
WITH present AS (
    SELECT c.code, c.platform, c.post_id, c.author_id, c.score,
           md5(c.platform || ':' || c.post_id) AS tiebreak
    FROM report_coded($codebook, $coder, $studied) c
    JOIN report_codebook_codes k ON k.codebook_id = $codebook AND k.code_id = c.code AND k.assignable
    WHERE c.value = 1
),
posts AS (
    SELECT p.*, r.author_handle, r.created_at, r.kind, r.text
    FROM present p
    JOIN report_posts r ON r.platform = p.platform AND r.post_id = p.post_id
    WHERE length(coalesce(r.text, '')) >= 30
),
one_per_account AS (
    SELECT *, row_number() OVER (PARTITION BY code, platform, author_id
                                 ORDER BY score DESC NULLS LAST, tiebreak, post_id) AS k
    FROM posts
),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY code ORDER BY score DESC NULLS LAST, tiebreak, post_id) AS pick
    FROM one_per_account
    WHERE k = 1
)
SELECT r.code, r.pick, r.platform, r.post_id, r.author_handle, r.created_at, r.kind, r.text,
       coalesce(a.role, 'unknown') AS role
FROM ranked r
LEFT JOIN report_accounts a ON a.platform = r.platform AND a.author_id = r.author_id
WHERE r.pick <= $n
ORDER BY r.code, r.pick;
