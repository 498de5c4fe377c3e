//! Booking: the happy path, picking among offers, and polite next steps
//! when a wish cannot be met.

use super::*;

#[test]
fn booking_happy_path() {
    run(
        "book",
        OPEN_NOW,
        Some("+15551234567"),
        vec![
            (
                Start,
                &["say:Riverside Family Medicine", "say:911", "phase:Open"],
            ),
            (
                U(
                    "I'd like to make an appointment",
                    Intent::BookAppointment,
                    "",
                ),
                &["say:what is the visit for", "phase:AskType"],
            ),
            (
                U("my annual physical", Intent::Inform, ""),
                &["say:your first and last name", "phase:AskName"],
            ),
            (
                U("Maria Gonzalez", Intent::Inform, MARIA),
                &["say:date of birth", "phase:AskDob"],
            ),
            (
                U("march fourth 1985", Intent::Inform, MARIA_DOB),
                &["say:ending in 4 5 6 7", "phase:ConfirmCallerNumber"],
            ),
            (
                U("yes", Intent::Affirm, ""),
                &["act:Register", "phase:Waiting", "!say:"],
            ),
            (
                R(registered()),
                &["act:SetPatient", "say:what day and time", "phase:AskWhen"],
            ),
            (
                U(
                    "tuesday morning",
                    Intent::Inform,
                    r#"{"date": "2026-03-17", "part_of_day": "morning"}"#,
                ),
                &["act:FindSlots", "phase:Waiting"],
            ),
            (
                R(ActionResult::Slots(Some(vec![
                    slot("2026-03-17T08:00", "patel", "physical"),
                    slot("2026-03-17T08:30", "kim", "physical"),
                    slot("2026-03-17T10:30", "patel", "physical"),
                ]))),
                &[
                    "say:Tuesday the 17th at 8 AM with Dr. Patel",
                    "say:10:30 AM with Dr. Patel",
                    "phase:Offering",
                ],
            ),
            (
                U("the second one", Intent::Inform, ""),
                &[
                    "say:Just to confirm: an annual physical with Dr. Patel",
                    "say:10:30 AM",
                    "phase:ConfirmSlot",
                ],
            ),
            (
                U("yes please", Intent::Affirm, ""),
                &["act:Book", "phase:Waiting"],
            ),
            (
                R(ActionResult::Booked(Ok(appt(
                    "a1",
                    "2026-03-17T10:30",
                    "patel",
                    "physical",
                )))),
                &[
                    "say:you're all set",
                    "say:anything else",
                    "outcome:Booked",
                    "phase:Open",
                ],
            ),
            (
                U("no that's it", Intent::Deny, ""),
                &[
                    "say:goodbye",
                    "then:hangup",
                    "outcome:Booked",
                    "phase:Ended",
                ],
            ),
        ],
    );
}

#[test]
fn a_reply_to_offers_picks_only_when_every_detail_fits() {
    let offers = || {
        R(ActionResult::Slots(Some(vec![
            slot("2026-03-16T10:00", "kim", "physical"),
            slot("2026-03-16T13:00", "kim", "physical"),
            slot("2026-03-16T15:00", "kim", "physical"),
        ])))
    };
    let booking = |reply: (Step, &'static [&'static str])| {
        vec![
            (Start, &[][..]),
            (
                U(
                    "a physical with doctor kim",
                    Intent::BookAppointment,
                    r#"{"provider": "kim"}"#,
                ),
                &["phase:AskName"][..],
            ),
            (U("Maria Gonzalez", Intent::Inform, MARIA), &[][..]),
            (U("march fourth 1985", Intent::Inform, MARIA_DOB), &[][..]),
            (U("yes", Intent::Affirm, ""), &["act:Register"][..]),
            (R(registered()), &["act:FindSlots"][..]),
            (offers(), &["say:Monday the 16th at 10 AM with Dr. Kim"][..]),
            reply,
        ]
    };
    // Mid-task, an unsure new request is an answer ("I'll take the two
    // thirty" came out 48 % cancel_appointment).
    run(
        "unsure switch",
        OPEN_NOW,
        Some("5551234567"),
        booking((
            Uc(
                "I'll take the three o'clock",
                Intent::CancelAppointment,
                0.79,
                r#"{"time": "15:00"}"#,
            ),
            &["say:Just to confirm", "say:3 PM", "!say:cancel"],
        )),
    );
    // Another day asked for: a new search, not Monday's morning slot.
    run(
        "wednesday morning instead",
        OPEN_NOW,
        Some("5551234567"),
        booking((
            U(
                "Wednesday morning",
                Intent::Inform,
                r#"{"date": "2026-03-18", "part_of_day": "morning"}"#,
            ),
            &["act:FindSlots", "!phase:ConfirmSlot"],
        )),
    );
    // One offer fits what was said: that one.
    run(
        "the morning one",
        OPEN_NOW,
        Some("5551234567"),
        booking((
            U(
                "the Monday morning one",
                Intent::Inform,
                r#"{"date": "2026-03-16", "part_of_day": "morning"}"#,
            ),
            &["!act:FindSlots", "say:Just to confirm", "say:10 AM"],
        )),
    );
}

#[test]
fn bad_input_gets_a_polite_next_step() {
    run(
        "february 30th",
        OPEN_NOW,
        Some("5551234567"),
        vec![
            (Start, &[]),
            (U("book a follow up", Intent::BookAppointment, ""), &[]),
            (U("Maria Gonzalez", Intent::Inform, MARIA), &[]),
            (U("march 4 1985", Intent::Inform, MARIA_DOB), &[]),
            (U("yes", Intent::Affirm, ""), &[]),
            (R(registered()), &["phase:AskWhen"]),
            (
                U("february 30th", Intent::Inform, ""),
                &[
                    "say:There's no February 30th",
                    "phase:AskWhen",
                    "!act:FindSlots",
                ],
            ),
            (
                U(
                    "a date in the past like march 2nd",
                    Intent::Inform,
                    r#"{"date": "2026-03-02"}"#,
                ),
                &["say:has already passed", "!act:FindSlots", "phase:AskWhen"],
            ),
            (
                U(
                    "7 pm on tuesday",
                    Intent::Inform,
                    r#"{"date": "2026-03-17", "time": "19:00"}"#,
                ),
                &[
                    "say:On Tuesday we're open from 8 AM to 5 PM, so 7 PM isn't available",
                    "act:FindSlots",
                ],
            ),
        ],
    );
    run(
        "unknown doctor",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U(
                    "I want to see doctor smith for a physical",
                    Intent::BookAppointment,
                    "",
                ),
                &[
                    "say:We don't have a Dr. Smith",
                    "say:Dr. Patel, Dr. Kim, and nurse practitioner Sarah Chen",
                    "phase:AskName",
                ],
            ),
        ],
    );
    run(
        "future dob and refusal",
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
                U(
                    "march 4 2030",
                    Intent::Inform,
                    r#"{"date_of_birth": "2030-03-04"}"#,
                ),
                &["say:in the future", "phase:AskDob", "!act:Verify"],
            ),
            (
                U("I'd rather not say", Intent::Deny, ""),
                &["say:to protect your privacy", "phase:AskDob"],
            ),
            (
                U("no", Intent::Deny, ""),
                &[
                    "say:can't access appointments",
                    "phase:OfferCallback",
                    "!act:Verify",
                ],
            ),
        ],
    );
    run(
        "same day",
        OPEN_NOW,
        Some("5551234567"),
        vec![
            (Start, &[]),
            (
                U(
                    "sick visit friday",
                    Intent::BookAppointment,
                    r#"{"date": "2026-03-20"}"#,
                ),
                &[],
            ),
            (U("Maria Gonzalez", Intent::Inform, MARIA), &[]),
            (U("march 4 1985", Intent::Inform, MARIA_DOB), &[]),
            (U("yes", Intent::Affirm, ""), &[]),
            (R(registered()), &["act:FindSlots"]),
            (
                R(ActionResult::Slots(Some(vec![slot(
                    "2026-03-20T10:00",
                    "chen",
                    "sick_visit",
                )]))),
                &["say:The first opening I have is Friday the 20th at 10 AM"],
            ),
            (U("yes", Intent::Affirm, ""), &["phase:ConfirmSlot"]),
            (U("yes", Intent::Affirm, ""), &["act:Book"]),
            (
                R(ActionResult::Booked(Err(BookFailure::SameDay {
                    existing_local: local("2026-03-20T09:00"),
                }))),
                &[
                    "say:You already have an appointment on Friday the 20th at 9 AM",
                    "say:different day",
                    "phase:SameDayOffer",
                ],
            ),
            (U("yes", Intent::Affirm, ""), &["phase:AskWhen"]),
        ],
    );
    run(
        "slot taken by a simultaneous call",
        OPEN_NOW,
        Some("5551234567"),
        vec![
            (Start, &[]),
            (
                U(
                    "sick visit tomorrow",
                    Intent::BookAppointment,
                    r#"{"date": "2026-03-17"}"#,
                ),
                &[],
            ),
            (U("Maria Gonzalez", Intent::Inform, MARIA), &[]),
            (U("march 4 1985", Intent::Inform, MARIA_DOB), &[]),
            (U("yes", Intent::Affirm, ""), &[]),
            (R(registered()), &[]),
            (
                R(ActionResult::Slots(Some(vec![slot(
                    "2026-03-17T10:00",
                    "chen",
                    "sick_visit",
                )]))),
                &[],
            ),
            (U("yes", Intent::Affirm, ""), &[]),
            (U("yes", Intent::Affirm, ""), &["act:Book"]),
            (
                R(ActionResult::Booked(Err(BookFailure::SlotTaken))),
                &["say:just taken", "act:FindSlots"],
            ),
        ],
    );
    run(
        "no slots anywhere",
        OPEN_NOW,
        Some("5551234567"),
        vec![
            (Start, &[]),
            (
                U(
                    "sick visit tomorrow with dr kim",
                    Intent::BookAppointment,
                    r#"{"date": "2026-03-17", "provider": "kim"}"#,
                ),
                &[],
            ),
            (U("Maria Gonzalez", Intent::Inform, MARIA), &[]),
            (U("march 4 1985", Intent::Inform, MARIA_DOB), &[]),
            (U("yes", Intent::Affirm, ""), &[]),
            (
                R(registered()),
                &["act:FindSlots(SlotQuery { type_id: \"sick_visit\", provider_id: Some(\"kim\")"],
            ),
            (
                R(ActionResult::Slots(Some(vec![]))),
                &[
                    "act:FindSlots(SlotQuery { type_id: \"sick_visit\", provider_id: Some(\"kim\"), from: 2026-03-17, to: 2026-03-31",
                    "!say:",
                ],
            ),
            (
                R(ActionResult::Slots(Some(vec![]))),
                &["act:FindSlots(SlotQuery { type_id: \"sick_visit\", provider_id: None"],
            ),
            (
                R(ActionResult::Slots(Some(vec![slot(
                    "2026-03-18T08:00",
                    "chen",
                    "sick_visit",
                )]))),
                &[
                    "say:I don't have anything open at that time",
                    "say:Sarah Chen",
                ],
            ),
        ],
    );
}
