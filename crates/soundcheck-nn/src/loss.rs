//! Keras's losses as the trainer computes them (reduction "sum_over_batch_size": the mean of the
//! per-element losses, classes summed first for the cross-entropies), and the accuracy metric.

use burn::tensor::{Tensor, TensorData};

use crate::error::{NnError, Result};
use crate::tensor::DynTensor;

/// Keras clips probabilities to [ε, 1 − ε] before taking logs.
const EPSILON: f32 = 1e-7;

/// Keras's losses, computed as Keras computes them (cross-entropies on probabilities clipped
/// to [ε, 1 − ε]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    /// `mse`.
    MeanSquaredError,
    /// `mae`.
    MeanAbsoluteError,
    /// Keras's `huber` with delta 1.
    Huber,
    /// `binary_crossentropy` on probabilities.
    BinaryCrossentropy,
    /// One-hot targets.
    CategoricalCrossentropy,
    /// Integer class targets.
    SparseCategoricalCrossentropy,
}

impl Loss {
    /// The loss of a Keras name or alias (`mse`, `l1`, `categorical_crossentropy`, …).
    pub fn parse(name: &str) -> Result<Loss> {
        Ok(match name {
            "mse" | "mean_squared_error" | "l2" => Loss::MeanSquaredError,
            "mae" | "mean_absolute_error" | "l1" => Loss::MeanAbsoluteError,
            "huber" => Loss::Huber,
            "binary_crossentropy" | "bce" => Loss::BinaryCrossentropy,
            "categorical_crossentropy" | "cce" => Loss::CategoricalCrossentropy,
            "sparse_categorical_crossentropy" | "scce" => Loss::SparseCategoricalCrossentropy,
            other => {
                return Err(NnError::Config {
                    name: "loss",
                    actual: other.to_string(),
                    expected: "one of mse, mae (l1), huber, binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy".into(),
                })
            }
        })
    }

    /// Keras's canonical name.
    pub fn name(self) -> &'static str {
        match self {
            Loss::MeanSquaredError => "mean_squared_error",
            Loss::MeanAbsoluteError => "mean_absolute_error",
            Loss::Huber => "huber",
            Loss::BinaryCrossentropy => "binary_crossentropy",
            Loss::CategoricalCrossentropy => "categorical_crossentropy",
            Loss::SparseCategoricalCrossentropy => "sparse_categorical_crossentropy",
        }
    }

    /// Classification losses report accuracy beside the loss.
    pub fn has_accuracy(self) -> bool {
        matches!(
            self,
            Loss::BinaryCrossentropy
                | Loss::CategoricalCrossentropy
                | Loss::SparseCategoricalCrossentropy
        )
    }

    /// The targets as an array of the output's shape: integer classes become one-hot rows.
    ///
    /// `examples` are the batch's rows as indices into the dataset, so a bad class names the
    /// example where the user can find it, not its place in a shuffled batch.
    ///
    /// # Errors
    /// A class index that is not an integer in `0..classes` (naming the example), or a target
    /// count that does not fill the output.
    pub fn dense_targets(
        self,
        out_dims: &[usize],
        targets: &[f32],
        examples: &[usize],
    ) -> Result<Vec<f32>> {
        let total: usize = out_dims.iter().product();
        if self == Loss::SparseCategoricalCrossentropy {
            let classes = *out_dims.last().expect("an output axis");
            if targets.len() * classes != total {
                return Err(NnError::Targets(format!(
                    "{} class indices for an output of shape {out_dims:?}; expected one index per row of {classes} probabilities",
                    targets.len()
                )));
            }
            let per_example = targets.len() / out_dims[0].max(1);
            let mut onehot = vec![0f32; total];
            for (i, &t) in targets.iter().enumerate() {
                if !(t >= 0.0 && t.fract() == 0.0 && (t as usize) < classes) {
                    let row = i / per_example.max(1);
                    return Err(NnError::Targets(format!(
                        "example {} of the data has class {t}, expected an integer in 0..{classes}; the model's last layer has {classes} units — give it one unit per class",
                        examples.get(row).copied().unwrap_or(row)
                    )));
                }
                onehot[i * classes + t as usize] = 1.0;
            }
            return Ok(onehot);
        }
        if targets.len() != total {
            return Err(NnError::Targets(format!(
                "{} target values for an output of shape {out_dims:?} ({total} values)",
                targets.len()
            )));
        }
        Ok(targets.to_vec())
    }

    /// The mean loss of a batch as a one-element tensor (carrying the graph of `output`).
    ///
    /// # Shapes
    /// - `output`: `(batch, …, k)`; `target`: the same shape (see [`Loss::dense_targets`])
    /// - result: `(1)`
    pub fn compute(self, output: DynTensor, target: Vec<f32>) -> Tensor<1> {
        let dims = output.dims();
        let k = *dims.last().expect("an output axis");
        let rows = dims.iter().product::<usize>() / k.max(1);
        let device = output.device();
        let DynTensor::R2(p) = output.reshape(&[rows, k]) else {
            unreachable!("reshaped to rank 2")
        };
        let y: Tensor<2> = Tensor::from_data(TensorData::new(target, [rows, k]), &device);
        match self {
            Loss::MeanSquaredError => {
                let d = p - y;
                (d.clone() * d).mean()
            }
            Loss::MeanAbsoluteError => (p - y).abs().mean(),
            Loss::Huber => {
                // With e = |p − y|: ½e² up to 1, then e − ½; as ½q² + (e − q) with q = min(e, 1).
                let e = (p - y).abs();
                let q = e.clone().clamp_max(1.0);
                (q.clone() * q.clone() * 0.5 + e - q).mean()
            }
            Loss::BinaryCrossentropy => {
                let p = p.clamp(EPSILON, 1.0 - EPSILON);
                let ll = y.clone() * p.clone().log() + (y.neg() + 1.0) * (p.neg() + 1.0).log();
                ll.mean().neg()
            }
            Loss::CategoricalCrossentropy | Loss::SparseCategoricalCrossentropy => {
                // Keras renormalises the probabilities before clipping.
                let p = (p.clone() / p.sum_dim(1)).clamp(EPSILON, 1.0 - EPSILON);
                (y * p.log()).sum_dim(1).mean().neg()
            }
        }
    }

    /// Correct predictions among `output`'s rows: the argmax against the one-hot target, or
    /// the 0.5 threshold for binary cross-entropy. `(correct, rows)`.
    pub fn correct(self, output: &[f32], target: &[f32], k: usize) -> (usize, usize) {
        if self == Loss::BinaryCrossentropy {
            let hits = output
                .iter()
                .zip(target)
                .filter(|(p, y)| (**p > 0.5) == (**y > 0.5))
                .count();
            return (hits, output.len());
        }
        let hits = output
            .chunks(k)
            .zip(target.chunks(k))
            .filter(|(p, y)| argmax(p) == argmax(y))
            .count();
        (hits, output.len() / k.max(1))
    }
}

/// The index of the largest value (the first on ties): a row's predicted class.
pub fn argmax(row: &[f32]) -> usize {
    row.iter()
        .enumerate()
        .fold(
            (0, f32::NEG_INFINITY),
            |b, (i, &v)| if v > b.1 { (i, v) } else { b },
        )
        .0
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    fn value(loss: Loss, p: &[f32], shape: &[usize], y: &[f32]) -> f32 {
        let out = DynTensor::from_data(shape, p.to_vec(), &Device::flex());
        let y = loss.dense_targets(shape, y, &[]).unwrap();
        loss.compute(out, y).into_scalar::<f32>()
    }

    #[test]
    fn losses_equal_their_arithmetic() {
        let p = [0.2, 0.8, 0.6, 0.4];
        // MSE: ((0.2)² + (0.2)² + (0.4)² + (0.4)²) / 4 = 0.1.
        let mse = value(Loss::MeanSquaredError, &p, &[2, 2], &[0., 1., 1., 0.]);
        assert!((mse - 0.1).abs() < 1e-6, "{mse}");
        let mae = value(Loss::MeanAbsoluteError, &p, &[2, 2], &[0., 1., 1., 0.]);
        assert!((mae - 0.3).abs() < 1e-6, "{mae}");
        // Huber of errors 0.2, 0.2, 2.0, 0.5: (0.02 + 0.02 + 1.5 + 0.125) / 4.
        let hub = value(
            Loss::Huber,
            &[0.2, 0.8, 3.0, 0.5],
            &[2, 2],
            &[0., 1., 1., 0.],
        );
        assert!((hub - 1.665 / 4.0).abs() < 1e-6, "{hub}");
        // Sparse CE: −(ln 0.8 + ln 0.6) / 2, the same as one-hot CE.
        let want = -(0.8f32.ln() + 0.6f32.ln()) / 2.0;
        let s = value(Loss::SparseCategoricalCrossentropy, &p, &[2, 2], &[1., 0.]);
        let c = value(
            Loss::CategoricalCrossentropy,
            &p,
            &[2, 2],
            &[0., 1., 1., 0.],
        );
        assert!(
            (s - want).abs() < 1e-6 && (c - want).abs() < 1e-6,
            "{s} {c} {want}"
        );
        // BCE of p = 0.9 for y = 1 and p = 0.3 for y = 0: −(ln 0.9 + ln 0.7) / 2.
        let b = value(Loss::BinaryCrossentropy, &[0.9, 0.3], &[2, 1], &[1., 0.]);
        assert!((b + (0.9f32.ln() + 0.7f32.ln()) / 2.0).abs() < 1e-6, "{b}");
    }

    #[test]
    fn bad_class_indices_name_the_example() {
        let e = Loss::SparseCategoricalCrossentropy
            .dense_targets(&[3, 4], &[0., 2., 7.], &[40, 3, 17])
            .unwrap_err()
            .to_string();
        // The third row of a shuffled batch is example 17 of the data.
        assert!(
            e.contains("example 17 of the data has class 7") && e.contains("0..4"),
            "{e}"
        );
        assert!(Loss::parse("hinge")
            .unwrap_err()
            .to_string()
            .contains("sparse_categorical"));
    }
}
