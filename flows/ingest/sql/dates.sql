-- Dates a post cannot have, set aside after every normaliser (reads and writes stg_posts).
-- A timestamp before its platform existed, more than a day after the post was retrieved, or one
-- that could not be read, is stored as NULL; the value as written and why go to created_at_raw and date_issue. The post is
-- kept: only its date is unknown. Nothing here reads the clock.

CREATE OR REPLACE TEMP MACRO platform_start(platform) AS CASE platform
    WHEN 'twitter' THEN TIMESTAMPTZ '2006-03-21 00:00:00+00'   -- the first tweet
    WHEN 'bluesky' THEN TIMESTAMPTZ '2022-11-01 00:00:00+00'   -- the first posts of the network
END;

-- A retrieval time that most of a file's posts come after is the file's error, not theirs (twitwi's
-- own test data stamps every post "collected" on 2025-01-01, before many of them were written):
-- then only the other rules apply to that file.
CREATE OR REPLACE TEMP TABLE stg_trusted_retrieval AS
SELECT source_sha256
FROM stg_posts
WHERE retrieved_at IS NOT NULL AND created_at IS NOT NULL
GROUP BY source_sha256
HAVING count(*) FILTER (WHERE created_at > retrieved_at + INTERVAL 1 DAY) * 2 <= count(*);

UPDATE stg_posts SET date_issue = CASE
    WHEN created_at IS NULL THEN 'unreadable'
    WHEN created_at < platform_start(platform) THEN 'before_platform'
    WHEN created_at >= TIMESTAMPTZ '10000-01-01 00:00:00+00' THEN 'unreadable'  -- no calendar program holds it
    WHEN created_at > retrieved_at + INTERVAL 1 DAY
         AND source_sha256 IN (SELECT source_sha256 FROM stg_trusted_retrieval) THEN 'after_retrieval'
END
WHERE created_at IS NOT NULL OR nullif(trim(created_at_raw), '') IS NOT NULL;

UPDATE stg_posts SET created_at = NULL WHERE date_issue IS NOT NULL;
-- The value as written is kept only where it was set aside (the raw record has it anyway).
UPDATE stg_posts SET created_at_raw = NULL WHERE date_issue IS NULL;

-- An account cannot be older than its platform either (no flag: the raw record keeps what was written).
UPDATE stg_authors SET created_at = NULL WHERE created_at < platform_start(platform);
