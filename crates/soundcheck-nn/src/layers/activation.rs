//! Activations: the `activation` of Dense, convolutions and recurrent layers, and the layers
//! that only apply one (Activation, ReLU, LeakyReLU, ELU, Softmax).

use burn::tensor::activation as act;
use burn::tensor::Tensor;
use soundcheck_shape::layers::{Activation as Spec, Function};

use super::{single, Build, Op};
use crate::error::Result;
use crate::pass::Pass;
use crate::tensor::{each_rank, DynTensor};
use crate::variables::Variables;

/// The activations the engine runs, with their parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Activation {
    Linear,
    Relu,
    /// With its negative slope.
    LeakyRelu(f32),
    /// With its alpha.
    Elu(f32),
    Gelu,
    Sigmoid,
    Tanh,
    /// Over the last axis.
    Softmax,
    Selu,
    Softplus,
    Softsign,
    Swish,
}

impl Activation {
    /// The shape engine's activation as one the engine runs; others are refused by name.
    pub(crate) fn of(spec: &Spec, b: &Build) -> Result<Activation> {
        Activation::from_spec(spec).map_err(|what| b.unsupported(what))
    }

    /// The shape engine's activation as one the engine runs, or what is not run (for the
    /// error); without a layer at hand, so that fusion can ask whether a layer is a ReLU.
    pub(crate) fn from_spec(spec: &Spec) -> std::result::Result<Activation, String> {
        Ok(match spec {
            Spec::Function(f) => match f {
                Function::Linear => Activation::Linear,
                Function::Relu => Activation::Relu,
                // Keras 3's `leaky_relu` identifier has slope 0.2 (the layer's default is 0.3).
                Function::LeakyRelu => Activation::LeakyRelu(0.2),
                Function::Elu => Activation::Elu(1.0),
                // Keras's gelu defaults to the exact (erf) form, as burn's does.
                Function::Gelu => Activation::Gelu,
                Function::Sigmoid => Activation::Sigmoid,
                Function::Tanh => Activation::Tanh,
                Function::Softmax => Activation::Softmax,
                Function::Selu => Activation::Selu,
                Function::Softplus => Activation::Softplus,
                Function::Softsign => Activation::Softsign,
                Function::Silu => Activation::Swish,
                other => return Err(format!("activation '{}'", other.name())),
            },
            Spec::Relu {
                max_value: None,
                negative_slope,
                threshold,
            } if *negative_slope == 0.0 && *threshold == 0.0 => Activation::Relu,
            Spec::LeakyRelu { negative_slope } => Activation::LeakyRelu(*negative_slope),
            Spec::Elu { alpha } => Activation::Elu(*alpha),
            Spec::Softmax { axes } if axes.as_slice() == [-1] => Activation::Softmax,
            Spec::Relu { .. } | Spec::Softmax { .. } => {
                return Err(
                    "the ReLU/Softmax layer with these arguments (use Activation('...') instead)"
                        .into(),
                )
            }
        })
    }

    fn apply<const D: usize>(self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Activation::Linear => x,
            Activation::Relu => act::relu(x),
            Activation::LeakyRelu(slope) => act::leaky_relu(x, slope as f64),
            Activation::Elu(alpha) => act::elu(x, alpha as f64),
            Activation::Gelu => act::gelu(x),
            Activation::Sigmoid => act::sigmoid(x),
            Activation::Tanh => act::tanh(x),
            Activation::Softmax => act::softmax(x, D - 1),
            Activation::Selu => act::selu(x),
            Activation::Softplus => act::softplus(x, 1.0),
            Activation::Softsign => act::softsign(x),
            Activation::Swish => act::silu(x),
        }
    }

    /// The activation element-wise (softmax along the last axis).
    ///
    /// # Shapes
    /// - `x`: any rank; output: the same shape
    pub(crate) fn run(self, x: DynTensor) -> DynTensor {
        each_rank!(x, t => self.apply(t))
    }
}

/// Activation, ReLU, LeakyReLU, ELU and Softmax layers.
pub(crate) struct Activate(Activation);

impl Activate {
    pub(crate) fn build(spec: &Spec, b: &Build) -> Result<Activate> {
        Ok(Activate(Activation::of(spec, b)?))
    }
}

impl Op for Activate {
    /// # Shapes
    /// - input: any rank; output: the same shape
    fn forward(&self, inputs: Vec<DynTensor>, _: &Variables, _: &mut Pass) -> Result<DynTensor> {
        Ok(self.0.run(single(inputs)))
    }

    fn keeps_mask(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{assert_close, network, run};

    #[test]
    fn layer_forms_compute_keras_formulas() {
        let x = vec![-2.0, -0.5, 0.0, 1.5];
        let cases = [
            // LeakyReLU's layer default slope is 0.3: −2 → −0.6.
            ("type = \"LeakyReLU\"", vec![-0.6, -0.15, 0.0, 1.5]),
            (
                "type = \"Activation\"\nactivation = \"leaky_relu\"",
                vec![-0.4, -0.1, 0.0, 1.5],
            ),
            ("type = \"ReLU\"", vec![0.0, 0.0, 0.0, 1.5]),
            // ELU: alpha·(e^x − 1) below 0.
            (
                "type = \"ELU\"\nalpha = 0.5",
                vec![
                    0.5 * ((-2f32).exp() - 1.0),
                    0.5 * ((-0.5f32).exp() - 1.0),
                    0.0,
                    1.5,
                ],
            ),
        ];
        for (layer, want) in cases {
            let net = network("[4]", &format!("[[layers]]\n{layer}\n"), &[]);
            let (shape, y) = run(&net, &[1, 4], x.clone());
            assert_eq!(shape, [1, 4], "{layer}");
            assert_close(&y, &want);
        }
    }

    #[test]
    fn softmax_rows_sum_to_one() {
        let net = network("[3]", "[[layers]]\ntype = \"Softmax\"\n", &[]);
        let (_, y) = run(&net, &[2, 3], vec![1.0, 2.0, 3.0, 0.0, 0.0, 0.0]);
        let e: Vec<f32> = [1f32, 2.0, 3.0].iter().map(|v| v.exp()).collect();
        let s: f32 = e.iter().sum();
        assert_close(
            &y,
            &[
                e[0] / s,
                e[1] / s,
                e[2] / s,
                1.0 / 3.0,
                1.0 / 3.0,
                1.0 / 3.0,
            ],
        );
    }

    #[test]
    fn unsupported_arguments_are_named() {
        let spec = soundcheck_shape::spec::ModelSpec::from_toml_str(
            "input_shape = [4]\n[[layers]]\ntype = \"ReLU\"\nmax_value = 6.0\n",
        )
        .unwrap();
        let e = crate::Network::initialized(&spec, 0, &burn::tensor::Device::flex())
            .err()
            .expect("refused");
        assert!(e.to_string().contains("ReLU/Softmax layer"), "{e}");
    }
}
