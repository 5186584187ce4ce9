//! Merges: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate.

use soundcheck_shape::layers::{Merge, MergeOp};

use super::Op;
use crate::error::Result;
use crate::kernels;
use crate::pass::Pass;
use crate::tensor::{each_rank, Binary, DynTensor};
use crate::variables::Variables;

/// Combines its inputs element-wise (broadcasting as Keras does) or along an axis.
pub(crate) struct MergeLayer {
    merge: Merge,
    /// An Add that runs the ReLU layer that alone reads it (see `crate::fusion`).
    relu: bool,
}

impl MergeLayer {
    pub(crate) fn build(m: &Merge, relu: bool) -> MergeLayer {
        MergeLayer {
            merge: m.clone(),
            relu,
        }
    }
}

impl Op for MergeLayer {
    /// # Shapes
    /// - inputs: two or more of one rank; element-wise merges broadcast size-1 axes and align
    ///   lower ranks from the right
    /// - output: the broadcast shape, or the inputs joined along `axis` (Concatenate)
    fn forward(&self, inputs: Vec<DynTensor>, _: &Variables, _: &mut Pass) -> Result<DynTensor> {
        let n = inputs.len();
        let Merge { op, axis } = self.merge;
        if self.relu {
            return Ok(kernels::add_relu(inputs));
        }
        if op == MergeOp::Concatenate {
            let r = inputs[0].dims().len() as i64;
            let a = if axis < 0 { r + axis } else { axis } as usize;
            return Ok(DynTensor::concat(inputs, a));
        }
        let f = match op {
            MergeOp::Add | MergeOp::Average => Binary::Add,
            MergeOp::Subtract => Binary::Sub,
            MergeOp::Multiply => Binary::Mul,
            MergeOp::Maximum => Binary::Max,
            MergeOp::Minimum => Binary::Min,
            MergeOp::Concatenate => unreachable!("handled above"),
        };
        let mut rest = inputs.into_iter();
        let first = rest
            .next()
            .expect("the shape engine checked two or more inputs");
        let y = rest.fold(first, |acc, t| acc.zip_with(t, f));
        Ok(if op == MergeOp::Average {
            each_rank!(y, t => t / n as f32)
        } else {
            y
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{network, run};

    #[test]
    fn merges_of_a_branch_with_itself() {
        // Dense(1) with kernel 2 doubles x; merges combine x and 2x.
        let layers = |merge: &str| {
            format!("[[layers]]\ntype = \"Dense\"\nname = \"d\"\nunits = 1\nuse_bias = false\n\n[[layers]]\ntype = \"{merge}\"\ninputs = [\"input\", \"d\"]\n")
        };
        for (merge, shape, want) in [
            ("Add", vec![1, 1], vec![9.0]),
            ("Subtract", vec![1, 1], vec![-3.0]),
            ("Average", vec![1, 1], vec![4.5]),
            ("Maximum", vec![1, 1], vec![6.0]),
            ("Multiply", vec![1, 1], vec![18.0]),
            ("Concatenate", vec![1, 2], vec![3.0, 6.0]),
        ] {
            let net = network("[1]", &layers(merge), &[("d/kernel", &[1, 1], vec![2.0])]);
            assert_eq!(run(&net, &[1, 1], vec![3.0]), (shape, want), "{merge}");
        }
    }
}
