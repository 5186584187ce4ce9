//! A trained network on arrays, every array checked against the model before the first forward
//! pass: real, finite, wired to a model input by name, of the shape that input takes, all of one
//! number of examples. The CLI's `predict` (arrays from `.npy`/`.npz` files) and the Python
//! module's `KerasModel.predict` (numpy arrays) both run here.

use std::path::Path;

use soundcheck_data::{wire_inputs, Field};
use soundcheck_nn::Network;
use soundcheck_npy::Array;
use soundcheck_shape::feed::check_input_feed;

use crate::error::{Result, TaskError};

/// One model output over every example.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    /// The model output's name.
    pub name: String,
    /// Its shape, batch axis first.
    pub shape: Vec<usize>,
    /// Its values in C order.
    pub values: Vec<f32>,
}

/// Runs `net` on `arrays` (each with its name, `None` for one unnamed array) `batch_size`
/// examples at a time, after checking them all; one [`Prediction`] per model output, in the
/// model's output order. `origin` names the arrays in the errors (their file, or the argument
/// that gave them).
///
/// # Errors
/// `batch_size` 0; a complex or non-finite value (its example named); arrays that do not wire to
/// the model's inputs or do not fit their shapes (the shape engine's diagnosis); arrays of
/// different numbers of examples, or none.
pub fn predict(
    net: &Network,
    arrays: &[(Option<String>, Array)],
    origin: &Path,
    batch_size: usize,
) -> Result<Vec<Prediction>> {
    if batch_size == 0 {
        return Err(TaskError::Option {
            name: "batch_size",
            actual: "0".into(),
            expected: "a positive number of examples".into(),
        });
    }
    for (name, x) in arrays {
        check_values(name.as_deref(), x, origin)?;
    }
    let model = net.model();
    let fields: Vec<Field> = arrays
        .iter()
        .map(|(name, x)| Field {
            name: name.clone(),
            shape: x.shape.get(1..).unwrap_or(&[]).to_vec(),
            integer: x.integer,
        })
        .collect();
    let named = |mut d: soundcheck_shape::Diagnosis| {
        d.title = format!("{}: {}", origin.display(), d.title);
        TaskError::from(d)
    };
    let order = wire_inputs(model, &fields).map_err(named)?;
    let inputs: Vec<&Array> = order.iter().map(|&f| &arrays[f].1).collect();
    for (k, x) in inputs.iter().enumerate() {
        check_input_feed(model, k, &x.shape).map_err(named)?;
    }
    let n = inputs[0].shape[0];
    let bad = |actual: String, hint: &str| TaskError::Folder {
        path: origin.to_path_buf(),
        actual,
        hint: hint.into(),
    };
    if let Some(x) = inputs.iter().find(|x| x.shape[0] != n) {
        return Err(bad(
            format!("arrays of {n} and {} examples", x.shape[0]),
            "give every input array the same number of examples",
        ));
    }
    if n == 0 {
        return Err(bad(
            "no examples (the batch axis is 0)".into(),
            "give at least one example",
        ));
    }
    let outs = run_batches(net, &inputs, batch_size)?;
    Ok(model
        .outputs
        .iter()
        .zip(outs)
        .map(|(&o, (shape, values))| Prediction {
            name: model.node_name(o).to_string(),
            shape,
            values,
        })
        .collect())
}

/// An array the model cannot take whatever its shape: a scalar, complex, or holding NaN or an
/// infinity.
fn check_values(name: Option<&str>, x: &Array, origin: &Path) -> Result<()> {
    let what = name.map_or(String::new(), |n| format!("array '{n}': "));
    let bad = |actual: String, hint: &str| TaskError::Folder {
        path: origin.to_path_buf(),
        actual: format!("{what}{actual}"),
        hint: hint.into(),
    };
    if x.shape.is_empty() {
        return Err(bad(
            "a scalar, with no batch axis".into(),
            "give an array whose first axis counts the examples",
        ));
    }
    if x.complex {
        return Err(bad(
            "complex values".into(),
            "the model takes real inputs (use magnitudes)",
        ));
    }
    if let Some(i) = x.data.iter().position(|v| !v.is_finite()) {
        let per = x
            .shape
            .get(1..)
            .map_or(1, |s| s.iter().product::<usize>().max(1));
        return Err(bad(
            format!("example {} holds {}", i / per, x.data[i]),
            "clean the input first",
        ));
    }
    Ok(())
}

/// `(shape, values)` of each model output over `inputs` (in the model's input order), computed
/// `batch_size` examples at a time so memory stays bounded.
fn run_batches(
    net: &Network,
    inputs: &[&Array],
    batch_size: usize,
) -> Result<Vec<(Vec<usize>, Vec<f32>)>> {
    let n = inputs[0].shape[0];
    let mut outs: Vec<(Vec<usize>, Vec<f32>)> = Vec::new();
    for start in (0..n).step_by(batch_size) {
        let end = (start + batch_size).min(n);
        let batch = inputs
            .iter()
            .map(|x| {
                let per: usize = x.shape[1..].iter().product();
                let mut shape = x.shape.clone();
                shape[0] = end - start;
                (shape, x.data[start * per..end * per].to_vec())
            })
            .collect();
        let ys = net.forward_all(batch)?;
        if outs.is_empty() {
            outs = ys.iter().map(|(s, _)| (s.clone(), Vec::new())).collect();
        }
        for ((_, all), (_, y)) in outs.iter_mut().zip(ys) {
            all.extend(y);
        }
    }
    for (shape, _) in &mut outs {
        shape[0] = n;
    }
    Ok(outs)
}
