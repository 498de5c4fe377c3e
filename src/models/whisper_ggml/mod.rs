//! CTranslate2 Whisper → whisper.cpp ggml, in Rust.
//!
//! The only Whisper weights a package registry offers us are in
//! CTranslate2 format; whisper.cpp wants its own ggml file, the layout that
//! whisper.cpp's `models/convert-pt-to-ggml.py` writes. The mapping, the
//! dtypes and the header are documented in `spec/models.md` ("Converting
//! CTranslate2 Whisper to ggml"). The output is a pure function of the input
//! bytes (fixed tensor order, no timestamps), so its SHA-256 can be pinned.
//!
//! - `ctranslate2`: reading `model.bin` and `vocabulary.txt`;
//! - `mel`: the mel filter bank the file carries;
//! - `quantize`: half precision and q8_0 blocks;
//! - `convert`: writing the ggml file;
//! - `checks`: [`check_ggml_file`] walks a ggml file's structure without
//!   loading it, so a truncated or foreign file is rejected with a clear
//!   message before whisper.cpp ever sees it.

mod checks;
mod convert;
mod ctranslate2;
mod quantize;
#[cfg(test)]
mod test_model;

use std::path::{Path, PathBuf};

pub use crate::models::mel::{WHISPER_N_FFT, WHISPER_SAMPLE_RATE_HZ, mel_filterbank};
pub use checks::{GgmlInfo, GgmlTensorInfo, check_ggml_file, read_ggml_tensor_f32};
pub use convert::{ConversionSummary, GGML_MAGIC, WeightFormat, WhisperHparams, convert_ct2};
pub use ctranslate2::{
    Ct2Dtype, Ct2Model, Ct2Variable, decode_gpt2_token, gpt2_byte_to_char, parse_ct2,
    vocabulary_tokens,
};
pub use quantize::{dequantize_q8_0, f16_to_f32, f32_to_f16, quantize_q8_0};

/// Why a conversion or a check of a ggml file failed.
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
