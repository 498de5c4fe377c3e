//! The task event feed: every row of the task history is an event, its id
//! the row's id. The database is the only source: a subscriber reads the
//! rows after the last one it delivered, so a reconnecting client (or one
//! on another instance) misses none and sees none twice, whatever this
//! process remembers. Ids become visible in increasing order (SQLite has
//! one writer at a time; PostgreSQL's migration 0007 draws them in commit
//! order), so "after the last id" never skips a row committed late.
//!
//! What is new is learnt cheaply: one watcher per process keeps the
//! newest history id in a `watch` channel, woken by PostgreSQL's
//! `LISTEN/NOTIFY` (another instance's writes arrive within milliseconds)
//! and, as a fallback and on SQLite, by polling `MAX(id)`. Subscribers
//! wait on that channel and then read the rows themselves, so a missed
//! notification delays an event by one poll, never loses it.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context;
use sqlx::Row;
use tokio::sync::watch;

use crate::store::{Backend, Db};

/// The channel migration 0007's trigger notifies on every history insert.
pub const CHANNEL: &str = "frontdesk_task_events";

/// How often the newest id is read when nothing woke the watcher: on SQLite
/// this is the only wake-up (a read of the primary key's last page);
/// on PostgreSQL a safety net for notifications lost while the listening
/// connection was down.
const SQLITE_POLL: Duration = Duration::from_millis(100);
const POSTGRES_POLL: Duration = Duration::from_secs(2);

/// Rows read per query by a subscriber catching up.
const PAGE: i64 = 200;

/// Heartbeats on an idle event stream, unless configured otherwise.
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(15);

/// One history row as an event: which task changed, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The history row's id: the event's id, increasing.
    pub id: i64,
    pub task_id: String,
    pub action: String,
}

/// The feed of one process; cheap to clone. Dropping the last clone stops
/// its watcher.
#[derive(Clone)]
pub struct TaskEvents {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    head: watch::Receiver<i64>,
    subscribers: Arc<AtomicUsize>,
    heartbeat: Duration,
    watcher: Vec<tokio::task::AbortHandle>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for task in &self.watcher {
            task.abort();
        }
    }
}

impl TaskEvents {
    /// Starts the watcher (inside a Tokio runtime). `database_url` is the
    /// URL `db` was opened with: on PostgreSQL the watcher opens its own
    /// listening connection with it. `heartbeat`: how often an idle event
    /// stream says it is alive ([`DEFAULT_HEARTBEAT`]; tests use less).
    pub fn start(db: Db, database_url: &str, heartbeat: Duration) -> TaskEvents {
        let (tx, head) = watch::channel(0_i64);
        let tx = Arc::new(tx);
        let mut watcher = Vec::new();
        let poll = match db.backend {
            Backend::Sqlite => SQLITE_POLL,
            Backend::Postgres => POSTGRES_POLL,
        };
        watcher.push(tokio::spawn(poll_head(db.clone(), tx.clone(), poll)).abort_handle());
        if db.backend == Backend::Postgres {
            watcher.push(
                tokio::spawn(listen(db.clone(), database_url.to_string(), tx)).abort_handle(),
            );
        }
        TaskEvents {
            inner: Arc::new(Inner {
                db,
                head,
                subscribers: Arc::default(),
                heartbeat,
                watcher,
            }),
        }
    }

    /// How often an idle stream sends a heartbeat.
    pub fn heartbeat(&self) -> Duration {
        self.inner.heartbeat
    }

    /// The newest event id in the database now (0 when there is none): where
    /// a client that asks for no past events starts.
    pub async fn latest(&self) -> anyhow::Result<i64> {
        latest_id(&self.inner.db).await
    }

    /// Events after `after`, oldest first, as they come.
    pub fn subscribe(&self, after: i64) -> Subscription {
        self.inner.subscribers.fetch_add(1, Ordering::SeqCst);
        Subscription {
            db: self.inner.db.clone(),
            cursor: after,
            head: self.inner.head.clone(),
            buffered: VecDeque::new(),
            _count: SubscriberCount(self.inner.subscribers.clone()),
        }
    }

    /// Subscriptions alive now (an event stream whose client left counts
    /// until the server notices, at the latest at the next heartbeat).
    pub fn subscribers(&self) -> usize {
        self.inner.subscribers.load(Ordering::SeqCst)
    }
}

/// Counts a subscription while it lives.
struct SubscriberCount(Arc<AtomicUsize>);

impl Drop for SubscriberCount {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// One reader's place in the feed.
pub struct Subscription {
    db: Db,
    cursor: i64,
    head: watch::Receiver<i64>,
    buffered: VecDeque<Event>,
    _count: SubscriberCount,
}

impl Subscription {
    /// The id of the last event returned (or the starting point).
    pub fn cursor(&self) -> i64 {
        self.cursor
    }

    /// The next event, waiting until there is one. An error (the database
    /// unreachable) leaves the place unchanged: calling again resumes.
    pub async fn next(&mut self) -> anyhow::Result<Event> {
        loop {
            if let Some(event) = self.buffered.pop_front() {
                self.cursor = event.id;
                return Ok(event);
            }
            let page = read_after(&self.db, self.cursor).await?;
            if !page.is_empty() {
                self.buffered.extend(page);
                continue;
            }
            let cursor = self.cursor;
            // Woken when the watcher sees a newer id; re-read at least every
            // few seconds anyway, should the watcher be stuck.
            let _ = tokio::time::timeout(
                Duration::from_secs(5),
                self.head.wait_for(|head| *head > cursor),
            )
            .await;
        }
    }
}

async fn latest_id(db: &Db) -> anyhow::Result<i64> {
    let id: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM task_history")
        .fetch_one(&db.pool)
        .await
        .context("reading the newest task event id")?;
    Ok(id.unwrap_or(0))
}

async fn read_after(db: &Db, after: i64) -> anyhow::Result<Vec<Event>> {
    let rows = sqlx::query(
        "SELECT id, task_id, action FROM task_history WHERE id > $1 ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(PAGE)
    .fetch_all(&db.pool)
    .await
    .context("reading task events")?;
    rows.iter()
        .map(|r| {
            Ok(Event {
                id: r.try_get("id")?,
                task_id: r.try_get("task_id")?,
                action: r.try_get("action")?,
            })
        })
        .collect()
}

/// Raises the head to `id` (never lowers it).
fn advance(tx: &watch::Sender<i64>, id: i64) {
    tx.send_if_modified(|head| {
        if id > *head {
            *head = id;
            true
        } else {
            false
        }
    });
}

/// Reads the newest id every `every`.
async fn poll_head(db: Db, tx: Arc<watch::Sender<i64>>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        ticks.tick().await;
        match latest_id(&db).await {
            Ok(id) => {
                failing = false;
                advance(&tx, id);
            }
            Err(error) if !failing => {
                failing = true;
                tracing::warn!(error = %format!("{error:#}"), "task event feed cannot read the database");
            }
            Err(_) => {}
        }
    }
}

/// PostgreSQL: reads the newest id whenever a history insert commits
/// anywhere, and after the listening connection comes back (notifications
/// sent while it was down are gone).
async fn listen(db: Db, url: String, tx: Arc<watch::Sender<i64>>) {
    let mut listener: Option<sqlx::postgres::PgListener> = None;
    loop {
        if listener.is_none() {
            match connect_listener(&url).await {
                Ok(l) => {
                    tracing::debug!("task event feed listening");
                    listener = Some(l);
                }
                Err(error) => {
                    tracing::debug!(error = %format!("{error:#}"), "task event feed cannot listen yet");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            }
        }
        let Some(current) = listener.as_mut() else {
            continue;
        };
        match current.try_recv().await {
            // A notification, or the connection lost and remade: either way
            // the rows decide.
            Ok(_) => {}
            Err(error) => {
                tracing::debug!(error = %error, "task event listener lost its connection");
                listener = None;
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        if let Ok(id) = latest_id(&db).await {
            advance(&tx, id);
        }
    }
}

async fn connect_listener(url: &str) -> anyhow::Result<sqlx::postgres::PgListener> {
    let mut listener = sqlx::postgres::PgListener::connect(url)
        .await
        .context("connecting the task event listener")?;
    listener
        .listen(CHANNEL)
        .await
        .context("listening for task events")?;
    Ok(listener)
}
