//! A task's context card: everything needed to call the patient back.
//! The caller's number (a button copies it), the verified patient (name,
//! date of birth, next appointment) or "not verified", why the agent
//! escalated (the call's intents, the agent's summary), the actions the
//! viewer may take, the call's transcript with speaker and time and its
//! recording (a turn clicked plays from there) for those `policy` lets
//! read them, and the task's history. Every text is escaped by the
//! template engine. Showing a card writes its access audit entries (the
//! task, the call's transcript), as the API's reads do.

use maud::{Markup, html};

use super::labels::{kind_label, priority_label, queue_label};
use super::page::{PageError, Viewer, clock_text, local_time, phone_text};
use super::trail;
use crate::audit::Action;
use crate::scheduling::{self, AppointmentFilter, appointments, patients};
use crate::staff;
use crate::tasks::history::{self, Entry};
use crate::tasks::lifecycle::Resolution;
use crate::tasks::{self, Task};
use crate::web::AppState;
use crate::web::auth::BREAK_GLASS_ID;
use crate::web::policy;

/// The card of task `id`, as the viewer may see it: 403 outside their
/// part of the queue, 404 when there is no such task.
pub async fn render(state: &AppState, viewer: &Viewer, id: &str) -> Result<Markup, PageError> {
    policy::expire_claims(state).await?;
    let task = tasks::get(&state.db, id)
        .await?
        .ok_or_else(|| PageError::NotFound(format!("There is no task {id}.")))?;
    if let Err(refused) = policy::check_task(&viewer.staff, &task) {
        trail::denied(
            state,
            viewer,
            "Task",
            Some(&task.id),
            task.patient_id.as_deref(),
        )
        .await?;
        return Err(refused.into());
    }
    trail::record(
        state,
        viewer,
        Action::Read,
        "Task",
        Some(&task.id),
        task.patient_id.as_deref(),
    )
    .await?;
    let mut histories = history::of_tasks(&state.db, std::slice::from_ref(&task.id)).await?;
    let entries = histories.remove(&task.id).unwrap_or_default();
    let holder = match &task.claimed_by {
        Some(h) => Some(staff_name(state, h).await),
        None => None,
    };
    let mine = task.claimed_by.as_deref() == Some(viewer.staff.id.as_str());
    let call = match &task.call_id {
        Some(call_id) => call_section(state, viewer, call_id, task.patient_id.as_deref()).await?,
        None => html! { p class="hint" { "This task did not come from a call." } },
    };
    let intents = match &task.call_id {
        Some(call_id) => state
            .db
            .get_call(call_id)
            .await?
            .map(|c| c.intents)
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let history = history_list(state, &entries).await;
    Ok(html! {
        article class="task-card" data-task-id=(task.id) data-status=(task.status) {
            h2 {
                span class={ "badge p-" (task.priority) } { (priority_label(&task.priority)) }
                " " (kind_label(&task.kind))
            }
            p class="meta" {
                (queue_label(&task.queue)) " queue · created " (local_time(state, &task.created_at))
                " · "
                span class="task-status" {
                    @match (task.status.as_str(), &holder) {
                        ("claimed", Some(name)) if mine => "Claimed by you",
                        ("claimed", Some(name)) => { "Claimed by " (name) },
                        ("done", _) => { "Done: " (task.resolution.as_deref().unwrap_or("")) },
                        _ => "Open",
                    }
                }
            }
            dl class="facts" {
                dt { "Caller" }
                dd {
                    @match &task.callback_number {
                        Some(number) => {
                            button type="button" class="copy" data-copy=(number)
                                aria-label={ "Copy the number " (phone_text(number)) } {
                                (phone_text(number))
                            }
                        },
                        None => "No number",
                    }
                }
                dt { "Patient" }
                dd { (patient_line(state, &task).await?) }
                dt { "Why" }
                dd {
                    @if !intents.is_empty() {
                        span class="intents" { (intents.join(", ").replace('_', " ")) }
                        br;
                    }
                    span class="summary" { (task.summary) }
                }
            }
            (actions(&task, mine))
            section aria-label="The call" { (call) }
            section aria-label="History" {
                h3 { "History" }
                (history)
            }
        }
    })
}

/// The verified patient (name, date of birth, next appointment), or
/// "Not verified".
pub async fn patient_line(state: &AppState, task: &Task) -> Result<Markup, PageError> {
    let Some(patient_id) = &task.patient_id else {
        return Ok(html! { span class="unverified" { "Not verified" } });
    };
    let Some(patient) = patients::get(&state.db, patient_id).await? else {
        return Ok(html! { span class="unverified" { "Not verified" } });
    };
    let next = appointments::list(
        &state.db,
        &state.clinic,
        &AppointmentFilter {
            patient_id: Some(patient.id.clone()),
            status: Some("booked".into()),
            starting_after: Some(state.clock.now()),
            limit: Some(1),
            ..AppointmentFilter::default()
        },
    )
    .await?;
    Ok(html! {
        span class="patient" {
            strong { (patient.name) }
            " · born " (patient.date_of_birth.format("%b %-d, %Y").to_string())
            br;
            @match next.first() {
                Some(a) => {
                    "Next appointment: " (local_time(state, &scheduling::db_time(a.start)))
                    " with " (a.provider_name)
                },
                None => "No upcoming appointment",
            }
        }
    })
}

fn actions(task: &Task, mine: bool) -> Markup {
    let api = |action: &str| format!("/api/v1/tasks/{}/{action}", task.id);
    html! {
        div class="actions" {
            @if task.status == "open" {
                form class="act" data-api=(api("claim")) {
                    button type="submit" class="primary claim" { "Claim" }
                }
            }
            @if task.status == "claimed" && mine {
                form class="act" data-api=(api("release")) {
                    button type="submit" class="release" { "Release" }
                }
                form class="act" data-api=(api("complete")) {
                    input type="hidden" name="resolution" value="no_answer";
                    button type="submit" class="no-answer" { "Called: no answer" }
                }
                form class="act complete" data-api=(api("complete")) {
                    label for="resolution" { "Resolution" }
                    select id="resolution" name="resolution" required {
                        @for r in Resolution::ALL {
                            @if r != Resolution::NoAnswer {
                                option value=(r.as_str()) { (kind_label(r.as_str())) }
                            }
                        }
                    }
                    label for="complete-note" { "Note (optional)" }
                    input id="complete-note" name="note" type="text" maxlength="4000";
                    button type="submit" class="primary complete-button" { "Complete" }
                }
            }
            @if task.status != "done" {
                form class="act note" data-api=(api("notes")) {
                    label for="note-text" { "Add a note" }
                    textarea id="note-text" name="text" rows="2" maxlength="4000" required {}
                    button type="submit" class="add-note" { "Add note" }
                }
            }
        }
    }
}

/// The call's transcript and recording, for those who may read them.
async fn call_section(
    state: &AppState,
    viewer: &Viewer,
    call_id: &str,
    task_patient: Option<&str>,
) -> Result<Markup, PageError> {
    if !policy::may_read_call(state, &viewer.staff, call_id).await? {
        return Ok(html! {
            h3 { "The call" }
            p class="hint" { "Claim this task to read the call's transcript and hear its recording." }
        });
    }
    let Some(call) = state.db.get_call(call_id).await? else {
        return Ok(html! { p class="hint" { "The call's record is gone." } });
    };
    trail::record(
        state,
        viewer,
        Action::Read,
        "Call",
        Some(call_id),
        call.patient_id.as_deref().or(task_patient),
    )
    .await?;
    let turns = state.db.list_turns(call_id).await?;
    let recorded = match &call.recording_path {
        Some(path) => tokio::fs::metadata(path).await.is_ok_and(|m| m.len() > 44),
        None => false,
    };
    Ok(transcript(
        state,
        call_id,
        &call.started_at,
        recorded,
        &turns,
    ))
}

/// What was said so far on the call of a task the viewer holds (a warm
/// transfer ringing them): speaker, time and words, for reading before
/// they pick up. Empty for anyone who may not read the call.
pub async fn transcript_so_far(
    state: &AppState,
    viewer: &Viewer,
    task: &Task,
) -> Result<Markup, PageError> {
    let Some(call_id) = &task.call_id else {
        return Ok(html! {});
    };
    if !policy::may_read_call(state, &viewer.staff, call_id).await? {
        return Ok(html! {});
    }
    let Some(call) = state.db.get_call(call_id).await? else {
        return Ok(html! {});
    };
    trail::record(
        state,
        viewer,
        Action::Read,
        "Call",
        Some(call_id),
        call.patient_id.as_deref().or(task.patient_id.as_deref()),
    )
    .await?;
    let turns = state.db.list_turns(call_id).await?;
    Ok(html! {
        @if turns.is_empty() {
            p class="hint" { "Nothing was said yet." }
        } @else {
            ol class="transcript so-far" aria-label="What was said so far" {
                @for turn in &turns {
                    li class={ "turn " (turn.speaker) } {
                        span class="turn-time" { (clock_text(turn.started_at_ms)) }
                        " "
                        span class="speaker" { @if turn.speaker == "agent" { "Agent" } @else { "Caller" } }
                        ": "
                        span class="words" { (turn.text) }
                    }
                }
            }
        }
    })
}

/// A call's transcript (each turn a button that plays the recording from
/// there) and the recording's player.
pub fn transcript(
    state: &AppState,
    call_id: &str,
    started_at: &str,
    recorded: bool,
    turns: &[crate::store::calls::TurnRecord],
) -> Markup {
    html! {
        h3 { "The call, " (local_time(state, started_at)) }
        @if recorded {
            audio id="recording" class="recording" controls preload="metadata"
                src={ "/api/v1/calls/" (call_id) "/recording" } {
                "Your browser cannot play the recording."
            }
        } @else {
            p class="hint no-recording" { "No recording was saved for this call." }
        }
        @if turns.is_empty() {
            p class="hint" { "Nothing was said yet." }
        } @else {
            ol class="transcript" {
                @for turn in turns {
                    li class={ "turn " (turn.speaker) } {
                        @if recorded {
                            button type="button" class="turn-play" data-at-ms=(turn.started_at_ms)
                                aria-label={ "Play from " (clock_text(turn.started_at_ms)) } {
                                (clock_text(turn.started_at_ms))
                            }
                        } @else {
                            span class="turn-time" { (clock_text(turn.started_at_ms)) }
                        }
                        " "
                        span class="speaker" { @if turn.speaker == "agent" { "Agent" } @else { "Caller" } }
                        ": "
                        span class="words" { (turn.text) }
                    }
                }
            }
        }
    }
}

async fn staff_name(state: &AppState, id: &str) -> String {
    if id == BREAK_GLASS_ID {
        return "the break-glass admin".into();
    }
    match staff::get(&state.db, id).await {
        Ok(Some(member)) => member.name,
        _ => format!("staff {id}"),
    }
}

async fn history_list(state: &AppState, entries: &[Entry]) -> Markup {
    let mut names = Vec::with_capacity(entries.len());
    for e in entries {
        names.push(match &e.staff_id {
            Some(id) => staff_name(state, id).await,
            None => "the agent".into(),
        });
    }
    html! {
        ol class="history" {
            @for (e, who) in entries.iter().zip(names) {
                li {
                    span class="when" { (local_time(state, &e.at)) }
                    " " (who) " · " (e.action.replace('_', " "))
                    @if let Some(detail) = &e.detail {
                        ": " span class={ "detail " (e.action) } { (detail) }
                    }
                }
            }
        }
    }
}
