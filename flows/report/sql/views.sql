-- Report-facing reads. `ethnoflow report` creates these temporary views and macros on its own
-- (read-only) connection and every section selects from them, never from the stage tables.
-- Months are calendar months in UTC. Nothing here reads the clock.

-- Posts with the month they fall in and a language that is never NULL ('und', undetermined, as
-- Twitter itself writes it, when the data has none), inside the study's inclusion window
-- (variables report_since and report_until, inclusive dates; unset: no bound). With a window, an
-- undated post (its date was set aside at ingest: posts.date_issue) cannot be shown to fall inside
-- it and is left out. A date before year 1 in a store from before migration 0011 counts as undated.
CREATE OR REPLACE TEMP VIEW report_posts AS
WITH dated AS (
    SELECT *, CASE WHEN created_at >= TIMESTAMPTZ '0001-01-01 00:00:00+00' THEN created_at END AS created
    FROM posts
)
SELECT platform, post_id, author_id, author_handle, created AS created_at,
       CAST(date_trunc('month', created AT TIME ZONE 'UTC') AS DATE) AS month,
       kind, coalesce(nullif(lang, ''), 'und') AS lang, text, in_reply_to_author_id
FROM dated
WHERE (getvariable('report_since') IS NULL OR created >= getvariable('report_since')::TIMESTAMPTZ)
  AND (getvariable('report_until') IS NULL
       OR created < getvariable('report_until')::TIMESTAMPTZ + INTERVAL 1 DAY);

CREATE OR REPLACE TEMP VIEW report_sources AS
SELECT name, format, preset, parser_version, records_read, ingested, duplicates, rejected, sha256
FROM sources;

-- One row per kind of reason: the ids an API error names ("...: [1234567]") are left out, so that
-- the same error about different posts is counted once (the rejects table keeps each record).
CREATE OR REPLACE TEMP VIEW report_rejects AS
SELECT regexp_replace(reason, '\[[^\]]*\]', '[…]', 'g') AS reason, count(*) AS records,
       count(DISTINCT source_sha256) AS sources
FROM rejects
GROUP BY 1;

-- Every posting account: handle, role and what it posted and received. Replies to oneself
-- (threads) count neither as given nor as received.
CREATE OR REPLACE TEMP VIEW report_accounts AS
WITH authored AS (
    SELECT platform, author_id,
           count(*) AS posts,
           count(*) FILTER (WHERE kind = 'original') AS originals,
           count(*) FILTER (WHERE kind = 'reply' AND in_reply_to_author_id IS DISTINCT FROM author_id) AS replies_given,
           count(*) FILTER (WHERE kind = 'quote') AS quotes,
           count(*) FILTER (WHERE kind = 'repost') AS reposts,
           min(created_at) AS first_at, max(created_at) AS last_at
    FROM report_posts
    WHERE author_id IS NOT NULL
    GROUP BY ALL
),
received AS (
    SELECT platform, in_reply_to_author_id AS author_id, count(*) AS replies_received
    FROM report_posts
    WHERE kind = 'reply' AND in_reply_to_author_id IS NOT NULL
      AND in_reply_to_author_id IS DISTINCT FROM author_id
    GROUP BY ALL
),
final AS (
    SELECT a.platform, a.author_id, coalesce(v.handle, a.author_id) AS handle, v.display_name,
           coalesce(r.role, 'unknown') AS role, r.method AS role_method, r.score AS role_score,
           json_extract_string(r.evidence, '$[0]') AS role_evidence,
           a.posts, a.originals, a.replies_given, coalesce(rc.replies_received, 0) AS replies_received,
           a.quotes, a.reposts, a.first_at, a.last_at
    FROM authored a
    LEFT JOIN accounts_v v ON v.platform = a.platform AND v.author_id = a.author_id
    LEFT JOIN author_roles r ON r.platform = a.platform AND r.author_id = a.author_id
    LEFT JOIN received rc ON rc.platform = a.platform AND rc.author_id = a.author_id
)
SELECT * FROM final;

-- The last superuser selection (flows.superusers), every candidate with its criteria.
CREATE OR REPLACE TEMP VIEW report_candidates AS
SELECT platform, author_id, handle, role, rank, selected, criteria, criteria_sha256
FROM superuser_candidates;

-- The current version of every codebook, and its codes in file order.
CREATE OR REPLACE TEMP VIEW report_codebooks AS
SELECT c.codebook_id, v.version, v.title, c.content_hash, v.canonical
FROM codebook_current c
JOIN codebook_versions v ON v.content_hash = c.content_hash;

-- People's codes under the current version of each codebook, by the version each was made under
-- (flows.coding.evolution carries codes over when a codebook changes).
CREATE OR REPLACE TEMP VIEW report_code_versions AS
WITH codes AS (
    SELECT a.codebook_id AS codebook, a.coder, a.content_hash AS current_hash,
           coalesce(k.made_under, a.content_hash) AS made_under, coalesce(k.change, 'made') AS how
    FROM code_assignments AS a
    JOIN codebook_current AS c USING (codebook_id, content_hash)
    LEFT JOIN carried_codes AS k USING (platform, post_id, content_hash, code_id, coder)
    WHERE a.coder NOT LIKE 'auto%'
)
SELECT codes.codebook, codes.coder, codes.current_hash, codes.made_under, v.version, codes.how, count(*) AS codes
FROM codes LEFT JOIN codebook_versions AS v ON v.content_hash = codes.made_under
GROUP BY ALL;

-- Coders' memos (flows.coding.memos): on a post (post_id set), on a code for one post, on a code.
CREATE OR REPLACE TEMP VIEW report_memos AS
SELECT codebook_id AS codebook, code_id AS code, coder, nullif(platform, '') AS platform,
       nullif(post_id, '') AS post_id, kind, label, memo, created_at
FROM memos;

CREATE OR REPLACE TEMP VIEW report_codebook_codes AS
SELECT c.codebook_id, k.code_id, k.parent_id, k.depth, k.position, k.label, k.assignable
FROM codebook_current c
JOIN codebook_codes k ON k.content_hash = c.content_hash;

-- Each code with itself and its ancestors (codebooks are at most three levels deep), so a
-- domain counts a post when any of its codes is present.
CREATE OR REPLACE TEMP VIEW report_code_lineage AS
WITH codes AS (SELECT codebook_id, code_id, parent_id FROM report_codebook_codes)
SELECT codebook_id, code_id, code_id AS rollup FROM codes
UNION ALL
SELECT codebook_id, code_id, parent_id FROM codes WHERE parent_id IS NOT NULL
UNION ALL
SELECT c.codebook_id, c.code_id, p.parent_id
FROM codes c JOIN codes p ON p.codebook_id = c.codebook_id AND p.code_id = c.parent_id
WHERE p.parent_id IS NOT NULL;

-- One coder's values on the current version of a codebook, for the posts in scope: every
-- account's, or (studied) only the selected superusers'.
CREATE OR REPLACE TEMP MACRO report_coded(cb, who, studied) AS TABLE
SELECT v.platform, v.post_id, p.author_id, p.month, v.code, v.value, v.score
FROM code_values v
JOIN report_posts p ON p.platform = v.platform AND p.post_id = v.post_id
WHERE v.codebook = cb AND v.coder = who
  AND (NOT studied OR EXISTS (SELECT 1 FROM superuser_candidates s WHERE s.selected
                              AND s.platform = p.platform AND s.author_id = p.author_id));

-- The posts a code (or, through the lineage, a domain) is present on.
CREATE OR REPLACE TEMP MACRO report_present(cb, who, studied) AS TABLE
SELECT DISTINCT l.rollup AS code, c.platform, c.post_id, c.author_id, c.month
FROM report_coded(cb, who, studied) c
JOIN report_code_lineage l ON l.codebook_id = cb AND l.code_id = c.code
WHERE c.value = 1;

-- Posts each coder coded and codes each found present, per current codebook version.
CREATE OR REPLACE TEMP VIEW report_coders AS
SELECT codebook, coder, count(DISTINCT (platform, post_id)) AS posts, count(DISTINCT code) AS codes,
       count(*) FILTER (WHERE value = 1) AS present
FROM code_values
GROUP BY ALL;

-- Rounds whose coders saw the machine's codes in the coding app (code-app --suggestions): their
-- human codes may be anchored on the machine's, which the reliability section says.
CREATE OR REPLACE TEMP VIEW report_round_suggestions AS
SELECT r.codebook_id AS codebook, s.round_id, r.n AS posts, s.machine, s.shown
FROM coding_round_suggestions AS s
JOIN coding_rounds AS r USING (round_id);

CREATE OR REPLACE TEMP VIEW report_topic_runs AS
SELECT run_id, previous_run_id, backend, model_id, text_rule, settings, versions, input_hash,
       codebook_hash, docs, topics, outlier_share, cluster_outlier_share, refresh_agreement,
       started_at, embed_seconds, fit_seconds, total_seconds, resolved
FROM topic_runs;

-- Topics of every run with the posts assigned to each now (fitted and refreshed), the
-- researcher's name where one was given (`topics label`), and the outliers moved into each.
CREATE OR REPLACE TEMP VIEW report_topics AS
WITH assigned AS (
    SELECT run_id, topic, count(*) AS posts,
           count(*) FILTER (WHERE method = 'reduced') AS moved,
           min(probability) FILTER (WHERE method = 'reduced') AS moved_min_similarity,
           median(probability) FILTER (WHERE method = 'reduced') AS moved_median_similarity
    FROM topic_assignments GROUP BY ALL
)
SELECT t.run_id, t.topic, coalesce(n.name, t.label) AS label, n.name IS NOT NULL AS named,
       t.keywords, t.origin, t.code_id, t.size AS fitted, coalesce(a.posts, 0) AS posts,
       coalesce(a.moved, 0) AS moved, a.moved_min_similarity, a.moved_median_similarity
FROM topics t
LEFT JOIN assigned a ON a.run_id = t.run_id AND a.topic = t.topic
LEFT JOIN topic_names n ON n.run_id = t.run_id AND n.topic = t.topic;

CREATE OR REPLACE TEMP VIEW report_topic_posts AS
SELECT a.run_id, a.topic, a.platform, a.post_id, p.month
FROM topic_assignments a
JOIN report_posts p ON p.platform = a.platform AND p.post_id = a.post_id;

CREATE OR REPLACE TEMP VIEW report_topic_representatives AS
SELECT r.run_id, r.topic, r.rank, r.similarity, p.platform, p.post_id, p.author_id,
       p.author_handle, p.created_at, p.kind, p.text
FROM topic_representatives r
JOIN report_posts p ON p.platform = r.platform AND p.post_id = r.post_id;

CREATE OR REPLACE TEMP VIEW report_topic_months AS
SELECT run_id, month, topic, posts FROM topic_months
WHERE month >= DATE '0001-01-01'  -- as report_posts
  AND (getvariable('report_since') IS NULL OR month >= date_trunc('month', getvariable('report_since')::DATE))
  AND (getvariable('report_until') IS NULL OR month <= getvariable('report_until')::DATE);

-- The batches behind the current codes (their coder, method and configuration: models,
-- thresholds, sheets), and what the combined coder chose per code (coder_models).
CREATE OR REPLACE TEMP VIEW report_batches AS
WITH used AS (
    SELECT DISTINCT a.batch_id
    FROM code_assignments a
    JOIN codebook_current c ON c.codebook_id = a.codebook_id AND c.content_hash = a.content_hash
)
SELECT b.batch_id, b.coder, b.codebook_id, b.content_hash, b.method, b.config, b.round_id
FROM coding_batches b
JOIN used u ON u.batch_id = b.batch_id;

CREATE OR REPLACE TEMP VIEW report_coder_models AS
SELECT b.codebook_id, b.coder, m.code_id, m.threshold, m.calibrated_on, m.n_labelled, m.n_positive, m.metrics
FROM coder_models m
JOIN report_batches b ON b.batch_id = m.batch_id;

CREATE OR REPLACE TEMP VIEW report_rounds AS
SELECT r.round_id, r.codebook_id, r.content_hash, r.n, r.seed, r.strata, r.eligible
FROM coding_rounds r
JOIN codebook_current c ON c.codebook_id = r.codebook_id AND c.content_hash = r.content_hash;

-- The validation gate's verdicts (flows.coding.gate) on the current codebook versions.
CREATE OR REPLACE TEMP VIEW report_code_validation AS
SELECT v.codebook_id, v.code_id, v.coder, v.reference, v.n, v.positives, v.authors, v.folds, v.kappa,
       v.ci_low, v.ci_high, v.threshold, v.validated, v.reason
FROM code_validation v
JOIN codebook_current c ON c.codebook_id = v.codebook_id AND c.content_hash = v.content_hash;
