-- 0004 network: author roles, the interaction network, mentorship and sponsorship,
-- tweet chats and superuser selection. Every table is rebuilt whole by its stage from
-- posts/authors/entities (flows.roles, flows.network, flows.chats, flows.superusers);
-- keys are natural (platform + author id, platform + post id), never sequences.

-- One role per account (authors, post authors and mentioned accounts).
CREATE TABLE author_roles (
    platform      VARCHAR NOT NULL,
    author_id     VARCHAR NOT NULL,
    handle        VARCHAR,
    role          VARCHAR NOT NULL CHECK (role IN ('student', 'resident', 'faculty',
                                                    'health_professional', 'organization', 'other')),
    method        VARCHAR NOT NULL CHECK (method IN ('override', 'rule', 'embedding', 'default')),
    score         DOUBLE,             -- embedding: cosine similarity to the nearest role prototype
    evidence      VARCHAR NOT NULL,   -- JSON list of strings, the deciding one first
    model_id      VARCHAR,            -- embedding model, when it decided
    basis_sha256  VARCHAR NOT NULL    -- of rules version, display name, bio, override (and model)
);

-- One row per tie a post makes: its author replied to, mentioned, quoted or reposted someone.
CREATE TABLE interactions (
    platform        VARCHAR NOT NULL,
    post_id         VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL CHECK (kind IN ('reply', 'mention', 'quote', 'repost')),
    source_id       VARCHAR NOT NULL,   -- the post's author
    target_id       VARCHAR NOT NULL,   -- author id, or '@handle' when no id is known
    target_post_id  VARCHAR,            -- the post replied to, quoted or reposted
    created_at      TIMESTAMPTZ
);

-- Directed edges: interactions counted per (source, target, kind).
CREATE TABLE network_edges (
    platform    VARCHAR NOT NULL,
    source_id   VARCHAR NOT NULL,
    target_id   VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL,
    posts       BIGINT  NOT NULL,   -- distinct posts making this tie
    months      BIGINT  NOT NULL,   -- distinct calendar months (UTC) with such a post
    first_at    TIMESTAMPTZ,
    last_at     TIMESTAMPTZ
);

-- Centrality on the graph of all kinds together (weight = posts).
CREATE TABLE network_centrality (
    platform     VARCHAR NOT NULL,
    author_id    VARCHAR NOT NULL,
    in_degree    BIGINT  NOT NULL,  -- distinct accounts with a tie to this one
    out_degree   BIGINT  NOT NULL,  -- distinct accounts this one has a tie to
    in_weight    BIGINT  NOT NULL,  -- interactions received
    out_weight   BIGINT  NOT NULL,  -- interactions made
    betweenness  DOUBLE  NOT NULL,  -- normalised, directed, unweighted
    pagerank     DOUBLE  NOT NULL   -- weighted by interactions, alpha 0.85
);

-- Reciprocal reply ties that last: replies both ways in >= N distinct months.
CREATE TABLE mentorship_candidates (
    platform           VARCHAR NOT NULL,
    mentor_id          VARCHAR NOT NULL,  -- the more senior role (ties: the smaller handle)
    mentee_id          VARCHAR NOT NULL,
    tie                VARCHAR NOT NULL CHECK (tie IN ('hierarchical', 'peer')),
    months_both_ways   BIGINT  NOT NULL,  -- months in which each replied to the other
    mentor_replies     BIGINT  NOT NULL,  -- replies mentor -> mentee, whole window
    mentee_replies     BIGINT  NOT NULL,
    first_month        DATE    NOT NULL,
    last_month         DATE    NOT NULL
);

-- A senior account reposting or quoting a trainee's own post about their work or achievement.
CREATE TABLE sponsorship_events (
    platform      VARCHAR NOT NULL,
    post_id       VARCHAR NOT NULL,   -- the repost or quote
    kind          VARCHAR NOT NULL,   -- repost | quote
    sponsor_id    VARCHAR NOT NULL,
    trainee_id    VARCHAR NOT NULL,
    work_post_id  VARCHAR NOT NULL,   -- the trainee's post
    cue           VARCHAR NOT NULL,   -- the achievement word found in it
    created_at    TIMESTAMPTZ
);

-- Tweet chats: a hashtag, numbered questions (Q1, Q2 ...) by a host, answers, a time window.
CREATE TABLE chats (
    chat_id          VARCHAR NOT NULL,  -- '<hashtag>:<first question post id>'
    platform         VARCHAR NOT NULL,
    hashtag          VARCHAR NOT NULL,  -- lower-cased, without '#'
    host_id          VARCHAR NOT NULL,  -- posted the most questions (ties: smaller handle)
    first_question_post_id VARCHAR NOT NULL,
    window_start     TIMESTAMPTZ NOT NULL,
    window_end       TIMESTAMPTZ NOT NULL,
    started_at       TIMESTAMPTZ,       -- first post of the chat
    ended_at         TIMESTAMPTZ,       -- last post of the chat
    questions        BIGINT NOT NULL,   -- distinct question numbers
    answers          BIGINT NOT NULL,   -- answer posts (A1 ...) by non-hosts
    posts            BIGINT NOT NULL,
    participants     BIGINT NOT NULL    -- accounts other than the hosts that answered or replied
);

CREATE TABLE chat_participation (
    chat_id     VARCHAR NOT NULL,
    platform    VARCHAR NOT NULL,
    author_id   VARCHAR NOT NULL,
    is_host     BOOLEAN NOT NULL,   -- posted a question
    is_participant BOOLEAN NOT NULL, -- not a host; answered (A1 ...) or replied to a chat post
    posts       BIGINT  NOT NULL,   -- chat posts: with the hashtag in the window, or replies to those
    answers     BIGINT  NOT NULL,
    replies     BIGINT  NOT NULL,   -- replies to posts of the chat
    first_at    TIMESTAMPTZ,
    last_at     TIMESTAMPTZ
);

-- The last superuser selection: every criterion's value, threshold and pass/fail.
CREATE TABLE superuser_candidates (
    platform         VARCHAR NOT NULL,
    author_id        VARCHAR NOT NULL,
    handle           VARCHAR,
    role             VARCHAR,
    rank             BIGINT  NOT NULL,
    selected         BOOLEAN NOT NULL,
    criteria         VARCHAR NOT NULL,  -- JSON {criterion: {value, threshold, pass}}
    criteria_sha256  VARCHAR NOT NULL   -- of the SuperuserCriteria used
);

-- Every account the corpus knows by id: its profile when there is one, else the handle its
-- posts carry, else the handle it is mentioned by.
CREATE VIEW accounts_v AS
WITH profiles AS (
    SELECT platform, author_id, handle, display_name, bio FROM authors
),
posters AS (
    SELECT platform, author_id, max(author_handle) AS handle
    FROM posts WHERE author_id IS NOT NULL GROUP BY ALL
),
mentioned AS (
    SELECT platform, target_id AS author_id, max(value) AS handle
    FROM entities WHERE kind = 'mention' AND target_id IS NOT NULL GROUP BY ALL
),
known AS (
    SELECT coalesce(a.platform, p.platform) AS platform, coalesce(a.author_id, p.author_id) AS author_id,
           coalesce(a.handle, p.handle) AS handle, a.display_name, a.bio
    FROM profiles a FULL JOIN posters p ON a.platform = p.platform AND a.author_id = p.author_id
),
final AS (
    SELECT * FROM known
    UNION ALL
    SELECT m.platform, m.author_id, m.handle, NULL, NULL
    FROM mentioned m ANTI JOIN known k ON k.platform = m.platform AND k.author_id = m.author_id
)
SELECT * FROM final;

-- Report-facing edges with handles and roles.
CREATE VIEW network_edges_v AS
SELECT e.platform, e.source_id, s.handle AS source_handle, coalesce(sr.role, 'other') AS source_role,
       e.target_id, coalesce(t.handle, CASE WHEN e.target_id LIKE '@%' THEN substr(e.target_id, 2) END)
           AS target_handle, coalesce(tr.role, 'other') AS target_role,
       e.kind, e.posts, e.months, e.first_at, e.last_at
FROM network_edges e
LEFT JOIN accounts_v s ON s.platform = e.platform AND s.author_id = e.source_id
LEFT JOIN accounts_v t ON t.platform = e.platform AND t.author_id = e.target_id
LEFT JOIN author_roles sr ON sr.platform = e.platform AND sr.author_id = e.source_id
LEFT JOIN author_roles tr ON tr.platform = e.platform AND tr.author_id = e.target_id;

-- Role-to-role summary: e.g. student -> faculty replies, faculty -> student reposts.
CREATE VIEW role_edges_v AS
SELECT source_role, target_role, kind, count(*) AS edges, sum(posts)::BIGINT AS posts,
       count(DISTINCT source_id) AS sources, count(DISTINCT target_id) AS targets
FROM network_edges_v
GROUP BY ALL;
