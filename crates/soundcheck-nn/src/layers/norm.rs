//! Normalisation: BatchNormalization, LayerNormalization and UnitNormalization.

use soundcheck_shape::layers as spec;

use burn::tensor::Tensor;

use super::{single, Build, Op};
use crate::error::Result;
use crate::kernels;
use crate::pass::Pass;
use crate::tensor::{each_rank, Binary, DynTensor};
use crate::variables::Variables;

/// A Keras axis (batch 0, negatives from the end) in a tensor of `rank` axes.
fn resolve(axis: i64, rank: usize) -> usize {
    if axis < 0 {
        (rank as i64 + axis) as usize
    } else {
        axis as usize
    }
}

/// Each vector along `axes` divided by its L2 norm (at least 1e-6, Keras's epsilon 1e-12 on
/// the squared sum).
pub(crate) struct UnitNorm {
    axes: Vec<usize>,
}

impl UnitNorm {
    pub(crate) fn build(u: &spec::UnitNorm, b: &Build) -> UnitNorm {
        let rank = b.input.len() + 1;
        UnitNorm {
            axes: u.axes.iter().map(|&a| resolve(a, rank)).collect(),
        }
    }
}

impl Op for UnitNorm {
    /// # Shapes
    /// - input: any rank; output: the same shape
    fn forward(&self, inputs: Vec<DynTensor>, _: &Variables, _: &mut Pass) -> Result<DynTensor> {
        let x = single(inputs);
        let norm = each_rank!(x.clone(), t => {
            let squares = self.axes.iter().fold(t.clone() * t, |s, &a| s.sum_dim(a));
            squares.clamp_min(1e-12).sqrt()
        });
        Ok(x.zip_with(norm, Binary::Div))
    }
}

/// Normalisation along `axis` with the batch's statistics while training (moving them by
/// `momentum`), with the moving statistics at inference; then a ReLU if it runs the ReLU layer
/// that alone reads it (see `crate::fusion`).
pub(crate) struct BatchNorm {
    axis: usize,
    gamma: Option<usize>,
    beta: Option<usize>,
    mean: usize,
    var: usize,
    eps: f32,
    momentum: f32,
    relu: bool,
}

impl BatchNorm {
    pub(crate) fn build(bn: &spec::BatchNorm, relu: bool, b: &Build) -> Result<BatchNorm> {
        let axis = resolve(bn.axis, b.input.len() + 1);
        let c = b.known(axis - 1);
        let w = &b.weights;
        Ok(BatchNorm {
            axis,
            gamma: bn.scale.then(|| w.get("gamma", &[c])).transpose()?,
            beta: bn.center.then(|| w.get("beta", &[c])).transpose()?,
            mean: w.get("moving_mean", &[c])?,
            var: w.get("moving_variance", &[c])?,
            eps: bn.epsilon,
            momentum: bn.momentum,
            relu,
        })
    }

    /// The axis, γ, β, ε and ReLU, for the kernel facade.
    pub(crate) fn norm(&self, vars: &Variables) -> kernels::Norm {
        kernels::Norm {
            axis: self.axis,
            gamma: self.gamma.map(|g| vars.flat(g)),
            beta: self.beta.map(|b| vars.flat(b)),
            eps: self.eps,
            relu: self.relu,
        }
    }

    /// The moving mean and variance.
    pub(crate) fn moving(&self, vars: &Variables) -> (Tensor<1>, Tensor<1>) {
        (vars.flat(self.mean), vars.flat(self.var))
    }

    /// Moves the moving statistics towards the batch's (applied after the step).
    fn move_statistics(&self, mean: &[f32], var: &[f32], vars: &Variables, pass: &mut Pass) {
        for (idx, batch) in [(self.mean, mean), (self.var, var)] {
            let moved = vars
                .get(idx)
                .values()
                .iter()
                .zip(batch)
                .map(|(old, b)| old * self.momentum + b * (1.0 - self.momentum))
                .collect();
            pass.moving.push((idx, moved));
        }
    }
}

impl Op for BatchNorm {
    /// # Shapes
    /// - input: any rank, `axis` the normalised one; output: the same shape
    fn forward(
        &self,
        inputs: Vec<DynTensor>,
        vars: &Variables,
        pass: &mut Pass,
    ) -> Result<DynTensor> {
        let x = single(inputs);
        if pass.training.is_none() {
            return Ok(kernels::batch_norm_inference(
                x,
                self.norm(vars),
                self.moving(vars),
            ));
        }
        let (y, mean, var) = kernels::batch_norm_training(x, self.norm(vars));
        self.move_statistics(&mean, &var, vars, pass);
        Ok(y)
    }
}

/// Normalisation over `axes` of each example (RMS scaling divides by the root mean square
/// only).
pub(crate) struct LayerNorm {
    axes: Vec<usize>,
    gamma: Option<usize>,
    beta: Option<usize>,
    eps: f32,
    rms: bool,
}

impl LayerNorm {
    pub(crate) fn build(ln: &spec::LayerNorm, b: &Build) -> Result<LayerNorm> {
        let rank = b.input.len() + 1;
        let mut axes: Vec<usize> = ln.axes.iter().map(|&a| resolve(a, rank)).collect();
        axes.sort_unstable();
        let pshape: Vec<usize> = axes.iter().map(|&a| b.known(a - 1)).collect();
        let w = &b.weights;
        Ok(LayerNorm {
            gamma: (ln.scale || ln.rms_scaling)
                .then(|| w.get("gamma", &pshape))
                .transpose()?,
            beta: (ln.center && !ln.rms_scaling)
                .then(|| w.get("beta", &pshape))
                .transpose()?,
            axes,
            eps: ln.epsilon,
            rms: ln.rms_scaling,
        })
    }
}

impl Op for LayerNorm {
    /// # Shapes
    /// - input: any rank; output: the same shape
    fn forward(&self, inputs: Vec<DynTensor>, vars: &Variables, _: &mut Pass) -> Result<DynTensor> {
        let x = single(inputs);
        let dims = x.dims();
        let eps = self.eps;
        let y = if self.rms {
            let ms = each_rank!(x.clone(), t => {
                let sq = t.clone() * t;
                self.axes.iter().fold(sq, |m, &a| m.mean_dim(a)) + eps
            });
            x.zip_with(each_rank!(ms, t => t.sqrt()), Binary::Div)
        } else {
            let (m, v) = x.clone().moments(&self.axes);
            x.zip_with(m, Binary::Sub)
                .zip_with(each_rank!(v, t => (t + eps).sqrt()), Binary::Div)
        };
        let mut shape = vec![1; dims.len()];
        for &a in &self.axes {
            shape[a] = dims[a];
        }
        let (gamma, beta) = (
            self.gamma.map(|g| vars.flat(g)),
            self.beta.map(|b| vars.flat(b)),
        );
        Ok(y.scale_shift(gamma, beta, &shape))
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{assert_close, network, run};

    #[test]
    fn batch_norm_inference_uses_moving_statistics() {
        // (x − mean) / sqrt(var + 1e-3) · gamma + beta, per channel.
        let net = network(
            "[2]",
            "[[layers]]\ntype = \"BatchNormalization\"\n",
            &[
                ("batch_normalization/gamma", &[2], vec![2.0, 1.0]),
                ("batch_normalization/beta", &[2], vec![0.0, 1.0]),
                ("batch_normalization/moving_mean", &[2], vec![1.0, -1.0]),
                (
                    "batch_normalization/moving_variance",
                    &[2],
                    vec![3.999, 0.999],
                ),
            ],
        );
        let (_, y) = run(&net, &[1, 2], vec![5.0, 1.0]);
        assert_close(&y, &[2.0 * 4.0 / 2.0, 2.0 / 1.0 + 1.0]);
    }

    #[test]
    fn layer_norm_standardises_each_example() {
        let net = network(
            "[4]",
            "[[layers]]\ntype = \"LayerNormalization\"\nepsilon = 0.0\n",
            &[
                ("layer_normalization/gamma", &[4], vec![1.0; 4]),
                ("layer_normalization/beta", &[4], vec![0.0; 4]),
            ],
        );
        // Mean 2.5, variance 1.25 → (x − 2.5) / sqrt(1.25).
        let s = 1.25f32.sqrt();
        let (_, y) = run(&net, &[1, 4], vec![1.0, 2.0, 3.0, 4.0]);
        assert_close(&y, &[-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s]);
    }
}
