//! Every sentence the agent speaks: templates in `prompts/*.toml`, embedded
//! as defaults and overridable from a directory, filled with `{name}` slots
//! from configuration and dialogue state.

use std::collections::BTreeMap;
use std::path::Path;

pub const DEFAULT_PROMPTS_TOML: &str = include_str!("../../prompts/en.toml");

#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("prompts file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("prompts file {path} is not valid TOML of key = \"template\": {source}")]
    Toml {
        path: String,
        source: toml::de::Error,
    },
    #[error("prompts file {path} overrides unknown prompt {key:?}")]
    UnknownKey { path: String, key: String },
}

/// Prompt templates by key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prompts {
    templates: BTreeMap<String, String>,
}

impl Default for Prompts {
    fn default() -> Prompts {
        Prompts::builtin()
    }
}

impl Prompts {
    pub fn builtin() -> Prompts {
        let templates = toml::from_str(DEFAULT_PROMPTS_TOML).expect("bundled prompts are valid");
        Prompts { templates }
    }

    /// The defaults overridden by every `*.toml` file in `dir` (sorted by name).
    pub fn with_overrides_from(dir: &Path) -> Result<Prompts, PromptError> {
        let mut prompts = Prompts::builtin();
        let read_dir = std::fs::read_dir(dir).map_err(|source| PromptError::Read {
            path: dir.display().to_string(),
            source,
        })?;
        let mut files: Vec<_> = read_dir
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        files.sort();
        for file in files {
            let path = file.display().to_string();
            let text = std::fs::read_to_string(&file).map_err(|source| PromptError::Read {
                path: path.clone(),
                source,
            })?;
            let overrides: BTreeMap<String, String> =
                toml::from_str(&text).map_err(|source| PromptError::Toml {
                    path: path.clone(),
                    source,
                })?;
            for (key, value) in overrides {
                if !prompts.templates.contains_key(&key) {
                    return Err(PromptError::UnknownKey { path, key });
                }
                prompts.templates.insert(key, value);
            }
        }
        Ok(prompts)
    }

    /// The template `key` with each `{name}` replaced by its value. An unknown
    /// key renders as the key itself so a typo is audible, never a panic.
    pub fn render(&self, key: &str, vars: &[(&str, &str)]) -> String {
        let Some(template) = self.templates.get(key) else {
            tracing::error!(prompt = key, "unknown prompt key");
            return key.to_string();
        };
        let mut out = String::with_capacity(template.len() + 32);
        let mut rest = template.as_str();
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            match after.find('}') {
                Some(close) => {
                    let name = &after[..close];
                    match vars.iter().find(|(k, _)| *k == name) {
                        Some((_, v)) => out.push_str(v),
                        None => {
                            out.push('{');
                            out.push_str(name);
                            out.push('}');
                        }
                    }
                    rest = &after[close + 1..];
                }
                None => {
                    out.push_str(&rest[open..]);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.templates.keys().map(|k| k.as_str())
    }

    pub fn template(&self, key: &str) -> Option<&str> {
        self.templates.get(key).map(|s| s.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_fills_slots_and_keeps_unknown_ones() {
        let p = Prompts::builtin();
        let s = p.render("greeting", &[("clinic", "Riverside")]);
        assert!(s.contains("Riverside"), "{s}");
        assert!(!s.contains("{clinic}"));
        assert_eq!(p.render("no_such_prompt", &[]), "no_such_prompt");
    }

    #[test]
    fn overrides_replace_defaults_and_reject_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("voice.toml"),
            "greeting = \"Howdy from {clinic}!\"\n",
        )
        .unwrap();
        let p = Prompts::with_overrides_from(dir.path()).unwrap();
        assert_eq!(p.render("greeting", &[("clinic", "X")]), "Howdy from X!");
        std::fs::write(dir.path().join("z.toml"), "grreting = \"typo\"\n").unwrap();
        assert!(matches!(
            Prompts::with_overrides_from(dir.path()),
            Err(PromptError::UnknownKey { .. })
        ));
    }
}
