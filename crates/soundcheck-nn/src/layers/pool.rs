//! Pooling: Max/AveragePooling1D/2D/3D and GlobalMax/AveragePooling1D/2D/3D.

use soundcheck_shape::layers::{self as spec, Padding, PoolOp};

use super::conv::pads;
use super::{single, Op};
use crate::error::Result;
use crate::kernels::{self, PoolArgs};
use crate::layout::{from_channels_first, spatial_dims, to_channels_first};
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

impl Op for Pool {
    /// Average pools over 'same' padding count only the real elements, as Keras's do.
    ///
    /// # Shapes
    /// - input: `(batch, *spatial, channels)` (channels_last) or `(batch, channels, *spatial)`
    /// - output: the pooled spatial axes, same layout
    fn forward(&self, inputs: Vec<DynTensor>, _: &Variables, _: &mut Pass) -> Result<DynTensor> {
        let x = single(inputs);
        let p = &self.0;
        let padding = if p.same {
            Padding::Same
        } else {
            Padding::Valid
        };
        let dims = x.dims();
        let pads = spatial_dims(&dims, p.data_format)
            .iter()
            .enumerate()
            .map(|(i, &l)| pads(padding, l, p.pool[i], p.strides[i]))
            .collect();
        let args = PoolArgs {
            op: p.op,
            window: &p.pool,
            strides: &p.strides,
            pads,
            data_format: p.data_format,
        };
        Ok(kernels::pool(x, &args))
    }
}

/// A max or mean over all spatial axes.
pub(crate) struct GlobalPool(spec::GlobalPool);

impl GlobalPool {
    pub(crate) fn build(g: &spec::GlobalPool) -> GlobalPool {
        GlobalPool(g.clone())
    }
}

impl Op for GlobalPool {
    /// # Shapes
    /// - input: `(batch, *spatial, channels)` (channels_last) or `(batch, channels, *spatial)`
    /// - output: `(batch, channels)`, or with every spatial axis kept at 1 (`keepdims`)
    fn forward(&self, inputs: Vec<DynTensor>, _: &Variables, _: &mut Pass) -> Result<DynTensor> {
        let x = single(inputs);
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
