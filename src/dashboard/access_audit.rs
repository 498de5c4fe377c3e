//! `/calls/audit` (managers, admins): the access audit as a page. Who read
//! or did what, to which resource, about which patient, from where, newest
//! first, filtered by staff member, patient, resource and clinic days, and
//! paged on the server (`before`: the last entry of the previous page).
//! The entries hold ids only, and the page shows them so: it reads no
//! patient record to name anyone. Looking is audited too, as
//! `GET /api/v1/audit` is.

use std::collections::HashMap;

use axum::extract::{Query, State};
use chrono::NaiveDate;
use maud::{Markup, html};
use serde::Deserialize;

use super::calls::{millis, url_escape};
use super::page::{PageError, Viewer, local_time, shell};
use super::trail;
use crate::audit::{self, Action, AuditFilter};
use crate::scheduling::appointments::local_day_bounds;
use crate::staff;
use crate::web::AppState;
use crate::web::auth::BREAK_GLASS_ID;
use crate::web::policy::{Access, MANAGERS};
use crate::web::routes::Route;

/// Entries on one page.
pub const PAGE_SIZE: i64 = 50;

/// The resource types entries are written about.
const RESOURCES: &[&str] = &[
    "Task",
    "Call",
    "Recording",
    "Patient",
    "Appointment",
    "AuditEvent",
    "Practitioner",
    "Session",
    "Route",
];

pub fn routes() -> Vec<Route> {
    vec![Route::get("/calls/audit", Access::Roles(MANAGERS), page)]
}

#[derive(Clone, Debug, Default, Deserialize)]
struct AuditParams {
    staff: Option<String>,
    patient: Option<String>,
    /// A resource type (`Task`) or one resource (`Task/{id}`).
    resource: Option<String>,
    /// First clinic day, `YYYY-MM-DD`.
    from: Option<String>,
    /// Last clinic day, `YYYY-MM-DD`.
    to: Option<String>,
    /// Entries older than this one (the previous page's last).
    before: Option<i64>,
}

fn nonempty(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

fn day(field: &str, value: &Option<String>) -> Result<Option<NaiveDate>, PageError> {
    match nonempty(value) {
        Some(v) => NaiveDate::parse_from_str(&v, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| PageError::BadRequest(format!("{field} must be a date like 2026-03-16"))),
        None => Ok(None),
    }
}

async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(params): Query<AuditParams>,
) -> Result<Markup, PageError> {
    let staff_id = nonempty(&params.staff);
    let patient_id = nonempty(&params.patient);
    let resource = nonempty(&params.resource);
    let from = day("from", &params.from)?;
    let to = day("to", &params.to)?;
    let filter = AuditFilter {
        staff_id: staff_id.clone(),
        patient_id: patient_id.clone(),
        resource: resource.clone(),
        since: from.map(|d| millis(local_day_bounds(&state.clinic, d).0)),
        until: to.map(|d| millis(local_day_bounds(&state.clinic, d).1)),
        before_seq: params.before.filter(|b| *b > 0),
        limit: PAGE_SIZE,
    };
    trail::record(
        &state,
        &viewer,
        Action::Search,
        "AuditEvent",
        None,
        patient_id.as_deref(),
    )
    .await?;
    let entries = audit::list(&state.db, &filter).await?;
    let members = staff::list(&state.db).await?;
    let names: HashMap<&str, &str> = members
        .iter()
        .map(|m| (m.id.as_str(), m.name.as_str()))
        .collect();
    let who = |id: &str| -> String {
        match names.get(id) {
            Some(name) => (*name).to_string(),
            None if id == BREAK_GLASS_ID => "the break-glass admin".into(),
            None => format!("staff {id}"),
        }
    };
    let next = (entries.len() as i64 == PAGE_SIZE)
        .then(|| entries.last().map(|e| e.seq))
        .flatten();
    let keep = |key: &str, value: &Option<String>| {
        value
            .as_ref()
            .map(|v| format!("{key}={}&", url_escape(v)))
            .unwrap_or_default()
    };
    let next_link = next.map(|before| {
        format!(
            "/calls/audit?{}{}{}{}{}before={before}",
            keep("staff", &staff_id),
            keep("patient", &patient_id),
            keep("resource", &resource),
            keep("from", &nonempty(&params.from)),
            keep("to", &nonempty(&params.to)),
        )
    });
    let content = html! {
        main id="main" class="audit" {
            p { a href="/calls" { "← Calls" } }
            h1 { "Access audit" }
            p class="hint" {
                "Every read of a task, a transcript, a recording or a patient, and every staff action, newest first. "
                "The chain of entries is checked with " code { "frontdesk audit verify" } "."
            }
            form method="get" action="/calls/audit" class="filters" {
                label for="a-staff" { "Staff member" }
                select id="a-staff" name="staff" {
                    option value="" { "Anyone" }
                    @for m in &members {
                        @if staff_id.as_deref() == Some(m.id.as_str()) {
                            option value=(m.id) selected { (m.name) " (" (m.role.as_str()) ")" }
                        } @else {
                            option value=(m.id) { (m.name) " (" (m.role.as_str()) ")" }
                        }
                    }
                }
                label for="a-patient" { "Patient id" }
                input id="a-patient" name="patient" type="text" value=[patient_id.as_deref()];
                label for="a-resource" { "Resource" }
                input id="a-resource" name="resource" type="text" list="a-resources"
                    placeholder="Task or Task/id" value=[resource.as_deref()];
                datalist id="a-resources" {
                    @for r in RESOURCES { option value=(r) {} }
                }
                label for="a-from" { "From" }
                input id="a-from" name="from" type="date" value=[nonempty(&params.from)];
                label for="a-to" { "To" }
                input id="a-to" name="to" type="date" value=[nonempty(&params.to)];
                button type="submit" { "Show" }
            }
            @if entries.is_empty() {
                p class="count" { "No entries match." }
            } @else {
                table class="audit-list" {
                    thead { tr {
                        th scope="col" { "When" }
                        th scope="col" { "Who" }
                        th scope="col" { "Did" }
                        th scope="col" { "To" }
                        th scope="col" { "Patient" }
                        th scope="col" { "Outcome" }
                        th scope="col" { "From" }
                    } }
                    tbody {
                        @for e in &entries {
                            tr class={ "entry " (e.outcome.as_str()) } data-seq=(e.seq) {
                                td { (local_time(&state, &e.recorded)) }
                                td { (who(&e.staff_id)) " (" (e.role) ")" }
                                td class="action" { (e.action.replace('_', " ")) }
                                td class="resource" {
                                    (e.resource_type)
                                    @if let Some(id) = &e.resource_id { "/" (id) }
                                }
                                td class="patient" { (e.patient_id.as_deref().unwrap_or("—")) }
                                td { (e.outcome.as_str()) }
                                td { (e.client.as_deref().unwrap_or("—")) }
                            }
                        }
                    }
                }
                @if let Some(link) = &next_link {
                    p { a href=(link) rel="next" { "Older entries →" } }
                }
            }
        }
    };
    Ok(shell(&viewer, "Access audit", "/calls/audit", content))
}
