//! Bearer tokens. A token belongs to a staff member with one role
//! (`spec/api.md`); for now the only source is `FRONTDESK_ADMIN_TOKEN`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use subtle::ConstantTimeEq;

use super::AppState;
use super::error::ApiError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Receptionist,
    Manager,
    Billing,
    Clinical,
    Records,
    Admin,
}

/// The tokens the server accepts.
#[derive(Clone, Debug, Default)]
pub struct Tokens {
    entries: Vec<(String, Staff)>,
}

impl Tokens {
    pub fn new() -> Tokens {
        Tokens::default()
    }

    pub fn with_admin(mut self, token: Option<String>) -> Tokens {
        if let Some(token) = token.filter(|t| !t.is_empty()) {
            self.entries.push((
                token,
                Staff {
                    id: "admin".into(),
                    role: Role::Admin,
                },
            ));
        }
        self
    }

    fn find(&self, presented: &str) -> Option<&Staff> {
        self.entries
            .iter()
            .find(|(token, _)| bool::from(token.as_bytes().ct_eq(presented.as_bytes())))
            .map(|(_, staff)| staff)
    }
}

/// The authenticated staff member making a request. Use it as an extractor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Staff {
    pub id: String,
    pub role: Role,
}

impl Staff {
    /// Admins may do everything; otherwise the role must be listed.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if self.role == Role::Admin || roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::Unauthorized)?;
        let token = header
            .strip_prefix("Bearer ")
            .ok_or(ApiError::Unauthorized)?;
        state
            .auth
            .find(token.trim())
            .cloned()
            .ok_or(ApiError::Unauthorized)
    }
}
