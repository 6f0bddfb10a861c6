-- 0007 agreement cache: bootstrap confidence intervals are the slow part of an agreement
-- report (thousands of library calls per code), and a pure function of the ratings. Keyed by
-- the sha256 of the ratings matrix and the bootstrap settings, never by time.

CREATE TABLE agreement_cache (
    key      VARCHAR PRIMARY KEY,   -- sha256 of (statistics version, matrix, n_boot, seed)
    summary  VARCHAR NOT NULL       -- JSON of flows.agreement_stats.agreement_summary
);
