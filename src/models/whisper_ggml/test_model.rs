//! A tiny synthetic CTranslate2 Whisper for the tests: d = 4, one encoder
//! and one decoder layer, 2 mels.

use super::quantize::f32_to_f16;

struct Ct2Builder {
    vars: Vec<(String, Vec<u32>, u8, Vec<u8>)>,
}

impl Ct2Builder {
    fn f16(&mut self, name: &str, shape: &[u32], seed: f32) {
        let n: u32 = shape.iter().product();
        let data = (0..n)
            .flat_map(|i| f32_to_f16(seed + i as f32 / 64.0).to_le_bytes())
            .collect();
        self.vars.push((name.into(), shape.to_vec(), 4, data));
    }
    fn i16(&mut self, name: &str, v: i16) {
        self.vars
            .push((name.into(), vec![], 2, v.to_le_bytes().to_vec()));
    }
    fn bytes(&self) -> Vec<u8> {
        let s = |out: &mut Vec<u8>, t: &str| {
            out.extend_from_slice(&((t.len() + 1) as u16).to_le_bytes());
            out.extend_from_slice(t.as_bytes());
            out.push(0);
        };
        let mut out = Vec::new();
        out.extend_from_slice(&6u32.to_le_bytes());
        s(&mut out, "WhisperSpec");
        out.extend_from_slice(&3u32.to_le_bytes());
        out.extend_from_slice(&(self.vars.len() as u32).to_le_bytes());
        for (name, shape, dtype, data) in &self.vars {
            s(&mut out, name);
            out.push(shape.len() as u8);
            shape
                .iter()
                .for_each(|d| out.extend_from_slice(&d.to_le_bytes()));
            out.push(*dtype);
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(data);
        }
        out.extend_from_slice(&1u32.to_le_bytes());
        s(&mut out, "decoder/projection/weight");
        s(&mut out, "decoder/embeddings/weight");
        out
    }
}

pub(super) fn tiny_model(key_bias: f32) -> Vec<u8> {
    let d = 4;
    let mut b = Ct2Builder { vars: Vec::new() };
    b.i16("encoder/num_heads", 2);
    b.i16("decoder/num_heads", 2);
    b.f16("encoder/conv1/weight", &[d, 2, 3], 0.0);
    b.f16("encoder/conv1/bias", &[d], 0.5);
    b.f16("encoder/conv2/weight", &[d, d, 3], 0.0);
    b.f16("encoder/conv2/bias", &[d], 0.5);
    b.f16("encoder/position_encodings/encodings", &[3, d], 1.0);
    b.f16("decoder/position_encodings/encodings", &[2, d], 2.0);
    b.f16("decoder/embeddings/weight", &[5, d], 3.0);
    for side in ["encoder", "decoder"] {
        let l = format!("{side}/layer_0");
        for ln in ["self_attention/layer_norm", "ffn/layer_norm"] {
            b.f16(&format!("{l}/{ln}/gamma"), &[d], 1.0);
            b.f16(&format!("{l}/{ln}/beta"), &[d], 0.0);
        }
        b.f16(
            &format!("{l}/self_attention/linear_0/weight"),
            &[3 * d, d],
            0.0,
        );
        // q bias 0..4, k bias zero, v bias 8..12 (in 1/64 steps from -1/16 shifted)
        let qkv_bias: Vec<u8> = (0..3 * d)
            .flat_map(|i| {
                let v = if (d..2 * d).contains(&i) {
                    key_bias
                } else {
                    i as f32
                };
                f32_to_f16(v).to_le_bytes()
            })
            .collect();
        b.vars.push((
            format!("{l}/self_attention/linear_0/bias"),
            vec![3 * d],
            4,
            qkv_bias,
        ));
        b.f16(&format!("{l}/self_attention/linear_1/weight"), &[d, d], 0.0);
        b.f16(&format!("{l}/self_attention/linear_1/bias"), &[d], 0.0);
        b.f16(&format!("{l}/ffn/linear_0/weight"), &[4 * d, d], 0.0);
        b.f16(&format!("{l}/ffn/linear_0/bias"), &[4 * d], 0.0);
        b.f16(&format!("{l}/ffn/linear_1/weight"), &[d, 4 * d], 0.0);
        b.f16(&format!("{l}/ffn/linear_1/bias"), &[d], 0.0);
        b.f16(&format!("{side}/layer_norm/gamma"), &[d], 1.0);
        b.f16(&format!("{side}/layer_norm/beta"), &[d], 0.0);
    }
    let l = "decoder/layer_0/attention";
    b.f16(&format!("{l}/layer_norm/gamma"), &[d], 1.0);
    b.f16(&format!("{l}/layer_norm/beta"), &[d], 0.0);
    b.f16(&format!("{l}/linear_0/weight"), &[d, d], 0.0);
    b.f16(&format!("{l}/linear_0/bias"), &[d], 0.0);
    b.f16(&format!("{l}/linear_1/weight"), &[2 * d, d], 0.0);
    let kv_bias: Vec<u8> = (0..2 * d)
        .flat_map(|i| f32_to_f16(if i < d { 0.0 } else { 7.0 }).to_le_bytes())
        .collect();
    b.vars
        .push((format!("{l}/linear_1/bias"), vec![2 * d], 4, kv_bias));
    b.f16(&format!("{l}/linear_2/weight"), &[d, d], 0.0);
    b.f16(&format!("{l}/linear_2/bias"), &[d], 0.0);
    b.bytes()
}

pub(super) const TINY_VOCAB: &str = "!\nĠa\nĊ\nÃ©\n<|endoftext|>\n<|startoftranscript|>\n";
