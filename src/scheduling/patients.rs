//! Patients: identity is name plus date of birth.

use anyhow::Context;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::{Any, QueryBuilder, Row};

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

/// Whether a name heard on the phone is a record's name, allowing for how
/// speech recognition gets names slightly wrong ("Marie Gonzales" for
/// "Maria Gonzalez"): first and last name each close, the whole very close.
/// Only ever used together with an exact date of birth.
pub fn names_match(heard: &str, stored: &str) -> bool {
    let (a, b) = (name_key(heard), name_key(stored));
    if a == b {
        return true;
    }
    let (aw, bw): (Vec<&str>, Vec<&str>) = (a.split(' ').collect(), b.split(' ').collect());
    let (Some((af, _)), Some((bf, _))) = (aw.split_first(), bw.split_first()) else {
        return false;
    };
    let (Some(al), Some(bl)) = (aw.last(), bw.last()) else {
        return false;
    };
    if aw.len() < 2 || bw.len() < 2 || af.chars().next() != bf.chars().next() {
        return false;
    }
    strsim::jaro_winkler(&a, &b) >= 0.92
        && strsim::jaro_winkler(af, bf) >= 0.88
        && strsim::jaro_winkler(al, bl) >= 0.88
}

/// The patient whose name and date of birth both match, if any: the exact
/// name, else the one record with that date of birth whose name
/// [`names_match`] (none when two would).
pub async fn find_by_identity(
    db: &Db,
    name: &str,
    date_of_birth: NaiveDate,
) -> anyhow::Result<Option<Patient>> {
    let rows = sqlx::query(
        "SELECT id, name, date_of_birth, phone, name_key FROM patients \
         WHERE date_of_birth = $1 ORDER BY created_at LIMIT 50",
    )
    .bind(date_of_birth.to_string())
    .fetch_all(&db.pool)
    .await
    .context("looking up a patient")?;
    let key = name_key(name);
    let mut exact = None;
    let mut close = Vec::new();
    for row in &rows {
        let stored: String = row.try_get("name_key")?;
        if stored == key {
            exact = Some(row);
            break;
        }
        if names_match(&key, &stored) {
            close.push(row);
        }
    }
    match (exact, close.as_slice()) {
        (Some(row), _) | (None, &[row]) => Ok(Some(from_row(row)?)),
        _ => Ok(None),
    }
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

/// Validates and inserts a patient. `today` is the clinic's local date.
pub async fn create(db: &Db, new: &NewPatient, today: NaiveDate) -> Result<Patient, PatientError> {
    let name = new.name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name_key(&name).is_empty() {
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
    let patient = Patient {
        id: new_id(),
        name,
        date_of_birth: new.date_of_birth,
        phone,
    };
    sqlx::query(
        "INSERT INTO patients (id, name, name_key, date_of_birth, phone, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&patient.id)
    .bind(&patient.name)
    .bind(name_key(&patient.name))
    .bind(patient.date_of_birth.to_string())
    .bind(&patient.phone)
    .bind(now_text())
    .execute(&db.pool)
    .await
    .context("inserting a patient")?;
    tracing::info!(patient_id = %patient.id, "patient registered");
    Ok(patient)
}

/// The matching patient, or a new registration. The caller hears the same
/// words either way, so nobody can probe who is a patient.
pub async fn find_or_register(
    db: &Db,
    new: &NewPatient,
    today: NaiveDate,
) -> Result<(Patient, bool), PatientError> {
    if let Some(p) = find_by_identity(db, &new.name, new.date_of_birth).await? {
        return Ok((p, false));
    }
    Ok((create(db, new, today).await?, true))
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

    #[test]
    fn names_heard_slightly_wrong_still_match() {
        assert!(names_match("Marie Gonzalez", "Maria Gonzalez"));
        assert!(names_match("maria gonzales", "Maria Gonzalez"));
        assert!(names_match("Maria Gonzalez.", "Maria Gonzalez"));
        assert!(!names_match("Mark Gonzalez", "Maria Gonzalez"));
        assert!(!names_match("Maria Lopez", "Maria Gonzalez"));
        assert!(!names_match("for Reakin Solis", "Maria Gonzalez"));
        assert!(!names_match("Gonzalez", "Maria Gonzalez"));
        assert!(!names_match("Tom Lee", "Tim Lee"));
    }
}
