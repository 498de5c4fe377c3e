//! The dashboard's side of the access audit. The pages read patient data
//! on the server (a task's card, a call's transcript, the schedule's
//! appointments) without passing through the staff API's guard, so each
//! page writes its own entries here, shaped as the API's are (staff
//! member, role, action, resource, patient, client address). Actions the
//! pages take go through the staff API and are audited there.
//!
//! As on the API, a read whose entry cannot be written is not shown: the
//! page fails instead.

use std::net::IpAddr;

use super::page::{PageError, Viewer};
use crate::audit::{self, Action, NewEntry, Outcome};
use crate::web::AppState;
use crate::web::auth::Staff;

/// Writes one entry for what the viewer is about to be shown.
pub async fn record(
    state: &AppState,
    viewer: &Viewer,
    action: Action,
    resource_type: &str,
    resource_id: Option<&str>,
    patient_id: Option<&str>,
) -> Result<(), PageError> {
    write(
        state,
        &viewer.staff,
        viewer.client,
        (action, Outcome::Success),
        (resource_type, resource_id, patient_id),
    )
    .await
}

/// Writes a `denied` entry: the viewer asked for what their role may not see.
pub async fn denied(
    state: &AppState,
    viewer: &Viewer,
    resource_type: &str,
    resource_id: Option<&str>,
    patient_id: Option<&str>,
) -> Result<(), PageError> {
    write(
        state,
        &viewer.staff,
        viewer.client,
        (Action::Read, Outcome::Denied),
        (resource_type, resource_id, patient_id),
    )
    .await
}

/// Signing in or out: the session is the resource.
pub async fn session(
    state: &AppState,
    staff: &Staff,
    client: Option<IpAddr>,
    action: Action,
    session_id: Option<&str>,
) -> Result<(), PageError> {
    write(
        state,
        staff,
        client,
        (action, Outcome::Success),
        ("Session", session_id, None),
    )
    .await
}

/// The entry: who (and from where), what and how it ended, and on what
/// (resource type, its id, the patient).
pub async fn write(
    state: &AppState,
    staff: &Staff,
    client: Option<IpAddr>,
    (action, outcome): (Action, Outcome),
    (resource_type, resource_id, patient_id): (&str, Option<&str>, Option<&str>),
) -> Result<(), PageError> {
    let entry = NewEntry {
        staff_id: staff.id.clone(),
        role: staff.role.as_str().to_string(),
        action,
        resource_type: resource_type.to_string(),
        resource_id: resource_id.map(str::to_string),
        patient_id: patient_id.map(str::to_string),
        outcome,
        client: client.map(|c| c.to_string()),
    };
    match audit::record(&state.db, &entry).await {
        Ok(_) => Ok(()),
        Err(error) => Err(PageError::Failed(
            error.context("the access audit could not be written; the page is withheld"),
        )),
    }
}
