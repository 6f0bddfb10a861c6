-- Mentorship candidates: two accounts who replied to each other both ways in at least
-- $min_months distinct calendar months (UTC), a month counting when A replied to B and
-- B replied to A within it. The more senior role (faculty > resident > student) is the
-- mentor ('hierarchical'); otherwise ('peer', or a role outside those three) the smaller
-- handle comes first.
INSERT INTO mentorship_candidates
WITH replies AS (
    SELECT platform, source_id, target_id, date_trunc('month', created_at)::DATE AS month
    FROM interactions WHERE kind = 'reply'
),
roles AS (
    SELECT a.platform, a.author_id, coalesce(a.handle, a.author_id) AS handle,
           CASE r.role WHEN 'faculty' THEN 3 WHEN 'resident' THEN 2 WHEN 'student' THEN 1 END AS seniority
    FROM accounts_v a LEFT JOIN author_roles r USING (platform, author_id)
),
monthly AS (
    SELECT platform, source_id, target_id, month FROM replies GROUP BY ALL
),
counts AS (
    SELECT platform, source_id, target_id, count(*) AS replies FROM replies GROUP BY ALL
),
both_ways AS (
    SELECT a.platform, a.source_id AS x, a.target_id AS y, a.month
    FROM monthly a
    JOIN monthly b ON a.platform = b.platform AND a.source_id = b.target_id AND a.target_id = b.source_id
        AND a.month = b.month
    WHERE a.source_id < a.target_id
),
pairs AS (
    SELECT platform, x, y, count(*) AS months_both_ways, min(month) AS first_month, max(month) AS last_month
    FROM both_ways GROUP BY ALL
    HAVING count(*) >= $min_months
),
oriented AS (
    SELECT p.*,
           rx.seniority IS NOT NULL AND ry.seniority IS NOT NULL AND rx.seniority <> ry.seniority AS ranked,
           CASE WHEN rx.seniority IS NOT NULL AND ry.seniority IS NOT NULL AND rx.seniority <> ry.seniority
                THEN rx.seniority > ry.seniority
                ELSE coalesce(lower(rx.handle), p.x) <= coalesce(lower(ry.handle), p.y) END AS x_leads
    FROM pairs p
    LEFT JOIN roles rx ON rx.platform = p.platform AND rx.author_id = p.x
    LEFT JOIN roles ry ON ry.platform = p.platform AND ry.author_id = p.y
),
final AS (
    SELECT o.platform,
           CASE WHEN x_leads THEN x ELSE y END AS mentor_id,
           CASE WHEN x_leads THEN y ELSE x END AS mentee_id,
           CASE WHEN ranked THEN 'hierarchical' ELSE 'peer' END AS tie,
           months_both_ways, first_month, last_month
    FROM oriented o
)
SELECT f.platform, f.mentor_id, f.mentee_id, f.tie, f.months_both_ways,
       coalesce(down.replies, 0) AS mentor_replies, coalesce(up.replies, 0) AS mentee_replies,
       f.first_month, f.last_month
FROM final f
LEFT JOIN counts down ON down.platform = f.platform AND down.source_id = f.mentor_id AND down.target_id = f.mentee_id
LEFT JOIN counts up ON up.platform = f.platform AND up.source_id = f.mentee_id AND up.target_id = f.mentor_id
ORDER BY f.platform, f.mentor_id, f.mentee_id;
