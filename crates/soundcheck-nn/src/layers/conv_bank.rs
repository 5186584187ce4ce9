//! A bank of Conv1D branches run as one convolution: branches of kernel sizes 1, 2, …, 8 over
//! the same input, joined by a Concatenate over channels (seed 004's filter bank). Each branch
//! alone is a few thousand multiply-adds behind its own im2col, gemm, activation and tape
//! entries, eight times over plus the concatenation; one convolution whose kernel holds every
//! branch's kernel, zero-padded to a common window, does the same work in one pass (the bank's
//! training step 10.5 → 6.6 ms in the measurement that motivated it; BENCHMARKS.md).
//!
//! The values are the branches' exactly: with stride 1, 'same' padding puts a kernel of size
//! `k` at `(k − 1) / 2` samples before each output sample, so branch `k`'s taps sit at offset
//! `left − (k − 1) / 2` of the common window, `left` being the largest such lead. The weights
//! stay the branches' own variables; the combined kernel is built from them on every pass, so
//! their gradients are the slices of its gradient.

use burn::tensor::Tensor;
use soundcheck_shape::spec::DataFormat;

use super::activation::Activation;
use super::{bias_tensor, single, HeldConv, Op};
use crate::error::Result;
use crate::kernels::{self, ConvArgs, ConvKernel};
use crate::pass::Pass;
use crate::tensor::DynTensor;
use crate::variables::Variables;

/// One Conv1D of a bank: channels_last, stride 1, dilation 1, 'same' padding, one group.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Branch {
    pub(crate) kernel: usize,
    pub(crate) filters: usize,
    /// The kernel variable `(kernel, in, filters)`.
    pub(crate) w: usize,
    pub(crate) b: Option<usize>,
    pub(crate) act: Activation,
}

impl Branch {
    /// Samples of input the kernel reads before the output sample ('same' padding, stride 1).
    fn lead(&self) -> usize {
        (self.kernel - 1) / 2
    }

    /// Samples it reads after it.
    fn lag(&self) -> usize {
        self.kernel - 1 - self.lead()
    }
}

/// The bank's branches, in the Concatenate's order, as one convolution.
pub(crate) struct ConvBank {
    branches: Vec<Branch>,
    /// The common window's lead and lag.
    lead: usize,
    lag: usize,
}

impl ConvBank {
    /// The bank of `branches`, which fusion checked to be one or more channels_last Conv1D of
    /// stride 1, dilation 1, 'same' padding and one group, sharing one activation.
    pub(crate) fn new(branches: Vec<HeldConv>) -> ConvBank {
        let branches: Vec<Branch> = branches.into_iter().map(HeldConv::branch).collect();
        let lead = branches.iter().map(Branch::lead).max().unwrap_or(0);
        let lag = branches.iter().map(Branch::lag).max().unwrap_or(0);
        ConvBank {
            branches,
            lead,
            lag,
        }
    }

    /// The combined kernel `(lead + lag + 1, in, Σ filters)` and bias (`None` if no branch
    /// has one).
    fn kernel(&self, vars: &Variables, in_c: usize) -> (Tensor<3>, Option<Tensor<1>>) {
        let window = self.lead + self.lag + 1;
        let device = vars.tensor::<3>(self.branches[0].w).device();
        let zeros = |n: usize, f: usize| Tensor::<3>::zeros([n, in_c, f], &device);
        let parts = self.branches.iter().map(|b| {
            let before = self.lead - b.lead();
            let after = window - b.kernel - before;
            let mut taps = vec![vars.tensor::<3>(b.w)];
            if before > 0 {
                taps.insert(0, zeros(before, b.filters));
            }
            if after > 0 {
                taps.push(zeros(after, b.filters));
            }
            Tensor::cat(taps, 0)
        });
        let w = Tensor::cat(parts.collect(), 2);
        let bias = self.branches.iter().any(|b| b.b.is_some()).then(|| {
            let parts = self.branches.iter().map(|b| {
                bias_tensor(vars, b.b).unwrap_or_else(|| Tensor::zeros([b.filters], &device))
            });
            Tensor::cat(parts.collect(), 0)
        });
        (w, bias)
    }
}

impl Op for ConvBank {
    /// # Shapes
    /// - inputs: the branches' common input `(batch, length, in)`
    /// - output: `(batch, length, Σ filters)`, the branches' outputs side by side
    fn forward(&self, inputs: Vec<DynTensor>, vars: &Variables, _: &mut Pass) -> Result<DynTensor> {
        let x = single(inputs);
        let (w, bias) = self.kernel(vars, x.dims()[2]);
        let args = ConvArgs {
            strides: &[1],
            dilation: &[1],
            pads: vec![(self.lead, self.lag)],
            groups: 1,
            data_format: DataFormat::ChannelsLast,
        };
        let y = kernels::conv(x, ConvKernel::Standard(DynTensor::R3(w)), bias, &args);
        Ok(self.branches[0].act.run(y))
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{network, run};

    /// A bank of kernel sizes 1–4 (two filters each, bias, leaky ReLU) against the same
    /// branches written out: kernel size k reads `(k − 1) / 2` samples before each output.
    #[test]
    fn bank_equals_its_branches() {
        let layers: String = (1..=4)
            .map(|k| {
                format!("[[layers]]\ntype = \"Conv1D\"\nname = \"k{k}\"\nfilters = 2\nkernel_size = {k}\npadding = \"same\"\nactivation = \"leaky_relu\"\ninputs = [\"input\"]\n\n")
            })
            .chain(["[[layers]]\ntype = \"Concatenate\"\ninputs = [\"k1\", \"k2\", \"k3\", \"k4\"]\n".to_string()])
            .collect();
        let value = |k: usize, i: usize| ((k * 31 + i * 7) % 11) as f32 / 5.0 - 1.0;
        let mut weights = Vec::new();
        for k in 1..=4 {
            let w: Vec<f32> = (0..k * 2 * 2).map(|i| value(k, i)).collect();
            let b: Vec<f32> = (0..2).map(|i| value(k + 10, i)).collect();
            weights.push((format!("k{k}/kernel"), vec![k, 2, 2], w));
            weights.push((format!("k{k}/bias"), vec![2], b));
        }
        let weights: Vec<(&str, &[usize], Vec<f32>)> = weights
            .iter()
            .map(|(k, s, v)| (k.as_str(), s.as_slice(), v.clone()))
            .collect();
        let net = network("[9, 2]", &layers, &weights);
        assert_eq!(
            net.layers_run_by_others(),
            4,
            "the bank runs as one convolution"
        );
        let (len, batch) = (9, 2);
        let x: Vec<f32> = (0..batch * len * 2).map(|i| value(99, i)).collect();
        let (shape, y) = run(&net, &[batch, len, 2], x.clone());
        assert_eq!(shape, [batch, len, 8]);
        let leaky = |v: f32| if v < 0.0 { 0.2 * v } else { v };
        for n in 0..batch {
            for t in 0..len {
                for k in 1..=4usize {
                    for f in 0..2 {
                        let mut s = value(k + 10, f);
                        for j in 0..k {
                            let Some(at) = (t + j).checked_sub((k - 1) / 2).filter(|&a| a < len)
                            else {
                                continue;
                            };
                            for c in 0..2 {
                                s += x[(n * len + at) * 2 + c] * value(k, (j * 2 + c) * 2 + f);
                            }
                        }
                        let got = y[(n * len + t) * 8 + (k - 1) * 2 + f];
                        assert!(
                            (got - leaky(s)).abs() < 1e-5,
                            "n{n} t{t} k{k} f{f}: {got} vs {}",
                            leaky(s)
                        );
                    }
                }
            }
        }
    }
}
