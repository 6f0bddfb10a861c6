-- 0013 code validation: the gate a machine code passes before its values count as findings.
-- One row per (codebook version, code, machine coder): its Cohen's kappa against the human
-- reference on held-out authors (the whole coding procedure cross-validated by author folds),
-- the 95% author-bootstrap interval, the study's threshold and the verdict. A code with no row
-- (no human codes yet) is not validated. Written by flows.coding.gate, in the code stage.

CREATE TABLE code_validation (
    codebook_id   VARCHAR NOT NULL,
    content_hash  VARCHAR NOT NULL,
    code_id       VARCHAR NOT NULL,
    coder         VARCHAR NOT NULL,   -- the machine coder validated ('auto')
    reference     VARCHAR NOT NULL,   -- the human coder(s) it was checked against, comma-separated
    n             INTEGER NOT NULL,   -- human-coded posts scored out of fold
    positives     INTEGER NOT NULL,
    authors       INTEGER NOT NULL,
    folds         INTEGER NOT NULL,
    kappa         DOUBLE,
    ci_low        DOUBLE,
    ci_high       DOUBLE,
    threshold     DOUBLE NOT NULL,    -- the study's threshold on the interval's lower bound
    validated     BOOLEAN NOT NULL,
    reason        VARCHAR NOT NULL,
    PRIMARY KEY (content_hash, code_id, coder)
);
