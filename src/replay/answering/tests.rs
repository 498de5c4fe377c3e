use super::*;

fn script(toml_text: &str) -> CallScript {
    toml::from_str(toml_text).expect("script parses")
}

const NEW_PATIENT: &str = r#"
name = "t"
description = "t"
[[turns]]
caller = "I'd like to book a physical"
intent = "book_appointment"
[[turns]]
caller = "my name is Emily Carter"
intent = "inform"
[turns.entities]
person_name = "Emily Carter"
[[turns]]
caller = "July 9th 1978"
intent = "inform"
[turns.entities]
date_of_birth = "1978-07-09"
[[turns]]
caller = "it's 555 867 2301"
intent = "inform"
[turns.entities]
phone = "5558672301"
[[turns]]
caller = "as soon as possible"
intent = "inform"
[[turns]]
caller = "yes"
intent = "affirm"
[expect]
outcome = "booked"
"#;

/// A caller of `NEW_PATIENT` that has given its request, name, date of
/// birth and number, in the script's order.
fn past_the_details(s: &CallScript) -> AnsweringCaller {
    let mut caller = AnsweringCaller::new(s);
    for words in [
        "How can I help?",
        "Your first and last name?",
        "Date of birth?",
        "Best phone number?",
    ] {
        assert!(matches!(caller.next(words), Next::Turn(_)), "{words}");
    }
    caller
}

#[test]
fn reads_the_question_from_the_agents_words() {
    let cases = [
        (
            "Sure. May I have your first and last name, please?",
            Asked::Name,
        ),
        (
            "Thanks. And what is your date of birth?",
            Asked::DateOfBirth,
        ),
        ("What is the best phone number to reach you?", Asked::Phone),
        (
            "I have Emily Carter, born July 9th, 1978, with the callback number ending in 2 3 0 1. Is that right?",
            Asked::ReadBack,
        ),
        (
            "Is that right: Emily Carter, born July 9th, 1978? Yes or no?",
            Asked::ReadBack,
        ),
        (
            "To make sure I have the right record, please tell me the phone number we have on file for you, or your ZIP code.",
            Asked::SecondFactor,
        ),
        (
            "Is the number you're calling from, ending in 4 5 6 7, the best number to reach you?",
            Asked::CallingNumber,
        ),
        ("Which medication do you need refilled?", Asked::Medication),
        ("And which pharmacy should we send it to?", Asked::Pharmacy),
        (
            "Just to confirm: a physical with Dr. Patel on Monday. Shall I book it?",
            Asked::YesNo,
        ),
        ("What day and time work best for you?", Asked::Open),
        (
            "Thank you for calling. How can I help you today?",
            Asked::Open,
        ),
    ];
    for (words, want) in cases {
        assert_eq!(asked(words), want, "{words}");
    }
}

#[test]
fn answers_in_the_order_the_agent_asks() {
    let s = script(NEW_PATIENT);
    let mut caller = AnsweringCaller::new(&s);
    assert_eq!(caller.next("How can I help you today?"), Next::Turn(0));
    // The agent asks the date of birth first: the line that carries it.
    assert_eq!(
        caller.next("And what is your date of birth?"),
        Next::Turn(2)
    );
    assert_eq!(
        caller.next("May I have your first and last name?"),
        Next::Turn(1)
    );
    assert_eq!(
        caller.next("What is the best phone number to reach you?"),
        Next::Turn(3)
    );
}

#[test]
fn a_read_back_is_confirmed_or_corrected_from_the_facts() {
    let s = script(NEW_PATIENT);
    let mut caller = past_the_details(&s);
    assert_eq!(
        caller.next("I have Emily Carver, born July 9th, 1978. Is that right?"),
        Next::Improvised("no, my name is Emily Carter".into())
    );
    assert_eq!(
        caller.next("I have Emily Carter, born July 9th, 1978. Is that right?"),
        Next::Improvised("yes, that's right".into())
    );
    // Then the script goes on where it was.
    assert_eq!(
        caller.next("What day and time work best for you?"),
        Next::Turn(4)
    );
    assert_eq!(caller.next("Shall I book it?"), Next::Turn(5));
    assert_eq!(caller.next("You're all set."), Next::Done);
}

#[test]
fn a_second_factor_comes_from_the_record_on_file() {
    let s = script(
        r#"
name = "t"
description = "t"
[[seed.patients]]
name = "Jon Ruiz"
date_of_birth = "2020-03-09"
phone = "5552468013"
zip = "80302"
[[turns]]
caller = "when is my next appointment"
intent = "check_appointment"
[[turns]]
caller = "This is John Ruiz"
intent = "inform"
[turns.entities]
person_name = "John Ruiz"
[[turns]]
caller = "March ninth, twenty twenty"
intent = "inform"
[turns.entities]
date_of_birth = "2020-03-09"
[expect]
outcome = "answered"
"#,
    );
    let mut caller = AnsweringCaller::new(&s);
    assert_eq!(caller.facts().phone.as_deref(), Some("5552468013"));
    assert_eq!(caller.next("How can I help?"), Next::Turn(0));
    assert_eq!(caller.next("Your first and last name?"), Next::Turn(1));
    assert_eq!(
        caller.next("And what is your date of birth?"),
        Next::Turn(2)
    );
    assert_eq!(
        caller.next("Please tell me the phone number we have on file for you, or your ZIP code."),
        Next::Improvised("it's 555 246 8013".into())
    );
}

#[test]
fn an_open_question_takes_the_next_line_and_improvising_is_bounded() {
    let s = script(NEW_PATIENT);
    let mut caller = AnsweringCaller::new(&s);
    assert_eq!(caller.next("How can I help?"), Next::Turn(0));
    // The same read-back of a wrong name, again and again: the caller
    // corrects it a few times, then goes on with its script.
    let mut improvised = 0;
    loop {
        match caller.next("I have Emily Carver, born July 9th, 1978. Is that right?") {
            Next::Improvised(_) => improvised += 1,
            Next::Turn(i) => {
                assert_eq!(i, 1);
                break;
            }
            other => panic!("the script is not done: {other:?}"),
        }
    }
    assert_eq!(improvised, MAX_IMPROVISED);
}

#[test]
fn a_number_not_caught_is_keyed_when_the_keypad_is_offered() {
    let s = script(NEW_PATIENT);
    let mut caller = past_the_details(&s);
    assert_eq!(
        caller.next("Sorry, I still didn't get that. Please say the ten-digit number slowly, or enter it on your keypad."),
        Next::Keys("5558672301".into())
    );
    assert_eq!(
        caller.next("Please say your birth date with the month, the day and the year, or enter it on your keypad as eight digits."),
        Next::Keys("07091978".into())
    );
    // Said, not keyed, when the keypad is not offered.
    assert_eq!(
        caller.next("What is the best phone number to reach you?"),
        Next::Improvised("it's 555 867 2301".into())
    );
    assert!(caller.lines().contains(&"it's 555 867 2301".to_string()));
}

#[test]
fn a_date_of_birth_read_back_wrong_is_corrected() {
    let s = script(NEW_PATIENT);
    let mut caller = past_the_details(&s);
    assert_eq!(
        caller.next("I have Emily Carter, born July 9th, 1970. Is that right?"),
        Next::Improvised("no, my date of birth is July 9th 1978".into())
    );
}

#[test]
fn the_emergency_question_is_answered_from_the_truth() {
    // A booking caller whose next line is a "yes" for another question
    // says no; a caller in an emergency says yes, even out of lines.
    let booking = script(NEW_PATIENT);
    let mut caller = AnsweringCaller::new(&booking);
    assert_eq!(
        caller.next("Just to be safe: is this a medical emergency?"),
        Next::Improvised("no, it's not an emergency".into())
    );
    let emergency =
        script(&NEW_PATIENT.replace(r#"outcome = "booked""#, r#"outcome = "emergency""#));
    let mut caller = AnsweringCaller::new(&emergency);
    assert_eq!(
        caller.next("Is this a medical emergency, yes or no?"),
        Next::Improvised("yes, it is".into())
    );
    assert!(caller.lines().contains(&"yes, it is".to_string()));
}
