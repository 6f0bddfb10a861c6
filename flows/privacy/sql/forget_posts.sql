-- The posts a withdrawal removes: the account's own (matched by id, or by handle where the data
-- had no id), other people's reposts of them, and other people's posts that carry its words:
-- a manual retweet ("RT @handle: ...", which old clients and CSV exports keep as an ordinary
-- post) or a post whose text begins with the same 40 characters as one of the account's posts
-- (links, the "RT @x:" prefix, case and spacing aside). Shorter texts ("thanks!") are not
-- compared: anyone may write them. Reads _forget_keys (platform, author_id, handle).
CREATE OR REPLACE TEMP TABLE _forget_posts AS
WITH own AS (
    SELECT p.platform, p.post_id, p.text FROM posts AS p JOIN _forget_keys AS k ON k.platform = p.platform
      AND (p.author_id = k.author_id
           OR ((p.author_id IS NULL OR p.author_id LIKE '@%') AND lower(p.author_handle) = k.handle))
),
normalised AS (
    SELECT platform, post_id, text,
           trim(regexp_replace(regexp_replace(regexp_replace(lower(coalesce(text, '')),
               '^rt @[a-z0-9_.-]+:?\s*', ''), 'https?://\S+', ' ', 'g'), '\s+', ' ', 'g')) AS words
    FROM posts
),
said AS (  -- what the account said, by its opening words
    SELECT DISTINCT n.platform, left(n.words, 40) AS opening
    FROM normalised AS n SEMI JOIN own AS o ON o.platform = n.platform AND o.post_id = n.post_id
    WHERE length(n.words) >= 40
),
quoting AS (
    SELECT n.platform, n.post_id FROM normalised AS n
    JOIN said AS s ON s.platform = n.platform AND left(n.words, 40) = s.opening
    UNION
    SELECT p.platform, p.post_id FROM posts AS p JOIN _forget_keys AS k ON k.platform = p.platform
    WHERE k.handle IS NOT NULL AND starts_with(lower(coalesce(p.text, '')), 'rt @' || k.handle)
      AND NOT regexp_matches(substr(lower(p.text), length(k.handle) + 5, 1), '[a-z0-9_]')
)
SELECT platform, post_id FROM own
UNION SELECT r.platform, r.post_id FROM posts AS r JOIN own AS o
    ON r.kind = 'repost' AND r.platform = o.platform AND r.reposted_post_id = o.post_id
UNION SELECT platform, post_id FROM quoting
