//! `GET /api/v1/audit`: the access audit for managers and admins, newest
//! first, each entry rendered as a FHIR R4 AuditEvent (type, subtype,
//! action, recorded, outcome, agent, source, entity) so a clinic's
//! compliance tools read it without a translation table. Filters: staff,
//! patient, resource (`Task` or `Task/{id}`), time; paged by `cursor`.

use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::audit_trail::AuditNote;
use super::auth::Staff;
use super::error::{ApiError, ErrorBody};
use super::policy::{Access, MANAGERS};
use super::routes::Route;
use crate::audit::{self, Action, AuditFilter, Entry, Outcome};

pub fn routes() -> Vec<Route> {
    vec![Route::get("/api/v1/audit", Access::Roles(MANAGERS), list)]
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Entries by this staff member (`admin` for the break-glass token).
    staff_id: Option<String>,
    /// Entries about this patient.
    patient_id: Option<String>,
    /// A resource type (`Task`, `Call`, `Recording`, `Patient`,
    /// `Appointment`, `AuditEvent`) or one resource (`Task/{id}`).
    resource: Option<String>,
    /// RFC 3339; entries recorded at or after.
    since: Option<String>,
    /// RFC 3339; entries recorded before.
    until: Option<String>,
    /// 1 to 500, default 100.
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A page of the audit, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// One entry as a FHIR R4 AuditEvent.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    /// Always `AuditEvent`.
    pub resource_type: String,
    /// The entry's place in the hash chain.
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: Coding,
    /// The RESTful interaction, then frontdesk's own action
    /// (`claim`, `book`, …).
    pub subtype: Vec<Coding>,
    /// C, R, U, D or E.
    pub action: String,
    pub recorded: String,
    /// `0` success, `4` minor failure (denied or refused).
    pub outcome: String,
    /// `success`, `denied` or `failed`.
    pub outcome_desc: String,
    pub agent: Vec<Agent>,
    pub source: Source,
    pub entity: Vec<Entity>,
    /// SHA-256 of the previous entry's hash and this entry's content.
    pub hash: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Coding {
    pub system: String,
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Agent {
    pub who: Reference,
    pub role: Vec<Text>,
    pub requestor: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<Network>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Reference {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Text {
    pub text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Network {
    pub address: String,
    /// `2`: an IP address.
    #[serde(rename = "type")]
    pub address_type: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Source {
    pub observer: Reference,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Entity {
    pub what: Reference,
    /// `1` (Person) for the patient the entry is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(rename = "type")]
    pub entity_type: Option<Coding>,
}

/// FHIR's action code and RESTful interaction for one of ours.
fn fhir_action(action: &str) -> (&'static str, &'static str) {
    match Action::parse(action) {
        Some(Action::Read) => ("R", "read"),
        Some(Action::Search) => ("E", "search-type"),
        Some(Action::Create | Action::Book) => ("C", "create"),
        Some(Action::Update) => ("U", "update"),
        Some(Action::SignIn | Action::SignOut) => ("E", "operation"),
        Some(_) => ("U", "update"),
        None => ("E", "operation"),
    }
}

impl From<Entry> for AuditEvent {
    fn from(entry: Entry) -> AuditEvent {
        let (code, interaction) = fhir_action(&entry.action);
        let resource = match &entry.resource_id {
            Some(id) => format!("{}/{id}", entry.resource_type),
            None => entry.resource_type.clone(),
        };
        let mut entity = vec![Entity {
            what: Reference {
                reference: Some(resource),
                display: None,
            },
            entity_type: None,
        }];
        if let Some(patient) = &entry.patient_id {
            entity.push(Entity {
                what: Reference {
                    reference: Some(format!("Patient/{patient}")),
                    display: None,
                },
                entity_type: Some(Coding {
                    system: "http://terminology.hl7.org/CodeSystem/audit-entity-type".into(),
                    code: "1".into(),
                    display: Some("Person".into()),
                }),
            });
        }
        AuditEvent {
            resource_type: "AuditEvent".into(),
            id: entry.seq.to_string(),
            event_type: Coding {
                system: "http://terminology.hl7.org/CodeSystem/audit-event-type".into(),
                code: "rest".into(),
                display: Some("RESTful Operation".into()),
            },
            subtype: vec![
                Coding {
                    system: "http://hl7.org/fhir/restful-interaction".into(),
                    code: interaction.into(),
                    display: None,
                },
                Coding {
                    system: "urn:frontdesk:audit-action".into(),
                    code: entry.action.clone(),
                    display: None,
                },
            ],
            action: code.into(),
            recorded: entry.recorded,
            outcome: if entry.outcome == Outcome::Success {
                "0"
            } else {
                "4"
            }
            .into(),
            outcome_desc: entry.outcome.as_str().into(),
            agent: vec![Agent {
                who: Reference {
                    reference: Some(format!("Practitioner/{}", entry.staff_id)),
                    display: None,
                },
                role: vec![Text { text: entry.role }],
                requestor: true,
                network: entry.client.map(|address| Network {
                    address,
                    address_type: "2".into(),
                }),
            }],
            source: Source {
                observer: Reference {
                    reference: None,
                    display: Some("frontdesk".into()),
                },
            },
            entity,
            hash: entry.hash,
        }
    }
}

fn utc_text(field: &str, value: &str) -> Result<String, ApiError> {
    chrono::DateTime::parse_from_rfc3339(value)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        })
        .map_err(|_| {
            ApiError::BadRequest(format!(
                "`{field}` must be an RFC 3339 time, e.g. 2026-11-28T09:00:00-05:00"
            ))
        })
}

/// The access audit, newest first (managers, admins).
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "audit",
    params(AuditParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of audit events", body = AuditPage),
        (status = 400, description = "A bad filter", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 429, body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    _staff: Staff,
    note: AuditNote,
    Query(p): Query<AuditParams>,
) -> Result<Json<AuditPage>, ApiError> {
    let limit = p.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::BadRequest(
            "`limit` must be between 1 and 500".into(),
        ));
    }
    let before_seq = p
        .cursor
        .as_deref()
        .map(|c| {
            c.parse::<i64>()
                .map_err(|_| ApiError::BadRequest("`cursor` is not one this API gave out".into()))
        })
        .transpose()?;
    note.patient(p.patient_id.as_deref());
    let filter = AuditFilter {
        staff_id: p.staff_id,
        patient_id: p.patient_id,
        resource: p.resource.filter(|r| !r.trim().is_empty()),
        since: p
            .since
            .as_deref()
            .map(|v| utc_text("since", v))
            .transpose()?,
        until: p
            .until
            .as_deref()
            .map(|v| utc_text("until", v))
            .transpose()?,
        before_seq,
        limit,
    };
    let entries = audit::list(&state.db, &filter).await?;
    let next_cursor = (entries.len() as i64 == limit)
        .then(|| entries.last().map(|e| e.seq.to_string()))
        .flatten();
    Ok(Json(AuditPage {
        events: entries.into_iter().map(AuditEvent::from).collect(),
        next_cursor,
    }))
}
