//! The dialogue: a pure state machine, `(state, input) → (state, actions)`.
//!
//! Nothing here does I/O. A runner (`crate::desk`) feeds it call events,
//! performs the actions it asks for (patient lookups, slot searches,
//! bookings, tasks) and feeds each result back as another input. The runner
//! completes every action of a turn before the turn's words are played, so
//! a task is always written before the caller hears "someone will call you
//! back".
//!
//! Safety rules live here and win over everything the NLU says: an
//! emergency ends all other business at once; nothing about a patient is
//! said or changed before name and date of birth match a record; and the
//! agent answers the same way whether or not a caller is a patient.
//!
//! Where things are:
//! - `state`: the call's state, the phases and goals, inputs and actions;
//! - `machine`: one step, call events, what an utterance means, and the
//!   dispatch of each reply to the handler of the question asked;
//! - the rooms, one concern each: `intake` (the opening, entities the
//!   caller volunteers), `identity` (name, date of birth, phone, keypad),
//!   `booking` (wishes, slot search, booking), `offers` (offered times and
//!   picks), `appointments` (existing ones: pick, move, cancel, read back),
//!   `escalation` (staff, callbacks, emergencies), `questions` (hours,
//!   location, insurance, new patients);
//! - `speech`: how the agent says things and asks each phase's question;
//! - `words`: reading caller text and phrasing dates, times and lists;
//!   `cues`: what the dialogue reads in the words itself under the model
//!   (yes and no, asking for a person, a video visit); `calendar`:
//!   holidays asked about by name.

mod appointments;
mod booking;
mod calendar;
mod cues;
mod escalation;
mod identity;
mod intake;
mod machine;
mod offers;
mod questions;
mod speech;
mod state;
pub mod words;

#[cfg(test)]
mod tests;

/// Below this confidence an utterance is not understood (the fuzz target
/// of the dialogue holds the machine to it).
pub use machine::MIN_CONFIDENCE;
pub use state::{
    Action, ActionResult, ApptRef, BookFailure, Dialogue, Env, Goal, Input, OnDuty, PatientRef,
    Phase, TaskDraft,
};
