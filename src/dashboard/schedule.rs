//! `/schedule` (front desk): one clinic day, a column per provider, with
//! its appointments (those the agent booked marked) and open slots. Book,
//! move and cancel go through the staff API, which books with the same
//! functions as the phone (`scheduling::appointments`): a slot is never
//! booked twice, and a taken one answers 409, shown on the page.

use std::collections::BTreeSet;

use axum::extract::{Query, State};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use maud::{Markup, html};
use serde::Deserialize;

use super::page::{PageError, Viewer, shell};
use super::trail;
use crate::audit::Action;
use crate::scheduling::{self, AppointmentFilter, SlotQuery, appointments};
use crate::web::AppState;
use crate::web::policy::{Access, SCHEDULERS};
use crate::web::routes::Route;

pub fn routes() -> Vec<Route> {
    vec![Route::get("/schedule", Access::Roles(SCHEDULERS), page)]
}

#[derive(Deserialize)]
struct ScheduleParams {
    date: Option<String>,
    /// The appointment type whose open slots are shown.
    #[serde(rename = "type")]
    type_id: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(params): Query<ScheduleParams>,
) -> Result<Markup, PageError> {
    let now = state.clock.now();
    let date = match params.date.as_deref().filter(|d| !d.is_empty()) {
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| PageError::BadRequest("date must be a date like 2026-03-16".into()))?,
        None => state.clinic.local(now).date(),
    };
    let type_id = params
        .type_id
        .filter(|t| state.clinic.appointment_types.iter().any(|a| &a.id == t))
        .or_else(|| state.clinic.appointment_types.first().map(|t| t.id.clone()))
        .unwrap_or_default();
    // The day's appointments name their patients, as
    // `GET /api/v1/appointments` is audited.
    trail::record(&state, &viewer, Action::Search, "Appointment", None, None).await?;
    let booked = appointments::list(
        &state.db,
        &state.clinic,
        &AppointmentFilter {
            date: Some(date),
            status: Some("booked".into()),
            ..AppointmentFilter::default()
        },
    )
    .await?;
    let slots = appointments::find_slots(
        &state.db,
        &state.clinic,
        &SlotQuery {
            type_id: type_id.clone(),
            provider_id: None,
            from: date,
            to: date,
            part_of_day: None,
            limit: 1000,
        },
        now,
    )
    .await
    .map_err(|e| PageError::BadRequest(e.to_string()))?;
    let time = |t: DateTime<Utc>| state.clinic.local(t).format("%H:%M").to_string();
    let api_time = |t: DateTime<Utc>| scheduling::api_time(&state.clinic, t);
    let day_link = |d: NaiveDate| format!("/schedule?date={d}&type={type_id}");
    let content = html! {
        main id="main" class="schedule" {
            h1 { "Schedule, " (date.format("%A %-d %B %Y").to_string()) }
            nav class="pages" aria-label="Days" {
                a href=(day_link(date - Duration::days(1))) { "← Previous day" }
                a href=(day_link(date + Duration::days(1))) { "Next day →" }
            }
            form method="get" action="/schedule" class="filters" {
                label for="s-date" { "Day" }
                input id="s-date" type="date" name="date" value=(date.to_string());
                label for="s-type" { "Open slots for" }
                select id="s-type" name="type" {
                    @for t in &state.clinic.appointment_types {
                        @if t.id == type_id {
                            option value=(t.id) selected { (t.name) }
                        } @else {
                            option value=(t.id) { (t.name) }
                        }
                    }
                }
                button type="submit" { "Show" }
            }
            section class="panel" aria-label="Patient to book" {
                h2 { "Patient to book" }
                form class="filters patient-picker" onsubmit="return false" {
                    label for="p-name" { "Name" }
                    input id="p-name" name="patient_name" type="text";
                    label for="p-dob" { "Date of birth" }
                    input id="p-dob" name="patient_dob" type="date";
                    button type="button" class="find-patient" { "Find" }
                    label for="patient-pick" { "Patient" }
                    select id="patient-pick" name="patient_id" {}
                }
            }
            div class="schedule-grid" {
                @for provider in &state.clinic.providers {
                    @let mine: Vec<_> = booked.iter().filter(|a| a.provider_id == provider.id).collect();
                    @let open: Vec<_> = slots.iter().filter(|s| s.provider_id == provider.id).collect();
                    @let moves: BTreeSet<(String, String)> = open.iter().map(|s| (api_time(s.start), time(s.start))).collect();
                    section class="panel provider" aria-label=(provider.name) {
                        h2 { (provider.name) }
                        h3 { "Appointments" }
                        @if mine.is_empty() { p class="hint" { "None booked." } }
                        @for a in &mine {
                            div class={ "appt" @if a.source == "phone_agent" { " agent" } } data-appointment-id=(a.id) {
                                strong { (time(a.start)) "–" (time(a.end)) } " "
                                (a.patient.name) " · " (type_name(&state, &a.type_id))
                                @if a.source == "phone_agent" { " " span class="tag" { "booked by the agent" } }
                                form class="act" data-api={ "/api/v1/appointments/" (a.id) "/cancel" } data-reload data-done="Cancelled." {
                                    button type="submit" class="cancel" aria-label={ "Cancel " (a.patient.name) " at " (time(a.start)) } { "Cancel" }
                                }
                                @if a.type_id == type_id && !moves.is_empty() {
                                    form class="act" data-api={ "/api/v1/appointments/" (a.id) "/move" } data-reload data-done="Moved." {
                                        label for={ "move-" (a.id) } { "Move to" }
                                        select id={ "move-" (a.id) } name="start" {
                                            @for (value, label) in &moves { option value=(value) { (label) } }
                                        }
                                        button type="submit" { "Move" }
                                    }
                                }
                            }
                        }
                        h3 { "Open slots" }
                        @if open.is_empty() { p class="hint" { "No open slots." } }
                        @for s in &open {
                            div class="slot" {
                                form class="act" data-api="/api/v1/appointments" data-with-patient data-reload data-done="Booked." {
                                    input type="hidden" name="provider_id" value=(s.provider_id);
                                    input type="hidden" name="type" value=(s.type_id);
                                    input type="hidden" name="start" value=(api_time(s.start));
                                    span { (time(s.start)) "–" (time(s.end)) }
                                    button type="submit" class="book" aria-label={ "Book " (time(s.start)) " with " (provider.name) } { "Book" }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(shell(&viewer, "Schedule", "/schedule", content))
}

fn type_name(state: &AppState, id: &str) -> String {
    state
        .clinic
        .appointment_types
        .iter()
        .find(|t| t.id == id)
        .map(|t| t.name.clone())
        .unwrap_or_else(|| id.to_string())
}
