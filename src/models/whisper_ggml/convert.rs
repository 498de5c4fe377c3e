//! Writing the ggml file: CTranslate2's Whisper variables mapped, in a
//! fixed order, onto the tensors whisper.cpp's
//! `models/convert-pt-to-ggml.py` writes, after the header, the mel filters
//! and the vocabulary (`spec/models.md`, "Converting CTranslate2 Whisper to
//! ggml").

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;

use super::ConvertError;
use super::ctranslate2::{
    Ct2Dtype, Ct2Model, Ct2Variable, count_layers, dims2, element_f32, scalar, vocabulary_tokens,
};
use super::quantize::{FTYPE_Q8_0, Q8_0_BLOCK, Q8_0_BLOCK_BYTES, f32_to_f16, quantize_q8_0};
use crate::models::mel::{WHISPER_N_FFT, WHISPER_SAMPLE_RATE_HZ, mel_filterbank};

/// "ggml" as whisper.cpp reads it (a little-endian `u32`).
pub const GGML_MAGIC: u32 = 0x6767_6d6c;

/// Element type of a tensor in the ggml file (whisper.cpp's `ttype`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum GgmlType {
    F32 = 0,
    F16 = 1,
    /// Blocks of 32: an f16 scale and 32 signed bytes (ggml's `block_q8_0`).
    Q8_0 = 8,
}

/// How the large matrices are stored. whisper.cpp multiplies q8_0 weights
/// with integer dot products, several times faster on a CPU than f16; the
/// 3-D convolution weights stay f16 and the small tensors f32 either way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
pub enum WeightFormat {
    #[default]
    #[serde(rename = "f16")]
    F16,
    #[serde(rename = "q8_0")]
    Q8_0,
}

/// One output tensor: a run of elements of one CT2 variable.
struct OutTensor<'m, 'a> {
    name: String,
    /// numpy order (outermost first); written to the file reversed.
    shape: Vec<usize>,
    ttype: GgmlType,
    source: &'m Ct2Variable<'a>,
    first_element: usize,
}

/// Hyper-parameters written to the ggml header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WhisperHparams {
    pub n_vocab: i32,
    pub n_audio_ctx: i32,
    pub n_audio_state: i32,
    pub n_audio_head: i32,
    pub n_audio_layer: i32,
    pub n_text_ctx: i32,
    pub n_text_state: i32,
    pub n_text_head: i32,
    pub n_text_layer: i32,
    pub n_mels: i32,
    pub ftype: i32,
}

/// What a conversion wrote.
#[derive(Clone, Debug)]
pub struct ConversionSummary {
    pub hparams: WhisperHparams,
    pub n_tensors: usize,
    pub n_tokens: usize,
    pub bytes_written: u64,
}

struct Mapper<'m, 'a> {
    model: &'m Ct2Model<'a>,
    used: BTreeSet<String>,
    out: Vec<OutTensor<'m, 'a>>,
}

impl<'m, 'a> Mapper<'m, 'a> {
    fn var(&mut self, name: &str) -> Result<&'m Ct2Variable<'a>, ConvertError> {
        let v = self
            .model
            .variables
            .get(name)
            .ok_or_else(|| ConvertError::MissingVariable(name.to_string()))?;
        self.used.insert(name.to_string());
        Ok(v)
    }

    fn check_shape(name: &str, v: &Ct2Variable, expected: &[usize]) -> Result<(), ConvertError> {
        if v.shape
            .iter()
            .map(|&d| d as usize)
            .eq(expected.iter().copied())
        {
            Ok(())
        } else {
            Err(ConvertError::BadShape {
                name: name.to_string(),
                got: v.shape.clone(),
                expected: format!("{expected:?}"),
            })
        }
    }

    /// Copies a whole variable, checking its shape; `out_shape` may differ
    /// (conv biases become `(n, 1)`).
    fn whole(
        &mut self,
        ct2: &str,
        ggml: &str,
        shape: &[usize],
        out_shape: &[usize],
        ttype: GgmlType,
    ) -> Result<(), ConvertError> {
        let v = self.var(ct2)?;
        Self::check_shape(ct2, v, shape)?;
        self.push(ggml, out_shape, ttype, v, 0)
    }

    fn push(
        &mut self,
        ggml: &str,
        shape: &[usize],
        ttype: GgmlType,
        source: &'m Ct2Variable<'a>,
        first_element: usize,
    ) -> Result<(), ConvertError> {
        if !matches!(source.dtype, Ct2Dtype::F32 | Ct2Dtype::F16) {
            return Err(ConvertError::UnsupportedDtype {
                name: ggml.to_string(),
                code: source.dtype.code(),
            });
        }
        self.out.push(OutTensor {
            name: ggml.to_string(),
            shape: shape.to_vec(),
            ttype,
            source,
            first_element,
        });
        Ok(())
    }

    /// A linear layer `(rows, d)` copied whole.
    fn linear(&mut self, ct2: &str, ggml: &str, rows: usize, d: usize) -> Result<(), ConvertError> {
        self.whole(
            &format!("{ct2}/weight"),
            &format!("{ggml}.weight"),
            &[rows, d],
            &[rows, d],
            GgmlType::F16,
        )?;
        self.whole(
            &format!("{ct2}/bias"),
            &format!("{ggml}.bias"),
            &[rows],
            &[rows],
            GgmlType::F32,
        )
    }

    fn layer_norm(&mut self, ct2: &str, ggml: &str, d: usize) -> Result<(), ConvertError> {
        self.whole(
            &format!("{ct2}/gamma"),
            &format!("{ggml}.weight"),
            &[d],
            &[d],
            GgmlType::F32,
        )?;
        self.whole(
            &format!("{ct2}/beta"),
            &format!("{ggml}.bias"),
            &[d],
            &[d],
            GgmlType::F32,
        )
    }

    /// A fused projection `(parts.len() × d, d)`: each part takes `d` rows.
    /// A part named `key` gets no bias (whisper.cpp has none), so its bias
    /// must be zero.
    fn fused(
        &mut self,
        ct2: &str,
        ggml_prefix: &str,
        parts: &[&str],
        d: usize,
    ) -> Result<(), ConvertError> {
        let w_name = format!("{ct2}/weight");
        let b_name = format!("{ct2}/bias");
        let w = self.var(&w_name)?;
        Self::check_shape(&w_name, w, &[parts.len() * d, d])?;
        let b = self.var(&b_name)?;
        Self::check_shape(&b_name, b, &[parts.len() * d])?;
        for (i, part) in parts.iter().enumerate() {
            self.push(
                &format!("{ggml_prefix}.{part}.weight"),
                &[d, d],
                GgmlType::F16,
                w,
                i * d * d,
            )?;
            if *part == "key" {
                let zero = (i * d..(i + 1) * d).all(|e| element_f32(b, e) == 0.0);
                if !zero {
                    return Err(ConvertError::NonZeroKeyBias(b_name));
                }
            } else {
                self.push(
                    &format!("{ggml_prefix}.{part}.bias"),
                    &[d],
                    GgmlType::F32,
                    b,
                    i * d,
                )?;
            }
        }
        Ok(())
    }
}

/// Converts a parsed CT2 Whisper model plus its `vocabulary.txt` to ggml.
pub fn convert_ct2(
    model: &Ct2Model,
    vocabulary: &str,
    weights: WeightFormat,
    out: &mut impl Write,
) -> Result<ConversionSummary, ConvertError> {
    if model.spec_name != "WhisperSpec" {
        return Err(ConvertError::UnsupportedSpec(model.spec_name.clone()));
    }
    let (n_vocab, d) = dims2(model, "decoder/embeddings/weight")?;
    let (n_audio_ctx, d_enc) = dims2(model, "encoder/position_encodings/encodings")?;
    let (n_text_ctx, d_dec) = dims2(model, "decoder/position_encodings/encodings")?;
    if d_enc != d || d_dec != d {
        return Err(ConvertError::BadShape {
            name: "encoder/position_encodings/encodings".into(),
            got: vec![n_audio_ctx as u32, d_enc as u32],
            expected: format!("width {d} like the token embedding"),
        });
    }
    let conv1 = model
        .variables
        .get("encoder/conv1/weight")
        .ok_or_else(|| ConvertError::MissingVariable("encoder/conv1/weight".into()))?;
    let n_mels = match conv1.shape.as_slice() {
        &[out_ch, in_ch, 3] if out_ch as usize == d => in_ch as usize,
        _ => {
            return Err(ConvertError::BadShape {
                name: "encoder/conv1/weight".into(),
                got: conv1.shape.clone(),
                expected: format!("[{d}, n_mels, 3]"),
            });
        }
    };
    let n_audio_layer = count_layers(model, "encoder");
    let n_text_layer = count_layers(model, "decoder");
    let hparams = WhisperHparams {
        n_vocab: n_vocab as i32,
        n_audio_ctx: n_audio_ctx as i32,
        n_audio_state: d as i32,
        n_audio_head: scalar(model, "encoder/num_heads")? as i32,
        n_audio_layer: n_audio_layer as i32,
        n_text_ctx: n_text_ctx as i32,
        n_text_state: d as i32,
        n_text_head: scalar(model, "decoder/num_heads")? as i32,
        n_text_layer: n_text_layer as i32,
        n_mels: n_mels as i32,
        ftype: match weights {
            WeightFormat::F16 => 1,
            WeightFormat::Q8_0 => FTYPE_Q8_0,
        },
    };

    // Map every tensor, in a fixed order.
    let mut m = Mapper {
        model,
        used: BTreeSet::new(),
        out: Vec::new(),
    };
    m.whole(
        "encoder/position_encodings/encodings",
        "encoder.positional_embedding",
        &[n_audio_ctx, d],
        &[n_audio_ctx, d],
        GgmlType::F32,
    )?;
    m.whole(
        "encoder/conv1/weight",
        "encoder.conv1.weight",
        &[d, n_mels, 3],
        &[d, n_mels, 3],
        GgmlType::F16,
    )?;
    m.whole(
        "encoder/conv1/bias",
        "encoder.conv1.bias",
        &[d],
        &[d, 1],
        GgmlType::F32,
    )?;
    m.whole(
        "encoder/conv2/weight",
        "encoder.conv2.weight",
        &[d, d, 3],
        &[d, d, 3],
        GgmlType::F16,
    )?;
    m.whole(
        "encoder/conv2/bias",
        "encoder.conv2.bias",
        &[d],
        &[d, 1],
        GgmlType::F32,
    )?;
    for n in 0..n_audio_layer {
        let c = format!("encoder/layer_{n}");
        let g = format!("encoder.blocks.{n}");
        m.layer_norm(
            &format!("{c}/self_attention/layer_norm"),
            &format!("{g}.attn_ln"),
            d,
        )?;
        m.fused(
            &format!("{c}/self_attention/linear_0"),
            &format!("{g}.attn"),
            &["query", "key", "value"],
            d,
        )?;
        m.linear(
            &format!("{c}/self_attention/linear_1"),
            &format!("{g}.attn.out"),
            d,
            d,
        )?;
        m.layer_norm(&format!("{c}/ffn/layer_norm"), &format!("{g}.mlp_ln"), d)?;
        m.linear(
            &format!("{c}/ffn/linear_0"),
            &format!("{g}.mlp.0"),
            4 * d,
            d,
        )?;
        m.whole(
            &format!("{c}/ffn/linear_1/weight"),
            &format!("{g}.mlp.2.weight"),
            &[d, 4 * d],
            &[d, 4 * d],
            GgmlType::F16,
        )?;
        m.whole(
            &format!("{c}/ffn/linear_1/bias"),
            &format!("{g}.mlp.2.bias"),
            &[d],
            &[d],
            GgmlType::F32,
        )?;
    }
    m.layer_norm("encoder/layer_norm", "encoder.ln_post", d)?;
    m.whole(
        "decoder/position_encodings/encodings",
        "decoder.positional_embedding",
        &[n_text_ctx, d],
        &[n_text_ctx, d],
        GgmlType::F32,
    )?;
    m.whole(
        "decoder/embeddings/weight",
        "decoder.token_embedding.weight",
        &[n_vocab, d],
        &[n_vocab, d],
        GgmlType::F16,
    )?;
    for n in 0..n_text_layer {
        let c = format!("decoder/layer_{n}");
        let g = format!("decoder.blocks.{n}");
        m.layer_norm(
            &format!("{c}/self_attention/layer_norm"),
            &format!("{g}.attn_ln"),
            d,
        )?;
        m.fused(
            &format!("{c}/self_attention/linear_0"),
            &format!("{g}.attn"),
            &["query", "key", "value"],
            d,
        )?;
        m.linear(
            &format!("{c}/self_attention/linear_1"),
            &format!("{g}.attn.out"),
            d,
            d,
        )?;
        m.layer_norm(
            &format!("{c}/attention/layer_norm"),
            &format!("{g}.cross_attn_ln"),
            d,
        )?;
        m.linear(
            &format!("{c}/attention/linear_0"),
            &format!("{g}.cross_attn.query"),
            d,
            d,
        )?;
        m.fused(
            &format!("{c}/attention/linear_1"),
            &format!("{g}.cross_attn"),
            &["key", "value"],
            d,
        )?;
        m.linear(
            &format!("{c}/attention/linear_2"),
            &format!("{g}.cross_attn.out"),
            d,
            d,
        )?;
        m.layer_norm(&format!("{c}/ffn/layer_norm"), &format!("{g}.mlp_ln"), d)?;
        m.linear(
            &format!("{c}/ffn/linear_0"),
            &format!("{g}.mlp.0"),
            4 * d,
            d,
        )?;
        m.whole(
            &format!("{c}/ffn/linear_1/weight"),
            &format!("{g}.mlp.2.weight"),
            &[d, 4 * d],
            &[d, 4 * d],
            GgmlType::F16,
        )?;
        m.whole(
            &format!("{c}/ffn/linear_1/bias"),
            &format!("{g}.mlp.2.bias"),
            &[d],
            &[d],
            GgmlType::F32,
        )?;
    }
    m.layer_norm("decoder/layer_norm", "decoder.ln", d)?;

    // Anything with data left over means an architecture we do not know.
    for (name, v) in &model.variables {
        if !v.shape.is_empty() && !m.used.contains(name) {
            return Err(ConvertError::UnusedVariable(name.clone()));
        }
    }

    // Vocabulary: ids up to (not including) <|endoftext|>.
    let tokens = vocabulary_tokens(vocabulary)?;

    if weights == WeightFormat::Q8_0 {
        // Every matrix whisper.cpp creates with the weight type: the 2-D
        // f16 ones (the positional embeddings are f32, the convolutions 3-D).
        for t in m.out.iter_mut() {
            if t.ttype == GgmlType::F16 && t.shape.len() == 2 {
                if t.shape[1] % Q8_0_BLOCK != 0 {
                    return Err(ConvertError::NotQuantisable {
                        name: t.name.clone(),
                        row: t.shape[1],
                    });
                }
                t.ttype = GgmlType::Q8_0;
            }
        }
    }
    let mut w = CountingWriter {
        inner: out,
        written: 0,
    };
    let werr = |e| ConvertError::Io {
        path: PathBuf::from("<ggml output>"),
        source: e,
    };
    let h = &hparams;
    for v in [
        GGML_MAGIC as i32,
        h.n_vocab,
        h.n_audio_ctx,
        h.n_audio_state,
        h.n_audio_head,
        h.n_audio_layer,
        h.n_text_ctx,
        h.n_text_state,
        h.n_text_head,
        h.n_text_layer,
        h.n_mels,
        h.ftype,
    ] {
        w.write_all(&v.to_le_bytes()).map_err(werr)?;
    }
    let n_bins = WHISPER_N_FFT / 2 + 1;
    let filters = mel_filterbank(WHISPER_SAMPLE_RATE_HZ, WHISPER_N_FFT, n_mels);
    w.write_all(&(n_mels as i32).to_le_bytes()).map_err(werr)?;
    w.write_all(&(n_bins as i32).to_le_bytes()).map_err(werr)?;
    let mut buf = Vec::with_capacity(filters.len() * 4);
    filters
        .iter()
        .for_each(|f| buf.extend_from_slice(&f.to_le_bytes()));
    w.write_all(&buf).map_err(werr)?;
    w.write_all(&(tokens.len() as i32).to_le_bytes())
        .map_err(werr)?;
    for t in &tokens {
        w.write_all(&(t.len() as i32).to_le_bytes()).map_err(werr)?;
        w.write_all(t).map_err(werr)?;
    }
    for t in &m.out {
        write_tensor(&mut w, t).map_err(werr)?;
    }
    w.flush().map_err(werr)?;
    Ok(ConversionSummary {
        hparams,
        n_tensors: m.out.len(),
        n_tokens: tokens.len(),
        bytes_written: w.written,
    })
}

fn write_tensor(w: &mut impl Write, t: &OutTensor) -> std::io::Result<()> {
    w.write_all(&(t.shape.len() as i32).to_le_bytes())?;
    w.write_all(&(t.name.len() as i32).to_le_bytes())?;
    w.write_all(&(t.ttype as i32).to_le_bytes())?;
    for &dim in t.shape.iter().rev() {
        w.write_all(&(dim as i32).to_le_bytes())?;
    }
    w.write_all(t.name.as_bytes())?;
    let n: usize = t.shape.iter().product();
    let src = t.source;
    let first = t.first_element;
    match (src.dtype, t.ttype) {
        (Ct2Dtype::F16, GgmlType::F16) => w.write_all(&src.data[2 * first..2 * (first + n)]),
        (Ct2Dtype::F32, GgmlType::F32) => w.write_all(&src.data[4 * first..4 * (first + n)]),
        (_, GgmlType::F32) => {
            let mut buf = Vec::with_capacity(4 * n);
            (first..first + n)
                .for_each(|e| buf.extend_from_slice(&element_f32(src, e).to_le_bytes()));
            w.write_all(&buf)
        }
        (_, GgmlType::F16) => {
            let mut buf = Vec::with_capacity(2 * n);
            (first..first + n).for_each(|e| {
                buf.extend_from_slice(&f32_to_f16(element_f32(src, e)).to_le_bytes())
            });
            w.write_all(&buf)
        }
        (_, GgmlType::Q8_0) => {
            let row_len = *t.shape.last().unwrap_or(&n);
            let mut row = Vec::with_capacity(row_len);
            let mut buf = Vec::with_capacity(n / Q8_0_BLOCK * Q8_0_BLOCK_BYTES);
            for row_start in (first..first + n).step_by(row_len) {
                row.clear();
                row.extend((row_start..row_start + row_len).map(|e| element_f32(src, e)));
                quantize_q8_0(&row, &mut buf);
            }
            w.write_all(&buf)
        }
    }
}

struct CountingWriter<W> {
    inner: W,
    written: u64,
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::whisper_ggml::checks::{check_ggml_file, read_ggml_tensor_f32};
    use crate::models::whisper_ggml::ctranslate2::parse_ct2;
    use crate::models::whisper_ggml::test_model::{TINY_VOCAB, tiny_model};

    #[test]
    fn q8_0_needs_rows_of_whole_blocks() {
        let bytes = tiny_model(0.0);
        let model = parse_ct2(&bytes).unwrap();
        let err = convert_ct2(&model, TINY_VOCAB, WeightFormat::Q8_0, &mut Vec::new())
            .expect_err("rows of 4 cannot be q8_0");
        assert!(err.to_string().contains("multiple of 32"), "{err}");
    }

    #[test]
    fn converts_a_synthetic_model_to_the_whisper_cpp_layout() {
        let bytes = tiny_model(0.0);
        let model = parse_ct2(&bytes).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("tiny.bin");
        let mut f = std::fs::File::create(&out).unwrap();
        let summary = convert_ct2(&model, TINY_VOCAB, WeightFormat::F16, &mut f).unwrap();
        drop(f);
        assert_eq!(summary.n_tokens, 4);
        assert_eq!(
            summary.hparams,
            WhisperHparams {
                n_vocab: 5,
                n_audio_ctx: 3,
                n_audio_state: 4,
                n_audio_head: 2,
                n_audio_layer: 1,
                n_text_ctx: 2,
                n_text_state: 4,
                n_text_head: 2,
                n_text_layer: 1,
                n_mels: 2,
                ftype: 1
            }
        );
        let info = check_ggml_file(&out).unwrap();
        assert_eq!(info.n_mel_bins, 2);
        assert_eq!(info.n_fft_bins, 201);
        assert_eq!(info.n_tokens, 4);
        assert_eq!(info.tensors.len(), summary.n_tensors);
        let t = |name: &str| {
            info.tensors
                .iter()
                .find(|t| t.name == name)
                .unwrap_or_else(|| panic!("{name} missing"))
        };
        assert_eq!(t("encoder.conv1.weight").ne, vec![3, 2, 4]);
        assert_eq!(t("encoder.conv1.weight").ttype, 1);
        assert_eq!(t("encoder.conv1.bias").ne, vec![1, 4]);
        assert_eq!(t("encoder.conv1.bias").ttype, 0);
        assert_eq!(t("encoder.positional_embedding").ttype, 0);
        assert_eq!(t("decoder.token_embedding.weight").ne, vec![4, 5]);
        assert!(info.tensors.iter().all(|t| !t.name.contains("key.bias")));
        assert!(info.tensors.iter().all(|t| !t.name.contains("projection")));
        // q/k/v rows split in order: key weight starts at row d of linear_0.
        let key = read_ggml_tensor_f32(&out, t("encoder.blocks.0.attn.key.weight")).unwrap();
        assert_eq!(key[0], 16.0 / 64.0);
        let value_bias = read_ggml_tensor_f32(&out, t("decoder.blocks.0.attn.value.bias")).unwrap();
        assert_eq!(value_bias, vec![8.0, 9.0, 10.0, 11.0]);
        let cross_value_bias =
            read_ggml_tensor_f32(&out, t("decoder.blocks.0.cross_attn.value.bias")).unwrap();
        assert_eq!(cross_value_bias, vec![7.0; 4]);
        let pe = read_ggml_tensor_f32(&out, t("decoder.positional_embedding")).unwrap();
        assert_eq!(pe[1], 2.0 + 1.0 / 64.0);
        // Same input, same bytes.
        let mut again = Vec::new();
        convert_ct2(&model, TINY_VOCAB, WeightFormat::F16, &mut again).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), again);
        // The vocabulary went in as raw bytes.
        let raw = std::fs::read(&out).unwrap();
        let vocab_start = 4 * 12 + 8 + 4 * 2 * 201 + 4;
        assert_eq!(&raw[vocab_start..vocab_start + 4], &1i32.to_le_bytes());
        assert_eq!(raw[vocab_start + 4], b'!');
        assert_eq!(&raw[vocab_start + 5..vocab_start + 9], &2i32.to_le_bytes());
        assert_eq!(&raw[vocab_start + 9..vocab_start + 11], b" a");
        // A truncated file fails the structural check.
        std::fs::write(&out, &raw[..raw.len() - 1]).unwrap();
        assert!(matches!(
            check_ggml_file(&out),
            Err(ConvertError::BadGgml(_))
        ));
        std::fs::write(&out, b"not a model").unwrap();
        assert!(matches!(
            check_ggml_file(&out),
            Err(ConvertError::BadGgml(_))
        ));
    }

    #[test]
    fn rejects_what_whisper_cpp_could_not_represent() {
        let bytes = tiny_model(0.25);
        let model = parse_ct2(&bytes).unwrap();
        assert!(matches!(
            convert_ct2(&model, TINY_VOCAB, WeightFormat::F16, &mut Vec::new()),
            Err(ConvertError::NonZeroKeyBias(_))
        ));
        let bytes = tiny_model(0.0);
        let model = parse_ct2(&bytes).unwrap();
        assert!(matches!(
            convert_ct2(&model, "a\nb\n", WeightFormat::F16, &mut Vec::new()),
            Err(ConvertError::Vocabulary { .. })
        ));
        assert!(matches!(
            convert_ct2(
                &model,
                "a\n\u{4e00}\n<|endoftext|>\n",
                WeightFormat::F16,
                &mut Vec::new()
            ),
            Err(ConvertError::Vocabulary { line: 2, .. })
        ));
    }
}
