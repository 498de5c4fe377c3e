//! Existing appointments: a reschedule said in one sentence, a cancellation
//! among two the same day.

use super::*;

#[test]
fn everything_in_one_sentence_reschedule() {
    // "this is Maria Gonzalez, born 3/4/85, I need to move Friday's appointment to next week"
    run(
        "all-in-one",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U(
                    "this is Maria Gonzalez, born 3/4/85, I need to move Friday's appointment to next week",
                    Intent::RescheduleAppointment,
                    r#"{"person_name": "Maria Gonzalez", "date_of_birth": "1985-03-04", "date": "2026-03-20"}"#,
                ),
                &["act:Verify", "!say:"],
            ),
            (R(patient()), &["act:SetPatient", "act:ListAppointments"]),
            (
                R(ActionResult::Appointments(Some(vec![appt(
                    "a1",
                    "2026-03-20T09:00",
                    "patel",
                    "follow_up",
                )]))),
                &[
                    "act:FindSlots(SlotQuery { type_id: \"follow_up\", provider_id: Some(\"patel\"), from: 2026-03-23, to: 2026-03-29",
                ],
            ),
            (
                R(ActionResult::Slots(Some(vec![
                    slot("2026-03-23T08:00", "patel", "follow_up"),
                    slot("2026-03-24T13:00", "patel", "follow_up"),
                ]))),
                &[
                    "say:Monday the 23rd at 8 AM with Dr. Patel",
                    "phase:Offering",
                ],
            ),
            (
                U("tuesday works", Intent::Affirm, r#"{"date": "2026-03-24"}"#),
                &[
                    "say:I'll move your follow-up visit to Tuesday the 24th at 1 PM",
                    "phase:ConfirmSlot",
                ],
            ),
            (
                U("yes", Intent::Affirm, ""),
                &["act:Reschedule { appointment_id: \"a1\""],
            ),
            (
                R(ActionResult::Rescheduled(Ok(appt(
                    "a2",
                    "2026-03-24T13:00",
                    "patel",
                    "follow_up",
                )))),
                &[
                    "say:is now on Tuesday the 24th at 1 PM",
                    "outcome:Rescheduled",
                ],
            ),
        ],
    );
}

#[test]
fn cancel_with_two_appointments_the_same_day() {
    run(
        "cancel",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U(
                    "I need to cancel my appointment",
                    Intent::CancelAppointment,
                    "",
                ),
                &["phase:AskName"],
            ),
            (U("Maria Gonzalez", Intent::Inform, MARIA), &[]),
            (U("3/4/85", Intent::Inform, MARIA_DOB), &["act:Verify"]),
            (R(patient()), &[]),
            (
                R(ActionResult::Appointments(Some(vec![
                    appt("a1", "2026-03-20T09:00", "patel", "follow_up"),
                    appt("a2", "2026-03-20T14:00", "chen", "sick_visit"),
                ]))),
                &["say:Which one do you mean", "phase:ChooseAppointment"],
            ),
            (
                U(
                    "the two o'clock one",
                    Intent::Inform,
                    r#"{"time": "14:00"}"#,
                ),
                &[
                    "say:cancel your sick visit with nurse practitioner Sarah Chen",
                    "phase:ConfirmCancel",
                ],
            ),
            (
                U("yes", Intent::Affirm, ""),
                &["act:Cancel { appointment_id: \"a2\" }"],
            ),
            (
                R(ActionResult::Cancelled(Ok(appt(
                    "a2",
                    "2026-03-20T14:00",
                    "chen",
                    "sick_visit",
                )))),
                &["say:I've cancelled", "outcome:Cancelled"],
            ),
        ],
    );
}
