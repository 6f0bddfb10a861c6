-- Dataset exports: one row per post in canonical order (platform, post id) with its author,
-- the author's role, the topic of the current run and one 0/1 column per code. (Who mentions
-- whom is the network export's business; a per-post mentions column cost a third of the time.)
-- Filled in by flows/export/table.py (str.format): the content hash, coder and topic run id as
-- SQL literals (NULL when absent), the codebook's assignable code ids as a list literal, and one
-- output column per code. A code column is NULL where the coder did not code the post
-- (reposts, posts outside a human round).
-- Speed (benchmarks/bench_export.py): codes are read from code_assignments for the one content
-- hash that code_values would show, and pivoted with two bit masks per post and 62 codes (which
-- codes the coder coded, which were 1) instead of one filtered aggregate per code. The CTEs are
-- MATERIALIZED so that the optimizer knows their sizes and probes them with the wide posts rows
-- (left to itself it overestimates the aggregates and builds its hash tables on posts instead).
WITH
coded AS MATERIALIZED (
    SELECT platform, post_id{code_aggregates}
    FROM (
        SELECT platform, post_id, value, list_position({code_ids}, code_id) AS i
        FROM code_assignments
        WHERE content_hash = {content_hash} AND coder = {coder}
    )
    WHERE i IS NOT NULL
    GROUP BY platform, post_id
),
topic AS MATERIALIZED (
    SELECT a.platform, a.post_id, a.topic, t.label AS topic_label
    FROM topic_assignments AS a
    JOIN topics AS t ON t.run_id = a.run_id AND t.topic = a.topic
    WHERE a.run_id = {run_id}
),
roles AS MATERIALIZED (
    SELECT platform, author_id, min(role) AS role FROM author_roles GROUP BY platform, author_id
),
final AS (
    SELECT p.post_id, p.platform, p.created_at, p.author_id, p.author_handle,
           r.role AS author_role, p.kind, p.in_reply_to_post_id, p.in_reply_to_author_id,
           p.text, t.topic, t.topic_label{code_columns},
           CASE WHEN c.post_id IS NOT NULL THEN {coder} END AS coder
    FROM posts AS p
    LEFT JOIN roles AS r ON r.platform = p.platform AND r.author_id = p.author_id
    LEFT JOIN topic AS t ON t.platform = p.platform AND t.post_id = p.post_id
    LEFT JOIN coded AS c ON c.platform = p.platform AND c.post_id = p.post_id
)
SELECT * FROM final
ORDER BY platform, post_id
