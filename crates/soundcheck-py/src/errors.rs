//! One exception type for every failure the Rust side reports, so Python code can catch
//! `soundcheck.SoundcheckError` or, as with librosa's parameter errors, plain `ValueError`.

use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::PyErr;

create_exception!(
    soundcheck,
    SoundcheckError,
    PyValueError,
    "A parameter, array or file soundcheck cannot use; the message says which and what to do."
);

/// Any error with a message for people becomes a [`SoundcheckError`].
pub fn to_py(e: impl std::fmt::Display) -> PyErr {
    SoundcheckError::new_err(e.to_string())
}

/// An argument the caller gave that cannot be used, named with its value.
pub fn argument(name: &str, value: impl std::fmt::Display, expected: &str) -> PyErr {
    SoundcheckError::new_err(format!(
        "{name}={value} cannot be used: expected {expected}"
    ))
}
