//! Normalisation layers: BatchNormalization, LayerNormalization and UnitNormalization.

use super::{Ctx, Output};
use crate::args::Args;
use crate::diagnosis::{Diagnosis, Kind};
use crate::shape::Shape;

const GAMMA_BETA_ARGS: &[&str] = &[
    "beta_initializer",
    "gamma_initializer",
    "beta_regularizer",
    "gamma_regularizer",
    "beta_constraint",
    "gamma_constraint",
];

/// Resolves a Keras axis (batch counted as 0, negatives from the end) to a batch-less index.
fn resolve_axis(ctx: &Ctx, x: &Shape, axis: i64) -> Result<usize, Diagnosis> {
    let ndim = x.ndim() as i64;
    let a = if axis < 0 { ndim + axis } else { axis };
    if a <= 0 || a >= ndim {
        return Err(ctx
            .diag(
                Kind::RankMismatch,
                format!("axis {axis} does not exist in an input of ndim={ndim}"),
            )
            .received(x.to_string())
            .expected(format!(
                "an axis between 1 and {} (or -1 for the last)",
                ndim - 1
            ))
            .cause("the normalised axis must be a non-batch axis of the input")
            .fix("use axis=-1 for channels_last data, axis=1 for channels_first"));
    }
    Ok(a as usize - 1)
}

fn known_axis(ctx: &Ctx, x: &Shape, i: usize) -> Result<usize, Diagnosis> {
    x.dims()[i].ok_or_else(|| {
        ctx.diag(Kind::UnknownDimension, format!("axis {} is unknown", i + 1))
            .received(x.to_string())
            .expected(format!("a known size on axis {}", i + 1))
            .cause(format!(
                "{} keeps one parameter per entry of the normalised axis",
                ctx.type_name
            ))
            .fix("give that axis a fixed size, or normalise another axis")
    })
}

/// `BatchNormalization`'s arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchNorm {
    /// The normalised axis (Keras numbering: batch 0, −1 the last).
    pub axis: i64,
    /// Whether `beta` is added.
    pub center: bool,
    /// Whether `gamma` multiplies.
    pub scale: bool,
    /// Added to the variance.
    pub epsilon: f32,
    /// How much of the moving statistics each training batch keeps.
    pub momentum: f32,
}

impl BatchNorm {
    /// Parses `BatchNormalization`'s arguments.
    pub fn parse(a: &mut Args) -> Result<BatchNorm, Diagnosis> {
        let axis = a.int("axis", -1)?;
        let center = a.bool("center", true)?;
        let scale = a.bool("scale", true)?;
        let epsilon = a.float("epsilon", 1e-3)? as f32;
        let momentum = a.float("momentum", 0.99)? as f32;
        let mut ignored = GAMMA_BETA_ARGS.to_vec();
        ignored.extend([
            "moving_mean_initializer",
            "moving_variance_initializer",
            "synchronized",
            "renorm",
            "renorm_clipping",
            "renorm_momentum",
        ]);
        a.finish(&ignored)?;
        Ok(BatchNorm {
            axis,
            center,
            scale,
            epsilon,
            momentum,
        })
    }

    /// Shape unchanged. Parameters: gamma and beta (trainable), moving mean and variance
    /// (non-trainable), each of the size of the normalised axis.
    pub fn infer(&self, ctx: &Ctx, x: &Shape) -> Result<Output, Diagnosis> {
        let c = known_axis(ctx, x, resolve_axis(ctx, x, self.axis)?)? as u64;
        Ok(Output {
            shape: x.clone(),
            trainable: c * (u64::from(self.center) + u64::from(self.scale)),
            non_trainable: 2 * c,
        })
    }
}

/// UnitNormalization: each vector along `axes` scaled to unit L2 norm.
#[derive(Clone, Debug, PartialEq)]
pub struct UnitNorm {
    /// The axes of each vector (Keras numbering).
    pub axes: Vec<i64>,
}

impl UnitNorm {
    /// Parses `UnitNormalization`'s arguments.
    pub fn parse(a: &mut Args) -> Result<UnitNorm, Diagnosis> {
        let axes = a.int_list("axis", &[-1])?;
        a.finish(&[])?;
        Ok(UnitNorm { axes })
    }

    /// Shape unchanged, no parameters; every axis must exist.
    pub fn infer(&self, ctx: &Ctx, x: &Shape) -> Result<Output, Diagnosis> {
        for &axis in &self.axes {
            resolve_axis(ctx, x, axis)?;
        }
        Ok(Output::new(x.clone(), 0))
    }
}

/// `LayerNormalization`'s arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerNorm {
    /// The normalised axes (Keras numbering).
    pub axes: Vec<i64>,
    /// Whether `beta` is added.
    pub center: bool,
    /// Whether `gamma` multiplies.
    pub scale: bool,
    /// Divide by the root mean square only (no centring).
    pub rms_scaling: bool,
    /// Added to the variance.
    pub epsilon: f32,
}

impl LayerNorm {
    /// Parses `LayerNormalization`'s arguments.
    pub fn parse(a: &mut Args) -> Result<LayerNorm, Diagnosis> {
        let axes = a.int_list("axis", &[-1])?;
        let center = a.bool("center", true)?;
        let scale = a.bool("scale", true)?;
        let rms_scaling = a.bool("rms_scaling", false)?;
        // Keras hands a null epsilon to ops.layer_normalization, which uses backend.epsilon().
        let epsilon = match a.take_raw("epsilon") {
            Some(serde_json::Value::Null) => 1e-7,
            Some(v) => v
                .as_f64()
                .ok_or_else(|| a.error("epsilon", "a number", &v))? as f32,
            None => 1e-3,
        };
        a.finish(GAMMA_BETA_ARGS)?;
        Ok(LayerNorm {
            axes,
            center,
            scale,
            rms_scaling,
            epsilon,
        })
    }

    /// Shape unchanged. Parameters: gamma and beta over the normalised axes (rms_scaling keeps
    /// only gamma).
    pub fn infer(&self, ctx: &Ctx, x: &Shape) -> Result<Output, Diagnosis> {
        let mut size = 1u64;
        for &a in &self.axes {
            size = size.saturating_mul(known_axis(ctx, x, resolve_axis(ctx, x, a)?)? as u64);
        }
        let gamma = self.scale || self.rms_scaling;
        let beta = self.center && !self.rms_scaling;
        Ok(Output::new(
            x.clone(),
            size * (u64::from(gamma) + u64::from(beta)),
        ))
    }
}
