//! A network's variables, kept in Keras's layout and under Keras's names (`conv2d/kernel`), so
//! the weights a run saves load in Keras and Keras's weights load here. Layers reshape and permute
//! them into burn's layout at each forward pass; gradients flow back through that view.

use burn::tensor::{Device, Tensor, TensorData};
use soundcheck_io::SplitMix64;

use crate::tensor::DynTensor;
use crate::weights::Weights;

/// One weight tensor, in Keras's layout and under Keras's name.
pub struct Variable {
    /// Keras's variable path, e.g. `lstm/lstm_cell/recurrent_kernel`.
    pub key: String,
    /// Where a `.keras` file saves it: the path of the (sub)layer that owns it, e.g.
    /// `layers/lstm/cell` (`crate::keras_file`).
    pub saved_as: String,
    /// Keras's shape.
    pub shape: Vec<usize>,
    /// False for BatchNormalization's moving statistics.
    pub trainable: bool,
    value: Tensor<1>,
}

impl Variable {
    /// Its number of values.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether it holds no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Its values in C order.
    pub fn values(&self) -> Vec<f32> {
        self.value
            .to_data()
            .try_into_vec_as::<f32>()
            .expect("float data")
    }
}

/// Every variable of a network, in the order the layers asked for them.
#[derive(Default)]
pub struct Variables {
    vars: Vec<Variable>,
}

impl Variables {
    pub(crate) fn push(
        &mut self,
        key: String,
        saved_as: String,
        shape: &[usize],
        data: Vec<f32>,
        trainable: bool,
        device: &Device,
    ) -> usize {
        let n = data.len();
        self.vars.push(Variable {
            key,
            saved_as,
            shape: shape.to_vec(),
            trainable,
            value: Tensor::from_data(TensorData::new(data, [n]), device),
        });
        self.vars.len() - 1
    }

    /// The variables in order.
    pub fn iter(&self) -> impl Iterator<Item = &Variable> {
        self.vars.iter()
    }

    /// The number of variables.
    pub fn len(&self) -> usize {
        self.vars.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.vars.is_empty()
    }

    /// The `i`-th variable.
    pub fn get(&self, i: usize) -> &Variable {
        &self.vars[i]
    }

    /// Variable `i`'s values as a vector, whatever its shape.
    pub(crate) fn flat(&self, i: usize) -> Tensor<1> {
        self.vars[i].value.clone()
    }

    /// Variable `i` in its Keras shape.
    pub(crate) fn tensor<const D: usize>(&self, i: usize) -> Tensor<D> {
        let v = &self.vars[i];
        let shape: [usize; D] = v.shape.clone().try_into().expect("rank of the variable");
        v.value.clone().reshape(shape)
    }

    /// Variable `i` in its Keras shape, of rank 2 to 5, when the rank varies with the layer.
    pub(crate) fn dyn_tensor(&self, i: usize) -> DynTensor {
        let v = &self.vars[i];
        DynTensor::along(v.value.clone(), &v.shape)
    }

    /// Replaces variable `i`'s values; `tracked` makes it a leaf whose gradient backward keeps.
    pub fn set(&mut self, i: usize, data: Vec<f32>, tracked: bool) {
        let v = &mut self.vars[i];
        let n = data.len();
        debug_assert_eq!(n, v.len(), "variable '{}'", v.key);
        let t = Tensor::from_data(TensorData::new(data, [n]), &v.value.device());
        v.value = if tracked {
            t.autodiff().require_grad()
        } else {
            t
        };
    }

    /// The trainable variables as gradient-keeping leaves (`true`) or plain tensors (`false`).
    pub fn track(&mut self, tracked: bool) {
        for i in 0..self.vars.len() {
            if self.vars[i].trainable {
                let values = self.vars[i].values();
                self.set(i, values, tracked);
            }
        }
    }

    /// All variables by Keras key, to save as safetensors.
    pub fn to_weights(&self) -> Weights {
        self.vars
            .iter()
            .map(|v| (v.key.clone(), (v.shape.clone(), v.values())))
            .collect()
    }
}

/// Keras's default initial value of a new variable, from its name and shape: glorot_uniform
/// kernels, orthogonal recurrent kernels, zero biases (the LSTM forget gate's at one, Keras's
/// `unit_forget_bias`), unit gammas and moving variances, U(−0.05, 0.05) embeddings.
pub(crate) fn keras_initial(key: &str, shape: &[usize], rng: &mut SplitMix64) -> Vec<f32> {
    let n: usize = shape.iter().product();
    let leaf = key.rsplit('/').next().unwrap_or(key);
    let uniform = |rng: &mut SplitMix64, limit: f64| -> Vec<f32> {
        (0..n)
            .map(|_| ((2.0 * rng.uniform() - 1.0) * limit) as f32)
            .collect()
    };
    match leaf {
        "gamma" | "moving_variance" => vec![1.0; n],
        "bias" if key.ends_with("lstm_cell/bias") => {
            let u = n / 4;
            (0..n)
                .map(|i| if (u..2 * u).contains(&i) { 1.0 } else { 0.0 })
                .collect()
        }
        "embeddings" => uniform(rng, 0.05),
        "recurrent_kernel" => orthogonal(shape[0], shape[1], rng),
        "kernel" | "depthwise_kernel" | "pointwise_kernel" => {
            let (fan_in, fan_out) = fans(shape);
            uniform(rng, (6.0 / (fan_in + fan_out) as f64).sqrt())
        }
        _ => vec![0.0; n],
    }
}

/// Keras's `compute_fans`: the last two axes are (in, out), the others the receptive field.
fn fans(shape: &[usize]) -> (usize, usize) {
    match shape {
        [] => (1, 1),
        [n] => (*n, *n),
        [a, b] => (*a, *b),
        _ => {
            let r = shape.len();
            let field: usize = shape[..r - 2].iter().product();
            (shape[r - 2] * field, shape[r - 1] * field)
        }
    }
}

/// A `rows × cols` matrix with orthonormal rows (or columns, whichever are fewer), as Keras's
/// `Orthogonal` initializer: Gram–Schmidt on Gaussian vectors.
fn orthogonal(rows: usize, cols: usize, rng: &mut SplitMix64) -> Vec<f32> {
    let (k, len) = (rows.min(cols), rows.max(cols));
    let mut basis: Vec<Vec<f64>> = Vec::with_capacity(k);
    while basis.len() < k {
        let mut v: Vec<f64> = (0..len).map(|_| rng.normal()).collect();
        for b in &basis {
            let d: f64 = v.iter().zip(b).map(|(x, y)| x * y).sum();
            v.iter_mut().zip(b).for_each(|(x, y)| *x -= d * y);
        }
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        // A draw (numerically) inside the span so far is discarded and redrawn.
        if norm > 1e-6 {
            basis.push(v.into_iter().map(|x| x / norm).collect());
        }
    }
    let mut out = vec![0f32; rows * cols];
    for (i, b) in basis.iter().enumerate() {
        for (j, &x) in b.iter().enumerate() {
            // The k vectors are the rows when rows ≤ cols, the columns otherwise.
            let (r, c) = if rows <= cols { (i, j) } else { (j, i) };
            out[r * cols + c] = x as f32;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recurrent_kernels_have_orthonormal_rows() {
        let (u, g) = (8, 32);
        let m = orthogonal(u, g, &mut SplitMix64::new(3));
        for a in 0..u {
            for b in 0..u {
                let d: f32 = (0..g).map(|j| m[a * g + j] * m[b * g + j]).sum();
                let want = if a == b { 1.0 } else { 0.0 };
                assert!((d - want).abs() < 1e-5, "rows {a},{b}: {d}");
            }
        }
    }

    #[test]
    fn glorot_limit_uses_the_receptive_field() {
        // Conv2D 3×3, 1 → 32: fan_in 9, fan_out 288, limit sqrt(6/297).
        let w = keras_initial("conv2d/kernel", &[3, 3, 1, 32], &mut SplitMix64::new(1));
        let limit = (6.0f32 / 297.0).sqrt();
        assert!(w.iter().all(|v| v.abs() <= limit));
        assert!(w.iter().any(|v| v.abs() > 0.9 * limit));
        let b = keras_initial("lstm/lstm_cell/bias", &[8], &mut SplitMix64::new(1));
        assert_eq!(b, vec![0., 0., 1., 1., 0., 0., 0., 0.]);
    }
}
