//! The net's phrase rules, one kind each, matched on normalised text (see
//! the parent module). Single phrases first; then [`SIGNS`], pairs of
//! signs that mean an emergency only together ("diabetic" + "barely
//! awake", an allergy + wheezing).

use std::sync::LazyLock;

use regex::Regex;

use crate::vocabulary::EmergencyKind;

const PRONOUN: &str = r"(?:my|his|her|their|your|the)";
const SELF: &str = r"(?:myself|himself|herself|themselves|themself|yourself)";

pub(super) static RULES: LazyLock<Vec<(EmergencyKind, Regex)>> = LazyLock::new(|| {
    let raw: Vec<(EmergencyKind, String)> = vec![
        // Chest pain.
        (EmergencyKind::ChestPain, r"\b(?:chest|chess) (?:pain|pains|pressure|tightness)\b".into()),
        (EmergencyKind::ChestPain, r"\b(?:chest|chess) (?:is |feels |really |so |very |a little |a bit |kind of )*(?:hurting|hurts|crushing|tight|heavy|squeezing)\b".into()),
        (EmergencyKind::ChestPain, r"\b(?:crushing|squeezing) (?:pain|pressure|feeling)\b".into()),
        (EmergencyKind::ChestPain, r"\bheart attack\b".into()),
        (EmergencyKind::ChestPain, format!(r"\b(?:grabbed|grabbing|clutching|holding) {PRONOUN} chest\b")),
        // Breathing.
        (EmergencyKind::Breathing, r"\b(?:cant|can not|cannot|couldnt|unable to|barely|struggling to|hard to) (?:breathe|breath|breed|breathing)\b".into()),
        (EmergencyKind::Breathing, format!(r"\b(?:cant|cannot|can not|couldnt) (?:get (?:any )?air|catch {PRONOUN} breath)\b")),
        (EmergencyKind::Breathing, r"\b(?:not|isnt|stopped|wasnt|isn t) breathing\b".into()),
        (EmergencyKind::Breathing, r"\b(?:gasping|choking)\b".into()),
        (EmergencyKind::Breathing, r"\b(?:turning|turned|going) blue\b|\blips (?:are |look |looks )?(?:turning )?blue\b".into()),
        // Stroke.
        (EmergencyKind::Stroke, r"\b(?:having|had|has) a stroke\b|\bstroke\b".into()),
        (EmergencyKind::Stroke, r"\bface (?:is |looks |went )?(?:drooping|droopy|numb|crooked)\b|\bdrooping\b".into()),
        (EmergencyKind::Stroke, format!(r"\b(?:slurring|slurred|slurs|wearing|slurry) (?:{PRONOUN} )?(?:words|speech)\b|\bslurring\b|\bslurred\b")),
        (EmergencyKind::Stroke, format!(r"\b(?:cant|cannot|can not) (?:lift|move|feel|raise) (?:{PRONOUN} )?(?:\w+ )?(?:arm|leg|hand|side)\b")),
        (EmergencyKind::Stroke, format!(r"\bone side of {PRONOUN} (?:face|body)\b")),
        (EmergencyKind::Stroke, r"\b(?:suddenly|all of a sudden) (?:\w+ )?(?:cant|cannot) (?:talk|speak|see|walk)\b|\bcant (?:talk|speak) (?:properly|right|straight)\b".into()),
        // Severe bleeding.
        (EmergencyKind::Bleeding, r"\b(?:wont|will not|cant|doesnt|does not|isnt) stop(?:ping)? bleeding\b|\bbleeding (?:wont|will not|doesnt|isnt) stop".into()),
        (EmergencyKind::Bleeding, r"\bbleeding (?:heavily|a lot|badly|really bad|so much|everywhere|profusely)\b".into()),
        (EmergencyKind::Bleeding, r"\b(?:blood everywhere|so much blood|lot of blood|lots of blood|pool of blood)\b".into()),
        (EmergencyKind::Bleeding, r"\b(?:gushing|spurting|pouring) (?:out )?blood\b|\bblood (?:is )?(?:gushing|spurting|pouring)\b|\bsoaking through\b".into()),
        (EmergencyKind::Bleeding, r"\b(?:coughing|throwing|vomiting|puking) (?:up )?blood\b".into()),
        // Overdose and poisoning.
        (EmergencyKind::Overdose, r"\boverdos\w*".into()),
        (EmergencyKind::Overdose, r"\b(?:took|taken|swallowed|ate|drank|downed) (?:a |the |an )?(?:whole |entire )?(?:bottle|bunch|handful|box|pack) of\b".into()),
        (EmergencyKind::Overdose, r"\b(?:took|taken|swallowed|ate) (?:way )?too (?:many|much)\b".into()),
        (EmergencyKind::Overdose, r"\bdrank (?:bleach|antifreeze)\b|\bswallowed (?:bleach|batteries|a battery)\b".into()),
        // Suicidal thoughts or plans.
        (EmergencyKind::Suicidal, format!(r"\bkill(?:ing)? {SELF}\b|\bsuicid\w*")),
        (EmergencyKind::Suicidal, format!(r"\b(?:end|ending|take|taking) {PRONOUN} (?:own )?life\b|\b(?:end|ending) it all\b|\bend it tonight\b|\bgoing to end it\b")),
        (EmergencyKind::Suicidal, r"\b(?:dont|do not|doesnt|does not) want to (?:live|be alive|be here)\b|\bwant to die\b|\bbetter off dead\b|\bno reason to live\b".into()),
        (EmergencyKind::Suicidal, format!(r"\b(?:hurt|hurting|harm|harming) {SELF}\b")),
        // Hopelessness and a plan, as callers say them and as Whisper
        // half-hears them ("feeding up my tools" for "saving up my pills").
        (EmergencyKind::Suicidal, r"\b(?:cant|cannot|can not|dont think i can) (?:keep (?:doing|going on with) (?:this|it)|keep going|go on|do this|take (?:this|it)|live like this)(?: \w+){0,3} (?:anymore|any more|no more)\b".into()),
        (EmergencyKind::Suicidal, r"\b(?:cant|cannot|can not) go on (?:like this|living|anymore|any more)\b|\bno (?:point|reason) (?:in )?(?:living|going on|to go on|being alive)\b|\bnothing (?:left )?to live for\b".into()),
        (EmergencyKind::Suicidal, r"\b(?:everyone|everybody|they|my (?:family|kids)) (?:would be|will be|are|is) better off without me\b|\bwish i (?:was|were) dead\b|\bwish i (?:wouldnt|would not|didnt) wake up\b|\bdont want to wake up\b|\b(?:want|wanna|wish i could|just want) to (?:go to )?sleep and (?:not|never) wake up\b".into()),
        (EmergencyKind::Suicidal, r"\b(?:saving|saved|feeding|seeding|storing|stockpiling|hoarding|collecting) up (?:my |all my |all of my |some )?(?:pills|tools|meds|medicine|medication|medications|sleeping pills|pain pills)\b|\b(?:stockpil|hoard)\w* (?:my )?(?:pills|meds|medication)\b".into()),
        (EmergencyKind::Suicidal, r"\b(?:take|taking|swallow) (?:them|those|all of them|them all|all my pills|all of my pills|every pill) (?:all )?(?:tonight|today|at once)\b".into()),
        (EmergencyKind::Suicidal, format!(r"\b(?:cut|cutting|cuts) {SELF}\b|\b(?:wrote|writing|left) (?:a |my )?(?:suicide |goodbye )?(?:note|letter) (?:to|for) (?:my|everyone)\b|\bgoing to jump (?:off|in front)\b|\b(?:plan|planning|planned) (?:to|on) (?:ending|end|kill|killing|hurt|hurting)\b")),
        // Anaphylaxis.
        (EmergencyKind::Anaphylaxis, r"\banaphyla\w*|\bepi ?pen\b".into()),
        (EmergencyKind::Anaphylaxis, r"\bthroat (?:is )?(?:closing|swelling|swelled|tight|closing up)\b".into()),
        (EmergencyKind::Anaphylaxis, r"\b(?:tongue|lips|face|throat) (?:is |are |has |have )?(?:swelling|swelled|swollen)\b|\bswelling (?:shut|up)\b".into()),
        // Unresponsive person.
        (EmergencyKind::Unresponsive, r"\b(?:unresponsive|unconscious)\b".into()),
        (EmergencyKind::Unresponsive, r"\b(?:not|isnt|wont|stopped) (?:responding|answering me|moving|waking up|wake up)\b".into()),
        (EmergencyKind::Unresponsive, r"\bcant wake (?:\w+ )?up\b|\bwont wake\b".into()),
        (EmergencyKind::Unresponsive, r"\b(?:collapsed|passed out|fainted|blacked out)\b".into()),
        (EmergencyKind::Unresponsive, r"\b(?:having|has) a seizure\b|\bseizing\b".into()),
        // Altered consciousness described by its signs.
        (EmergencyKind::Unresponsive, r"\b(?:barely|hardly|not really|only half) (?:awake|conscious|responsive|responding|breathing|waking up)\b|\b(?:cant|cannot|can not|wont|will not) (?:stay awake|keep (?:him|her|them) awake)\b".into()),
        (EmergencyKind::Unresponsive, r"\b(?:wont|will not|doesnt|does not|isnt|is not|didnt|did not) (?:wake|waking|come to|coming to|open (?:his|her|their) eyes)\b|\bhard to wake\b|\bcant (?:get|keep) (?:him|her|them|my \w+) (?:to wake|awake|up)\b".into()),
        (EmergencyKind::Unresponsive, r"\b(?:limp|floppy) and (?:not|wont|isnt|wont|unresponsive)\b|\b(?:keeps|kept) (?:passing out|fainting|blacking out)\b|\b(?:in|having) (?:a )?(?:convulsion|convulsions|fit)\b|\bconvulsing\b".into()),
        // Heart attack signs.
        (EmergencyKind::ChestPain, format!(r"\bpressure (?:in|on) {PRONOUN} chest\b|\bpain (?:going|spreading|radiating|shooting|moving) (?:up |down )?(?:to|into|in|down|up) {PRONOUN} (?:jaw|left arm|arm|neck|back)\b")),
        // Stroke signs.
        (EmergencyKind::Stroke, format!(r"\b(?:suddenly|all of a sudden) (?:\w+ ){{0,4}}(?:numb|weak|cant see|slurring|drooping)\b|\b(?:cant|cannot) find {PRONOUN} words\b|\bwords (?:are |were )?(?:coming out|came out) (?:wrong|garbled|jumbled)\b")),
        // Breathing.
        (EmergencyKind::Breathing, r"\b(?:struggling|fighting|gasping) for (?:air|breath)\b|\b(?:cant|can not|cannot) stop wheezing\b|\blips (?:are |look |went )?(?:blue|gray|grey|purple)\b".into()),
        // Poisoning, a child into medicine.
        (EmergencyKind::Overdose, r"\bgot into (?:some of |all of |the |my |his |her |grandmas |grandpas |a bottle of )*(?:pills|medicine|medication|meds|bleach|cleaning stuff|cleaner)\b".into()),
        (EmergencyKind::Overdose, r"\b(?:drank|swallowed|ate) (?:some )?(?:bleach|drain cleaner|detergent|laundry pods?|detergent pods?|antifreeze|rat poison|cleaning stuff)\b".into()),
    ];
    raw.into_iter()
        .map(|(kind, pattern)| {
            (
                kind,
                Regex::new(&pattern).expect("emergency patterns are valid regexes"),
            )
        })
        .collect()
});

/// Signs that mean an emergency only together, each pair (kind, one sign,
/// another): "my dad is diabetic and he's confused and sweating".
pub(super) static SIGNS: LazyLock<Vec<(EmergencyKind, Regex, Regex)>> = LazyLock::new(|| {
    let raw: [(EmergencyKind, &str, &str); 3] = [
        // Low blood sugar: diabetes, with confusion or drowsiness.
        (
            EmergencyKind::Unresponsive,
            r"\b(?:diabetic|diabetes|blood sugar|glucose|insulin|sugar (?:is |was )?(?:low|crashed|dropped|dropping|tanked))\b",
            r"\b(?:he|she|they|hes|shes|theyre|mom|dad|husband|wife|son|daughter) (?:is |seems |was |got |getting |looks )?(?:very |really |so |all )?(?:confused|disoriented|out of it)\b|\b(?:not making sense|barely awake|wont wake|hard to wake|drowsy|lethargic|passing out|passed out|shaking and sweating|sweating and shaking|shaky and sweaty|sweaty and shaky|slurring)\b",
        ),
        // A child who cannot be roused.
        (
            EmergencyKind::Unresponsive,
            r"\b(?:baby|infant|newborn|toddler|son|daughter|child|kid|boy|girl)\b",
            r"\b(?:limp|floppy|wont wake|will not wake|cant wake|not waking|eyes rolling back)\b",
        ),
        // Allergy with breathing trouble.
        (
            EmergencyKind::Anaphylaxis,
            r"\b(?:allergic|allergy|peanuts?|bee sting|stung|shellfish)\b",
            r"\b(?:trouble breathing|wheezing|hives all over|throat (?:feels )?tight)\b",
        ),
    ];
    raw.into_iter()
        .map(|(kind, a, b)| {
            (
                kind,
                Regex::new(a).expect("emergency sign patterns are valid regexes"),
                Regex::new(b).expect("emergency sign patterns are valid regexes"),
            )
        })
        .collect()
});
