-- Posts a machine coder still has to code: posts with their own text (not reposts) whose
-- current text it has not coded under this batch (coder configuration + codebook version).
-- Parameters: $coder, $content_hash, $batch_id.
WITH candidates AS (
    SELECT
        platform,
        post_id,
        author_id,
        coalesce(text, '') AS text,
        sha256(coalesce(text, '')) AS text_sha256
    FROM posts
    WHERE kind <> 'repost'
),

coded AS (
    SELECT DISTINCT platform, post_id, text_sha256
    FROM code_assignments
    WHERE coder = $coder AND content_hash = $content_hash AND batch_id = $batch_id
),

final AS (
    SELECT c.*
    FROM candidates AS c
    ANTI JOIN coded AS d USING (platform, post_id, text_sha256)
)

SELECT * FROM final ORDER BY platform, post_id
