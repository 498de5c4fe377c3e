//! Emergencies and hand-offs to staff.

use super::*;

#[test]
fn emergency_wins_in_any_state() {
    run(
        "911 mid-booking",
        OPEN_NOW,
        Some("5551234567"),
        vec![
            (Start, &[]),
            (
                U("book a sick visit", Intent::BookAppointment, ""),
                &["phase:AskName"],
            ),
            (
                Sos(
                    "actually my husband has crushing chest pain and can't breathe",
                    Some(EmergencyKind::ChestPain),
                ),
                &[
                    "say:dial 911",
                    "!say:988",
                    "task:emergency",
                    "outcome:Emergency",
                    "then:hangup",
                    "!act:Book",
                    "phase:Ended",
                ],
            ),
            (U("hello?", Intent::Inform, ""), &["!say:"]),
        ],
    );
    run(
        "988",
        CLOSED_NOW,
        None,
        vec![
            (Start, &[]),
            (
                Sos(
                    "I don't want to live anymore, I want to kill myself",
                    Some(EmergencyKind::Suicidal),
                ),
                &[
                    "say:988",
                    "task:emergency",
                    "outcome:Emergency",
                    "then:hangup",
                ],
            ),
        ],
    );
    // Even when the agent is waiting for a yes/no and the classifier is unsure of everything else.
    run(
        "911 during confirm",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("do you take aetna", Intent::Insurance, ""),
                &["say:yes, we accept aetna", "phase:Open"],
            ),
            (
                Sos("I'm bleeding heavily", Some(EmergencyKind::Bleeding)),
                &["say:911", "!say:988", "outcome:Emergency"],
            ),
        ],
    );
    // The hotline follows the kind the NLU reports, not the dialogue's own
    // reading of the words: one source of truth.
    run(
        "988 from the net's kind",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                Sos("I can't go on like this", Some(EmergencyKind::Suicidal)),
                &[
                    "say:988",
                    "!say:This sounds like an emergency",
                    "task:emergency",
                ],
            ),
        ],
    );
    run(
        "911 for an overdose",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                Sos(
                    "my son swallowed a whole bottle of pills",
                    Some(EmergencyKind::Overdose),
                ),
                &["say:dial 911", "!say:988", "task:emergency"],
            ),
        ],
    );
    // The model alone, and unsure: ask first; a yes is 911, anything else
    // goes on where the call was.
    let unsure = |text: &'static str| {
        Input::Call(CallEvent::Utterance {
            text: text.into(),
            understanding: Understanding {
                intent: Intent::Emergency,
                confidence: 0.26,
                entities: ent(r#"{"person_name": "Tom Lee"}"#),
                emergency: None,
                possible_emergency: None,
            },
        })
    };
    let clinic = Clinic::demo();
    let prompts = Prompts::builtin();
    let on_duty = receptionist();
    let env = Env {
        clinic: &clinic,
        prompts: &prompts,
        now: local(OPEN_NOW),
        on_duty: Some(&on_duty),
    };
    let said = |actions: &[Action]| -> String {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Say(s) => Some(s.clone()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut d = Dialogue::new(Some("5551234567"));
    d.step(&env, Input::Call(CallEvent::Started));
    let a = d.step(&env, unsure("Hi, this is Tom Lee."));
    assert!(said(&a).contains("is this a medical emergency"), "{a:?}");
    assert_eq!(d.phase, Phase::ConfirmEmergency);
    let a = d.step(
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
    assert!(
        said(&a).contains("date of birth"),
        "the name was kept: {a:?}"
    );
    assert!(d.outcome() != Some(crate::vocabulary::Outcome::Emergency));
    let mut d = Dialogue::new(None);
    d.step(&env, Input::Call(CallEvent::Started));
    d.step(&env, unsure("my dad is acting really strange"));
    let a = d.step(
        &env,
        Input::Call(CallEvent::Utterance {
            text: "yes".into(),
            understanding: Understanding {
                intent: Intent::Affirm,
                confidence: 0.99,
                entities: Entities::default(),
                emergency: None,
                possible_emergency: None,
            },
        }),
    );
    assert!(said(&a).contains("dial 911"), "{a:?}");
    assert!(
        a.iter()
            .any(|x| matches!(x, Action::CreateTask(t) if t.kind == TaskKind::Emergency))
    );
    // Asked for a name, an unsure model-only emergency is the name.
    run(
        "misheard name",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("when is my appointment", Intent::CheckAppointment, ""),
                &[],
            ),
            (
                Uc(
                    "This is Bregonzalez.",
                    Intent::Emergency,
                    0.3,
                    r#"{"person_name": "Bregonzalez"}"#,
                ),
                &["!say:emergency", "!say:911", "phase:AskDob"],
            ),
        ],
    );
    // Asked for a date of birth, words that hold none and that the model
    // alone hears as an emergency get the question, never "didn't catch that".
    run(
        "misheard chest pain when asked for a date of birth",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("I need a sick visit", Intent::BookAppointment, ""),
                &["phase:AskName"],
            ),
            (
                U(
                    "It's Marie Gonzalez.",
                    Intent::Inform,
                    r#"{"person_name": "Marie Gonzalez"}"#,
                ),
                &["phase:AskDob"],
            ),
            (
                Uc(
                    "Actually, I'm having crushing chess team right now.",
                    Intent::Emergency,
                    0.6,
                    "",
                ),
                &[
                    "say:medical emergency",
                    "!say:catch that",
                    "phase:ConfirmEmergency",
                ],
            ),
            (
                U("yes", Intent::Affirm, ""),
                &["say:dial 911", "task:emergency", "outcome:Emergency"],
            ),
        ],
    );
    // The model alone, twice, with no yes: the question again as a yes
    // or no; the third time it is taken as an emergency.
    run(
        "only the model heard it, three times: asked twice, then 911",
        CLOSED_NOW,
        None,
        vec![
            (Start, &[]),
            (
                Uc("and", Intent::Emergency, 0.98, ""),
                &["say:is this a medical emergency?", "!say:dial 911"],
            ),
            (
                Uc("and then the honor of", Intent::Emergency, 0.97, ""),
                &[
                    "say:is this a medical emergency, yes or no",
                    "!say:dial 911",
                    "!task:emergency",
                    "phase:ConfirmEmergency",
                ],
            ),
            (
                Uc("all right", Intent::Emergency, 0.87, ""),
                &["say:dial 911", "task:emergency", "outcome:Emergency"],
            ),
        ],
    );
    // The model alone heard an emergency: 911, the safe default.
    run(
        "only the model heard it: asked, then 911 on a yes",
        CLOSED_NOW,
        None,
        vec![
            (Start, &[]),
            (
                Sos("something is really wrong with my dad", None),
                &[
                    "say:medical emergency",
                    "!say:dial 911",
                    "!outcome:Emergency",
                ],
            ),
            (
                U("yes", Intent::Affirm, ""),
                &[
                    "say:dial 911",
                    "!say:988",
                    "task:emergency",
                    "outcome:Emergency",
                ],
            ),
        ],
    );
}

#[test]
fn escalations_write_the_task_before_promising_a_callback() {
    run(
        "refill",
        CLOSED_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U(
                    "I need a refill on my lisinopril",
                    Intent::PrescriptionRefill,
                    r#"{"medication": "lisinopril"}"#,
                ),
                &["say:refill request", "phase:AskName"],
            ),
            (
                U("Maria Gonzalez", Intent::Inform, MARIA),
                &["phase:AskDob"],
            ),
            (
                U("3/4/85", Intent::Inform, MARIA_DOB),
                &["say:which pharmacy", "phase:AskPharmacy"],
            ),
            (
                U(
                    "the CVS on Main Street",
                    Intent::Inform,
                    r#"{"pharmacy": "CVS on Main Street"}"#,
                ),
                &["say:best phone number", "phase:AskPhone"],
            ),
            (
                U("555 123 4567", Intent::Inform, r#"{"phone": "5551234567"}"#),
                &["task:prescription_refill", "!say:"],
            ),
            (
                R(ActionResult::TaskCreated(true)),
                &[
                    "say:refill request to our clinical team",
                    "outcome:Escalated",
                    "say:anything else",
                ],
            ),
        ],
    );
    run(
        "task write fails",
        CLOSED_NOW,
        Some("5551234567"),
        vec![
            (Start, &[]),
            (
                U("I have a question about my bill", Intent::Billing, ""),
                &["phase:AskName"],
            ),
            (
                U("Maria Gonzalez", Intent::Inform, MARIA),
                &["phase:ConfirmCallerNumber"],
            ),
            (U("yes", Intent::Affirm, ""), &["task:billing"]),
            (
                R(ActionResult::TaskCreated(false)),
                &[
                    "say:couldn't save your request",
                    "!say:call you back at the number",
                    "!outcome:Escalated",
                ],
            ),
        ],
    );
    run(
        "results are never read out",
        CLOSED_NOW,
        Some("5551234567"),
        vec![
            (Start, &[]),
            (
                U("are my lab results back", Intent::TestResults, ""),
                &["say:not able to share test results", "phase:AskName"],
            ),
        ],
    );
    run(
        "clinical question gets no advice",
        CLOSED_NOW,
        Some("5551234567"),
        vec![
            (Start, &[]),
            (
                U(
                    "can I take ibuprofen with my blood pressure medicine",
                    Intent::ClinicalQuestion,
                    "",
                ),
                &["say:not able to give medical advice", "say:911"],
            ),
        ],
    );
}

#[test]
fn warm_transfer_during_open_hours() {
    run(
        "staff",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("can I talk to a real person", Intent::SpeakToStaff, ""),
                &[
                    "say:connect you with Dana at our front desk",
                    "then:transfer",
                    "outcome:Transferred",
                    "!act:CreateTask",
                ],
            ),
        ],
    );
    // Open, but nobody has marked themselves available: a callback task.
    run_staffed(
        "staff, nobody available",
        OPEN_NOW,
        Some("5551234567"),
        None,
        vec![
            (Start, &[]),
            (
                U("can I talk to a real person", Intent::SpeakToStaff, ""),
                &[
                    "say:front desk call you back",
                    "phase:AskName",
                    "!then:transfer",
                ],
            ),
        ],
    );
    // A callback goes on when the name is not heard twice: no hand-off
    // for failing to understand, the number is asked next.
    run_staffed(
        "staff, the name not heard",
        OPEN_NOW,
        Some("5551234567"),
        None,
        vec![
            (Start, &[]),
            (
                U("can I talk to a real person", Intent::SpeakToStaff, ""),
                &["phase:AskName"],
            ),
            (
                U("Then Carter.", Intent::Inform, ""),
                &["say:didn't quite catch that", "phase:AskName"],
            ),
            (
                U("My name has been Carter.", Intent::Inform, ""),
                &[
                    "say:confirm your name when they call",
                    "!say:trouble understanding",
                    "phase:ConfirmCallerNumber",
                    "!task:failed_understanding",
                ],
            ),
        ],
    );
    run(
        "billing",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("I got a bill I don't understand", Intent::Billing, ""),
                &["then:transfer"],
            ),
        ],
    );
    run(
        "dtmf zero after hours",
        CLOSED_NOW,
        Some("5551234567"),
        vec![
            (Start, &[]),
            (
                Dtmf("0"),
                &[
                    "say:front desk call you back",
                    "phase:AskName",
                    "!then:transfer",
                ],
            ),
        ],
    );
}

#[test]
fn a_pharmacy_on_a_street_answers_which_pharmacy() {
    run(
        "pharmacy",
        CLOSED_NOW,
        Some("5551234567"),
        vec![
            (Start, &[]),
            (
                U(
                    "I need a refill of my lisinopril",
                    Intent::PrescriptionRefill,
                    r#"{"medication": "lisinopril"}"#,
                ),
                &["phase:AskName"],
            ),
            (U("Maria Gonzalez", Intent::Inform, MARIA), &[]),
            (
                U("march fourth 1985", Intent::Inform, MARIA_DOB),
                &["phase:AskPharmacy"],
            ),
            (
                U("the CBS on Main Street.", Intent::Location, ""),
                &["!say:Riverside Drive", "say:ending in 4 5 6 7"],
            ),
        ],
    );
    // A question is still answered.
    run(
        "where are you",
        CLOSED_NOW,
        Some("5551234567"),
        vec![
            (Start, &[]),
            (
                U(
                    "I need a refill of my lisinopril",
                    Intent::PrescriptionRefill,
                    r#"{"medication": "lisinopril"}"#,
                ),
                &[],
            ),
            (U("Maria Gonzalez", Intent::Inform, MARIA), &[]),
            (U("march fourth 1985", Intent::Inform, MARIA_DOB), &[]),
            (
                U("where are you located?", Intent::Location, ""),
                &["say:Riverside Drive", "say:which pharmacy"],
            ),
        ],
    );
}

/// Found by the `dialogue` fuzz target as a stack overflow, which aborts
/// the whole server: a goodbye as the first words ("anything before you
/// go?"), then a weak emergency sign ("is this an emergency?"), then an
/// unsure goodbye, made each question hand the next reply to the other for
/// ever. Now each goes back to where the call was before both.
#[test]
fn an_unsure_goodbye_during_the_emergency_question_does_not_loop() {
    run(
        "bye, a fever, goodbye, something else",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (U("bye", Intent::Goodbye, ""), &["phase:ConfirmGoodbye"]),
            (
                Maybe("I have a fever", Intent::Inform, EmergencyKind::ChestPain),
                &["say:emergency", "phase:ConfirmEmergency"],
            ),
            (
                Uc("goodbye", Intent::Goodbye, 0.55, ""),
                &["phase:ConfirmGoodbye", "!task:emergency"],
            ),
            (
                U("the weather is nice", Intent::OutOfScope, ""),
                &["say:", "phase:Open"],
            ),
        ],
    );
}
