//! Typed errors: each names the file or argument, what was expected and what was found, and says
//! what to do.

use std::fmt;
use std::path::PathBuf;

#[derive(Debug)]
pub enum AudioError {
    /// The file could not be opened or read.
    Io { path: PathBuf, detail: String },
    /// The file holds no audio samples.
    Empty { path: PathBuf },
    /// The container or codec is not one soundcheck decodes.
    Unsupported { path: PathBuf, detail: String },
    /// The file is damaged or truncated.
    Corrupt { path: PathBuf, detail: String },
    /// A sample is NaN or infinite.
    NonFinite {
        what: String,
        index: usize,
        value: f32,
    },
    /// The signal is shorter than an analysis needs.
    TooShort {
        what: String,
        length: usize,
        needed: usize,
        hint: String,
    },
    /// A parameter is out of its valid range.
    InvalidParameter {
        name: &'static str,
        value: String,
        expected: String,
        hint: String,
    },
    /// Writing an output failed.
    Write { path: PathBuf, detail: String },
}

impl fmt::Display for AudioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AudioError::Io { path, detail } => {
                write!(f, "{}: cannot read the file ({detail}); check the path and permissions", path.display())
            }
            AudioError::Empty { path } => write!(
                f,
                "{}: the file holds no audio samples; expected at least one frame of audio",
                path.display()
            ),
            AudioError::Unsupported { path, detail } => write!(
                f,
                "{}: unsupported format ({detail}); soundcheck decodes WAV (PCM 8/16/24/32, float), FLAC, OGG/Vorbis and MP3 — convert it, e.g. `ffmpeg -i IN OUT.wav`",
                path.display()
            ),
            AudioError::Corrupt { path, detail } => write!(
                f,
                "{}: the audio data is damaged or truncated ({detail}); re-export or re-download the file",
                path.display()
            ),
            AudioError::NonFinite { what, index, value } => write!(
                f,
                "{what}: sample {index} is {value}; expected finite samples — remove NaN/inf values (e.g. np.nan_to_num) before analysis"
            ),
            AudioError::TooShort { what, length, needed, hint } => write!(
                f,
                "{what}: {length} samples, expected at least {needed}; {hint}"
            ),
            AudioError::InvalidParameter { name, value, expected, hint } => {
                write!(f, "{name}={value} is invalid: expected {expected}")?;
                if !hint.is_empty() {
                    write!(f, "; {hint}")?;
                }
                Ok(())
            }
            AudioError::Write { path, detail } => write!(
                f,
                "{}: cannot write ({detail}); check that the folder exists and is writable",
                path.display()
            ),
        }
    }
}

impl std::error::Error for AudioError {}

pub type Result<T> = std::result::Result<T, AudioError>;

/// An invalid-parameter error.
pub fn invalid(
    name: &'static str,
    value: impl fmt::Display,
    expected: impl Into<String>,
    hint: impl Into<String>,
) -> AudioError {
    AudioError::InvalidParameter {
        name,
        value: value.to_string(),
        expected: expected.into(),
        hint: hint.into(),
    }
}

/// Rejects NaN/inf samples, naming the first one.
pub fn check_finite(what: &str, y: &[f32]) -> Result<()> {
    use rayon::prelude::*;
    // Chunks scanned in parallel; the first bad sample is the smallest index found.
    const CHUNK: usize = 1 << 16;
    let first = y
        .par_chunks(CHUNK)
        .enumerate()
        // The branch-free scan (vector code) first; the position only where it found something.
        .filter(|(_, c)| c.iter().fold(false, |bad, v| bad | !v.is_finite()))
        .filter_map(|(i, c)| c.iter().position(|v| !v.is_finite()).map(|p| i * CHUNK + p))
        .min();
    match first {
        None => Ok(()),
        Some(index) => Err(AudioError::NonFinite {
            what: what.to_string(),
            index,
            value: y[index],
        }),
    }
}
