-- Calls and their turns, written as they happen.
CREATE TABLE calls (
    id TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    provider_call_id TEXT,
    stream_id TEXT,
    from_number TEXT,
    to_number TEXT,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    outcome TEXT NOT NULL DEFAULT 'in_progress',
    carrier_status TEXT,
    patient_id TEXT,
    recording_path TEXT
);
CREATE INDEX calls_started_at ON calls (started_at);
CREATE INDEX calls_provider_call_id ON calls (provider_call_id);

CREATE TABLE turns (
    call_id TEXT NOT NULL REFERENCES calls (id),
    seq INTEGER NOT NULL,
    speaker TEXT NOT NULL CHECK (speaker IN ('caller', 'agent')),
    text TEXT NOT NULL,
    started_at_ms BIGINT NOT NULL,
    ended_at_ms BIGINT NOT NULL,
    intent TEXT,
    confidence DOUBLE PRECISION,
    interrupted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (call_id, seq)
);
