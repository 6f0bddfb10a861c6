-- 0003 embeddings and topic models.
-- Embeddings are cached by content: (model id, sha256 of the exact text embedded). Topic runs
-- are keyed by a hash of what made them (settings, model, input, package versions), so the
-- same corpus and settings give the same run id and the same rows in any database.

CREATE TABLE embeddings (
    model_id      VARCHAR NOT NULL,   -- names the weights, e.g. all-MiniLM-L6-v2@53aa5117
    text_sha256   VARCHAR NOT NULL,   -- of the UTF-8 bytes embedded
    vector        FLOAT[] NOT NULL,   -- L2-normalised
    PRIMARY KEY (model_id, text_sha256)
);

-- One row per fit. The id is a hash of what decided the fit, never a clock or a sequence;
-- times live here only (a run record), never in the topic or assignment tables.
CREATE TABLE topic_runs (
    run_id              VARCHAR PRIMARY KEY,   -- sha256 prefix of settings, model, input, versions
    previous_run_id     VARCHAR,               -- the run that was current when this one was fitted
    backend             VARCHAR NOT NULL,      -- bertopic | kmeans (tests)
    model_id            VARCHAR NOT NULL,      -- embedding model
    text_rule           VARCHAR NOT NULL,      -- flows.embed.TEXT_RULE
    settings            VARCHAR NOT NULL,      -- JSON: every TopicSettings field
    versions            VARCHAR NOT NULL,      -- JSON: package versions that decide the result
    input_hash          VARCHAR NOT NULL,      -- sha256 of model id + (platform, post id, text hash)*
    codebook_hash       VARCHAR,               -- content hash of the codebook read beside topics
    docs                BIGINT  NOT NULL,      -- posts fitted
    topics              INTEGER NOT NULL,      -- topics, the outlier topic -1 not counted
    outlier_share       DOUBLE  NOT NULL,      -- share of fitted posts in -1 (after any reduction)
    cluster_outlier_share DOUBLE NOT NULL,     -- the same before reduce_outliers
    refresh_agreement   DOUBLE,                -- share of fitted posts (sample) that the refresh
                                               -- rule, leaving the post out, puts in its own topic
    model_path          VARCHAR,               -- the saved BERTopic model, if any
    started_at          TIMESTAMPTZ NOT NULL,
    embed_seconds       DOUBLE  NOT NULL,
    fit_seconds         DOUBLE  NOT NULL,
    total_seconds       DOUBLE  NOT NULL
);

CREATE TABLE topics (
    run_id          VARCHAR NOT NULL,
    topic           INTEGER NOT NULL,          -- -1: outliers
    label           VARCHAR NOT NULL,
    size            BIGINT  NOT NULL,          -- posts at fit time
    share           DOUBLE  NOT NULL,          -- size / posts fitted
    keywords        VARCHAR[] NOT NULL,        -- c-TF-IDF, best first
    keyword_scores  DOUBLE[] NOT NULL,
    origin          VARCHAR NOT NULL CHECK (origin IN ('cluster', 'zeroshot', 'outliers')),
    code_id         VARCHAR,                   -- nearest leaf code (zeroshot: its own code)
    code_similarity DOUBLE,
    PRIMARY KEY (run_id, topic)
);

-- The K posts nearest each topic's centroid (distinct texts), for reading a topic.
CREATE TABLE topic_representatives (
    run_id      VARCHAR NOT NULL,
    topic       INTEGER NOT NULL,
    rank        INTEGER NOT NULL,              -- 1 = nearest
    platform    VARCHAR NOT NULL,
    post_id     VARCHAR NOT NULL,
    similarity  DOUBLE  NOT NULL,              -- cosine to the topic centroid
    PRIMARY KEY (run_id, topic, rank)
);

CREATE TABLE topic_assignments (
    run_id       VARCHAR NOT NULL,
    platform     VARCHAR NOT NULL,
    post_id      VARCHAR NOT NULL,
    topic        INTEGER NOT NULL,
    probability  DOUBLE  NOT NULL,   -- cluster: HDBSCAN membership; zeroshot, reduced: cosine to the
                                     -- topic; refresh: the neighbours' weighted vote share
    method       VARCHAR NOT NULL CHECK (method IN ('cluster', 'zeroshot', 'reduced', 'refresh')),
    text_sha256  VARCHAR NOT NULL,   -- the text modelled (its embedding is in `embeddings`)
    PRIMARY KEY (run_id, platform, post_id)
);

-- A refit's topics against the run it replaced: posts shared by each pair of topics.
CREATE TABLE topic_mappings (
    run_id           VARCHAR NOT NULL,
    previous_run_id  VARCHAR NOT NULL,
    previous_topic   INTEGER NOT NULL,
    topic            INTEGER NOT NULL,
    posts            BIGINT  NOT NULL,
    PRIMARY KEY (run_id, previous_topic, topic)
);

-- Report-facing: posts per topic per calendar month (UTC) and the topic's share of the month.
CREATE VIEW topic_months AS
WITH counted AS (
    SELECT a.run_id, CAST(date_trunc('month', p.created_at AT TIME ZONE 'UTC') AS DATE) AS month,
           a.topic, count(*) AS posts
    FROM topic_assignments AS a
    JOIN posts AS p ON p.platform = a.platform AND p.post_id = a.post_id
    WHERE p.created_at IS NOT NULL
    GROUP BY ALL
)
SELECT run_id, month, topic, posts,
       posts / sum(posts) OVER (PARTITION BY run_id, month) AS share
FROM counted;
