//! The front desk: runs the pure dialogue for one call and performs the
//! actions it asks for (patient lookups, slots, bookings, tasks) against the
//! database. Implements the call loop's [`Conversation`] seam; [`hints`]
//! tells recognition which words each of its questions expects.
//!
//! Every action of a turn completes before the turn is returned, so the
//! caller never hears a promise ("someone will call you back") whose task
//! is not yet written.

pub mod hints;
mod transfer;

use std::collections::VecDeque;
use std::sync::Arc;

use futures_util::future::BoxFuture;

use self::hints::ListeningHints;
use crate::call::{AgentTurn, CallInfo, Conversation, ConversationFactory};
use crate::clinic::{Clinic, Clock, Prompts};
use crate::dialogue::BookFailure;
use crate::dialogue::{Action, ActionResult, ApptRef, Dialogue, Env, Input, PatientRef, TaskDraft};
use crate::scheduling::{
    self, BookError, BookRequest, Match, Registration, Source, appointments, patients,
};
use crate::store::Db;
use crate::tasks;
use crate::vocabulary::{AfterSpeech, Asked, CallEvent, Outcome};

/// Upper bound on actions in one turn; a loop guard, never reached in practice.
const MAX_ACTIONS_PER_TURN: usize = 64;

/// Creates one [`DeskCall`] per call; cheap to clone.
#[derive(Clone)]
pub struct Desk {
    pub db: Db,
    pub clinic: Arc<Clinic>,
    pub prompts: Arc<Prompts>,
    pub clock: Clock,
    hints: Arc<ListeningHints>,
    /// Whether calls can be put through to staff (the carrier can move a
    /// call: Twilio credentials are set).
    transfers: bool,
}

impl Desk {
    pub fn new(db: Db, clinic: Arc<Clinic>, prompts: Arc<Prompts>, clock: Clock) -> Desk {
        Desk {
            db,
            hints: Arc::new(ListeningHints::for_clinic(&clinic)),
            clinic,
            prompts,
            clock,
            transfers: true,
        }
    }

    /// No warm transfers (the carrier cannot move calls): callers who ask
    /// for a person get a callback task, as when nobody is available.
    pub fn without_transfers(mut self) -> Desk {
        self.transfers = false;
        self
    }

    pub fn call(&self, call_id: &str, from: Option<&str>) -> DeskCall {
        DeskCall {
            desk: self.clone(),
            call_id: call_id.to_string(),
            dialogue: Dialogue::new(from),
            transfer: None,
            caller_phone: from.and_then(patients::PhoneNumber::parse),
        }
    }
}

impl ConversationFactory for Desk {
    fn start(&self, call: &CallInfo) -> Box<dyn Conversation> {
        Box::new(self.call(&call.call_id, call.from.as_deref()))
    }

    fn fixed_sentences(&self) -> Vec<String> {
        let mut out = vec![
            self.prompts
                .render("greeting", &[("clinic", &self.clinic.name)]),
        ];
        // Every sentence of every template that has no slot to fill: most
        // replies start with one ("What is the visit for?").
        for key in self.prompts.keys() {
            if let Some(t) = self.prompts.template(key) {
                out.extend(
                    crate::tts::text::split_sentences(t)
                        .into_iter()
                        .filter(|s| !s.contains('{') && !s.trim().is_empty()),
                );
            }
        }
        out
    }
}

/// One call at the front desk.
pub struct DeskCall {
    desk: Desk,
    call_id: String,
    dialogue: Dialogue,
    /// The warm transfer this call asked for, once its task is written.
    transfer: Option<transfer::Ringing>,
    /// The number the call comes from (caller ID), when it is a US number:
    /// a weak name match is settled by it when it is the number on file of
    /// exactly one of the records the name could be.
    caller_phone: Option<patients::PhoneNumber>,
}

impl Conversation for DeskCall {
    fn handle(&mut self, event: CallEvent) -> BoxFuture<'_, anyhow::Result<AgentTurn>> {
        Box::pin(self.turn(event))
    }

    fn transfer_failed(&mut self, why: String) -> BoxFuture<'_, anyhow::Result<AgentTurn>> {
        Box::pin(self.after_failed_transfer(why))
    }

    /// A front-desk callback task ("call ended by server shutdown"); the
    /// call is then `escalated`, as any call that leaves a task for staff.
    fn asked(&self) -> Option<Asked> {
        self.dialogue.asked()
    }

    fn ended_by_server(&mut self) -> BoxFuture<'_, anyhow::Result<Option<Outcome>>> {
        Box::pin(async {
            let draft = self.dialogue.shutdown_task();
            if self.create_task(draft).await {
                tracing::info!(call_id = %self.call_id, "callback task left for a call ended by the server's stop");
                Ok(Some(Outcome::Escalated))
            } else {
                anyhow::bail!(
                    "the callback task for a call ended by the server's stop was not written"
                )
            }
        })
    }
}

impl DeskCall {
    pub fn dialogue(&self) -> &Dialogue {
        &self.dialogue
    }

    /// Runs one event through the dialogue and performs every action.
    pub async fn turn(&mut self, event: CallEvent) -> anyhow::Result<AgentTurn> {
        let desk = self.desk.clone();
        let now_utc = desk.clock.now();
        let now = desk.clinic.local(now_utc);
        let on_duty = self.on_duty(now).await;
        let env = Env {
            clinic: &desk.clinic,
            prompts: &desk.prompts,
            now,
            on_duty: on_duty.as_ref(),
        };
        let mut turn = AgentTurn::default();
        let mut queue: VecDeque<Action> = self.dialogue.step(&env, Input::Call(event)).into();
        let mut done = 0;
        while let Some(action) = queue.pop_front() {
            done += 1;
            if done > MAX_ACTIONS_PER_TURN {
                tracing::error!(call_id = %self.call_id, "dialogue action loop guard tripped");
                break;
            }
            let result = match action {
                Action::Say(s) => {
                    turn.say.push(s);
                    continue;
                }
                Action::SetPatient(id) => {
                    turn.patient_id = Some(id);
                    continue;
                }
                Action::Outcome(o) => {
                    turn.outcome = Some(o);
                    continue;
                }
                Action::Finish { outcome, then } => {
                    if let (AfterSpeech::Transfer { .. }, Some(staff)) = (&then, &on_duty) {
                        // The card on their screen before their phone rings.
                        self.ring(&env, staff, now_utc).await;
                    }
                    turn.outcome = Some(outcome);
                    turn.then = then;
                    continue;
                }
                other => self.perform(other, now_utc).await,
            };
            queue.extend(self.dialogue.step(&env, Input::Result(result)));
        }
        turn.listen_for = desk.hints.for_phase(self.dialogue.phase);
        Ok(turn)
    }

    fn appt_ref(&self, a: &scheduling::Appointment) -> ApptRef {
        ApptRef {
            id: a.id.clone(),
            provider_id: a.provider_id.clone(),
            type_id: a.type_id.clone(),
            start_local: self.desk.clinic.local(a.start),
        }
    }

    fn book_failure(&self, e: BookError) -> BookFailure {
        match e {
            BookError::SlotTaken => BookFailure::SlotTaken,
            BookError::SameDay { existing } => BookFailure::SameDay {
                existing_local: self.desk.clinic.local(existing.start),
            },
            other => {
                tracing::warn!(call_id = %self.call_id, error = %other, "booking failed");
                BookFailure::Failed
            }
        }
    }

    /// The one candidate whose number on file is the number calling, if
    /// exactly one is: the second factor the caller need not say. Twins
    /// sharing a home phone both fit, so they are still asked.
    fn on_file(&self, candidates: &[patients::Candidate]) -> Option<PatientRef> {
        let caller = self.caller_phone.as_ref()?;
        let mut fits = candidates
            .iter()
            .filter(|c| c.patient.phone.as_deref() == Some(caller.as_str()));
        match (fits.next(), fits.next()) {
            (Some(c), None) => Some(PatientRef {
                id: c.patient.id.clone(),
            }),
            _ => None,
        }
    }

    async fn perform(&self, action: Action, now: chrono::DateTime<chrono::Utc>) -> ActionResult {
        let db = &self.desk.db;
        let clinic = &*self.desk.clinic;
        let today = clinic.local(now).date();
        let log = |what: &str, e: &dyn std::fmt::Display| {
            tracing::error!(call_id = %self.call_id, action = what, error = %e, "front desk action failed");
        };
        match action {
            Action::Verify {
                name,
                date_of_birth,
            } => match patients::match_identity(db, &name, date_of_birth).await {
                Ok(Match::Exact(c)) => {
                    ActionResult::Verified(Some(PatientRef { id: c.patient.id }))
                }
                Ok(Match::NeedsSecondFactor(list)) => match self.on_file(&list) {
                    Some(p) => ActionResult::Verified(Some(p)),
                    None => ActionResult::SecondFactorNeeded,
                },
                Ok(Match::None) => ActionResult::Verified(None),
                Err(e) => {
                    log("verify", &e);
                    ActionResult::Verified(None)
                }
            },
            Action::CheckSecondFactor {
                name,
                date_of_birth,
                factor,
            } => match patients::verify_second_factor(db, &name, date_of_birth, &factor).await {
                Ok(p) => ActionResult::SecondFactorChecked(p.map(|p| PatientRef { id: p.id })),
                Err(e) => {
                    log("second_factor", &e);
                    ActionResult::SecondFactorChecked(None)
                }
            },
            Action::Register {
                name,
                date_of_birth,
                phone: _,
                confirmed: false,
            } => match patients::match_identity(db, &name, date_of_birth).await {
                Ok(Match::Exact(c)) => {
                    ActionResult::Registered(Some(PatientRef { id: c.patient.id }))
                }
                Ok(Match::NeedsSecondFactor(list)) => match self.on_file(&list) {
                    Some(p) => ActionResult::Registered(Some(p)),
                    None => ActionResult::SecondFactorNeeded,
                },
                Ok(Match::None) => ActionResult::NewIdentity,
                Err(e) => {
                    log("register", &e);
                    ActionResult::Registered(None)
                }
            },
            Action::Register {
                name,
                date_of_birth,
                phone,
                confirmed: true,
            } => {
                let new = patients::NewPatient {
                    name,
                    date_of_birth,
                    phone,
                };
                match patients::find_or_register(db, &new, today).await {
                    Ok(Registration::Existing(p) | Registration::Created(p)) => {
                        ActionResult::Registered(Some(PatientRef { id: p.id }))
                    }
                    Ok(Registration::NeedsSecondFactor) => ActionResult::SecondFactorNeeded,
                    Err(e) => {
                        log("register", &e);
                        ActionResult::Registered(None)
                    }
                }
            }
            Action::FindSlots(query) => {
                match appointments::find_slots(db, clinic, &query, now).await {
                    Ok(slots) => ActionResult::Slots(Some(slots)),
                    Err(e) => {
                        log("find_slots", &e);
                        ActionResult::Slots(None)
                    }
                }
            }
            Action::ListAppointments { patient_id } => {
                let filter = appointments::AppointmentFilter {
                    patient_id: Some(patient_id),
                    status: Some("booked".into()),
                    starting_after: Some(now),
                    limit: Some(20),
                    ..Default::default()
                };
                match appointments::list(db, clinic, &filter).await {
                    Ok(list) => ActionResult::Appointments(Some(
                        list.iter().map(|a| self.appt_ref(a)).collect(),
                    )),
                    Err(e) => {
                        log("list_appointments", &e);
                        ActionResult::Appointments(None)
                    }
                }
            }
            Action::Book { patient_id, slot } => {
                let req = BookRequest {
                    patient_id,
                    provider_id: slot.provider_id,
                    type_id: slot.type_id,
                    start: slot.start,
                    source: Source::PhoneAgent,
                    call_id: Some(self.call_id.clone()),
                    one_per_day: true,
                };
                match appointments::book(db, clinic, &req, now).await {
                    Ok(a) => ActionResult::Booked(Ok(self.appt_ref(&a))),
                    Err(e) => ActionResult::Booked(Err(self.book_failure(e))),
                }
            }
            Action::Reschedule {
                appointment_id,
                patient_id,
                slot,
            } => {
                let req = BookRequest {
                    patient_id,
                    provider_id: slot.provider_id,
                    type_id: slot.type_id,
                    start: slot.start,
                    source: Source::PhoneAgent,
                    call_id: Some(self.call_id.clone()),
                    one_per_day: true,
                };
                match appointments::reschedule(db, clinic, &appointment_id, &req, now).await {
                    Ok(a) => ActionResult::Rescheduled(Ok(self.appt_ref(&a))),
                    Err(e) => ActionResult::Rescheduled(Err(self.book_failure(e))),
                }
            }
            Action::Cancel { appointment_id } => {
                match appointments::cancel(db, &appointment_id).await {
                    Ok(a) => ActionResult::Cancelled(Ok(self.appt_ref(&a))),
                    Err(e) => ActionResult::Cancelled(Err(self.book_failure(e))),
                }
            }
            Action::CreateTask(draft) => ActionResult::TaskCreated(self.create_task(draft).await),
            Action::Say(_) | Action::SetPatient(_) | Action::Outcome(_) | Action::Finish { .. } => {
                unreachable!("handled by the turn loop")
            }
        }
    }

    async fn create_task(&self, draft: TaskDraft) -> bool {
        let db = &self.desk.db;
        let mut summary = draft.summary;
        let mut patient_id = draft.patient_id;
        if patient_id.is_none()
            && let Some((name, dob)) = &draft.identity
        {
            // The same rule as verification: an exact match, or a weak one
            // settled by the number calling being the one on file.
            match patients::match_identity(db, name, *dob).await {
                Ok(Match::Exact(c)) => patient_id = Some(c.patient.id),
                Ok(Match::NeedsSecondFactor(list)) => match self.on_file(&list) {
                    Some(p) => patient_id = Some(p.id),
                    None => summary.push_str(
                        " The name given is close to a patient record but not exact; not linked, please confirm with the caller.",
                    ),
                },
                Ok(Match::None) => summary
                    .push_str(" The name and date of birth given did not match a patient record."),
                Err(e) => {
                    tracing::warn!(call_id = %self.call_id, error = %e, "patient link failed")
                }
            }
        }
        let new = tasks::NewTask {
            queue: draft.queue,
            priority: draft.priority,
            kind: draft.kind,
            summary,
            call_id: Some(self.call_id.clone()),
            patient_id,
            callback_number: draft.callback_number,
        };
        match tasks::create(db, &new).await {
            Ok(_) => true,
            Err(e) => {
                tracing::error!(call_id = %self.call_id, error = %format!("{e:#}"), "task not written");
                false
            }
        }
    }
}
