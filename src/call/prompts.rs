//! The call loop's own words, from `prompts/call.toml` (embedded, so the
//! binary needs no files).

use std::sync::LazyLock;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct CallPrompts {
    pub saturated: String,
    pub internal_error: String,
    pub shutting_down: String,
}

static PROMPTS: LazyLock<CallPrompts> = LazyLock::new(|| {
    toml::from_str(include_str!("../../prompts/call.toml"))
        .expect("prompts/call.toml is valid (checked by a test)")
});

pub fn call_prompts() -> &'static CallPrompts {
    &PROMPTS
}

impl CallPrompts {
    /// Every sentence here, for pre-rendering.
    pub fn all(&self) -> Vec<String> {
        vec![
            self.saturated.clone(),
            self.internal_error.clone(),
            self.shutting_down.clone(),
        ]
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_bundled_prompts_parse() {
        assert!(!super::call_prompts().saturated.is_empty());
    }
}
