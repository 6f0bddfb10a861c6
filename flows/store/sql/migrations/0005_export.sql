-- 0005 export and withdrawal: the blocklist that later ingests honour, and the audit of every
-- withdrawal. Neither table holds a handle, an id or any content: an account appears only as a
-- keyed hash (HMAC-SHA256 under the study secret kept outside the database, see
-- flows.pseudonym), so without the secret nobody can tell from the store who withdrew.

-- One row per key an ingested account is checked against.
CREATE TABLE withdrawal_blocklist (
    key_hash      VARCHAR PRIMARY KEY,  -- keyed hash of 'account:<platform>:<id>' or 'handle:<platform>:<handle>'
    kind          VARCHAR NOT NULL CHECK (kind IN ('account', 'handle')),
    account_hash  VARCHAR NOT NULL      -- the withdrawal it belongs to (withdrawal_audit.account_hash)
);

-- One row per removal: a researcher's `ethnoflow forget`, or a blocked account that came back
-- with an ingest and was removed again. The one place in these tables where a time belongs.
CREATE TABLE withdrawal_audit (
    account_hash  VARCHAR NOT NULL,     -- keyed hash of the account ('account:<platform>:<id>')
    removed_at    TIMESTAMPTZ NOT NULL,
    trigger       VARCHAR NOT NULL CHECK (trigger IN ('forget', 'ingest')),
    reason        VARCHAR,              -- as given, with the account's handles and ids masked
    counts        VARCHAR NOT NULL      -- JSON {table: {"deleted": n, "nulled": n, "masked": n}}
);
