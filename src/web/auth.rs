//! Who is asking: a bearer token belongs to a staff member with one role
//! (`frontdesk staff add`, stored as a hash by `crate::staff`), or is the
//! break-glass `FRONTDESK_ADMIN_TOKEN` with role `admin`. What each role
//! may do is `policy`'s business. The staff dashboard's session cookie
//! (`crate::staff::sessions`) is accepted too, so the dashboard's pages call
//! this API (and its event stream) as the signed-in member; a
//! state-changing request with a cookie must carry the session's CSRF token
//! in [`CSRF_HEADER`], since a browser sends cookies with forged requests.

use std::net::IpAddr;

use axum::http::{HeaderMap, Method};
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

/// The dashboard's session cookie.
pub const SESSION_COOKIE: &str = "frontdesk_session";
/// The header a cookie-authenticated `POST` carries its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The value of cookie `name` in a request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// A signed-in dashboard session and whose it is.
#[derive(Clone, Debug)]
pub struct SessionStaff {
    pub staff: Staff,
    pub session: staff::sessions::Session,
}

/// Why a session cookie admits nobody.
#[derive(Debug)]
pub enum SessionRefusal {
    /// No cookie, or one the server does not know.
    None,
    /// Unused past the clinic's idle timeout.
    Expired,
    Failed(anyhow::Error),
}

/// The staff member a dashboard session cookie belongs to (its idle clock
/// restarted); the account must still be active.
pub async fn session_staff(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<SessionStaff, SessionRefusal> {
    let value = cookie(headers, SESSION_COOKIE).ok_or(SessionRefusal::None)?;
    let idle = chrono::Duration::minutes(i64::from(state.clinic.dashboard.idle_timeout_minutes));
    let session = match staff::sessions::find(&state.db, value, state.clock.now(), idle).await {
        Ok(staff::sessions::Lookup::Live(session)) => session,
        Ok(staff::sessions::Lookup::Expired) => return Err(SessionRefusal::Expired),
        Ok(staff::sessions::Lookup::Unknown) => return Err(SessionRefusal::None),
        Err(e) => return Err(SessionRefusal::Failed(e)),
    };
    let staff = if session.staff_id == BREAK_GLASS_ID {
        break_glass()
    } else {
        let member = staff::get(&state.db, &session.staff_id)
            .await
            .map_err(SessionRefusal::Failed)?
            .filter(staff::StaffMember::is_active)
            .ok_or(SessionRefusal::None)?;
        Staff {
            id: member.id,
            name: member.name,
            role: member.role,
        }
    };
    Ok(SessionStaff { staff, session })
}

fn break_glass() -> Staff {
    Staff {
        id: BREAK_GLASS_ID.into(),
        name: "break-glass admin".into(),
        role: Role::Admin,
    }
}

/// The staff member a token names (a staff account's or the break-glass
/// admin's); `None` when unknown or revoked.
pub async fn staff_of_token(state: &AppState, token: &str) -> anyhow::Result<Option<Staff>> {
    if state.auth.is_admin(token) {
        return Ok(Some(break_glass()));
    }
    Ok(staff::find_by_token(&state.db, token)
        .await?
        .map(|member| Staff {
            id: member.id,
            name: member.name,
            role: member.role,
        }))
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
    match staff_of_token(state, token).await.map_err(ApiError::from)? {
        Some(staff) => Ok(staff),
        None => {
            state.sign_in.failed(client);
            tracing::info!(client = ?client, "sign-in refused: unknown or revoked token");
            Err(ApiError::Unauthorized)
        }
    }
}

/// The staff member a request's `Authorization: Bearer` token belongs to
/// (through [`sign_in`]: 429 when `client` failed too often lately), or
/// else its dashboard session cookie (a `POST` with the session's CSRF
/// token in [`CSRF_HEADER`]); 401 when missing, unknown, expired or revoked,
/// 403 when the CSRF token is missing or wrong.
pub async fn authenticate(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
    client: Option<IpAddr>,
) -> Result<Staff, ApiError> {
    let bearer = bearer_token(headers);
    let Some(token) = bearer else {
        let signed = match session_staff(state, headers).await {
            Ok(signed) => signed,
            Err(SessionRefusal::Failed(e)) => return Err(ApiError::from(e)),
            Err(_) => return Err(ApiError::Unauthorized),
        };
        let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let presented = headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !staff::sessions::csrf_matches(&signed.session, presented) {
                tracing::info!(staff_id = %signed.staff.id, "missing or wrong CSRF token");
                return Err(ApiError::Forbidden);
            }
        }
        return Ok(signed.staff);
    };
    sign_in(state, token, client).await
}
