-- Move one normalised batch into the canonical tables.
-- The version of a post (or author) kept is the latest retrieval; ties go to the larger
-- (source sha256, record, item), so the result never depends on ingest order.

CREATE OR REPLACE TEMP MACRO version_key(retrieved_at, sha, rec, item) AS
    (coalesce(retrieved_at, '-infinity'::TIMESTAMPTZ), sha, rec, item);

CREATE OR REPLACE TEMP TABLE batch_winners AS
SELECT * FROM stg_posts
QUALIFY row_number() OVER (PARTITION BY platform, post_id
    ORDER BY version_key(retrieved_at, source_sha256, record_no, item_no) DESC) = 1;

CREATE OR REPLACE TEMP TABLE batch_keep AS
SELECT w.*, (p.post_id IS NULL) AS is_new
FROM batch_winners w
LEFT JOIN posts p USING (platform, post_id)
WHERE p.post_id IS NULL
   OR version_key(w.retrieved_at, w.source_sha256, w.record_no, w.item_no)
    > version_key(p.retrieved_at, p.source_sha256, p.record_no, p.item_no);

DELETE FROM entities e USING batch_keep k
WHERE NOT k.is_new AND e.platform = k.platform AND e.post_id = k.post_id;
DELETE FROM posts p USING batch_keep k
WHERE NOT k.is_new AND p.platform = k.platform AND p.post_id = k.post_id;

INSERT INTO posts BY NAME SELECT * EXCLUDE (is_new) FROM batch_keep;

INSERT INTO entities BY NAME
SELECT e.* EXCLUDE (source_sha256, record_no, item_no)
FROM stg_entities e
JOIN batch_keep k ON e.platform = k.platform AND e.post_id = k.post_id
    AND e.source_sha256 = k.source_sha256 AND e.record_no = k.record_no AND e.item_no = k.item_no;

CREATE OR REPLACE TEMP TABLE batch_authors AS
SELECT a.* FROM (
    SELECT * FROM stg_authors
    QUALIFY row_number() OVER (PARTITION BY platform, author_id
        ORDER BY version_key(retrieved_at, source_sha256, record_no, 0) DESC) = 1
) a
LEFT JOIN authors o USING (platform, author_id)
WHERE o.author_id IS NULL
   OR version_key(a.retrieved_at, a.source_sha256, a.record_no, 0)
    > version_key(o.retrieved_at, o.source_sha256, o.record_no, 0);

DELETE FROM authors o USING batch_authors a WHERE o.platform = a.platform AND o.author_id = a.author_id;
INSERT INTO authors BY NAME SELECT * FROM batch_authors;

INSERT INTO rejects BY NAME SELECT * FROM stg_rejects;
