-- Patients, the clinic's catalogue (synced from the configuration),
-- appointments, the double-booking guard, and the staff task queue.
CREATE TABLE patients (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- lower-case, single-spaced name for identity matching
    name_key TEXT NOT NULL,
    date_of_birth TEXT NOT NULL,
    phone TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX patients_identity ON patients (name_key, date_of_birth);
CREATE INDEX patients_phone ON patients (phone);

CREATE TABLE providers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    title TEXT NOT NULL
);

CREATE TABLE appointment_types (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    minutes BIGINT NOT NULL
);

CREATE TABLE appointments (
    id TEXT PRIMARY KEY,
    patient_id TEXT NOT NULL REFERENCES patients (id),
    provider_id TEXT NOT NULL REFERENCES providers (id),
    type_id TEXT NOT NULL REFERENCES appointment_types (id),
    start_at TEXT NOT NULL,
    end_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('booked', 'cancelled')),
    source TEXT NOT NULL CHECK (source IN ('phone_agent', 'staff')),
    call_id TEXT,
    created_at TEXT NOT NULL,
    cancelled_at TEXT
);
CREATE INDEX appointments_provider_start ON appointments (provider_id, start_at);
CREATE INDEX appointments_patient_start ON appointments (patient_id, start_at);
CREATE INDEX appointments_call ON appointments (call_id);

-- A slot is never booked twice: each booked appointment claims every
-- five-minute cell it covers, once, for its provider. Cancelling deletes
-- the claims in the same transaction.
CREATE TABLE slot_claims (
    provider_id TEXT NOT NULL,
    cell_start TEXT NOT NULL,
    appointment_id TEXT NOT NULL REFERENCES appointments (id),
    PRIMARY KEY (provider_id, cell_start)
);
CREATE INDEX slot_claims_appointment ON slot_claims (appointment_id);

CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    queue TEXT NOT NULL CHECK (queue IN ('front_desk', 'billing', 'clinical', 'records')),
    priority TEXT NOT NULL CHECK (priority IN ('urgent', 'high', 'normal')),
    kind TEXT NOT NULL,
    summary TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'claimed', 'done')),
    call_id TEXT,
    patient_id TEXT REFERENCES patients (id),
    callback_number TEXT,
    created_at TEXT NOT NULL,
    claimed_by TEXT,
    claimed_at TEXT,
    completed_at TEXT,
    resolution TEXT
);
CREATE INDEX tasks_status_queue ON tasks (status, queue, created_at);
CREATE INDEX tasks_call ON tasks (call_id);
