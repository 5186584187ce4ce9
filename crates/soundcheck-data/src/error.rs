//! Data errors: each names the file or example, what was expected and what was found, and what
//! to do.

use std::path::PathBuf;

use soundcheck_shape::Diagnosis;

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A file or folder could not be read or written: the io error, its kind kept.
    #[error("{}: cannot {action} ({source}); check the path and permissions", path.display())]
    Io {
        path: PathBuf,
        /// What was being done: "read the folder", "create the cache folder".
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// A `.npy` file that cannot be read or written.
    #[error(transparent)]
    Npy(#[from] soundcheck_npy::NpyError),
    /// Two things that must agree do not (example counts, shapes across examples).
    #[error("{what}: expected {expected}, found {actual}; {hint}")]
    Mismatch {
        what: String,
        expected: String,
        actual: String,
        hint: String,
    },
    /// A NaN or infinite value in the data.
    #[error("{}: example {example} contains {value}; expected finite values — clean the data (np.nan_to_num, or drop the example)", path.display())]
    NonFinite {
        path: PathBuf,
        example: usize,
        value: f32,
    },
    /// The dataset holds no examples, or a split would leave one side empty.
    #[error("{what} is empty; {hint}")]
    Empty { what: String, hint: String },
    /// An invalid parameter (batch size 0, a validation fraction outside [0, 1)).
    #[error("{name}={actual} is invalid: expected {expected}")]
    InvalidParameter {
        name: &'static str,
        actual: String,
        expected: String,
    },
    /// The data does not fit the model: the shape engine's diagnosis.
    #[error("{0}")]
    Shape(Box<Diagnosis>),
    /// An audio file that cannot be decoded (the message names it).
    #[error(transparent)]
    Audio(#[from] soundcheck_audio::AudioError),
    /// A clip whose features cannot be computed (too short for the settings, say).
    #[error("{}: {source}", path.display())]
    Clip {
        path: PathBuf,
        #[source]
        source: soundcheck_audio::AudioError,
    },
}

impl From<Diagnosis> for DataError {
    fn from(d: Diagnosis) -> DataError {
        DataError::Shape(Box::new(d))
    }
}

pub type Result<T> = std::result::Result<T, DataError>;
