-- Staff accounts and the task lifecycle (open → claimed → done).
-- A staff member's bearer token is shown once; only its SHA-256 is kept.
CREATE TABLE staff (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('receptionist', 'billing', 'clinical', 'records', 'manager', 'admin')),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

-- How many times staff tried and did not reach the caller; when the
-- holder last did something with the task (a claim left idle for the
-- clinic's claim timeout goes back to the queue).
ALTER TABLE tasks ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN touched_at TEXT;
UPDATE tasks SET touched_at = claimed_at WHERE status = 'claimed';
CREATE INDEX tasks_claimed_touched ON tasks (status, touched_at);

-- Every change to a task, in order; notes are rows here too (append-only).
CREATE TABLE task_history (
    id BIGSERIAL PRIMARY KEY,
    task_id TEXT NOT NULL REFERENCES tasks (id),
    at TEXT NOT NULL,
    staff_id TEXT,
    action TEXT NOT NULL CHECK (action IN ('created', 'claimed', 'released', 'expired', 'note', 'reassigned', 'completed', 'attempt')),
    detail TEXT
);
CREATE INDEX task_history_task ON task_history (task_id, id);
INSERT INTO task_history (task_id, at, staff_id, action, detail)
    SELECT id, created_at, NULL, 'created', NULL FROM tasks ORDER BY created_at;

CREATE FUNCTION task_history_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'task history is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER task_history_append_only BEFORE UPDATE OR DELETE ON task_history
    FOR EACH ROW EXECUTE FUNCTION task_history_append_only();
