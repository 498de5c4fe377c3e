//! The access audit: every read of patient data and every staff action is
//! an entry (who, in which role, did what to which resource, for which
//! patient, with what outcome, when, from where). Entries are hash-chained
//! (`chain`): each stores the hash of the one before, so an edited,
//! deleted or reordered row shows when `frontdesk audit verify` walks the
//! chain. The staff API writes entries for its routes (`web::audit_trail`)
//! and shows them as FHIR AuditEvents (`GET /api/v1/audit`); the dashboard
//! writes its own through [`record`].
//!
//! Appends are serialised on the chain head, one row locked for the length
//! of the write transaction (`BEGIN IMMEDIATE` on SQLite, `FOR UPDATE` on
//! PostgreSQL), so concurrent requests and several instances on one
//! PostgreSQL database never fork the chain.

pub mod chain;

use anyhow::Context;
use serde::Serialize;
use sqlx::{Any, QueryBuilder, Row};

use crate::store::{Backend, Db, dynamic_sql, now_text};

pub use chain::{Broken, verify};

/// What was done: FHIR AuditEvent's `action` (C, R, U, D, E) comes from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Read one record (a task, a call's transcript, a recording, the audit).
    Read,
    /// Listed or searched records.
    Search,
    /// Made a record (a patient).
    Create,
    Claim,
    Release,
    Note,
    Reassign,
    Complete,
    /// Booked an appointment.
    Book,
    /// Cancelled an appointment.
    Cancel,
    /// Changed a record in place (a staff member's transfer availability).
    Update,
    /// Signed in (the dashboard's session).
    SignIn,
    /// Signed out (the dashboard's session).
    SignOut,
}

impl Action {
    pub const ALL: [Action; 13] = [
        Action::Read,
        Action::Search,
        Action::Create,
        Action::Claim,
        Action::Release,
        Action::Note,
        Action::Reassign,
        Action::Complete,
        Action::Book,
        Action::Cancel,
        Action::Update,
        Action::SignIn,
        Action::SignOut,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Search => "search",
            Action::Create => "create",
            Action::Claim => "claim",
            Action::Release => "release",
            Action::Note => "note",
            Action::Reassign => "reassign",
            Action::Complete => "complete",
            Action::Book => "book",
            Action::Cancel => "cancel",
            Action::Update => "update",
            Action::SignIn => "sign_in",
            Action::SignOut => "sign_out",
        }
    }

    pub fn parse(text: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

/// How it ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    /// Refused by the access rules (a 403): the attempt is the record.
    Denied,
    /// Allowed, but it did not happen (a task someone else holds, a slot
    /// already booked, bad input).
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Denied => "denied",
            Outcome::Failed => "failed",
        }
    }

    fn parse(text: &str) -> anyhow::Result<Outcome> {
        match text {
            "success" => Ok(Outcome::Success),
            "denied" => Ok(Outcome::Denied),
            "failed" => Ok(Outcome::Failed),
            other => anyhow::bail!("unknown audit outcome {other:?}"),
        }
    }
}

/// An entry to append. Ids only: never a name, a number or words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEntry {
    pub staff_id: String,
    /// The staff member's role as they acted (`receptionist`, …).
    pub role: String,
    pub action: Action,
    /// `Task`, `Call` (a transcript), `Recording`, `Patient`,
    /// `Appointment`, `AuditEvent`, `Session`, `Practitioner` (a staff
    /// member's own settings).
    pub resource_type: String,
    /// The resource's id; `None` for a listing or a search.
    pub resource_id: Option<String>,
    /// The patient whose data it is, when known.
    pub patient_id: Option<String>,
    pub outcome: Outcome,
    /// The client's address (see `web::client`).
    pub client: Option<String>,
}

/// An entry as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Its place in the chain, from 1.
    pub seq: i64,
    /// RFC 3339 UTC, milliseconds.
    pub recorded: String,
    pub staff_id: String,
    pub role: String,
    pub action: String,
    pub resource_type: String,
    pub resource_id: Option<String>,
    pub patient_id: Option<String>,
    pub outcome: Outcome,
    pub client: Option<String>,
    /// The hash of the entry before (zeros for the first).
    pub prev_hash: String,
    /// SHA-256 of `prev_hash` and this entry's canonical content.
    pub hash: String,
}

const COLUMNS: &str = "seq, recorded, staff_id, role, action, resource_type, resource_id, \
    patient_id, outcome, client, prev_hash, hash";

fn from_row(row: &sqlx::any::AnyRow) -> anyhow::Result<Entry> {
    let outcome: String = row.try_get("outcome")?;
    Ok(Entry {
        seq: row.try_get("seq")?,
        recorded: row.try_get("recorded")?,
        staff_id: row.try_get("staff_id")?,
        role: row.try_get("role")?,
        action: row.try_get("action")?,
        resource_type: row.try_get("resource_type")?,
        resource_id: row.try_get("resource_id")?,
        patient_id: row.try_get("patient_id")?,
        outcome: Outcome::parse(&outcome)?,
        client: row.try_get("client")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

/// Appends an entry to the chain and returns it. Safe with any number of
/// concurrent writers, in one process or several: the chain head is
/// locked until the entry is committed.
pub async fn record(db: &Db, new: &NewEntry) -> anyhow::Result<Entry> {
    let mut tx = db
        .begin_write()
        .await
        .context("opening the audit transaction")?;
    let head_sql = match db.backend {
        Backend::Sqlite => "SELECT seq, hash FROM audit_head WHERE id = 1",
        Backend::Postgres => "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE",
    };
    // `fetch_all`, not `fetch_one`: a SQLite statement left mid-way keeps
    // its connection on an old read snapshot after the commit (see
    // `staff::find_by_token`).
    let head = sqlx::query(head_sql)
        .fetch_all(&mut *tx)
        .await
        .context("reading the audit chain head")?
        .into_iter()
        .next()
        .context("the audit chain head row is missing")?;
    let prev_seq: i64 = head.try_get("seq")?;
    let prev_hash: String = head.try_get("hash")?;
    let mut entry = Entry {
        seq: prev_seq + 1,
        recorded: now_text(),
        staff_id: new.staff_id.clone(),
        role: new.role.clone(),
        action: new.action.as_str().to_string(),
        resource_type: new.resource_type.clone(),
        resource_id: new.resource_id.clone(),
        patient_id: new.patient_id.clone(),
        outcome: new.outcome,
        client: new.client.clone(),
        prev_hash,
        hash: String::new(),
    };
    entry.hash = chain::hash_of(&entry);
    sqlx::query(
        "INSERT INTO audit_log (seq, recorded, staff_id, role, action, resource_type, \
         resource_id, patient_id, outcome, client, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(entry.seq)
    .bind(&entry.recorded)
    .bind(&entry.staff_id)
    .bind(&entry.role)
    .bind(&entry.action)
    .bind(&entry.resource_type)
    .bind(&entry.resource_id)
    .bind(&entry.patient_id)
    .bind(entry.outcome.as_str())
    .bind(&entry.client)
    .bind(&entry.prev_hash)
    .bind(&entry.hash)
    .execute(&mut *tx)
    .await
    .context("appending an audit entry")?;
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(entry.seq)
        .bind(&entry.hash)
        .execute(&mut *tx)
        .await
        .context("moving the audit chain head")?;
    tx.commit().await.context("committing an audit entry")?;
    Ok(entry)
}

/// Which entries `GET /api/v1/audit` lists, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub staff_id: Option<String>,
    pub patient_id: Option<String>,
    /// A resource type (`Task`), or one resource (`Task/4f…`).
    pub resource: Option<String>,
    /// RFC 3339 UTC text, inclusive.
    pub since: Option<String>,
    /// RFC 3339 UTC text, exclusive.
    pub until: Option<String>,
    /// Only entries before this one (the previous page's last `seq`).
    pub before_seq: Option<i64>,
    pub limit: i64,
}

/// The entries the filter selects, newest first.
pub async fn list(db: &Db, filter: &AuditFilter) -> anyhow::Result<Vec<Entry>> {
    let mut sql = QueryBuilder::<Any>::new(format!("SELECT {COLUMNS} FROM audit_log WHERE 1 = 1"));
    if let Some(staff) = &filter.staff_id {
        sql.push(" AND staff_id = ").push_bind(staff.clone());
    }
    if let Some(patient) = &filter.patient_id {
        sql.push(" AND patient_id = ").push_bind(patient.clone());
    }
    if let Some(resource) = &filter.resource {
        match resource.split_once('/') {
            Some((kind, id)) => {
                sql.push(" AND resource_type = ")
                    .push_bind(kind.to_string());
                sql.push(" AND resource_id = ").push_bind(id.to_string());
            }
            None => {
                sql.push(" AND resource_type = ")
                    .push_bind(resource.clone());
            }
        }
    }
    if let Some(since) = &filter.since {
        sql.push(" AND recorded >= ").push_bind(since.clone());
    }
    if let Some(until) = &filter.until {
        sql.push(" AND recorded < ").push_bind(until.clone());
    }
    if let Some(before) = filter.before_seq {
        sql.push(" AND seq < ").push_bind(before);
    }
    sql.push(" ORDER BY seq DESC LIMIT ")
        .push_bind(filter.limit);
    let rows = dynamic_sql::numbered(sql)?
        .fetch_all(&db.pool)
        .await
        .context("listing audit entries")?;
    rows.iter().map(from_row).collect()
}

/// Entries in chain order from `after_seq` (exclusive), at most `limit`:
/// how `verify` walks the chain without holding it all in memory.
async fn page(db: &Db, after_seq: i64, limit: i64) -> anyhow::Result<Vec<Entry>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2"
    )))
    .bind(after_seq)
    .bind(limit)
    .fetch_all(&db.pool)
    .await
    .context("reading the audit chain")?;
    rows.iter().map(from_row).collect()
}

/// The chain head: the last entry's number and hash, as the writers left it.
async fn head(db: &Db) -> anyhow::Result<(i64, String)> {
    let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_all(&db.pool)
        .await
        .context("reading the audit chain head")?
        .into_iter()
        .next()
        .context("the audit chain head row is missing")?;
    Ok((row.try_get("seq")?, row.try_get("hash")?))
}
