//! The staff API's side of the access audit: which routes are audited as
//! what ([`audited`]), and the [`Trail`] the guard (`routes::guard`) keeps
//! for each request: begun once the staff member is known, given the
//! patient by the handler ([`AuditNote`]), finished with the response's
//! status. A `403` is always written, as `denied`, whatever the route.
//!
//! If the entry cannot be written the response is withheld (`503`): a
//! read of patient data that leaves no trace must not happen. An action
//! (a claim, a booking) has already happened by then; its reply says the
//! audit failed, and the server's log says so too.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::auth::Staff;
use super::error::ApiError;
use crate::audit::{self, Action, NewEntry, Outcome};

/// What a route's request is, for the audit: an action on a resource type.
/// `Some(None)`: a route that reads no patient data and changes nothing
/// (clinic details, free slots, the contract); `None`: a route this table
/// does not know, which `tests` below fail on, and which is audited as a
/// read of the route itself meanwhile.
pub fn audited(method: &Method, path: &str) -> Option<Option<(Action, &'static str)>> {
    let get = *method == Method::GET || *method == Method::HEAD;
    let post = *method == Method::POST;
    Some(Some(match path {
        "/healthz"
        | "/readyz"
        | "/metrics"
        | "/api/v1/clinic"
        | "/api/v1/slots"
        | "/api/v1/openapi.json" => return Some(None),
        // Setting one's own transfer availability is a staff action; reading
        // it reads no patient data.
        "/api/v1/staff/me/availability" if *method == Method::PUT => {
            (Action::Update, "Practitioner")
        }
        "/api/v1/staff/me/availability" if get => return Some(None),
        // The stream sends tasks as they change: one entry when it opens.
        "/api/v1/tasks/events" if get => (Action::Search, "Task"),
        "/api/v1/appointments/{id}/move" if post => (Action::Book, "Appointment"),
        "/api/v1/tasks" if get => (Action::Search, "Task"),
        "/api/v1/tasks/{id}" if get => (Action::Read, "Task"),
        "/api/v1/tasks/{id}/claim" if post => (Action::Claim, "Task"),
        "/api/v1/tasks/{id}/release" if post => (Action::Release, "Task"),
        "/api/v1/tasks/{id}/notes" if post => (Action::Note, "Task"),
        "/api/v1/tasks/{id}/reassign" if post => (Action::Reassign, "Task"),
        "/api/v1/tasks/{id}/complete" if post => (Action::Complete, "Task"),
        "/api/v1/calls" if get => (Action::Search, "Call"),
        "/api/v1/calls/{id}" if get => (Action::Read, "Call"),
        "/api/v1/calls/{id}/recording" if get => (Action::Read, "Recording"),
        "/api/v1/patients" if get => (Action::Search, "Patient"),
        "/api/v1/patients" if post => (Action::Create, "Patient"),
        "/api/v1/appointments" if get => (Action::Search, "Appointment"),
        "/api/v1/appointments" if post => (Action::Book, "Appointment"),
        "/api/v1/appointments/{id}/cancel" if post => (Action::Cancel, "Appointment"),
        "/api/v1/audit" if get => (Action::Search, "AuditEvent"),
        _ => return None,
    }))
}

/// What a handler learns while it runs: the patient whose data it is, and
/// the resource's id when the path does not carry it (a new patient, a
/// new appointment). Handlers take it as an extractor; without the guard
/// (a module's own router in a test) it is a note nobody reads.
#[derive(Clone, Debug, Default)]
pub struct AuditNote(Arc<Mutex<Noted>>);

#[derive(Clone, Debug, Default)]
struct Noted {
    patient_id: Option<String>,
    resource_id: Option<String>,
}

impl AuditNote {
    /// The patient the request touched, when it touched one.
    pub fn patient(&self, patient_id: Option<&str>) {
        if let Some(id) = patient_id {
            self.lock().patient_id = Some(id.to_string());
        }
    }

    /// The resource's id, when the path does not name it.
    pub fn resource(&self, resource_id: &str) {
        self.lock().resource_id = Some(resource_id.to_string());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Noted> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn taken(&self) -> Noted {
        self.lock().clone()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AuditNote {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<AuditNote>()
            .cloned()
            .unwrap_or_default())
    }
}

/// One request's audit entry, from the moment its staff member is known.
pub struct Trail {
    entry: NewEntry,
    /// `false` for routes that read no patient data (a 403 there is still written).
    route_audited: bool,
    note: AuditNote,
}

impl Trail {
    /// The entry a request by `staff` on this route will write.
    pub async fn begin(
        state: &AppState,
        parts: &mut Parts,
        path: &str,
        staff: &Staff,
        client: Option<IpAddr>,
    ) -> Trail {
        let (action, resource_type, route_audited) = match audited(&parts.method, path) {
            Some(Some((action, resource))) => (action, resource, true),
            Some(None) => (Action::Read, "Route", false),
            None => (Action::Read, "Route", true),
        };
        let resource_id = match RawPathParams::from_request_parts(parts, state).await {
            Ok(params) => params
                .iter()
                .find(|(name, _)| *name == "id")
                .map(|(_, value)| value.to_string()),
            Err(_) => None,
        }
        .or_else(|| (resource_type == "Route").then(|| path.to_string()));
        Trail {
            entry: NewEntry {
                staff_id: staff.id.clone(),
                role: staff.role.as_str().to_string(),
                action,
                resource_type: resource_type.to_string(),
                resource_id,
                patient_id: None,
                outcome: Outcome::Success,
                client: client.map(|c| c.to_string()),
            },
            route_audited,
            note: AuditNote::default(),
        }
    }

    /// The note the handler fills in.
    pub fn note(&self) -> AuditNote {
        self.note.clone()
    }

    /// Writes the entry for this response (2xx: success, 403: denied,
    /// other errors: failed) and returns the response, or a 503 when the
    /// entry could not be written.
    pub async fn finish(mut self, state: &AppState, response: Response) -> Response {
        let status = response.status();
        let outcome = match status {
            s if s.is_success() => Outcome::Success,
            StatusCode::FORBIDDEN => Outcome::Denied,
            _ => Outcome::Failed,
        };
        if !self.route_audited && outcome != Outcome::Denied {
            return response;
        }
        let noted = self.note.taken();
        self.entry.outcome = outcome;
        self.entry.patient_id = noted.patient_id;
        if noted.resource_id.is_some() {
            self.entry.resource_id = noted.resource_id;
        }
        match audit::record(&state.db, &self.entry).await {
            Ok(_) => response,
            Err(error) => {
                tracing::error!(
                    error = format!("{error:#}"),
                    staff_id = %self.entry.staff_id,
                    action = self.entry.action.as_str(),
                    status = status.as_u16(),
                    "the access audit could not be written; the response is withheld"
                );
                ApiError::Unavailable("the access audit could not be written; try again".into())
                    .into_response()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_says_what_it_is_for_the_audit() {
        let unknown: Vec<String> = crate::web::routes::rules()
            .iter()
            .filter(|rule| audited(&rule.method, rule.path).is_none())
            .map(|rule| format!("{} {}", rule.method, rule.path))
            .collect();
        assert!(
            unknown.is_empty(),
            "routes with no line in web::audit_trail::audited: {unknown:?}"
        );
    }
}
