//! Reshaping: Flatten, Reshape, Permute, RepeatVector.

use burn::tensor::Tensor;
use soundcheck_shape::layers as spec;

use super::{single, Build, Op};
use crate::error::Result;
use crate::pass::Pass;
use crate::tensor::DynTensor;
use crate::variables::Variables;

/// Every axis after the batch in one.
pub(crate) struct Flatten;

impl Op for Flatten {
    /// # Shapes
    /// - input: `(batch, *axes)`; output: `(batch, product(axes))`
    fn forward(&self, inputs: Vec<DynTensor>, _: &Variables, _: &mut Pass) -> Result<DynTensor> {
        let x = single(inputs);
        let dims = x.dims();
        Ok(x.reshape(&[dims[0], dims[1..].iter().product()]))
    }
}

/// The shape engine's output shape, its one unknown axis (`-1`) resolved per batch.
pub(crate) struct Reshape(Vec<Option<usize>>);

impl Reshape {
    pub(crate) fn build(b: &Build) -> Reshape {
        Reshape(b.output.to_vec())
    }
}

impl Op for Reshape {
    /// # Shapes
    /// - input: `(batch, *axes)`; output: `(batch, *target_shape)`
    fn forward(&self, inputs: Vec<DynTensor>, _: &Variables, _: &mut Pass) -> Result<DynTensor> {
        let x = single(inputs);
        let dims = x.dims();
        let total: usize = dims[1..].iter().product();
        let known: usize = self.0.iter().flatten().product();
        let mut shape = vec![dims[0]];
        shape.extend(self.0.iter().map(|d| d.unwrap_or(total / known.max(1))));
        Ok(x.reshape(&shape))
    }
}

/// Axes after the batch reordered (Keras numbers them from 1).
pub(crate) struct Permute(Vec<usize>);

impl Permute {
    pub(crate) fn build(p: &spec::Permute) -> Permute {
        Permute(p.dims.clone())
    }
}

impl Op for Permute {
    /// # Shapes
    /// - input: `(batch, *axes)`; output: `(batch, axes[dims[0]−1], …)`
    fn forward(&self, inputs: Vec<DynTensor>, _: &Variables, _: &mut Pass) -> Result<DynTensor> {
        let x = single(inputs);
        let mut axes = vec![0];
        axes.extend(self.0.iter().copied());
        Ok(x.permute(&axes))
    }
}

/// The input repeated `n` times along a new time axis.
pub(crate) struct RepeatVector(pub(crate) usize);

impl Op for RepeatVector {
    /// # Shapes
    /// - input: `(batch, features)`; output: `(batch, n, features)`
    fn forward(&self, inputs: Vec<DynTensor>, _: &Variables, _: &mut Pass) -> Result<DynTensor> {
        let x = single(inputs);
        let d = x.dims();
        let DynTensor::R3(t) = x.reshape(&[d[0], 1, d[1]]) else {
            unreachable!("reshaped to rank 3")
        };
        let t: Tensor<3> = t.expand([d[0], self.0, d[1]]);
        Ok(DynTensor::R3(t))
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{network, run};

    #[test]
    fn permute_reshape_and_repeat_move_values_as_numpy_does() {
        let x: Vec<f32> = (0..6).map(|v| v as f32).collect();
        let net = network(
            "[2, 3]",
            "[[layers]]\ntype = \"Permute\"\ndims = [2, 1]\n",
            &[],
        );
        assert_eq!(
            run(&net, &[1, 2, 3], x.clone()),
            (vec![1, 3, 2], vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0])
        );
        let net = network(
            "[2, 3]",
            "[[layers]]\ntype = \"Reshape\"\ntarget_shape = [-1, 2]\n",
            &[],
        );
        assert_eq!(run(&net, &[1, 2, 3], x.clone()), (vec![1, 3, 2], x.clone()));
        let net = network("[2, 3]", "[[layers]]\ntype = \"Flatten\"\n", &[]);
        assert_eq!(run(&net, &[1, 2, 3], x.clone()), (vec![1, 6], x));
        let net = network("[2]", "[[layers]]\ntype = \"RepeatVector\"\nn = 2\n", &[]);
        assert_eq!(
            run(&net, &[1, 2], vec![7.0, 8.0]),
            (vec![1, 2, 2], vec![7.0, 8.0, 7.0, 8.0])
        );
    }
}
