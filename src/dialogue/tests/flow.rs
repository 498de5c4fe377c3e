//! A dialogue that makes progress: weak emergency signals asked about,
//! goodbyes confirmed, yes and no in every form, questions rephrased and
//! loops broken, answers out of order kept, a person at once, and the
//! clinic's own answers (holidays, weekends, plans, parking, access).

use super::*;

const CALLER: Option<&str> = Some("+15551234567");
const BOOKING_NAME: &str = r#"{"person_name": "Maria Gonzalez"}"#;

/// Up to the question "is the number ending 4567 the best one?".
fn to_caller_number() -> Vec<(Step, &'static [&'static str])> {
    vec![
        (Start, &[]),
        (U("I need a sick visit", Intent::BookAppointment, ""), &[]),
        (U("Maria Gonzalez", Intent::Inform, BOOKING_NAME), &[]),
        (
            U("march fourth 1985", Intent::Inform, MARIA_DOB),
            &["phase:ConfirmCallerNumber"],
        ),
    ]
}

#[test]
fn a_weak_emergency_signal_is_asked_about_never_sent_to_911() {
    // "Yes, that's my cell" heard as "yes, that's myself": asked; a "no"
    // answers the words where the call was (a yes to the number).
    let mut script = to_caller_number();
    script.extend([
        (
            Maybe(
                "Yes, that's myself.",
                Intent::Affirm,
                EmergencyKind::Suicidal,
            ),
            &[
                "say:is this a medical emergency",
                "!say:911",
                "!say:988",
                "!task:emergency",
                "phase:ConfirmEmergency",
            ][..],
        ),
        (
            U("no", Intent::Deny, ""),
            &["say:okay, thank you", "act:Register", "!task:emergency"],
        ),
    ]);
    run("possible, then no", OPEN_NOW, CALLER, script);
    // A yes is the emergency answer and an urgent task.
    run(
        "possible, then yes",
        OPEN_NOW,
        CALLER,
        vec![
            (Start, &[]),
            (
                Maybe(
                    "my toddler has a fever and is really sleepy",
                    Intent::ClinicalQuestion,
                    EmergencyKind::Unresponsive,
                ),
                &["say:is this a medical emergency", "!say:911"],
            ),
            (
                U("yes", Intent::Affirm, ""),
                &["say:dial 911", "task:emergency", "then:hangup"],
            ),
        ],
    );
}

#[test]
fn a_crisis_gets_988_in_any_phase() {
    for (name, mut script) in [
        ("asked for a date of birth", {
            let mut s = to_caller_number();
            s.truncate(3);
            s
        }),
        ("asked for the number", to_caller_number()),
        // While "is this a medical emergency?" waits for its answer, a
        // crisis the NLU names is 988, never the 911 a "yes" would get.
        (
            "asked whether this is a medical emergency",
            vec![
                (Start, &[][..]),
                (
                    Maybe(
                        "my chest feels kind of funny",
                        Intent::ClinicalQuestion,
                        EmergencyKind::ChestPain,
                    ),
                    &["phase:ConfirmEmergency"][..],
                ),
            ],
        ),
    ] {
        script.push((
            Sos(
                "I can't keep doing this anymore",
                Some(EmergencyKind::Suicidal),
            ),
            &[
                "say:988",
                "!say:hang up right now and dial 911",
                "task:emergency",
                "outcome:Emergency",
                "then:hangup",
            ],
        ));
        run(name, OPEN_NOW, CALLER, script);
    }
}

#[test]
fn a_goodbye_as_first_words_is_confirmed_and_an_emergency_still_answered() {
    run(
        "bye first",
        OPEN_NOW,
        CALLER,
        vec![
            (Start, &[]),
            (
                U("Bye.", Intent::Goodbye, ""),
                &[
                    "say:anything I can help you with before you go",
                    "!then:hangup",
                    "phase:ConfirmGoodbye",
                ],
            ),
            (
                Sos(
                    "I've had this pressure in my chest for twenty minutes",
                    Some(EmergencyKind::ChestPain),
                ),
                &["say:dial 911", "task:emergency", "then:hangup"],
            ),
        ],
    );
    // An unsure goodbye mid-call: asked; "no" closes the call.
    run(
        "unsure goodbye",
        OPEN_NOW,
        CALLER,
        vec![
            (Start, &[]),
            (U("what are your hours", Intent::OfficeHours, ""), &[]),
            (
                Uc("okay thanks bye", Intent::Goodbye, 0.5, ""),
                &["say:before you go", "!then:hangup"],
            ),
            (
                U("nope", Intent::OutOfScope, ""),
                &["say:goodbye", "then:hangup"],
            ),
        ],
    );
    // A sure goodbye after the call's business is obeyed.
    run(
        "sure goodbye",
        OPEN_NOW,
        CALLER,
        vec![
            (Start, &[]),
            (U("what are your hours", Intent::OfficeHours, ""), &[]),
            (
                U("no, that's all, thanks", Intent::Goodbye, ""),
                &["say:goodbye", "then:hangup"],
            ),
        ],
    );
    // Words said during the goodbye: an emergency still gets its answer.
    run(
        "emergency during the goodbye",
        OPEN_NOW,
        CALLER,
        vec![
            (Start, &[]),
            (U("what are your hours", Intent::OfficeHours, ""), &[]),
            (
                U("no, that's all, thanks", Intent::Goodbye, ""),
                &["then:hangup", "phase:Ended"],
            ),
            (
                U("wait, one more thing", Intent::OutOfScope, ""),
                &["!say:"],
            ),
            (
                Sos(
                    "my husband just collapsed",
                    Some(EmergencyKind::Unresponsive),
                ),
                &["say:dial 911", "task:emergency", "then:hangup"],
            ),
        ],
    );
}

#[test]
fn yes_and_no_in_every_form_after_a_yes_no_question() {
    for (yes, label) in [
        ("uh huh", Intent::OutOfScope),
        ("that's right", Intent::Inform),
        ("correct", Intent::OutOfScope),
        ("yeah", Intent::Goodbye),
        ("Yes, that's my cell.", Intent::Inform),
    ] {
        let mut script = to_caller_number();
        script.push((
            Uc(yes, label, 0.3, ""),
            &["act:Register", "!say:didn't quite catch"],
        ));
        run(yes, OPEN_NOW, CALLER, script);
    }
    let mut script = to_caller_number();
    script.push((
        Uc("nope", Intent::Goodbye, 0.9, ""),
        &["phase:AskPhone", "!then:hangup"],
    ));
    run("nope", OPEN_NOW, CALLER, script);
}

#[test]
fn a_request_repeating_the_proposal_confirms_it() {
    run(
        "just cancel it",
        OPEN_NOW,
        CALLER,
        vec![
            (Start, &[]),
            (
                U(
                    "I need to cancel my appointment",
                    Intent::CancelAppointment,
                    "",
                ),
                &[],
            ),
            (U("Maria Gonzalez", Intent::Inform, MARIA), &[]),
            (
                U("march fourth 1985", Intent::Inform, MARIA_DOB),
                &["act:Verify"],
            ),
            (R(patient()), &["act:ListAppointments"]),
            (
                R(ActionResult::Appointments(Some(vec![appt(
                    "a1",
                    "2026-03-20T08:00",
                    "patel",
                    "physical",
                )]))),
                &["say:you'd like to cancel", "phase:ConfirmCancel"],
            ),
            (
                U("So just cancel it, please", Intent::CancelAppointment, ""),
                &["act:Cancel"],
            ),
        ],
    );
}

#[test]
fn a_repeated_question_is_rephrased_and_three_chances_come_before_a_hand_off() {
    run(
        "rephrased",
        CLOSED_NOW,
        CALLER,
        vec![
            (Start, &[]),
            (
                U("I need a sick visit", Intent::BookAppointment, ""),
                &["say:May I have your first and last name"],
            ),
            (
                Mumble("mm 2"),
                &[
                    "say:didn't quite catch",
                    "say:Could you tell me your full name",
                ],
            ),
            (
                Mumble("brr 7"),
                &["say:still didn't get", "say:Let's try once more"],
            ),
            // The call was going well (a request under way, a type known):
            // the hand-off is offered, not imposed.
            (
                Mumble("ss 9"),
                &["say:call you back", "phase:OfferCallback", "!task:"],
            ),
            (
                U("no", Intent::Deny, ""),
                &["say:let's keep going", "phase:AskName"],
            ),
        ],
    );
    // Nothing understood at all: after the third miss, staff.
    run(
        "nothing understood",
        CLOSED_NOW,
        CALLER,
        vec![
            (Start, &[]),
            (Mumble("mmhm the thing"), &["say:didn't quite catch"]),
            (Mumble("brrr"), &["say:still didn't", "!task:"]),
            (
                Mumble("static"),
                &["say:trouble understanding", "task:failed_understanding"],
            ),
        ],
    );
}

#[test]
fn a_question_mid_flow_is_answered_once_and_a_day_offered_early_is_kept() {
    let mut script = to_caller_number();
    script.extend([
        (U("yes", Intent::Affirm, ""), &["act:Register"][..]),
        (R(registered()), &["phase:AskWhen"][..]),
        (
            U(
                "tomorrow at four pm if that's open",
                Intent::OfficeHours,
                r#"{"date": "2026-03-17", "time": "16:00"}"#,
            ),
            &["act:FindSlots", "!say:we're open", "!say:back to your"][..],
        ),
    ]);
    run("if that's open", OPEN_NOW, CALLER, script);
    // The same question twice in one phase: answered once, then an answer.
    let mut script = to_caller_number();
    script.extend([
        (U("yes", Intent::Affirm, ""), &["act:Register"][..]),
        (R(registered()), &["phase:AskWhen"][..]),
        (
            U("what are your hours", Intent::OfficeHours, ""),
            &["say:we're open", "say:back to your appointment"][..],
        ),
        (
            U("what are your hours", Intent::OfficeHours, ""),
            &["!say:back to your appointment", "!say:we're open"][..],
        ),
    ]);
    run("faq once", OPEN_NOW, CALLER, script);
    // A day given while the phone number is asked is kept for later.
    run(
        "day kept",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (U("I need a sick visit", Intent::BookAppointment, ""), &[]),
            (U("Maria Gonzalez", Intent::Inform, MARIA), &[]),
            (
                U("march fourth 1985", Intent::Inform, MARIA_DOB),
                &["phase:AskPhone"],
            ),
            (
                U(
                    "can it be on Wednesday",
                    Intent::Inform,
                    r#"{"date": "2026-03-18"}"#,
                ),
                &[
                    "say:keep that in mind",
                    "phase:AskPhone",
                    "!say:didn't quite catch",
                ],
            ),
            (
                U("555 123 4567", Intent::Inform, r#"{"phone": "5551234567"}"#),
                &["act:Register"],
            ),
            (R(registered()), &["act:FindSlots", "!say:what day"]),
        ],
    );
}

#[test]
fn the_loop_guard_changes_course_on_the_third_same_question() {
    // Silence re-asks the same question; the guard notices the loop.
    let clinic = Clinic::demo();
    let prompts = Prompts::builtin();
    let env = Env {
        clinic: &clinic,
        prompts: &prompts,
        now: local(OPEN_NOW),
        on_duty: None,
    };
    let mut d = Dialogue::new(None);
    d.step(&env, Input::Call(CallEvent::Started));
    let ask = |d: &mut Dialogue| {
        d.step(
            &env,
            Input::Call(CallEvent::Utterance {
                text: "what are your hours".into(),
                understanding: Understanding {
                    intent: Intent::OfficeHours,
                    confidence: 0.95,
                    entities: Entities::default(),
                    emergency: None,
                    possible_emergency: None,
                },
            }),
        )
    };
    d.step(
        &env,
        Input::Call(CallEvent::Utterance {
            text: "I need a sick visit".into(),
            understanding: Understanding {
                intent: Intent::BookAppointment,
                confidence: 0.95,
                entities: Entities::default(),
                emergency: None,
                possible_emergency: None,
            },
        }),
    );
    assert_eq!(d.phase, Phase::AskName);
    // Asked once; a question mid-flow, then the name asked again (2), a
    // repeat request (3): the fourth time the agent changes course.
    ask(&mut d);
    d.faq_in = None;
    ask(&mut d);
    d.faq_in = None;
    let a = ask(&mut d);
    let said: Vec<String> = a
        .iter()
        .filter_map(|x| match x {
            Action::Say(s) => Some(s.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(d.phase, Phase::OfferCallback, "{said:?}");
    assert!(
        said.join(" ").contains("going round in circles"),
        "{said:?}"
    );
}

#[test]
fn a_person_is_reached_at_once_in_any_phase() {
    let mut script = to_caller_number();
    script.push((
        Uc("operator", Intent::OutOfScope, 0.2, ""),
        &["say:connect you", "then:transfer"],
    ));
    run("operator mid-booking, open", OPEN_NOW, CALLER, script);
    run(
        "a person, closed",
        CLOSED_NOW,
        CALLER,
        vec![
            (Start, &[]),
            (U("I need a sick visit", Intent::BookAppointment, ""), &[]),
            (
                U("yes, a person please", Intent::Inform, ""),
                &["say:front desk call you back", "phase:AskName"],
            ),
        ],
    );
}

#[test]
fn holidays_weekends_plans_parking_and_access_from_the_clinic_file() {
    run(
        "clinic answers",
        OPEN_NOW,
        CALLER,
        vec![
            (Start, &[]),
            (
                U(
                    "are you open the day after Thanksgiving?",
                    Intent::OfficeHours,
                    "",
                ),
                &[
                    "say:the day after Thanksgiving",
                    "say:November 27th",
                    "say:open from 8 AM to 4 PM",
                ],
            ),
            (
                U(
                    "and on December 25th?",
                    Intent::OfficeHours,
                    r#"{"date": "2026-12-25"}"#,
                ),
                &["say:closed", "say:Christmas Day"],
            ),
            (
                U("what about weekends", Intent::OfficeHours, ""),
                &["say:closed on Saturdays", "say:closed on Sundays"],
            ),
            (
                U(
                    "do you take Humana Medicare Advantage",
                    Intent::Insurance,
                    "",
                ),
                &["say:billing office confirm", "!say:Yes, we accept Medicare"],
            ),
        ],
    );
    run(
        "parking",
        OPEN_NOW,
        CALLER,
        vec![
            (Start, &[]),
            (
                U("where do I park", Intent::Location, ""),
                &["say:garage", "!say:1200 Riverside"],
            ),
            (
                U("is the office wheelchair accessible?", Intent::Location, ""),
                &["say:step-free", "say:elevators"],
            ),
        ],
    );
    let foothills = Clinic::load(Some(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/clinics/foothills.toml"
    ))))
    .expect("the second clinic parses");
    run_in(
        &foothills,
        "second clinic answers",
        OPEN_NOW,
        CALLER,
        None,
        vec![
            (Start, &["say:Foothills Community Health"]),
            (
                U(
                    "are you open the day after Thanksgiving",
                    Intent::OfficeHours,
                    "",
                ),
                &["say:closed", "say:November 27th"],
            ),
            (
                U("what are your weekend hours", Intent::OfficeHours, ""),
                &[
                    "say:On Saturdays we're open from 9 AM to 1 PM",
                    "say:closed on Sundays",
                ],
            ),
            (
                U("what are your hours", Intent::OfficeHours, ""),
                &["say:Saturday from 9 AM to 1 PM", "!say:closed on weekends"],
            ),
            (
                U(
                    "do you take Humana Medicare Advantage",
                    Intent::Insurance,
                    "",
                ),
                &["say:Yes, we accept Humana Medicare Advantage"],
            ),
            (
                U("do you take aetna", Intent::Insurance, ""),
                &["say:we don't accept Aetna"],
            ),
            (
                U("is it wheelchair accessible", Intent::Location, ""),
                &["say:step-free entrance"],
            ),
        ],
    );
}

#[test]
fn a_video_visit_request_is_a_booking() {
    run(
        "video visit",
        OPEN_NOW,
        CALLER,
        vec![
            (Start, &[]),
            (
                U(
                    "Can I do a video visit, I want to talk to someone about my anxiety",
                    Intent::ClinicalQuestion,
                    "",
                ),
                &[
                    "!say:not able to give medical advice",
                    "say:your first and last name",
                    "phase:AskName",
                ],
            ),
            (U("Maria Gonzalez", Intent::Inform, MARIA), &[]),
            (U("march fourth 1985", Intent::Inform, MARIA_DOB), &[]),
            (U("yes", Intent::Affirm, ""), &["act:Register"]),
            (R(registered()), &["phase:AskWhen"]),
            (
                U("tomorrow", Intent::Inform, r#"{"date": "2026-03-17"}"#),
                &["act:FindSlots(SlotQuery { type_id: \"telehealth\""],
            ),
        ],
    );
}
