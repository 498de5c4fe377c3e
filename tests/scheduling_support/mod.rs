//! Shared by the scheduling and conversation tests: fresh databases.
#![allow(dead_code)]

use frontdesk::clinic::Clinic;
use frontdesk::scheduling;
use frontdesk::store::Db;

/// A fresh, migrated SQLite database in a temporary directory.
pub async fn sqlite() -> (Db, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = frontdesk::store::sqlite_url_in(dir.path());
    let db = Db::open(&url).await.expect("open sqlite");
    scheduling::sync_catalog(&db, &Clinic::demo())
        .await
        .expect("sync catalog");
    (db, dir)
}

/// The PostgreSQL server tests use (`FRONTDESK_TEST_POSTGRES` overrides).
pub fn postgres_admin_url() -> String {
    std::env::var("FRONTDESK_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A fresh, empty database on the PostgreSQL server: its URL, the admin
/// connection and its name (to drop it with); `None`, reported through
/// `prerequisites::missing`, when no server is reachable.
pub async fn postgres_database() -> Option<(String, Db, String)> {
    sqlx::any::install_default_drivers();
    let admin_url = postgres_admin_url();
    let admin = match Db::connect(&admin_url).await {
        Ok(db) => db,
        Err(e) => {
            frontdesk::prerequisites::missing(
                &format!("PostgreSQL at {admin_url} ({e:#})"),
                "start it (scripts/ensure-postgres.sh) or set FRONTDESK_TEST_POSTGRES",
            );
            return None;
        }
    };
    let name = format!("fd_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin.pool)
        .await
        .expect("create test database");
    let base = admin_url
        .rsplit_once('/')
        .map(|(b, _)| b.to_string())
        .unwrap_or(admin_url.clone());
    Some((format!("{base}/{name}"), admin, name))
}

/// A fresh database on the PostgreSQL server with the demo clinic's
/// catalogue, or `None` (reported) when no server is reachable.
pub async fn postgres() -> Option<(Db, PgGuard)> {
    let (url, admin, name) = postgres_database().await?;
    let db = Db::open(&url).await.expect("open test database");
    scheduling::sync_catalog(&db, &Clinic::demo())
        .await
        .expect("sync catalog");
    Some((db, PgGuard { admin, name }))
}

/// Drops the test database when the test ends.
pub struct PgGuard {
    admin: Db,
    name: String,
}

impl PgGuard {
    pub async fn drop_now(self, db: Db) {
        db.pool.close().await;
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&self.admin.pool)
        .await;
    }
}
