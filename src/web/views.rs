//! The staff API's response bodies as types: the shapes of `api.md`
//! (`Patient`, `Call`, `Appointment`, the clinic, slots, readiness), each
//! built from the domain type it shows. Handlers return these, never
//! hand-built JSON, and `openapi` documents them from the same
//! definitions, so the document cannot drift from what is served.

use serde::Serialize;
use utoipa::ToSchema;

use crate::clinic::Clinic;
use crate::scheduling::{self, Appointment, Patient};
use crate::store::calls::{CallRecord, TurnRecord};
use crate::tasks::history::Entry;

/// `Patient` of `api.md`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PatientView {
    pub id: String,
    pub name: String,
    /// `YYYY-MM-DD`.
    pub date_of_birth: String,
    /// Ten digits, or `null`.
    pub phone: Option<String>,
}

impl From<&Patient> for PatientView {
    fn from(p: &Patient) -> PatientView {
        PatientView {
            id: p.id.clone(),
            name: p.name.clone(),
            date_of_birth: p.date_of_birth.to_string(),
            phone: p.phone.clone(),
        }
    }
}

/// `GET /api/v1/patients`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PatientList {
    pub patients: Vec<PatientView>,
}

/// `Call` of `api.md`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallView {
    pub id: String,
    /// `twilio`.
    pub provider: String,
    /// Twilio's `CallSid`.
    pub provider_call_id: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub duration_s: Option<f64>,
    /// `in_progress`, `booked`, `rescheduled`, `cancelled`, `answered`,
    /// `escalated`, `transferred`, `emergency`, `abandoned`.
    pub outcome: String,
    /// `interrupted_by_restart` when a crash ended the call; else `null`.
    pub ended_reason: Option<String>,
    pub intents: Vec<String>,
    pub patient_id: Option<String>,
}

impl From<CallRecord> for CallView {
    fn from(c: CallRecord) -> CallView {
        CallView {
            id: c.id,
            provider: c.provider,
            provider_call_id: c.provider_call_id,
            from: c.from,
            to: c.to,
            started_at: c.started_at,
            ended_at: c.ended_at,
            duration_s: c.duration_s,
            outcome: c.outcome,
            ended_reason: c.ended_reason,
            intents: c.intents,
            patient_id: c.patient_id,
        }
    }
}

/// `GET /api/v1/calls`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallList {
    pub calls: Vec<CallView>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// One turn of a call's transcript.
#[derive(Debug, Serialize, ToSchema)]
pub struct TurnView {
    pub seq: i64,
    /// `caller` or `agent`.
    pub speaker: String,
    pub text: String,
    pub started_at_ms: i64,
    pub ended_at_ms: i64,
    /// Caller turns only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    /// Caller turns only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    /// The agent was cut off by the caller; `text` is what was heard.
    pub interrupted: bool,
}

impl From<TurnRecord> for TurnView {
    fn from(t: TurnRecord) -> TurnView {
        TurnView {
            seq: t.seq,
            speaker: t.speaker,
            text: t.text,
            started_at_ms: t.started_at_ms,
            ended_at_ms: t.ended_at_ms,
            intent: t.intent,
            confidence: t.confidence,
            interrupted: t.interrupted,
        }
    }
}

/// `GET /api/v1/calls/{id}`: the call and its transcript.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallDetail {
    #[serde(flatten)]
    pub call: CallView,
    pub turns: Vec<TurnView>,
}

/// `GET /api/v1/clinic`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClinicView {
    pub name: String,
    /// IANA name, e.g. `America/New_York`.
    pub timezone: String,
    pub phone: String,
    pub address: String,
    pub directions: String,
    pub parking: String,
    /// Open days only, Monday first.
    pub hours: Vec<OpeningHours>,
    pub holidays: Vec<HolidayView>,
    pub providers: Vec<ProviderView>,
    pub appointment_types: Vec<AppointmentTypeView>,
    pub insurance_accepted: Vec<String>,
    pub accepting_new_patients: bool,
    /// Whether the agent can put callers through to staff.
    pub transfer_available: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpeningHours {
    /// `monday` … `sunday`.
    pub day: String,
    /// `HH:MM`, clinic time.
    pub open: String,
    pub close: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HolidayView {
    pub date: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderView {
    pub id: String,
    pub name: String,
    pub title: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AppointmentTypeView {
    pub id: String,
    pub name: String,
    pub minutes: u32,
    /// Provider ids who offer it.
    pub providers: Vec<String>,
}

const DAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

impl From<&Clinic> for ClinicView {
    fn from(c: &Clinic) -> ClinicView {
        ClinicView {
            name: c.name.clone(),
            timezone: c.timezone.name().to_string(),
            phone: c.phone.clone(),
            address: c.address.one_line(),
            directions: c.address.directions.clone(),
            parking: c.address.parking.clone(),
            hours: DAYS
                .iter()
                .zip(c.hours.0.iter())
                .filter_map(|(day, ranges)| {
                    ranges.first().map(|r| OpeningHours {
                        day: day.to_string(),
                        open: r.start.format("%H:%M").to_string(),
                        close: r.end.format("%H:%M").to_string(),
                    })
                })
                .collect(),
            holidays: c
                .holidays
                .iter()
                .map(|h| HolidayView {
                    date: h.date.to_string(),
                    name: h.name.clone(),
                })
                .collect(),
            providers: c
                .providers
                .iter()
                .map(|p| ProviderView {
                    id: p.id.clone(),
                    name: p.name.clone(),
                    title: p.title.clone(),
                })
                .collect(),
            appointment_types: c
                .appointment_types
                .iter()
                .map(|t| AppointmentTypeView {
                    id: t.id.clone(),
                    name: t.name.clone(),
                    minutes: t.minutes,
                    providers: t.providers.clone(),
                })
                .collect(),
            insurance_accepted: c.insurance.iter().map(|p| p.name.clone()).collect(),
            accepting_new_patients: c.accepting_new_patients,
            transfer_available: c.transfer_number.is_some(),
        }
    }
}

/// One free slot.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlotView {
    pub provider_id: String,
    pub provider_name: String,
    /// The appointment type's id.
    #[serde(rename = "type")]
    pub type_id: String,
    /// RFC 3339 with the clinic's offset.
    pub start: String,
    pub end: String,
}

/// `GET /api/v1/slots`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlotList {
    pub slots: Vec<SlotView>,
}

/// `Appointment` of `api.md`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppointmentView {
    pub id: String,
    pub patient: PatientView,
    pub provider: ProviderRef,
    /// The appointment type's id.
    #[serde(rename = "type")]
    pub type_id: String,
    /// RFC 3339 with the clinic's offset.
    pub start: String,
    pub end: String,
    /// `booked` or `cancelled`.
    pub status: String,
    /// `phone_agent` or `staff`.
    pub source: String,
    pub call_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderRef {
    pub id: String,
    pub name: String,
}

impl AppointmentView {
    pub fn of(a: &Appointment, clinic: &Clinic) -> AppointmentView {
        AppointmentView {
            id: a.id.clone(),
            patient: PatientView::from(&a.patient),
            provider: ProviderRef {
                id: a.provider_id.clone(),
                name: a.provider_name.clone(),
            },
            type_id: a.type_id.clone(),
            start: scheduling::api_time(clinic, a.start),
            end: scheduling::api_time(clinic, a.end),
            status: a.status.clone(),
            source: a.source.clone(),
            call_id: a.call_id.clone(),
        }
    }
}

/// `GET /api/v1/appointments`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppointmentList {
    pub appointments: Vec<AppointmentView>,
}

/// One row of a task's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntryView {
    pub at: String,
    /// Who; `null` for the agent and for lapsed claims.
    pub staff_id: Option<String>,
    /// `created`, `claimed`, `released`, `expired`, `note`, `reassigned`,
    /// `completed`, `attempt`.
    pub action: String,
    pub detail: Option<String>,
}

impl From<Entry> for HistoryEntryView {
    fn from(e: Entry) -> HistoryEntryView {
        HistoryEntryView {
            at: e.at,
            staff_id: e.staff_id,
            action: e.action,
            detail: e.detail,
        }
    }
}

/// `GET /readyz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// Always true: the server listens only once the models are loaded.
    pub models: bool,
    pub database: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_clinic_reads_as_api_md_says() {
        let json = serde_json::to_value(ClinicView::from(&Clinic::demo())).unwrap();
        assert_eq!(json["hours"][0]["day"], "monday");
        assert_eq!(json["hours"][0]["open"], "08:00");
        assert_eq!(json["timezone"], "America/New_York");
        assert!(json["providers"][0]["id"].is_string());
        assert!(json["appointment_types"][0]["minutes"].is_u64());
        assert!(json["accepting_new_patients"].is_boolean());
    }
}
