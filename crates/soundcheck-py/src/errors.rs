//! The exception every failure raises. The Rust side defines `SoundcheckError` (a
//! `ValueError`); the Python half derives from it the class users catch, which is also librosa's
//! `ParameterError` when librosa is installed (so `except librosa.ParameterError` keeps working
//! with soundcheck's functions in librosa's place), and registers that class here to be raised.

use pyo3::create_exception;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;
use pyo3::PyErr;

create_exception!(
    soundcheck,
    SoundcheckError,
    PyValueError,
    "A parameter, array or file soundcheck cannot use; the message says which and what to do."
);

/// The class the Python half registered, once, at import.
static RAISED: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Makes every failure raise `cls`, a subclass of [`SoundcheckError`].
#[pyfunction]
pub fn raise_as(py: Python<'_>, cls: Bound<'_, PyType>) -> PyResult<()> {
    if !cls.is_subclass_of::<SoundcheckError>()? {
        return Err(PyTypeError::new_err(
            "internal: the error class must derive from _native.SoundcheckError",
        ));
    }
    // A module imports once; a second registration (a reload) keeps the first class.
    let _ = RAISED.set(py, cls.unbind());
    Ok(())
}

/// Any error with a message for people becomes the registered class (before registration,
/// [`SoundcheckError`]).
pub fn to_py(e: impl std::fmt::Display) -> PyErr {
    let message = e.to_string();
    Python::attach(|py| match RAISED.get(py) {
        Some(cls) => PyErr::from_type(cls.bind(py).clone(), message),
        None => SoundcheckError::new_err(message),
    })
}

/// An argument the caller gave that cannot be used, named with its value.
pub fn argument(name: &str, value: impl std::fmt::Display, expected: &str) -> PyErr {
    to_py(format!(
        "{name}={value} cannot be used: expected {expected}"
    ))
}
