//! How a turn is understood: a sentence in pieces, goodbyes, yes and no
//! from an unsure model, corrections and repeats.

use super::*;

/// A caller who pauses mid-sentence arrives in pieces (the endpointer
/// ends an utterance at a short pause): no piece may count as a failure,
/// and what each piece says is kept.
#[test]
fn a_sentence_in_pieces_is_understood_piece_by_piece() {
    run(
        "hi / this is Tom Lee / a sick visit / March 4th / 1985",
        OPEN_NOW,
        Some("5551234567"),
        vec![
            (Start, &[]),
            (
                U("Hi.", Intent::OfficeHours, ""),
                &["say:What can I help you with", "!say:didn't quite catch"],
            ),
            (
                U(
                    "This is Tom Lee.",
                    Intent::OutOfScope,
                    r#"{"person_name": "Tom Lee"}"#,
                ),
                &["say:What can I help you with", "!say:didn't quite catch"],
            ),
            (
                U("I need a sick visit", Intent::BookAppointment, ""),
                &["say:date of birth", "phase:AskDob"],
            ),
            (
                U("March 4th.", Intent::Inform, r#"{"date": "2026-03-04"}"#),
                &["!say:", "phase:AskDob"],
            ),
            (
                U("1985.", Intent::Inform, ""),
                &["say:ending in 4 5 6 7", "phase:ConfirmCallerNumber"],
            ),
            (U("yes", Intent::Affirm, ""), &["act:Register"]),
        ],
    );
    // "born" said with a month and day: the start of a date of birth, not
    // an appointment date that has passed; the year comes next.
    run(
        "born March 4th / 1985 I need to move",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U(
                    "This is Maria Gonzalez born, March 4th.",
                    Intent::Inform,
                    r#"{"person_name": "Maria Gonzalez", "date": "2026-03-04"}"#,
                ),
                &["!say:"],
            ),
            (
                U(
                    "1985 I need to move my appointment",
                    Intent::RescheduleAppointment,
                    "",
                ),
                &["act:Verify", "!say:date of birth"],
            ),
        ],
    );
    // A month and day in the future is no date of birth in the future.
    run(
        "June 12th / 1972",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("when is my appointment", Intent::CheckAppointment, ""),
                &[],
            ),
            (
                U(
                    "David Miller",
                    Intent::Inform,
                    r#"{"person_name": "David Miller"}"#,
                ),
                &[],
            ),
            (
                U("June 12th.", Intent::Inform, r#"{"date": "2026-06-12"}"#),
                &["!say:in the future", "!say:"],
            ),
            (U("1972.", Intent::Inform, ""), &["act:Verify"]),
        ],
    );
    run(
        "month and day, then nothing",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("when is my appointment", Intent::CheckAppointment, ""),
                &[],
            ),
            (
                U("Maria Gonzalez", Intent::Inform, MARIA),
                &["phase:AskDob"],
            ),
            (
                U("March 4th.", Intent::Inform, r#"{"date": "2026-03-04"}"#),
                &["!say:"],
            ),
            (
                Silence,
                &["say:Are you still there", "say:which year were you born"],
            ),
            (U("1985", Intent::Inform, ""), &["act:Verify"]),
        ],
    );
    run(
        "wait",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("I need to cancel", Intent::CancelAppointment, ""),
                &["phase:AskName"],
            ),
            (Mumble("Wait."), &["!say:", "phase:AskName"]),
            (
                U("Maria Gonzalez", Intent::Inform, MARIA),
                &["say:date of birth"],
            ),
        ],
    );
}

#[test]
fn the_agent_does_not_hang_up_on_a_goodbye_without_goodbye_words() {
    run(
        "misheard name read as goodbye",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (U("I need a physical", Intent::BookAppointment, ""), &[]),
            (
                U("Marie against all of us.", Intent::Goodbye, ""),
                &["!then:hangup", "say:didn't quite catch", "phase:AskName"],
            ),
            (
                U("No, that's all, thanks.", Intent::Goodbye, ""),
                &["then:hangup"],
            ),
        ],
    );
}

#[test]
fn an_unsure_model_still_hears_a_plain_yes_or_no_to_a_yes_no_question() {
    run(
        "keep it",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("cancel my appointment", Intent::CancelAppointment, ""),
                &[],
            ),
            (U("Maria Gonzalez", Intent::Inform, MARIA), &[]),
            (U("3/4/85", Intent::Inform, MARIA_DOB), &["act:Verify"]),
            (R(patient()), &[]),
            (
                R(ActionResult::Appointments(Some(vec![appt(
                    "a1",
                    "2026-03-20T09:00",
                    "patel",
                    "follow_up",
                )]))),
                &["phase:ConfirmCancel"],
            ),
            // The model is below the confidence bar on this one.
            (
                Mumble("actually no, keep it"),
                &["say:leave it as it is", "!act:Cancel", "phase:Open"],
            ),
            // Outside a yes/no question an unsure "no …" is not an answer.
            (Mumble("no the thing with the"), &["say:didn't quite catch"]),
        ],
    );
}

#[test]
fn corrections_and_repeats() {
    run(
        "no, the 18th",
        OPEN_NOW,
        Some("5551234567"),
        vec![
            (Start, &[]),
            (
                U(
                    "I need a sick visit for thursday",
                    Intent::BookAppointment,
                    r#"{"date": "2026-03-19"}"#,
                ),
                &["phase:AskName"],
            ),
            (U("Maria Gonzalez", Intent::Inform, MARIA), &[]),
            (U("march 4 1985", Intent::Inform, MARIA_DOB), &[]),
            (U("yes", Intent::Affirm, ""), &["act:Register"]),
            (
                R(registered()),
                &[
                    "act:FindSlots(SlotQuery { type_id: \"sick_visit\", provider_id: None, from: 2026-03-19, to: 2026-03-19",
                ],
            ),
            (
                R(ActionResult::Slots(Some(vec![
                    slot("2026-03-19T08:00", "kim", "sick_visit"),
                    slot("2026-03-19T13:00", "kim", "sick_visit"),
                ]))),
                &["phase:Offering"],
            ),
            (
                U("sorry, could you repeat that", Intent::OutOfScope, ""),
                &[
                    "say:Thursday the 19th at 8 AM with Dr. Kim",
                    "phase:Offering",
                ],
            ),
            (
                U("no, the 18th", Intent::Deny, r#"{"date": "2026-03-18"}"#),
                &[
                    "act:FindSlots(SlotQuery { type_id: \"sick_visit\", provider_id: None, from: 2026-03-18, to: 2026-03-18",
                ],
            ),
        ],
    );
}
