-- The audit log: append-only, each entry hash-chained to the one before it.

CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY,
    owner      TEXT NOT NULL,
    at         TEXT NOT NULL,      -- RFC 3339, exactly as hashed
    action     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    detail     TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE INDEX audit_log_by_owner ON audit_log (owner, seq);
