-- 0012 coders, memos and codebook evolution: human coding that survives real coders and a
-- codebook that changes while the study codes. flows.coding.coders, flows.coding.memos and
-- flows.coding.evolution are the only writers of these tables.

-- Every coder as a record: people, the consensus of people, and the machine coders.
CREATE TABLE coders (
    name          VARCHAR PRIMARY KEY,
    kind          VARCHAR NOT NULL CHECK (kind IN ('person', 'consensus', 'machine'))
);

-- What was done to coders' codes, and by which command: imports, renames, removals. Like run
-- records, audit rows carry the time they were written (nothing else reads it).
CREATE TABLE coder_audit (
    recorded_at   TIMESTAMP NOT NULL,
    action        VARCHAR NOT NULL CHECK (action IN ('import', 'rename', 'remove')),
    coder         VARCHAR NOT NULL,     -- the coder acted on (for a rename: the old name)
    detail        VARCHAR NOT NULL      -- JSON: new name, round, sheet and sha256, rows affected
);

-- Analytic memos and a sheet's extra columns (notes): on a post, on a code for one post, or on
-- a code as a whole. Replaces code_memos (one memo per post and coder, per codebook version).
CREATE TABLE memos (
    memo_id       VARCHAR PRIMARY KEY,  -- sha256 of coder, codebook, post, code and label
    coder         VARCHAR NOT NULL,     -- the memo's author
    codebook_id   VARCHAR NOT NULL,
    content_hash  VARCHAR NOT NULL,     -- the codebook version it was written under
    platform      VARCHAR NOT NULL,     -- with post_id: the post it is about ('': a memo on a code)
    post_id       VARCHAR NOT NULL,     -- (never NULL, so that withdrawal deletes a post's memos)
    code_id       VARCHAR,              -- the code it is about (NULL: about the post)
    kind          VARCHAR NOT NULL CHECK (kind IN ('memo', 'note')),  -- note: an extra sheet column
    label         VARCHAR NOT NULL,     -- the sheet column it came from ('memo', 'coder_notes'...)
    memo          VARCHAR NOT NULL,
    batch_id      VARCHAR,              -- the sheet import it came with (NULL: written directly)
    created_at    TIMESTAMP NOT NULL    -- when it was first recorded; kept when it is re-imported
);

INSERT INTO memos
SELECT sha256(concat_ws(chr(31), m.coder, b.codebook_id, m.platform, m.post_id, '', 'memo')),
       m.coder, b.codebook_id, m.content_hash, m.platform, m.post_id, NULL, 'memo', 'memo',
       m.memo, m.batch_id, TIMESTAMP '1970-01-01'
FROM code_memos AS m JOIN coding_batches AS b USING (batch_id)
QUALIFY row_number() OVER (PARTITION BY m.coder, b.codebook_id, m.platform, m.post_id
                           ORDER BY m.content_hash) = 1;

DROP TABLE code_memos;

-- Links between versions of a codebook: from the version that was current to the one loaded
-- after it, with what changed (flows.coding.evolution.diff) and what the researcher declared in
-- the codebook's `changes:` section.
CREATE TABLE codebook_links (
    codebook_id   VARCHAR NOT NULL,
    from_hash     VARCHAR NOT NULL,
    to_hash       VARCHAR NOT NULL,
    changes       VARCHAR NOT NULL,     -- JSON: per code kept | reworded | renamed | split | merged | added | removed
    PRIMARY KEY (from_hash, to_hash)
);

-- Codes carried over from an earlier version into a later one (a row of code_assignments that a
-- person made under another version): which version and which code it was made as.
CREATE TABLE carried_codes (
    platform      VARCHAR NOT NULL,
    post_id       VARCHAR NOT NULL,
    content_hash  VARCHAR NOT NULL,     -- the version it was carried into
    code_id       VARCHAR NOT NULL,
    coder         VARCHAR NOT NULL,
    made_under    VARCHAR NOT NULL,     -- the version the coder coded it under
    made_as       VARCHAR NOT NULL,     -- the code(s) coded then, comma list (a rename or merge)
    change        VARCHAR NOT NULL,     -- kept | reworded | renamed | merged | split
    PRIMARY KEY (platform, post_id, content_hash, code_id, coder)
);
