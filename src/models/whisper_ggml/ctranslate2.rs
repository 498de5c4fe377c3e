//! Reading CTranslate2's Whisper files: the variables of `model.bin`
//! (binary versions 5 and 6; the data stays borrowed from the file's bytes)
//! and the GPT-2 byte-level tokens of `vocabulary.txt`. `config.json` holds
//! nothing the ggml file needs.

use std::collections::{BTreeMap, BTreeSet};

use super::ConvertError;
use super::quantize::f16_to_f32;

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
    pub(super) fn scalar_int(&self) -> Option<i64> {
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

/// The value of element `index` of an f16 or f32 variable as f32 (NaN for
/// other types, which the conversion rejects first).
pub(super) fn element_f32(v: &Ct2Variable, index: usize) -> f32 {
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
pub(super) fn count_layers(model: &Ct2Model, prefix: &str) -> usize {
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

/// An integer scalar variable (e.g. `encoder/num_heads`).
pub(super) fn scalar(model: &Ct2Model, name: &str) -> Result<i64, ConvertError> {
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

/// The two dimensions of a matrix variable.
pub(super) fn dims2(model: &Ct2Model, name: &str) -> Result<(usize, usize), ConvertError> {
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

/// The tokens of a `vocabulary.txt`, one a line, up to (not including)
/// `<|endoftext|>`, as the raw bytes each stands for: what the ggml file
/// stores.
pub fn vocabulary_tokens(vocabulary: &str) -> Result<Vec<Vec<u8>>, ConvertError> {
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
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::whisper_ggml::test_model::tiny_model;

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
}
