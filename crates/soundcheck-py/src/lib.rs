//! `soundcheck._native`: the Rust half of the Python package. Each function takes numpy arrays
//! already shaped `(rows, …)` by the Python half (which owns librosa's signatures, defaults and
//! leading-axis handling), releases the GIL while it computes, and returns new numpy arrays.
//! Every failure is a `soundcheck.SoundcheckError` (a `ValueError`, and librosa's `ParameterError`
//! when librosa is installed) carrying the Rust message.

// Diagnoses are large by design (shapes, cause, fix), as in soundcheck-shape.
#![allow(clippy::result_large_err)]
// The bindings take librosa's keyword parameters one by one, as the Python half passes them.
#![allow(clippy::too_many_arguments)]

use pyo3::prelude::*;

mod audio;
mod check;
mod convert;
mod errors;
mod eval;
mod keras;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add(
        "SoundcheckError",
        m.py().get_type::<errors::SoundcheckError>(),
    )?;
    m.add_function(wrap_pyfunction!(errors::raise_as, m)?)?;
    audio::register(m)?;
    check::register(m)?;
    eval::register(m)?;
    keras::register(m)?;
    Ok(())
}
