//! Recurrent layers: LSTM, GRU, SimpleRNN.

use super::{Activation, Ctx, Function, Output};
use crate::args::Args;
use crate::diagnosis::{Diagnosis, Kind};
use crate::shape::{fmt_dim, Shape};

/// The recurrent cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RnnCell {
    /// `LSTM`: four gates.
    Lstm,
    /// `GRU`: three gates.
    Gru {
        /// The reset gate applies after the recurrent product (Keras 3's default, cuDNN's form).
        reset_after: bool,
    },
    /// `SimpleRNN`.
    Simple,
}

/// A recurrent layer's arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct Rnn {
    /// The cell.
    pub cell: RnnCell,
    /// Units of the state.
    pub units: usize,
    /// Output every timestep, not only the last.
    pub return_sequences: bool,
    /// Whether biases are added.
    pub use_bias: bool,
    /// The candidate and output activation (Keras: tanh).
    pub activation: Activation,
    /// The gates' activation (Keras: sigmoid; a SimpleRNN has no gates).
    pub recurrent_activation: Activation,
}

impl Rnn {
    /// Parses the arguments of recurrent class `type_name`.
    pub fn parse(type_name: &str, a: &mut Args) -> Result<Rnn, Diagnosis> {
        let units = a.positive("units", None)?;
        let return_sequences = a.bool("return_sequences", false)?;
        if a.bool("return_state", false)? {
            return Err(a.error(
                "return_state",
                "false (soundcheck checks one output per layer)",
                &true.into(),
            ));
        }
        let use_bias = a.bool("use_bias", true)?;
        let activation = Activation::argument_or(a, "activation", Function::Tanh)?;
        let mut recurrent_activation = Activation::Function(Function::Sigmoid);
        let cell = match type_name {
            "LSTM" => {
                recurrent_activation =
                    Activation::argument_or(a, "recurrent_activation", Function::Sigmoid)?;
                a.bool("unit_forget_bias", true)?;
                RnnCell::Lstm
            }
            "GRU" => {
                recurrent_activation =
                    Activation::argument_or(a, "recurrent_activation", Function::Sigmoid)?;
                RnnCell::Gru {
                    reset_after: a.bool("reset_after", true)?,
                }
            }
            _ => RnnCell::Simple,
        };
        a.finish(&[
            "go_backwards",
            "stateful",
            "unroll",
            "zero_output_for_mask",
            "kernel_initializer",
            "recurrent_initializer",
            "bias_initializer",
            "kernel_regularizer",
            "recurrent_regularizer",
            "bias_regularizer",
            "kernel_constraint",
            "recurrent_constraint",
            "bias_constraint",
            "dropout",
            "recurrent_dropout",
            "seed",
            "implementation",
            "use_cudnn",
        ])?;
        Ok(Rnn {
            cell,
            units,
            return_sequences,
            use_bias,
            activation,
            recurrent_activation,
        })
    }

    /// Parameters for `features` input features, as Keras counts them.
    pub fn params(&self, features: usize) -> u64 {
        let u = self.units;
        let gates = match self.cell {
            RnnCell::Lstm => 4,
            RnnCell::Gru { .. } => 3,
            RnnCell::Simple => 1,
        };
        let bias_sets = match (self.use_bias, self.cell) {
            (false, _) => 0,
            (true, RnnCell::Gru { reset_after: true }) => 2,
            (true, _) => 1,
        };
        let (u, f) = (u as u128, features as u128);
        super::count(gates * (u * (f + u) + bias_sets * u))
    }

    /// # Shapes
    /// - input: `(batch, timesteps, features)`
    /// - output: `(batch, timesteps, units)` with `return_sequences`, else `(batch, units)`
    pub fn infer(&self, ctx: &Ctx, x: &Shape) -> Result<Output, Diagnosis> {
        if x.rank() != 2 {
            return Err(rank_error(ctx, x));
        }
        let Some(features) = x.dims()[1] else {
            return Err(ctx
                .diag(Kind::UnknownDimension, "the feature axis is unknown")
                .received(x.to_string())
                .expected("(batch, timesteps, features) with a known features")
                .cause(format!("{} sizes its kernels from the number of features per timestep", ctx.type_name))
                .fix("give the feature axis a fixed size: input_shape=(None, n_features) for variable-length sequences"));
        };
        let shape = if self.return_sequences {
            Shape(vec![x.dims()[0], Some(self.units)])
        } else {
            Shape(vec![Some(self.units)])
        };
        Ok(Output::new(shape, self.params(features)))
    }
}

fn rank_error(ctx: &Ctx, x: &Shape) -> Diagnosis {
    let base = ctx
        .diag(
            Kind::RankMismatch,
            super::rank_title(ctx.type_name, 3, x, true),
        )
        .received(x.to_string())
        .expected("(batch, timesteps, features)");
    match x.dims() {
        [n] => {
            let n = fmt_dim(*n);
            base.cause(format!(
                "each example is a single vector of {n} values: there is no time axis. {} reads a sequence of feature vectors",
                ctx.type_name
            ))
            .fix(format!(
                "if the {n} values are {n} timesteps of one feature, Reshape(({n}, 1)); if they are {n} features of one timestep, Reshape((1, {n})); for MFCCs keep the (frames, n_mfcc) matrix instead of flattening or averaging it"
            ))
        }
        [t, rest @ ..] if !rest.is_empty() => {
            let merged = Shape(rest.to_vec())
                .elements()
                .map(|n| n.to_string())
                .unwrap_or_else(|| "-1".into());
            let t = fmt_dim(*t);
            base.cause(format!(
                "each example has {} axes; {} reads exactly two: timesteps and features",
                x.rank(),
                ctx.type_name
            ))
            .fix(format!(
                "merge the trailing axes into features: Reshape(({t}, {merged})) (or TimeDistributed(Flatten())) before '{}'",
                ctx.name
            ))
        }
        _ => base
            .cause("the input has only the batch axis")
            .fix("give each example a (timesteps, features) shape"),
    }
}
