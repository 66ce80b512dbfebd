-- One ordered key-value space, divided into buckets. Keys are bytea so that
-- they sort bytewise, exactly as the SQLite engine and the store contract
-- order them, and may hold any byte.
CREATE TABLE kv (
    bucket text  NOT NULL,
    key    bytea NOT NULL,
    value  bytea NOT NULL,
    PRIMARY KEY (bucket, key)
);
