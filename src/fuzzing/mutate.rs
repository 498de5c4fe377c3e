//! The random source and the byte-level mutations the driver applies to
//! corpus inputs: bit flips, boundary bytes, insertions, deletions,
//! duplications, splices from other inputs, tokens from the target's
//! dictionary and multi-byte UTF-8 characters (the ones whose case changes
//! their length, combining marks, emoji), which is where text code breaks.

/// SplitMix64: small, fast, good enough to pick mutations; the seed is
/// printed so a run can be repeated.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `1/n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Bytes at the edges of the formats the targets read.
const BOUNDARY_BYTES: &[u8] = &[
    0x00, 0x01, 0x7F, 0x80, 0xFF, 0xC3, 0xE2, 0xF0, b'"', b'\\', b'{', b'}', b'[', b']', b':',
    b',', b'\n', b' ', b'%', b'+', b'&', b'=', b'/', b'?', b'#', b'@', b'-', b'.', b'0', b'9',
];

/// Characters that break code assuming one byte a character or a stable
/// length under case changes.
const TRICKY_CHARS: &[&str] = &[
    "é",
    "É",
    "ß",
    "ẞ",
    "İ",
    "ı",
    "ﬃ",
    "ŉ",
    "Σ",
    "ς",
    "日本",
    "한",
    "🙂",
    "👩‍⚕️",
    "\u{301}",
    "\u{200B}",
    "\u{FEFF}",
    "\u{202E}",
    "\u{00A0}",
    "\u{2028}",
    "½",
    "²",
    "٣",
    "０",
    "\u{0}",
    "\u{7F}",
];

/// Applies 1 to 8 stacked mutations to `data`, keeping it under `max_len`.
/// `dictionary` holds tokens of the target's format; `others` is the rest
/// of the corpus, for splicing.
pub fn mutate(
    rng: &mut Rng,
    data: &mut Vec<u8>,
    max_len: usize,
    dictionary: &[&[u8]],
    others: &[Vec<u8>],
) {
    let rounds = 1 + rng.below(8);
    for _ in 0..rounds {
        mutate_once(rng, data, dictionary, others);
    }
    if data.len() > max_len {
        data.truncate(max_len);
    }
}

fn position(rng: &mut Rng, data: &[u8]) -> usize {
    rng.below(data.len() + 1)
}

/// A range inside `data` (possibly empty), biased to short ones.
fn range(rng: &mut Rng, data: &[u8]) -> (usize, usize) {
    if data.is_empty() {
        return (0, 0);
    }
    let start = rng.below(data.len());
    let longest = data.len() - start;
    let len = if rng.one_in(4) {
        1 + rng.below(longest)
    } else {
        1 + rng.below(longest.min(16))
    };
    (start, start + len)
}

fn mutate_once(rng: &mut Rng, data: &mut Vec<u8>, dictionary: &[&[u8]], others: &[Vec<u8>]) {
    match rng.below(14) {
        0 if !data.is_empty() => {
            let i = rng.below(data.len());
            data[i] ^= 1 << rng.below(8);
        }
        1 if !data.is_empty() => {
            let i = rng.below(data.len());
            data[i] = *rng.pick(BOUNDARY_BYTES);
        }
        2 if !data.is_empty() => {
            let i = rng.below(data.len());
            data[i] = rng.next_u64() as u8;
        }
        3 => {
            let at = position(rng, data);
            let n = 1 + rng.below(8);
            let bytes: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
            data.splice(at..at, bytes);
        }
        4 if !data.is_empty() => {
            let (a, b) = range(rng, data);
            data.drain(a..b);
        }
        5 if !data.is_empty() => {
            let (a, b) = range(rng, data);
            let chunk = data[a..b].to_vec();
            let at = position(rng, data);
            data.splice(at..at, chunk);
        }
        6 | 7 if !dictionary.is_empty() => {
            let token = rng.pick(dictionary).to_vec();
            let at = position(rng, data);
            if rng.one_in(3) && !data.is_empty() {
                // Overwrite instead of insert: replaces a word with another.
                let (a, b) = range(rng, data);
                data.splice(a..b, token);
            } else {
                data.splice(at..at, token);
            }
        }
        8 if !others.is_empty() => {
            let other = rng.pick(others);
            if !other.is_empty() {
                let (a, b) = range(rng, other);
                let at = position(rng, data);
                data.splice(at..at, other[a..b].iter().copied());
            }
        }
        9 => {
            let c = rng.pick(TRICKY_CHARS).as_bytes().to_vec();
            let at = char_boundary(rng, data);
            data.splice(at..at, c);
        }
        10 if !data.is_empty() => {
            let at = rng.below(data.len());
            data.truncate(at);
        }
        11 if !data.is_empty() => {
            // A chunk repeated many times: length limits and loops.
            let (a, b) = range(rng, data);
            let chunk = data[a..b].to_vec();
            let most = if rng.one_in(8) { 2_000 } else { 40 };
            let times = 2 + rng.below(most);
            let at = position(rng, data);
            let repeated: Vec<u8> = chunk
                .iter()
                .copied()
                .cycle()
                .take(chunk.len() * times)
                .collect();
            data.splice(at..at, repeated);
        }
        12 if !data.is_empty() => {
            let i = rng.below(data.len());
            let b = data[i];
            data[i] = if b.is_ascii_digit() {
                b'0' + rng.below(10) as u8
            } else if b.is_ascii_alphabetic() {
                b ^ 0x20
            } else {
                b'0' + rng.below(10) as u8
            };
        }
        _ => {
            // Swap two ranges' contents by rotating between them.
            if data.len() >= 2 {
                let a = rng.below(data.len());
                let b = rng.below(data.len());
                let (lo, hi) = (a.min(b), a.max(b));
                data[lo..=hi].rotate_left(if hi > lo { 1 + rng.below(hi - lo) } else { 0 });
            }
        }
    }
}

/// An insertion point that keeps valid UTF-8 valid, when `data` is text.
fn char_boundary(rng: &mut Rng, data: &[u8]) -> usize {
    let at = position(rng, data);
    match std::str::from_utf8(data) {
        Ok(text) => (0..=at)
            .rev()
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0),
        Err(_) => at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_stay_under_the_limit_and_change_the_input() {
        let mut rng = Rng::new(7);
        let mut changed = 0;
        for _ in 0..2_000 {
            let mut data = b"hello world".to_vec();
            mutate(&mut rng, &mut data, 64, &[b"token"], &[b"other".to_vec()]);
            assert!(data.len() <= 64);
            if data != b"hello world" {
                changed += 1;
            }
        }
        assert!(changed > 1_800, "only {changed} of 2000 mutated");
    }

    #[test]
    fn the_same_seed_gives_the_same_numbers() {
        let (mut a, mut b) = (Rng::new(42), Rng::new(42));
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs[0], xs[1]);
    }
}
