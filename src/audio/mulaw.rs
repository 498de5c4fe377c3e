//! G.711 µ-law, the telephone network's 8-bit companding of 14-bit audio.
//!
//! Decoding is the exact ITU G.191 table; encoding is the ITU G.191
//! `ulaw_compress` reference, computed once into a 64 Ki-entry table so the
//! per-frame path is a lookup.

use std::sync::LazyLock;

/// µ-law byte → linear PCM16, ITU G.191 `ulaw_expand`.
const fn expand(code: u8) -> i16 {
    let u = !code;
    let exponent = ((u >> 4) & 0x07) as i32;
    let mantissa = (u & 0x0F) as i32;
    let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    if u & 0x80 != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

static DECODE: [i16; 256] = {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = expand(i as u8);
        i += 1;
    }
    table
};

/// Linear PCM16 → µ-law byte, ITU G.191 `ulaw_compress`.
fn compress(sample: i16) -> u8 {
    let linear = sample as i32;
    // G.191 works on the 14-bit magnitude; negative values use one's complement.
    let magnitude = if linear < 0 {
        (!linear) >> 2
    } else {
        linear >> 2
    };
    let biased = (magnitude + 33).min(0x1FFF);
    let mut segment = 1;
    let mut probe = biased >> 6;
    while probe != 0 {
        segment += 1;
        probe >>= 1;
    }
    let high_nibble = 8 - segment;
    let low_nibble = 0x0F - ((biased >> segment) & 0x0F);
    let code = (high_nibble << 4) | low_nibble;
    if linear >= 0 {
        (code | 0x80) as u8
    } else {
        code as u8
    }
}

static ENCODE: LazyLock<Vec<u8>> =
    LazyLock::new(|| (0..=u16::MAX).map(|bits| compress(bits as i16)).collect());

/// One µ-law byte to PCM16.
pub fn decode(code: u8) -> i16 {
    DECODE[code as usize]
}

/// One PCM16 sample to µ-law.
pub fn encode(sample: i16) -> u8 {
    ENCODE[sample as u16 as usize]
}

/// A frame of µ-law bytes to PCM16.
pub fn decode_frame(codes: &[u8]) -> Vec<i16> {
    codes.iter().map(|&c| decode(c)).collect()
}

/// A frame of PCM16 to µ-law bytes.
pub fn encode_frame(samples: &[i16]) -> Vec<u8> {
    let table = &*ENCODE;
    samples.iter().map(|&s| table[s as u16 as usize]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn vectors_dir() -> Option<PathBuf> {
        let dir = crate::prerequisites::corpus_dir()?.join("vectors");
        if dir.is_dir() {
            Some(dir)
        } else {
            crate::prerequisites::missing(
                &format!("the G.711 vectors at {}", dir.display()),
                "use a complete copy of shared/corpus",
            );
            None
        }
    }

    #[test]
    fn known_codes_decode_exactly() {
        assert_eq!(decode(0xFF), 0);
        assert_eq!(decode(0x7F), 0);
        assert_eq!(decode(0x80), 32124);
        assert_eq!(decode(0x00), -32124);
    }

    #[test]
    fn decode_table_matches_the_reference_bit_for_bit() {
        let Some(dir) = vectors_dir() else { return };
        let text = std::fs::read_to_string(dir.join("g711_ulaw_decode_table.csv")).unwrap();
        let mut checked = 0;
        for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            let code = parse_int(fields[0]) as u8;
            let pcm = parse_int(fields[2]) as i16;
            assert_eq!(decode(code), pcm, "code {code:#04x}");
            checked += 1;
        }
        assert_eq!(checked, 256);
    }

    #[test]
    fn encoder_matches_the_reference_vectors() {
        let Some(dir) = vectors_dir() else { return };
        let text = std::fs::read_to_string(dir.join("g711_ulaw_encode_vectors.csv")).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').map(str::trim).collect();
        let g191 = header
            .iter()
            .position(|h| h.starts_with("g191"))
            .expect("g191 column");
        let mut checked = 0;
        for line in lines.filter(|l| !l.trim().is_empty()) {
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            let pcm = parse_int(fields[0]) as i16;
            let expected = parse_int(fields[g191]) as i32;
            let got = encode(pcm) as i32;
            if pcm >= 0 {
                assert_eq!(got, expected, "pcm {pcm}");
            } else {
                assert!(
                    (got - expected).abs() <= 1,
                    "pcm {pcm}: got {got}, want {expected}±1"
                );
            }
            checked += 1;
        }
        assert!(checked >= 30, "only {checked} vectors read");
    }

    #[test]
    fn encode_then_decode_is_close_for_every_sample() {
        for s in (i16::MIN..=i16::MAX).step_by(7) {
            let back = decode(encode(s)) as i32;
            let err = (back - s as i32).abs();
            // µ-law's quantisation step grows with magnitude: at most 1/16 of it.
            assert!(err <= (s as i32).abs() / 16 + 8, "{s} -> {back}");
        }
    }

    fn parse_int(field: &str) -> i64 {
        let f = field.trim_matches('"');
        if let Some(hex) = f.strip_prefix("0x").or_else(|| f.strip_prefix("0X")) {
            i64::from_str_radix(hex, 16).unwrap()
        } else {
            f.parse().unwrap()
        }
    }
}
