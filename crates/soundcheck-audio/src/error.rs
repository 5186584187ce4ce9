//! Typed errors: each names the file or argument, what was expected and what was found, and says
//! what to do.

use std::fmt;
use std::path::PathBuf;

/// Why audio could not be read, analysed or written.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// The file could not be opened or read: the io error, its kind kept.
    #[error("{}: cannot read the file ({source}); check the path and permissions", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The io error, its kind kept.
        #[source]
        source: std::io::Error,
    },
    /// The file holds no audio samples.
    #[error("{}: the file holds no audio samples; expected at least one frame of audio", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The container or codec is not one soundcheck decodes.
    #[error("{}: unsupported format ({actual}); soundcheck decodes WAV (PCM 8/16/24/32, float), FLAC, OGG/Vorbis and MP3 — convert it, e.g. `ffmpeg -i IN OUT.wav`", path.display())]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What the decoder found.
        actual: String,
    },
    /// The file is damaged or truncated.
    #[error("{}: the audio data is damaged or truncated ({actual}); re-export or re-download the file", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        actual: String,
    },
    /// A sample is NaN or infinite.
    #[error("{what}: sample {index} is {value}; expected finite samples — remove NaN/inf values (e.g. np.nan_to_num) before analysis")]
    NonFinite {
        /// The signal (a file, an argument).
        what: String,
        /// The first non-finite sample.
        index: usize,
        /// Its value (NaN or ±inf).
        value: f32,
    },
    /// The signal is shorter than an analysis needs: `actual` samples, at least `expected`.
    #[error("{what}: {actual} samples, expected at least {expected}; {hint}")]
    TooShort {
        /// The signal (a file, an argument).
        what: String,
        /// Its length in samples.
        actual: usize,
        /// The fewest samples the analysis needs.
        expected: usize,
        /// What to do about it.
        hint: String,
    },
    /// A parameter is out of its valid range.
    #[error("{name}={actual} is invalid: expected {expected}{}", if hint.is_empty() { String::new() } else { format!("; {hint}") })]
    InvalidParameter {
        /// The parameter, as librosa names it.
        name: &'static str,
        /// The value given.
        actual: String,
        /// The values it can take.
        expected: String,
        /// What to do about it (may be empty).
        hint: String,
    },
    /// Writing an output failed: the io error, its kind kept.
    #[error("{}: cannot write ({source}); check that the folder exists and is writable", path.display())]
    Write {
        /// The output file.
        path: PathBuf,
        /// The io error, its kind kept.
        #[source]
        source: std::io::Error,
    },
}

/// A WAV writer's error as the io error it is (or wraps), so write failures keep a kind.
pub(crate) fn hound_io(e: hound::Error) -> std::io::Error {
    match e {
        hound::Error::IoError(io) => io,
        other => std::io::Error::other(other),
    }
}

/// A result whose error is an [`AudioError`].
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
        actual: value.to_string(),
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
