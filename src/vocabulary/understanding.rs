//! What the agent understood of one caller utterance: the intent, the
//! entities and the emergency kind. The NLU produces these; the call loop,
//! the dialogue and the scheduling code read them.

use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

use super::Intent;

/// What the agent understood of one caller utterance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Understanding {
    pub intent: Intent,
    /// Calibrated probability of `intent` (0..=1); the dialogue asks again when low.
    pub confidence: f32,
    pub entities: Entities,
    /// Set when the emergency safety net fired: what kind of emergency the
    /// caller describes (the dialogue says 988 for `Suicidal`, 911
    /// otherwise). `None` with `intent == Emergency` means the model alone
    /// heard one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emergency: Option<EmergencyKind>,
    /// Set when the words hint at an emergency without supporting one (a
    /// single ambiguous word, an ordinary fever): the dialogue asks "is this
    /// a medical emergency?" instead of sending the caller to 911. Never set
    /// together with `emergency`; a crisis (988) is never only "possible".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub possible_emergency: Option<EmergencyKind>,
}

/// What kind of emergency the caller describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmergencyKind {
    ChestPain,
    Breathing,
    Stroke,
    Bleeding,
    Overdose,
    Suicidal,
    Anaphylaxis,
    /// Collapse, unconsciousness, an ongoing seizure.
    Unresponsive,
}

/// Which number the agent tells the caller to dial.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hotline {
    /// 911
    Emergency911,
    /// 988, the Suicide & Crisis Lifeline
    Crisis988,
}

impl EmergencyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EmergencyKind::ChestPain => "chest_pain",
            EmergencyKind::Breathing => "breathing",
            EmergencyKind::Stroke => "stroke",
            EmergencyKind::Bleeding => "bleeding",
            EmergencyKind::Overdose => "overdose",
            EmergencyKind::Suicidal => "suicidal",
            EmergencyKind::Anaphylaxis => "anaphylaxis",
            EmergencyKind::Unresponsive => "unresponsive",
        }
    }

    pub fn hotline(self) -> Hotline {
        match self {
            EmergencyKind::Suicidal => Hotline::Crisis988,
            _ => Hotline::Emergency911,
        }
    }
}

/// The entity the agent just asked for, so an answer can be read as one
/// ("four" answers "what time?", "oh six twenty one eighty seven" answers
/// "your date of birth?"). The names are those of `spec/intents.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Asked {
    PersonName,
    DateOfBirth,
    Phone,
    Date,
    Time,
}

impl Asked {
    pub const ALL: [Asked; 5] = [
        Asked::PersonName,
        Asked::DateOfBirth,
        Asked::Phone,
        Asked::Date,
        Asked::Time,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Asked::PersonName => "person_name",
            Asked::DateOfBirth => "date_of_birth",
            Asked::Phone => "phone",
            Asked::Date => "date",
            Asked::Time => "time",
        }
    }

    /// The entity named `name` (`"date_of_birth"`), if it is one that can be asked.
    pub fn from_name(name: &str) -> Option<Asked> {
        Asked::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

/// `morning` / `afternoon` / `evening`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartOfDay {
    Morning,
    Afternoon,
    Evening,
}

/// Every entity found in one utterance; absent ones are `None` and are left
/// out of JSON.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Entities {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_name: Option<String>,
    /// Serialised `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<NaiveDate>,
    /// Ten digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    /// Serialised `HH:MM`.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "hhmm")]
    pub time: Option<NaiveTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part_of_day: Option<PartOfDay>,
    /// A provider id from the clinic configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medication: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pharmacy: Option<String>,
}

mod hhmm {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<NaiveTime>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&t.format("%H:%M").to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveTime>, D::Error> {
        let raw: Option<String> = Option::deserialize(d)?;
        raw.map(|s| NaiveTime::parse_from_str(&s, "%H:%M").map_err(serde::de::Error::custom))
            .transpose()
    }
}
