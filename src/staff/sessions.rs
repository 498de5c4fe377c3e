//! Browser sessions of the staff dashboard. A session is a row in the
//! database (so it survives a restart and works across instances on one
//! PostgreSQL); the browser holds a random value whose SHA-256 is the key,
//! so a copy of the table signs nobody in. Each session carries its CSRF
//! synchronizer token. A session unused for the clinic's idle timeout is
//! over: it is deleted when next presented.

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use sqlx::Row;

use super::{hashes_match, new_token, token_hash};
use crate::store::Db;

/// A live session: who it is for and the token its forms carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub staff_id: String,
    pub csrf_token: String,
}

/// Why a presented session value admits nobody.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup {
    Live(Session),
    /// Unused for longer than the idle timeout (now deleted).
    Expired,
    Unknown,
}

fn time_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Starts a session for `staff_id`; returns the cookie value (shown once,
/// only its hash kept) and the session.
pub async fn create(
    db: &Db,
    staff_id: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<(String, Session)> {
    let value = new_token()?;
    let session = Session {
        staff_id: staff_id.to_string(),
        csrf_token: new_token()?,
    };
    sqlx::query(
        "INSERT INTO dashboard_sessions (id_hash, staff_id, csrf_token, created_at, last_seen_at) \
         VALUES ($1, $2, $3, $4, $4)",
    )
    .bind(token_hash(&value))
    .bind(&session.staff_id)
    .bind(&session.csrf_token)
    .bind(time_text(now))
    .execute(&db.pool)
    .await
    .context("starting a dashboard session")?;
    Ok((value, session))
}

/// The session a cookie value names, touched (its idle clock restarted),
/// or why there is none.
pub async fn find(
    db: &Db,
    value: &str,
    now: DateTime<Utc>,
    idle_timeout: Duration,
) -> anyhow::Result<Lookup> {
    let presented = token_hash(value);
    // `fetch_all`: run to completion, so SQLite's read snapshot ends (see
    // `find_by_token`).
    let rows = sqlx::query(
        "SELECT id_hash, staff_id, csrf_token, last_seen_at FROM dashboard_sessions \
         WHERE id_hash = $1",
    )
    .bind(&presented)
    .fetch_all(&db.pool)
    .await
    .context("looking up a dashboard session")?;
    let Some(row) = rows.into_iter().next() else {
        return Ok(Lookup::Unknown);
    };
    let stored: String = row.try_get("id_hash")?;
    if !hashes_match(&stored, &presented) {
        return Ok(Lookup::Unknown);
    }
    let last_seen: String = row.try_get("last_seen_at")?;
    let last_seen = DateTime::parse_from_rfc3339(&last_seen)
        .context("a dashboard session's last_seen_at")?
        .with_timezone(&Utc);
    if now - last_seen > idle_timeout {
        end(db, value).await?;
        return Ok(Lookup::Expired);
    }
    // Touch at most once a minute: a page's many requests need one write.
    if now - last_seen > Duration::minutes(1) {
        sqlx::query("UPDATE dashboard_sessions SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(time_text(now))
            .bind(&presented)
            .execute(&db.pool)
            .await
            .context("touching a dashboard session")?;
    }
    Ok(Lookup::Live(Session {
        staff_id: row.try_get("staff_id")?,
        csrf_token: row.try_get("csrf_token")?,
    }))
}

/// Signs a session out (nothing when there is none).
pub async fn end(db: &Db, value: &str) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM dashboard_sessions WHERE id_hash = $1")
        .bind(token_hash(value))
        .execute(&db.pool)
        .await
        .context("ending a dashboard session")?;
    Ok(())
}

/// Whether a presented CSRF token is the session's (constant time).
pub fn csrf_matches(session: &Session, presented: &str) -> bool {
    hashes_match(&token_hash(&session.csrf_token), &token_hash(presented))
}
