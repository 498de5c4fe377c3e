//! Patients: identity is name plus date of birth, matched strictly
//! ([`super::identity`]); one record per person (a unique identity key).

use anyhow::Context;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::{Any, QueryBuilder, Row};

use super::identity::{self, Match, SecondFactor};
use crate::store::{Db, dynamic_sql, new_id, now_text};

/// A US phone number as ten digits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Accepts any punctuation and a leading `+1`/`1`.
    pub fn parse(raw: &str) -> Option<PhoneNumber> {
        let digits: String = raw.chars().filter(|c| c.is_ascii_digit()).collect();
        let digits = match digits.len() {
            11 if digits.starts_with('1') => digits[1..].to_string(),
            10 => digits,
            _ => return None,
        };
        Some(PhoneNumber(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn last_four(&self) -> &str {
        &self.0[6..]
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        PhoneNumber::parse(&s).ok_or_else(|| "not a 10-digit phone number".to_string())
    }
}

impl From<PhoneNumber> for String {
    fn from(p: PhoneNumber) -> String {
        p.0
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Patient {
    pub id: String,
    pub name: String,
    pub date_of_birth: NaiveDate,
    pub phone: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct NewPatient {
    pub name: String,
    pub date_of_birth: NaiveDate,
    pub phone: Option<String>,
}

/// Messages name what is wrong, never the value: they reach logs.
#[derive(Debug, thiserror::Error)]
pub enum PatientError {
    #[error("a patient needs a name")]
    EmptyName,
    #[error("the date of birth is in the future")]
    FutureBirth(NaiveDate),
    #[error("the date of birth is implausibly early (before 1900)")]
    AncientBirth(NaiveDate),
    #[error("the phone number does not have 10 digits")]
    Phone(String),
    #[error(transparent)]
    Db(#[from] anyhow::Error),
}

/// Lower-case, single-spaced, punctuation-free: "Maria  Gonzalez." → "maria gonzalez".
pub fn name_key(name: &str) -> String {
    name.split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric() || *c == '-' || *c == '\'')
                .flat_map(char::to_lowercase)
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn from_row(row: &sqlx::any::AnyRow) -> anyhow::Result<Patient> {
    let dob: String = row.try_get("date_of_birth")?;
    Ok(Patient {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        date_of_birth: NaiveDate::parse_from_str(&dob, "%Y-%m-%d")
            .context("a stored date of birth is not a date")?,
        phone: row.try_get("phone")?,
    })
}

const COLUMNS: &str = "id, name, date_of_birth, phone";

pub async fn get(db: &Db, id: &str) -> anyhow::Result<Option<Patient>> {
    let row = sqlx::query("SELECT id, name, date_of_birth, phone FROM patients WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await
        .context("loading a patient")?;
    row.as_ref().map(from_row).transpose()
}

/// A record that could be the caller, with what a second factor is
/// checked against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub patient: Patient,
    pub zip: Option<String>,
}

/// What a phone registration found: the caller's record, a new one, or
/// records that only a second factor can tell apart (nothing written).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Registration {
    Existing(Patient),
    Created(Patient),
    NeedsSecondFactor,
}

/// The records born that day, oldest first, with their ZIP codes.
async fn born_on<'e, E>(executor: E, date_of_birth: NaiveDate) -> anyhow::Result<Vec<Candidate>>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    let rows = sqlx::query(
        "SELECT id, name, date_of_birth, phone, zip FROM patients \
         WHERE date_of_birth = $1 ORDER BY created_at, id LIMIT 200",
    )
    .bind(date_of_birth.to_string())
    .fetch_all(executor)
    .await
    .context("looking up a patient")?;
    rows.iter()
        .map(|row| {
            Ok(Candidate {
                patient: from_row(row)?,
                zip: row.try_get("zip")?,
            })
        })
        .collect()
}

/// The strict match of a name and date of birth ([`identity::find`]).
pub async fn match_identity(
    db: &Db,
    name: &str,
    date_of_birth: NaiveDate,
) -> anyhow::Result<Match<Candidate>> {
    let records = born_on(&db.pool, date_of_birth).await?;
    Ok(identity::find(name, &records, |c| &c.patient.name))
}

/// The patient whose name and date of birth match exactly, if any (a weak
/// or ambiguous match is none: it needs a second factor).
pub async fn find_by_identity(
    db: &Db,
    name: &str,
    date_of_birth: NaiveDate,
) -> anyhow::Result<Option<Patient>> {
    Ok(match match_identity(db, name, date_of_birth).await? {
        Match::Exact(c) => Some(c.patient),
        _ => None,
    })
}

/// The one record among those the name could be whose phone number or ZIP
/// code is `factor`; `None` when none is, or more than one.
pub async fn verify_second_factor(
    db: &Db,
    name: &str,
    date_of_birth: NaiveDate,
    factor: &SecondFactor,
) -> anyhow::Result<Option<Patient>> {
    let candidates = match match_identity(db, name, date_of_birth).await? {
        Match::Exact(c) => vec![c],
        Match::NeedsSecondFactor(list) => list,
        Match::None => return Ok(None),
    };
    let mut fits: Vec<Candidate> = candidates
        .into_iter()
        .filter(|c| factor.matches(c.patient.phone.as_deref(), c.zip.as_deref()))
        .collect();
    Ok(match fits.len() {
        1 => Some(fits.remove(0).patient),
        _ => None,
    })
}

/// Sets a patient's ZIP code (a second factor for identity), or clears it.
pub async fn set_zip(db: &Db, id: &str, zip: Option<&str>) -> anyhow::Result<()> {
    let zip = zip.map(identity::fold).filter(|z| !z.is_empty());
    sqlx::query("UPDATE patients SET zip = $1 WHERE id = $2")
        .bind(zip)
        .bind(id)
        .execute(&db.pool)
        .await
        .context("setting a ZIP code")?;
    Ok(())
}

/// Staff search: any combination of a name fragment, date of birth, phone.
pub async fn search(
    db: &Db,
    name: Option<&str>,
    date_of_birth: Option<NaiveDate>,
    phone: Option<&PhoneNumber>,
    limit: i64,
) -> anyhow::Result<Vec<Patient>> {
    let mut sql = QueryBuilder::<Any>::new(format!("SELECT {COLUMNS} FROM patients WHERE "));
    let mut conditions = sql.separated(" AND ");
    conditions.push("1 = 1"); // a valid WHERE when no filter is given
    if let Some(n) = name.map(name_key).filter(|n| !n.is_empty()) {
        conditions
            .push("name_key LIKE ")
            .push_bind_unseparated(format!("%{}%", n.replace(['%', '_'], "")));
    }
    if let Some(d) = date_of_birth {
        conditions
            .push("date_of_birth = ")
            .push_bind_unseparated(d.to_string());
    }
    if let Some(p) = phone {
        conditions
            .push("phone = ")
            .push_bind_unseparated(p.as_str().to_string());
    }
    sql.push(" ORDER BY name_key, date_of_birth LIMIT ")
        .push_bind(limit.clamp(1, 500));
    let rows = dynamic_sql::numbered(sql)?
        .fetch_all(&db.pool)
        .await
        .context("searching patients")?;
    rows.iter().map(from_row).collect()
}

/// A validated new patient, not yet written.
fn validated(new: &NewPatient, today: NaiveDate) -> Result<Patient, PatientError> {
    let name = new.name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name_key(&name).is_empty() || identity::fold(&name).is_empty() {
        return Err(PatientError::EmptyName);
    }
    if new.date_of_birth > today {
        return Err(PatientError::FutureBirth(new.date_of_birth));
    }
    if new.date_of_birth < NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid") {
        return Err(PatientError::AncientBirth(new.date_of_birth));
    }
    let phone = match &new.phone {
        Some(p) if !p.trim().is_empty() => Some(
            PhoneNumber::parse(p)
                .ok_or_else(|| PatientError::Phone(p.clone()))?
                .0,
        ),
        _ => None,
    };
    Ok(Patient {
        id: new_id(),
        name,
        date_of_birth: new.date_of_birth,
        phone,
    })
}

/// Inserts `patient` unless a record has its identity key, inside `tx`;
/// the record with that key, and whether it is this new one. The unique
/// key makes simultaneous registrations of one person leave one row on
/// SQLite and PostgreSQL alike.
async fn insert_once(
    tx: &mut sqlx::Transaction<'static, Any>,
    patient: &Patient,
) -> anyhow::Result<(Patient, bool)> {
    let key = identity::identity_key(&patient.name, patient.date_of_birth);
    let inserted = sqlx::query(
        "INSERT INTO patients (id, name, name_key, identity_key, date_of_birth, phone, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (identity_key) DO NOTHING",
    )
    .bind(&patient.id)
    .bind(&patient.name)
    .bind(name_key(&patient.name))
    .bind(&key)
    .bind(patient.date_of_birth.to_string())
    .bind(&patient.phone)
    .bind(now_text())
    .execute(&mut **tx)
    .await
    .context("inserting a patient")?
    .rows_affected()
        == 1;
    let row =
        sqlx::query("SELECT id, name, date_of_birth, phone FROM patients WHERE identity_key = $1")
            .bind(&key)
            .fetch_one(&mut **tx)
            .await
            .context("reading the registered patient")?;
    Ok((from_row(&row)?, inserted))
}

/// Validates and registers a patient: the existing record when one has the
/// same identity key (name in its normal spelling, date of birth), else a
/// new one; `true` when it is new. `today` is the clinic's local date.
pub async fn register(
    db: &Db,
    new: &NewPatient,
    today: NaiveDate,
) -> Result<(Patient, bool), PatientError> {
    let patient = validated(new, today)?;
    let mut tx = db.begin_write().await.context("starting a registration")?;
    let (stored, created) = insert_once(&mut tx, &patient).await?;
    tx.commit().await.context("committing a registration")?;
    if created {
        tracing::info!(patient_id = %stored.id, "patient registered");
    }
    Ok((stored, created))
}

/// As [`register`], the record alone.
pub async fn create(db: &Db, new: &NewPatient, today: NaiveDate) -> Result<Patient, PatientError> {
    Ok(register(db, new, today).await?.0)
}

/// For the phone, in one transaction: the caller's record when the name
/// and date of birth match one exactly; nothing (a second factor is
/// needed) when the match is weak or ambiguous; else a new registration.
/// The caller hears the same words whether the record was found or made,
/// so nobody can probe who is a patient.
pub async fn find_or_register(
    db: &Db,
    new: &NewPatient,
    today: NaiveDate,
) -> Result<Registration, PatientError> {
    let patient = validated(new, today)?;
    let mut tx = db.begin_write().await.context("starting a registration")?;
    let records = born_on(&mut *tx, patient.date_of_birth).await?;
    let found = identity::find(&patient.name, &records, |c| &c.patient.name);
    let result = match found {
        Match::Exact(c) => Registration::Existing(c.patient),
        Match::NeedsSecondFactor(_) => Registration::NeedsSecondFactor,
        Match::None => match insert_once(&mut tx, &patient).await? {
            (p, true) => Registration::Created(p),
            (p, false) => Registration::Existing(p),
        },
    };
    tx.commit().await.context("committing a registration")?;
    if let Registration::Created(p) = &result {
        tracing::info!(patient_id = %p.id, "patient registered");
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_and_name_keys_normalise() {
        assert_eq!(
            PhoneNumber::parse("+1 (555) 123-4567").unwrap().as_str(),
            "5551234567"
        );
        assert_eq!(PhoneNumber::parse("555-1234"), None);
        assert_eq!(name_key("  Maria   Gonzalez. "), "maria gonzalez");
        assert_eq!(name_key("O'Brien-Smith"), "o'brien-smith");
    }
}
