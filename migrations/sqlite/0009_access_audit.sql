-- The access audit: who read or changed what, hash-chained. Each entry
-- stores the hash of the entry before it and its own hash (SHA-256 of the
-- previous hash and its canonical content), so an edited, deleted or
-- reordered row shows (`frontdesk audit verify`). Rows are written only by
-- `audit::record`, which appends under the chain head's lock.
CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    recorded TEXT NOT NULL,
    staff_id TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT,
    patient_id TEXT,
    outcome TEXT NOT NULL CHECK (outcome IN ('success', 'denied', 'failed')),
    client TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_staff ON audit_log (staff_id, seq);
CREATE INDEX audit_log_patient ON audit_log (patient_id, seq);
CREATE INDEX audit_log_recorded ON audit_log (recorded);

-- The chain's head: the last entry's number and hash, one row. Appending
-- locks it (a write transaction on SQLite, FOR UPDATE on PostgreSQL), so
-- concurrent writers, and several instances, append one at a time; and a
-- deleted last entry still shows, since the head remembers it.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
