//! Convolutions: Conv1D/2D/3D (grouped, dilated, causal), DepthwiseConv1D/2D,
//! SeparableConv1D/2D and Conv1D/2D/3DTranspose, on burn's channels-first convolutions.

use burn::tensor::module::{
    conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d,
};
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions};
use burn::tensor::{Tensor, TensorData};
use soundcheck_shape::layers::{Conv, ConvKind, Padding};
use soundcheck_shape::spec::DataFormat;

use super::activation::Activation;
use super::layout::{from_channels_first, from_channels_last, to_channels_first, to_channels_last};
use super::spatial::{crop, pad};
use super::{bias_tensor, Branch, Build, ChannelAffine, Op, Unary};
use crate::error::Result;
use crate::kernels;
use crate::pass::Pass;
use crate::tensor::{Binary, DynTensor};
use crate::variables::Variables;

/// Builds a convolution layer: one op for standard, depthwise and transposed convolutions; a
/// separable one is a depthwise convolution then a 1×1 pointwise one.
pub(crate) fn build(c: &Conv, b: &Build) -> Result<Box<dyn Op>> {
    let ch = match c.data_format {
        DataFormat::ChannelsLast => b.input.len() - 1,
        DataFormat::ChannelsFirst => 0,
    };
    let channels = b.known(ch);
    let act = Activation::of(&c.activation, b)?;
    let kernel_shape =
        |tail: &[usize]| -> Vec<usize> { c.kernel.iter().chain(tail).copied().collect() };
    let kernel = |name: &str, depthwise: bool, shape: &[usize]| -> Result<Kernel> {
        Ok(Kernel {
            var: b.weights.get(name, shape)?,
            depthwise,
        })
    };
    Ok(match c.kind {
        ConvKind::Standard => Box::new(Convolution {
            conv: c.clone(),
            w: kernel(
                "kernel",
                false,
                &kernel_shape(&[channels / c.groups, c.filters]),
            )?,
            b: b.weights.bias(c.use_bias, c.filters)?,
            act,
            next: None,
        }),
        ConvKind::Transpose => Box::new(Transpose(Convolution {
            conv: c.clone(),
            w: kernel("kernel", false, &kernel_shape(&[c.filters, channels]))?,
            b: b.weights.bias(c.use_bias, c.filters)?,
            act,
            next: None,
        })),
        ConvKind::Depthwise => {
            let dm = c.depth_multiplier;
            Box::new(Convolution {
                w: kernel("kernel", true, &kernel_shape(&[channels, dm]))?,
                conv: depthwise(c, channels),
                b: b.weights.bias(c.use_bias, channels * dm)?,
                act,
                next: None,
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
                w: kernel("depthwise_kernel", true, &kernel_shape(&[channels, dm]))?,
                conv: Conv {
                    use_bias: false,
                    ..depthwise(c, channels)
                },
                b: None,
                act: Activation::Linear,
                next: None,
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
                next: None,
            };
            Box::new(Separable {
                depthwise,
                pointwise,
            })
        }
    })
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

enum BurnKernel {
    W1(Tensor<3>),
    W2(Tensor<4>),
    W3(Tensor<5>),
}

impl Kernel {
    /// Keras's conv kernel `(k…, in, out)` as burn's `(out, in, k…)`, equally a transposed
    /// kernel `(k…, out, in)` as burn's `(in, out, k…)`; a depthwise kernel `(k…, channels,
    /// multiplier)` as burn's grouped weight `(channels·multiplier, 1, k…)`: output channel
    /// `c·multiplier + m` reads input channel `c`.
    fn burn(&self, vars: &Variables) -> BurnKernel {
        let s = &vars.get(self.var).shape;
        match (s.len(), self.depthwise) {
            (3, false) => BurnKernel::W1(vars.tensor::<3>(self.var).permute([2, 1, 0])),
            (3, true) => {
                let n = s[1] * s[2];
                BurnKernel::W1(
                    vars.tensor::<3>(self.var)
                        .reshape([s[0], n])
                        .permute([1, 0])
                        .reshape([n, 1, s[0]]),
                )
            }
            (4, false) => BurnKernel::W2(vars.tensor::<4>(self.var).permute([3, 2, 0, 1])),
            // Keras has no depthwise 3-D convolution.
            (_, false) => BurnKernel::W3(vars.tensor::<5>(self.var).permute([4, 3, 0, 1, 2])),
            (_, true) => {
                let n = s[2] * s[3];
                BurnKernel::W2(
                    vars.tensor::<4>(self.var)
                        .reshape([s[0], s[1], n])
                        .permute([2, 0, 1])
                        .reshape([n, 1, s[0], s[1]]),
                )
            }
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
    /// The BatchNormalization that alone reads this convolution's output, taken over (see
    /// [`Unary::absorb_layer`]): folded into the kernel's store at inference, run after it
    /// otherwise.
    next: Option<Box<dyn Op>>,
}

impl Convolution {
    fn span(&self, i: usize) -> usize {
        self.conv.dilation[i] * (self.conv.kernel[i] - 1) + 1
    }

    /// # Shapes
    /// - `x`: `(batch, *spatial, in)` (channels_last) or `(batch, in, *spatial)`
    /// - output: `(batch, *out_spatial, filters)` in the same layout
    fn run(&self, x: DynTensor, vars: &Variables) -> DynTensor {
        let c = &self.conv;
        if self.on_kernel(&x) {
            return self.act.run(self.run_channels_last(x, vars, None));
        }
        let x = to_channels_first(x, c.data_format);
        let dims = x.dims();
        let bias = bias_tensor(vars, self.b);
        let y = match (x, self.w.burn(vars)) {
            (DynTensor::R3(x), BurnKernel::W1(w)) => {
                let opts = ConvOptions {
                    stride: [c.strides[0]],
                    padding: [pads(c.padding, dims[2], self.span(0), c.strides[0])],
                    dilation: [c.dilation[0]],
                    groups: c.groups,
                };
                DynTensor::R3(conv1d(x, w, bias, opts))
            }
            (DynTensor::R4(x), BurnKernel::W2(w)) => {
                let opts = ConvOptions {
                    stride: [c.strides[0], c.strides[1]],
                    padding: [
                        pads(c.padding, dims[2], self.span(0), c.strides[0]),
                        pads(c.padding, dims[3], self.span(1), c.strides[1]),
                    ],
                    dilation: [c.dilation[0], c.dilation[1]],
                    groups: c.groups,
                };
                DynTensor::R4(conv2d(x, w, bias, opts))
            }
            (DynTensor::R5(x), BurnKernel::W3(w)) => {
                // burn's conv3d takes symmetric padding only: Keras's (uneven for 'same') is
                // added to the input first.
                let mut sides = vec![(0, 0), (0, 0)];
                sides.extend(
                    (0..3).map(|i| pads(c.padding, dims[2 + i], self.span(i), c.strides[i])),
                );
                let DynTensor::R5(x) = pad(DynTensor::R5(x), &sides) else {
                    unreachable!("padding keeps the rank")
                };
                let opts = ConvOptions {
                    stride: [c.strides[0], c.strides[1], c.strides[2]],
                    padding: [(0, 0); 3],
                    dilation: [c.dilation[0], c.dilation[1], c.dilation[2]],
                    groups: c.groups,
                };
                DynTensor::R5(conv3d(x, w, bias, opts))
            }
            _ => unreachable!("the shape engine checked the conv input rank"),
        };
        self.act.run(from_channels_first(y, c.data_format))
    }

    /// Whether the convolution runs on our CPU kernel (1-D and 2-D ones).
    fn on_kernel(&self, x: &DynTensor) -> bool {
        self.conv.groups == 1
            && !self.w.depthwise
            && self.conv.rank <= 2
            && kernels::on_flex(&x.device())
    }

    /// The same convolution on our channels_last CPU kernel: Keras's layout and kernel as they
    /// are (a Conv1D is a Conv2D of height 1; channels_first data is permuted around it), with
    /// `then` applied to each value as it is stored.
    fn run_channels_last(
        &self,
        x: DynTensor,
        vars: &Variables,
        then: Option<ChannelAffine>,
    ) -> DynTensor {
        let c = &self.conv;
        let x = to_channels_last(x, c.data_format);
        let dims = x.dims();
        let wshape = &vars.get(self.w.var).shape;
        // A rank-3 input is (batch, length, channels): height 1, the length as the width.
        let (input, kernel, stride, dilation, pad) = if dims.len() == 3 {
            let span = self.span(0);
            (
                [1, dims[1]],
                [1, c.kernel[0]],
                [1, c.strides[0]],
                [1, c.dilation[0]],
                [(0, 0), pads(c.padding, dims[1], span, c.strides[0])],
            )
        } else {
            (
                [dims[1], dims[2]],
                [c.kernel[0], c.kernel[1]],
                [c.strides[0], c.strides[1]],
                [c.dilation[0], c.dilation[1]],
                [
                    pads(c.padding, dims[1], self.span(0), c.strides[0]),
                    pads(c.padding, dims[2], self.span(1), c.strides[1]),
                ],
            )
        };
        let g = kernels::Conv2dGeometry {
            batch: dims[0],
            input,
            in_c: dims[dims.len() - 1],
            out_c: c.filters,
            kernel,
            stride,
            dilation,
            pad,
        };
        let w = match wshape.len() {
            3 => vars
                .tensor::<3>(self.w.var)
                .reshape([1, kernel[1], g.in_c, c.filters]),
            _ => vars.tensor::<4>(self.w.var),
        };
        let x4 = match x {
            DynTensor::R3(x) => x.reshape([g.batch, 1, input[1], g.in_c]),
            DynTensor::R4(x) => x,
            _ => unreachable!("the shape engine checked the conv input rank"),
        };
        let bias = bias_tensor(vars, self.b);
        let y = match then {
            None => kernels::conv2d_nhwc(x4, w, bias, g),
            Some((scale, shift, relu)) => {
                let device = x4.device();
                let t = |v: Vec<f32>| Tensor::from_data(TensorData::new(v, [c.filters]), &device);
                kernels::conv2d_nhwc_affine(x4, w, bias, (t(scale), t(shift), relu), g)
            }
        };
        let [oh, ow] = g.output();
        let y = if dims.len() == 3 {
            DynTensor::R3(y.reshape([g.batch, ow, c.filters]))
        } else {
            DynTensor::R4(y.reshape([g.batch, oh, ow, c.filters]))
        };
        from_channels_last(y, c.data_format)
    }
}

impl Unary for Convolution {
    fn apply(&self, x: DynTensor, vars: &Variables, pass: &mut Pass) -> Result<DynTensor> {
        let Some(next) = &self.next else {
            return Ok(self.run(x, vars));
        };
        if pass.training.is_none() && self.on_kernel(&x) {
            if let Some(affine) = next.channel_affine(vars) {
                return Ok(self.run_channels_last(x, vars, Some(affine)));
            }
        }
        let y = self.run(x, vars);
        next.forward(vec![y], vars, pass)
    }

    /// A channels_last Conv1D of stride 1, dilation 1, 'same' padding and one group.
    fn bank_branch(&self) -> Option<Branch> {
        let c = &self.conv;
        let fits = self.next.is_none()
            && c.kind == ConvKind::Standard
            && c.rank == 1
            && c.groups == 1
            && c.strides == [1]
            && c.dilation == [1]
            && c.padding == Padding::Same
            && c.data_format == DataFormat::ChannelsLast;
        fits.then_some(Branch {
            kernel: c.kernel[0],
            filters: c.filters,
            w: self.w.var,
            b: self.b,
            act: self.act,
        })
    }

    /// A BatchNormalization over the channels of channels_last data, when nothing comes
    /// between them (no activation of the convolution's own).
    fn absorb_layer(&mut self, next: Box<dyn Op>) -> std::result::Result<(), Box<dyn Op>> {
        let c = &self.conv;
        let fits = self.next.is_none()
            && self.act == Activation::Linear
            && c.groups == 1
            && !self.w.depthwise
            && c.data_format == DataFormat::ChannelsLast
            && next.is_channel_affine();
        if !fits {
            return Err(next);
        }
        self.next = Some(next);
        Ok(())
    }
}

/// SeparableConv1D/2D: a depthwise convolution (with the strides and padding), then a 1×1
/// pointwise one (with the bias and activation).
struct Separable {
    depthwise: Convolution,
    pointwise: Convolution,
}

impl Unary for Separable {
    fn apply(&self, x: DynTensor, vars: &Variables, _: &mut Pass) -> Result<DynTensor> {
        let y = self.depthwise.run(x, vars);
        Ok(self.pointwise.run(y, vars))
    }
}

/// Conv1D/2D/3DTranspose.
struct Transpose(Convolution);

impl Unary for Transpose {
    /// The full transposed convolution, then TensorFlow's window of it: the output starts
    /// where SAME padding of the matching forward convolution would, and is zero-extended where
    /// it reaches past the full result.
    ///
    /// # Shapes
    /// - input: `(batch, *spatial, in)`; output: `(batch, *conv.out_len(spatial), filters)`
    ///   (channels_last; channels_first alike)
    fn apply(&self, x: DynTensor, vars: &Variables, _: &mut Pass) -> Result<DynTensor> {
        let Transpose(Convolution {
            conv, w, b, act, ..
        }) = self;
        let x = to_channels_first(x, conv.data_format);
        let dims = x.dims();
        let full = match (x, w.burn(vars)) {
            (DynTensor::R3(x), BurnKernel::W1(w)) => DynTensor::R3(conv_transpose1d(
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
            (DynTensor::R4(x), BurnKernel::W2(w)) => DynTensor::R4(conv_transpose2d(
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
            (DynTensor::R5(x), BurnKernel::W3(w)) => DynTensor::R5(conv_transpose3d(
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
            y = pad(y, &extend);
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
