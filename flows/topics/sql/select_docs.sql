-- The posts a topic run models. The placeholder in `docs` is replaced by post_docs.sql, and
-- the query ends with one of the selections below (flows/topics/corpus.py picks it).
-- Parameters: $kinds, $languages (empty list: all), $since / $until (DATE, inclusive, UTC;
-- NULL: open), $run (a run id whose assigned posts are left out, for a refresh; NULL: none).
-- Posts with no text left to model are left out.
WITH docs AS (
    {post_docs}
),

assigned AS (
    SELECT platform, post_id FROM topic_assignments WHERE run_id = $run
),

final AS (
    SELECT d.platform, d.post_id, d.doc, d.text_sha256, coalesce(d.lang, '') AS lang,
           coalesce(strftime(d.created_at AT TIME ZONE 'UTC', '%Y-%m'), '') AS month
    FROM docs AS d
    ANTI JOIN assigned AS a ON a.platform = d.platform AND a.post_id = d.post_id
    WHERE d.doc <> ''
      AND list_contains($kinds, d.kind)
      AND (len($languages) = 0 OR list_contains($languages, d.lang))
      AND ($since IS NULL OR CAST(d.created_at AT TIME ZONE 'UTC' AS DATE) >= $since)
      AND ($until IS NULL OR CAST(d.created_at AT TIME ZONE 'UTC' AS DATE) <= $until)
)
