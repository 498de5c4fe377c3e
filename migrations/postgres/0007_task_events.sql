-- The live task feed (`GET /api/v1/tasks/events`) uses task_history ids as
-- event ids and reads "every row after the last one delivered". That only
-- loses nothing if ids become visible in increasing order: two
-- transactions taking ids 10 and 11 may commit 11 first, and a reader
-- that saw 11 would never go back for 10. So every insert waits for the
-- previous history writer to commit (a transaction-scoped advisory lock)
-- and only then draws its id: ids are handed out in commit order.
CREATE FUNCTION task_history_in_commit_order() RETURNS trigger AS $$
BEGIN
    -- tasks::history::WRITERS_LOCK
    PERFORM pg_advisory_xact_lock(7436100013);
    NEW.id := nextval(pg_get_serial_sequence('task_history', 'id'));
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER task_history_in_commit_order BEFORE INSERT ON task_history
    FOR EACH ROW EXECUTE FUNCTION task_history_in_commit_order();
-- The trigger draws the id; the column's default would draw another, unused.
ALTER TABLE task_history ALTER COLUMN id DROP DEFAULT;

-- Wakes every instance's feed when history rows commit (NOTIFY is
-- delivered at commit, and not at all on rollback). Only a wake-up: the
-- feed reads the rows themselves from this table, so a missed notification
-- delays an event, never loses it.
CREATE FUNCTION task_history_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('frontdesk_task_events', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER task_history_notify AFTER INSERT ON task_history
    FOR EACH STATEMENT EXECUTE FUNCTION task_history_notify();
