-- The fit's sample (appended to select_docs.sql): within each stratum of (month, language), the
-- posts first by a seeded hash of their key, as many as the stratum's share of $size (rounded
-- up). The hash, not the storage order, decides, so any ingest order gives the same sample.
-- Parameters: $seed, $size.
, ranked AS (
    SELECT *,
           row_number() OVER (PARTITION BY month, lang
                              ORDER BY sha256(CAST($seed AS VARCHAR) || ':' || platform || ':' || post_id)) AS pick,
           count(*) OVER (PARTITION BY month, lang) AS stratum,
           count(*) OVER () AS total
    FROM final
)

SELECT platform, post_id, doc, text_sha256, lang
FROM ranked
WHERE pick <= ceil(stratum * $size / total)
ORDER BY platform, post_id
