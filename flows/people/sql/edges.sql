-- Directed edges: the interactions of each (source, target, kind), with counts and dates.
INSERT INTO network_edges
SELECT platform, source_id, target_id, kind,
       count(DISTINCT post_id) AS posts,
       count(DISTINCT date_trunc('month', created_at)) AS months,
       min(created_at) AS first_at, max(created_at) AS last_at
FROM interactions
GROUP BY ALL;
