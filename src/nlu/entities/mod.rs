//! Entity parsers for transcribed phone speech. Normal forms follow
//! `spec/intents.md`.
//!
//! The input is what Whisper writes for a phone caller: any case, little
//! punctuation, fillers, self-corrections, number words or Whisper's own digit
//! forms ("Oh 621-87.", "2:30 p.m.", "555-123-4567"). Each entity has its own
//! module and `parse_*` function; [`extract`] runs them all over one shared
//! tokenisation. When a caller corrects themselves, the last value said wins.
//!
//! [`extract_in_context`] reads the same text as the answer to the entity
//! the agent just asked for (`context`); without a question it is
//! [`extract`].

mod calendar;
mod context;
mod date;
mod dob;
pub(crate) mod lexicon;
mod name;
mod normalize;
mod phone;
mod provider;
mod refill;
mod time;

use chrono::NaiveDate;

use crate::vocabulary::Entities;

pub use context::extract_in_context;
pub use date::parse_date;
pub use dob::{DobError, parse_date_of_birth};
pub use name::{parse_name_answer, parse_person_name};
pub use phone::parse_phone;
pub use provider::{ProviderRoster, RosterEntry, parse_provider};
pub use refill::{parse_medication, parse_pharmacy};
pub use time::{parse_part_of_day, parse_time};

/// Every entity in one utterance. `today` is the call's local date (dates are
/// resolved against it, dates of birth checked against it).
pub fn extract(text: &str, today: NaiveDate, roster: &ProviderRoster) -> Entities {
    extract_from(&normalize::Utterance::new(text), today, roster)
}

/// [`extract`] on a prepared utterance.
fn extract_from(u: &normalize::Utterance, today: NaiveDate, roster: &ProviderRoster) -> Entities {
    let time = time::time_from(u);
    let provider = provider::provider_from(u, roster);
    let person_name = name::name_from(u).filter(|n| {
        // "Anika Patel." answers "which doctor?", not "what is your name?".
        provider.is_none()
            || !n
                .split(' ')
                .any(|w| roster.has_name_word(&w.to_lowercase()))
    });
    Entities {
        person_name,
        date_of_birth: dob::dob_from(u, today).ok(),
        phone: phone::phone_from(u),
        date: date::date_from(u, today),
        time,
        part_of_day: if time.is_none() {
            time::part_of_day_from(u)
        } else {
            None
        },
        provider,
        medication: refill::medication_from(u),
        pharmacy: refill::pharmacy_from(u),
    }
}
