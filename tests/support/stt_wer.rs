//! Word error rate with a normaliser, for the speech-to-text corpus test.

/// Lowercase words without punctuation; numbers written out (below 100 as
/// words, longer ones digit by digit, as callers say phone numbers), "oh"
/// for zero, "mr"/"mrs" spelled out.
pub fn normalise(text: &str) -> Vec<String> {
    let mut spaced = String::with_capacity(text.len());
    for c in text.to_lowercase().chars() {
        if c.is_alphanumeric() {
            spaced.push(c);
        } else if c == '\'' || c == '’' {
            // "neighbor's" → "neighbors": the same on both sides.
        } else {
            spaced.push(' ');
        }
    }
    let mut words = Vec::new();
    for token in spaced.split_whitespace() {
        if token.chars().all(|c| c.is_ascii_digit()) {
            words.extend(number_words(token));
        } else {
            words.push(
                match token {
                    "oh" => "zero",
                    "mr" => "mister",
                    "mrs" => "missus",
                    other => other,
                }
                .to_string(),
            );
        }
    }
    words
}

/// "21" → ["twenty", "one"]; longer digit runs are read digit by digit.
fn number_words(digits: &str) -> Vec<String> {
    let say = |n: u32| {
        frontdesk::tts::text::number_words(n)
            .split_whitespace()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    if digits.len() <= 2 {
        return say(digits.parse().unwrap_or(0));
    }
    digits
        .chars()
        .flat_map(|c| say(c.to_digit(10).unwrap_or(0)))
        .collect()
}

/// Word-level edit distance / reference length, after normalising both.
pub fn word_error_rate(reference: &str, hypothesis: &str) -> f64 {
    let r = normalise(reference);
    let h = normalise(hypothesis);
    if r.is_empty() {
        return if h.is_empty() { 0.0 } else { 1.0 };
    }
    let mut prev: Vec<usize> = (0..=h.len()).collect();
    for (i, rw) in r.iter().enumerate() {
        let mut cur = vec![i + 1; h.len() + 1];
        for (j, hw) in h.iter().enumerate() {
            let sub = prev[j] + usize::from(rw != hw);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[h.len()] as f64 / r.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normaliser_and_wer() {
        assert_eq!(
            normalise("And so, my fellow Americans!"),
            vec!["and", "so", "my", "fellow", "americans"]
        );
        assert_eq!(
            normalise("Go forward 10 meters"),
            normalise("go forward ten meters")
        );
        assert_eq!(normalise("1, 2, 3."), normalise("one two three"));
        assert_eq!(normalise("10001"), normalise("one zero zero zero one"));
        assert_eq!(normalise("nine oh two"), normalise("902"));
        assert_eq!(normalise("Mr. John"), normalise("mister john"));
        assert_eq!(word_error_rate("a b c d", "a b c d"), 0.0);
        assert_eq!(word_error_rate("a b c d", "a x c"), 0.5);
        assert_eq!(word_error_rate("a b", ""), 1.0);
    }
}
