-- The denominators of a codebook's results table: posts in scope that $coder coded under the
-- current version of $codebook, and the accounts that wrote them.
WITH coded AS (
    SELECT DISTINCT platform, post_id, author_id FROM report_coded($codebook, $coder, $studied)
)
SELECT count(*) AS posts, count(DISTINCT (platform, author_id)) AS accounts FROM coded;
