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
                    "act:Register { name: \"Tom Lee\", date_of_birth: 1990-05-05, phone: Some(\"5559876543\"), confirmed: false }",
                ],
            ),
            (
                R(ActionResult::NewIdentity),
                &[
                    "say:I have Tom Lee, born May 5th, 1990, with the callback number ending in 6 5 4 3",
                    "phase:ConfirmIdentity",
                ],
            ),
            (
                U("yes", Intent::Affirm, ""),
                &[
                    "act:Register { name: \"Tom Lee\", date_of_birth: 1990-05-05, phone: Some(\"5559876543\"), confirmed: true }",
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

const MARIA_NAME: &str = r#"{"person_name": "Maria Gonzalez"}"#;

#[test]
fn a_weak_match_is_settled_by_a_second_factor_before_anything_is_said() {
    run(
        "weak match, number on file fits",
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
                    "Marie Gonzalez",
                    Intent::Inform,
                    r#"{"person_name": "Marie Gonzalez"}"#,
                ),
                &[],
            ),
            (
                U("march 4 1985", Intent::Inform, MARIA_DOB),
                &["act:Verify"],
            ),
            (
                R(ActionResult::SecondFactorNeeded),
                &[
                    "say:phone number we have on file for you, or your ZIP code",
                    "phase:AskSecondFactor",
                    "!act:SetPatient",
                ],
            ),
            (
                U("555 123 4567", Intent::Inform, r#"{"phone": "5551234567"}"#),
                &[
                    "act:CheckSecondFactor { name: \"Marie Gonzalez\", date_of_birth: 1985-03-04, factor: Phone(\"5551234567\") }",
                ],
            ),
            (
                R(ActionResult::SecondFactorChecked(Some(PatientRef {
                    id: "p1".into(),
                }))),
                &["act:SetPatient", "act:ListAppointments"],
            ),
        ],
    );
    run(
        "weak match, ZIP code keyed, does not fit: the not-found words",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("when is my appointment", Intent::CheckAppointment, ""),
                &[],
            ),
            (U("Maria Gonzalez", Intent::Inform, MARIA_NAME), &[]),
            (
                U("march 4 1985", Intent::Inform, MARIA_DOB),
                &["act:Verify"],
            ),
            (
                R(ActionResult::SecondFactorNeeded),
                &["phase:AskSecondFactor"],
            ),
            (
                Dtmf("90210#"),
                &[
                    "act:CheckSecondFactor { name: \"Maria Gonzalez\", date_of_birth: 1985-03-04, factor: Zip(\"90210\") }",
                ],
            ),
            (
                R(ActionResult::SecondFactorChecked(None)),
                &[
                    "say:wasn't able to find an upcoming appointment",
                    "!act:SetPatient",
                    "phase:OfferBookInstead",
                ],
            ),
        ],
    );
}

#[test]
fn a_booking_whose_second_factor_does_not_fit_becomes_a_call_back() {
    run(
        "booking, weak match, wrong number",
        CLOSED_NOW,
        Some("+15550001111"),
        vec![
            (Start, &[]),
            (
                U(
                    "I'd like to book a physical, this is Marie Gonzalez born march 4 1985",
                    Intent::BookAppointment,
                    r#"{"person_name": "Marie Gonzalez", "date_of_birth": "1985-03-04"}"#,
                ),
                &["phase:ConfirmCallerNumber"],
            ),
            (U("yes", Intent::Affirm, ""), &["act:Register"]),
            (
                R(ActionResult::SecondFactorNeeded),
                &["phase:AskSecondFactor"],
            ),
            (
                U("555 000 1111", Intent::Inform, r#"{"phone": "5550001111"}"#),
                &["act:CheckSecondFactor"],
            ),
            (
                R(ActionResult::SecondFactorChecked(None)),
                &[
                    "say:wasn't able to confirm those details",
                    "say:call you back",
                    "act:CreateTask",
                    "!act:SetPatient",
                    "!act:Book",
                ],
            ),
        ],
    );
}

#[test]
fn a_new_patient_read_back_takes_a_correction() {
    run(
        "new patient says no to the read-back",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U(
                    "I'd like to book a physical, this is Matei Ruiz born march 9 2020",
                    Intent::BookAppointment,
                    r#"{"person_name": "Matei Ruiz", "date_of_birth": "2020-03-09"}"#,
                ),
                &["phase:AskPhone"],
            ),
            (
                U("555 222 3333", Intent::Inform, r#"{"phone": "5552223333"}"#),
                &["act:Register"],
            ),
            (
                R(ActionResult::NewIdentity),
                &[
                    "say:I have Matei Ruiz, born March 9th, 2020",
                    "phase:ConfirmIdentity",
                ],
            ),
            (
                U("no", Intent::Deny, ""),
                &["say:Let's get it right", "phase:AskName", "!act:Register"],
            ),
            (
                U(
                    "Mateo Ruiz",
                    Intent::Inform,
                    r#"{"person_name": "Mateo Ruiz"}"#,
                ),
                &["phase:AskDob"],
            ),
            (
                U(
                    "march 9 2020",
                    Intent::Inform,
                    r#"{"date_of_birth": "2020-03-09"}"#,
                ),
                &[
                    "act:Register { name: \"Mateo Ruiz\", date_of_birth: 2020-03-09, phone: Some(\"5552223333\"), confirmed: false }",
                ],
            ),
            (
                R(ActionResult::NewIdentity),
                &[
                    "say:I have Mateo Ruiz, born March 9th, 2020, with the callback number ending in 3 3 3 3",
                ],
            ),
            (
                U("yes that's right", Intent::Affirm, ""),
                &[
                    "act:Register { name: \"Mateo Ruiz\", date_of_birth: 2020-03-09, phone: Some(\"5552223333\"), confirmed: true }",
                ],
            ),
            (R(registered()), &["act:SetPatient", "phase:AskWhen"]),
        ],
    );
}

#[test]
fn details_rejected_twice_are_taken_as_heard_for_the_front_desk_to_confirm() {
    run(
        "a name recognition cannot carry",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U(
                    "I'd like to book a physical, this is Asha Khan born july 9 1978",
                    Intent::BookAppointment,
                    r#"{"person_name": "Asha Khan", "date_of_birth": "1978-07-09"}"#,
                ),
                &["phase:AskPhone"],
            ),
            (
                U("555 867 2301", Intent::Inform, r#"{"phone": "5558672301"}"#),
                &["act:Register"],
            ),
            (
                R(ActionResult::NewIdentity),
                &["say:I have Asha Khan", "phase:ConfirmIdentity"],
            ),
            // The first correction is read back again.
            (
                U(
                    "no, my name is A Shikhan",
                    Intent::Deny,
                    r#"{"person_name": "A Shikhan"}"#,
                ),
                &["act:Register", "!say:note your details as I heard them"],
            ),
            (
                R(ActionResult::NewIdentity),
                &[
                    "say:A Shikhan, born July 9th, 1978",
                    "phase:ConfirmIdentity",
                ],
            ),
            // The second: taken as heard, no third read-back, no loop.
            (
                U("no", Intent::Deny, ""),
                &[
                    "say:note your details as I heard them",
                    "act:Register { name: \"A Shikhan\", date_of_birth: 1978-07-09, phone: Some(\"5558672301\"), confirmed: true }",
                    "!task:confirm_details",
                ],
            ),
            // Once the record exists, the front desk is asked to confirm.
            (
                R(registered()),
                &["act:SetPatient", "task:confirm_details", "phase:AskWhen"],
            ),
        ],
    );
}
