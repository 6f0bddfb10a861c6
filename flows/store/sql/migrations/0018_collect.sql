-- 0018 collection (flows/collect): where each seed's walk has got to, what every run fetched,
-- posts found only in an account's repository, and posts removed because their platform says
-- they were deleted. Times belong here: these are run records, like `runs`.

-- One row per seed (an account or a query of study.yaml's collect: section). `newest` is the
-- newest post a completed walk reached (Bluesky: its sort time; X: since_id); `cursor` and
-- `walk_top` are an interrupted walk's resume point, saved only after its pages are in the store.
CREATE TABLE collect_seeds (
    platform      VARCHAR NOT NULL,
    seed          VARCHAR NOT NULL,     -- 'account:<as written>' or 'query:<text>'
    author_id     VARCHAR,              -- the account's DID or X user id, once resolved
    handle        VARCHAR,              -- its handle as the platform last gave it
    newest        VARCHAR,
    cursor        VARCHAR,
    walk_top      VARCHAR,
    repo_newest   VARCHAR,              -- Bluesky: the newest record key listRecords reached
    full_check_at TIMESTAMPTZ,          -- Bluesky: the last complete listRecords walk
    status        VARCHAR NOT NULL DEFAULT 'ok',  -- ok, renamed, deleted, suspended, protected, not_found, error
    error         VARCHAR,              -- what the platform said, for a seed that is not ok
    updated_at    TIMESTAMPTZ,
    PRIMARY KEY (platform, seed)
);

-- One row per `ethnoflow collect` (or pipeline collect stage): the manifest of the run.
CREATE TABLE collect_runs (
    run_id        VARCHAR PRIMARY KEY,
    started_at    TIMESTAMPTZ NOT NULL,
    finished_at   TIMESTAMPTZ,
    collector     VARCHAR NOT NULL,     -- 'ethnoflow <version> (atproto <version>, httpx <version>)'
    status        VARCHAR NOT NULL,     -- running, completed, failed
    pages         BIGINT NOT NULL DEFAULT 0,
    posts         BIGINT NOT NULL DEFAULT 0
);

-- Every endpoint a run called, per seed: its parameters (no token, no password), when, what came back.
CREATE TABLE collect_calls (
    run_id        VARCHAR NOT NULL,
    call_no       INTEGER NOT NULL,
    platform      VARCHAR NOT NULL,
    seed          VARCHAR NOT NULL,
    endpoint      VARCHAR NOT NULL,     -- app.bsky.feed.getAuthorFeed, /2/tweets/search/recent, ...
    params        VARCHAR NOT NULL,     -- canonical JSON of the first call's parameters (no cursor)
    started_at    TIMESTAMPTZ NOT NULL,
    pages         INTEGER NOT NULL,
    posts         INTEGER NOT NULL,
    status        VARCHAR NOT NULL,     -- ok, or what went wrong
    PRIMARY KEY (run_id, call_no)
);

-- Posts a collection flagged: 'repo_only' (in the account's repository, missing from its author
-- feed: bluesky-social/atproto#2616) and 'context' (fetched as the thread above a study's reply).
CREATE TABLE collect_flags (
    platform      VARCHAR NOT NULL,
    post_id       VARCHAR NOT NULL,
    flag          VARCHAR NOT NULL,
    run_id        VARCHAR NOT NULL,
    PRIMARY KEY (platform, post_id, flag)
);

-- Posts removed because the platform says they were deleted (a later listRecords lacks them, or
-- an X compliance result). Like withdrawal_audit: a keyed hash, never the post id or its text.
CREATE TABLE post_deletions (
    post_hash     VARCHAR NOT NULL,     -- keyed hash of '<platform>:<post id>' under the study secret
    platform      VARCHAR NOT NULL,
    evidence      VARCHAR NOT NULL,     -- 'bluesky:listRecords', 'x:compliance:<reason>'
    removed_at    TIMESTAMPTZ NOT NULL,
    batch_posts   BIGINT NOT NULL,      -- posts removed together with it (one removal)
    counts        VARCHAR NOT NULL      -- that removal's JSON {table: {"deleted": n, ...}}, as withdrawal_audit
);
