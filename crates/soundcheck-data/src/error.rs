//! Data errors: each names the file or example, what was expected and what was found, and what
//! to do.

use std::path::PathBuf;

use soundcheck_shape::Diagnosis;

/// Why a dataset cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A file or folder could not be read or written: the io error, its kind kept.
    #[error("{}: cannot {action} ({source}); check the path and permissions", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What was being done: "read the folder", "create the cache folder".
        action: &'static str,
        /// The io error, its kind kept.
        #[source]
        source: std::io::Error,
    },
    /// A `.npy` file that cannot be read or written.
    #[error(transparent)]
    Npy(#[from] soundcheck_npy::NpyError),
    /// Two things that must agree do not (example counts, shapes across examples).
    #[error("{what}: expected {expected}, found {actual}; {hint}")]
    Mismatch {
        /// What must agree (a file, an axis).
        what: String,
        /// What fits.
        expected: String,
        /// What was found.
        actual: String,
        /// What to do about it.
        hint: String,
    },
    /// A NaN or infinite value in the data.
    #[error("{}: example {example} contains {value}; expected finite values — clean the data (np.nan_to_num, or drop the example)", path.display())]
    NonFinite {
        /// The file.
        path: PathBuf,
        /// The example holding the value.
        example: usize,
        /// The value (NaN or ±inf).
        value: f32,
    },
    /// The dataset holds no examples, or a split would leave one side empty.
    #[error("{what}; {hint}")]
    Empty {
        /// What is empty or too small, as a statement.
        what: String,
        /// What to do about it.
        hint: String,
    },
    /// An invalid parameter (batch size 0, a validation fraction outside [0, 1)).
    #[error("{name}={actual} is invalid: expected {expected}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// The value given.
        actual: String,
        /// The values it can take.
        expected: String,
    },
    /// A size asked for (`maxlen`, a batch, a record's dimension) past the memory there is.
    #[error("{0}; lower it")]
    TooLarge(#[from] soundcheck_io::budget::TooLarge),
    /// A shard setting or job-array variable that cannot be used.
    #[error(transparent)]
    Shard(#[from] soundcheck_io::ShardError),
    /// The data does not fit the model: the shape engine's diagnosis.
    #[error("{0}")]
    Shape(Box<Diagnosis>),
}

impl From<Diagnosis> for DataError {
    fn from(d: Diagnosis) -> DataError {
        DataError::Shape(Box::new(d))
    }
}

/// A result whose error is a [`DataError`].
pub type Result<T> = std::result::Result<T, DataError>;
