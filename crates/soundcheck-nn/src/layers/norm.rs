//! Normalisation: BatchNormalization and LayerNormalization.

use soundcheck_shape::layers as spec;

use burn::tensor::{Tensor, TensorData};

use super::{Activation, Build, ChannelAffine, Unary};
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

/// Normalisation along `axis` with the batch's statistics while training (moving them by
/// `momentum`), with the moving statistics at inference.
pub(crate) struct BatchNorm {
    axis: usize,
    gamma: Option<usize>,
    beta: Option<usize>,
    mean: usize,
    var: usize,
    eps: f32,
    momentum: f32,
    /// The activation of the next layer, taken over (see [`Unary::absorb`]).
    then: Activation,
    /// Whether `axis` is the last one (channels, for channels_last data).
    last_axis: bool,
}

impl BatchNorm {
    pub(crate) fn build(bn: &spec::BatchNorm, b: &Build) -> Result<BatchNorm> {
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
            then: Activation::Linear,
            last_axis: axis == b.input.len(),
        })
    }
}

impl BatchNorm {
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

    /// The moving statistics, γ and β folded into one scale and one shift per channel.
    fn folded(&self, vars: &Variables) -> (Vec<f32>, Vec<f32>) {
        let mean = vars.get(self.mean).values();
        let var = vars.get(self.var).values();
        let c = mean.len();
        let values = |v: Option<usize>, default: f32| match v {
            Some(i) => vars.get(i).values(),
            None => vec![default; c],
        };
        let (gamma, beta) = (values(self.gamma, 1.0), values(self.beta, 0.0));
        let a: Vec<f32> = (0..c)
            .map(|i| gamma[i] / (var[i] + self.eps).sqrt())
            .collect();
        let b = (0..c).map(|i| beta[i] - mean[i] * a[i]).collect();
        (a, b)
    }

    /// Inference over the last axis on our CPU kernel: [`folded`](Self::folded) applied in one
    /// pass with the fused ReLU.
    fn infer_channels_last(&self, x: DynTensor, vars: &Variables) -> DynTensor {
        let dims = x.dims();
        let c = dims[self.axis];
        let (a, b) = self.folded(vars);
        let device = x.device();
        let DynTensor::R2(x2) = x.reshape(&[dims.iter().product::<usize>() / c, c]) else {
            unreachable!("reshaped to rank 2")
        };
        let tensor = |v: Vec<f32>| Tensor::from_data(TensorData::new(v, [c]), &device);
        let y = kernels::scale_shift(x2, tensor(a), tensor(b), self.then == Activation::Relu);
        DynTensor::R2(y).reshape(&dims)
    }

    /// Training over the last axis on our CPU kernel: moments, normalisation and its backward
    /// in a few passes.
    fn train_channels_last(&self, x: DynTensor, vars: &Variables, pass: &mut Pass) -> DynTensor {
        let dims = x.dims();
        let c = dims[self.axis];
        let device = x.device();
        let DynTensor::R2(x2) = x.reshape(&[dims.iter().product::<usize>() / c, c]) else {
            unreachable!("reshaped to rank 2")
        };
        let gamma = self
            .gamma
            .map_or_else(|| Tensor::ones([c], &device), |g| vars.flat(g));
        let beta = self
            .beta
            .map_or_else(|| Tensor::zeros([c], &device), |b| vars.flat(b));
        let relu = self.then == Activation::Relu;
        let (y, m) = kernels::batch_norm_train(x2, gamma, beta, self.eps, relu);
        let m = m.into_data().try_into_vec_as::<f32>().expect("float data");
        self.move_statistics(&m[..c], &m[c..], vars, pass);
        DynTensor::R2(y).reshape(&dims)
    }
}

impl Unary for BatchNorm {
    /// # Shapes
    /// - input: any rank, `axis` the normalised one; output: the same shape
    fn apply(&self, x: DynTensor, vars: &Variables, pass: &mut Pass) -> Result<DynTensor> {
        let dims = x.dims();
        let mut shape = vec![1; dims.len()];
        shape[self.axis] = dims[self.axis];
        let training = pass.training.is_some();
        if self.axis == dims.len() - 1 && kernels::on_flex(&x.device()) {
            return Ok(match training {
                true => self.train_channels_last(x, vars, pass),
                false => self.infer_channels_last(x, vars),
            });
        }
        let (mu, sigma2) = if training {
            let others: Vec<usize> = (0..dims.len()).filter(|&a| a != self.axis).collect();
            let (m, v) = x.clone().moments(&others);
            self.move_statistics(&m.to_vec(), &v.to_vec(), vars, pass);
            (m, v)
        } else {
            (
                DynTensor::along(vars.flat(self.mean), &shape),
                DynTensor::along(vars.flat(self.var), &shape),
            )
        };
        let std = each_rank!(sigma2, t => (t + self.eps).sqrt());
        let y = x.zip_with(mu, Binary::Sub).zip_with(std, Binary::Div);
        Ok(self
            .then
            .run(scale_shift(y, self.gamma, self.beta, vars, &shape)))
    }

    // `then` is only ever Linear or a ReLU (see `absorb`), both of which the map applies.
    fn is_channel_affine(&self) -> bool {
        self.last_axis
    }

    fn channel_affine(&self, vars: &Variables) -> Option<ChannelAffine> {
        self.is_channel_affine().then(|| {
            let (a, b) = self.folded(vars);
            (a, b, self.then == Activation::Relu)
        })
    }

    /// A following ReLU: the training kernel applies it in the same pass.
    fn absorb(&mut self, act: Activation) -> bool {
        if act == Activation::Relu && self.then == Activation::Linear {
            self.then = act;
            return true;
        }
        false
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

impl Unary for LayerNorm {
    /// # Shapes
    /// - input: any rank; output: the same shape
    fn apply(&self, x: DynTensor, vars: &Variables, _: &mut Pass) -> Result<DynTensor> {
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
        Ok(scale_shift(y, self.gamma, self.beta, vars, &shape))
    }
}

/// `y · gamma + beta` with the (optional) variables laid along the axes of `shape` that are not
/// 1: the affine step of both normalisations.
fn scale_shift(
    mut y: DynTensor,
    gamma: Option<usize>,
    beta: Option<usize>,
    vars: &Variables,
    shape: &[usize],
) -> DynTensor {
    if let Some(g) = gamma {
        y = y.zip_with(DynTensor::along(vars.flat(g), shape), Binary::Mul);
    }
    if let Some(b) = beta {
        y = y.zip_with(DynTensor::along(vars.flat(b), shape), Binary::Add);
    }
    y
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
