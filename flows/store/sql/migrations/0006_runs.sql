-- 0006 runs: one row per pipeline run, with everything that produced its results.
-- The one table that holds wall-clock times: a run is an event, not a result.

CREATE TABLE runs (
    run_id         VARCHAR PRIMARY KEY,  -- the Prefect flow-run id (a uuid outside Prefect)
    flow_name      VARCHAR NOT NULL,
    started_at     TIMESTAMPTZ NOT NULL,
    ended_at       TIMESTAMPTZ,
    status         VARCHAR NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
    study_sha256   VARCHAR,              -- of the validated study file (flows.study.canonical)
    stages         VARCHAR,              -- JSON: counts and timings per stage, in order
    codebooks      VARCHAR,              -- JSON: {codebook id: content hash}
    sources        VARCHAR,              -- JSON: sha256 of every source in the store after the run
    versions       VARCHAR,              -- JSON: package versions
    code_version   VARCHAR,              -- git commit of ethnoflow when known, else its version
    error          VARCHAR               -- the failing stage and its message (never a secret)
);
