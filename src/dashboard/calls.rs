//! `/calls` (managers): the day's and week's numbers as small charts, the
//! calls with search and filters (date range, outcome, intent, words of
//! the transcript), and `/calls/{id}`: one call's transcript with its
//! recording (a clicked turn plays from there; the playing turn is
//! marked), and the tasks and appointments the call produced. Both
//! pages are in the access audit. The audit itself is `access_audit`.

use axum::extract::{Path, Query, State};
use chrono::{Duration, NaiveDate};
use maud::{Markup, html};
use serde::Deserialize;

use super::card::transcript;
use super::charts;
use super::labels::{kind_label, queue_label};
use super::numbers::{self, Numbers};
use super::page::{PageError, Viewer, local_time, phone_text, shell};
use super::trail;
use crate::audit::Action;
use crate::scheduling::appointments::local_day_bounds;
use crate::scheduling::{AppointmentFilter, appointments, db_time};
use crate::store::calls::CallFilter;
use crate::tasks::{self, TaskFilter};
use crate::vocabulary::Intent;
use crate::web::AppState;
use crate::web::policy::{Access, MANAGERS};
use crate::web::routes::Route;

/// Calls on one page of the list.
const PAGE_SIZE: i64 = 50;

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/calls", Access::Roles(MANAGERS), page),
        Route::get("/calls/{id}", Access::Roles(MANAGERS), one),
    ]
}

const OUTCOMES: &[&str] = &[
    "in_progress",
    "booked",
    "rescheduled",
    "cancelled",
    "answered",
    "escalated",
    "transferred",
    "emergency",
    "abandoned",
];

/// The intents a call can be searched by: what callers ask for (the
/// conversational ones, yes/no/goodbye, say nothing of a call).
fn intents() -> Vec<&'static str> {
    Intent::ALL
        .iter()
        .map(|i| i.as_str())
        .filter(|i| !["affirm", "deny", "inform", "goodbye", "out_of_scope"].contains(i))
        .collect()
}

#[derive(Clone, Debug, Default, Deserialize)]
struct CallParams {
    /// First clinic day, `YYYY-MM-DD`.
    from: Option<String>,
    /// Last clinic day, `YYYY-MM-DD`.
    to: Option<String>,
    outcome: Option<String>,
    intent: Option<String>,
    q: Option<String>,
    /// `started_at|id` of the previous page's last call.
    after: Option<String>,
}

fn date(field: &str, value: &Option<String>) -> Result<Option<NaiveDate>, PageError> {
    match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| PageError::BadRequest(format!("{field} must be a date like 2026-03-16"))),
        None => Ok(None),
    }
}

fn nonempty(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(String::from)
}

async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(params): Query<CallParams>,
) -> Result<Markup, PageError> {
    let today = state.clinic.local(state.clock.now()).date();
    let day = numbers::between(&state.db, &state.clinic, today, today).await?;
    let week = numbers::between(&state.db, &state.clinic, today - Duration::days(6), today).await?;
    let overdue = numbers::overdue_now(&state.db, &state.clinic, state.clock.now()).await?;

    let from = date("from", &params.from)?;
    let to = date("to", &params.to)?;
    let outcome = nonempty(&params.outcome).filter(|o| OUTCOMES.contains(&o.as_str()));
    let intent_names = intents();
    let intent = nonempty(&params.intent).filter(|i| intent_names.contains(&i.as_str()));
    let q = nonempty(&params.q);
    let cursor = nonempty(&params.after).and_then(|a| {
        a.split_once('|')
            .map(|(s, i)| (s.to_string(), i.to_string()))
    });
    let filter = CallFilter {
        since: from.map(|d| millis(local_day_bounds(&state.clinic, d).0)),
        until: to.map(|d| millis(local_day_bounds(&state.clinic, d).1)),
        outcome: outcome.clone(),
        intent: intent.clone(),
        q: q.clone(),
        limit: PAGE_SIZE,
        cursor,
    };
    // A listing of calls (callers' numbers, words searched), as
    // `GET /api/v1/calls` is audited.
    trail::record(&state, &viewer, Action::Search, "Call", None, None).await?;
    let calls = state.db.list_calls(&filter).await?;
    let next = (calls.len() as i64 == PAGE_SIZE)
        .then(|| calls.last().map(|c| format!("{}|{}", c.started_at, c.id)))
        .flatten();
    let keep = |key: &str, value: &Option<String>| {
        value
            .as_ref()
            .map(|v| format!("{key}={}&", url_escape(v)))
            .unwrap_or_default()
    };
    let next_link = next.map(|after| {
        format!(
            "/calls?{}{}{}{}{}after={}",
            keep("from", &params.from),
            keep("to", &params.to),
            keep("outcome", &outcome),
            keep("intent", &intent),
            keep("q", &q),
            url_escape(&after)
        )
    });
    let select = |name: &str, label: &str, values: &[&str], current: &Option<String>| {
        html! {
            label for={ "f-" (name) } { (label) }
            select id={ "f-" (name) } name=(name) {
                option value="" { "Any" }
                @for v in values {
                    @if current.as_deref() == Some(*v) {
                        option value=(v) selected { (kind_label(v)) }
                    } @else {
                        option value=(v) { (kind_label(v)) }
                    }
                }
            }
        }
    };
    let content = html! {
        main id="main" class="calls" {
            h1 { "Calls" }
            p { a href="/calls/audit" { "The access audit: who read or did what" } }
            (numbers_section("Today", &day, None))
            (numbers_section("The last 7 days", &week, Some(&overdue)))
            section class="panel" aria-label="Find calls" {
                h2 { "Find calls" }
                form method="get" action="/calls" class="filters" {
                    label for="f-from" { "From" }
                    input id="f-from" type="date" name="from" value=[params.from.as_deref()];
                    label for="f-to" { "To" }
                    input id="f-to" type="date" name="to" value=[params.to.as_deref()];
                    (select("outcome", "Outcome", OUTCOMES, &outcome))
                    (select("intent", "Intent", &intent_names, &intent))
                    label for="f-q" { "Words said" }
                    input id="f-q" type="search" name="q" value=[q.as_deref()];
                    button type="submit" { "Search" }
                }
                @if calls.is_empty() {
                    p { "No calls match." }
                } @else {
                    table class="call-list" {
                        thead { tr {
                            th scope="col" { "Started" }
                            th scope="col" { "Caller" }
                            th scope="col" { "Length" }
                            th scope="col" { "Outcome" }
                            th scope="col" { "Intents" }
                        } }
                        tbody {
                            @for call in &calls {
                                tr data-call-id=(call.id) {
                                    td { a href={ "/calls/" (call.id) } class="open-call" { (local_time(&state, &call.started_at)) } }
                                    td { (call.from.as_deref().map(phone_text).unwrap_or_default()) }
                                    td { (call.duration_s.map(|s| format!("{}:{:02}", (s as i64) / 60, (s as i64) % 60)).unwrap_or_default()) }
                                    td { (call.outcome.replace('_', " ")) }
                                    td { (call.intents.join(", ").replace('_', " ")) }
                                }
                            }
                        }
                    }
                    @if let Some(link) = &next_link {
                        p { a href=(link) rel="next" { "Older calls →" } }
                    }
                }
            }
        }
    };
    Ok(shell(&viewer, "Calls", "/calls", content))
}

fn numbers_section(
    title: &str,
    n: &Numbers,
    overdue: Option<&std::collections::BTreeMap<String, i64>>,
) -> Markup {
    let latency = |ms: Option<i64>| {
        ms.map(|v| format!("{:.1} s", v as f64 / 1000.0))
            .unwrap_or_else(|| "—".into())
    };
    let queues: Vec<(String, i64)> = n
        .escalations_by_queue
        .iter()
        .map(|(q, c)| (queue_label(q).to_string(), *c))
        .collect();
    html! {
        section class="panel numbers" aria-label=(title) {
            h2 { (title) }
            div class="tiles" {
                div class="tile" { div class="n" { (n.calls) } "calls" }
                div class="tile" {
                    div class="n" { (n.containment_percent().map(|p| format!("{p}%")).unwrap_or_else(|| "—".into())) }
                    "handled without staff"
                }
                div class="tile" { div class="n" { (n.bookings) } "booked by the agent" }
                div class="tile" { div class="n" { (n.transfers) } "transferred" }
                div class="tile" { div class="n" { (n.abandoned) } "abandoned" }
                div class="tile" { div class="n" { (latency(n.latency_p50_ms)) } "reply p50" }
                div class="tile" { div class="n" { (latency(n.latency_p95_ms)) } "reply p95" }
            }
            div class="charts" {
                (charts::bars("Escalations per queue", &queues))
                @if n.per_day.len() > 1 {
                    (charts::days("Calls per day", &n.per_day.iter().map(|(d, c, k)| (d.format("%a").to_string(), *c, *k)).collect::<Vec<_>>()))
                }
                @if let Some(overdue) = overdue {
                    (charts::bars("Overdue tasks now", &overdue.iter().map(|(q, c)| (queue_label(q).to_string(), *c)).collect::<Vec<_>>()))
                }
            }
        }
    }
}

/// How calls and audit entries store their times (to the millisecond).
pub(super) fn millis(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Percent-encodes a query value.
pub(super) fn url_escape(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

async fn one(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Markup, PageError> {
    let call = state
        .db
        .get_call(&id)
        .await?
        .ok_or_else(|| PageError::NotFound(format!("There is no call {id}.")))?;
    trail::record(
        &state,
        &viewer,
        Action::Read,
        "Call",
        Some(&id),
        call.patient_id.as_deref(),
    )
    .await?;
    let turns = state.db.list_turns(&id).await?;
    let recorded = match &call.recording_path {
        Some(path) => tokio::fs::metadata(path).await.is_ok_and(|m| m.len() > 44),
        None => false,
    };
    let call_tasks = tasks::list(
        &state.db,
        &TaskFilter {
            call_id: Some(id.clone()),
            ..TaskFilter::default()
        },
    )
    .await?;
    let booked = appointments::list(
        &state.db,
        &state.clinic,
        &AppointmentFilter {
            call_id: Some(id.clone()),
            ..AppointmentFilter::default()
        },
    )
    .await?;
    // The appointments it produced name their patients: one entry each.
    let mut patients: Vec<&str> = booked.iter().map(|a| a.patient.id.as_str()).collect();
    patients.sort_unstable();
    patients.dedup();
    for patient in patients {
        trail::record(
            &state,
            &viewer,
            Action::Search,
            "Appointment",
            None,
            Some(patient),
        )
        .await?;
    }
    let content = html! {
        main id="main" class="call" {
            p { a href="/calls" { "← All calls" } }
            h1 { "Call from " (call.from.as_deref().map(phone_text).unwrap_or_else(|| "an unknown number".into())) }
            p class="meta" {
                "Outcome: " strong { (call.outcome.replace('_', " ")) }
                @if let Some(reason) = &call.ended_reason { " · ended: " (reason.replace('_', " ")) }
                @if let Some(s) = call.duration_s { " · " (format!("{}:{:02}", (s as i64) / 60, (s as i64) % 60)) }
            }
            div class="columns" {
                section class="panel" aria-label="Transcript" {
                    (transcript(&state, &id, &call.started_at, recorded, &turns))
                }
                section class="panel" aria-label="What the call produced" {
                    h2 { "Tasks" }
                    @if call_tasks.is_empty() { p class="hint" { "None." } }
                    ul {
                        @for t in &call_tasks {
                            li { a href={ "/queue?task=" (t.id) } { (kind_label(&t.kind)) } " · " (queue_label(&t.queue)) " · " (t.status) }
                        }
                    }
                    h2 { "Appointments" }
                    @if booked.is_empty() { p class="hint" { "None." } }
                    ul {
                        @for a in &booked {
                            li { (a.patient.name) " with " (a.provider_name) ", " (local_time(&state, &db_time(a.start))) " · " (a.status) }
                        }
                    }
                }
            }
        }
    };
    Ok(shell(&viewer, "Call", "/calls", content))
}
