//! Entities and intents on what Whisper really hears: caller lines spoken in
//! a synthetic caller voice through an 8 kHz µ-law phone band, transcribed
//! by the call path's Whisper, then understood. Clean text is not enough:
//! Whisper writes "3/4/85", "555-123-4567", "2.30 p.m." its own way.

mod support;

use chrono::NaiveDate;
use frontdesk::audio::resample;
use frontdesk::vocabulary::{Entities, Intent, PartOfDay};

struct Case {
    said: &'static str,
    intent: Option<Intent>,
    check: fn(&Entities) -> bool,
}

#[tokio::test]
async fn entities_survive_the_phone_line_and_whisper() {
    let engines = support::engines();
    let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(); // a Tuesday
    let cases = [
        Case {
            said: "My date of birth is March fourth, nineteen eighty five.",
            intent: Some(Intent::Inform),
            check: |e| e.date_of_birth == NaiveDate::from_ymd_opt(1985, 3, 4),
        },
        Case {
            said: "You can reach me at five five five, one two three, four five six seven.",
            intent: Some(Intent::Inform),
            check: |e| e.phone.as_deref() == Some("5551234567"),
        },
        Case {
            said: "Could I come in tomorrow at two thirty in the afternoon?",
            intent: None,
            check: |e| {
                e.date == NaiveDate::from_ymd_opt(2026, 11, 25)
                    && e.time.map(|t| t.to_string()) == Some("14:30:00".into())
            },
        },
        Case {
            said: "Next Friday morning would be best.",
            intent: None,
            check: |e| e.date.is_some() && e.part_of_day == Some(PartOfDay::Morning),
        },
        Case {
            said: "I'd like to see Doctor Patel please.",
            intent: None,
            check: |e| e.provider.is_some(),
        },
        Case {
            said: "I need a refill of my metformin.",
            intent: Some(Intent::PrescriptionRefill),
            check: |e| {
                e.medication
                    .as_deref()
                    .is_some_and(|m| m.to_lowercase().contains("metformin"))
            },
        },
        Case {
            said: "My name is John Smith.",
            intent: Some(Intent::Inform),
            check: |e| e.person_name.as_deref() == Some("John Smith"),
        },
        Case {
            said: "How about the fourteenth at noon?",
            intent: None,
            check: |e| {
                e.date == NaiveDate::from_ymd_opt(2026, 12, 14)
                    && e.time.map(|t| t.to_string()) == Some("12:00:00".into())
            },
        },
    ];
    let voice = support::caller_voice("mid");
    let mut right = 0;
    for case in &cases {
        let pcm = voice.synthesize(case.said).unwrap();
        let samples_16k = resample::resample(&resample::i16_to_f32(&pcm), 8000, 16000).unwrap();
        let heard = engines.stt.transcribe(samples_16k).await.unwrap().text;
        let understood = engines.nlu.understand(&heard, today);
        let entity_ok = (case.check)(&understood.entities);
        let intent_ok = case.intent.is_none_or(|i| i == understood.intent);
        println!(
            "{} | heard {heard:?} | {:?} {:?}",
            if entity_ok && intent_ok {
                "ok  "
            } else {
                "MISS"
            },
            understood.intent,
            understood.entities
        );
        if entity_ok && intent_ok {
            right += 1;
        }
    }
    println!(
        "{right}/{} understood from Whisper's transcripts",
        cases.len()
    );
    // Piper samples its noise, so a word may differ run to run; 6 of 8 is the floor.
    assert!(
        right * 100 >= cases.len() * 75,
        "only {right}/{} right",
        cases.len()
    );
}
