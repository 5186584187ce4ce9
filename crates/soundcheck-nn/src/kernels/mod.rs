//! Our own CPU kernels inside burn, for the layers that dominate training time: channels_last
//! convolution and pooling, batch normalisation, the residual Add with its ReLU, and the LSTM
//! and GRU recurrences. A backend extension ([`CpuKernels`]) is implemented for burn-flex
//! (`flex.rs`, over the slice kernels of `conv2d.rs` and `conv2d_direct.rs` with their geometry
//! and input tiles in `conv2d_tiles.rs`, `pool2d.rs`, `batch_norm.rs`, `residual.rs`, `lstm.rs`
//! and `gru.rs`, behind `recurrence.rs`) and for its autodiff (`autodiff.rs`, with hand-written
//! backward passes). The layers call the operations of `ops.rs`, which choose between these
//! kernels and burn's own ops (other devices such as wgpu, and cases the kernels do not cover)
//! in one place per operation.

mod autodiff;
pub mod batch_norm;
pub mod conv2d;
mod conv2d_direct;
mod conv2d_tiles;
mod flex;
mod gru;
mod lstm;
mod matmul;
mod ops;
pub mod pool2d;
pub mod recurrence;
mod reduce;
pub mod residual;

use std::mem::MaybeUninit;

use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Backend, DispatchDevice};
use burn::tensor::{Device, Tensor};

pub use conv2d::Conv2dGeometry;
pub(crate) use ops::{
    add_relu, batch_norm_inference, batch_norm_training, conv, conv_batch_norm_inference, pool,
    recurrence, ConvArgs, ConvKernel, Norm, PoolArgs,
};
pub use pool2d::Pool2dGeometry;
pub use recurrence::{Cell, RecurrenceShape};

/// A kernel's output buffer of `len` values, not yet written. Not `vec![0.0; len]`: calloc
/// re-zeroes reused heap blocks, and zeroing tensors of tens of MB that a kernel overwrites at
/// once took a fifth of the mask net's training step.
pub(crate) fn output_buffer(len: usize) -> Vec<MaybeUninit<f32>> {
    let mut v = Vec::with_capacity(len);
    v.resize_with(len, MaybeUninit::uninit);
    v
}

/// The buffer's values, once a kernel has written every one of them.
///
/// # Safety
/// Every element of `v` has been written.
pub(crate) unsafe fn assume_written(v: Vec<MaybeUninit<f32>>) -> Vec<f32> {
    let mut v = std::mem::ManuallyDrop::new(v);
    // SAFETY: `MaybeUninit<f32>` has `f32`'s size and alignment, the allocation is handed over
    // whole (pointer, length, capacity), and the caller vouches that every value is written.
    unsafe { Vec::from_raw_parts(v.as_mut_ptr().cast(), v.len(), v.capacity()) }
}

/// A part of an output buffer as values, once every one of them is written.
///
/// # Safety
/// Every element of `s` has been written.
pub(crate) unsafe fn written(s: &mut [MaybeUninit<f32>]) -> &mut [f32] {
    // SAFETY: as in `assume_written`, for a borrowed part.
    unsafe { &mut *(s as *mut [MaybeUninit<f32>] as *mut [f32]) }
}

/// Whether `device` runs on burn-flex (with or without autodiff), where these kernels apply.
fn on_flex(device: &Device) -> bool {
    matches!(
        device.clone().inner().as_dispatch(),
        DispatchDevice::Flex(_)
    )
}

/// The kernels, as operations on a backend's float tensors.
#[backend_extension(Flex, Autodiff)]
pub trait CpuKernels: Backend {
    /// Channels_last convolution with bias (see [`Conv2dGeometry`] for the shapes).
    fn conv2d_nhwc(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        b: FloatTensor<Self>,
        g: Conv2dGeometry,
    ) -> FloatTensor<Self>;
    /// [`conv2d_nhwc`](CpuKernels::conv2d_nhwc), then `y·scale + shift` per output channel and
    /// a ReLU if `relu` (a BatchNormalization at inference folded in); differentiated as the
    /// two ops it stands for, with `scale` and `shift` constant.
    fn conv2d_nhwc_affine(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        b: FloatTensor<Self>,
        scale: FloatTensor<Self>,
        shift: FloatTensor<Self>,
        relu: bool,
        g: Conv2dGeometry,
    ) -> FloatTensor<Self>;
    /// The input gradient of [`conv2d_nhwc`](CpuKernels::conv2d_nhwc).
    fn conv2d_nhwc_grad_input(
        w: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        g: Conv2dGeometry,
    ) -> FloatTensor<Self>;
    /// The kernel gradient of [`conv2d_nhwc`](CpuKernels::conv2d_nhwc).
    fn conv2d_nhwc_grad_weight(
        x: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        g: Conv2dGeometry,
    ) -> FloatTensor<Self>;
    /// The bias gradient of [`conv2d_nhwc`](CpuKernels::conv2d_nhwc).
    fn conv2d_nhwc_grad_bias(dy: FloatTensor<Self>, g: Conv2dGeometry) -> FloatTensor<Self>;
    /// The batch's per-channel mean and variance over every axis but the last, `(2·channels)`;
    /// not differentiated (the normalisation's backward accounts for them).
    fn channel_moments(x: FloatTensor<Self>) -> FloatTensor<Self>;
    /// Batch normalisation over the last axis with the batch's own moments `m` (from
    /// [`channel_moments`](CpuKernels::channel_moments)), then a ReLU if `relu`.
    fn batch_norm_last_axis(
        x: FloatTensor<Self>,
        m: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        eps: f32,
        relu: bool,
    ) -> FloatTensor<Self>;
    /// The gradients `(dx, dγ, dβ)` of [`batch_norm_last_axis`](CpuKernels::batch_norm_last_axis).
    #[allow(clippy::too_many_arguments)]
    fn batch_norm_last_axis_backward(
        x: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        m: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        eps: f32,
        relu: bool,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
    /// `x·a + b` per channel of the last axis, then a ReLU if `relu` (batch normalisation at
    /// inference); differentiated in `x` only.
    fn scale_shift_last_axis(
        x: FloatTensor<Self>,
        a: FloatTensor<Self>,
        b: FloatTensor<Self>,
        relu: bool,
    ) -> FloatTensor<Self>;
    /// The input gradient of [`scale_shift_last_axis`](CpuKernels::scale_shift_last_axis).
    fn scale_shift_last_axis_backward(
        x: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        a: FloatTensor<Self>,
        b: FloatTensor<Self>,
        relu: bool,
    ) -> FloatTensor<Self>;
    /// Max or average pooling of channels_last data (see [`Pool2dGeometry`]).
    fn pool2d_nhwc(x: FloatTensor<Self>, g: Pool2dGeometry) -> FloatTensor<Self>;
    /// The input gradient of [`pool2d_nhwc`](CpuKernels::pool2d_nhwc).
    fn pool2d_nhwc_backward(
        x: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        g: Pool2dGeometry,
    ) -> FloatTensor<Self>;
    /// `max(0, a + b)` element-wise, `a` and `b` of one shape (a residual Add, then its ReLU).
    fn add_relu(a: FloatTensor<Self>, b: FloatTensor<Self>) -> FloatTensor<Self>;
    /// The gradient of [`add_relu`](CpuKernels::add_relu) for either operand.
    fn add_relu_backward(
        a: FloatTensor<Self>,
        b: FloatTensor<Self>,
        dy: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
    /// The LSTM or GRU recurrence over input projections `xw` with recurrent kernel `u` and
    /// timestep mask `mask` (see [`RecurrenceShape`]).
    fn recurrence(
        xw: FloatTensor<Self>,
        u: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        s: RecurrenceShape,
    ) -> FloatTensor<Self>;
    /// [`recurrence`](CpuKernels::recurrence), also returning what its backward needs.
    fn recurrence_saving(
        xw: FloatTensor<Self>,
        u: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        s: RecurrenceShape,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);
    /// The gradients `(d xw, d u)` of [`recurrence`](CpuKernels::recurrence).
    fn recurrence_backward(
        dout: FloatTensor<Self>,
        u: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        saved: FloatTensor<Self>,
        s: RecurrenceShape,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);
}

type Dispatch = burn::backend::Dispatch;

/// Channels_last 2-D convolution on flex (see [`Conv2dGeometry`]); `w` in Keras's layout.
///
/// # Shapes
/// - `x`: `(batch, in_h, in_w, in_c)`, `w`: `(kh, kw, in_c, out_c)`, `b`: `(out_c)`
/// - output: `(batch, out_h, out_w, out_c)`
fn conv2d_nhwc(x: Tensor<4>, w: Tensor<4>, b: Option<Tensor<1>>, g: Conv2dGeometry) -> Tensor<4> {
    let b = b.unwrap_or_else(|| Tensor::zeros([g.out_c], &x.device()));
    let y = <Dispatch as CpuKernels>::conv2d_nhwc(
        x.into_dispatch(),
        w.into_dispatch(),
        b.into_dispatch(),
        g,
    );
    Tensor::from_dispatch(y)
}

/// [`conv2d_nhwc`] with a per-channel `y·scale + shift` (then a ReLU if `relu`) applied as each
/// value is stored.
fn conv2d_nhwc_affine(
    x: Tensor<4>,
    w: Tensor<4>,
    b: Option<Tensor<1>>,
    (scale, shift, relu): (Tensor<1>, Tensor<1>, bool),
    g: Conv2dGeometry,
) -> Tensor<4> {
    let b = b.unwrap_or_else(|| Tensor::zeros([g.out_c], &x.device()));
    let y = <Dispatch as CpuKernels>::conv2d_nhwc_affine(
        x.into_dispatch(),
        w.into_dispatch(),
        b.into_dispatch(),
        scale.into_dispatch(),
        shift.into_dispatch(),
        relu,
        g,
    );
    Tensor::from_dispatch(y)
}

/// Training-mode batch normalisation over the last axis on flex, with a fused ReLU if `relu`:
/// the normalised tensor and the batch's moments `(2·channels)` (means, then variances) for the
/// moving statistics.
///
/// # Shapes
/// - `x`: `(rows, channels)` (leading axes flattened); `gamma`, `beta`: `(channels)`
/// - output: as `x`, and `(2·channels)`
fn batch_norm_train(
    x: Tensor<2>,
    gamma: Tensor<1>,
    beta: Tensor<1>,
    eps: f32,
    relu: bool,
) -> (Tensor<2>, Tensor<1>) {
    let m = Tensor::<1>::from_dispatch(<Dispatch as CpuKernels>::channel_moments(
        x.clone().into_dispatch(),
    ));
    let y = <Dispatch as CpuKernels>::batch_norm_last_axis(
        x.into_dispatch(),
        m.clone().into_dispatch(),
        gamma.into_dispatch(),
        beta.into_dispatch(),
        eps,
        relu,
    );
    (Tensor::from_dispatch(y), m)
}

/// The LSTM or GRU recurrence on flex (see [`RecurrenceShape`]).
///
/// # Shapes
/// - `xw`: `(batch, time, gates·units)`, the input projections with their bias; `u`:
///   `(kernel_rows, gates·units)`; `mask`: `(batch, time)`, 1 for a real step
/// - output: `(batch, time·units)` with `s.sequences`, else `(batch, units)`
fn recurrence_kernel(
    xw: Tensor<3>,
    u: Tensor<2>,
    mask: Tensor<2>,
    s: RecurrenceShape,
) -> Tensor<2> {
    let y = <Dispatch as CpuKernels>::recurrence(
        xw.into_dispatch(),
        u.into_dispatch(),
        mask.into_dispatch(),
        s,
    );
    Tensor::from_dispatch(y)
}

/// `x·a + b` per channel of the last axis on flex, then a ReLU if `relu`.
///
/// # Shapes
/// - `x`: `(rows, channels)`; `a`, `b`: `(channels)`; output: as `x`
fn scale_shift(x: Tensor<2>, a: Tensor<1>, b: Tensor<1>, relu: bool) -> Tensor<2> {
    let y = <Dispatch as CpuKernels>::scale_shift_last_axis(
        x.into_dispatch(),
        a.into_dispatch(),
        b.into_dispatch(),
        relu,
    );
    Tensor::from_dispatch(y)
}

/// `max(0, a + b)` element-wise on flex (a residual Add and its ReLU in one pass).
///
/// # Shapes
/// - `a`, `b`: any, the same; output: as `a`
fn add_relu_kernel(a: Tensor<2>, b: Tensor<2>) -> Tensor<2> {
    let y = <Dispatch as CpuKernels>::add_relu(a.into_dispatch(), b.into_dispatch());
    Tensor::from_dispatch(y)
}

/// Max or average pooling of channels_last data on flex.
///
/// # Shapes
/// - `x`: `(batch, in_h, in_w, channels)`; output: `(batch, out_h, out_w, channels)`
fn pool2d_nhwc(x: Tensor<4>, g: Pool2dGeometry) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as CpuKernels>::pool2d_nhwc(x.into_dispatch(), g))
}
