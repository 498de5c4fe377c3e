//! Verifying a ggml file before whisper.cpp (which trusts its input) loads
//! it: [`check_ggml_file`] walks its structure without reading tensor data.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::convert::{GGML_MAGIC, GgmlType, WhisperHparams};
use super::quantize::{FTYPE_Q8_0, Q8_0_BLOCK, Q8_0_BLOCK_BYTES, dequantize_q8_0, f16_to_f32};
use super::{ConvertError, io_err};

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
