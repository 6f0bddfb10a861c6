-- Co-occurrence: pairs of assignable codes of $codebook present on the same post.
WITH leaf AS (
    SELECT p.code, p.platform, p.post_id
    FROM report_present($codebook, $coder, $studied) p
    JOIN report_codebook_codes k ON k.codebook_id = $codebook AND k.code_id = p.code AND k.assignable
)
SELECT a.code AS code_a, b.code AS code_b, count(*) AS posts
FROM leaf a
JOIN leaf b ON b.platform = a.platform AND b.post_id = a.post_id AND a.code < b.code
GROUP BY ALL
ORDER BY posts DESC, code_a, code_b;
