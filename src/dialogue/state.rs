//! What the dialogue holds and what goes in and out of it: the state of one
//! call (`Dialogue`), the phase and goal, the inputs (call events, action
//! results) and the actions the runner performs.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

use crate::clinic::{Clinic, Prompts};
use crate::scheduling::{SecondFactor, Slot, SlotQuery};
pub use crate::staff::availability::OnDuty;
use crate::vocabulary::{
    AfterSpeech, Asked, CallEvent, Outcome, PartOfDay, Priority, Queue, TaskKind,
};

/// What the machine may read besides its own state: configuration, the
/// prompt templates, the clinic's local time, and who can take a warm
/// transfer now.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    pub clinic: &'a Clinic,
    pub prompts: &'a Prompts,
    pub now: NaiveDateTime,
    /// A staff member available for transfers (`None`: nobody, so callers
    /// who ask for a person get a callback task).
    pub on_duty: Option<&'a OnDuty>,
}

impl Env<'_> {
    /// The clinic's local date.
    pub(super) fn today(&self) -> NaiveDate {
        self.now.date()
    }
}

/// A patient as the dialogue knows one: only an id once verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatientRef {
    pub id: String,
}

/// An existing appointment of the verified caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApptRef {
    pub id: String,
    pub provider_id: String,
    pub type_id: String,
    pub start_local: NaiveDateTime,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BookFailure {
    /// Someone else got the slot first.
    SlotTaken,
    /// The patient already has an appointment that day.
    SameDay { existing_local: NaiveDateTime },
    /// Anything else (database down, slot no longer valid).
    Failed,
}

/// What an action produced, fed back as the next input.
#[derive(Clone, Debug, PartialEq)]
pub enum ActionResult {
    Verified(Option<PatientRef>),
    Registered(Option<PatientRef>),
    /// The name could be more than one record, or is only close to one:
    /// a second factor must settle it (nothing about a record is said).
    SecondFactorNeeded,
    /// No record has this name and date of birth: read them back before
    /// a registration (`Register { confirmed: true, .. }`).
    NewIdentity,
    /// The one record the second factor fits, or `None` (the same words
    /// as "not found").
    SecondFactorChecked(Option<PatientRef>),
    Slots(Option<Vec<Slot>>),
    Appointments(Option<Vec<ApptRef>>),
    Booked(Result<ApptRef, BookFailure>),
    Rescheduled(Result<ApptRef, BookFailure>),
    Cancelled(Result<ApptRef, BookFailure>),
    TaskCreated(bool),
}

#[derive(Clone, Debug)]
pub enum Input {
    Call(CallEvent),
    Result(ActionResult),
}

/// A task the runner writes to the queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskDraft {
    pub kind: TaskKind,
    pub queue: Queue,
    pub priority: Priority,
    pub summary: String,
    pub callback_number: Option<String>,
    /// Set when the caller was verified in this call.
    pub patient_id: Option<String>,
    /// Name and date of birth as given, so the runner can link a matching
    /// record without the caller ever learning whether one exists.
    pub identity: Option<(String, NaiveDate)>,
}

/// What the machine asks the runner to do, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Say(String),
    /// Name and date of birth must match one record → `Verified`.
    Verify {
        name: String,
        date_of_birth: NaiveDate,
    },
    /// Find the matching patient → `Registered`; a weak match →
    /// `SecondFactorNeeded`; none → `NewIdentity`, or, once the caller
    /// confirmed the read-back (`confirmed`), a new registration.
    Register {
        name: String,
        date_of_birth: NaiveDate,
        phone: Option<String>,
        confirmed: bool,
    },
    /// Which record the name could be has this phone number or ZIP code
    /// → `SecondFactorChecked`.
    CheckSecondFactor {
        name: String,
        date_of_birth: NaiveDate,
        factor: SecondFactor,
    },
    FindSlots(SlotQuery),
    /// Upcoming booked appointments → `Appointments`.
    ListAppointments {
        patient_id: String,
    },
    Book {
        patient_id: String,
        slot: Slot,
    },
    Reschedule {
        appointment_id: String,
        patient_id: String,
        slot: Slot,
    },
    Cancel {
        appointment_id: String,
    },
    CreateTask(TaskDraft),
    /// The caller's identity is verified (`AgentTurn.patient_id`).
    SetPatient(String),
    /// The call ends this way after the words are spoken.
    Finish {
        outcome: Outcome,
        then: AfterSpeech,
    },
    /// The call's outcome so far changed (`AgentTurn.outcome`).
    Outcome(Outcome),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Goal {
    Book,
    Reschedule,
    Cancel,
    Check,
    Escalate(TaskKind),
}

/// What the agent is waiting for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Start,
    Open,
    AskType,
    AskName,
    AskDob,
    AskPhone,
    ConfirmCallerNumber,
    /// "The phone number on file, or your ZIP code?": a weak or ambiguous
    /// identity match.
    AskSecondFactor,
    /// "I have …, born …: is that right?" before a new registration.
    ConfirmIdentity,
    AskWhen,
    Offering,
    ConfirmSlot,
    ChooseAppointment,
    ConfirmCancel,
    AskMedication,
    AskPharmacy,
    AskInsurancePlan,
    OfferNewPatientBooking,
    OfferBookInstead,
    SameDayOffer,
    OfferCallback,
    /// "Is this a medical emergency?": the model alone, unsure, heard one.
    ConfirmEmergency,
    /// "Anything I can help you with before you go?": a goodbye the agent
    /// does not take on trust (the caller's first words, or unsure).
    ConfirmGoodbye,
    Waiting,
    Ended,
}

/// Why a task is being written, to know what to say once it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TaskContext {
    Escalation(TaskKind),
    SilenceClose,
    Emergency,
}

/// The caller's wishes for a slot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Prefs {
    pub(super) type_id: Option<String>,
    pub(super) provider_id: Option<String>,
    pub(super) date: Option<NaiveDate>,
    pub(super) week: Option<(NaiveDate, NaiveDate)>,
    pub(super) time: Option<NaiveTime>,
    pub(super) part_of_day: Option<PartOfDay>,
    /// The caller has said when (or that any time is fine).
    pub(super) when_given: bool,
}

/// One call's dialogue state.
#[derive(Clone, Debug)]
pub struct Dialogue {
    pub phase: Phase,
    pub goal: Option<Goal>,
    pub(super) caller_number: Option<String>,
    pub(super) name: Option<String>,
    pub(super) dob: Option<NaiveDate>,
    pub(super) phone: Option<String>,
    pub(super) patient: Option<PatientRef>,
    pub(super) prefs: Prefs,
    pub(super) relax: u8,
    pub(super) offered: Vec<Slot>,
    pub(super) chosen: Option<Slot>,
    pub(super) appointments: Option<Vec<ApptRef>>,
    pub(super) target: Option<ApptRef>,
    pub(super) medication: Option<String>,
    pub(super) pharmacy: Option<String>,
    pub(super) insurance_plan: Option<String>,
    /// The caller's words that led to a clinical or records escalation.
    pub(super) escalation_words: Option<String>,
    pub(super) verify_attempts: u32,
    /// The caller confirmed the read-back of name, date of birth and number.
    pub(super) identity_confirmed: bool,
    /// Times the caller said the read-back was wrong.
    pub(super) read_back_denials: u32,
    /// The name and date of birth last read back, to tell a correction
    /// ("no, it's Mateo Ruiz") from a bare no.
    pub(super) read_back: Option<(String, Option<NaiveDate>)>,
    /// Registered as heard after repeated denials: once the record exists,
    /// a task asks the front desk to confirm the details.
    pub(super) details_to_confirm: bool,
    /// A second factor was asked and did not fit: no second chance.
    pub(super) second_factor_failed: bool,
    pub(super) dob_refusals: u32,
    /// A date of birth heard without its year, waiting for it.
    pub(super) dob_month_day: Option<(u32, u32)>,
    /// Where the call was when the agent asked whether this is an emergency.
    pub(super) before_emergency_check: Phase,
    /// The words that made the agent ask whether this is an emergency: a
    /// "no" answers them where the call was ("yes, that's myself" to "is
    /// this your best number?" is still a yes).
    pub(super) emergency_words: Option<(String, crate::vocabulary::Understanding)>,
    /// Where the call was when the agent asked whether the caller is done.
    pub(super) before_goodbye_check: Phase,
    /// Where a loop guard's or a going-well offer of a call back came from:
    /// a "no" goes back there.
    pub(super) loop_resume: Option<Phase>,
    /// Caller utterances so far: a goodbye as the first words is confirmed.
    pub(super) heard: u32,
    /// The question last asked and how many times in a row, without the
    /// call moving on: a repeat is rephrased, a third changes course.
    pub(super) asking: Option<(Phase, u32)>,
    /// A question asked and answered mid-flow, in the phase it interrupted:
    /// the same question again there is taken as an answer to the phase.
    pub(super) faq_in: Option<(Phase, crate::vocabulary::Intent)>,
    /// The loop guard has offered a hand-off in this phase already.
    pub(super) loop_offered: bool,
    /// A callback goes on without the caller's name: asked twice and not
    /// heard, staff confirm it when they call.
    pub(super) name_skipped: bool,
    pub(super) failures: u32,
    pub(super) silences: u32,
    pub(super) dtmf: String,
    pub(super) pending_task: Option<TaskContext>,
    pub(super) outcome: Option<Outcome>,
    pub(super) answered_something: bool,
    pub(super) turn_says: Vec<String>,
    pub(super) last_turn: Vec<String>,
}

impl Dialogue {
    /// A new call; `caller_number` is the carrier's caller id, if any.
    pub fn new(caller_number: Option<&str>) -> Dialogue {
        Dialogue {
            phase: Phase::Start,
            goal: None,
            caller_number: caller_number
                .and_then(crate::scheduling::PhoneNumber::parse)
                .map(|p| p.as_str().to_string()),
            name: None,
            dob: None,
            phone: None,
            patient: None,
            prefs: Prefs::default(),
            relax: 0,
            offered: Vec::new(),
            chosen: None,
            appointments: None,
            target: None,
            medication: None,
            pharmacy: None,
            insurance_plan: None,
            escalation_words: None,
            verify_attempts: 0,
            identity_confirmed: false,
            read_back_denials: 0,
            read_back: None,
            details_to_confirm: false,
            second_factor_failed: false,
            dob_refusals: 0,
            dob_month_day: None,
            before_emergency_check: Phase::Open,
            emergency_words: None,
            heard: 0,
            before_goodbye_check: Phase::Open,
            loop_resume: None,
            asking: None,
            faq_in: None,
            loop_offered: false,
            name_skipped: false,
            failures: 0,
            silences: 0,
            dtmf: String::new(),
            pending_task: None,
            outcome: None,
            answered_something: false,
            turn_says: Vec::new(),
            last_turn: Vec::new(),
        }
    }

    /// The call's outcome so far (`None` until something happened).
    pub fn outcome(&self) -> Option<Outcome> {
        self.outcome
    }

    /// The entity the agent's last question asked for, if it asked for
    /// one: the caller's next words are read as its answer.
    pub fn asked(&self) -> Option<Asked> {
        match self.phase {
            Phase::AskName => Some(Asked::PersonName),
            Phase::AskDob => Some(Asked::DateOfBirth),
            Phase::AskPhone | Phase::ConfirmCallerNumber => Some(Asked::Phone),
            Phase::AskWhen => Some(Asked::Date),
            _ => None,
        }
    }

    /// Whether the call is over (only a pending task write still counts).
    pub fn is_ended(&self) -> bool {
        self.phase == Phase::Ended
    }

    /// How many times in a row the question of `phase` has been asked (0
    /// when the agent's last question was another).
    pub fn times_asked(&self, phase: Phase) -> u32 {
        match self.asking {
            Some((p, n)) if p == phase => n,
            _ => 0,
        }
    }
}
