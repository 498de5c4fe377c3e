//! The clinic: configuration (TOML, the bundled demo clinic), the clinic's
//! clock and the prompt templates the agent speaks. Plain data: the front
//! desk that runs the dialogue against the database is `crate::desk`.

pub mod clock;
pub mod config;
pub mod prompts;

pub use clock::Clock;
pub use config::{Clinic, ConfigError};
pub use prompts::Prompts;

impl Clinic {
    /// The clinic's local wall time at a UTC instant.
    pub fn local(&self, at: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDateTime {
        at.with_timezone(&self.timezone).naive_local()
    }

    /// The UTC instant of a local wall time (the earlier one when a DST
    /// change makes it ambiguous; `None` when it does not exist).
    pub fn to_utc(&self, local: chrono::NaiveDateTime) -> Option<chrono::DateTime<chrono::Utc>> {
        use chrono::TimeZone;
        self.timezone
            .from_local_datetime(&local)
            .earliest()
            .map(|t| t.with_timezone(&chrono::Utc))
    }
}
