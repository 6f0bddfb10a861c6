-- 0002 coding: codebook versions, code assignments kept per coder, human coding rounds,
-- machine coder batches and what they learned, and the report-facing `code_values` view.
-- Keys are natural: a codebook version is its content hash; a batch is the sha256 of its
-- coder, codebook hash and configuration (or sheet); nothing is keyed by a clock or sequence.

-- Every version of a codebook ever used, so old assignments stay readable after an edit.
CREATE TABLE codebook_versions (
    content_hash  VARCHAR PRIMARY KEY,  -- sha256 of the canonical JSON (flows.codebook)
    codebook_id   VARCHAR NOT NULL,
    version       VARCHAR NOT NULL,     -- the file's own version label
    title         VARCHAR NOT NULL,
    canonical     VARCHAR NOT NULL      -- the canonical JSON the hash digests
);

CREATE TABLE codebook_codes (
    content_hash  VARCHAR NOT NULL,
    code_id       VARCHAR NOT NULL,
    parent_id     VARCHAR,              -- NULL for a domain (top level)
    depth         INTEGER NOT NULL,     -- 1 = domain, 2 = code, 3 = sub-code
    position      INTEGER NOT NULL,     -- file order, depth first
    label         VARCHAR NOT NULL,
    assignable    BOOLEAN NOT NULL,     -- coders (human or machine) assign only these
    PRIMARY KEY (content_hash, code_id)
);

-- The version reports use: the one most recently loaded from the codebook's file.
CREATE TABLE codebook_current (
    codebook_id   VARCHAR PRIMARY KEY,
    content_hash  VARCHAR NOT NULL
);

-- Assignments made together: one imported sheet, or one machine coder configuration.
CREATE TABLE coding_batches (
    batch_id      VARCHAR PRIMARY KEY,
    coder         VARCHAR NOT NULL,
    codebook_id   VARCHAR NOT NULL,
    content_hash  VARCHAR NOT NULL,
    method        VARCHAR NOT NULL CHECK (method IN ('human', 'rules', 'semantic', 'supervised', 'combined')),
    config        VARCHAR NOT NULL,     -- JSON: sheet file and sha256, or model, thresholds, training data
    round_id      VARCHAR               -- human sheets: the sampled round their posts came from
);

-- One row per (post, codebook version, code, coder). Each coder's codes are separate rows:
-- importing or re-coding replaces only that coder's own rows.
CREATE TABLE code_assignments (
    platform      VARCHAR NOT NULL,
    post_id       VARCHAR NOT NULL,
    codebook_id   VARCHAR NOT NULL,
    content_hash  VARCHAR NOT NULL,
    code_id       VARCHAR NOT NULL,
    coder         VARCHAR NOT NULL,     -- a person, 'consensus', 'auto' or 'auto:<method>'
    value         TINYINT NOT NULL CHECK (value IN (0, 1)),
    score         DOUBLE,               -- machine coders only; NULL for people
    text_sha256   VARCHAR NOT NULL,     -- sha256 of the post text that was coded
    batch_id      VARCHAR NOT NULL,
    PRIMARY KEY (platform, post_id, content_hash, code_id, coder)
);

CREATE TABLE code_memos (
    platform      VARCHAR NOT NULL,
    post_id       VARCHAR NOT NULL,
    content_hash  VARCHAR NOT NULL,
    coder         VARCHAR NOT NULL,
    memo          VARCHAR NOT NULL,
    batch_id      VARCHAR NOT NULL,
    PRIMARY KEY (platform, post_id, content_hash, coder)
);

-- A human coding round: a reproducible (stratified) sample written to a coding sheet.
CREATE TABLE coding_rounds (
    round_id      VARCHAR PRIMARY KEY,  -- sha256 of the parameters and the posts drawn
    codebook_id   VARCHAR NOT NULL,
    content_hash  VARCHAR NOT NULL,
    n             INTEGER NOT NULL,     -- posts drawn
    seed          BIGINT  NOT NULL,
    strata        VARCHAR NOT NULL,     -- comma list of author, month, kind ('' = simple random)
    coders        VARCHAR NOT NULL,     -- comma list: whose coded posts were excluded
    eligible      INTEGER NOT NULL      -- posts the sample was drawn from
);

CREATE TABLE coding_round_posts (
    round_id      VARCHAR NOT NULL,
    platform      VARCHAR NOT NULL,
    post_id       VARCHAR NOT NULL,
    position      INTEGER NOT NULL,     -- row order in the sheet (seeded shuffle)
    stratum       VARCHAR NOT NULL
);

-- What a machine coder learned per code: its decision threshold, how it was calibrated and,
-- for trained coders, cross-validated metrics against the human codes it learned from.
CREATE TABLE coder_models (
    batch_id      VARCHAR NOT NULL,
    code_id       VARCHAR NOT NULL,
    threshold     DOUBLE,
    calibrated_on VARCHAR,              -- comma list of human coders; NULL = documented default
    n_labelled    INTEGER NOT NULL,     -- human-coded posts used
    n_positive    INTEGER NOT NULL,
    metrics       VARCHAR,              -- JSON: out-of-fold kappa, precision, recall, f1, folds
    PRIMARY KEY (batch_id, code_id)
);

-- Report-facing: each coder's value and score per post and code, for the current version of
-- each codebook. Pick a coder with WHERE coder = 'auto' (the default machine decision),
-- 'consensus', a person's name, or 'auto:rules' / 'auto:semantic' / 'auto:supervised'.
CREATE VIEW code_values AS
SELECT
    a.platform,
    a.post_id,
    a.codebook_id AS codebook,
    a.code_id AS code,
    a.coder,
    a.value,
    a.score,
    a.content_hash
FROM code_assignments AS a
JOIN codebook_current AS c
  ON c.codebook_id = a.codebook_id AND c.content_hash = a.content_hash;
