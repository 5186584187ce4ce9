//! Convolutions: Conv1D/2D/3D (grouped, dilated, causal), DepthwiseConv1D/2D,
//! SeparableConv1D/2D and Conv1D/2D/3DTranspose. The kernel facade (`kernels::conv`) runs them
//! on our channels_last CPU kernel or burn's channels-first convolutions; the transposed ones
//! run on burn's.

use burn::tensor::module::{conv_transpose1d, conv_transpose2d, conv_transpose3d};
use burn::tensor::ops::ConvTransposeOptions;
use soundcheck_shape::layers::{Conv, ConvKind, Padding};
use soundcheck_shape::spec::DataFormat;

use super::activation::Activation;
use super::conv_bank::Branch;
use super::norm::BatchNorm;
use super::spatial::crop;
use super::{bias_tensor, single, Build, Op};
use crate::error::Result;
use crate::kernels::{self, ConvArgs, ConvKernel};
use crate::layout::{from_channels_first, kernel_to_burn, spatial_dims, to_channels_first};
use crate::pass::Pass;
use crate::tensor::{Binary, DynTensor};
use crate::variables::Variables;

/// Builds a convolution layer: one op for standard, depthwise and transposed convolutions; a
/// separable one is a depthwise convolution then a 1×1 pointwise one.
pub(crate) fn build(c: &Conv, b: &Build) -> Result<Box<dyn Op>> {
    let channels = channels(c, b);
    let act = Activation::of(&c.activation, b)?;
    let kernel = |name: &str, depthwise: bool, shape: &[usize]| -> Result<Kernel> {
        Ok(Kernel {
            var: b.weights.get(name, shape)?,
            depthwise,
        })
    };
    Ok(match c.kind {
        ConvKind::Standard => Box::new(Convolution::standard(c, b)?),
        ConvKind::Transpose => Box::new(Transpose(Convolution {
            conv: c.clone(),
            w: kernel("kernel", false, &kernel_shape(c, &[c.filters, channels]))?,
            b: b.weights.bias(c.use_bias, c.filters)?,
            act,
        })),
        ConvKind::Depthwise => {
            let dm = c.depth_multiplier;
            Box::new(Convolution {
                w: kernel("kernel", true, &kernel_shape(c, &[channels, dm]))?,
                conv: depthwise(c, channels),
                b: b.weights.bias(c.use_bias, channels * dm)?,
                act,
            })
        }
        ConvKind::Separable => {
            let dm = c.depth_multiplier;
            let ones = vec![1; c.rank];
            let pointwise_shape: Vec<usize> = ones
                .iter()
                .copied()
                .chain([channels * dm, c.filters])
                .collect();
            let depthwise = Convolution {
                w: kernel("depthwise_kernel", true, &kernel_shape(c, &[channels, dm]))?,
                conv: Conv {
                    use_bias: false,
                    ..depthwise(c, channels)
                },
                b: None,
                act: Activation::Linear,
            };
            let pointwise = Convolution {
                conv: Conv {
                    kernel: ones.clone(),
                    strides: ones.clone(),
                    dilation: ones,
                    padding: Padding::Valid,
                    groups: 1,
                    ..c.clone()
                },
                w: kernel("pointwise_kernel", false, &pointwise_shape)?,
                b: b.weights.bias(c.use_bias, c.filters)?,
                act,
            };
            Box::new(Separable {
                depthwise,
                pointwise,
            })
        }
    })
}

/// The input's channels.
fn channels(c: &Conv, b: &Build) -> usize {
    let ch = match c.data_format {
        DataFormat::ChannelsLast => b.input.len() - 1,
        DataFormat::ChannelsFirst => 0,
    };
    b.known(ch)
}

/// A kernel's shape: the window, then `tail`.
fn kernel_shape(c: &Conv, tail: &[usize]) -> Vec<usize> {
    c.kernel.iter().chain(tail).copied().collect()
}

/// A depthwise convolution as burn's grouped one: a group per input channel.
fn depthwise(c: &Conv, channels: usize) -> Conv {
    Conv {
        groups: channels,
        filters: channels * c.depth_multiplier,
        ..c.clone()
    }
}

/// A convolution kernel variable, in Keras's layout: `(k…, in, out)`, or `(k…, channels,
/// multiplier)` for a depthwise one.
struct Kernel {
    var: usize,
    depthwise: bool,
}

impl Kernel {
    fn tensor(&self, vars: &Variables) -> ConvKernel {
        let w = vars.dyn_tensor(self.var);
        match self.depthwise {
            true => ConvKernel::Depthwise(w),
            false => ConvKernel::Standard(w),
        }
    }
}

/// `(begin, end)` padding Keras applies for `padding` on a length-`l` axis, for a window of
/// `span` input samples moved by `stride`.
pub(crate) fn pads(padding: Padding, l: usize, span: usize, stride: usize) -> (usize, usize) {
    match padding {
        Padding::Valid => (0, 0),
        Padding::Causal => (span - 1, 0),
        Padding::Same => {
            let out = l.div_ceil(stride);
            let total = ((out - 1) * stride + span).saturating_sub(l);
            (total / 2, total - total / 2)
        }
    }
}

/// Conv1D/2D/3D and DepthwiseConv1D/2D (a grouped convolution).
struct Convolution {
    conv: Conv,
    w: Kernel,
    b: Option<usize>,
    act: Activation,
}

impl Convolution {
    /// A standard convolution: kernel `(k…, in / groups, filters)`.
    fn standard(c: &Conv, b: &Build) -> Result<Convolution> {
        let act = Activation::of(&c.activation, b)?;
        let shape = kernel_shape(c, &[channels(c, b) / c.groups, c.filters]);
        Ok(Convolution {
            conv: c.clone(),
            w: Kernel {
                var: b.weights.get("kernel", &shape)?,
                depthwise: false,
            },
            b: b.weights.bias(c.use_bias, c.filters)?,
            act,
        })
    }

    fn span(&self, i: usize) -> usize {
        self.conv.dilation[i] * (self.conv.kernel[i] - 1) + 1
    }

    /// The strides, dilation, groups and Keras's padding for input `x`.
    fn args(&self, x: &DynTensor) -> ConvArgs<'_> {
        let c = &self.conv;
        let dims = x.dims();
        let pads = spatial_dims(&dims, c.data_format)
            .iter()
            .enumerate()
            .map(|(i, &l)| pads(c.padding, l, self.span(i), c.strides[i]))
            .collect();
        ConvArgs {
            strides: &c.strides,
            dilation: &c.dilation,
            pads,
            groups: c.groups,
            data_format: c.data_format,
        }
    }

    /// # Shapes
    /// - `x`: `(batch, *spatial, in)` (channels_last) or `(batch, in, *spatial)`
    /// - output: `(batch, *out_spatial, filters)` in the same layout
    fn run(&self, x: DynTensor, vars: &Variables) -> DynTensor {
        let args = self.args(&x);
        let y = kernels::conv(x, self.w.tensor(vars), bias_tensor(vars, self.b), &args);
        self.act.run(y)
    }
}

impl Op for Convolution {
    /// # Shapes
    /// - input: `(batch, *spatial, in)` (channels_last) or `(batch, in, *spatial)`
    /// - output: `(batch, *out_spatial, filters)` in the same layout
    fn forward(&self, inputs: Vec<DynTensor>, vars: &Variables, _: &mut Pass) -> Result<DynTensor> {
        Ok(self.run(single(inputs), vars))
    }
}

/// A standard convolution built in its own place in the model for the later layer that runs
/// it (the BatchNormalization after it, or the Concatenate of its bank; see `crate::fusion`),
/// so that the network's variables are created, and drawn, in the model's order.
pub(crate) struct HeldConv(Convolution);

impl HeldConv {
    pub(crate) fn build(c: &Conv, b: &Build) -> Result<HeldConv> {
        Ok(HeldConv(Convolution::standard(c, b)?))
    }

    /// The convolution, then `norm` (and the ReLU it runs, if it does).
    pub(crate) fn then_norm(self, norm: BatchNorm) -> ConvNorm {
        ConvNorm { conv: self.0, norm }
    }

    /// The convolution as a branch of a bank: fusion checked it is a channels_last Conv1D of
    /// stride 1, dilation 1, 'same' padding and one group.
    pub(crate) fn branch(self) -> Branch {
        let Convolution { conv, w, b, act } = self.0;
        Branch {
            kernel: conv.kernel[0],
            filters: conv.filters,
            w: w.var,
            b,
            act,
        }
    }
}

/// A convolution (channels_last, one group, no activation of its own) and the
/// BatchNormalization over its channels that alone reads it: at inference, the normalisation
/// folded into the convolution where our kernel takes it; in training, the two in turn.
pub(crate) struct ConvNorm {
    conv: Convolution,
    norm: BatchNorm,
}

impl Op for ConvNorm {
    /// # Shapes
    /// - input: `(batch, *spatial, in)`; output: `(batch, *out_spatial, filters)`
    fn forward(
        &self,
        inputs: Vec<DynTensor>,
        vars: &Variables,
        pass: &mut Pass,
    ) -> Result<DynTensor> {
        let x = single(inputs);
        if pass.training.is_some() {
            let y = self.conv.run(x, vars);
            return self.norm.forward(vec![y], vars, pass);
        }
        let (conv, args) = (&self.conv, self.conv.args(&x));
        Ok(kernels::conv_batch_norm_inference(
            x,
            vars.dyn_tensor(conv.w.var),
            bias_tensor(vars, conv.b),
            &args,
            self.norm.norm(vars),
            self.norm.moving(vars),
        ))
    }
}

/// SeparableConv1D/2D: a depthwise convolution (with the strides and padding), then a 1×1
/// pointwise one (with the bias and activation).
struct Separable {
    depthwise: Convolution,
    pointwise: Convolution,
}

impl Op for Separable {
    /// # Shapes
    /// - input: `(batch, *spatial, in)` (channels_last) or `(batch, in, *spatial)`
    /// - output: `(batch, *out_spatial, filters)` in the same layout
    fn forward(&self, inputs: Vec<DynTensor>, vars: &Variables, _: &mut Pass) -> Result<DynTensor> {
        let y = self.depthwise.run(single(inputs), vars);
        Ok(self.pointwise.run(y, vars))
    }
}

/// Conv1D/2D/3DTranspose.
struct Transpose(Convolution);

impl Op for Transpose {
    /// The full transposed convolution, then TensorFlow's window of it: the output starts
    /// where SAME padding of the matching forward convolution would, and is zero-extended where
    /// it reaches past the full result.
    ///
    /// # Shapes
    /// - input: `(batch, *spatial, in)`; output: `(batch, *conv.out_len(spatial), filters)`
    ///   (channels_last; channels_first alike)
    fn forward(&self, inputs: Vec<DynTensor>, vars: &Variables, _: &mut Pass) -> Result<DynTensor> {
        let x = single(inputs);
        let Transpose(Convolution {
            conv, w, b, act, ..
        }) = self;
        let x = to_channels_first(x, conv.data_format);
        let dims = x.dims();
        let full = match (x, kernel_to_burn(vars.dyn_tensor(w.var))) {
            (DynTensor::R3(x), DynTensor::R3(w)) => DynTensor::R3(conv_transpose1d(
                x,
                w,
                None,
                ConvTransposeOptions {
                    stride: [conv.strides[0]],
                    padding: [0],
                    padding_out: [0],
                    dilation: [conv.dilation[0]],
                    groups: 1,
                },
            )),
            (DynTensor::R4(x), DynTensor::R4(w)) => DynTensor::R4(conv_transpose2d(
                x,
                w,
                None,
                ConvTransposeOptions {
                    stride: [conv.strides[0], conv.strides[1]],
                    padding: [0, 0],
                    padding_out: [0, 0],
                    dilation: [conv.dilation[0], conv.dilation[1]],
                    groups: 1,
                },
            )),
            (DynTensor::R5(x), DynTensor::R5(w)) => DynTensor::R5(conv_transpose3d(
                x,
                w,
                None,
                ConvTransposeOptions {
                    stride: [conv.strides[0], conv.strides[1], conv.strides[2]],
                    padding: [0, 0, 0],
                    padding_out: [0, 0, 0],
                    dilation: [conv.dilation[0], conv.dilation[1], conv.dilation[2]],
                    groups: 1,
                },
            )),
            _ => unreachable!("the shape engine checked the conv input rank"),
        };
        let fdims = full.dims();
        let mut cropped = vec![(0, 0); fdims.len()];
        let mut extend = vec![(0, 0); fdims.len()];
        for i in 0..conv.rank {
            let (l, f) = (dims[2 + i], fdims[2 + i]);
            let out = conv.out_len(i, l) as usize;
            let start = match conv.padding {
                Padding::Valid => 0,
                _ => ((l - 1) * conv.strides[i] + self.0.span(i)).saturating_sub(out) / 2,
            };
            let end = (start + out).min(f);
            cropped[2 + i] = (start, f - end);
            extend[2 + i] = (0, out - (end - start));
        }
        let mut y = crop(full, &cropped);
        if extend.iter().any(|&(_, e)| e > 0) {
            y = y.pad(&extend);
        }
        if let Some(bias) = bias_tensor(vars, *b) {
            let mut shape = vec![1; y.dims().len()];
            shape[1] = conv.filters;
            y = y.zip_with(DynTensor::along(bias, &shape), Binary::Add);
        }
        Ok(act.run(from_channels_first(y, conv.data_format)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_close, network, run};

    #[test]
    fn same_padding_splits_like_keras() {
        // Keras puts the odd element of SAME padding after: k=4 on 5 → (1, 2).
        assert_eq!(pads(Padding::Same, 5, 4, 1), (1, 2));
        // Strided: ceil(7/2) = 4 outputs need (4−1)·2 + 3 = 9 samples: 2 padded, 1 + 1.
        assert_eq!(pads(Padding::Same, 7, 3, 2), (1, 1));
        assert_eq!(pads(Padding::Causal, 7, 5, 1), (4, 0));
        assert_eq!(pads(Padding::Valid, 7, 5, 1), (0, 0));
    }

    #[test]
    fn conv1d_causal_is_a_written_out_sum() {
        // y[t] = 1·x[t−1] + 2·x[t] + bias, x[−1] = 0 (causal padding).
        let net = network(
            "[4, 1]",
            "[[layers]]\ntype = \"Conv1D\"\nfilters = 1\nkernel_size = 2\npadding = \"causal\"\n",
            &[
                ("conv1d/kernel", &[2, 1, 1], vec![1.0, 2.0]),
                ("conv1d/bias", &[1], vec![0.5]),
            ],
        );
        let (shape, y) = run(&net, &[1, 4, 1], vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!(shape, [1, 4, 1]);
        assert_close(&y, &[2.5, 5.5, 8.5, 11.5]);
    }

    #[test]
    fn depthwise_multiplier_orders_outputs_channel_major() {
        // Kernel (k=1, channels=2, multiplier=2): output c·2 + m = x_c · w[c][m].
        let net = network(
            "[1, 2]",
            "[[layers]]\ntype = \"DepthwiseConv1D\"\nkernel_size = 1\ndepth_multiplier = 2\nuse_bias = false\n",
            &[("depthwise_conv1d/kernel", &[1, 2, 2], vec![1.0, 10.0, 100.0, 1000.0])],
        );
        let (_, y) = run(&net, &[1, 1, 2], vec![2.0, 3.0]);
        assert_close(&y, &[2.0, 20.0, 300.0, 3000.0]);
    }

    #[test]
    fn transpose_strided_spreads_each_input() {
        // Valid, stride 2, kernel [1, 1]: each input lands on two outputs.
        let net = network(
            "[3, 1]",
            "[[layers]]\ntype = \"Conv1DTranspose\"\nfilters = 1\nkernel_size = 2\nstrides = 2\nuse_bias = false\n",
            &[("conv1d_transpose/kernel", &[2, 1, 1], vec![1.0, 1.0])],
        );
        let (shape, y) = run(&net, &[1, 3, 1], vec![1.0, 2.0, 3.0]);
        assert_eq!(shape, [1, 6, 1]);
        assert_close(&y, &[1.0, 1.0, 2.0, 2.0, 3.0, 3.0]);
    }
}
