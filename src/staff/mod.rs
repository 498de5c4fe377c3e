//! Staff accounts: who may use the staff API, and in which role. A member's
//! bearer token is shown once, when the account is made (`frontdesk staff
//! add`); the database keeps only its SHA-256, so a copy of the database
//! opens nothing.

pub mod availability;
pub mod sessions;

use std::fmt;
use std::str::FromStr;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;
use subtle::ConstantTimeEq;

use crate::store::{Db, new_id, now_text};

/// What a staff member does; the staff API decides from it what they may
/// see and do (`web::policy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Receptionist,
    Billing,
    Clinical,
    Records,
    Manager,
    Admin,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Receptionist,
        Role::Billing,
        Role::Clinical,
        Role::Records,
        Role::Manager,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Receptionist => "receptionist",
            Role::Billing => "billing",
            Role::Clinical => "clinical",
            Role::Records => "records",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown role {0:?}; one of receptionist, billing, clinical, records, manager, admin")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(text: &str) -> Result<Role, UnknownRole> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == text.trim())
            .ok_or_else(|| UnknownRole(text.to_string()))
    }
}

/// A staff account as stored (never its token).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StaffMember {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

impl StaffMember {
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }
}

/// A new random bearer token: 32 bytes from the operating system, hex.
pub fn new_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| anyhow::anyhow!("the operating system's random source: {e}"))?;
    Ok(hex::encode(bytes))
}

/// SHA-256 of a token, hex: what the database keeps and looks up.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether two token hashes are equal, in time that does not depend on
/// where they differ.
pub fn hashes_match(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

fn from_row(row: &sqlx::any::AnyRow) -> anyhow::Result<StaffMember> {
    let role: String = row.try_get("role")?;
    Ok(StaffMember {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        role: role.parse()?,
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

/// Adds a staff member; returns the account and its token, which is not
/// stored and cannot be shown again.
pub async fn add(db: &Db, name: &str, role: Role) -> anyhow::Result<(StaffMember, String)> {
    let name = name.trim();
    anyhow::ensure!(
        !name.is_empty() && name.chars().count() <= 100,
        "a staff member's name must be 1 to 100 characters"
    );
    let token = new_token()?;
    let member = StaffMember {
        id: new_id(),
        name: name.to_string(),
        role,
        created_at: now_text(),
        revoked_at: None,
    };
    sqlx::query(
        "INSERT INTO staff (id, name, role, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&member.id)
    .bind(&member.name)
    .bind(role.as_str())
    .bind(token_hash(&token))
    .bind(&member.created_at)
    .execute(&db.pool)
    .await
    .context("adding a staff member")?;
    tracing::info!(staff_id = %member.id, role = role.as_str(), "staff member added");
    Ok((member, token))
}

/// Every account, oldest first, revoked ones included.
pub async fn list(db: &Db) -> anyhow::Result<Vec<StaffMember>> {
    let rows = sqlx::query(
        "SELECT id, name, role, created_at, revoked_at FROM staff ORDER BY created_at, id",
    )
    .fetch_all(&db.pool)
    .await
    .context("listing staff")?;
    rows.iter().map(from_row).collect()
}

pub async fn get(db: &Db, id: &str) -> anyhow::Result<Option<StaffMember>> {
    let row = sqlx::query("SELECT id, name, role, created_at, revoked_at FROM staff WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await
        .context("reading a staff member")?;
    row.as_ref().map(from_row).transpose()
}

/// What revoking did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Revoked {
    Now(StaffMember),
    Already(StaffMember),
    NoSuchMember,
}

/// Revokes an account: its token stops working at the next request.
pub async fn revoke(db: &Db, id: &str) -> anyhow::Result<Revoked> {
    let updated = sqlx::query(
        "UPDATE staff SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING id",
    )
    .bind(now_text())
    .bind(id)
    .fetch_optional(&db.pool)
    .await
    .context("revoking a staff member")?
    .is_some();
    let Some(member) = get(db, id).await? else {
        return Ok(Revoked::NoSuchMember);
    };
    if updated {
        tracing::info!(staff_id = %member.id, "staff member revoked");
        Ok(Revoked::Now(member))
    } else {
        Ok(Revoked::Already(member))
    }
}

/// The active account a presented token belongs to. Looked up by the
/// token's hash, then the hashes compared in constant time.
pub async fn find_by_token(db: &Db, token: &str) -> anyhow::Result<Option<StaffMember>> {
    let presented = token_hash(token);
    let row = sqlx::query(
        "SELECT id, name, role, created_at, revoked_at, token_hash FROM staff \
         WHERE token_hash = $1 AND revoked_at IS NULL",
    )
    .bind(&presented)
    // `fetch_all`, not `fetch_optional`: run to completion, the statement
    // ends its SQLite read snapshot at once. A statement left mid-way kept
    // the pooled connection on its old snapshot, and a token revoked by
    // another process (`frontdesk staff revoke`) still worked there.
    .fetch_all(&db.pool)
    .await
    .context("looking up a staff token")?;
    let Some(row) = row.into_iter().next() else {
        return Ok(None);
    };
    let stored: String = row.try_get("token_hash")?;
    if !hashes_match(&stored, &presented) {
        return Ok(None);
    }
    from_row(&row).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_read_and_write_their_api_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
            assert_eq!(
                serde_json::to_value(role).unwrap(),
                serde_json::json!(role.as_str())
            );
        }
        let err = "janitor".parse::<Role>().unwrap_err();
        assert!(err.to_string().contains("receptionist"), "{err}");
    }

    #[test]
    fn tokens_are_random_and_only_their_hash_is_kept() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        let hash = token_hash(&a);
        assert_eq!(hash.len(), 64);
        assert_ne!(hash, a);
        assert!(hashes_match(&hash, &token_hash(&a)));
        assert!(!hashes_match(&hash, &token_hash(&b)));
    }
}
