//! Who is asking: a bearer token belongs to a staff member with one role
//! (`frontdesk staff add`, stored as a hash by `crate::staff`), or is the
//! break-glass `FRONTDESK_ADMIN_TOKEN` with role `admin`. What each role
//! may do is `policy`'s business.

use std::net::IpAddr;

use axum::http::HeaderMap;
use subtle::ConstantTimeEq;

use super::AppState;
use super::error::ApiError;
use crate::staff::{self, Role};

/// The staff id the break-glass admin token acts as.
pub const BREAK_GLASS_ID: &str = "admin";

/// Tokens the server accepts besides staff accounts: the break-glass admin's.
#[derive(Clone, Debug, Default)]
pub struct Tokens {
    admin: Option<String>,
}

impl Tokens {
    pub fn new() -> Tokens {
        Tokens::default()
    }

    pub fn with_admin(mut self, token: Option<String>) -> Tokens {
        self.admin = token.filter(|t| !t.is_empty());
        self
    }

    fn is_admin(&self, presented: &str) -> bool {
        // Hashes first, so the comparison's time says nothing of the length either.
        self.admin.as_deref().is_some_and(|admin| {
            bool::from(
                staff::token_hash(admin)
                    .as_bytes()
                    .ct_eq(staff::token_hash(presented).as_bytes()),
            )
        })
    }
}

/// The authenticated staff member making a request. Handlers take it as
/// an extractor (`routes` implements it: the route's access rule is checked
/// before a handler ever sees one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Staff {
    pub id: String,
    pub name: String,
    pub role: Role,
}

/// The bearer token of a request's `Authorization` header, if any.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// The staff member a request's `Authorization: Bearer` token belongs to;
/// 401 when it is missing, unknown or revoked, 429 when `client` has failed
/// too often lately (`sign_in`).
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    client: Option<IpAddr>,
) -> Result<Staff, ApiError> {
    let token = bearer_token(headers).ok_or(ApiError::Unauthorized)?;
    sign_in(state, token, client).await
}

/// The staff member a token belongs to, through the sign-in limiter: 429
/// while `client` is over its limit of failures, 401 (counted as a failure)
/// when the token is unknown or revoked. The dashboard's `POST /session`
/// signs in through here too.
pub async fn sign_in(
    state: &AppState,
    token: &str,
    client: Option<IpAddr>,
) -> Result<Staff, ApiError> {
    state
        .sign_in
        .check(client)
        .map_err(|refused| ApiError::TooManyRequests {
            retry_after_secs: refused.retry_after.as_secs().max(1),
        })?;
    match staff_of_token(state, token).await {
        Err(ApiError::Unauthorized) => {
            state.sign_in.failed(client);
            tracing::info!(client = ?client, "sign-in refused: unknown or revoked token");
            Err(ApiError::Unauthorized)
        }
        other => other,
    }
}

/// The staff member a token belongs to, or 401.
async fn staff_of_token(state: &AppState, token: &str) -> Result<Staff, ApiError> {
    if state.auth.is_admin(token) {
        return Ok(Staff {
            id: BREAK_GLASS_ID.into(),
            name: "break-glass admin".into(),
            role: Role::Admin,
        });
    }
    let member = staff::find_by_token(&state.db, token)
        .await
        .map_err(ApiError::from)?
        .ok_or(ApiError::Unauthorized)?;
    Ok(Staff {
        id: member.id,
        name: member.name,
        role: member.role,
    })
}
