//! What every page shares: who is looking ([`Viewer`], checked against the
//! page's rule), the shell (header, navigation, sign-out), and how a
//! refusal or a failure looks to a person ([`PageError`]).

use axum::extract::{FromRequestParts, MatchedPath};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, html};

use crate::audit::{self, Action, NewEntry, Outcome};
use crate::staff::Role;
use crate::web::AppState;
use crate::web::auth::{self, SessionRefusal, Staff};
use crate::web::error::ApiError;
use crate::web::policy::Access;

/// The signed-in staff member looking at a page, the CSRF token the
/// page's forms and API calls carry, and where they are (for the audit).
#[derive(Clone, Debug)]
pub struct Viewer {
    pub staff: Staff,
    pub csrf: String,
    /// The client's address (`web::client`); `None` in-process.
    pub client: Option<std::net::IpAddr>,
}

/// A page that cannot be shown: sign in again, no rights, nothing there,
/// or a failure (logged; the page says only that something failed).
#[derive(Debug)]
pub enum PageError {
    SignIn {
        expired: bool,
    },
    Forbidden,
    NotFound(String),
    BadRequest(String),
    /// Too many failed sign-ins from this address lately (`web::sign_in`):
    /// try again after this many seconds.
    TooManyRequests(u64),
    Failed(anyhow::Error),
}

impl From<anyhow::Error> for PageError {
    fn from(e: anyhow::Error) -> PageError {
        PageError::Failed(e)
    }
}

impl From<sqlx::Error> for PageError {
    fn from(e: sqlx::Error) -> PageError {
        PageError::Failed(anyhow::Error::new(e).context("database query"))
    }
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> PageError {
        match e {
            ApiError::Forbidden => PageError::Forbidden,
            ApiError::Unauthorized => PageError::SignIn { expired: false },
            ApiError::NotFound(m) => PageError::NotFound(m),
            ApiError::BadRequest(m) | ApiError::Unprocessable(m) | ApiError::Conflict(m) => {
                PageError::BadRequest(m)
            }
            ApiError::Unavailable(m) => PageError::Failed(anyhow::anyhow!(m)),
            ApiError::DatabaseUnavailable => {
                PageError::Failed(anyhow::anyhow!("the database is unavailable"))
            }
            ApiError::TooManyRequests { retry_after_secs } => {
                PageError::TooManyRequests(retry_after_secs)
            }
            ApiError::Internal(e) => PageError::Failed(e),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let retry_after = match &self {
            PageError::TooManyRequests(secs) => Some(*secs),
            _ => None,
        };
        let (status, title, message) = match self {
            PageError::SignIn { expired } => {
                let to = if expired { "/?expired=1" } else { "/" };
                return Redirect::to(to).into_response();
            }
            PageError::Forbidden => (
                StatusCode::FORBIDDEN,
                "Not available to you",
                "Your role does not give access to this page or action. \
                 Ask a manager if you need it."
                    .to_string(),
            ),
            PageError::NotFound(m) => (StatusCode::NOT_FOUND, "Not found", m),
            PageError::BadRequest(m) => (StatusCode::BAD_REQUEST, "That did not work", m),
            PageError::TooManyRequests(secs) => (
                StatusCode::TOO_MANY_REQUESTS,
                "Too many failed sign-ins",
                format!(
                    "Too many sign-ins from this computer failed lately. \
                     Try again in {} minute(s).",
                    secs.div_ceil(60)
                ),
            ),
            PageError::Failed(e) => {
                tracing::error!(error = format!("{e:#}"), "dashboard page failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The server could not show this page. Try again; if it keeps \
                     happening, tell whoever runs frontdesk."
                        .to_string(),
                )
            }
        };
        let body = bare(
            title,
            html! {
                main id="main" class="notice" {
                    h1 { (title) }
                    p { (message) }
                    p { a href="/queue" { "Back to the queue" } " · " a href="/" { "Sign in as someone else" } }
                }
            },
        );
        let mut response = (status, body).into_response();
        if let Some(secs) = retry_after
            && let Ok(value) = axum::http::HeaderValue::from_str(&secs.to_string())
        {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, value);
        }
        response
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Viewer, PageError> {
        let signed = match auth::session_staff(state, &parts.headers).await {
            Ok(signed) => signed,
            Err(SessionRefusal::None) => return Err(PageError::SignIn { expired: false }),
            Err(SessionRefusal::Expired) => return Err(PageError::SignIn { expired: true }),
            Err(SessionRefusal::Failed(e)) => return Err(PageError::Failed(e)),
        };
        let access = parts
            .extensions
            .get::<MatchedPath>()
            .and_then(|p| super::rule_for(&parts.method, p.as_str()));
        match access {
            Some(access) if access.admits(signed.staff.role) => {}
            _ => {
                tracing::info!(staff_id = %signed.staff.id, "dashboard page forbidden");
                // As on the API, a refusal is in the audit: the page asked for.
                let denied = NewEntry {
                    staff_id: signed.staff.id.clone(),
                    role: signed.staff.role.as_str().to_string(),
                    action: Action::Read,
                    resource_type: "Route".into(),
                    resource_id: parts
                        .extensions
                        .get::<MatchedPath>()
                        .map(|p| p.as_str().to_string()),
                    patient_id: None,
                    outcome: Outcome::Denied,
                    client: state.client.of(parts).map(|c| c.to_string()),
                };
                audit::record(&state.db, &denied).await?;
                return Err(PageError::Forbidden);
            }
        }
        Ok(Viewer {
            staff: signed.staff,
            csrf: signed.session.csrf_token,
            client: state.client.of(parts),
        })
    }
}

/// The pages a role may open, for the navigation: read from the pages'
/// own rules, so the menu never offers what the server refuses.
fn nav_items(role: Role) -> Vec<(&'static str, &'static str)> {
    [
        ("/queue", "Queue"),
        ("/calls", "Calls"),
        ("/schedule", "Schedule"),
        ("/calls/audit", "Access audit"),
    ]
    .into_iter()
    .filter(|(path, _)| {
        super::rule_for(&axum::http::Method::GET, path).is_some_and(|a| a.admits(role))
    })
    .collect()
}

/// Whether the viewer's role passes a page's rule (for links to it).
pub fn may_open(viewer: &Viewer, path: &str) -> bool {
    super::rule_for(&axum::http::Method::GET, path)
        .is_some_and(|a: Access| a.admits(viewer.staff.role))
}

/// A full page: head, header with navigation and sign-out, the content.
pub fn shell(viewer: &Viewer, title: &str, current: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="csrf-token" content=(viewer.csrf);
                title { (title) " · frontdesk" }
                link rel="stylesheet" href=(super::assets::CSS_PATH);
                script src=(super::assets::JS_PATH) defer {}
            }
            body {
                a class="skip" href="#main" { "Skip to content" }
                header class="top" {
                    span class="brand" { "frontdesk" }
                    nav aria-label="Main" {
                        @for (path, label) in nav_items(viewer.staff.role) {
                            @if path == current {
                                a href=(path) aria-current="page" { (label) }
                            } @else {
                                a href=(path) { (label) }
                            }
                        }
                    }
                    span class="who" { (viewer.staff.name) " (" (viewer.staff.role.as_str()) ")" }
                    form method="post" action="/session/end" class="signout" {
                        input type="hidden" name="csrf" value=(viewer.csrf);
                        button type="submit" { "Sign out" }
                    }
                }
                div id="status" role="alert" aria-live="assertive" class="status" {}
                (content)
            }
        }
    }
}

/// A page without a session (sign-in, errors).
pub fn bare(title: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · frontdesk" }
                link rel="stylesheet" href=(super::assets::CSS_PATH);
            }
            body {
                header class="top" { span class="brand" { "frontdesk" } }
                (content)
            }
        }
    }
}

/// A stored UTC time as the clinic's wall clock, e.g. "Mon 16 Mar 09:05".
pub fn local_time(state: &AppState, text: &str) -> String {
    match DateTime::parse_from_rfc3339(text) {
        Ok(t) => state
            .clinic
            .local(t.with_timezone(&Utc))
            .format("%a %-d %b %H:%M")
            .to_string(),
        Err(_) => text.to_string(),
    }
}

/// "in 12 min", "3 h 5 min ago": how far a time is from now.
pub fn relative(now: DateTime<Utc>, at: DateTime<Utc>) -> String {
    let minutes = (at - now).num_minutes();
    let span = |m: i64| {
        let m = m.abs();
        if m >= 24 * 60 {
            format!("{} d {} h", m / (24 * 60), (m % (24 * 60)) / 60)
        } else if m >= 60 {
            format!("{} h {} min", m / 60, m % 60)
        } else {
            format!("{m} min")
        }
    };
    if minutes >= 0 {
        format!("in {}", span(minutes))
    } else {
        format!("{} ago", span(minutes))
    }
}

/// A phone number for reading: "(555) 123-4567" for ten digits.
pub fn phone_text(raw: &str) -> String {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    let digits = digits
        .strip_prefix('1')
        .filter(|d| d.len() == 10)
        .unwrap_or(&digits);
    if digits.len() == 10 {
        format!("({}) {}-{}", &digits[..3], &digits[3..6], &digits[6..])
    } else {
        raw.to_string()
    }
}

/// "mm:ss" of a position in a recording.
pub fn clock_text(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    format!("{}:{:02}", s / 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_numbers_read_as_people_say_them() {
        let now = DateTime::parse_from_rfc3339("2026-03-16T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            relative(now, now + chrono::Duration::minutes(12)),
            "in 12 min"
        );
        assert_eq!(
            relative(now, now - chrono::Duration::minutes(65)),
            "1 h 5 min ago"
        );
        assert_eq!(phone_text("+15551234567"), "(555) 123-4567");
        assert_eq!(phone_text("5551234567"), "(555) 123-4567");
        assert_eq!(phone_text("12"), "12");
        assert_eq!(clock_text(65_400), "1:05");
    }
}
