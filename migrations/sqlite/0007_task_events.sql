-- The live task feed (`GET /api/v1/tasks/events`) uses task_history ids as
-- event ids. SQLite needs no change for it: one writer at a time
-- (`Db::begin_write` takes the write lock up front), so AUTOINCREMENT ids
-- are already handed out in commit order, and the feed polls for new rows.
-- This file keeps the two backends' migration numbers in step with
-- PostgreSQL's 0007 (commit-ordered ids, NOTIFY on insert).
SELECT 1;
