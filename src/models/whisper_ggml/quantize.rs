//! Number formats of the ggml file: IEEE half precision (through the
//! `half` crate) and ggml's q8_0 blocks.

/// IEEE 754 binary16 bits → binary32 (exact).
pub fn f16_to_f32(h: u16) -> f32 {
    half::f16::from_bits(h).to_f32()
}

/// IEEE 754 binary32 → binary16 bits, round to nearest even.
pub fn f32_to_f16(f: f32) -> u16 {
    half::f16::from_f32(f).to_bits()
}

/// Elements per `block_q8_0`, and the block's size in bytes.
pub(super) const Q8_0_BLOCK: usize = 32;
pub(super) const Q8_0_BLOCK_BYTES: usize = 2 + Q8_0_BLOCK;
/// ggml's `GGML_FTYPE_MOSTLY_Q8_0`, stored with its quantisation version
/// (`GGML_QNT_VERSION` 2 × `GGML_QNT_VERSION_FACTOR` 1000).
pub(super) const FTYPE_Q8_0: i32 = 7 + 2 * 1000;

/// ggml's reference `quantize_row_q8_0`: per block of 32, the scale is the
/// largest magnitude over 127 and each value its nearest multiple.
pub fn quantize_q8_0(row: &[f32], out: &mut Vec<u8>) {
    debug_assert!(row.len().is_multiple_of(Q8_0_BLOCK));
    for block in row.chunks_exact(Q8_0_BLOCK) {
        let amax = block.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let d = amax / 127.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        out.extend_from_slice(&f32_to_f16(d).to_le_bytes());
        out.extend(block.iter().map(|v| (v * id).round() as i8 as u8));
    }
}

/// The inverse of [`quantize_q8_0`] (tests and diagnostics).
pub fn dequantize_q8_0(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(Q8_0_BLOCK_BYTES)
        .flat_map(|b| {
            let d = f16_to_f32(u16::from_le_bytes([b[0], b[1]]));
            b[2..].iter().map(move |&q| q as i8 as f32 * d)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_precision_round_trips_and_rounds_to_even() {
        for h in 0u16..=0xffff {
            let f = f16_to_f32(h);
            if f.is_nan() {
                assert!(f32_to_f16(f) & 0x7c00 == 0x7c00 && f32_to_f16(f) & 0x3ff != 0);
            } else {
                assert_eq!(f32_to_f16(f), h, "f16 {h:#06x} → {f} → back");
            }
        }
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        // Halfway between 1.0 and the next f16 (1 + 2^-10) rounds to even (1.0).
        assert_eq!(f32_to_f16(1.0 + 2f32.powi(-11)), 0x3c00);
        assert_eq!(f32_to_f16(1.0 + 3.0 * 2f32.powi(-11)), 0x3c02);
        assert_eq!(f32_to_f16(1e6), 0x7c00);
    }

    #[test]
    fn q8_0_blocks_match_ggml_and_round_trip_within_half_a_step() {
        // One block by hand: amax 127 gives scale 1, so values round.
        let mut row: Vec<f32> = (0..32).map(|i| i as f32 - 15.6).collect();
        row[31] = -127.0;
        let mut bytes = Vec::new();
        quantize_q8_0(&row, &mut bytes);
        assert_eq!(bytes.len(), 34);
        assert_eq!(u16::from_le_bytes([bytes[0], bytes[1]]), f32_to_f16(1.0));
        assert_eq!(bytes[2] as i8, -16); // -15.6
        assert_eq!(bytes[2 + 16] as i8, 0); // 0.4
        assert_eq!(bytes[2 + 31] as i8, -127);
        // A spread of magnitudes, and an all-zero block (scale 0).
        let row: Vec<f32> = (0..96)
            .map(|i| {
                if i >= 64 {
                    0.0
                } else {
                    ((i * 37) % 23) as f32 * 0.013 - 0.1
                }
            })
            .collect();
        let mut bytes = Vec::new();
        quantize_q8_0(&row, &mut bytes);
        let back = dequantize_q8_0(&bytes);
        assert_eq!(back.len(), row.len());
        for (block, (a, b)) in row.chunks(32).zip(back.chunks(32)).enumerate() {
            let step = a.iter().fold(0.0f32, |m, v| m.max(v.abs())) / 127.0;
            for (x, y) in a.iter().zip(b) {
                assert!(
                    (x - y).abs() <= step * 0.5 + 1e-4,
                    "block {block}: {x} → {y}"
                );
            }
        }
        assert!(back[64..].iter().all(|&v| v == 0.0));
    }
}
