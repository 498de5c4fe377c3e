//! One API error type: `{"error": {"code", "message"}}` with a fitting
//! status. A 500 logs its cause and returns a generic message. A database
//! that cannot be reached (down, restarting, the pool's connections all
//! failing) is a `503` with code `database_unavailable` wherever the error
//! arose, however much context it gathered on the way: the request may be
//! retried, and the server recovers by itself when the database is back.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("missing or invalid bearer token")]
    Unauthorized,
    #[error("this role may not do that")]
    Forbidden,
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("too many failed sign-ins from this address; try again in {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("{0}")]
    Unavailable(String),
    #[error("the database is unavailable; try again shortly")]
    DatabaseUnavailable,
    #[error(transparent)]
    Internal(anyhow::Error),
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::Unprocessable(_) => (StatusCode::UNPROCESSABLE_ENTITY, "unprocessable"),
            ApiError::TooManyRequests { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_requests")
            }
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::DatabaseUnavailable => {
                (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable")
            }
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

/// Whether a database error means "cannot reach the database now" rather
/// than "this query is wrong": the connection refused, dropped or timed
/// out, the server shutting down or starting up (PostgreSQL's class `08`,
/// `57P01`–`57P03`), SQLite busy past its timeout.
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08")
                || matches!(
                    code.as_ref(),
                    "57P01" | "57P02" | "57P03" | "5" | "6" | "517"
                )
        }),
        _ => false,
    }
}

/// Whether a database error anywhere in this error's chain is
/// [`is_unavailable`].
fn database_unavailable(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|cause| cause.downcast_ref::<sqlx::Error>())
        .any(is_unavailable)
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError::from(anyhow::Error::new(e).context("database query"))
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        if database_unavailable(&e) {
            // The cause names what failed (never a query's values).
            tracing::error!(error = format!("{e:#}"), "database unavailable");
            return ApiError::DatabaseUnavailable;
        }
        ApiError::Internal(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = match &self {
            ApiError::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "internal error");
                "internal error".to_string()
            }
            other => other.to_string(),
        };
        let body = Json(ErrorBody {
            error: ErrorDetail {
                code: code.to_string(),
                message,
            },
        });
        match self {
            ApiError::TooManyRequests { retry_after_secs } => (
                status,
                [(header::RETRY_AFTER, retry_after_secs.to_string())],
                body,
            )
                .into_response(),
            _ => (status, body).into_response(),
        }
    }
}

/// Every error's body: `{"error": {"code", "message"}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// `bad_request`, `unauthorized`, `forbidden`, `not_found`, `conflict`,
    /// `unprocessable`, `too_many_requests`, `unavailable`, `internal`.
    pub code: String,
    /// What is wrong, for a person; never patient data.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_of(e: ApiError) -> StatusCode {
        e.into_response().status()
    }

    #[test]
    fn an_unreachable_database_is_a_503_however_deep_in_the_context() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        for cause in [
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
            sqlx::Error::Io(refused),
        ] {
            let e = anyhow::Error::new(cause)
                .context("claiming a task")
                .context("the claim route");
            let api = ApiError::from(e);
            assert!(matches!(api, ApiError::DatabaseUnavailable), "{api:?}");
            assert_eq!(status_of(api), StatusCode::SERVICE_UNAVAILABLE);
        }
        assert_eq!(
            ApiError::DatabaseUnavailable.status_and_code(),
            (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable")
        );
        // A query that is wrong is not the database being away.
        let wrong = anyhow::Error::new(sqlx::Error::RowNotFound).context("reading a task");
        assert!(matches!(ApiError::from(wrong), ApiError::Internal(_)));
        assert!(matches!(
            ApiError::from(sqlx::Error::PoolTimedOut),
            ApiError::DatabaseUnavailable
        ));
    }
}
