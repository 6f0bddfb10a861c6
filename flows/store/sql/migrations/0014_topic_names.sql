-- 0014 topics a committee can read: what a fit settled for itself, and researchers' own names
-- for topics, kept across refreshes and carried to the matching topic of a refit.

-- JSON: the sizes, vocabulary (languages, stop words, min_df), sample and outlier moves the fit
-- settled (sorted keys); NULL for runs fitted before 0014.
ALTER TABLE topic_runs ADD COLUMN resolved VARCHAR;

-- `ethnoflow topics label ID "name"`. A refresh keeps the run, so its names stay; a refit carries
-- a name to the new topic that holds most of the named topic's posts and is mostly made of them.
CREATE TABLE topic_names (
    run_id      VARCHAR NOT NULL,
    topic       INTEGER NOT NULL,
    name        VARCHAR NOT NULL,
    origin      VARCHAR NOT NULL CHECK (origin IN ('researcher', 'carried')),
    from_run_id VARCHAR,               -- carried: the run whose topic was named
    from_topic  INTEGER,               -- carried: that topic
    PRIMARY KEY (run_id, topic)
);
