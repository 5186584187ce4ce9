//! Dense and Embedding: the layers whose weights size from one axis.

use super::{Activation, Ctx, Output};
use crate::args::Args;
use crate::diagnosis::{Diagnosis, Kind};
use crate::shape::Shape;

const INIT_ARGS: &[&str] = &[
    "kernel_initializer",
    "bias_initializer",
    "kernel_regularizer",
    "bias_regularizer",
    "kernel_constraint",
    "bias_constraint",
    "quantization_config",
    "lora_rank",
    "lora_alpha",
];

/// `Dense`: a kernel `(features, units)` on the last axis.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    /// Output features.
    pub units: usize,
    /// Whether a bias is added.
    pub use_bias: bool,
    /// The activation applied to the output.
    pub activation: Activation,
}

impl Dense {
    /// Parses `Dense`'s arguments.
    pub fn parse(a: &mut Args) -> Result<Dense, Diagnosis> {
        let units = a.positive("units", None)?;
        let use_bias = a.bool("use_bias", true)?;
        let activation = Activation::argument(a, "activation")?;
        a.finish(INIT_ARGS)?;
        Ok(Dense {
            units,
            use_bias,
            activation,
        })
    }

    /// Dense acts on the last axis of any rank: `(..., F)` → `(..., units)`.
    pub fn infer(&self, ctx: &Ctx, x: &Shape) -> Result<Output, Diagnosis> {
        let Some(&last) = x.dims().last() else {
            return Err(ctx
                .diag(Kind::RankMismatch, "Dense needs at least one feature axis")
                .received(x.to_string())
                .expected("(batch, ..., features)")
                .cause("the input has only the batch axis")
                .fix("Reshape((1,)) before this layer"));
        };
        let Some(features) = last else {
            return Err(ctx
                .diag(Kind::UnknownDimension, "the last axis of Dense's input is unknown")
                .received(x.to_string())
                .expected(format!("{} with a known last axis", x))
                .cause("Dense sizes its kernel (features × units) from the last axis, which is None here")
                .fix("give the feature axis a fixed size in input_shape, or pool/flatten a known axis before Dense"));
        };
        let mut dims = x.dims().to_vec();
        *dims.last_mut().expect("rank checked above") = Some(self.units);
        let params = (features * self.units + if self.use_bias { self.units } else { 0 }) as u64;
        Ok(Output::new(Shape(dims), params))
    }
}

/// `Embedding`: a table of `input_dim` vectors of `output_dim` values.
#[derive(Clone, Debug, PartialEq)]
pub struct Embedding {
    /// Ids the table holds (0 to `input_dim` − 1).
    pub input_dim: usize,
    /// Values per id.
    pub output_dim: usize,
}

impl Embedding {
    /// Parses `Embedding`'s arguments.
    pub fn parse(a: &mut Args) -> Result<Embedding, Diagnosis> {
        let input_dim = a.positive("input_dim", None)?;
        let output_dim = a.positive("output_dim", None)?;
        a.bool("mask_zero", false)?;
        a.finish(&[
            "embeddings_initializer",
            "embeddings_regularizer",
            "embeddings_constraint",
            "input_length",
            "sparse",
            "weights",
            "quantization_config",
            "lora_rank",
            "lora_alpha",
        ])?;
        Ok(Embedding {
            input_dim,
            output_dim,
        })
    }

    /// `(...)` integer ids → `(..., output_dim)`.
    pub fn infer(&self, x: &Shape) -> Output {
        let mut dims = x.dims().to_vec();
        dims.push(Some(self.output_dim));
        Output::new(Shape(dims), (self.input_dim * self.output_dim) as u64)
    }
}
