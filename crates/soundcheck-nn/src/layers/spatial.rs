//! Spatial edits: ZeroPadding1D/2D, Cropping1D/2D, UpSampling1D/2D.

use burn::tensor::Tensor;
use soundcheck_shape::layers::{Edit, SpatialEdit};
use soundcheck_shape::spec::DataFormat;

use super::{single, Build, Op};
use crate::error::Result;
use crate::pass::Pass;
use crate::tensor::{each_rank, DynTensor};
use crate::variables::Variables;

/// A spatial edit resolved to every axis of the tensor, batch included.
pub(crate) enum Spatial {
    /// Zeros added, one (before, after) pair per axis.
    Pad(Vec<(usize, usize)>),
    /// Elements removed, one (before, after) pair per axis.
    Crop(Vec<(usize, usize)>),
    /// Nearest-neighbour repetition factor per axis.
    UpSample(Vec<usize>),
}

impl Spatial {
    pub(crate) fn build(sp: &SpatialEdit, b: &Build) -> Spatial {
        let rank = b.input.len() + 1;
        let first = match sp.data_format {
            DataFormat::ChannelsLast => 1,
            DataFormat::ChannelsFirst => 2,
        };
        // The index into the layer's per-spatial-axis arguments of tensor axis `i`.
        let spatial = |i: usize| (first..first + sp.rank).position(|a| a == i);
        match &sp.edit {
            Edit::Pad(p) => Spatial::Pad(
                (0..rank)
                    .map(|i| spatial(i).map_or((0, 0), |j| p[j]))
                    .collect(),
            ),
            Edit::Crop(c) => Spatial::Crop(
                (0..rank)
                    .map(|i| spatial(i).map_or((0, 0), |j| c[j]))
                    .collect(),
            ),
            Edit::UpSample(f) => {
                Spatial::UpSample((0..rank).map(|i| spatial(i).map_or(1, |j| f[j])).collect())
            }
        }
    }
}

impl Op for Spatial {
    /// # Shapes
    /// - input: `(batch, *axes)`; output: each axis padded, cropped or repeated
    fn forward(&self, inputs: Vec<DynTensor>, _: &Variables, _: &mut Pass) -> Result<DynTensor> {
        let x = single(inputs);
        Ok(match self {
            Spatial::Pad(pairs) => x.pad(pairs),
            Spatial::Crop(pairs) => crop(x, pairs),
            Spatial::UpSample(factors) => factors
                .iter()
                .enumerate()
                .filter(|(_, &f)| f > 1)
                .fold(x, |y, (axis, &f)| repeat_axis(y, axis, f)),
        })
    }
}

/// Elements removed from every axis, one (before, after) pair per axis.
pub(crate) fn crop(x: DynTensor, pairs: &[(usize, usize)]) -> DynTensor {
    fn slice<const D: usize>(t: Tensor<D>, ranges: &[std::ops::Range<usize>]) -> Tensor<D> {
        let r: [std::ops::Range<usize>; D] = std::array::from_fn(|i| ranges[i].clone());
        t.slice(r)
    }
    let ranges: Vec<std::ops::Range<usize>> = x
        .dims()
        .iter()
        .zip(pairs)
        .map(|(&d, &(a, b))| a..d - b)
        .collect();
    each_rank!(x, t => slice(t, &ranges))
}

/// Each element repeated `f` times along `axis` (nearest-neighbour upsampling).
fn repeat_axis(x: DynTensor, axis: usize, f: usize) -> DynTensor {
    let mut dims = x.dims();
    let outer: usize = dims[..=axis].iter().product();
    let inner: usize = dims[axis + 1..].iter().product();
    let DynTensor::R3(t) = x.reshape(&[outer, 1, inner]) else {
        unreachable!("reshaped to rank 3")
    };
    dims[axis] *= f;
    DynTensor::R3(t.expand([outer, f, inner])).reshape(&dims)
}

#[cfg(test)]
mod tests {
    use crate::testing::{network, run};

    #[test]
    fn pad_crop_and_upsample_move_the_right_elements() {
        let x = vec![1.0, 2.0, 3.0, 4.0];
        let cases = [
            (
                "ZeroPadding1D\"\npadding = [1, 2]",
                vec![1, 7, 1],
                vec![0.0, 1.0, 2.0, 3.0, 4.0, 0.0, 0.0],
            ),
            ("Cropping1D\"\ncropping = [1, 2]", vec![1, 1, 1], vec![2.0]),
            (
                "UpSampling1D\"\nsize = 2",
                vec![1, 8, 1],
                vec![1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0],
            ),
        ];
        for (layer, shape, want) in cases {
            let net = network("[4, 1]", &format!("[[layers]]\ntype = \"{layer}\n"), &[]);
            assert_eq!(run(&net, &[1, 4, 1], x.clone()), (shape, want), "{layer}");
        }
    }

    #[test]
    fn upsampling_2d_repeats_rows_and_columns() {
        let net = network(
            "[2, 2, 1]",
            "[[layers]]\ntype = \"UpSampling2D\"\nsize = [2, 1]\n",
            &[],
        );
        let (shape, y) = run(&net, &[1, 2, 2, 1], vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!(shape, [1, 4, 2, 1]);
        assert_eq!(y, [1.0, 2.0, 1.0, 2.0, 3.0, 4.0, 3.0, 4.0]);
    }
}
