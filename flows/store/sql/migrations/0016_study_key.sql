-- 0016 study key: which study secret this store's withdrawals are keyed by, so that a changed
-- or lost secret is refused instead of silently bringing a withdrawn account back (the
-- blocklist holds keyed hashes: under another secret none of them would match). The row is a
-- keyed hash of a fixed text under the secret (flows.privacy.pseudonym.key_fingerprint): it
-- tells one secret from another and reveals nothing of it.
CREATE TABLE study_key (
    fingerprint   VARCHAR PRIMARY KEY   -- HMAC-SHA256('ethnoflow:key-check') under the secret, 16 hex digits
);

-- Posts of a file that were withdrawn as they came in (a blocklisted account's), so that
-- records_read = ingested + duplicates + rejected + withdrawn and "ingested" counts only posts kept.
ALTER TABLE sources ADD COLUMN withdrawn BIGINT NOT NULL DEFAULT 0;
