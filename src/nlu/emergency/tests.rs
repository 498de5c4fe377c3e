//! The net's own cases: kinds, containment, and the signs and crisis
//! wordings it must hear.

use super::*;
use crate::vocabulary::Hotline;

#[test]
fn fires_on_live_emergencies_with_the_right_kind() {
    let cases = [
        (
            "my dad has chest pain right now and he's pale and sweaty",
            EmergencyKind::ChestPain,
        ),
        ("I can't breathe", EmergencyKind::Breathing),
        (
            "um my husband is wearing his words and his face is drooping",
            EmergencyKind::Stroke,
        ),
        (
            "there's blood everywhere it won't stop bleeding",
            EmergencyKind::Bleeding,
        ),
        ("I think my son overdosed", EmergencyKind::Overdose),
        ("i want to kill myself", EmergencyKind::Suicidal),
        (
            "her throat is closing up after the peanuts",
            EmergencyKind::Anaphylaxis,
        ),
        (
            "my grandpa collapsed and isn't responding",
            EmergencyKind::Unresponsive,
        ),
    ];
    for (text, kind) in cases {
        assert_eq!(screen(text), Screen::Emergency(kind), "{text}");
    }
    assert_eq!(EmergencyKind::Suicidal.hotline(), Hotline::Crisis988);
    assert_eq!(EmergencyKind::Stroke.hotline(), Hotline::Emergency911);
}

#[test]
fn past_or_mild_symptoms_are_contained_not_emergencies() {
    for text in [
        "I had chest pain last year",
        "my chest is a little tight after the gym",
        "I had a heart attack years ago and need a refill",
        "I used to have suicidal thoughts but I'm doing better",
    ] {
        assert!(
            matches!(screen(text), Screen::Contained(_)),
            "{text}: {:?}",
            screen(text)
        );
    }
    for text in [
        "a little sore after the gym",
        "my bleeding stopped and I need a follow-up",
        "I need a refill",
    ] {
        assert_eq!(screen(text), Screen::Clear, "{text}");
    }
}

#[test]
fn a_current_cue_or_a_new_clause_beats_containment() {
    assert_eq!(
        screen("I had chest pain last week and it's back again right now"),
        Screen::Emergency(EmergencyKind::ChestPain)
    );
    assert_eq!(
        screen("I had chest pain last year and now my dad can't breathe"),
        Screen::Emergency(EmergencyKind::Breathing)
    );
    assert_eq!(
        screen("he stopped breathing"),
        Screen::Emergency(EmergencyKind::Breathing)
    );
}

#[test]
fn emergencies_told_by_their_signs_are_heard() {
    let cases = [
        (
            "hi um I've had this pressure in my chest for twenty minutes, it's going up into my jaw and I'm sweating",
            EmergencyKind::ChestPain,
        ),
        (
            "my husband is diabetic and he's really confused and barely awake",
            EmergencyKind::Unresponsive,
        ),
        (
            "her blood sugar crashed and she's not making sense",
            EmergencyKind::Unresponsive,
        ),
        (
            "my baby is limp and won't wake up properly",
            EmergencyKind::Unresponsive,
        ),
        ("my son got into grandma's pills", EmergencyKind::Overdose),
        (
            "she's allergic to shellfish and now she's wheezing",
            EmergencyKind::Anaphylaxis,
        ),
        (
            "all of a sudden his left arm went numb",
            EmergencyKind::Stroke,
        ),
        ("he is struggling for air", EmergencyKind::Breathing),
    ];
    for (text, kind) in cases {
        assert_eq!(screen(text), Screen::Emergency(kind), "{text}");
    }
}

#[test]
fn hopelessness_or_a_plan_is_a_crisis_even_half_heard() {
    for text in [
        "I don't think I can keep doing this anymore",
        "I can't go on like this",
        "everyone would be better off without me",
        "I've been saving up my pills and I'm going to take them tonight",
        // Whisper's hearing of the line above, from a call in issue 12.
        "I've been feeding up my tools, I'm going to take them tonight",
        "there's no point in living",
        // A wish not to wake is a crisis, not a person who will not wake.
        "I want to go to sleep and not wake up",
    ] {
        assert_eq!(
            screen(text),
            Screen::Emergency(EmergencyKind::Suicidal),
            "{text}"
        );
    }
}

#[test]
fn ordinary_requests_that_mention_a_sign_word_stay_clear() {
    for text in [
        "yes that's myself",
        "my toddler has a fever of a hundred and one",
        "I'm confused about my insulin bill",
        "I need a refill of my insulin",
        "can you call my son back about his appointment",
        "I drank my medicine this morning, when should I take the next one",
        "my daughter needs a sports physical",
        "my allergies are acting up, can I get an appointment",
    ] {
        assert_eq!(screen(text), Screen::Clear, "{text}");
    }
}
