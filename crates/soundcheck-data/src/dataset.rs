//! Datasets: numbered examples, each an input and a target array of declared shapes.

use std::path::Path;

use crate::error::{DataError, Result};

/// Examples with fixed input and target shapes (batch axis excluded).
pub trait Dataset: Send + Sync {
    /// The number of examples.
    fn len(&self) -> usize;

    /// Whether the dataset holds no example.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// One example's input shape, batch axis excluded.
    fn input_shape(&self) -> &[usize];

    /// One example's target shape, batch axis excluded (`[]` for one class index).
    fn target_shape(&self) -> &[usize];

    /// True when the targets are integers (class indices), as `sparse_categorical_crossentropy`
    /// wants.
    fn integer_targets(&self) -> bool;

    /// True when the inputs are integers (token ids for an Embedding).
    fn integer_inputs(&self) -> bool;

    /// Copies example `i` into `input` and `target` (sized by the shapes' products).
    fn load(&self, i: usize, input: &mut [f32], target: &mut [f32]) -> Result<()>;
}

/// A dataset held in memory: `x` is `(n, *input_shape)`, `y` is `(n, *target_shape)`.
#[derive(Clone, Debug)]
pub struct ArrayDataset {
    x: Vec<f32>,
    y: Vec<f32>,
    input_shape: Vec<usize>,
    target_shape: Vec<usize>,
    integer_inputs: bool,
    integer_targets: bool,
    n: usize,
}

fn product(s: &[usize]) -> usize {
    s.iter().product()
}

impl ArrayDataset {
    /// Builds a dataset from arrays with their batch axis first.
    ///
    /// # Errors
    /// Different example counts, data lengths that do not match the shapes, no examples.
    pub fn new(
        x: Vec<f32>,
        x_shape: &[usize],
        y: Vec<f32>,
        y_shape: &[usize],
    ) -> Result<ArrayDataset> {
        let (Some(&n), Some(&ny)) = (x_shape.first(), y_shape.first()) else {
            return Err(DataError::Mismatch {
                what: "dataset arrays".into(),
                expected: "a batch axis first in both inputs and targets".into(),
                actual: format!("inputs {x_shape:?}, targets {y_shape:?}"),
                hint: "save arrays of shape (n_examples, ...)".into(),
            });
        };
        if n != ny {
            return Err(DataError::Mismatch {
                what: "inputs and targets".into(),
                expected: format!("one target per input ({n} inputs)"),
                actual: format!("{ny} targets"),
                hint: "x and y must have the same first axis".into(),
            });
        }
        if n == 0 {
            return Err(DataError::Empty {
                what: "the dataset".into(),
                hint: "give at least one example".into(),
            });
        }
        for (what, data, shape) in [("inputs", &x, x_shape), ("targets", &y, y_shape)] {
            if data.len() != product(shape) {
                return Err(DataError::Mismatch {
                    what: format!("{what} data"),
                    expected: format!("{} values for shape {shape:?}", product(shape)),
                    actual: format!("{} values", data.len()),
                    hint: "the array is damaged".into(),
                });
            }
        }
        Ok(ArrayDataset {
            x,
            y,
            input_shape: x_shape[1..].to_vec(),
            target_shape: y_shape[1..].to_vec(),
            integer_inputs: false,
            integer_targets: false,
            n,
        })
    }

    /// The same dataset with its targets marked as integer class indices.
    pub fn with_integer_targets(mut self) -> ArrayDataset {
        self.integer_targets = true;
        self
    }

    /// Reads `dir/x.npy` (inputs, batch axis first) and `dir/y.npy` (targets), rejecting NaN/inf
    /// with the file and example.
    pub fn open_npy_dir(dir: &Path) -> Result<ArrayDataset> {
        let (xp, yp) = (dir.join("x.npy"), dir.join("y.npy"));
        let x = soundcheck_npy::read(&xp)?;
        let y = soundcheck_npy::read(&yp)?;
        for (path, a) in [(&xp, &x), (&yp, &y)] {
            if a.complex {
                return Err(DataError::Mismatch {
                    what: path.display().to_string(),
                    expected: "real numbers".into(),
                    actual: "complex numbers".into(),
                    hint: "use magnitudes (np.abs) or split real and imaginary parts into a channel axis".into(),
                });
            }
            let per = product(a.shape.get(1..).unwrap_or(&[])).max(1);
            if let Some(i) = a.data.iter().position(|v| !v.is_finite()) {
                return Err(DataError::NonFinite {
                    path: path.clone(),
                    example: i / per,
                    value: a.data[i],
                });
            }
        }
        let mut ds =
            ArrayDataset::new(x.data, &x.shape, y.data, &y.shape).map_err(|e| match e {
                DataError::Mismatch {
                    what,
                    expected,
                    actual,
                    hint,
                } => DataError::Mismatch {
                    what: format!("{} and {}: {what}", xp.display(), yp.display()),
                    expected,
                    actual,
                    hint,
                },
                other => other,
            })?;
        ds.integer_inputs = x.integer;
        ds.integer_targets = y.integer;
        Ok(ds)
    }
}

impl Dataset for ArrayDataset {
    fn len(&self) -> usize {
        self.n
    }
    fn input_shape(&self) -> &[usize] {
        &self.input_shape
    }
    fn target_shape(&self) -> &[usize] {
        &self.target_shape
    }
    fn integer_targets(&self) -> bool {
        self.integer_targets
    }
    fn integer_inputs(&self) -> bool {
        self.integer_inputs
    }
    fn load(&self, i: usize, input: &mut [f32], target: &mut [f32]) -> Result<()> {
        let (px, py) = (product(&self.input_shape), product(&self.target_shape));
        input.copy_from_slice(&self.x[i * px..(i + 1) * px]);
        target.copy_from_slice(&self.y[i * py..(i + 1) * py]);
        Ok(())
    }
}
