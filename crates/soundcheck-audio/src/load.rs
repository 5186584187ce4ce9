//! `librosa.load`: decode, take an excerpt, mix down, resample.

use std::path::Path;

use rayon::prelude::*;

use crate::decode::{decode, decode_mono};
use crate::error::{check_finite, invalid, AudioError, Result};
use crate::resample::resample;

/// `librosa.load` options, with its defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadOptions {
    /// Target rate; `None` keeps the file's rate. Default 22050.
    pub sr: Option<u32>,
    /// Average the channels into one (librosa's `to_mono`). Default true.
    pub mono: bool,
    /// Start reading this many seconds in.
    pub offset: f64,
    /// Read at most this many seconds.
    pub duration: Option<f64>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            sr: Some(22050),
            mono: true,
            offset: 0.0,
            duration: None,
        }
    }
}

/// Loaded audio.
#[derive(Clone, Debug, PartialEq)]
pub struct Audio {
    /// One vector per channel (one when `mono`).
    pub channels: Vec<Vec<f32>>,
    pub sample_rate: u32,
}

impl Audio {
    /// The first (or only) channel.
    pub fn mono(&self) -> &[f32] {
        &self.channels[0]
    }
}

/// Averages channels sample by sample (summed in channel order, then divided, as numpy's mean).
pub fn to_mono(channels: &[Vec<f32>]) -> Vec<f32> {
    let Some((first, rest)) = channels.split_first() else {
        return Vec::new();
    };
    let mut out = first.clone();
    for c in rest {
        for (o, v) in out.iter_mut().zip(c) {
            *o += v;
        }
    }
    let n = channels.len() as f32;
    out.iter_mut().for_each(|o| *o /= n);
    out
}

/// Loads a file as `librosa.load(path, sr=..., mono=..., offset=..., duration=...)`.
///
/// # Shapes
/// - output channels: `(n_channels, n)` with `n = ceil(frames · sr / native_sr)`
///   where `frames = int(duration · native_sr)` from `int(offset · native_sr)`
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Audio> {
    if !(opts.offset >= 0.0 && opts.offset.is_finite()) {
        return Err(invalid(
            "offset",
            opts.offset,
            "a non-negative number of seconds",
            "",
        ));
    }
    if let Some(d) = opts.duration {
        if !(d >= 0.0 && d.is_finite()) {
            return Err(invalid(
                "duration",
                d,
                "a non-negative number of seconds",
                "",
            ));
        }
    }
    let decoded = if opts.mono {
        decode_mono(path)?
    } else {
        decode(path)?
    };
    let native = decoded.sample_rate;
    let start = ((opts.offset * native as f64) as usize).min(decoded.frames());
    let end = match opts.duration {
        Some(d) => (start + (d * native as f64) as usize).min(decoded.frames()),
        None => decoded.frames(),
    };
    if start >= end {
        return Err(AudioError::TooShort {
            what: format!("{} from offset {} s", path.display(), opts.offset),
            length: 0,
            needed: 1,
            hint: format!(
                "the file is {:.3} s long; use a smaller offset",
                decoded.frames() as f64 / native as f64
            ),
        });
    }
    let mut channels = decoded.channels;
    for c in &mut channels {
        c.truncate(end);
        c.drain(..start);
    }
    // NaN or inf in any channel survives the mixdown, so checking what is kept suffices.
    for c in &channels {
        check_finite(&path.display().to_string(), c)?;
    }
    let sample_rate = opts.sr.unwrap_or(native);
    if sample_rate != native {
        channels = channels
            .par_iter()
            .map(|c| resample(c, native, sample_rate))
            .collect::<Result<Vec<_>>>()?;
    }
    Ok(Audio {
        channels,
        sample_rate,
    })
}

/// Writes 32-bit float WAV, atomically (a temporary file renamed into place).
pub fn write_wav(path: &Path, channels: &[Vec<f32>], sample_rate: u32) -> Result<()> {
    let fail = |e: String| AudioError::Write {
        path: path.to_path_buf(),
        detail: e,
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let write = || -> std::result::Result<(), hound::Error> {
        let mut w = hound::WavWriter::create(&tmp, spec)?;
        for i in 0..channels.first().map_or(0, Vec::len) {
            for c in channels {
                w.write_sample(c[i])?;
            }
        }
        w.finalize()
    };
    if let Err(e) = write() {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(e.to_string()));
    }
    std::fs::rename(&tmp, path).map_err(|e| fail(e.to_string()))
}
