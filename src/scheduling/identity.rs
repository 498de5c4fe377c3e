//! Who a caller is, strictly: the last name and the date of birth must be
//! the record's (after normalising spelling: case, accents, punctuation,
//! hyphens and spaces, the ways speech recognition writes common surnames);
//! the first name must be the record's, or a likely mishearing of it that
//! is not another real name ("Matei" for "Mateo" is weak; "Mario" for
//! "Maria" is a different person). A weak or ambiguous match is settled by a
//! second factor (the phone number on file or the ZIP code), never accepted
//! silently. Pure functions: the store applies them to the records that
//! share the date of birth.

use chrono::NaiveDate;
use unicode_normalization::UnicodeNormalization;

/// How a heard first name compares with a record's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameMatch {
    Exact,
    /// Could be a recognition error or another spelling of the same name:
    /// needs a second factor.
    Weak,
    Different,
}

/// What a name and date of birth found among the records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Match<P> {
    /// One record, certainly.
    Exact(P),
    /// One or more records could be the caller: ask the number on file or
    /// the ZIP code before anything is said or done.
    NeedsSecondFactor(Vec<P>),
    None,
}

/// Lower-case ASCII letters and digits only: accents dropped ("José" →
/// "jose"), punctuation, hyphens and spaces gone ("Smith-Jones", "Smith
/// Jones", "Smithjones" → "smithjones").
pub fn fold(s: &str) -> String {
    s.nfd()
        .filter(|c| c.is_ascii_alphanumeric())
        .flat_map(|c| c.to_lowercase())
        .collect()
}

/// How speech recognition writes common surnames it hears right: the
/// written forms it mixes up, mapped to one.
const SURNAME_SPELLINGS: &[(&str, &str)] = &[
    ("gonzales", "gonzalez"),
    ("rodrigues", "rodriguez"),
    ("hernandes", "hernandez"),
    ("fernandes", "fernandez"),
    ("martines", "martinez"),
    ("lopes", "lopez"),
    ("peres", "perez"),
    ("sanches", "sanchez"),
    ("ramires", "ramirez"),
    ("gomes", "gomez"),
    ("dias", "diaz"),
    ("alvares", "alvarez"),
    ("gutierres", "gutierrez"),
    ("jimenes", "jimenez"),
    ("velasques", "velasquez"),
    ("nunes", "nunez"),
    ("macdonald", "mcdonald"),
    ("thompsen", "thompson"),
    ("johnsen", "johnson"),
    ("peterson", "petersen"),
    ("andersen", "anderson"),
    ("nielson", "nielsen"),
    ("reid", "reed"),
    ("smyth", "smith"),
    ("kahn", "khan"),
];

/// A folded surname word in its one written form.
fn surname_word(word: &str) -> String {
    let w = fold(word);
    SURNAME_SPELLINGS
        .iter()
        .find(|(from, _)| *from == w)
        .map(|(_, to)| to.to_string())
        .unwrap_or(w)
}

/// First name and surname words, folded; `None` without both.
fn split(name: &str) -> Option<(String, Vec<String>)> {
    let words: Vec<&str> = name
        .split(|c: char| c.is_whitespace() || c == '-')
        .filter(|w| !fold(w).is_empty())
        .collect();
    let (first, rest) = words.split_first()?;
    if rest.is_empty() {
        return None;
    }
    Some((fold(first), rest.iter().map(|w| surname_word(w)).collect()))
}

/// The unique key of a person: folded first name, surname in its one
/// written form, date of birth. "Maria Gonzales" and "María González"
/// born the same day are one key. For plain names it equals what
/// migration 0006 computed for records already stored.
pub fn identity_key(name: &str, date_of_birth: NaiveDate) -> String {
    let all: String = match split(name) {
        Some((first, rest)) => std::iter::once(first).chain(rest).collect(),
        None => fold(name),
    };
    format!("{all}|{date_of_birth}")
}

/// Whether two surnames are the same: equal after normalising, or (weak)
/// one is the other plus a middle name or a second surname ("Mary Ann
/// Smith" for "Mary Smith").
fn surnames(heard: &[String], stored: &[String]) -> NameMatch {
    if heard.concat() == stored.concat() {
        return NameMatch::Exact;
    }
    let (short, long) = if heard.len() <= stored.len() {
        (heard, stored)
    } else {
        (stored, heard)
    };
    if !short.is_empty() && long.len() > short.len() && long.ends_with(short) {
        return NameMatch::Weak;
    }
    NameMatch::Different
}

/// Spellings of one name that sound alike: recognition cannot tell which
/// the caller means, so they are weak, never exact.
const SAME_NAME: &[&[&str]] = &[
    &["jon", "john"],
    &["sara", "sarah"],
    &["catherine", "katherine", "kathryn", "katharine", "cathryn"],
    &["steven", "stephen"],
    &["ann", "anne"],
    &["ana", "anna"],
    &["marie", "maria"],
    &["mateo", "matteo"],
    &["isabel", "isabelle"],
    &["jeffrey", "geoffrey"],
    &["brian", "bryan"],
    &["eric", "erik"],
    &["aaron", "aron"],
    &["megan", "meghan"],
    &["rebecca", "rebekah"],
    &["zoe", "zoey"],
    &["sean", "shawn", "shaun"],
    &["alan", "allen", "allan"],
    &["carl", "karl"],
    &["mohammed", "muhammad", "mohamed", "mohammad"],
    &["nicole", "nichole"],
    &["lindsay", "lindsey"],
    &["philip", "phillip"],
    &["kristen", "kristin"],
    &["sophia", "sofia"],
    &["natalie", "nathalie"],
    &["aisha", "ayesha", "asha"],
    &["theresa", "teresa"],
    &["lucia", "luzia"],
];

/// Given names common enough that two different ones are two people, even
/// when they differ by a letter (Maria/Mario, Tom/Tim, Daniel/Danielle).
const GIVEN_NAMES: &str = "
aaron abigail adam adrian aisha alan albert alex alexa alexander alexandra alexis alice alicia
allison alyssa amanda amber amy ana andre andrea andrew angela angelo anita ann anna anne annie
anthony antonio april ariana arthur ashley audrey austin barbara ben benjamin beth betty bill
billy bob bobby brandon brenda brian brittany bruce bryan caleb cameron carl carla carlos carmen
carol caroline carolyn catherine charles charlie charlotte chloe chris christian christina
christine christopher cindy claire clara cody colin connor craig crystal cynthia dale dan dana
daniel daniela danielle david dean deborah debra denise dennis diana diane dominic donald donna
dorothy doug douglas dylan edward elena eli elijah elizabeth ella ellen emily emma eric erica erin
ethan eugene eva evan evelyn frances francis frank gabriel gary george gerald gina gloria grace
greg gregory hannah harold harry heather helen henry holly ian isaac isabel isabella jack jackie
jacob jake james jamie jane janet janice jared jason javier jean jeff jeffrey jenna jennifer
jeremy jerry jesse jessica jesus jill jim jimmy joan joe joel john johnny jon jonathan jordan jose
joseph josh joshua joy joyce juan judith judy julia julian julie justin karen kate katherine
kathleen kathy katie kayla keith kelly kenneth kevin kim kimberly kyle laura lauren lawrence leah
lee leo leon linda lisa logan lori louis lucas lucia lucy luis luke lydia madison marc marcus
margaret maria marie marilyn mario mark marta martha martin mary mason matthew megan melissa
michael michelle miguel mike molly monica nancy natalie nathan neil nicholas nicole noah nora
olivia oscar pamela patricia patrick paul paula peter philip rachel ralph randy raymond rebecca
richard rick rita robert roberto robin roger ronald rose ruby russell ruth ryan sam samantha
samuel sandra sara sarah scott sean sharon shirley sofia sophia stacy stephanie stephen steve
steven susan teresa terry theresa thomas tim timothy tina todd tom tony tracy tyler valerie
vanessa victor victoria vincent virginia walter wanda wayne william willie zachary zoe
dan don dana dina lena lina leo lea ian ivan ivana jan jen jenny ken kim lana luca lucas marco
mateo matteo marina marino paulo pablo rosa rosie
";

fn is_given_name(folded: &str) -> bool {
    GIVEN_NAMES.split_whitespace().any(|n| n == folded)
}

fn same_name(a: &str, b: &str) -> bool {
    SAME_NAME
        .iter()
        .any(|group| group.contains(&a) && group.contains(&b))
}

/// Heard first name against a record's. Two different real names are
/// different people, however alike; an unknown spelling one letter (two,
/// in a long name) from the record's, with the same first letter, is a
/// likely mishearing: weak.
pub fn first_names(heard: &str, stored: &str) -> NameMatch {
    let (a, b) = (fold(heard), fold(stored));
    if a.is_empty() || b.is_empty() {
        return NameMatch::Different;
    }
    if a == b {
        return NameMatch::Exact;
    }
    if same_name(&a, &b) {
        return NameMatch::Weak;
    }
    if is_given_name(&a) && is_given_name(&b) {
        return NameMatch::Different;
    }
    let longest = a.len().max(b.len());
    let allowed = if longest <= 5 { 1 } else { 2 };
    let close = strsim::levenshtein(&a, &b) <= allowed;
    if close && a.chars().next() == b.chars().next() && a.len().min(b.len()) >= 3 {
        NameMatch::Weak
    } else {
        NameMatch::Different
    }
}

/// A heard full name against a record's full name (dates of birth are
/// compared by the caller of this): exact only if first name and surname
/// both are.
pub fn names(heard: &str, stored: &str) -> NameMatch {
    let (Some((hf, hl)), Some((sf, sl))) = (split(heard), split(stored)) else {
        return NameMatch::Different;
    };
    let last = surnames(&hl, &sl);
    let first = first_names(&hf, &sf);
    match (first, last) {
        (NameMatch::Different, _) | (_, NameMatch::Different) => NameMatch::Different,
        (NameMatch::Exact, NameMatch::Exact) => NameMatch::Exact,
        _ => NameMatch::Weak,
    }
}

/// Which of the records born that day the heard name is: one exact and no
/// other possible → that one; any weak or more than one → a second factor;
/// else none. `name_of` gives a record's stored name.
pub fn find<P: Clone>(heard: &str, records: &[P], name_of: impl Fn(&P) -> &str) -> Match<P> {
    let mut exact = Vec::new();
    let mut possible = Vec::new();
    for r in records {
        match names(heard, name_of(r)) {
            NameMatch::Exact => exact.push(r.clone()),
            NameMatch::Weak => possible.push(r.clone()),
            NameMatch::Different => {}
        }
    }
    match (exact.len(), possible.len()) {
        (0, 0) => Match::None,
        (1, 0) => Match::Exact(exact.remove(0)),
        _ => {
            exact.extend(possible);
            Match::NeedsSecondFactor(exact)
        }
    }
}

/// A second factor as the caller gave it: ten digits are a phone number,
/// five a ZIP code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecondFactor {
    Phone(String),
    Zip(String),
}

impl SecondFactor {
    /// From the digits said or keyed (anything else is ignored); `None`
    /// unless they are a phone number or a ZIP code.
    pub fn parse(raw: &str) -> Option<SecondFactor> {
        let digits: String = raw.chars().filter(|c| c.is_ascii_digit()).collect();
        match digits.len() {
            5 => Some(SecondFactor::Zip(digits)),
            _ => super::PhoneNumber::parse(&digits).map(|p| SecondFactor::Phone(p.as_str().into())),
        }
    }

    /// Whether a record's phone number or ZIP code is this one.
    pub fn matches(&self, phone: Option<&str>, zip: Option<&str>) -> bool {
        match self {
            SecondFactor::Phone(p) => phone.is_some_and(|on_file| on_file == p),
            SecondFactor::Zip(z) => zip.is_some_and(|on_file| fold(on_file).get(..5) == Some(z)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq)]
    struct Rec(&'static str);

    fn find_in(heard: &str, records: &[&'static str]) -> Match<&'static str> {
        let recs: Vec<Rec> = records.iter().copied().map(Rec).collect();
        match find(heard, &recs, |r| r.0) {
            Match::Exact(r) => Match::Exact(r.0),
            Match::NeedsSecondFactor(v) => {
                Match::NeedsSecondFactor(v.iter().map(|r| r.0).collect())
            }
            Match::None => Match::None,
        }
    }

    #[test]
    fn names_compare_strictly() {
        use NameMatch::*;
        let table: &[(&str, &str, NameMatch)] = &[
            // Exact after normalising.
            ("Maria Gonzalez", "Maria Gonzalez", Exact),
            ("maria gonzalez.", "Maria Gonzalez", Exact),
            ("María González", "Maria Gonzalez", Exact),
            ("Maria Gonzales", "Maria Gonzalez", Exact),
            ("Anna Smith-Jones", "Anna Smith Jones", Exact),
            ("Anna Smithjones", "Anna Smith-Jones", Exact),
            ("Sean O'Brien", "Sean OBrien", Exact),
            ("Aisha Kahn", "Aisha Khan", Exact),
            // Twins and siblings: another real first name is another person.
            ("Mario Gonzalez", "Maria Gonzalez", Different),
            ("Tom Lee", "Tim Lee", Different),
            ("Daniel Park", "Danielle Park", Different),
            ("Mark Gonzalez", "Maria Gonzalez", Different),
            ("Ana Ruiz", "Anna Ruiz", Weak),
            ("Ann Ruiz", "Anna Ruiz", Different),
            // Another surname, or no surname at all.
            ("Maria Lopez", "Maria Gonzalez", Different),
            ("Gonzalez", "Maria Gonzalez", Different),
            ("for Reakin Solis", "Maria Gonzalez", Different),
            ("Maria Gonzaga", "Maria Gonzalez", Different),
            // Likely mishearings, or one name spelt two ways: weak.
            ("Matei Ruiz", "Mateo Ruiz", Weak),
            ("Marie Gonzalez", "Maria Gonzalez", Weak),
            ("Jon Smith", "John Smith", Weak),
            ("Katherine Wu", "Catherine Wu", Weak),
            ("Mariah Gonzalez", "Maria Gonzalez", Weak),
            ("Mary Ann Smith", "Mary Smith", Weak),
            // Too far to be a mishearing.
            ("Mo Ruiz", "Mateo Ruiz", Different),
            ("Zateo Ruiz", "Mateo Ruiz", Different),
        ];
        for (heard, stored, want) in table {
            assert_eq!(names(heard, stored), *want, "{heard:?} vs {stored:?}");
        }
    }

    #[test]
    fn matches_among_records_born_the_same_day() {
        let twins = ["Maria Gonzalez", "Mario Gonzalez"];
        assert_eq!(
            find_in("Mario Gonzalez", &twins),
            Match::Exact("Mario Gonzalez")
        );
        assert_eq!(
            find_in("Maria Gonzales", &twins),
            Match::Exact("Maria Gonzalez")
        );
        // Only Maria on file: Mario is nobody here, nothing to read back.
        assert_eq!(find_in("Mario Gonzalez", &["Maria Gonzalez"]), Match::None);
        // A weak match is never taken alone.
        assert_eq!(
            find_in("Marie Gonzalez", &["Maria Gonzalez"]),
            Match::NeedsSecondFactor(vec!["Maria Gonzalez"])
        );
        // Jon and John Smith, same birthday: "Jon" is exact for one but
        // could be the other: a second factor.
        assert_eq!(
            find_in("Jon Smith", &["John Smith", "Jon Smith"]),
            Match::NeedsSecondFactor(vec!["Jon Smith", "John Smith"])
        );
        // Siblings sharing a birthday and a common surname.
        let siblings = ["James Smith", "Jane Smith", "Jamie Smith"];
        assert_eq!(find_in("Jane Smith", &siblings), Match::Exact("Jane Smith"));
        assert_eq!(find_in("Janet Smith", &siblings), Match::None);
        assert_eq!(
            find_in("Anna Smith-Jones", &["Anna Smith Jones"]),
            Match::Exact("Anna Smith Jones")
        );
        assert_eq!(
            find_in("Matei Ruiz", &["Mateo Ruiz", "Ana Ruiz"]),
            Match::NeedsSecondFactor(vec!["Mateo Ruiz"])
        );
    }

    #[test]
    fn identity_keys_fold_spellings_and_equal_the_migrations_for_plain_names() {
        let dob = NaiveDate::from_ymd_opt(1985, 3, 4).unwrap();
        assert_eq!(
            identity_key("Maria Gonzalez", dob),
            "mariagonzalez|1985-03-04"
        );
        assert_eq!(
            identity_key("María  Gonzales", dob),
            identity_key("maria gonzalez", dob)
        );
        assert_eq!(
            identity_key("Anna Smith-Jones", dob),
            identity_key("Anna Smithjones", dob)
        );
        assert_ne!(
            identity_key("Mario Gonzalez", dob),
            identity_key("Maria Gonzalez", dob)
        );
    }

    #[test]
    fn second_factors_are_a_phone_number_or_a_zip_code() {
        assert_eq!(
            SecondFactor::parse("555-123-4567"),
            Some(SecondFactor::Phone("5551234567".into()))
        );
        assert_eq!(
            SecondFactor::parse("8 0 3 0 2"),
            Some(SecondFactor::Zip("80302".into()))
        );
        assert_eq!(SecondFactor::parse("1234"), None);
        let zip = SecondFactor::Zip("80302".into());
        assert!(zip.matches(None, Some("80302-1234")));
        assert!(!zip.matches(Some("5551234567"), Some("80303")));
        assert!(!zip.matches(None, None));
        let phone = SecondFactor::Phone("5551234567".into());
        assert!(phone.matches(Some("5551234567"), None));
        assert!(!phone.matches(Some("5551234568"), None));
    }
}
