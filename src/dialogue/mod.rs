//! The dialogue: a pure state machine, `(state, input) → (state, actions)`.
//!
//! Nothing here does I/O. A runner (`clinic::desk`) feeds it call events,
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

pub mod machine;
pub mod words;

#[cfg(test)]
mod tests;

pub use machine::{
    Action, ActionResult, ApptRef, Dialogue, Env, Goal, Input, PatientRef, Phase, TaskDraft,
};

/// Mean time of one dialogue step over a scripted booking call, for the
/// `< 1 ms` target (`benches/conversation.rs`).
pub fn bench_step(iterations: u32) -> std::time::Duration {
    machine::bench_step(iterations)
}
