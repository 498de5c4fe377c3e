//! The entity parsers and the other readers of caller text, on arbitrary
//! text (multi-byte UTF-8 included), without the intent model: every
//! `parse_*` of `nlu::entities`, `extract`, the emergency net, and the
//! dialogue's word readers.

use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};

use super::driver::Features;
use crate::clinic::Clinic;
use crate::dialogue::words;
use crate::nlu::emergency::{self, Screen};
use crate::nlu::entities::{
    self as parsers, ProviderRoster, RosterEntry, parse_date, parse_date_of_birth,
    parse_medication, parse_name_answer, parse_part_of_day, parse_person_name, parse_pharmacy,
    parse_phone, parse_provider, parse_time,
};
use crate::vocabulary::{Asked, Entities};

/// The demo clinic and its providers, as the server indexes them.
pub(crate) static CLINIC: LazyLock<Clinic> = LazyLock::new(Clinic::demo);
pub(crate) static ROSTER: LazyLock<ProviderRoster> = LazyLock::new(|| {
    ProviderRoster::new(
        CLINIC
            .providers
            .iter()
            .map(|p| RosterEntry {
                id: p.id.clone(),
                name: p.name.clone(),
                title: p.title.clone(),
            })
            .collect(),
    )
});

/// Call dates the parsers resolve against: ordinary days, a leap day, the
/// turn of a year.
const TODAYS: &[(i32, u32, u32)] = &[
    (2026, 3, 16),
    (2028, 2, 29),
    (2026, 12, 31),
    (2027, 1, 1),
    (2026, 11, 27),
    (2099, 12, 31),
];

fn today_for(data: &[u8]) -> NaiveDate {
    let (y, m, d) = TODAYS[data.len() % TODAYS.len()];
    NaiveDate::from_ymd_opt(y, m, d).expect("a real date")
}

fn entity_bits(e: &Entities) -> u16 {
    [
        e.person_name.is_some(),
        e.date_of_birth.is_some(),
        e.phone.is_some(),
        e.date.is_some(),
        e.time.is_some(),
        e.part_of_day.is_some(),
        e.provider.is_some(),
        e.medication.is_some(),
        e.pharmacy.is_some(),
    ]
    .iter()
    .enumerate()
    .fold(0, |bits, (i, on)| bits | (u16::from(*on) << i))
}

/// Every parser on one text; each result within its normal form, and
/// `extract` agreeing with the parsers run alone.
pub fn entities(data: &[u8], f: &mut Features) {
    let text = String::from_utf8_lossy(data);
    let today = today_for(data);
    let all = parsers::extract(&text, today, &ROSTER);
    f.add(("entities", entity_bits(&all)));

    let phone = parse_phone(&text);
    if let Some(p) = &phone {
        assert!(
            p.len() == 10 && p.bytes().all(|b| b.is_ascii_digit()),
            "phone {p:?} is not ten digits"
        );
    }
    assert_eq!(all.phone, phone);
    let dob = parse_date_of_birth(&text, today);
    if let Ok(d) = dob {
        assert!(d <= today, "date of birth {d} after {today}");
        assert!(today.year() - d.year() <= 121, "date of birth {d} too old");
    }
    f.add(("dob", dob.err().map(|e| e.to_string())));
    assert_eq!(all.date_of_birth, dob.ok());
    assert_eq!(all.date, parse_date(&text, today));
    assert_eq!(all.time, parse_time(&text));
    if all.time.is_some() {
        assert_eq!(all.part_of_day, None);
    } else {
        assert_eq!(all.part_of_day, parse_part_of_day(&text));
    }
    let provider = parse_provider(&text, &ROSTER);
    if let Some(id) = &provider {
        assert!(
            CLINIC.provider(id).is_some(),
            "provider {id:?} not on the roster"
        );
    }
    assert_eq!(all.provider, provider);
    assert_eq!(all.medication, parse_medication(&text));
    assert_eq!(all.pharmacy, parse_pharmacy(&text));
    for name in [
        parse_person_name(&text),
        parse_name_answer(&text),
        all.person_name.clone(),
    ]
    .into_iter()
    .flatten()
    {
        assert!(!name.trim().is_empty(), "an empty name");
        assert_eq!(name.trim(), name, "a name with spaces around it");
    }
    for free in [&all.medication, &all.pharmacy].into_iter().flatten() {
        assert!(!free.trim().is_empty(), "an empty medication or pharmacy");
    }
    // What `frontdesk nlu` prints reads back as the same entities.
    let json = serde_json::to_string(&all).expect("entities serialise");
    let back: Entities = serde_json::from_str(&json).expect("entities read back");
    assert_eq!(back, all, "entities survive JSON");

    // Read as an answer: no question is the context-free reading; with
    // one, every value stays within its normal form.
    assert_eq!(
        parsers::extract_in_context(&text, today, &ROSTER, None),
        all,
        "no question, no context"
    );
    let asked = Asked::ALL[data.len() % Asked::ALL.len()];
    let answer = parsers::extract_in_context(&text, today, &ROSTER, Some(asked));
    f.add(("answer", asked.as_str(), entity_bits(&answer)));
    if let Some(p) = &answer.phone {
        assert!(
            p.len() == 10 && p.bytes().all(|b| b.is_ascii_digit()),
            "phone {p:?} (asked {asked:?}) is not ten digits"
        );
    }
    if let Some(d) = answer.date_of_birth {
        assert!(
            d <= today,
            "date of birth {d} after {today} (asked {asked:?})"
        );
        assert!(today.year() - d.year() <= 120, "date of birth {d} too old");
    }
    if let Some(name) = &answer.person_name {
        assert!(!name.trim().is_empty(), "an empty name (asked {asked:?})");
        assert_eq!(name.trim(), name, "a name with spaces around it");
    }

    let screen = emergency::screen(&text);
    f.add((
        "screen",
        match screen {
            Screen::Clear => 0,
            Screen::Contained(_) => 1,
            Screen::Emergency(_) => 2,
        },
    ));
    assert_eq!(
        emergency::detect(&text),
        match screen {
            Screen::Emergency(kind) => Some(kind),
            _ => None,
        }
    );
    let _ = crate::nlu::classifier::tokens(&text);

    // The dialogue's own readers of the same words.
    let clinic = &*CLINIC;
    let readers = [
        words::asks_to_repeat(&text),
        words::leading_yes_no(&text).is_some(),
        words::is_greeting_only(&text),
        words::is_hold_on(&text),
        words::is_question(&text),
        words::says_goodbye(&text),
        words::introduces_self(&text),
        words::talks_of_birth(&text),
        words::year_in(&text).is_some(),
        words::wants_earliest(&text),
        words::refuses(&text),
        words::next_week(&text, today).is_some(),
        words::impossible_date(&text).is_some(),
        words::unknown_doctor(&text, clinic).is_some(),
        words::appointment_type_in(&text, clinic).is_some(),
        words::accepted_plan_in(&text, clinic).is_some(),
        words::known_payer_in(&text).is_some(),
    ];
    f.add(("readers", readers));
    let _ = words::words(&text);
    let _ = words::normalised(&text);
    let _ = words::known_payer_names_in(&text);
    for offered in 0..4 {
        if let Some(i) = words::ordinal_choice(&text, offered) {
            assert!(i < offered, "choice {i} of {offered} offered");
        }
    }
    if let Some((from, to)) = words::next_week(&text, today) {
        assert!(
            from <= to && from > today,
            "next week {from}..{to} from {today}"
        );
    }
}
