//! museval's `evaluate` (BSS Eval v4 images) over `(nsrc, nsampl, nchan)` float64 arrays.

use numpy::{PyArrayDyn, PyReadonlyArray3};
use pyo3::prelude::*;
use soundcheck_eval::bss::bss_eval_v4;

use crate::convert::{rows_out, view3};
use crate::errors::to_py;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(bss_eval, m)?)?;
    Ok(())
}

type Scores<'py> = (
    Bound<'py, PyArrayDyn<f64>>,
    Bound<'py, PyArrayDyn<f64>>,
    Bound<'py, PyArrayDyn<f64>>,
    Bound<'py, PyArrayDyn<f64>>,
);

/// `(SDR, ISR, SIR, SAR)`, each `(nsrc, nwin)`, NaN where museval gives NaN (a silent window).
#[pyfunction]
fn bss_eval<'py>(
    py: Python<'py>,
    references: PyReadonlyArray3<'py, f64>,
    estimates: PyReadonlyArray3<'py, f64>,
    win: usize,
    hop: usize,
) -> PyResult<Scores<'py>> {
    // museval's layout is (source, sample, channel); soundcheck-eval's [source][channel][sample].
    let planar = |a: &PyReadonlyArray3<'py, f64>| -> PyResult<Vec<Vec<Vec<f64>>>> {
        let v = view3(a)?;
        Ok(v.outer_iter()
            .map(|src| src.columns().into_iter().map(|c| c.to_vec()).collect())
            .collect())
    };
    let (refs, ests) = (planar(&references)?, planar(&estimates)?);
    let m = py
        .detach(|| bss_eval_v4(&refs, &ests, win, hop))
        .map_err(to_py)?;
    Ok((
        rows_out(py, m.sdr)?,
        rows_out(py, m.isr)?,
        rows_out(py, m.sir)?,
        rows_out(py, m.sar)?,
    ))
}
