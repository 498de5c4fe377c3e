//! The twenty caller intents of `spec/intents.md`. The strings are a contract:
//! they appear in the API, transcripts, metrics and evaluation files.

use serde::{Deserialize, Serialize};

/// One label per caller utterance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    BookAppointment,
    RescheduleAppointment,
    CancelAppointment,
    CheckAppointment,
    OfficeHours,
    Location,
    Insurance,
    Billing,
    PrescriptionRefill,
    TestResults,
    ClinicalQuestion,
    Emergency,
    SpeakToStaff,
    RecordsRequest,
    NewPatient,
    Affirm,
    Deny,
    Inform,
    Goodbye,
    OutOfScope,
}

impl Intent {
    pub const ALL: [Intent; 20] = [
        Intent::BookAppointment,
        Intent::RescheduleAppointment,
        Intent::CancelAppointment,
        Intent::CheckAppointment,
        Intent::OfficeHours,
        Intent::Location,
        Intent::Insurance,
        Intent::Billing,
        Intent::PrescriptionRefill,
        Intent::TestResults,
        Intent::ClinicalQuestion,
        Intent::Emergency,
        Intent::SpeakToStaff,
        Intent::RecordsRequest,
        Intent::NewPatient,
        Intent::Affirm,
        Intent::Deny,
        Intent::Inform,
        Intent::Goodbye,
        Intent::OutOfScope,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Intent::BookAppointment => "book_appointment",
            Intent::RescheduleAppointment => "reschedule_appointment",
            Intent::CancelAppointment => "cancel_appointment",
            Intent::CheckAppointment => "check_appointment",
            Intent::OfficeHours => "office_hours",
            Intent::Location => "location",
            Intent::Insurance => "insurance",
            Intent::Billing => "billing",
            Intent::PrescriptionRefill => "prescription_refill",
            Intent::TestResults => "test_results",
            Intent::ClinicalQuestion => "clinical_question",
            Intent::Emergency => "emergency",
            Intent::SpeakToStaff => "speak_to_staff",
            Intent::RecordsRequest => "records_request",
            Intent::NewPatient => "new_patient",
            Intent::Affirm => "affirm",
            Intent::Deny => "deny",
            Intent::Inform => "inform",
            Intent::Goodbye => "goodbye",
            Intent::OutOfScope => "out_of_scope",
        }
    }

    pub fn parse(label: &str) -> Option<Intent> {
        Intent::ALL.into_iter().find(|i| i.as_str() == label)
    }
}

impl std::fmt::Display for Intent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip_and_match_serde() {
        for intent in Intent::ALL {
            assert_eq!(Intent::parse(intent.as_str()), Some(intent));
            let json = serde_json::to_string(&intent).unwrap();
            assert_eq!(json, format!("\"{}\"", intent.as_str()));
        }
        assert_eq!(Intent::parse("nonsense"), None);
    }
}
