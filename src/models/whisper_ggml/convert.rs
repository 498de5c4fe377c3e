//! CTranslate2 Whisper → whisper.cpp ggml, in Rust.
//!
//! The only Whisper weights a package registry offers us are in
//! CTranslate2 format; whisper.cpp wants its own ggml file, the layout that
//! whisper.cpp's `models/convert-pt-to-ggml.py` writes. The mapping, the
//! dtypes and the header are documented in `spec/models.md` ("Converting
//! CTranslate2 Whisper to ggml"). The output is a pure function of the input
//! bytes (fixed tensor order, no timestamps), so its SHA-256 can be pinned.
//!
//! [`check_ggml_file`] walks a ggml file's structure without loading it, so
//! a truncated or foreign file is rejected with a clear message before
//! whisper.cpp ever sees it.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// "ggml" as whisper.cpp reads it (a little-endian `u32`).
pub const GGML_MAGIC: u32 = 0x6767_6d6c;
/// Whisper's audio front end: 16 kHz, 400-sample FFT, 80 mel bands.
pub const WHISPER_SAMPLE_RATE_HZ: u32 = 16_000;
pub const WHISPER_N_FFT: usize = 400;

#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("CTranslate2 model is truncated at byte {offset} while reading {what}")]
    Truncated { offset: usize, what: String },
    #[error("CTranslate2 model has binary version {0}; this converter reads versions 5 and 6")]
    UnsupportedVersion(u32),
    #[error("CTranslate2 model is a {0:?}, not a WhisperSpec")]
    UnsupportedSpec(String),
    #[error(
        "CTranslate2 variable {name} has dtype code {code}, which this converter cannot convert (only f32 and f16)"
    )]
    UnsupportedDtype { name: String, code: u8 },
    #[error("CTranslate2 model lacks the variable {0}")]
    MissingVariable(String),
    #[error("CTranslate2 variable {name} has shape {got:?}, expected {expected}")]
    BadShape {
        name: String,
        got: Vec<u32>,
        expected: String,
    },
    #[error("CTranslate2 variable {0} has a non-zero key bias, which whisper.cpp cannot represent")]
    NonZeroKeyBias(String),
    #[error(
        "CTranslate2 variable {0} has no place in whisper.cpp's layout (unsupported model architecture?)"
    )]
    UnusedVariable(String),
    #[error("tensor {name} has rows of {row} values; q8_0 needs a multiple of 32")]
    NotQuantisable { name: String, row: usize },
    #[error("vocabulary line {line}: {reason}")]
    Vocabulary { line: usize, reason: String },
    #[error("not a whisper ggml file: {0}")]
    BadGgml(String),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ConvertError + '_ {
    move |source| ConvertError::Io {
        path: path.to_path_buf(),
        source,
    }
}

// ---------------------------------------------------------------------------
// CTranslate2 model.bin

/// Element types of CTranslate2 variables (the codes in `model.bin`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ct2Dtype {
    F32,
    I8,
    I16,
    I32,
    F16,
    Bf16,
}

impl Ct2Dtype {
    fn from_code(code: u8) -> Option<Ct2Dtype> {
        Some(match code {
            0 => Ct2Dtype::F32,
            1 => Ct2Dtype::I8,
            2 => Ct2Dtype::I16,
            3 => Ct2Dtype::I32,
            4 => Ct2Dtype::F16,
            5 => Ct2Dtype::Bf16,
            _ => return None,
        })
    }

    pub fn code(self) -> u8 {
        match self {
            Ct2Dtype::F32 => 0,
            Ct2Dtype::I8 => 1,
            Ct2Dtype::I16 => 2,
            Ct2Dtype::I32 => 3,
            Ct2Dtype::F16 => 4,
            Ct2Dtype::Bf16 => 5,
        }
    }

    pub fn size_bytes(self) -> usize {
        match self {
            Ct2Dtype::I8 => 1,
            Ct2Dtype::I16 | Ct2Dtype::F16 | Ct2Dtype::Bf16 => 2,
            Ct2Dtype::F32 | Ct2Dtype::I32 => 4,
        }
    }
}

/// One variable of a CTranslate2 model; `data` borrows the file's bytes.
#[derive(Clone, Debug)]
pub struct Ct2Variable<'a> {
    pub shape: Vec<u32>,
    pub dtype: Ct2Dtype,
    pub data: &'a [u8],
}

impl Ct2Variable<'_> {
    pub fn n_elements(&self) -> usize {
        self.shape.iter().map(|&d| d as usize).product()
    }

    /// The value of an integer scalar (e.g. `encoder/num_heads`).
    fn scalar_int(&self) -> Option<i64> {
        let b = self.data;
        match self.dtype {
            Ct2Dtype::I8 if b.len() == 1 => Some(b[0] as i8 as i64),
            Ct2Dtype::I16 if b.len() == 2 => Some(i16::from_le_bytes([b[0], b[1]]) as i64),
            Ct2Dtype::I32 if b.len() == 4 => {
                Some(i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64)
            }
            _ => None,
        }
    }
}

/// A parsed CTranslate2 `model.bin`.
#[derive(Debug)]
pub struct Ct2Model<'a> {
    pub binary_version: u32,
    pub spec_name: String,
    pub spec_revision: u32,
    pub variables: BTreeMap<String, Ct2Variable<'a>>,
    /// alias → target (e.g. the tied output projection).
    pub aliases: BTreeMap<String, String>,
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], ConvertError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        match end {
            Some(end) => {
                let out = &self.bytes[self.pos..end];
                self.pos = end;
                Ok(out)
            }
            None => Err(ConvertError::Truncated {
                offset: self.pos,
                what: what.to_string(),
            }),
        }
    }
    fn u8(&mut self, what: &str) -> Result<u8, ConvertError> {
        Ok(self.take(1, what)?[0])
    }
    fn u16(&mut self, what: &str) -> Result<u16, ConvertError> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self, what: &str) -> Result<u32, ConvertError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// `u16` length including a trailing NUL, then the bytes.
    fn string(&mut self, what: &str) -> Result<String, ConvertError> {
        let len = self.u16(what)? as usize;
        let raw = self.take(len, what)?;
        let raw = raw.strip_suffix(&[0]).unwrap_or(raw);
        Ok(String::from_utf8_lossy(raw).into_owned())
    }
}

/// Parses a CTranslate2 `model.bin` (binary versions 5 and 6).
pub fn parse_ct2(bytes: &[u8]) -> Result<Ct2Model<'_>, ConvertError> {
    let mut c = Cursor { bytes, pos: 0 };
    let binary_version = c.u32("the binary version")?;
    if !(5..=6).contains(&binary_version) {
        return Err(ConvertError::UnsupportedVersion(binary_version));
    }
    let spec_name = c.string("the model name")?;
    let spec_revision = c.u32("the spec revision")?;
    let n_variables = c.u32("the variable count")?;
    let mut variables = BTreeMap::new();
    for i in 0..n_variables {
        let what = format!("variable {i}");
        let name = c.string(&what)?;
        let rank = c.u8(&what)?;
        let mut shape = Vec::with_capacity(rank as usize);
        for _ in 0..rank {
            shape.push(c.u32(&what)?);
        }
        let code = c.u8(&what)?;
        let dtype = Ct2Dtype::from_code(code).ok_or_else(|| ConvertError::UnsupportedDtype {
            name: name.clone(),
            code,
        })?;
        let n_bytes = c.u32(&what)? as usize;
        let expected_bytes =
            shape.iter().map(|&d| d as usize).product::<usize>() * dtype.size_bytes();
        if n_bytes != expected_bytes {
            return Err(ConvertError::BadShape {
                name,
                got: shape,
                expected: format!("{n_bytes} bytes of data to match the shape"),
            });
        }
        let data = c.take(n_bytes, &what)?;
        variables.insert(name, Ct2Variable { shape, dtype, data });
    }
    let mut aliases = BTreeMap::new();
    if c.pos < bytes.len() {
        let n_aliases = c.u32("the alias count")?;
        for _ in 0..n_aliases {
            let alias = c.string("an alias")?;
            let target = c.string("an alias target")?;
            aliases.insert(alias, target);
        }
    }
    Ok(Ct2Model {
        binary_version,
        spec_name,
        spec_revision,
        variables,
        aliases,
    })
}

// ---------------------------------------------------------------------------
// Half precision, done by hand to avoid a dependency for two functions.

/// IEEE 754 binary16 → binary32 (exact).
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h as u32) & 0x8000) << 16;
    let exp = ((h >> 10) & 0x1f) as u32;
    let mant = (h & 0x3ff) as u32;
    let bits = match (exp, mant) {
        (0, 0) => sign,
        (0, _) => {
            // Subnormal: normalise.
            let mut e: i32 = -14;
            let mut m = mant;
            while m & 0x400 == 0 {
                m <<= 1;
                e -= 1;
            }
            sign | (((e + 127) as u32) << 23) | ((m & 0x3ff) << 13)
        }
        (0x1f, 0) => sign | 0x7f80_0000,
        (0x1f, _) => sign | 0x7fc0_0000 | (mant << 13),
        _ => sign | ((exp + 112) << 23) | (mant << 13),
    };
    f32::from_bits(bits)
}

/// IEEE 754 binary32 → binary16, round to nearest even.
pub fn f32_to_f16(f: f32) -> u16 {
    let x = f.to_bits();
    let sign = ((x >> 16) & 0x8000) as u16;
    let exp = ((x >> 23) & 0xff) as i32;
    let mant = x & 0x7f_ffff;
    if exp == 0xff {
        return sign | 0x7c00 | if mant != 0 { 0x200 } else { 0 };
    }
    let e = exp - 127 + 15;
    if e >= 0x1f {
        return sign | 0x7c00;
    }
    if e <= 0 {
        if e < -10 {
            return sign;
        }
        let m = mant | 0x80_0000;
        let shift = (14 - e) as u32;
        let half = 1u32 << (shift - 1);
        let rest = m & ((1 << shift) - 1);
        let mut out = m >> shift;
        if rest > half || (rest == half && out & 1 == 1) {
            out += 1;
        }
        return sign | out as u16;
    }
    let mut out = ((e as u32) << 10) | (mant >> 13);
    let rest = mant & 0x1fff;
    if rest > 0x1000 || (rest == 0x1000 && out & 1 == 1) {
        out += 1; // may carry into the exponent, which is the right answer
    }
    sign | out as u16
}

// ---------------------------------------------------------------------------
// Mel filterbank (Slaney), as librosa.filters.mel(sr, n_fft, n_mels).

fn hz_to_mel_slaney(hz: f64) -> f64 {
    let f_sp = 200.0 / 3.0;
    let min_log_hz = 1000.0;
    let min_log_mel = min_log_hz / f_sp;
    let logstep = 6.4f64.ln() / 27.0;
    if hz >= min_log_hz {
        min_log_mel + (hz / min_log_hz).ln() / logstep
    } else {
        hz / f_sp
    }
}

fn mel_to_hz_slaney(mel: f64) -> f64 {
    let f_sp = 200.0 / 3.0;
    let min_log_hz = 1000.0;
    let min_log_mel = min_log_hz / f_sp;
    let logstep = 6.4f64.ln() / 27.0;
    if mel >= min_log_mel {
        min_log_hz * (logstep * (mel - min_log_mel)).exp()
    } else {
        f_sp * mel
    }
}

/// Row-major `n_mels × (n_fft/2 + 1)` triangular filters with Slaney's
/// mel scale and area normalisation, from 0 Hz to Nyquist. The arithmetic
/// follows librosa step by step, including its rounding to f32 before the
/// normalisation, so the values match librosa's float32 output.
pub fn mel_filterbank(sample_rate_hz: u32, n_fft: usize, n_mels: usize) -> Vec<f32> {
    let n_bins = n_fft / 2 + 1;
    let sr = sample_rate_hz as f64;
    // np.fft.rfftfreq(n_fft, d=1/sr)
    let bin_hz = 1.0 / (n_fft as f64 * (1.0 / sr));
    let fft_freqs: Vec<f64> = (0..n_bins).map(|i| i as f64 * bin_hz).collect();
    // mel_frequencies(n_mels + 2, fmin=0, fmax=sr/2): np.linspace in mel, back to Hz.
    let min_mel = hz_to_mel_slaney(0.0);
    let max_mel = hz_to_mel_slaney(sr / 2.0);
    let n_points = n_mels + 2;
    let step = (max_mel - min_mel) / (n_points - 1) as f64;
    let mel_f: Vec<f64> = (0..n_points)
        .map(|i| {
            let mel = if i == n_points - 1 {
                max_mel
            } else {
                i as f64 * step + min_mel
            };
            mel_to_hz_slaney(mel)
        })
        .collect();
    let mut weights = vec![0f32; n_mels * n_bins];
    for i in 0..n_mels {
        let fdiff_lo = mel_f[i + 1] - mel_f[i];
        let fdiff_hi = mel_f[i + 2] - mel_f[i + 1];
        let enorm = 2.0 / (mel_f[i + 2] - mel_f[i]);
        for (j, &f) in fft_freqs.iter().enumerate() {
            let lower = -(mel_f[i] - f) / fdiff_lo;
            let upper = (mel_f[i + 2] - f) / fdiff_hi;
            // np.maximum(0, x) keeps x = -0.0 (it happens at 0 Hz); so do we,
            // to match librosa bit for bit.
            let w = lower.min(upper);
            let w = if w < 0.0 { 0.0 } else { w as f32 };
            weights[i * n_bins + j] = (w as f64 * enorm) as f32;
        }
    }
    weights
}

// ---------------------------------------------------------------------------
// GPT-2 byte-level vocabulary

/// GPT-2's `bytes_to_unicode`: printable bytes map to themselves, the rest
/// to code points from 256 up, in byte order.
pub fn gpt2_byte_to_char() -> [char; 256] {
    let mut table = ['\0'; 256];
    let printable = |b: u32| {
        (0x21..=0x7e).contains(&b) || (0xa1..=0xac).contains(&b) || (0xae..=0xff).contains(&b)
    };
    let mut n = 0;
    for b in 0..256u32 {
        let c = if printable(b) {
            b
        } else {
            n += 1;
            255 + n
        };
        table[b as usize] = char::from_u32(c).expect("code points below 512 are valid");
    }
    table
}

/// Turns one `vocabulary.txt` token back into the raw bytes it stands for.
pub fn decode_gpt2_token(token: &str, char_to_byte: &BTreeMap<char, u8>) -> Result<Vec<u8>, char> {
    token
        .chars()
        .map(|c| char_to_byte.get(&c).copied().ok_or(c))
        .collect()
}

fn gpt2_char_to_byte() -> BTreeMap<char, u8> {
    gpt2_byte_to_char()
        .iter()
        .enumerate()
        .map(|(b, &c)| (c, b as u8))
        .collect()
}

// ---------------------------------------------------------------------------
// The conversion

/// Element type of a tensor in the ggml file (whisper.cpp's `ttype`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum GgmlType {
    F32 = 0,
    F16 = 1,
    /// Blocks of 32: an f16 scale and 32 signed bytes (ggml's `block_q8_0`).
    Q8_0 = 8,
}

/// Elements per `block_q8_0`, and the block's size in bytes.
const Q8_0_BLOCK: usize = 32;
const Q8_0_BLOCK_BYTES: usize = 2 + Q8_0_BLOCK;
/// ggml's `GGML_FTYPE_MOSTLY_Q8_0`, stored with its quantisation version
/// (`GGML_QNT_VERSION` 2 × `GGML_QNT_VERSION_FACTOR` 1000).
const FTYPE_Q8_0: i32 = 7 + 2 * 1000;

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

fn element_f32(v: &Ct2Variable, index: usize) -> f32 {
    match v.dtype {
        Ct2Dtype::F16 => f16_to_f32(u16::from_le_bytes([
            v.data[2 * index],
            v.data[2 * index + 1],
        ])),
        Ct2Dtype::F32 => {
            let b = &v.data[4 * index..4 * index + 4];
            f32::from_le_bytes([b[0], b[1], b[2], b[3]])
        }
        _ => f32::NAN,
    }
}

/// Number of `prefix/layer_N/` blocks (`prefix/layer_norm` does not count).
fn count_layers(model: &Ct2Model, prefix: &str) -> usize {
    let mut layers = BTreeSet::new();
    let start = format!("{prefix}/layer_");
    for name in model.variables.keys() {
        if let Some(rest) = name.strip_prefix(&start) {
            let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            if !digits.is_empty()
                && rest[digits.len()..].starts_with('/')
                && let Ok(n) = digits.parse::<usize>()
            {
                layers.insert(n);
            }
        }
    }
    layers.len()
}

fn scalar(model: &Ct2Model, name: &str) -> Result<i64, ConvertError> {
    let v = model
        .variables
        .get(name)
        .ok_or_else(|| ConvertError::MissingVariable(name.to_string()))?;
    v.scalar_int().ok_or_else(|| ConvertError::BadShape {
        name: name.to_string(),
        got: v.shape.clone(),
        expected: "an integer scalar".into(),
    })
}

fn dims2(model: &Ct2Model, name: &str) -> Result<(usize, usize), ConvertError> {
    let v = model
        .variables
        .get(name)
        .ok_or_else(|| ConvertError::MissingVariable(name.to_string()))?;
    match v.shape.as_slice() {
        &[a, b] => Ok((a as usize, b as usize)),
        _ => Err(ConvertError::BadShape {
            name: name.to_string(),
            got: v.shape.clone(),
            expected: "2 dimensions".into(),
        }),
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
    let lines: Vec<&str> = vocabulary
        .strip_suffix('\n')
        .unwrap_or(vocabulary)
        .split('\n')
        .collect();
    let n_tokens = lines
        .iter()
        .position(|&l| l == "<|endoftext|>")
        .ok_or_else(|| ConvertError::Vocabulary {
            line: lines.len(),
            reason: "no <|endoftext|> token".into(),
        })?;
    let char_to_byte = gpt2_char_to_byte();
    let mut tokens = Vec::with_capacity(n_tokens);
    for (i, line) in lines[..n_tokens].iter().enumerate() {
        let bytes =
            decode_gpt2_token(line, &char_to_byte).map_err(|c| ConvertError::Vocabulary {
                line: i + 1,
                reason: format!("character U+{:04X} is not in GPT-2's byte table", c as u32),
            })?;
        tokens.push(bytes);
    }

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

/// Converts `ct2_dir/{model.bin,vocabulary.txt}` into `out_path`, writing a
/// temporary file beside it and renaming it into place, so a crash never
/// leaves a half-written model under the final name.
pub fn convert_ct2_dir(
    ct2_dir: &Path,
    weights: WeightFormat,
    out_path: &Path,
) -> Result<ConversionSummary, ConvertError> {
    let model_path = ct2_dir.join("model.bin");
    let vocab_path = ct2_dir.join("vocabulary.txt");
    let model_bytes = std::fs::read(&model_path).map_err(io_err(&model_path))?;
    let vocabulary = std::fs::read_to_string(&vocab_path).map_err(io_err(&vocab_path))?;
    let model = parse_ct2(&model_bytes)?;
    if let Some(parent) = out_path.parent() {
        std::fs::create_dir_all(parent).map_err(io_err(parent))?;
    }
    let tmp = partial_path(out_path);
    let file = std::fs::File::create(&tmp).map_err(io_err(&tmp))?;
    let mut writer = std::io::BufWriter::with_capacity(1 << 20, file);
    let summary = convert_ct2(&model, &vocabulary, weights, &mut writer)?;
    let file = writer.into_inner().map_err(|e| ConvertError::Io {
        path: tmp.clone(),
        source: e.into_error(),
    })?;
    file.sync_all().map_err(io_err(&tmp))?;
    std::fs::rename(&tmp, out_path).map_err(io_err(out_path))?;
    Ok(summary)
}

/// `<path>.partial`: where files are written before being renamed into place.
pub fn partial_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".partial");
    path.with_file_name(name)
}

// ---------------------------------------------------------------------------
// Structural check of a ggml file

/// What [`check_ggml_file`] found.
#[derive(Clone, Debug)]
pub struct GgmlInfo {
    pub hparams: WhisperHparams,
    pub n_mel_bins: i32,
    pub n_fft_bins: i32,
    pub n_tokens: i32,
    pub tensors: Vec<GgmlTensorInfo>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GgmlTensorInfo {
    pub name: String,
    /// ggml order (innermost first), as stored.
    pub ne: Vec<i32>,
    /// 0 f32, 1 f16, 8 q8_0.
    pub ttype: i32,
    /// Byte offset of the data in the file.
    pub data_offset: u64,
}

/// Walks a whisper ggml file — header, filters, vocabulary and every
/// tensor's header — without reading tensor data, and checks that the file
/// ends exactly where the last tensor does. Catches truncation, foreign
/// files and absurd sizes before whisper.cpp (which trusts its input) runs.
pub fn check_ggml_file(path: &Path) -> Result<GgmlInfo, ConvertError> {
    let file = std::fs::File::open(path).map_err(io_err(path))?;
    let file_len = file.metadata().map_err(io_err(path))?.len();
    let mut r = std::io::BufReader::new(file);
    let bad = |m: String| ConvertError::BadGgml(m);
    let mut pos: u64 = 0;
    let read_i32 = |r: &mut std::io::BufReader<std::fs::File>,
                    pos: &mut u64,
                    what: &str|
     -> Result<i32, ConvertError> {
        let mut b = [0u8; 4];
        r.read_exact(&mut b).map_err(|_| {
            ConvertError::BadGgml(format!("file ends at byte {pos} while reading {what}"))
        })?;
        *pos += 4;
        Ok(i32::from_le_bytes(b))
    };
    let magic = read_i32(&mut r, &mut pos, "the magic number")? as u32;
    if magic != GGML_MAGIC {
        return Err(bad(format!(
            "bad magic number {magic:#010x} (expected {GGML_MAGIC:#010x})"
        )));
    }
    let mut hp = [0i32; 11];
    for v in hp.iter_mut() {
        *v = read_i32(&mut r, &mut pos, "the header")?;
    }
    let hparams = WhisperHparams {
        n_vocab: hp[0],
        n_audio_ctx: hp[1],
        n_audio_state: hp[2],
        n_audio_head: hp[3],
        n_audio_layer: hp[4],
        n_text_ctx: hp[5],
        n_text_state: hp[6],
        n_text_head: hp[7],
        n_text_layer: hp[8],
        n_mels: hp[9],
        ftype: hp[10],
    };
    if hp.iter().take(10).any(|&v| !(1..=1 << 20).contains(&v))
        || ![0, 1, FTYPE_Q8_0].contains(&hparams.ftype)
    {
        return Err(bad(format!("implausible header {hparams:?}")));
    }
    let n_mel_bins = read_i32(&mut r, &mut pos, "the filterbank size")?;
    let n_fft_bins = read_i32(&mut r, &mut pos, "the filterbank size")?;
    if !(1..=512).contains(&n_mel_bins) || !(1..=4096).contains(&n_fft_bins) {
        return Err(bad(format!(
            "implausible filterbank size {n_mel_bins}×{n_fft_bins}"
        )));
    }
    let skip = |r: &mut std::io::BufReader<std::fs::File>,
                pos: &mut u64,
                n: u64,
                what: &str|
     -> Result<(), ConvertError> {
        if *pos + n > file_len {
            return Err(ConvertError::BadGgml(format!(
                "file ends inside {what} (needs {} bytes, has {file_len})",
                *pos + n
            )));
        }
        r.seek_relative(n as i64)
            .map_err(|e| ConvertError::BadGgml(format!("seeking past {what}: {e}")))?;
        *pos += n;
        Ok(())
    };
    skip(
        &mut r,
        &mut pos,
        4 * n_mel_bins as u64 * n_fft_bins as u64,
        "the filterbank",
    )?;
    let n_tokens = read_i32(&mut r, &mut pos, "the vocabulary size")?;
    if !(0..=hparams.n_vocab).contains(&n_tokens) {
        return Err(bad(format!(
            "vocabulary of {n_tokens} tokens for n_vocab {}",
            hparams.n_vocab
        )));
    }
    for i in 0..n_tokens {
        let len = read_i32(&mut r, &mut pos, "the vocabulary")?;
        if !(0..=1024).contains(&len) {
            return Err(bad(format!("token {i} has length {len}")));
        }
        skip(&mut r, &mut pos, len as u64, "the vocabulary")?;
    }
    let mut tensors = Vec::new();
    while pos < file_len {
        let n_dims = read_i32(&mut r, &mut pos, "a tensor header")?;
        let name_len = read_i32(&mut r, &mut pos, "a tensor header")?;
        let ttype = read_i32(&mut r, &mut pos, "a tensor header")?;
        if !(1..=4).contains(&n_dims)
            || !(1..=256).contains(&name_len)
            || ![0, 1, 8].contains(&ttype)
        {
            return Err(bad(format!(
                "tensor {} has a bad header (dims {n_dims}, name length {name_len}, type {ttype})",
                tensors.len()
            )));
        }
        let mut ne = Vec::with_capacity(n_dims as usize);
        for _ in 0..n_dims {
            let d = read_i32(&mut r, &mut pos, "a tensor shape")?;
            if !(1..=1 << 24).contains(&d) {
                return Err(bad(format!("tensor {} has dimension {d}", tensors.len())));
            }
            ne.push(d);
        }
        let mut name = vec![0u8; name_len as usize];
        r.read_exact(&mut name).map_err(|_| {
            bad(format!(
                "file ends inside the name of tensor {}",
                tensors.len()
            ))
        })?;
        pos += name_len as u64;
        let name = String::from_utf8_lossy(&name).into_owned();
        if ttype == GgmlType::Q8_0 as i32 && !(ne[0] as usize).is_multiple_of(Q8_0_BLOCK) {
            return Err(bad(format!(
                "q8_0 tensor {name} has rows of {} (not whole blocks)",
                ne[0]
            )));
        }
        let n_elements: u64 = ne.iter().map(|&d| d as u64).product();
        let n_bytes = tensor_bytes(ttype, n_elements as usize) as u64;
        let data_offset = pos;
        skip(&mut r, &mut pos, n_bytes, &format!("tensor {name}"))?;
        tensors.push(GgmlTensorInfo {
            name,
            ne,
            ttype,
            data_offset,
        });
    }
    let expected = 11 + 15 * hparams.n_audio_layer as usize + 24 * hparams.n_text_layer as usize;
    if tensors.len() != expected {
        return Err(bad(format!(
            "{} tensors, whisper.cpp expects {expected} for this header",
            tensors.len()
        )));
    }
    Ok(GgmlInfo {
        hparams,
        n_mel_bins,
        n_fft_bins,
        n_tokens,
        tensors,
    })
}

/// Bytes of `n` elements of a tensor of type `ttype` (0 f32, 1 f16, 8 q8_0
/// in whole blocks; [`check_ggml_file`] admits no other).
fn tensor_bytes(ttype: i32, n: usize) -> usize {
    match ttype {
        0 => n * 4,
        1 => n * 2,
        _ => n / Q8_0_BLOCK * Q8_0_BLOCK_BYTES,
    }
}

/// Reads one tensor's data as f32 (tests and diagnostics).
pub fn read_ggml_tensor_f32(
    path: &Path,
    tensor: &GgmlTensorInfo,
) -> Result<Vec<f32>, ConvertError> {
    let mut file = std::fs::File::open(path).map_err(io_err(path))?;
    file.seek(SeekFrom::Start(tensor.data_offset))
        .map_err(io_err(path))?;
    let n: usize = tensor.ne.iter().map(|&d| d as usize).product();
    let mut buf = vec![0u8; tensor_bytes(tensor.ttype, n)];
    file.read_exact(&mut buf).map_err(io_err(path))?;
    Ok(if tensor.ttype == 8 {
        dequantize_q8_0(&buf)
    } else if tensor.ttype == 0 {
        buf.chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    } else {
        buf.chunks_exact(2)
            .map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]])))
            .collect()
    })
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

    /// Reference values from librosa 0.11.0,
    /// `librosa.filters.mel(sr=16000, n_fft=400, n_mels=80)` (float32).
    #[test]
    fn mel_filterbank_matches_librosa() {
        let m = mel_filterbank(16_000, 400, 80);
        assert_eq!(m.len(), 80 * 201);
        let at = |i: usize, j: usize| m[i * 201 + j];
        let expected: &[(usize, usize, f32)] = &[
            (0, 1, 0.024_862_595),
            (1, 1, 0.001_990_822),
            (1, 2, 0.022_871_772),
            (5, 6, 0.014_908_484),
            (20, 19, 0.010_972_2),
            (40, 43, 0.014_735_566),
            (60, 93, 0.006_591_093),
            (79, 186, 0.000_366_741_67),
            (79, 192, 0.003_164_711_9),
            (79, 199, 0.000_448_759),
        ];
        for &(i, j, v) in expected {
            assert!(
                (at(i, j) - v).abs() <= v * 1e-6,
                "mel[{i}][{j}] = {} expected {v}",
                at(i, j)
            );
        }
        for &(i, j) in &[(0, 0), (0, 2), (10, 20), (79, 200), (79, 185)] {
            assert_eq!(at(i, j), 0.0, "mel[{i}][{j}]");
        }
        assert_eq!(m.iter().filter(|&&v| v != 0.0).count(), 391);
        let sum: f64 = m.iter().map(|&v| v as f64).sum();
        assert!((sum - 1.999_024_092_387_117).abs() < 1e-9, "sum {sum}");
        // The whole matrix, bit for bit, as little-endian f32.
        use sha2::Digest;
        let bytes: Vec<u8> = m.iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(
            hex::encode(sha2::Sha256::digest(&bytes)),
            "4f2701b1d287d74a0dc9871026e9519d98cb76426615f2539b0d151a0ae4ec2e"
        );
    }

    #[test]
    fn gpt2_byte_table_inverts() {
        let table = gpt2_byte_to_char();
        let inverse = gpt2_char_to_byte();
        assert_eq!(inverse.len(), 256, "the table is a bijection");
        assert_eq!(table[b'a' as usize], 'a');
        assert_eq!(table[b' ' as usize], 'Ġ');
        assert_eq!(table[b'\n' as usize], 'Ċ');
        assert_eq!(table[0], 'Ā');
        assert_eq!(table[0xad], 'Ń');
        assert_eq!(
            decode_gpt2_token("Ġinformants", &inverse).unwrap(),
            b" informants"
        );
        assert_eq!(decode_gpt2_token("ĊĊ", &inverse).unwrap(), b"\n\n");
        // "é" is two UTF-8 bytes, each its own symbol: Ã (0xc3) © (0xa9).
        assert_eq!(decode_gpt2_token("Ã©", &inverse).unwrap(), "é".as_bytes());
        assert_eq!(decode_gpt2_token("a\u{4e00}", &inverse), Err('\u{4e00}'));
    }

    // A tiny synthetic CT2 Whisper: d = 4, 1 + 1 layers, 2 mels.
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

    fn tiny_model(key_bias: f32) -> Vec<u8> {
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

    const TINY_VOCAB: &str = "!\nĠa\nĊ\nÃ©\n<|endoftext|>\n<|startoftranscript|>\n";

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

    #[test]
    fn q8_0_needs_rows_of_whole_blocks() {
        let bytes = tiny_model(0.0);
        let model = parse_ct2(&bytes).unwrap();
        let err = convert_ct2(&model, TINY_VOCAB, WeightFormat::Q8_0, &mut Vec::new())
            .expect_err("rows of 4 cannot be q8_0");
        assert!(err.to_string().contains("multiple of 32"), "{err}");
    }

    #[test]
    fn parses_a_synthetic_ct2_file() {
        let bytes = tiny_model(0.0);
        let model = parse_ct2(&bytes).unwrap();
        assert_eq!(model.binary_version, 6);
        assert_eq!(model.spec_name, "WhisperSpec");
        assert_eq!(model.spec_revision, 3);
        let conv = &model.variables["encoder/conv1/weight"];
        assert_eq!(conv.shape, vec![4, 2, 3]);
        assert_eq!(conv.dtype, Ct2Dtype::F16);
        assert_eq!(element_f32(conv, 1), 1.0 / 64.0);
        assert_eq!(model.variables["encoder/num_heads"].scalar_int(), Some(2));
        assert_eq!(
            model.aliases["decoder/projection/weight"],
            "decoder/embeddings/weight"
        );
        assert_eq!(count_layers(&model, "encoder"), 1);
        // Truncation anywhere is an error, never a panic.
        for cut in [0, 3, 10, 40, bytes.len() / 2, bytes.len() - 3] {
            assert!(parse_ct2(&bytes[..cut]).is_err(), "cut at {cut}");
        }
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
