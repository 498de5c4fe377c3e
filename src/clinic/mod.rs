//! The clinic: configuration (TOML), the demo clinic, and the clinic's clock.
//! Placeholder until the conversation work lands.

/// A clinic's configuration.
#[derive(Clone, Debug, Default)]
pub struct Clinic {
    pub name: String,
}

/// The clinic's clock (real, or pinned by `FRONTDESK_NOW`).
#[derive(Clone, Debug, Default)]
pub struct Clock;
