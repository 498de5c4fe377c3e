-- Staff dashboard sessions (browser sign-in). Kept in the database, not in
-- memory, so a session survives a restart and works on every instance
-- behind one address. The cookie value is shown to the browser only; the
-- table keeps its SHA-256. `csrf_token` is the synchronizer token every
-- form and state-changing request must carry.
CREATE TABLE dashboard_sessions (
    id_hash TEXT PRIMARY KEY,
    staff_id TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
);
CREATE INDEX dashboard_sessions_last_seen ON dashboard_sessions (last_seen_at);
