//! The operations the layers call where we have our own CPU kernels. Each one decides, in one
//! place, whether our kernel covers the case (burn-flex, see [`on_flex`], and the shapes and
//! layouts the kernel takes) and otherwise runs burn's own ops: other devices (wgpu) and other
//! cases keep working, and a layer has a single forward that calls the operation here.

use burn::tensor::activation::relu;
use burn::tensor::module::{
    avg_pool1d, avg_pool2d, conv1d, conv2d, conv3d, max_pool1d, max_pool2d,
};
use burn::tensor::ops::{AvgPoolOptions, ConvOptions, MaxPoolOptions};
use burn::tensor::{Tensor, TensorData};
use soundcheck_shape::layers::{PoolOp, RnnCell};
use soundcheck_shape::spec::DataFormat;

use super::{on_flex, Cell, Conv2dGeometry, Pool2dGeometry, RecurrenceShape};
use crate::layout::{
    from_channels_first, from_channels_last, kernel_to_burn, to_channels_first, to_channels_last,
};
use crate::tensor::{each_rank, Binary, DynTensor};

/// A convolution's kernel, in Keras's layout.
pub(crate) enum ConvKernel {
    /// `(k…, in / groups, out)`.
    Standard(DynTensor),
    /// A depthwise kernel `(k…, channels, multiplier)`: output channel `c·multiplier + m` reads
    /// input channel `c`.
    Depthwise(DynTensor),
}

/// A convolution's steps, in Keras's terms, its padding resolved on each spatial axis.
pub(crate) struct ConvArgs<'a> {
    pub(crate) strides: &'a [usize],
    pub(crate) dilation: &'a [usize],
    /// `(before, after)` zeros on each spatial axis.
    pub(crate) pads: Vec<(usize, usize)>,
    /// Input channel groups (one per channel for a depthwise kernel).
    pub(crate) groups: usize,
    pub(crate) data_format: DataFormat,
}

/// A convolution with bias, 1-D to 3-D: our channels_last kernel for a standard, ungrouped 1-D
/// or 2-D one on flex (a 1-D one is 2-D of height 1), burn's channels-first convolution
/// otherwise.
///
/// # Shapes
/// - `x`: `(batch, *spatial, in)` (channels_last) or `(batch, in, *spatial)`
/// - output: `(batch, *out_spatial, out)` in the same layout
pub(crate) fn conv(
    x: DynTensor,
    w: ConvKernel,
    bias: Option<Tensor<1>>,
    a: &ConvArgs,
) -> DynTensor {
    match w {
        ConvKernel::Standard(w) if on_conv_kernel(&x, a) => conv_kernel(x, w, bias, a, None),
        w => conv_burn(x, w, bias, a),
    }
}

/// At inference, a convolution then a BatchNormalization over its channels (channels_last),
/// then a ReLU if `n.relu`: where our kernel takes the convolution, the normalisation folded into
/// it and applied as each value is stored; otherwise [`conv`] then
/// [`batch_norm_inference`].
///
/// # Shapes
/// - `x`: `(batch, *spatial, in)`; `w`: `(k…, in, out)`; output: `(batch, *out_spatial, out)`
pub(crate) fn conv_batch_norm_inference(
    x: DynTensor,
    w: DynTensor,
    bias: Option<Tensor<1>>,
    a: &ConvArgs,
    n: Norm,
    moving: (Tensor<1>, Tensor<1>),
) -> DynTensor {
    if on_conv_kernel(&x, a) {
        let folded = fold(&n, moving);
        return conv_kernel(x, w, bias, a, Some((folded, n.relu)));
    }
    let y = conv_burn(x, ConvKernel::Standard(w), bias, a);
    batch_norm_inference(y, n, moving)
}

fn on_conv_kernel(x: &DynTensor, a: &ConvArgs) -> bool {
    a.groups == 1 && a.strides.len() <= 2 && on_flex(&x.device())
}

/// A per-channel `y·scale + shift` and whether a ReLU follows, applied by the kernel as it
/// stores each value.
type Folded = ((Vec<f32>, Vec<f32>), bool);

/// The convolution on our channels_last kernel: Keras's layout and kernel as they are
/// (channels_first data is permuted around it), with `then` applied as values are stored.
fn conv_kernel(
    x: DynTensor,
    w: DynTensor,
    bias: Option<Tensor<1>>,
    a: &ConvArgs,
    then: Option<Folded>,
) -> DynTensor {
    let x = to_channels_last(x, a.data_format);
    let dims = x.dims();
    let wdims = w.dims();
    let out_c = wdims[wdims.len() - 1];
    // A rank-3 input is (batch, length, channels): height 1, the length as the width.
    let (input, kernel, stride, dilation, pad) = if dims.len() == 3 {
        (
            [1, dims[1]],
            [1, wdims[0]],
            [1, a.strides[0]],
            [1, a.dilation[0]],
            [(0, 0), a.pads[0]],
        )
    } else {
        (
            [dims[1], dims[2]],
            [wdims[0], wdims[1]],
            [a.strides[0], a.strides[1]],
            [a.dilation[0], a.dilation[1]],
            [a.pads[0], a.pads[1]],
        )
    };
    let g = Conv2dGeometry {
        batch: dims[0],
        input,
        in_c: dims[dims.len() - 1],
        out_c,
        kernel,
        stride,
        dilation,
        pad,
    };
    let w = match w {
        DynTensor::R3(w) => w.reshape([1, kernel[1], g.in_c, out_c]),
        DynTensor::R4(w) => w,
        _ => unreachable!("the shape engine checked the conv kernel rank"),
    };
    let x4 = match x {
        DynTensor::R3(x) => x.reshape([g.batch, 1, input[1], g.in_c]),
        DynTensor::R4(x) => x,
        _ => unreachable!("the shape engine checked the conv input rank"),
    };
    let y = match then {
        None => super::conv2d_nhwc(x4, w, bias, g),
        Some(((scale, shift), relu)) => {
            let device = x4.device();
            let t = |v: Vec<f32>| Tensor::from_data(TensorData::new(v, [out_c]), &device);
            super::conv2d_nhwc_affine(x4, w, bias, (t(scale), t(shift), relu), g)
        }
    };
    let [oh, ow] = g.output();
    let y = if dims.len() == 3 {
        DynTensor::R3(y.reshape([g.batch, ow, out_c]))
    } else {
        DynTensor::R4(y.reshape([g.batch, oh, ow, out_c]))
    };
    from_channels_last(y, a.data_format)
}

/// The convolution on burn's channels-first ops.
fn conv_burn(x: DynTensor, w: ConvKernel, bias: Option<Tensor<1>>, a: &ConvArgs) -> DynTensor {
    let x = to_channels_first(x, a.data_format);
    let (s, d, p) = (a.strides, a.dilation, &a.pads);
    let y = match (x, burn_kernel(w)) {
        (DynTensor::R3(x), DynTensor::R3(w)) => {
            let opts = ConvOptions {
                stride: [s[0]],
                padding: [p[0]],
                dilation: [d[0]],
                groups: a.groups,
            };
            DynTensor::R3(conv1d(x, w, bias, opts))
        }
        (DynTensor::R4(x), DynTensor::R4(w)) => {
            let opts = ConvOptions {
                stride: [s[0], s[1]],
                padding: [p[0], p[1]],
                dilation: [d[0], d[1]],
                groups: a.groups,
            };
            DynTensor::R4(conv2d(x, w, bias, opts))
        }
        (DynTensor::R5(x), DynTensor::R5(w)) => {
            // burn's conv3d takes symmetric padding only: Keras's (uneven for 'same') is added
            // to the input first.
            let sides = [(0, 0), (0, 0), p[0], p[1], p[2]];
            let DynTensor::R5(x) = DynTensor::R5(x).pad(&sides) else {
                unreachable!("padding keeps the rank")
            };
            let opts = ConvOptions {
                stride: [s[0], s[1], s[2]],
                padding: [(0, 0); 3],
                dilation: [d[0], d[1], d[2]],
                groups: a.groups,
            };
            DynTensor::R5(conv3d(x, w, bias, opts))
        }
        _ => unreachable!("the shape engine checked the conv input rank"),
    };
    from_channels_first(y, a.data_format)
}

/// Keras's conv kernel `(k…, in, out)` as burn's `(out, in, k…)`; a depthwise kernel `(k…,
/// channels, multiplier)` as burn's grouped weight `(channels·multiplier, 1, k…)`.
fn burn_kernel(w: ConvKernel) -> DynTensor {
    match w {
        ConvKernel::Standard(w) => kernel_to_burn(w),
        ConvKernel::Depthwise(w) => {
            let dims = w.dims();
            let r = dims.len();
            let n = dims[r - 2] * dims[r - 1];
            let mut flat: Vec<usize> = dims[..r - 2].to_vec();
            flat.push(n);
            let perm: Vec<usize> = [r - 2].into_iter().chain(0..r - 2).collect();
            let grouped: Vec<usize> = [n, 1]
                .into_iter()
                .chain(dims[..r - 2].iter().copied())
                .collect();
            w.reshape(&flat).permute(&perm).reshape(&grouped)
        }
    }
}

/// A BatchNormalization's normalised axis and affine step.
pub(crate) struct Norm {
    pub(crate) axis: usize,
    /// Scale and shift per channel, when the layer has them.
    pub(crate) gamma: Option<Tensor<1>>,
    pub(crate) beta: Option<Tensor<1>>,
    pub(crate) eps: f32,
    /// Whether a ReLU follows (the ReLU layer after it, run by it).
    pub(crate) relu: bool,
}

/// Batch normalisation with the batch's own statistics, returned with the output (means, then
/// variances) for the moving statistics: our kernel's few passes (moments, normalisation and a
/// hand-written backward) over the last axis on flex, burn's ops otherwise.
///
/// # Shapes
/// - `x`: any rank, `n.axis` the normalised one; output: the same shape, and the `channels`
///   means and variances
pub(crate) fn batch_norm_training(x: DynTensor, n: Norm) -> (DynTensor, Vec<f32>, Vec<f32>) {
    let dims = x.dims();
    let c = dims[n.axis];
    if n.axis == dims.len() - 1 && on_flex(&x.device()) {
        let device = x.device();
        let gamma = n.gamma.unwrap_or_else(|| Tensor::ones([c], &device));
        let beta = n.beta.unwrap_or_else(|| Tensor::zeros([c], &device));
        let (y, m) = super::batch_norm_train(rows(x, c), gamma, beta, n.eps, n.relu);
        let mut m = m.into_data().try_into_vec_as::<f32>().expect("float data");
        let var = m.split_off(c);
        return (DynTensor::R2(y).reshape(&dims), m, var);
    }
    let others: Vec<usize> = (0..dims.len()).filter(|&a| a != n.axis).collect();
    let (mean, var) = x.clone().moments(&others);
    let (m, v) = (mean.to_vec(), var.to_vec());
    (normalize(x, mean, var, n), m, v)
}

/// Batch normalisation with the moving statistics `(mean, variance)`: on flex over the last
/// axis, folded into one scale and shift per channel applied in one pass of our kernel; burn's
/// ops otherwise.
///
/// # Shapes
/// - `x`: any rank, `n.axis` the normalised one; output: the same shape
pub(crate) fn batch_norm_inference(
    x: DynTensor,
    n: Norm,
    (mean, var): (Tensor<1>, Tensor<1>),
) -> DynTensor {
    let dims = x.dims();
    let c = dims[n.axis];
    if n.axis == dims.len() - 1 && on_flex(&x.device()) {
        let device = x.device();
        let relu = n.relu;
        let (a, b) = fold(&n, (mean, var));
        let tensor = |v: Vec<f32>| Tensor::from_data(TensorData::new(v, [c]), &device);
        let y = super::scale_shift(rows(x, c), tensor(a), tensor(b), relu);
        return DynTensor::R2(y).reshape(&dims);
    }
    let mut shape = vec![1; dims.len()];
    shape[n.axis] = c;
    let (mean, var) = (
        DynTensor::along(mean, &shape),
        DynTensor::along(var, &shape),
    );
    normalize(x, mean, var, n)
}

/// `(x − mean) / sqrt(var + eps)`, then γ, β and the ReLU, in burn's ops.
fn normalize(x: DynTensor, mean: DynTensor, var: DynTensor, n: Norm) -> DynTensor {
    let dims = x.dims();
    let mut shape = vec![1; dims.len()];
    shape[n.axis] = dims[n.axis];
    let std = each_rank!(var, t => (t + n.eps).sqrt());
    let y = x.zip_with(mean, Binary::Sub).zip_with(std, Binary::Div);
    let y = y.scale_shift(n.gamma, n.beta, &shape);
    if n.relu {
        each_rank!(y, t => relu(t))
    } else {
        y
    }
}

/// The moving statistics, γ and β folded into one scale and one shift per channel.
fn fold(n: &Norm, (mean, var): (Tensor<1>, Tensor<1>)) -> (Vec<f32>, Vec<f32>) {
    let host = |t: Tensor<1>| t.into_data().try_into_vec_as::<f32>().expect("float data");
    let (mean, var) = (host(mean), host(var));
    let c = mean.len();
    let gamma = n.gamma.clone().map_or_else(|| vec![1.0; c], host);
    let beta = n.beta.clone().map_or_else(|| vec![0.0; c], host);
    let a: Vec<f32> = (0..c).map(|i| gamma[i] / (var[i] + n.eps).sqrt()).collect();
    let b = (0..c).map(|i| beta[i] - mean[i] * a[i]).collect();
    (a, b)
}

/// A tensor as `(rows, c)`, every axis but the last flattened into the rows.
fn rows(x: DynTensor, c: usize) -> Tensor<2> {
    let len: usize = x.dims().iter().product();
    let DynTensor::R2(x) = x.reshape(&[len / c, c]) else {
        unreachable!("reshaped to rank 2")
    };
    x
}

/// The sum of the inputs (broadcast as Keras's Add does), then a ReLU: one pass of our kernel
/// for two operands of one shape on flex, burn's ops otherwise.
///
/// # Shapes
/// - `inputs`: two or more of one rank; output: the broadcast shape
pub(crate) fn add_relu(inputs: Vec<DynTensor>) -> DynTensor {
    if let [a, b] = inputs.as_slice() {
        let dims = a.dims();
        if dims == b.dims() && on_flex(&a.device()) {
            // Element-wise: any shape will do, (batch, features) is at hand.
            let features: usize = dims[1..].iter().product();
            let y = super::add_relu_kernel(rows(a.clone(), features), rows(b.clone(), features));
            return DynTensor::R2(y).reshape(&dims);
        }
    }
    let mut rest = inputs.into_iter();
    let first = rest
        .next()
        .expect("the shape engine checked two or more inputs");
    let sum = rest.fold(first, |acc, t| acc.zip_with(t, Binary::Add));
    each_rank!(sum, t => relu(t))
}

/// A pooling window's steps, in Keras's terms, its padding resolved on each spatial axis.
pub(crate) struct PoolArgs<'a> {
    pub(crate) op: PoolOp,
    pub(crate) window: &'a [usize],
    pub(crate) strides: &'a [usize],
    /// `(before, after)` padding on each spatial axis; average pools count only real elements.
    pub(crate) pads: Vec<(usize, usize)>,
    pub(crate) data_format: DataFormat,
}

/// Max or average pooling, 1-D to 3-D: our channels_last kernel for 1-D and 2-D channels_last
/// data on flex (a 1-D pool is 2-D of height 1), burn's channels-first pools otherwise.
///
/// # Shapes
/// - `x`: `(batch, *spatial, channels)` (channels_last) or `(batch, channels, *spatial)`
/// - output: the pooled spatial axes, same layout
pub(crate) fn pool(x: DynTensor, a: &PoolArgs) -> DynTensor {
    let kernel = a.window.len() <= 2 && a.data_format == DataFormat::ChannelsLast;
    if kernel && on_flex(&x.device()) {
        return pool_kernel(x, a);
    }
    let x = to_channels_first(x, a.data_format);
    let (k, s, p) = (a.window, a.strides, &a.pads);
    let y = match x {
        DynTensor::R3(x) => DynTensor::R3(pool1d(a.op, x, k[0], s[0], p[0])),
        DynTensor::R4(x) => {
            DynTensor::R4(pool2d(a.op, x, [k[0], k[1]], [s[0], s[1]], [p[0], p[1]]))
        }
        DynTensor::R5(x) => DynTensor::R5(pool3d(x, a)),
        _ => unreachable!("the shape engine checked the pool input rank"),
    };
    from_channels_first(y, a.data_format)
}

/// The pool on our channels_last kernel.
fn pool_kernel(x: DynTensor, a: &PoolArgs) -> DynTensor {
    let dims = x.dims();
    let max = a.op == PoolOp::Max;
    let g = if dims.len() == 3 {
        Pool2dGeometry {
            batch: dims[0],
            input: [1, dims[1]],
            channels: dims[2],
            window: [1, a.window[0]],
            stride: [1, a.strides[0]],
            pad: [(0, 0), a.pads[0]],
            max,
        }
    } else {
        Pool2dGeometry {
            batch: dims[0],
            input: [dims[1], dims[2]],
            channels: dims[3],
            window: [a.window[0], a.window[1]],
            stride: [a.strides[0], a.strides[1]],
            pad: [a.pads[0], a.pads[1]],
            max,
        }
    };
    let x4 = match x {
        DynTensor::R3(x) => x.reshape([g.batch, 1, g.input[1], g.channels]),
        DynTensor::R4(x) => x,
        _ => unreachable!("rank checked by the caller"),
    };
    let y = super::pool2d_nhwc(x4, g);
    let [oh, ow] = g.output();
    if dims.len() == 3 {
        DynTensor::R3(y.reshape([g.batch, ow, g.channels]))
    } else {
        DynTensor::R4(y.reshape([g.batch, oh, ow, g.channels]))
    }
}

/// A 1-D pool of `(batch, channels, steps)`.
fn pool1d(op: PoolOp, x: Tensor<3>, k: usize, stride: usize, pad: (usize, usize)) -> Tensor<3> {
    match op {
        PoolOp::Max => max_pool1d(
            x,
            MaxPoolOptions {
                kernel_size: [k],
                stride: [stride],
                padding: [pad],
                dilation: [1],
                ceil_mode: false,
            },
        ),
        PoolOp::Average => avg_pool1d(
            x,
            AvgPoolOptions {
                kernel_size: [k],
                stride: [stride],
                padding: [pad],
                count_include_pad: false,
                ceil_mode: false,
            },
        ),
    }
}

/// A 2-D pool of `(batch, channels, rows, cols)`.
fn pool2d(
    op: PoolOp,
    x: Tensor<4>,
    k: [usize; 2],
    stride: [usize; 2],
    pad: [(usize, usize); 2],
) -> Tensor<4> {
    match op {
        PoolOp::Max => max_pool2d(
            x,
            MaxPoolOptions {
                kernel_size: k,
                stride,
                padding: pad,
                dilation: [1, 1],
                ceil_mode: false,
            },
        ),
        PoolOp::Average => avg_pool2d(
            x,
            AvgPoolOptions {
                kernel_size: k,
                stride,
                padding: pad,
                count_include_pad: false,
                ceil_mode: false,
            },
        ),
    }
}

/// A 3-D pool of `(batch, channels, depth, rows, cols)` as a 2-D pool of every depth slice,
/// then a 1-D pool along depth: burn has no 3-D pool, and both operations separate over a box
/// window. The max of a box is the max of its slices' maxima; the mean of its real elements is
/// the mean over real slices of the slices' means, because every slice of one window has the
/// same count of real elements.
fn pool3d(x: Tensor<5>, a: &PoolArgs) -> Tensor<5> {
    let [b, c, d, h, w] = x.dims();
    let (k, s, p) = (a.window, a.strides, &a.pads);
    let y = pool2d(
        a.op,
        x.reshape([b, c * d, h, w]),
        [k[1], k[2]],
        [s[1], s[2]],
        [p[1], p[2]],
    );
    let [_, _, oh, ow] = y.dims();
    let along_depth = y
        .reshape([b, c, d, oh * ow])
        .swap_dims(2, 3)
        .reshape([b, c * oh * ow, d]);
    let z = pool1d(a.op, along_depth, k[0], s[0], p[0]);
    let od = z.dims()[2];
    z.reshape([b, c, oh * ow, od])
        .swap_dims(2, 3)
        .reshape([b, c, od, oh, ow])
}

/// The LSTM (or GRU with `reset_after`) recurrence on our kernel, on flex; `None` for other
/// cells and devices, which the layer runs step by step in burn's ops. A GRU's recurrent bias
/// `b_rec` rides along as the kernel's last row.
///
/// # Shapes
/// - `xw`: `(batch, time, gates·units)`, the input projections with their bias; `u`: `(units,
///   gates·units)`; `b_rec`: `(gates·units)`; `mask`: `(batch, time)`, 1 for a real step
/// - output: `(batch, time·units)` with `sequences`, else `(batch, units)`
pub(crate) fn recurrence(
    cell: RnnCell,
    xw: &Tensor<3>,
    u: &Tensor<2>,
    b_rec: Option<&Tensor<1>>,
    mask: Option<&Tensor<2>>,
    (reverse, sequences): (bool, bool),
) -> Option<Tensor<2>> {
    let cell = match cell {
        RnnCell::Lstm => Cell::Lstm,
        RnnCell::Gru { reset_after: true } => Cell::Gru,
        _ => return None,
    };
    let device = xw.device();
    if !on_flex(&device) {
        return None;
    }
    let [n, t, gu] = xw.dims();
    let s = RecurrenceShape {
        cell,
        batch: n,
        time: t,
        units: u.dims()[0],
        reverse,
        sequences,
    };
    let mask = mask
        .cloned()
        .unwrap_or_else(|| Tensor::ones([n, t], &device));
    let u = match cell {
        Cell::Lstm => u.clone(),
        Cell::Gru => {
            let b = b_rec
                .cloned()
                .unwrap_or_else(|| Tensor::zeros([gu], &device));
            Tensor::cat(vec![u.clone(), b.reshape([1, gu])], 0)
        }
    };
    Some(super::recurrence_kernel(xw.clone(), u, mask, s))
}
