//! Fixed prompts ("Thanks for calling…", "Could you spell that?") rendered
//! once at start-up, so the most frequent sentences are spoken with no
//! synthesis delay at all.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;

use super::{Tts, text};

/// 8 kHz PCM16 audio per sentence, keyed by the sentence as it will be
/// spoken (after normalisation, white space collapsed), so "Dr." and
/// "Doctor" find the same entry.
#[derive(Clone, Debug, Default)]
pub struct PromptCache {
    sentences: HashMap<String, Arc<[i16]>>,
}

impl PromptCache {
    /// Renders every sentence of every prompt (prompts are split into
    /// sentences the same way replies are). Blocking.
    pub fn render<S: AsRef<str>>(tts: &Tts, prompts: &[S]) -> anyhow::Result<PromptCache> {
        let started = Instant::now();
        let mut cache = PromptCache::default();
        for (prompt_index, prompt) in prompts.iter().enumerate() {
            for sentence in text::split_sentences(prompt.as_ref()) {
                let key = PromptCache::key(&sentence);
                // Already rendered here or earlier (a second application
                // built on the same voice, as in tests): keep it.
                if cache.sentences.contains_key(&key) || tts.cached(&sentence).is_some() {
                    continue;
                }
                let samples = tts
                    .synthesize_8k(&sentence, None)
                    .with_context(|| format!("rendering cached prompt #{prompt_index}"))?;
                cache.sentences.insert(key, samples.into());
            }
        }
        tracing::info!(
            sentences = cache.len(),
            render_ms = started.elapsed().as_millis() as u64,
            "prompt cache rendered"
        );
        Ok(cache)
    }

    /// The lookup key of a sentence.
    pub fn key(sentence: &str) -> String {
        text::normalize_for_speech(sentence)
    }

    /// The cached audio for a sentence, if it was rendered.
    pub fn get(&self, sentence: &str) -> Option<Arc<[i16]>> {
        self.sentences.get(&PromptCache::key(sentence)).cloned()
    }

    pub fn insert(&mut self, sentence: &str, samples_8k: Vec<i16>) {
        self.sentences
            .insert(PromptCache::key(sentence), samples_8k.into());
    }

    pub fn remove(&mut self, sentence: &str) {
        self.sentences.remove(&PromptCache::key(sentence));
    }

    pub fn extend(&mut self, other: PromptCache) {
        self.sentences.extend(other.sentences);
    }

    pub fn len(&self) -> usize {
        self.sentences.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sentences.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_spacing_and_abbreviation_spelling() {
        let mut cache = PromptCache::default();
        cache.insert("Doctor  Patel is in.", vec![1, 2, 3]);
        assert_eq!(
            cache.get("Dr. Patel is in.").as_deref(),
            Some(&[1i16, 2, 3][..])
        );
        assert!(cache.get("Doctor Patel is out.").is_none());
        assert_eq!(cache.len(), 1);
    }
}
