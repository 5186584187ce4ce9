//! Dense and Embedding: the layers whose weights size from one axis.

use burn::tensor::{Int, Tensor, TensorData};
use soundcheck_shape::layers as spec;

use super::activation::Activation;
use super::{bias_tensor, single, Build, Op};
use crate::error::{NnError, Result};
use crate::pass::Pass;
use crate::tensor::DynTensor;
use crate::variables::Variables;

/// A kernel `(features, units)`, an optional bias and an activation on the last axis.
pub(crate) struct Dense {
    w: usize,
    b: Option<usize>,
    act: Activation,
}

impl Dense {
    pub(crate) fn build(d: &spec::Dense, b: &Build) -> Result<Dense> {
        let features = b.known(b.input.len() - 1);
        Ok(Dense {
            w: b.weights.get("kernel", &[features, d.units])?,
            b: b.weights.bias(d.use_bias, d.units)?,
            act: Activation::of(&d.activation, b)?,
        })
    }
}

impl Op for Dense {
    /// # Shapes
    /// - input: `(batch, ..., features)`; output: `(batch, ..., units)`
    fn forward(&self, inputs: Vec<DynTensor>, vars: &Variables, _: &mut Pass) -> Result<DynTensor> {
        let x = single(inputs);
        let mut dims = x.dims();
        let features = *dims.last().expect("a feature axis");
        let rows: usize = dims.iter().product::<usize>() / features;
        let DynTensor::R2(flat) = x.reshape(&[rows, features]) else {
            unreachable!("reshaped to rank 2")
        };
        let w = vars.tensor::<2>(self.w);
        let units = w.dims()[1];
        let mut y = flat.matmul(w);
        if let Some(b) = bias_tensor(vars, self.b) {
            y = y + b.unsqueeze::<2>();
        }
        *dims.last_mut().expect("a feature axis") = units;
        Ok(self.act.run(DynTensor::R2(y)).reshape(&dims))
    }

    fn keeps_mask(&self) -> bool {
        true
    }
}

/// An embedding table `(input_dim, output_dim)`, looked up by integer ids.
pub(crate) struct Embedding {
    table: usize,
    layer: String,
}

impl Embedding {
    pub(crate) fn build(e: &spec::Embedding, b: &Build) -> Result<Embedding> {
        Ok(Embedding {
            table: b.weights.get("embeddings", &[e.input_dim, e.output_dim])?,
            layer: b.layer().to_string(),
        })
    }
}

impl Op for Embedding {
    /// Refuses ids outside the table, naming the first.
    ///
    /// # Shapes
    /// - input: `(batch, ...)` integer ids; output: `(batch, ..., output_dim)`
    fn forward(&self, inputs: Vec<DynTensor>, vars: &Variables, _: &mut Pass) -> Result<DynTensor> {
        let x = single(inputs);
        let table: Tensor<2> = vars.tensor(self.table);
        let [v, d] = table.dims();
        let ids = x.to_vec();
        if let Some((i, bad)) = ids
            .iter()
            .enumerate()
            .find(|(_, &t)| !(t >= 0.0 && t.fract() == 0.0 && (t as usize) < v))
        {
            return Err(NnError::Value {
                layer: self.layer.clone(),
                actual: format!("input id {bad} at flat position {i} is not an integer in 0..{v} (input_dim); make input_dim cover every id"),
            });
        }
        let idx: Tensor<1, Int> = Tensor::from_data(
            TensorData::new(
                ids.iter().map(|&t| t as i64).collect::<Vec<i64>>(),
                [ids.len()],
            ),
            &table.device(),
        );
        let mut shape = x.dims();
        shape.push(d);
        Ok(DynTensor::R2(table.select(0, idx)).reshape(&shape))
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{assert_close, network, run};

    #[test]
    fn dense_is_x_times_kernel_plus_bias_on_the_last_axis() {
        let net = network(
            "[2, 3]",
            "[[layers]]\ntype = \"Dense\"\nunits = 2\nactivation = \"relu\"\n",
            &[
                ("dense/kernel", &[3, 2], vec![1.0, -1.0, 2.0, 0.0, 0.0, 1.0]),
                ("dense/bias", &[2], vec![0.5, -0.5]),
            ],
        );
        // Rows [1,2,3] and [-1,0,1]: [1+4+0.5, -1+3-0.5] = [5.5, 1.5]; [-1+0.5, 1+1-0.5] → relu.
        let (shape, y) = run(&net, &[1, 2, 3], vec![1.0, 2.0, 3.0, -1.0, 0.0, 1.0]);
        assert_eq!(shape, [1, 2, 2]);
        assert_close(&y, &[5.5, 1.5, 0.0, 1.5]);
    }

    #[test]
    fn a_non_finite_input_or_output_is_an_error_never_an_answer() {
        // Weights of 1e30, as an edited or diverged model has: finite inputs overflow to inf.
        let net = network(
            "[2]",
            "[[layers]]\ntype = \"Dense\"\nunits = 1\n",
            &[
                ("dense/kernel", &[2, 1], vec![1e30, 1e30]),
                ("dense/bias", &[1], vec![0.0]),
            ],
        );
        let e = net
            .forward(&[2, 2], vec![0.0, 0.0, 1e10, 1e10])
            .unwrap_err();
        assert!(
            e.to_string().starts_with(
                "output 'dense' is inf for example 1 of the batch although every input is finite"
            ),
            "{e}"
        );
        let e = net
            .forward(&[2, 2], vec![0.0, 0.0, f32::NAN, 1.0])
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("input 'input_layer' holds NaN in example 1 of the batch"),
            "{e}"
        );
    }

    #[test]
    fn embedding_looks_up_rows_and_refuses_ids_outside_the_table() {
        let net = network(
            "[2]",
            "[[layers]]\ntype = \"Embedding\"\ninput_dim = 3\noutput_dim = 2\n",
            &[(
                "embedding/embeddings",
                &[3, 2],
                vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
            )],
        );
        let (shape, y) = run(&net, &[1, 2], vec![2.0, 0.0]);
        assert_eq!(shape, [1, 2, 2]);
        assert_close(&y, &[4.0, 5.0, 0.0, 1.0]);
        let e = net
            .forward(&[1, 2], vec![3.0, 0.5])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("input id 3 at flat position 0") && e.contains("'embedding'"),
            "{e}"
        );
    }
}
