//! Word lists the parsers share: ordinary English words that are never taken
//! as a name, calendar words, and the medication and pharmacy names callers
//! use most.

use std::collections::HashSet;
use std::sync::LazyLock;

/// Ordinary words of clinic calls; a word in this set is not a name.
pub(crate) static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    COMMON_WORDS
        .split_whitespace()
        .chain(NUMBER_WORDS.split_whitespace())
        .chain(MONTHS.iter().map(|(w, _)| *w))
        .chain(WEEKDAYS.iter().map(|(w, _)| *w))
        .collect()
});

const COMMON_WORDS: &str = "
a about birthday born dob above across actually after afternoon again against ago all almost already also although always am
an and another any anybody anyone anything anytime anyway appointment appointments are area aren't around as
ask asking at available away back bad be because been before behind being below best better between bill
billing birth birthday both bring but by call called caller calling calls can can't cancel cancelling canceling
cause check checking clinic code come coming could couldn't daughter date day days did didn't do doctor
doctors does doesn't doing don't done down due during each early either else emergency end enough even
evening ever every everything exactly fine first follow for forgot from front get getting give go goes going
gone good got great had has hasn't have haven't having he he's hello help her here here's hers hey hi him his
hold home hope how husband i i'd i'll i'm i've if im in insurance into is isn't it it's its just keep kind know
last late later let let's like line little look looking lot made make many may maybe me mean medical
medication medicine meds message might mine minute minutes mom month months more morning most mother much
must my myself name name's need needed needs never new next nice no nope nor not nothing now number of
off office oh ok okay old on once one only or other our out over own patient patients pay payment people
perfect person phone physical please possible prescription pretty probably question questions quick quite
rather real really refill regarding remember reschedule results right said same saturday say schedule
scheduled scheduling see seen set she she's should shouldn't since so some somebody someone something
sometime son soon sorry speak speaking spell spelled spelling still such sunday sure take talk tell test
than thank thanks that that's the their them then there there's these they they're thing things think
this those though through thursday till time times to today together tomorrow tonight too tried try trying
tuesday uh um umm under until up upon us use very visit wait want wanted wanting was wasn't way we we're
week weeks well went were what what's when where whether which while who who's whole why wife will with
without wonder wondering won't work works would wouldn't yeah year years yes yep yet you you're your yours
yup hi hello bye goodbye calling regarding sick pain feeling feel cough fever ready also wednesday monday
friday is was were called named nurse practitioner assistant receptionist front desk pharmacy pharmacist
care urgent dentist hospital lab labs blood pressure sugar shot shots vaccine flu covid form forms records
record referral refer husband's wife's son's daughter's kid kids child children baby father dad brother
sister friend myself yourself here there hear heard thing anything everything nothing mail email text
street avenue road drive lane boulevard way suite floor building parking address location directions
hours open closed close holiday lunch break mister missus miss mrs mr ms dr doctor's new existing old
returning current former regular usual same different other another calling asking needing getting
going having doing being looking trying wondering hoping planning thinking
hmm hm mmm mm mhm uh-huh wow ooh aha huh oops yay gosh geez alright bit lot kind sort pretty definitely
probably possibly worth stronger weaker worse worst bigger smaller higher lower harder easier sore
painful swollen itchy tender red hot cold warm dizzy tired nauseous sick worried scared afraid fine
bad awful terrible horrible okay weird strange normal usual constant sharp dull mild severe better
clearing getting going staying still already often sometimes usually always never again almost quite
rather enough totally completely really actually basically literally obviously apparently maybe
perhaps certainly sure true false right wrong left both either neither each every all any few several
most least more less much many some such own same other another next last first second only just
even also too very so then than there here where when what which who how why because while though
although unless until since yet still back away over under again further ago later soon early late
now today tonight yesterday tomorrow week weekend month year time times day night morning evening
head eye eyes ear ears nose mouth throat neck chest back arm arms hand hands leg legs knee knees foot
feet stomach belly skin heart lungs breath breathing blood pain ache aches headache migraine cough
rash fever infection cold flu sugar pressure weight sleep tablets tablet pills pill dose medicine
stuff thing things something nothing everything anything online internet google website
gonna wanna gotta kinda sorta lemme dunno practice surgery clinic hospital pharmacy
";

/// Number words, which are never names.
pub(crate) const NUMBER_WORDS: &str = "
zero oh one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen
seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand double
triple first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth twentieth
thirtieth o'clock oclock quarter half noon midnight am pm
";

/// Ordinary words that are also first names; taken as a name only when
/// Whisper capitalised them inside a sentence ("Name's Bill Turner").
pub(crate) const NAMES_TOO: &[&str] = &[
    "bill", "will", "grace", "mark", "rose", "june", "may", "april", "august", "frank", "art",
    "pat", "sue", "bob", "joy", "hope", "faith", "rob", "jack", "chase", "dawn", "summer", "drew",
    "ray", "guy", "gene", "max", "don", "sandy", "terry", "penny", "ruby", "amber", "crystal",
    "lane", "dale", "glen", "miles", "grant", "hunter", "carter", "cooper", "young", "white",
    "brown", "black", "green", "king", "long", "price", "rich", "wood", "early", "love", "hill",
];

/// Month words → month number.
pub(crate) const MONTHS: &[(&str, u32)] = &[
    ("january", 1),
    ("jan", 1),
    ("february", 2),
    ("feb", 2),
    ("march", 3),
    ("april", 4),
    ("apr", 4),
    ("may", 5),
    ("june", 6),
    ("jun", 6),
    ("july", 7),
    ("jul", 7),
    ("august", 8),
    ("aug", 8),
    ("september", 9),
    ("sept", 9),
    ("sep", 9),
    ("october", 10),
    ("oct", 10),
    ("november", 11),
    ("nov", 11),
    ("december", 12),
    ("dec", 12),
];

/// Weekday words → days from Monday.
pub(crate) const WEEKDAYS: &[(&str, u32)] = &[
    ("monday", 0),
    ("tuesday", 1),
    ("wednesday", 2),
    ("thursday", 3),
    ("friday", 4),
    ("saturday", 5),
    ("sunday", 6),
];

/// A month word, and Whisper's one-word mishearing of "March" on a phone
/// line ("Mark's fourth"); callers only treat it as a month before a day.
pub(crate) fn month(word: &str) -> Option<u32> {
    MONTHS
        .iter()
        .chain(&[("mark's", 3)])
        .find(|(w, _)| *w == word)
        .map(|(_, m)| *m)
}

/// A weekday word, possessive included ("friday's appointment"), and
/// Whisper's one-word mishearings of them on a phone line.
pub(crate) fn weekday(word: &str) -> Option<u32> {
    let word = word.strip_suffix("'s").unwrap_or(word);
    WEEKDAYS
        .iter()
        .chain(&[("wensday", 2), ("wednsday", 2), ("thursdays", 3)])
        .find(|(w, _)| *w == word)
        .map(|(_, d)| *d)
}

/// Generic names of frequently refilled US medications (lowercase).
pub(crate) const MEDICATIONS: &[&str] = &[
    "lisinopril",
    "atorvastatin",
    "levothyroxine",
    "metformin",
    "amlodipine",
    "metoprolol",
    "omeprazole",
    "simvastatin",
    "losartan",
    "albuterol",
    "gabapentin",
    "hydrochlorothiazide",
    "sertraline",
    "montelukast",
    "fluticasone",
    "amoxicillin",
    "furosemide",
    "pantoprazole",
    "escitalopram",
    "rosuvastatin",
    "bupropion",
    "prednisone",
    "tamsulosin",
    "pravastatin",
    "citalopram",
    "meloxicam",
    "clopidogrel",
    "trazodone",
    "carvedilol",
    "fluoxetine",
    "insulin",
    "warfarin",
    "duloxetine",
    "venlafaxine",
    "tramadol",
    "cyclobenzaprine",
    "zolpidem",
    "alprazolam",
    "clonazepam",
    "lorazepam",
    "oxycodone",
    "hydrocodone",
    "glipizide",
    "spironolactone",
    "allopurinol",
    "propranolol",
    "atenolol",
    "diltiazem",
    "famotidine",
    "cetirizine",
    "loratadine",
    "ibuprofen",
    "naproxen",
    "acetaminophen",
    "methotrexate",
    "hydroxychloroquine",
    "topiramate",
    "lamotrigine",
    "levetiracetam",
    "quetiapine",
    "aripiprazole",
    "risperidone",
    "buspirone",
    "hydroxyzine",
    "doxycycline",
    "azithromycin",
    "cephalexin",
    "ciprofloxacin",
    "valacyclovir",
    "finasteride",
    "sildenafil",
    "tadalafil",
    "estradiol",
    "progesterone",
    "norethindrone",
    "eliquis",
    "xarelto",
    "jardiance",
    "ozempic",
    "trulicity",
    "januvia",
    "synthroid",
    "lipitor",
    "zoloft",
    "lexapro",
    "prozac",
    "wellbutrin",
    "adderall",
    "ritalin",
    "concerta",
    "methylphenidate",
    "lantus",
    "humalog",
    "novolog",
    "symbicort",
    "advair",
    "ventolin",
    "proair",
    "flonase",
    "singulair",
    "nexium",
    "prilosec",
    "protonix",
    "plavix",
    "norvasc",
    "crestor",
    "zocor",
    "glucophage",
    "coumadin",
    "lasix",
    "xanax",
    "ambien",
    "neurontin",
    "mounjaro",
    "wegovy",
    "entresto",
    "farxiga",
    "metronidazole",
    "nitrofurantoin",
    "benzonatate",
    "ondansetron",
    "promethazine",
    "prednisolone",
    "triamcinolone",
    "clobetasol",
    "mupirocin",
    "ketoconazole",
    "fluconazole",
    "terbinafine",
    "latanoprost",
    "timolol",
    "tizanidine",
    "baclofen",
    "methocarbamol",
    "celecoxib",
    "diclofenac",
    "potassium",
    "vitamin",
    "folic",
    "iron",
    "aspirin",
    "nitroglycerin",
    "digoxin",
    "hydralazine",
    "clonidine",
    "benazepril",
    "enalapril",
    "ramipril",
    "valsartan",
    "olmesartan",
    "irbesartan",
    "chlorthalidone",
    "bumetanide",
    "pioglitazone",
    "glimepiride",
    "glyburide",
    "sitagliptin",
    "dapagliflozin",
    "empagliflozin",
    "semaglutide",
    "liraglutide",
    "dulaglutide",
    "tirzepatide",
    "apixaban",
    "rivaroxaban",
    "dabigatran",
];

/// Pharmacy chains, lowercase words as heard → how the name is written.
pub(crate) const PHARMACY_CHAINS: &[(&[&str], &str)] = &[
    (&["cvs"], "CVS"),
    (&["c", "v", "s"], "CVS"),
    (&["walgreens"], "Walgreens"),
    (&["walgreen's"], "Walgreens"),
    (&["walgreen"], "Walgreens"),
    (&["rite", "aid"], "Rite Aid"),
    (&["right", "aid"], "Rite Aid"),
    (&["walmart"], "Walmart"),
    (&["wal", "mart"], "Walmart"),
    (&["costco"], "Costco"),
    (&["kroger"], "Kroger"),
    (&["safeway"], "Safeway"),
    (&["target"], "Target"),
    (&["publix"], "Publix"),
    (&["heb"], "HEB"),
    (&["h", "e", "b"], "HEB"),
    (&["duane", "reade"], "Duane Reade"),
    (&["albertsons"], "Albertsons"),
    (&["sam's", "club"], "Sam's Club"),
    (&["meijer"], "Meijer"),
    (&["wegmans"], "Wegmans"),
    (&["hy", "vee"], "Hy-Vee"),
    (&["hy-vee"], "Hy-Vee"),
    (&["giant", "eagle"], "Giant Eagle"),
    (&["express", "scripts"], "Express Scripts"),
    (&["optum", "rx"], "Optum Rx"),
    (&["optumrx"], "Optum Rx"),
];
