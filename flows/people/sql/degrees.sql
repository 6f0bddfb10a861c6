-- Degrees and interaction weights per account over all kinds together (ties to oneself excluded).
WITH pairs AS (
    SELECT platform, source_id, target_id, sum(posts) AS weight
    FROM network_edges GROUP BY ALL
),
outgoing AS (
    SELECT platform, source_id AS author_id, count(*) AS out_degree, sum(weight) AS out_weight
    FROM pairs GROUP BY ALL
),
incoming AS (
    SELECT platform, target_id AS author_id, count(*) AS in_degree, sum(weight) AS in_weight
    FROM pairs GROUP BY ALL
),
final AS (
    SELECT coalesce(o.platform, i.platform) AS platform, coalesce(o.author_id, i.author_id) AS author_id,
           coalesce(i.in_degree, 0) AS in_degree, coalesce(o.out_degree, 0) AS out_degree,
           coalesce(i.in_weight, 0)::BIGINT AS in_weight, coalesce(o.out_weight, 0)::BIGINT AS out_weight
    FROM outgoing o FULL JOIN incoming i ON o.platform = i.platform AND o.author_id = i.author_id
)
SELECT * FROM final ORDER BY platform, author_id;
