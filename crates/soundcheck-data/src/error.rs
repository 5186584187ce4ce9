//! Data errors: each names the file or example, what was expected and what was found, and what
//! to do.

use std::fmt;
use std::path::PathBuf;

use soundcheck_shape::Diagnosis;

#[derive(Debug)]
pub enum DataError {
    /// A file could not be read or written.
    Io { path: PathBuf, detail: String },
    /// Two things that must agree do not (example counts, shapes across examples).
    Mismatch {
        what: String,
        expected: String,
        actual: String,
        hint: String,
    },
    /// A NaN or infinite value in the data.
    NonFinite {
        path: PathBuf,
        example: usize,
        value: f32,
    },
    /// The dataset holds no examples, or a split would leave one side empty.
    Empty { what: String, hint: String },
    /// An invalid parameter (batch size 0, a validation fraction outside [0, 1)).
    InvalidParameter {
        name: &'static str,
        value: String,
        expected: String,
    },
    /// The data does not fit the model: the shape engine's diagnosis.
    Shape(Box<Diagnosis>),
    /// An audio file that cannot be decoded (the message names it).
    Audio(soundcheck_audio::AudioError),
    /// A clip whose features cannot be computed (too short for the settings, say).
    Clip { path: PathBuf, detail: String },
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataError::Io { path, detail } => write!(f, "{}: {detail}; check the path and permissions", path.display()),
            DataError::Mismatch { what, expected, actual, hint } => {
                write!(f, "{what}: expected {expected}, found {actual}; {hint}")
            }
            DataError::NonFinite { path, example, value } => write!(
                f,
                "{}: example {example} contains {value}; expected finite values — clean the data (np.nan_to_num, or drop the example)",
                path.display()
            ),
            DataError::Empty { what, hint } => write!(f, "{what} is empty; {hint}"),
            DataError::InvalidParameter { name, value, expected } => {
                write!(f, "{name}={value} is invalid: expected {expected}")
            }
            DataError::Shape(d) => write!(f, "{d}"),
            DataError::Audio(e) => write!(f, "{e}"),
            DataError::Clip { path, detail } => write!(f, "{}: {detail}", path.display()),
        }
    }
}

impl std::error::Error for DataError {}

impl From<soundcheck_npy::NpyError> for DataError {
    fn from(e: soundcheck_npy::NpyError) -> DataError {
        DataError::Io {
            path: e.path,
            detail: format!("{} ({})", e.problem, e.hint),
        }
    }
}

impl From<soundcheck_audio::AudioError> for DataError {
    fn from(e: soundcheck_audio::AudioError) -> DataError {
        DataError::Audio(e)
    }
}

impl From<Diagnosis> for DataError {
    fn from(d: Diagnosis) -> DataError {
        DataError::Shape(Box::new(d))
    }
}

pub type Result<T> = std::result::Result<T, DataError>;
