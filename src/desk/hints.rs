//! Recognition hints: the words a caller's next answer is likely to hold,
//! by what the agent just asked. Whisper tiny on phone audio hears rare
//! words as common ones ("Sarah Chen" → "their chin", "lisinopril" →
//! "listen app role"); given the clinic's own names as the text before
//! the utterance, it spells them right far more often (see
//! [`crate::stt::Hint`]).
//!
//! Questions whose answers cannot be foreseen (a caller's name, date of
//! birth, phone number) get no hint: a list of names there would only
//! tempt the decoder to write one. Nor do answers of days, times and
//! numbers: `tests/stt_corpus.rs` measured hints costing digits (a month
//! list before "one zero zero zero one…" lost a whole group).

use std::sync::Arc;

use crate::clinic::Clinic;
use crate::dialogue::Phase;
use crate::nlu::entities::lexicon::{MEDICATIONS, PHARMACY_CHAINS};
use crate::stt::Hint;

/// Health plans callers name often, beyond the clinic's own list (a plan
/// the clinic does not take must be heard right to be refused right).
const COMMON_PLANS: &[&str] = &[
    "Medicare",
    "Medicaid",
    "UnitedHealthcare",
    "Cigna",
    "Humana",
    "Kaiser",
    "Aetna",
    "Blue Cross Blue Shield",
];

/// Medications named in one hint: the most often refilled, as many as
/// fit the recogniser's prompt budget.
const MEDICATIONS_IN_HINT: usize = 12;

/// The hint texts of one clinic, built once.
#[derive(Clone, Debug)]
pub struct ListeningHints {
    /// Providers and visit types: what a caller says when asking for
    /// something ("a sick visit with nurse practitioner Sarah Chen").
    requests: Hint,
    medications: Hint,
    pharmacies: Hint,
    plans: Hint,
}

impl ListeningHints {
    pub fn for_clinic(clinic: &Clinic) -> ListeningHints {
        let providers: Vec<String> = clinic
            .providers
            .iter()
            .map(|p| match p.title.as_str() {
                "MD" | "DO" => format!("Dr. {}", p.name),
                _ => p.spoken.clone(),
            })
            .collect();
        let types: Vec<&str> = clinic
            .appointment_types
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        // Each list ends with a comma, as if it went on: ended with a full
        // stop, the q8_0 weights took the caller's words for a new sentence
        // that could end early ("10001. 90210." lost its last group).
        let requests = format!("{}, {},", providers.join(", "), types.join(", "));
        let medications: Vec<String> = MEDICATIONS
            .iter()
            .take(MEDICATIONS_IN_HINT)
            .map(|m| capitalise(m))
            .collect();
        let mut pharmacies: Vec<&str> = Vec::new();
        for (_, written) in PHARMACY_CHAINS {
            if !pharmacies.contains(written) {
                pharmacies.push(written);
            }
        }
        let mut plans: Vec<&str> = clinic.insurance.iter().map(|p| p.name.as_str()).collect();
        for plan in COMMON_PLANS {
            if !plans.contains(plan) {
                plans.push(plan);
            }
        }
        ListeningHints {
            requests: Arc::from(requests),
            medications: Arc::from(format!("{},", medications.join(", "))),
            pharmacies: Arc::from(format!("{},", pharmacies.join(", "))),
            plans: Arc::from(format!("{},", plans.join(", "))),
        }
    }

    /// The hint for the caller's answer while the dialogue is in `phase`.
    pub fn for_phase(&self, phase: Phase) -> Option<Hint> {
        let hint = match phase {
            Phase::Start | Phase::Open | Phase::AskType => &self.requests,
            Phase::AskMedication => &self.medications,
            Phase::AskPharmacy => &self.pharmacies,
            Phase::AskInsurancePlan => &self.plans,
            // Days, times, yes or no: Whisper knows those, and a list of
            // names before them costs a little accuracy on numbers.
            Phase::AskWhen
            | Phase::Offering
            | Phase::OfferNewPatientBooking
            | Phase::OfferBookInstead
            | Phase::SameDayOffer
            | Phase::AskName
            | Phase::AskDob
            | Phase::AskPhone
            | Phase::ConfirmCallerNumber
            | Phase::AskSecondFactor
            | Phase::ConfirmIdentity
            | Phase::ConfirmSlot
            | Phase::ChooseAppointment
            | Phase::ConfirmCancel
            | Phase::OfferCallback
            | Phase::ConfirmEmergency
            | Phase::ConfirmGoodbye
            | Phase::Waiting
            | Phase::Ended => return None,
        };
        Some(hint.clone())
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_clinic_hints_name_its_providers_and_plans() {
        let hints = ListeningHints::for_clinic(&Clinic::demo());
        let requests = hints.for_phase(Phase::Start).unwrap();
        assert!(requests.contains("Dr. Priya Patel"), "{requests}");
        assert!(
            requests.contains("nurse practitioner Sarah Chen"),
            "{requests}"
        );
        assert!(requests.contains("sick visit"), "{requests}");
        for phase in [
            Phase::Start,
            Phase::AskMedication,
            Phase::AskPharmacy,
            Phase::AskInsurancePlan,
        ] {
            let hint = hints.for_phase(phase).unwrap();
            assert!(hint.ends_with(','), "{phase:?}: {hint}");
        }
        let meds = hints.for_phase(Phase::AskMedication).unwrap();
        assert!(meds.starts_with("Lisinopril, "), "{meds}");
        let pharmacies = hints.for_phase(Phase::AskPharmacy).unwrap();
        assert_eq!(pharmacies.matches("CVS").count(), 1, "{pharmacies}");
        let plans = hints.for_phase(Phase::AskInsurancePlan).unwrap();
        assert!(
            plans.contains("Medicare") && plans.contains("Aetna"),
            "{plans}"
        );
    }

    #[test]
    fn unforeseeable_answers_get_no_hint() {
        let hints = ListeningHints::for_clinic(&Clinic::demo());
        for phase in [
            Phase::AskName,
            Phase::AskDob,
            Phase::AskPhone,
            Phase::AskWhen,
            Phase::ConfirmSlot,
        ] {
            assert_eq!(hints.for_phase(phase), None, "{phase:?}");
        }
    }
}
