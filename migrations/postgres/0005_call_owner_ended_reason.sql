-- Which instance wrote a call (the id kept in its data directory), so that
-- after a crash an instance closes only the calls it left open; and why a
-- call ended when nobody on the call ended it (`interrupted_by_restart`).
ALTER TABLE calls ADD COLUMN owner TEXT;
ALTER TABLE calls ADD COLUMN ended_reason TEXT;
CREATE INDEX calls_ended_at ON calls (ended_at);
