-- Merge everything staged by this run (views staged_*) into the canonical tables (one transaction).
-- The version of a post kept is the latest retrieval; among equally recent (or undated)
-- copies, the longest text (a truncated compat-mode copy loses to the full one); then the
-- larger (source sha256, record, item), so the result never depends on ingest order.
-- Authors: the latest retrieval, then the larger (source sha256, record).
-- `run_order(source_sha256, seq)` is the order the files were given in.

CREATE OR REPLACE TEMP MACRO version_of(retrieved_at, text, sha, rec, item) AS
    (coalesce(retrieved_at, '-infinity'::TIMESTAMPTZ), coalesce(length(text), -1), sha, rec, item);

-- Counts per source: posts read, new posts (first seen in this file, in the given order,
-- and not stored before), rejects.
CREATE OR REPLACE TEMP TABLE run_counts AS
WITH seen AS (
    SELECT s.platform, s.post_id, s.source_sha256,
        row_number() OVER (PARTITION BY s.platform, s.post_id ORDER BY o.seq, s.record_no, s.item_no) = 1
            AND p.post_id IS NULL AS is_new
    FROM staged_posts s
    JOIN run_order o USING (source_sha256)
    LEFT JOIN posts p USING (platform, post_id)
), per_source AS (
    SELECT source_sha256, count(*) AS posts, count(*) FILTER (WHERE is_new) AS new FROM seen GROUP BY ALL
), rejected AS (
    SELECT source_sha256, count(*) AS rejected FROM staged_rejects GROUP BY ALL
), other AS (
    SELECT source_sha256, count(*) AS other_facets FROM staged_other_facets GROUP BY ALL
)
SELECT source_sha256, coalesce(posts, 0) AS posts, coalesce(new, 0) AS new, coalesce(rejected, 0) AS rejected,
       coalesce(other_facets, 0) AS other_facets
FROM per_source FULL JOIN rejected USING (source_sha256) FULL JOIN other USING (source_sha256);

CREATE OR REPLACE TEMP TABLE run_keep AS
SELECT w.*, (p.post_id IS NULL) AS is_new
FROM (
    SELECT * FROM staged_posts
    QUALIFY row_number() OVER (PARTITION BY platform, post_id
        ORDER BY version_of(retrieved_at, text, source_sha256, record_no, item_no) DESC) = 1
) w
LEFT JOIN posts p USING (platform, post_id)
WHERE p.post_id IS NULL
   OR version_of(w.retrieved_at, w.text, w.source_sha256, w.record_no, w.item_no)
    > version_of(p.retrieved_at, p.text, p.source_sha256, p.record_no, p.item_no);

DELETE FROM entities e USING run_keep k
WHERE NOT k.is_new AND e.platform = k.platform AND e.post_id = k.post_id;
DELETE FROM other_facets f USING run_keep k
WHERE NOT k.is_new AND f.platform = k.platform AND f.post_id = k.post_id;
DELETE FROM posts p USING run_keep k
WHERE NOT k.is_new AND p.platform = k.platform AND p.post_id = k.post_id;

INSERT INTO posts BY NAME SELECT * EXCLUDE (is_new) FROM run_keep;

-- Entities and other facet features follow the version of their post that is kept.
INSERT INTO entities BY NAME
SELECT e.* EXCLUDE (source_sha256, record_no, item_no)
FROM staged_entities e
JOIN run_keep k ON e.platform = k.platform AND e.post_id = k.post_id
    AND e.source_sha256 = k.source_sha256 AND e.record_no = k.record_no AND e.item_no = k.item_no;
INSERT INTO other_facets BY NAME
SELECT f.* EXCLUDE (source_sha256, record_no, item_no)
FROM staged_other_facets f
JOIN run_keep k ON f.platform = k.platform AND f.post_id = k.post_id
    AND f.source_sha256 = k.source_sha256 AND f.record_no = k.record_no AND f.item_no = k.item_no;

CREATE OR REPLACE TEMP TABLE run_authors AS
SELECT a.*
FROM (
    SELECT * FROM staged_authors
    QUALIFY row_number() OVER (PARTITION BY platform, author_id
        ORDER BY version_of(retrieved_at, NULL, source_sha256, record_no, 0) DESC) = 1
) a
LEFT JOIN authors o USING (platform, author_id)
WHERE o.author_id IS NULL
   OR version_of(a.retrieved_at, NULL, a.source_sha256, a.record_no, 0)
    > version_of(o.retrieved_at, NULL, o.source_sha256, o.record_no, 0);

DELETE FROM authors o USING run_authors a WHERE o.platform = a.platform AND o.author_id = a.author_id;
INSERT INTO authors BY NAME SELECT * FROM run_authors;

INSERT INTO rejects BY NAME SELECT * FROM staged_rejects;
