//! Providers, patients, open slots and appointments. A slot is never booked
//! twice: every booking claims its five-minute cells in `slot_claims`
//! (primary key per provider and cell) inside one transaction.

pub mod appointments;
pub mod bench;
pub mod identity;
pub mod patients;
pub mod slots;

pub use appointments::{Appointment, AppointmentFilter, BookError, BookRequest, Source};
pub use identity::{Match, SecondFactor};
pub use patients::{NewPatient, Patient, PatientError, PhoneNumber, Registration};
pub use slots::{Busy, Slot, SlotError, SlotQuery, open_slots};

use anyhow::Context;
use chrono::{DateTime, SecondsFormat, Utc};

use crate::clinic::Clinic;
use crate::store::Db;

/// How times are stored: RFC 3339 UTC to the second, so text order is time order.
pub fn db_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn parse_db_time(s: &str) -> anyhow::Result<DateTime<Utc>> {
    Ok(DateTime::parse_from_rfc3339(s)
        .with_context(|| format!("stored time {s:?} is not RFC 3339"))?
        .with_timezone(&Utc))
}

/// How the API shows times: RFC 3339 with the clinic's offset.
pub fn api_time(clinic: &Clinic, t: DateTime<Utc>) -> String {
    t.with_timezone(&clinic.timezone)
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Writes the configured providers and appointment types into the database
/// (insert or update), so appointments can reference them.
pub async fn sync_catalog(db: &Db, clinic: &Clinic) -> anyhow::Result<()> {
    for p in &clinic.providers {
        sqlx::query(
            "INSERT INTO providers (id, name, title) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, title = excluded.title",
        )
        .bind(&p.id)
        .bind(&p.name)
        .bind(&p.title)
        .execute(&db.pool)
        .await
        .context("syncing providers")?;
    }
    for t in &clinic.appointment_types {
        sqlx::query(
            "INSERT INTO appointment_types (id, name, minutes) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, minutes = excluded.minutes",
        )
        .bind(&t.id)
        .bind(&t.name)
        .bind(i64::from(t.minutes))
        .execute(&db.pool)
        .await
        .context("syncing appointment types")?;
    }
    Ok(())
}
