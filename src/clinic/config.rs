//! The clinic configuration: TOML on disk, parsed once into types that
//! cannot be invalid (times parsed, ids cross-checked, timezone known).

use std::collections::HashSet;
use std::path::Path;

use chrono::{Datelike, NaiveDate, NaiveTime, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// The demo clinic shipped with the binary; the default configuration.
pub const DEMO_CLINIC_TOML: &str = include_str!("../../fixtures/demo_clinic.toml");

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("clinic configuration is not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("reading clinic configuration {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("unknown timezone {0:?} (use an IANA name such as America/New_York)")]
    Timezone(String),
    #[error("{field}: {value:?} is not a time range like \"08:00-17:00\"")]
    Range { field: String, value: String },
    #[error("{field}: unknown weekday {value:?}")]
    Weekday { field: String, value: String },
    #[error("holiday date {0:?} is not YYYY-MM-DD")]
    Holiday(String),
    #[error("duplicate {kind} id {id:?}")]
    Duplicate { kind: &'static str, id: String },
    #[error("appointment type {type_id:?} names unknown provider {provider_id:?}")]
    UnknownProvider {
        type_id: String,
        provider_id: String,
    },
    #[error("{0}")]
    Invalid(String),
}

/// A half-open local time range `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeRange {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl TimeRange {
    fn parse(field: &str, value: &str) -> Result<TimeRange, ConfigError> {
        let bad = || ConfigError::Range {
            field: field.to_string(),
            value: value.to_string(),
        };
        let (a, b) = value.split_once('-').ok_or_else(bad)?;
        let start = NaiveTime::parse_from_str(a.trim(), "%H:%M").map_err(|_| bad())?;
        let end = NaiveTime::parse_from_str(b.trim(), "%H:%M").map_err(|_| bad())?;
        if end <= start {
            return Err(bad());
        }
        Ok(TimeRange { start, end })
    }
}

/// Seven days, Monday first; an empty day is closed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Week(pub [Vec<TimeRange>; 7]);

impl Week {
    pub fn on(&self, day: Weekday) -> &[TimeRange] {
        &self.0[day.num_days_from_monday() as usize]
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Address {
    pub street: String,
    pub city: String,
    pub state: String,
    pub zip: String,
    pub directions: String,
    pub parking: String,
    /// Step-free access, elevators, wheelchairs: said when a caller asks
    /// whether the office is accessible (empty: the agent offers a call
    /// back from the front desk instead).
    pub accessibility: String,
}

impl Address {
    /// One line, as spoken and as returned by the API.
    pub fn one_line(&self) -> String {
        format!(
            "{}, {}, {} {}",
            self.street, self.city, self.state, self.zip
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holiday {
    pub date: NaiveDate,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provider {
    pub id: String,
    pub name: String,
    pub title: String,
    /// How the agent says the name: "Dr. Patel".
    pub spoken: String,
    pub schedule: Week,
}

impl Provider {
    /// Lower-case words a caller may use for this provider (last name, full name).
    pub fn name_words(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .name
            .split_whitespace()
            .map(|w| w.to_lowercase())
            .collect();
        out.push(self.id.to_lowercase());
        out
    }

    pub fn last_name(&self) -> &str {
        self.name.split_whitespace().last().unwrap_or(&self.name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppointmentType {
    pub id: String,
    pub name: String,
    pub minutes: u32,
    pub providers: Vec<String>,
    /// Lower-case phrases in a caller's reason that select this type.
    pub keywords: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InsurancePlan {
    pub name: String,
    /// Lower-case phrases a caller may say for this plan.
    pub aliases: Vec<String>,
}

/// A validated clinic configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Clinic {
    pub name: String,
    pub phone: String,
    pub timezone: Tz,
    pub address: Address,
    pub hours: Week,
    pub holidays: Vec<Holiday>,
    pub providers: Vec<Provider>,
    pub appointment_types: Vec<AppointmentType>,
    pub insurance: Vec<InsurancePlan>,
    /// Plans the clinic knows it does not take (`insurance_not_accepted`,
    /// lower-case phrases): a clear "no" rather than a billing check.
    pub insurance_not_accepted: Vec<String>,
    pub accepting_new_patients: bool,
    /// Staff line for warm transfers during open hours.
    pub transfer_number: Option<String>,
    pub slot_minutes: u32,
    pub min_notice_minutes: u32,
    pub booking_horizon_days: u32,
    /// How the staff task queue runs (`[queue]`).
    pub queue: QueueSettings,
    /// The staff dashboard in the browser (`[dashboard]`).
    pub dashboard: DashboardSettings,
}

/// The `[dashboard]` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DashboardSettings {
    /// A browser session unused for this long is signed out: a front-desk
    /// PC left on must not stay open to whoever walks by.
    pub idle_timeout_minutes: u32,
}

impl Default for DashboardSettings {
    fn default() -> DashboardSettings {
        DashboardSettings {
            idle_timeout_minutes: 30,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDashboard {
    idle_timeout_minutes: Option<u32>,
}

impl RawDashboard {
    fn validate(self) -> Result<DashboardSettings, ConfigError> {
        let idle_timeout_minutes = self
            .idle_timeout_minutes
            .unwrap_or(DashboardSettings::default().idle_timeout_minutes);
        if !(1..=24 * 60).contains(&idle_timeout_minutes) {
            return Err(ConfigError::Invalid(
                "dashboard.idle_timeout_minutes must be between 1 and 1440".into(),
            ));
        }
        Ok(DashboardSettings {
            idle_timeout_minutes,
        })
    }
}

/// How long staff have for a task of each priority before it is overdue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceLevel {
    /// This many minutes after the task was created.
    Minutes(u32),
    /// The clinic's closing time on the first business day after the day
    /// the task was created (holidays and closed days skipped).
    NextBusinessDay,
}

impl ServiceLevel {
    /// `"15m"`, `"2h"` or `"next_business_day"`.
    fn parse(field: &str, value: &str) -> Result<ServiceLevel, ConfigError> {
        let bad = || {
            ConfigError::Invalid(format!(
                "{field}: {value:?} is not a service level like \"15m\", \"2h\" or \"next_business_day\""
            ))
        };
        let value = value.trim();
        if value == "next_business_day" {
            return Ok(ServiceLevel::NextBusinessDay);
        }
        let (number, unit) = value.split_at(value.len().saturating_sub(1));
        let number: u32 = number.parse().map_err(|_| bad())?;
        let minutes = match unit {
            "m" => number,
            "h" => number.checked_mul(60).ok_or_else(bad)?,
            _ => return Err(bad()),
        };
        if minutes == 0 || minutes > 14 * 24 * 60 {
            return Err(bad());
        }
        Ok(ServiceLevel::Minutes(minutes))
    }
}

/// The `[queue]` table: the claim timeout and the service level of each
/// priority.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueSettings {
    /// A claim nobody acts on for this long returns the task to the queue.
    pub claim_timeout_minutes: u32,
    pub urgent: ServiceLevel,
    pub high: ServiceLevel,
    pub normal: ServiceLevel,
}

impl Default for QueueSettings {
    fn default() -> QueueSettings {
        QueueSettings {
            claim_timeout_minutes: 30,
            urgent: ServiceLevel::Minutes(15),
            high: ServiceLevel::Minutes(120),
            normal: ServiceLevel::NextBusinessDay,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawQueue {
    claim_timeout_minutes: Option<u32>,
    #[serde(default)]
    service_levels: RawServiceLevels,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawServiceLevels {
    urgent: Option<String>,
    high: Option<String>,
    normal: Option<String>,
}

impl RawQueue {
    fn validate(self) -> Result<QueueSettings, ConfigError> {
        let defaults = QueueSettings::default();
        let claim_timeout_minutes = self
            .claim_timeout_minutes
            .unwrap_or(defaults.claim_timeout_minutes);
        if !(1..=24 * 60).contains(&claim_timeout_minutes) {
            return Err(ConfigError::Invalid(
                "queue.claim_timeout_minutes must be between 1 and 1440".into(),
            ));
        }
        let level = |field: &str, value: Option<String>, default: ServiceLevel| match value {
            Some(v) => ServiceLevel::parse(&format!("queue.service_levels.{field}"), &v),
            None => Ok(default),
        };
        Ok(QueueSettings {
            claim_timeout_minutes,
            urgent: level("urgent", self.service_levels.urgent, defaults.urgent)?,
            high: level("high", self.service_levels.high, defaults.high)?,
            normal: level("normal", self.service_levels.normal, defaults.normal)?,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClinic {
    name: String,
    phone: String,
    timezone: String,
    #[serde(default = "yes")]
    accepting_new_patients: bool,
    #[serde(default)]
    transfer_number: Option<String>,
    #[serde(default = "default_slot_minutes")]
    slot_minutes: u32,
    #[serde(default = "default_notice")]
    min_notice_minutes: u32,
    #[serde(default = "default_horizon")]
    booking_horizon_days: u32,
    address: RawAddress,
    hours: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    holidays: Vec<RawHoliday>,
    providers: Vec<RawProvider>,
    appointment_types: Vec<RawType>,
    #[serde(default)]
    insurance: Vec<RawPlan>,
    #[serde(default)]
    insurance_not_accepted: Vec<String>,
    #[serde(default)]
    queue: RawQueue,
    #[serde(default)]
    dashboard: RawDashboard,
    /// Server settings may share the file (`settings.rs` reads them).
    #[serde(default, rename = "server")]
    _server: Option<toml::Value>,
}

fn yes() -> bool {
    true
}
fn default_slot_minutes() -> u32 {
    15
}
fn default_notice() -> u32 {
    60
}
fn default_horizon() -> u32 {
    90
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAddress {
    street: String,
    city: String,
    state: String,
    zip: String,
    #[serde(default)]
    directions: String,
    #[serde(default)]
    parking: String,
    #[serde(default)]
    accessibility: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHoliday {
    date: String,
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvider {
    id: String,
    name: String,
    title: String,
    #[serde(default)]
    spoken: Option<String>,
    schedule: std::collections::BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawType {
    id: String,
    name: String,
    minutes: u32,
    providers: Vec<String>,
    #[serde(default)]
    keywords: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlan {
    name: String,
    #[serde(default)]
    aliases: Vec<String>,
}

fn weekday(field: &str, name: &str) -> Result<Weekday, ConfigError> {
    name.parse::<Weekday>().map_err(|_| ConfigError::Weekday {
        field: field.to_string(),
        value: name.to_string(),
    })
}

impl Clinic {
    /// The bundled demo clinic.
    pub fn demo() -> Clinic {
        Clinic::from_toml_str(DEMO_CLINIC_TOML).expect("the bundled demo clinic is valid")
    }

    /// `path`, or the demo clinic when `None`.
    pub fn load(path: Option<&Path>) -> Result<Clinic, ConfigError> {
        match path {
            None => Ok(Clinic::demo()),
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                    path: p.display().to_string(),
                    source,
                })?;
                Clinic::from_toml_str(&text)
            }
        }
    }

    pub fn from_toml_str(text: &str) -> Result<Clinic, ConfigError> {
        let raw: RawClinic = toml::from_str(text)?;
        let timezone: Tz = raw
            .timezone
            .parse()
            .map_err(|_| ConfigError::Timezone(raw.timezone.clone()))?;
        if raw.slot_minutes == 0 || !raw.slot_minutes.is_multiple_of(5) || raw.slot_minutes > 120 {
            return Err(ConfigError::Invalid(
                "slot_minutes must be a multiple of 5 between 5 and 120".into(),
            ));
        }
        let mut hours = Week::default();
        for (day, range) in &raw.hours {
            let d = weekday("hours", day)?;
            hours.0[d.num_days_from_monday() as usize] =
                vec![TimeRange::parse(&format!("hours.{day}"), range)?];
        }
        let mut holidays = Vec::new();
        for h in raw.holidays {
            let date = NaiveDate::parse_from_str(&h.date, "%Y-%m-%d")
                .map_err(|_| ConfigError::Holiday(h.date.clone()))?;
            holidays.push(Holiday { date, name: h.name });
        }
        let mut seen = HashSet::new();
        let mut providers = Vec::new();
        for p in raw.providers {
            if !seen.insert(p.id.clone()) {
                return Err(ConfigError::Duplicate {
                    kind: "provider",
                    id: p.id,
                });
            }
            let mut schedule = Week::default();
            for (day, ranges) in &p.schedule {
                let d = weekday(&format!("providers.{}.schedule", p.id), day)?;
                let mut parsed = Vec::new();
                for r in ranges {
                    parsed.push(TimeRange::parse(
                        &format!("providers.{}.schedule.{day}", p.id),
                        r,
                    )?);
                }
                parsed.sort_by_key(|r| r.start);
                schedule.0[d.num_days_from_monday() as usize] = parsed;
            }
            let spoken = p.spoken.unwrap_or_else(|| {
                let last = p
                    .name
                    .split_whitespace()
                    .last()
                    .unwrap_or(&p.name)
                    .to_string();
                if matches!(p.title.as_str(), "MD" | "DO") {
                    format!("Dr. {last}")
                } else {
                    p.name.clone()
                }
            });
            providers.push(Provider {
                id: p.id,
                name: p.name,
                title: p.title,
                spoken,
                schedule,
            });
        }
        if providers.is_empty() {
            return Err(ConfigError::Invalid(
                "a clinic needs at least one provider".into(),
            ));
        }
        let mut seen = HashSet::new();
        let mut appointment_types = Vec::new();
        for t in raw.appointment_types {
            if !seen.insert(t.id.clone()) {
                return Err(ConfigError::Duplicate {
                    kind: "appointment type",
                    id: t.id,
                });
            }
            if t.minutes == 0 || t.minutes % 5 != 0 || t.minutes > 480 {
                return Err(ConfigError::Invalid(format!(
                    "appointment type {:?}: minutes must be a multiple of 5 up to 480",
                    t.id
                )));
            }
            for pid in &t.providers {
                if !providers.iter().any(|p| &p.id == pid) {
                    return Err(ConfigError::UnknownProvider {
                        type_id: t.id.clone(),
                        provider_id: pid.clone(),
                    });
                }
            }
            let keywords = t.keywords.iter().map(|k| k.to_lowercase()).collect();
            appointment_types.push(AppointmentType {
                id: t.id,
                name: t.name,
                minutes: t.minutes,
                providers: t.providers,
                keywords,
            });
        }
        if appointment_types.is_empty() {
            return Err(ConfigError::Invalid(
                "a clinic needs at least one appointment type".into(),
            ));
        }
        let insurance = raw
            .insurance
            .into_iter()
            .map(|p| {
                let mut aliases: Vec<String> = p.aliases.iter().map(|a| a.to_lowercase()).collect();
                aliases.push(p.name.to_lowercase());
                InsurancePlan {
                    name: p.name,
                    aliases,
                }
            })
            .collect();
        let queue = raw.queue.validate()?;
        let dashboard = raw.dashboard.validate()?;
        Ok(Clinic {
            name: raw.name,
            phone: raw.phone,
            timezone,
            address: Address {
                street: raw.address.street,
                city: raw.address.city,
                state: raw.address.state,
                zip: raw.address.zip,
                directions: raw.address.directions,
                parking: raw.address.parking,
                accessibility: raw.address.accessibility,
            },
            hours,
            holidays,
            providers,
            appointment_types,
            insurance,
            insurance_not_accepted: raw
                .insurance_not_accepted
                .iter()
                .map(|p| p.trim().to_lowercase())
                .filter(|p| !p.is_empty())
                .collect(),
            accepting_new_patients: raw.accepting_new_patients,
            transfer_number: raw.transfer_number.filter(|n| !n.trim().is_empty()),
            slot_minutes: raw.slot_minutes,
            min_notice_minutes: raw.min_notice_minutes,
            booking_horizon_days: raw.booking_horizon_days.clamp(1, 366),
            queue,
            dashboard,
        })
    }

    pub fn provider(&self, id: &str) -> Option<&Provider> {
        self.providers.iter().find(|p| p.id == id)
    }

    pub fn appointment_type(&self, id: &str) -> Option<&AppointmentType> {
        self.appointment_types.iter().find(|t| t.id == id)
    }

    pub fn holiday(&self, date: NaiveDate) -> Option<&Holiday> {
        self.holidays.iter().find(|h| h.date == date)
    }

    /// Opening hours on `date` (none on a holiday or a closed weekday).
    pub fn hours_on(&self, date: NaiveDate) -> Option<TimeRange> {
        if self.holiday(date).is_some() {
            return None;
        }
        self.hours.on(date.weekday()).first().copied()
    }

    /// Whether the clinic is open at this local instant.
    pub fn is_open_at(&self, local: chrono::NaiveDateTime) -> bool {
        self.hours_on(local.date())
            .is_some_and(|r| local.time() >= r.start && local.time() < r.end)
    }

    /// The warm-transfer number when transfers are possible right now.
    pub fn transfer_target(&self, local: chrono::NaiveDateTime) -> Option<&str> {
        self.transfer_number
            .as_deref()
            .filter(|_| self.is_open_at(local))
    }
}

impl Default for Clinic {
    fn default() -> Clinic {
        Clinic::demo()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_clinic_parses_and_cross_checks() {
        let c = Clinic::demo();
        assert_eq!(c.timezone, chrono_tz::America::New_York);
        assert!(c.provider("patel").is_some());
        assert_eq!(c.appointment_type("physical").unwrap().minutes, 30);
        assert!(c.hours.on(Weekday::Sat).is_empty());
    }

    #[test]
    fn bad_configurations_are_named() {
        let bad_tz = DEMO_CLINIC_TOML.replace("America/New_York", "Mars/Olympus");
        assert!(matches!(
            Clinic::from_toml_str(&bad_tz),
            Err(ConfigError::Timezone(_))
        ));
        let bad_range =
            DEMO_CLINIC_TOML.replace("monday = \"08:00-17:00\"", "monday = \"17:00-08:00\"");
        assert!(matches!(
            Clinic::from_toml_str(&bad_range),
            Err(ConfigError::Range { .. })
        ));
        let bad_provider = DEMO_CLINIC_TOML.replace(
            "providers = [\"patel\", \"kim\"]",
            "providers = [\"smith\"]",
        );
        assert!(matches!(
            Clinic::from_toml_str(&bad_provider),
            Err(ConfigError::UnknownProvider { .. })
        ));
    }

    #[test]
    fn queue_settings_default_and_parse() {
        assert_eq!(Clinic::demo().queue, QueueSettings::default());
        let text = format!(
            "{DEMO_CLINIC_TOML}\n[queue]\nclaim_timeout_minutes = 10\n\
             [queue.service_levels]\nurgent = \"5m\"\nhigh = \"3h\"\nnormal = \"next_business_day\"\n"
        );
        let q = Clinic::from_toml_str(&text).unwrap().queue;
        assert_eq!(q.claim_timeout_minutes, 10);
        assert_eq!(q.urgent, ServiceLevel::Minutes(5));
        assert_eq!(q.high, ServiceLevel::Minutes(180));
        assert_eq!(q.normal, ServiceLevel::NextBusinessDay);
        for bad in [
            "[queue]\nclaim_timeout_minutes = 0\n",
            "[queue.service_levels]\nurgent = \"soon\"\n",
            "[queue.service_levels]\nhigh = \"0m\"\n",
            "[queue]\nsla = 3\n",
        ] {
            let text = format!("{DEMO_CLINIC_TOML}\n{bad}");
            assert!(Clinic::from_toml_str(&text).is_err(), "{bad}");
        }
    }

    #[test]
    fn holidays_close_the_clinic() {
        let c = Clinic::demo();
        let christmas = NaiveDate::from_ymd_opt(2026, 12, 25).unwrap();
        assert_eq!(c.hours_on(christmas), None);
        let monday = NaiveDate::from_ymd_opt(2026, 3, 16).unwrap();
        assert!(c.hours_on(monday).is_some());
    }
}
