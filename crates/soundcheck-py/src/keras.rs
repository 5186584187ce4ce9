//! `soundcheck.load_keras` and `soundcheck.export_keras`: trained Keras models run by
//! soundcheck's network, and soundcheck runs written as `.keras` files, with the same code (and
//! the same errors) as the CLI's `predict --model` and `export`.

use std::path::{Path, PathBuf};

use numpy::{PyArray1, PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn};
use pyo3::prelude::*;
use soundcheck_nn::{Device, Network};
use soundcheck_npy::Array;
use soundcheck_shape::summary::summary;
use soundcheck_tasks::RunDir;

use crate::convert::flat;
use crate::errors::to_py;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<KerasModel>()?;
    m.add_function(wrap_pyfunction!(load_keras_file, m)?)?;
    m.add_function(wrap_pyfunction!(load_keras_archive, m)?)?;
    m.add_function(wrap_pyfunction!(export_keras, m)?)?;
    Ok(())
}

/// A trained Keras model as soundcheck's network; the Python half wraps it.
#[pyclass(frozen, module = "soundcheck._native")]
pub struct KerasModel {
    net: Network,
    /// Where it came from: the file, or the live model it was saved from.
    origin: String,
}

/// The model in a `.keras` or full-model `.h5` file, read as `predict --model` reads it.
#[pyfunction]
fn load_keras_file(py: Python<'_>, path: PathBuf) -> PyResult<KerasModel> {
    let net = py
        .detach(|| soundcheck_nn::load_keras(&path, &Device::flex()))
        .map_err(to_py)?;
    Ok(KerasModel {
        net,
        origin: path.display().to_string(),
    })
}

/// The model of a `.keras` archive in memory (a live model saved to a buffer by Keras);
/// `origin` names it in errors.
#[pyfunction]
fn load_keras_archive(py: Python<'_>, archive: &[u8], origin: String) -> PyResult<KerasModel> {
    let net = py
        .detach(|| soundcheck_nn::load_keras_bytes(archive, Path::new(&origin), &Device::flex()))
        .map_err(to_py)?;
    Ok(KerasModel { net, origin })
}

/// `soundcheck export RUN PATH`: the run's model and weights as a `.keras` file Keras opens,
/// never over one of the run's files.
#[pyfunction]
fn export_keras(py: Python<'_>, run: PathBuf, path: PathBuf) -> PyResult<()> {
    py.detach(|| RunDir::open(&run).export_keras(&path, &Device::flex()))
        .map_err(to_py)
}

/// One input array as the Python half passes it: its name (`None` for one unnamed array), its
/// values as float32, whether numpy held integers, and whether it held complex numbers (whose
/// real parts come as the values, to be refused by name).
type Input<'py> = (Option<String>, PyReadonlyArrayDyn<'py, f32>, bool, bool);

#[pymethods]
impl KerasModel {
    /// Every output over the examples of `inputs`, `(name, array)` in the model's output order.
    fn predict<'py>(
        &self,
        py: Python<'py>,
        inputs: Vec<Input<'py>>,
        batch_size: usize,
    ) -> PyResult<Vec<(String, Bound<'py, PyArrayDyn<f32>>)>> {
        let arrays = inputs
            .iter()
            .map(|(name, a, integer, complex)| {
                let (data, shape) = flat(a)?;
                Ok((
                    name.clone(),
                    Array {
                        shape,
                        complex: *complex,
                        integer: *integer,
                        data: data.to_vec(),
                    },
                ))
            })
            .collect::<PyResult<Vec<_>>>()?;
        let outs = py
            .detach(|| soundcheck_tasks::predict(&self.net, &arrays, Path::new("x"), batch_size))
            .map_err(to_py)?;
        outs.into_iter()
            .map(|p| Ok((p.name, PyArray1::from_vec(py, p.values).reshape(p.shape)?)))
            .collect()
    }

    /// The model's inputs and outputs, `(name, shape with None for the batch axis)` each, and
    /// Keras's `summary()` table, as JSON.
    fn describe(&self) -> String {
        let model = self.net.model();
        let report = model.check();
        let inputs: Vec<_> = model
            .inputs
            .iter()
            .map(|i| serde_json::json!([i.name, i.shape.to_json_with_batch()]))
            .collect();
        let outputs: Vec<_> = model
            .outputs
            .iter()
            .map(|&o| {
                let name = model.node_name(o);
                let shape = report
                    .layers
                    .iter()
                    .find(|l| l.name == name)
                    .map(|l| l.output_shape.to_json_with_batch());
                serde_json::json!([name, shape])
            })
            .collect();
        serde_json::json!({
            "name": model.name,
            "origin": self.origin,
            "inputs": inputs,
            "outputs": outputs,
            "summary": summary(model, &report),
        })
        .to_string()
    }
}
