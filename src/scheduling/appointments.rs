//! Appointments: listing, booking, cancelling, rescheduling. Every write is
//! one transaction, so nothing half-written is ever left behind.

use anyhow::Context;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{Any, QueryBuilder, Row};

use super::patients::Patient;
use super::slots::{Busy, candidate_starts, providers_for};
use super::{db_time, parse_db_time};
use crate::clinic::Clinic;
use crate::store::{Db, dynamic_sql, new_id, now_text};

/// Size of the cells each booking claims in `slot_claims`.
pub const CLAIM_CELL_MINUTES: i64 = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    PhoneAgent,
    Staff,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::PhoneAgent => "phone_agent",
            Source::Staff => "staff",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Appointment {
    pub id: String,
    pub patient: Patient,
    pub provider_id: String,
    pub provider_name: String,
    pub type_id: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// `booked` or `cancelled`.
    pub status: String,
    pub source: String,
    pub call_id: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct AppointmentFilter {
    /// Local date of the start.
    pub date: Option<NaiveDate>,
    pub provider_id: Option<String>,
    pub patient_id: Option<String>,
    pub status: Option<String>,
    pub call_id: Option<String>,
    /// Only appointments starting at or after this instant.
    pub starting_after: Option<DateTime<Utc>>,
    pub limit: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct BookRequest {
    pub patient_id: String,
    pub provider_id: String,
    pub type_id: String,
    pub start: DateTime<Utc>,
    pub source: Source,
    pub call_id: Option<String>,
    /// Refuse when the patient already has a booked appointment that day.
    pub one_per_day: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum BookError {
    #[error(transparent)]
    Slot(#[from] super::slots::SlotError),
    #[error("no such patient")]
    UnknownPatient,
    #[error("that time is not a bookable slot for this provider and appointment type")]
    NotASlot,
    #[error("that time is in the past or too soon to book")]
    InPast,
    #[error("that slot is already booked")]
    SlotTaken,
    #[error("the patient already has an appointment that day")]
    SameDay { existing: Box<Appointment> },
    #[error("no such appointment")]
    NotFound,
    #[error("the appointment is not booked (already cancelled)")]
    NotBooked,
    #[error(transparent)]
    Db(#[from] anyhow::Error),
}

impl From<sqlx::Error> for BookError {
    fn from(e: sqlx::Error) -> Self {
        if is_unique_violation(&e) {
            BookError::SlotTaken
        } else {
            BookError::Db(anyhow::Error::new(e).context("appointment transaction"))
        }
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            d.is_unique_violation()
                // Some drivers only report the message through `Any`.
                || d.message().contains("UNIQUE constraint failed")
                || d.message().contains("duplicate key value")
        }
        _ => false,
    }
}

const SELECT: &str = "SELECT a.id, a.patient_id, a.provider_id, a.type_id, a.start_at, a.end_at, \
    a.status, a.source, a.call_id, p.name AS patient_name, p.date_of_birth, p.phone, \
    pr.name AS provider_name \
    FROM appointments a JOIN patients p ON p.id = a.patient_id \
    JOIN providers pr ON pr.id = a.provider_id";

fn from_row(row: &sqlx::any::AnyRow) -> anyhow::Result<Appointment> {
    let dob: String = row.try_get("date_of_birth")?;
    Ok(Appointment {
        id: row.try_get("id")?,
        patient: Patient {
            id: row.try_get("patient_id")?,
            name: row.try_get("patient_name")?,
            date_of_birth: NaiveDate::parse_from_str(&dob, "%Y-%m-%d")
                .with_context(|| format!("stored date of birth {dob:?}"))?,
            phone: row.try_get("phone")?,
        },
        provider_id: row.try_get("provider_id")?,
        provider_name: row.try_get("provider_name")?,
        type_id: row.try_get("type_id")?,
        start: parse_db_time(&row.try_get::<String, _>("start_at")?)?,
        end: parse_db_time(&row.try_get::<String, _>("end_at")?)?,
        status: row.try_get("status")?,
        source: row.try_get("source")?,
        call_id: row.try_get("call_id")?,
    })
}

/// The UTC bounds of a local date.
pub fn local_day_bounds(clinic: &Clinic, date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = clinic
        .to_utc(date.and_time(chrono::NaiveTime::MIN))
        .unwrap_or_else(|| date.and_time(chrono::NaiveTime::MIN).and_utc());
    let next = date.succ_opt().unwrap_or(date);
    let end = clinic
        .to_utc(next.and_time(chrono::NaiveTime::MIN))
        .unwrap_or(start + Duration::days(1));
    (start, end)
}

pub async fn list(
    db: &Db,
    clinic: &Clinic,
    filter: &AppointmentFilter,
) -> anyhow::Result<Vec<Appointment>> {
    let mut sql = QueryBuilder::<Any>::new(format!("{SELECT} WHERE "));
    let mut conditions = sql.separated(" AND ");
    conditions.push("1 = 1"); // a valid WHERE when no filter is given
    if let Some(d) = filter.date {
        let (s, e) = local_day_bounds(clinic, d);
        conditions
            .push("a.start_at >= ")
            .push_bind_unseparated(db_time(s));
        conditions
            .push("a.start_at < ")
            .push_bind_unseparated(db_time(e));
    }
    if let Some(v) = &filter.provider_id {
        conditions
            .push("a.provider_id = ")
            .push_bind_unseparated(v.clone());
    }
    if let Some(v) = &filter.patient_id {
        conditions
            .push("a.patient_id = ")
            .push_bind_unseparated(v.clone());
    }
    if let Some(v) = &filter.status {
        conditions
            .push("a.status = ")
            .push_bind_unseparated(v.clone());
    }
    if let Some(v) = &filter.call_id {
        conditions
            .push("a.call_id = ")
            .push_bind_unseparated(v.clone());
    }
    if let Some(t) = filter.starting_after {
        conditions
            .push("a.start_at >= ")
            .push_bind_unseparated(db_time(t));
    }
    sql.push(" ORDER BY a.start_at, a.provider_id LIMIT ")
        .push_bind(filter.limit.unwrap_or(500).clamp(1, 5000));
    let rows = dynamic_sql::numbered(sql)?
        .fetch_all(&db.pool)
        .await
        .context("listing appointments")?;
    rows.iter().map(from_row).collect()
}

pub async fn get(db: &Db, id: &str) -> anyhow::Result<Option<Appointment>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE a.id = $1")))
        .bind(id)
        .fetch_optional(&db.pool)
        .await
        .context("loading an appointment")?;
    row.as_ref().map(from_row).transpose()
}

/// Booked time between two instants, for slot computation.
pub async fn busy_between(
    db: &Db,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> anyhow::Result<Vec<Busy>> {
    let rows = sqlx::query(
        "SELECT provider_id, start_at, end_at FROM appointments \
         WHERE status = 'booked' AND start_at < $1 AND end_at > $2",
    )
    .bind(db_time(to))
    .bind(db_time(from))
    .fetch_all(&db.pool)
    .await
    .context("loading booked time")?;
    rows.iter()
        .map(|r| {
            Ok(Busy {
                provider_id: r.try_get("provider_id")?,
                start: parse_db_time(&r.try_get::<String, _>("start_at")?)?,
                end: parse_db_time(&r.try_get::<String, _>("end_at")?)?,
            })
        })
        .collect()
}

/// Open slots for a query, reading bookings from the database.
pub async fn find_slots(
    db: &Db,
    clinic: &Clinic,
    query: &super::SlotQuery,
    now: DateTime<Utc>,
) -> Result<Vec<super::Slot>, BookError> {
    providers_for(clinic, &query.type_id, query.provider_id.as_deref())?;
    let (from, _) = local_day_bounds(clinic, query.from);
    let (_, to) = local_day_bounds(clinic, query.to);
    let busy = busy_between(db, from, to).await?;
    Ok(super::open_slots(clinic, query, &busy, now)?)
}

/// Checks that `start` is one of the provider's bookable starts.
fn validate_slot(
    clinic: &Clinic,
    req: &BookRequest,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, BookError> {
    let (kind, _) = providers_for(clinic, &req.type_id, Some(&req.provider_id))?;
    let provider = clinic
        .provider(&req.provider_id)
        .ok_or(BookError::NotASlot)?;
    if req.start <= now {
        return Err(BookError::InPast);
    }
    let local = clinic.local(req.start);
    if !candidate_starts(clinic, provider, kind, local.date()).contains(&local.time()) {
        return Err(BookError::NotASlot);
    }
    Ok(req.start + Duration::minutes(i64::from(kind.minutes)))
}

async fn insert_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    clinic: &Clinic,
    req: &BookRequest,
    end: DateTime<Utc>,
) -> Result<String, BookError> {
    let patient_exists = sqlx::query("SELECT id FROM patients WHERE id = $1")
        .bind(&req.patient_id)
        .fetch_optional(&mut **tx)
        .await?;
    if patient_exists.is_none() {
        return Err(BookError::UnknownPatient);
    }
    if req.one_per_day {
        let (s, e) = local_day_bounds(clinic, clinic.local(req.start).date());
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE a.patient_id = $1 AND a.status = 'booked' \
             AND a.start_at >= $2 AND a.start_at < $3 ORDER BY a.start_at LIMIT 1"
        )))
        .bind(&req.patient_id)
        .bind(db_time(s))
        .bind(db_time(e))
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(row) = row {
            return Err(BookError::SameDay {
                existing: Box::new(from_row(&row)?),
            });
        }
    }
    let id = new_id();
    sqlx::query(
        "INSERT INTO appointments (id, patient_id, provider_id, type_id, start_at, end_at, \
         status, source, call_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'booked', $7, $8, $9)",
    )
    .bind(&id)
    .bind(&req.patient_id)
    .bind(&req.provider_id)
    .bind(&req.type_id)
    .bind(db_time(req.start))
    .bind(db_time(end))
    .bind(req.source.as_str())
    .bind(&req.call_id)
    .bind(now_text())
    .execute(&mut **tx)
    .await?;
    let mut cell = req.start;
    while cell < end {
        sqlx::query(
            "INSERT INTO slot_claims (provider_id, cell_start, appointment_id) VALUES ($1, $2, $3)",
        )
        .bind(&req.provider_id)
        .bind(db_time(cell))
        .bind(&id)
        .execute(&mut **tx)
        .await?;
        cell += Duration::minutes(CLAIM_CELL_MINUTES);
    }
    Ok(id)
}

/// Books one slot. `SlotTaken` when any part of it is held, even by a
/// booking committed a moment ago in another call.
pub async fn book(
    db: &Db,
    clinic: &Clinic,
    req: &BookRequest,
    now: DateTime<Utc>,
) -> Result<Appointment, BookError> {
    let end = validate_slot(clinic, req, now)?;
    let mut tx = db.begin_write().await?;
    let id = insert_in(&mut tx, clinic, req, end).await?;
    tx.commit().await?;
    tracing::info!(appointment_id = %id, provider_id = %req.provider_id, "appointment booked");
    get(db, &id).await?.ok_or(BookError::NotFound)
}

async fn cancel_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    id: &str,
) -> Result<(), BookError> {
    let status: Option<String> =
        sqlx::query_scalar("SELECT status FROM appointments WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
    match status.as_deref() {
        None => return Err(BookError::NotFound),
        Some("booked") => {}
        Some(_) => return Err(BookError::NotBooked),
    }
    sqlx::query("UPDATE appointments SET status = 'cancelled', cancelled_at = $1 WHERE id = $2")
        .bind(now_text())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM slot_claims WHERE appointment_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn cancel(db: &Db, id: &str) -> Result<Appointment, BookError> {
    let mut tx = db.begin_write().await?;
    cancel_in(&mut tx, id).await?;
    tx.commit().await?;
    tracing::info!(appointment_id = %id, "appointment cancelled");
    get(db, id).await?.ok_or(BookError::NotFound)
}

/// Moves an appointment: cancels the old one and books the new slot in one
/// transaction (either both happen or neither).
pub async fn reschedule(
    db: &Db,
    clinic: &Clinic,
    old_id: &str,
    new: &BookRequest,
    now: DateTime<Utc>,
) -> Result<Appointment, BookError> {
    let end = validate_slot(clinic, new, now)?;
    let mut tx = db.begin_write().await?;
    cancel_in(&mut tx, old_id).await?;
    let id = insert_in(&mut tx, clinic, new, end).await?;
    tx.commit().await?;
    tracing::info!(old_appointment_id = %old_id, appointment_id = %id, "appointment rescheduled");
    get(db, &id).await?.ok_or(BookError::NotFound)
}
