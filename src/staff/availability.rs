//! Who takes warm transfers now: a staff member marks themselves available
//! with the phone to ring (`PUT /api/v1/staff/me/availability`, or the
//! dashboard's form, both through [`set`]). During open hours the front
//! desk rings one of them instead of taking a message ([`on_duty`]); with
//! nobody available the caller gets a callback task, as after hours.

use anyhow::Context;
use serde::Serialize;
use sqlx::Row;

use crate::store::{Db, now_text};

/// One staff member's transfer setting, as the staff API shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Availability {
    pub available: bool,
    /// The phone rung for a transfer (E.164); kept while unavailable.
    pub phone: Option<String>,
    /// When they last became available.
    pub since: Option<String>,
}

/// A staff member who can take a transfer right now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnDuty {
    pub staff_id: String,
    pub name: String,
    /// E.164, e.g. `+15555550199`.
    pub phone: String,
}

/// Why a setting was refused; the message names the field, never its value.
#[derive(Debug, thiserror::Error)]
pub enum AvailabilityError {
    #[error(
        "phone must be a phone number in international form, e.g. +15555550199 (or 10 US digits)"
    )]
    BadPhone,
    #[error("a phone number is needed to become available")]
    NoPhone,
    #[error(transparent)]
    Db(#[from] anyhow::Error),
}

/// A phone number as Twilio dials it: `+` and 8 to 15 digits. Spaces,
/// dots, dashes and brackets are dropped; ten digits are a US number.
pub fn normalise_phone(text: &str) -> Option<String> {
    let kept: String = text
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
        .collect();
    let (plus, digits) = match kept.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, kept.as_str()),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    match (plus, digits.len()) {
        (true, 8..=15) if !digits.starts_with('0') => Some(format!("+{digits}")),
        (false, 10) if !digits.starts_with(['0', '1']) => Some(format!("+1{digits}")),
        (false, 11) if digits.starts_with('1') => Some(format!("+{digits}")),
        _ => None,
    }
}

/// A staff member's setting (not available, no phone, when never set).
pub async fn get(db: &Db, staff_id: &str) -> anyhow::Result<Availability> {
    let row =
        sqlx::query("SELECT phone, available_since FROM staff_availability WHERE staff_id = $1")
            .bind(staff_id)
            .fetch_optional(&db.pool)
            .await
            .context("reading a staff member's availability")?;
    let Some(row) = row else {
        return Ok(Availability {
            available: false,
            phone: None,
            since: None,
        });
    };
    let since: Option<String> = row.try_get("available_since")?;
    Ok(Availability {
        available: since.is_some(),
        phone: Some(row.try_get("phone")?),
        since,
    })
}

/// Marks a staff member available (ringing `phone`, or the number they
/// gave before) or not. What the staff API and the dashboard call.
pub async fn set(
    db: &Db,
    staff_id: &str,
    available: bool,
    phone: Option<&str>,
) -> Result<Availability, AvailabilityError> {
    let phone = match phone {
        Some(p) => Some(normalise_phone(p).ok_or(AvailabilityError::BadPhone)?),
        None => get(db, staff_id).await?.phone,
    };
    let Some(phone) = phone else {
        if !available {
            // Never set, and not available: nothing to keep.
            return get(db, staff_id).await.map_err(Into::into);
        }
        return Err(AvailabilityError::NoPhone);
    };
    let now = now_text();
    // Becoming available again keeps the original `since`.
    sqlx::query(
        "INSERT INTO staff_availability (staff_id, phone, available_since, updated_at) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (staff_id) DO UPDATE SET phone = excluded.phone, updated_at = excluded.updated_at, \
         available_since = CASE WHEN excluded.available_since IS NULL THEN NULL \
             ELSE COALESCE(staff_availability.available_since, excluded.available_since) END",
    )
    .bind(staff_id)
    .bind(&phone)
    .bind(available.then(|| now.clone()))
    .bind(&now)
    .execute(&db.pool)
    .await
    .context("saving a staff member's availability")?;
    tracing::info!(staff_id, available, "transfer availability set");
    get(db, staff_id).await.map_err(Into::into)
}

/// Who to ring for a transfer now: an active staff member marked
/// available who is not already on a transfer (holding a `warm_transfer`
/// task), the one rung least recently first. `None`: nobody.
pub async fn on_duty(db: &Db) -> anyhow::Result<Option<OnDuty>> {
    let rows = sqlx::query(
        "SELECT a.staff_id, s.name, a.phone FROM staff_availability a \
         JOIN staff s ON s.id = a.staff_id \
         WHERE a.available_since IS NOT NULL AND s.revoked_at IS NULL \
         AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.claimed_by = a.staff_id \
             AND t.kind = 'warm_transfer' AND t.status = 'claimed') \
         ORDER BY COALESCE(a.last_rung_at, ''), a.available_since, a.staff_id LIMIT 1",
    )
    // Run to completion: no SQLite read snapshot left open (see `find_by_token`).
    .fetch_all(&db.pool)
    .await
    .context("finding staff available for a transfer")?;
    rows.into_iter()
        .next()
        .map(|r| -> anyhow::Result<OnDuty> {
            Ok(OnDuty {
                staff_id: r.try_get("staff_id")?,
                name: r.try_get("name")?,
                phone: r.try_get("phone")?,
            })
        })
        .transpose()
}

/// Notes that a staff member is being rung, so the next transfer goes to
/// someone else first.
pub async fn mark_rung(db: &Db, staff_id: &str) -> anyhow::Result<()> {
    sqlx::query("UPDATE staff_availability SET last_rung_at = $1 WHERE staff_id = $2")
        .bind(now_text())
        .bind(staff_id)
        .execute(&db.pool)
        .await
        .context("noting a transfer ring")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::normalise_phone;

    #[test]
    fn phones_are_read_into_e164() {
        for (given, expected) in [
            ("+15555550199", Some("+15555550199")),
            ("+1 (555) 555-0199", Some("+15555550199")),
            ("555.555.0199", Some("+15555550199")),
            ("15555550199", Some("+15555550199")),
            ("+442071838750", Some("+442071838750")),
            ("0555550199", None),
            ("+0123456789", None),
            ("+1234567", None),
            ("+1234567890123456", None),
            ("+1555555019x", None),
            ("", None),
            ("+", None),
        ] {
            assert_eq!(normalise_phone(given).as_deref(), expected, "{given:?}");
        }
    }
}
