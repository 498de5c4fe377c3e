//! Persistence through sqlx: SQLite embedded by default, PostgreSQL for a
//! shared deployment. One pool of the `Any` driver; SQL is written once with
//! `$1`-style placeholders, which both backends accept (queries built from
//! filters go through `dynamic_sql`, which numbers them). Times are stored as
//! RFC 3339 UTC text, ids as text (UUIDs), so one schema reads the same on
//! both backends. Migrations live in `migrations/sqlite` and
//! `migrations/postgres` (same numbering, one file per change in each).

pub mod calls;
pub mod dynamic_sql;

use std::path::Path;

use anyhow::Context;
use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Which database the URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> anyhow::Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            anyhow::bail!("unsupported database URL scheme (expected sqlite:… or postgres://…)")
        }
    }
}

/// A handle on the database, cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// The instance whose calls this handle writes (see [`instance_id_in`]);
    /// recorded on each call so that, after a crash, an instance closes only
    /// the calls it left open, never another live instance's.
    owner: Option<std::sync::Arc<str>>,
}

impl Db {
    /// Opens (creating the SQLite file if needed) without migrating.
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url)?;
        let mut options = AnyPoolOptions::new().acquire_timeout(std::time::Duration::from_secs(5));
        if backend == Backend::Sqlite {
            let path = url
                .trim_start_matches("sqlite://")
                .trim_start_matches("sqlite:");
            let path = path.split('?').next().unwrap_or(path);
            if path != ":memory:"
                && !path.is_empty()
                && let Some(dir) = Path::new(path).parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir).with_context(|| {
                    format!("creating the database directory {}", dir.display())
                })?;
            }
            options = options.max_connections(8).after_connect(|conn, _meta| {
                Box::pin(async move {
                    // WAL lets the API read while calls write; the busy
                    // timeout turns brief lock contention into a short wait.
                    use sqlx::Executor;
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA busy_timeout = 5000").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    Ok(())
                })
            });
        } else {
            options = options.max_connections(16);
        }
        let url = if backend == Backend::Sqlite && !url.contains("mode=") {
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}mode=rwc")
        } else {
            url.to_string()
        };
        let pool = options
            .connect(&url)
            .await
            .with_context(|| format!("connecting to the {backend:?} database"))?;
        Ok(Db {
            pool,
            backend,
            owner: None,
        })
    }

    /// A transaction that will write. On SQLite it takes the write lock up
    /// front: a deferred transaction that reads and then writes fails at
    /// once ("database is locked"; the busy timeout does not cover it) when
    /// another connection wrote after its read, which eight calls writing
    /// their turns did several times a minute.
    pub async fn begin_write(&self) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Any>> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// Opens and applies every pending migration.
    pub async fn open(url: &str) -> anyhow::Result<Db> {
        let db = Db::connect(url).await?;
        db.migrate().await?;
        Ok(db)
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&self.pool)
            .await
            .context("applying database migrations")
    }

    /// The same database, writing calls as owned by `owner`.
    pub fn owned_by(mut self, owner: &str) -> Db {
        self.owner = Some(owner.into());
        self
    }

    /// The instance this handle writes calls for, if set.
    pub fn owner(&self) -> Option<&str> {
        self.owner.as_deref()
    }

    /// `SELECT 1`, for `/readyz`.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }
}

/// The default embedded database inside a data directory.
pub fn sqlite_url_in(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("frontdesk.sqlite3").display())
}

/// This instance's id: kept in `instance-id` in the data directory, made
/// the first time. The data directory holds the instance's recordings and
/// write spool, so it is what survives a restart; two servers sharing one
/// PostgreSQL database have two data directories and so two ids.
pub fn instance_id_in(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join("instance-id");
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => return Ok(text.trim().to_string()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating the data directory {}", data_dir.display()))?;
    let id = new_id();
    std::fs::write(&path, format!("{id}\n"))
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(id)
}

/// Current time as stored: RFC 3339 UTC with milliseconds.
pub fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A new random id.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
