-- One ordered key-value space divided into buckets. The primary key is the
-- only index: WITHOUT ROWID stores rows in (bucket, key) order, so a Scan is
-- a range read of the B-tree and costs the same whatever the bucket's size.
-- Keys are TEXT compared with the default BINARY collation (memcmp), which
-- is the bytewise order the store contract promises; STRICT makes SQLite
-- refuse a value of the wrong type instead of silently converting it.
CREATE TABLE kv (
    bucket TEXT NOT NULL,
    key    TEXT NOT NULL,
    value  BLOB NOT NULL,
    PRIMARY KEY (bucket, key)
) WITHOUT ROWID, STRICT;
