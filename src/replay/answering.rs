//! The answering caller: a simulated caller that chooses its next line from
//! the agent's last question and the call's facts, so a scripted call no
//! longer passes or fails on the order in which the agent asks.
//!
//! Its material is the script itself. A line whose hand labels carry what
//! the agent just asked for (a name, a date of birth, a number, a
//! medication, a pharmacy) answers that question wherever it stands in the
//! script; a question the script did not foresee (the details read back
//! before registering, whether the number calling is the best one, a second
//! factor) is answered from the call's facts: the name, date of birth and
//! number the script's lines give, and the records seeded for that name.
//! Otherwise the caller says its next line, as the fixed-order replay does.
//! The caller knows only the agent's words, never the dialogue's state.

use super::script::{CallScript, ScriptTurn, TurnAction};
use crate::vocabulary::{Intent, Outcome};

/// Who places a scripted call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CallerKind {
    /// Says the script's lines in the script's order, whatever is asked.
    #[default]
    FixedOrder,
    /// Answers what the agent asks ([`AnsweringCaller`]).
    Answering,
}

/// What the agent's last question asked for, read from its words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Asked {
    Name,
    DateOfBirth,
    Phone,
    /// The number on file or the ZIP code, to settle a close match.
    SecondFactor,
    /// The caller's details read back before they are used.
    ReadBack,
    /// Whether the number calling is the one to call back.
    CallingNumber,
    Medication,
    Pharmacy,
    /// Any other yes-or-no question.
    YesNo,
    /// Anything else (what can I help with, which day, which slot).
    Open,
}

/// The question in the agent's words: the last sentence that asks one
/// (or the last sentence, if none ends with a question mark).
pub fn asked(agent: &str) -> Asked {
    let lower = agent.to_lowercase();
    let question = lower
        .split_inclusive(['.', '?', '!'])
        .rfind(|s| s.contains('?'))
        .unwrap_or(&lower);
    // A read-back names the details before its question, or inside it
    // ("Is that right: Aisha Khan, born …? Yes or no?").
    let read_back = lower.contains("is that right")
        && (lower.contains("i have ") && lower.contains("born ")
            || lower.contains("is that right:"));
    let has = |words: &[&str]| words.iter().any(|w| question.contains(w));
    if read_back {
        Asked::ReadBack
    } else if has(&["on file for you", "zip code"]) {
        Asked::SecondFactor
    } else if has(&[
        "number you're calling from",
        "call you back on the number ending",
    ]) {
        Asked::CallingNumber
    } else if has(&["first and last", "your name", "full name"]) {
        Asked::Name
    } else if has(&[
        "date of birth",
        "birth date",
        "year you were born",
        "year were you born",
    ]) {
        Asked::DateOfBirth
    } else if has(&[
        "phone number",
        "number should we call",
        "digits",
        "ten-digit number",
    ]) {
        Asked::Phone
    } else if has(&["medication"]) {
        Asked::Medication
    } else if has(&["pharmacy"]) {
        Asked::Pharmacy
    } else if has(&[
        "yes or no",
        "is that right",
        "shall i",
        "would you like",
        "should i",
        "would that work",
        "is this a medical emergency",
    ]) {
        Asked::YesNo
    } else {
        Asked::Open
    }
}

/// The caller's next move.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// Play the script's turn with this index.
    Turn(usize),
    /// Say this line, made from the call's facts.
    Improvised(String),
    /// Press these keys (a number or a date of birth, on the keypad).
    Keys(String),
    /// Nothing left to say.
    Done,
}

/// The facts a caller knows about themself, from the script.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    pub name: Option<String>,
    pub date_of_birth: Option<chrono::NaiveDate>,
    /// As the caller says it (the line that gave it).
    pub date_of_birth_line: Option<String>,
    /// Ten digits.
    pub phone: Option<String>,
    pub zip: Option<String>,
    /// Whether the caller has an emergency (the script expects one): what
    /// it answers to "is this a medical emergency?".
    pub emergency: bool,
}

impl Facts {
    /// The name, date of birth and number the script's lines give (their
    /// hand labels), and the ZIP or number on file of the seeded record
    /// with that date of birth.
    pub fn of(script: &CallScript) -> Facts {
        let mut facts = Facts::default();
        let mut dob = None;
        for t in &script.turns {
            let Some(e) = &t.entities else { continue };
            if let Some(n) = &e.person_name {
                // A correction later in the script is the caller's real name.
                facts.name = Some(n.clone());
            }
            if let (Some(d), Some(line)) = (e.date_of_birth, &t.caller) {
                dob = Some(d);
                facts.date_of_birth_line.get_or_insert(line.clone());
            }
            if let Some(p) = &e.phone {
                facts.phone.get_or_insert(p.clone());
            }
        }
        facts.date_of_birth = dob;
        facts.emergency = script.expect.outcome == Outcome::Emergency;
        if let Some(record) = script
            .seed
            .patients
            .iter()
            .find(|p| Some(p.date_of_birth) == dob)
        {
            facts.zip = record.zip.clone();
            if facts.phone.is_none() {
                facts.phone = record.phone.clone();
            }
        }
        facts
    }
}

/// Says a ten-digit number the way callers do: "555 246 8013".
fn spoken_phone(digits: &str) -> String {
    if digits.len() == 10 {
        format!("it's {} {} {}", &digits[..3], &digits[3..6], &digits[6..])
    } else {
        format!("it's {digits}")
    }
}

/// A script played by the answering caller.
pub struct AnsweringCaller {
    script: CallScript,
    facts: Facts,
    used: Vec<bool>,
    /// Improvised answers so far, to give up improvising rather than loop.
    improvised: usize,
}

/// How many lines the caller improvises in one call at most: a caller
/// answers an unforeseen question, not the same one for ever.
const MAX_IMPROVISED: usize = 8;

impl AnsweringCaller {
    pub fn new(script: &CallScript) -> AnsweringCaller {
        AnsweringCaller {
            script: script.clone(),
            facts: Facts::of(script),
            used: vec![false; script.turns.len()],
            improvised: 0,
        }
    }

    pub fn facts(&self) -> &Facts {
        &self.facts
    }

    pub fn script(&self) -> &CallScript {
        &self.script
    }

    /// Every line this caller may say: the script's and those it could
    /// make up from its facts.
    pub fn lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .script
            .turns
            .iter()
            .filter_map(|t| t.caller.clone())
            .collect();
        lines.extend(["yes, that's right".to_string(), "yes".to_string()]);
        lines.push(
            if self.facts.emergency {
                "yes, it is"
            } else {
                "no, it's not an emergency"
            }
            .into(),
        );
        let f = &self.facts;
        lines.extend(
            f.date_of_birth_line
                .as_ref()
                .map(|dob| format!("no, my date of birth is {dob}")),
        );
        if let Some(name) = &f.name {
            lines.push(format!("no, my name is {name}"));
            lines.push(format!("my name is {name}"));
        }
        lines.extend(f.phone.as_deref().map(spoken_phone));
        lines.extend(f.zip.as_ref().map(|z| format!("my zip code is {z}")));
        lines.extend(f.date_of_birth_line.clone());
        lines.sort();
        lines.dedup();
        lines
    }

    /// The next move after the agent said `agent`.
    pub fn next(&mut self, agent: &str) -> Next {
        let q = asked(agent);
        // "Is this a medical emergency?" is answered from the truth, never
        // with the script's next yes or no, which was meant for another
        // question.
        if agent.to_lowercase().contains("is this a medical emergency")
            && self.improvised < MAX_IMPROVISED
        {
            self.improvised += 1;
            return Next::Improvised(if self.facts.emergency {
                "yes, it is".into()
            } else {
                "no, it's not an emergency".into()
            });
        }
        let Some(pending) = self.used.iter().position(|u| !u) else {
            // Out of lines: a question the facts answer still gets its
            // answer; anything else, the caller is done.
            return match q {
                Asked::ReadBack => self.read_back(None, agent),
                _ => self.bounded_improvise(q, agent),
            }
            .unwrap_or(Next::Done);
        };
        let choice = if q == Asked::ReadBack {
            self.read_back(Some(pending), agent)
        } else if answers(&self.script.turns[pending], q) {
            Some(Next::Turn(pending))
        } else if let Some(later) = self.later_answer(pending, q) {
            Some(Next::Turn(later))
        } else {
            self.bounded_improvise(q, agent)
        };
        let next = choice.unwrap_or(Next::Turn(pending));
        if let Next::Turn(i) = next {
            self.used[i] = true;
        }
        next
    }

    /// Details read back: the script's yes or no if it has one here and
    /// it is the right answer (the caller checks the name it hears against
    /// its own), else a yes or a correction made from the facts.
    fn read_back(&mut self, pending: Option<usize>, agent: &str) -> Option<Next> {
        let name = self.facts.name.clone()?;
        let heard = agent.to_lowercase();
        let name_right = heard.contains(&name.to_lowercase());
        // The date as the agent says it ("July 9th, 1978").
        let dob_right = self.facts.date_of_birth.is_none_or(|d| {
            heard.contains(&crate::dialogue::words::say_birth_date(d).to_lowercase())
        });
        let right = name_right && dob_right;
        let want = if right { Intent::Affirm } else { Intent::Deny };
        if let Some(p) = pending
            && self.script.turns[p].intent == Some(want)
        {
            return Some(Next::Turn(p));
        }
        if self.improvised >= MAX_IMPROVISED {
            return None;
        }
        self.improvised += 1;
        Some(Next::Improvised(
            match (name_right, &self.facts.date_of_birth_line) {
                _ if right => "yes, that's right".into(),
                (true, Some(dob)) => format!("no, my date of birth is {dob}"),
                _ => format!("no, my name is {name}"),
            },
        ))
    }

    /// A later line that carries what was asked for (entity questions
    /// only: a yes or a no is never taken from later in the call).
    fn later_answer(&self, pending: usize, q: Asked) -> Option<usize> {
        if !matches!(
            q,
            Asked::Name
                | Asked::DateOfBirth
                | Asked::Phone
                | Asked::SecondFactor
                | Asked::Medication
                | Asked::Pharmacy
        ) {
            return None;
        }
        (pending + 1..self.script.turns.len())
            .find(|&i| !self.used[i] && answers(&self.script.turns[i], q))
    }

    /// [`Self::improvise`], at most [`MAX_IMPROVISED`] times a call.
    fn bounded_improvise(&mut self, q: Asked, agent: &str) -> Option<Next> {
        if self.improvised >= MAX_IMPROVISED {
            return None;
        }
        let next = match self.keys(q, agent) {
            Some(keys) => Next::Keys(keys),
            None => Next::Improvised(self.improvise(q)?),
        };
        self.improvised += 1;
        Some(next)
    }

    /// Keys for a number or a date of birth, when the agent, not having
    /// caught the spoken answer, offers the keypad: what a caller does
    /// then.
    fn keys(&self, q: Asked, agent: &str) -> Option<String> {
        let lower = agent.to_lowercase();
        if !lower.contains("keypad") {
            return None;
        }
        let f = &self.facts;
        match q {
            Asked::Phone | Asked::SecondFactor => f.phone.clone().or_else(|| f.zip.clone()),
            Asked::DateOfBirth => f.date_of_birth.map(|d| d.format("%m%d%Y").to_string()),
            _ => None,
        }
    }

    /// An answer from the facts to a question the script did not foresee.
    fn improvise(&self, q: Asked) -> Option<String> {
        match q {
            Asked::CallingNumber => Some("yes".into()),
            Asked::SecondFactor => match (&self.facts.phone, &self.facts.zip) {
                (Some(p), _) => Some(spoken_phone(p)),
                (None, Some(z)) => Some(format!("my zip code is {z}")),
                _ => None,
            },
            Asked::Name => self.facts.name.as_ref().map(|n| format!("my name is {n}")),
            Asked::DateOfBirth => self.facts.date_of_birth_line.clone(),
            Asked::Phone => self.facts.phone.as_deref().map(spoken_phone),
            _ => None,
        }
    }
}

/// Whether a script turn answers the question. Its hand labels say what
/// a line carries; a line without labels (a script may leave a line
/// unlabelled, a wrong date of birth has no valid one) answers an entity
/// question, and a yes or no by its first word.
fn answers(turn: &ScriptTurn, q: Asked) -> bool {
    let e = turn.entities.clone().unwrap_or_default();
    let unlabelled = turn.intent.is_none() && turn.entities.is_none();
    let (keys, line) = match turn.action() {
        Ok(TurnAction::Dtmf(k)) => (k.chars().filter(char::is_ascii_digit).count(), ""),
        Ok(TurnAction::Say(line)) => (0, line),
        _ => (0, ""),
    };
    let plain_answer = unlabelled && keys == 0 && !line.is_empty() && !yes_or_no(line);
    match q {
        Asked::Name => e.person_name.is_some() || plain_answer,
        // A date that cannot be a birthday (one in the future) is still the
        // caller's answer.
        Asked::DateOfBirth => {
            e.date_of_birth.is_some() || e.date.is_some() || keys == 8 || plain_answer
        }
        Asked::Phone => e.phone.is_some() || keys == 10 || plain_answer,
        Asked::SecondFactor => e.phone.is_some() || keys == 10 || keys == 5 || plain_answer,
        Asked::Medication => e.medication.is_some() || plain_answer,
        Asked::Pharmacy => e.pharmacy.is_some() || plain_answer,
        Asked::ReadBack | Asked::CallingNumber | Asked::YesNo => {
            matches!(turn.intent, Some(Intent::Affirm | Intent::Deny))
                || unlabelled && yes_or_no(line)
                || e.phone.is_some() && q == Asked::CallingNumber
        }
        // An open question takes whatever comes next.
        Asked::Open => true,
    }
}

/// Whether a line opens with a yes or a no.
fn yes_or_no(line: &str) -> bool {
    let first = line
        .split(|c: char| !c.is_alphabetic() && c != '\'')
        .find(|w| !w.is_empty())
        .unwrap_or_default()
        .to_lowercase();
    matches!(
        first.as_str(),
        "yes" | "yeah" | "yep" | "yup" | "no" | "nope" | "nah" | "correct" | "right" | "sure"
    )
}

#[cfg(test)]
mod tests;
