//! Answers from the clinic's configuration.

use super::*;

#[test]
fn faq_answers_from_configuration() {
    run(
        "hours",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("what are your hours", Intent::OfficeHours, ""),
                &[
                    "say:Monday, Tuesday, and Thursday from 8 AM to 5 PM",
                    "say:Today we're open until 5 PM",
                    "say:anything else",
                    "outcome:Answered",
                ],
            ),
            (
                U(
                    "are you open on christmas",
                    Intent::OfficeHours,
                    r#"{"date": "2026-12-25"}"#,
                ),
                &["say:closed on", "say:Christmas Day"],
            ),
            (
                U(
                    "where are you located, is there parking",
                    Intent::Location,
                    "",
                ),
                &["say:1200 Riverside Drive", "say:garage"],
            ),
            (
                // Whisper's "park".
                U("Where are you and where do I part?", Intent::Location, ""),
                &["say:1200 Riverside Drive", "say:garage"],
            ),
            (
                U("do you take blue cross", Intent::Insurance, ""),
                &["say:Yes, we accept Blue Cross Blue Shield"],
            ),
            (
                U("are you taking new patients", Intent::NewPatient, ""),
                &["say:accepting new patients", "phase:OfferNewPatientBooking"],
            ),
            (
                U("not right now", Intent::Deny, ""),
                &["say:anything else", "phase:Open"],
            ),
            (
                U("bye", Intent::Goodbye, ""),
                &["say:goodbye", "outcome:Answered", "then:hangup"],
            ),
        ],
    );
    run(
        "hours after closing",
        CLOSED_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("are you open", Intent::OfficeHours, ""),
                &["say:We've closed for today"],
            ),
        ],
    );
}

#[test]
fn unknown_insurance_goes_to_billing() {
    run(
        "humana",
        CLOSED_NOW,
        Some("5551234567"),
        vec![
            (Start, &[]),
            (
                U("do you accept humana", Intent::Insurance, ""),
                &["say:Humana isn't on my list", "phase:AskName"],
            ),
            (
                U(
                    "John Smith",
                    Intent::Inform,
                    r#"{"person_name": "John Smith"}"#,
                ),
                &["phase:ConfirmCallerNumber"],
            ),
            (
                U("yes", Intent::Affirm, ""),
                &["task:unknown_insurance", "!say:call you back"],
            ),
            (
                R(ActionResult::TaskCreated(true)),
                &[
                    "say:billing office",
                    "say:ending in 4 5 6 7",
                    "outcome:Escalated",
                ],
            ),
        ],
    );
    run(
        "list then unknown",
        CLOSED_NOW,
        Some("5551234567"),
        vec![
            (Start, &[]),
            (
                U("what insurance do you take", Intent::Insurance, ""),
                &["say:We accept Aetna", "phase:AskInsurancePlan"],
            ),
            (
                U("I have Oscar", Intent::Inform, ""),
                &["say:Oscar isn't on my list", "phase:AskName"],
            ),
        ],
    );
}
