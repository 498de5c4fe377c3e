//! Who is calling: verification before anything about a patient is said,
//! registration of a new patient, keypad entry, silence and
//! misunderstanding.

use super::*;

#[test]
fn existing_appointments_need_identity_and_do_not_probe() {
    let not_found_words = "wasn't able to find an upcoming appointment";
    // Unknown caller.
    run(
        "unknown person",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("when is my appointment", Intent::CheckAppointment, ""),
                &["say:your first and last name"],
            ),
            (
                U(
                    "Nobody Here",
                    Intent::Inform,
                    r#"{"person_name": "Nobody Here"}"#,
                ),
                &["say:date of birth"],
            ),
            (
                U(
                    "january 1 1990",
                    Intent::Inform,
                    r#"{"date_of_birth": "1990-01-01"}"#,
                ),
                &["act:Verify"],
            ),
            (
                R(ActionResult::Verified(None)),
                &[
                    &format!("say:{not_found_words}"),
                    "!act:SetPatient",
                    "phase:OfferBookInstead",
                ],
            ),
        ],
    );
    // A real patient with nothing booked hears exactly the same.
    run(
        "patient without appointments",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("when is my appointment", Intent::CheckAppointment, ""),
                &[],
            ),
            (U("Maria Gonzalez", Intent::Inform, MARIA), &[]),
            (
                U("march 4 1985", Intent::Inform, MARIA_DOB),
                &["act:Verify"],
            ),
            (R(patient()), &["act:ListAppointments"]),
            (
                R(ActionResult::Appointments(Some(vec![]))),
                &[&format!("say:{not_found_words}"), "phase:OfferBookInstead"],
            ),
        ],
    );
    run(
        "check",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U(
                    "I'm Maria Gonzalez, born march 4 1985, when's my appointment",
                    Intent::CheckAppointment,
                    r#"{"person_name": "Maria Gonzalez", "date_of_birth": "1985-03-04"}"#,
                ),
                &["act:Verify", "!say:"],
            ),
            (R(patient()), &["act:ListAppointments"]),
            (
                R(ActionResult::Appointments(Some(vec![appt(
                    "a1",
                    "2026-03-20T09:00",
                    "patel",
                    "follow_up",
                )]))),
                &[
                    "say:your follow-up visit with Dr. Patel on Friday the 20th at 9 AM",
                    "outcome:Answered",
                ],
            ),
        ],
    );
}

#[test]
fn silence_dtmf_and_misunderstanding() {
    run(
        "silence with caller id",
        OPEN_NOW,
        Some("5551234567"),
        vec![
            (Start, &[]),
            (
                Silence,
                &["say:Are you still there", "say:What can I help you with"],
            ),
            (Silence, &["task:callback", "!say:"]),
            (
                R(ActionResult::TaskCreated(true)),
                &["say:call you back", "then:hangup", "outcome:Abandoned"],
            ),
        ],
    );
    run(
        "silence without caller id",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (Silence, &["say:still there"]),
            (
                Silence,
                &[
                    "say:Please call us back",
                    "!act:CreateTask",
                    "then:hangup",
                    "outcome:Abandoned",
                ],
            ),
        ],
    );
    run(
        "dob by keypad",
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
                Dtmf("03041985"),
                &["act:Verify { name: \"Maria Gonzalez\", date_of_birth: 1985-03-04 }"],
            ),
        ],
    );
    run(
        "phone by keypad",
        CLOSED_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("I want to talk to someone", Intent::SpeakToStaff, ""),
                &["phase:AskName"],
            ),
            (
                U("Maria Gonzalez", Intent::Inform, MARIA),
                &["phase:AskPhone"],
            ),
            (Dtmf("5551234567"), &["task:callback"]),
        ],
    );
    run(
        "three misunderstandings",
        CLOSED_NOW,
        Some("5551234567"),
        vec![
            (Start, &[]),
            (
                Mumble("blorp"),
                &["say:didn't quite catch that", "phase:Open"],
            ),
            // Three chances before a hand-off; the question put another way.
            (
                Mumble("grr"),
                &["say:still didn't get that", "say:I can book", "!task:"],
            ),
            (
                Mumble("zzz"),
                &["say:trouble understanding", "task:failed_understanding"],
            ),
            (
                R(ActionResult::TaskCreated(true)),
                &["say:ending in 4 5 6 7", "outcome:Escalated", "then:hangup"],
            ),
        ],
    );
    run(
        "hangup mid-booking",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (U("book a physical", Intent::BookAppointment, ""), &[]),
            (Hangup, &["outcome:Abandoned", "!say:"]),
        ],
    );
}

#[test]
fn new_patient_registration_before_booking() {
    run(
        "new patient",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("are you accepting new patients", Intent::NewPatient, ""),
                &["phase:OfferNewPatientBooking"],
            ),
            (
                U("yes", Intent::Affirm, ""),
                &["say:first and last name", "phase:AskName"],
            ),
            (
                U("Tom Lee", Intent::Inform, r#"{"person_name": "Tom Lee"}"#),
                &["phase:AskDob"],
            ),
            (
                U(
                    "may 5 1990",
                    Intent::Inform,
                    r#"{"date_of_birth": "1990-05-05"}"#,
                ),
                &["phase:AskPhone"],
            ),
            (
                U("555 987 6543", Intent::Inform, r#"{"phone": "5559876543"}"#),
                &[
                    "act:Register { name: \"Tom Lee\", date_of_birth: 1990-05-05, phone: Some(\"5559876543\") }",
                ],
            ),
            (R(registered()), &["phase:AskWhen"]),
            (
                U("as soon as possible", Intent::Inform, ""),
                &["act:FindSlots(SlotQuery { type_id: \"new_patient\""],
            ),
        ],
    );
}

#[test]
fn a_name_in_answer_to_the_new_patient_offer_means_yes() {
    run(
        "new patient gives a name",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("are you accepting new patients", Intent::NewPatient, ""),
                &["phase:OfferNewPatientBooking"],
            ),
            (
                U(
                    "my name is Asha Khan",
                    Intent::Inform,
                    r#"{"person_name": "Asha Khan"}"#,
                ),
                &[
                    "say:date of birth",
                    "phase:AskDob",
                    "!say:didn't quite catch",
                ],
            ),
        ],
    );
    run(
        "new patient declines with a name",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("are you accepting new patients", Intent::NewPatient, ""),
                &["phase:OfferNewPatientBooking"],
            ),
            (
                U(
                    "no thanks, this is Asha Khan",
                    Intent::Deny,
                    r#"{"person_name": "Asha Khan"}"#,
                ),
                &["say:anything else", "phase:Open"],
            ),
        ],
    );
}
