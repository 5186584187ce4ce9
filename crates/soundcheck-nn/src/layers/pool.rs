//! Pooling: Max/AveragePooling1D/2D/3D and GlobalMax/AveragePooling1D/2D/3D.

use burn::tensor::module::{avg_pool1d, avg_pool2d, max_pool1d, max_pool2d};
use burn::tensor::ops::{AvgPoolOptions, MaxPoolOptions};
use burn::tensor::Tensor;
use soundcheck_shape::layers::{self as spec, Padding, PoolOp};
use soundcheck_shape::spec::DataFormat;

use super::conv::pads;
use super::layout::{from_channels_first, to_channels_first};
use super::Unary;
use crate::error::Result;
use crate::kernels::{self, Pool2dGeometry};
use crate::pass::Pass;
use crate::tensor::DynTensor;
use crate::variables::Variables;

/// A pooling window moved over the spatial axes.
pub(crate) struct Pool(spec::Pool);

impl Pool {
    pub(crate) fn build(p: &spec::Pool) -> Pool {
        Pool(p.clone())
    }
}

impl Unary for Pool {
    /// Average pools over 'same' padding count only the real elements, as Keras's do.
    ///
    /// # Shapes
    /// - input: `(batch, *spatial, channels)` (channels_last) or `(batch, channels, *spatial)`
    /// - output: the pooled spatial axes, same layout
    fn apply(&self, x: DynTensor, _: &Variables, _: &mut Pass) -> Result<DynTensor> {
        let p = &self.0;
        if p.rank <= 2 && p.data_format == DataFormat::ChannelsLast && kernels::on_flex(&x.device())
        {
            return Ok(self.channels_last(x));
        }
        let x = to_channels_first(x, p.data_format);
        let dims = x.dims();
        let pad = |i: usize| {
            let padding = if p.same {
                Padding::Same
            } else {
                Padding::Valid
            };
            pads(padding, dims[2 + i], p.pool[i], p.strides[i])
        };
        let y = match x {
            DynTensor::R3(x) => DynTensor::R3(pool1d(p.op, x, p.pool[0], p.strides[0], pad(0))),
            DynTensor::R4(x) => DynTensor::R4(pool2d(
                p.op,
                x,
                [p.pool[0], p.pool[1]],
                [p.strides[0], p.strides[1]],
                [pad(0), pad(1)],
            )),
            DynTensor::R5(x) => DynTensor::R5(pool3d(p, x, [pad(0), pad(1), pad(2)])),
            _ => unreachable!("the shape engine checked the pool input rank"),
        };
        Ok(from_channels_first(y, p.data_format))
    }
}

impl Pool {
    /// The pool on our channels_last CPU kernel (a 1-D pool is a 2-D one of height 1).
    fn channels_last(&self, x: DynTensor) -> DynTensor {
        let p = &self.0;
        let dims = x.dims();
        let padding = if p.same {
            Padding::Same
        } else {
            Padding::Valid
        };
        let pads = |len: usize, i: usize| pads(padding, len, p.pool[i], p.strides[i]);
        let g = if dims.len() == 3 {
            Pool2dGeometry {
                batch: dims[0],
                input: [1, dims[1]],
                channels: dims[2],
                window: [1, p.pool[0]],
                stride: [1, p.strides[0]],
                pad: [(0, 0), pads(dims[1], 0)],
                max: p.op == PoolOp::Max,
            }
        } else {
            Pool2dGeometry {
                batch: dims[0],
                input: [dims[1], dims[2]],
                channels: dims[3],
                window: [p.pool[0], p.pool[1]],
                stride: [p.strides[0], p.strides[1]],
                pad: [pads(dims[1], 0), pads(dims[2], 1)],
                max: p.op == PoolOp::Max,
            }
        };
        let x4 = match x {
            DynTensor::R3(x) => x.reshape([g.batch, 1, g.input[1], g.channels]),
            DynTensor::R4(x) => x,
            _ => unreachable!("rank checked by the caller"),
        };
        let y = kernels::pool2d_nhwc(x4, g);
        let [oh, ow] = g.output();
        if dims.len() == 3 {
            DynTensor::R3(y.reshape([g.batch, ow, g.channels]))
        } else {
            DynTensor::R4(y.reshape([g.batch, oh, ow, g.channels]))
        }
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
fn pool3d(p: &spec::Pool, x: Tensor<5>, pad: [(usize, usize); 3]) -> Tensor<5> {
    let [b, c, d, h, w] = x.dims();
    let y = pool2d(
        p.op,
        x.reshape([b, c * d, h, w]),
        [p.pool[1], p.pool[2]],
        [p.strides[1], p.strides[2]],
        [pad[1], pad[2]],
    );
    let [_, _, oh, ow] = y.dims();
    let along_depth = y
        .reshape([b, c, d, oh * ow])
        .swap_dims(2, 3)
        .reshape([b, c * oh * ow, d]);
    let z = pool1d(p.op, along_depth, p.pool[0], p.strides[0], pad[0]);
    let od = z.dims()[2];
    z.reshape([b, c, oh * ow, od])
        .swap_dims(2, 3)
        .reshape([b, c, od, oh, ow])
}

/// A max or mean over all spatial axes.
pub(crate) struct GlobalPool(spec::GlobalPool);

impl GlobalPool {
    pub(crate) fn build(g: &spec::GlobalPool) -> GlobalPool {
        GlobalPool(g.clone())
    }
}

impl Unary for GlobalPool {
    /// # Shapes
    /// - input: `(batch, *spatial, channels)` (channels_last) or `(batch, channels, *spatial)`
    /// - output: `(batch, channels)`, or with every spatial axis kept at 1 (`keepdims`)
    fn apply(&self, x: DynTensor, _: &Variables, _: &mut Pass) -> Result<DynTensor> {
        let g = &self.0;
        let x = to_channels_first(x, g.data_format);
        let dims = x.dims();
        let pooled = match (x, g.op) {
            (DynTensor::R3(t), PoolOp::Average) => DynTensor::R3(t.mean_dim(2)),
            (DynTensor::R3(t), PoolOp::Max) => DynTensor::R3(t.max_dim(2)),
            (DynTensor::R4(t), PoolOp::Average) => DynTensor::R4(t.mean_dim(3).mean_dim(2)),
            (DynTensor::R4(t), PoolOp::Max) => DynTensor::R4(t.max_dim(3).max_dim(2)),
            (DynTensor::R5(t), PoolOp::Average) => {
                DynTensor::R5(t.mean_dim(4).mean_dim(3).mean_dim(2))
            }
            (DynTensor::R5(t), PoolOp::Max) => DynTensor::R5(t.max_dim(4).max_dim(3).max_dim(2)),
            _ => unreachable!("the shape engine checked the pool input rank"),
        };
        Ok(if g.keepdims {
            from_channels_first(pooled, g.data_format)
        } else {
            pooled.reshape(&dims[..2])
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{assert_close, network, run};

    #[test]
    fn same_average_pool_counts_only_real_elements() {
        // Pool 2, stride 2 over 5 steps, 'same': windows [1,2] [3,4] [5,pad] → 1.5, 3.5, 5.
        let net = network(
            "[5, 1]",
            "[[layers]]\ntype = \"AveragePooling1D\"\npool_size = 2\npadding = \"same\"\n",
            &[],
        );
        let (shape, y) = run(&net, &[1, 5, 1], vec![1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(shape, [1, 3, 1]);
        assert_close(&y, &[1.5, 3.5, 5.0]);
    }

    #[test]
    fn max_pool_2d_and_global_pools() {
        let x: Vec<f32> = (1..=8).map(|v| v as f32).collect();
        let net = network(
            "[2, 4, 1]",
            "[[layers]]\ntype = \"MaxPooling2D\"\npool_size = 2\n",
            &[],
        );
        assert_eq!(
            run(&net, &[1, 2, 4, 1], x.clone()),
            (vec![1, 1, 2, 1], vec![6.0, 8.0])
        );
        // Two channels of (4,): [1,3,5,7] and [2,4,6,8].
        let net = network(
            "[4, 2]",
            "[[layers]]\ntype = \"GlobalAveragePooling1D\"\n",
            &[],
        );
        assert_eq!(
            run(&net, &[1, 4, 2], x.clone()),
            (vec![1, 2], vec![4.0, 5.0])
        );
        let net = network(
            "[4, 2]",
            "[[layers]]\ntype = \"GlobalMaxPooling1D\"\nkeepdims = true\n",
            &[],
        );
        assert_eq!(run(&net, &[1, 4, 2], x), (vec![1, 1, 2], vec![7.0, 8.0]));
    }
}
