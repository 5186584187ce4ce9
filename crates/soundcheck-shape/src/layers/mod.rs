//! Keras layers: argument parsing and shape/parameter inference, one file per family.

mod activation;
mod conv;
mod core;
mod layout;
mod merge;
mod noise;
mod norm;
mod pool;
mod recurrent;
mod reshaping;
mod spatial;
mod wrappers;

use serde_json::{Map, Value};

use crate::args::Args;
use crate::diagnosis::{closest, Diagnosis, Kind};
use crate::shape::Shape;
use crate::spec::DataFormat;

pub use activation::{Activation, Function};
pub use conv::{Conv, ConvKind, Padding};
pub use core::{Dense, Embedding};
pub use merge::{Merge, MergeOp};
pub use noise::Noise;
pub use norm::{BatchNorm, LayerNorm, UnitNorm};
pub use pool::{GlobalPool, Pool, PoolOp};
pub use recurrent::{Rnn, RnnCell};
pub use reshaping::{Permute, Reshape};
pub use spatial::{Edit, SpatialEdit};
pub use wrappers::{Bidirectional, MergeMode, TimeDistributed};

/// Every layer class the engine knows, by Keras class name.
pub const KNOWN_TYPES: &[&str] = &[
    "InputLayer",
    "Input",
    "Dense",
    "Activation",
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "GaussianNoise",
    "GaussianDropout",
    "Masking",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "Softmax",
    "Flatten",
    "Reshape",
    "Permute",
    "RepeatVector",
    "Embedding",
    "Conv1D",
    "Conv2D",
    "Conv3D",
    "Conv1DTranspose",
    "Conv2DTranspose",
    "Conv3DTranspose",
    "SeparableConv1D",
    "SeparableConv2D",
    "DepthwiseConv1D",
    "DepthwiseConv2D",
    "MaxPooling1D",
    "MaxPooling2D",
    "MaxPooling3D",
    "AveragePooling1D",
    "AveragePooling2D",
    "AveragePooling3D",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalAveragePooling3D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "GlobalMaxPooling3D",
    "UpSampling1D",
    "UpSampling2D",
    "UpSampling3D",
    "ZeroPadding1D",
    "ZeroPadding2D",
    "ZeroPadding3D",
    "Cropping1D",
    "Cropping2D",
    "Cropping3D",
    "BatchNormalization",
    "LayerNormalization",
    "UnitNormalization",
    "LSTM",
    "GRU",
    "SimpleRNN",
    "Bidirectional",
    "TimeDistributed",
    "Add",
    "Subtract",
    "Multiply",
    "Average",
    "Maximum",
    "Minimum",
    "Concatenate",
];

/// A parsed layer: what it computes, with its arguments resolved to Keras's defaults. The
/// neural engine builds its networks from these, never from the raw arguments.
#[derive(Clone, Debug, PartialEq)]
pub enum Layer {
    /// Activation, ReLU, LeakyReLU, ELU, Softmax: element-wise (Softmax along its axes).
    Activation(Activation),
    /// Dropout and noise: active while training, the identity at inference.
    Noise(Noise),
    /// Keras's Masking: timesteps whose features all equal `mask_value` are zeroed and skipped
    /// by the recurrent layers after it.
    Masking {
        /// The value that marks a padded timestep.
        mask_value: f32,
    },
    /// `Dense`.
    Dense(Dense),
    /// `Embedding`.
    Embedding(Embedding),
    /// `Flatten`.
    Flatten,
    /// `Reshape`.
    Reshape(Reshape),
    /// `Permute`.
    Permute(Permute),
    /// `RepeatVector(n)`.
    RepeatVector(usize),
    /// Every convolution class.
    Conv(Conv),
    /// `MaxPooling`/`AveragePooling`.
    Pool(Pool),
    /// `GlobalMaxPooling`/`GlobalAveragePooling`.
    GlobalPool(GlobalPool),
    /// `ZeroPadding`, `Cropping`, `UpSampling`.
    Spatial(SpatialEdit),
    /// `BatchNormalization`.
    BatchNorm(BatchNorm),
    /// `LayerNormalization`.
    LayerNorm(LayerNorm),
    /// `UnitNormalization`.
    UnitNorm(UnitNorm),
    /// `LSTM`, `GRU`, `SimpleRNN`.
    Rnn(Rnn),
    /// `Bidirectional`.
    Bidirectional(Bidirectional),
    /// `TimeDistributed`.
    TimeDistributed(TimeDistributed),
    /// `Add`, `Concatenate`, ... .
    Merge(Merge),
}

/// A layer with its name and Keras class.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerDef {
    /// The layer's name (Keras's automatic one when the spec gives none).
    pub name: String,
    /// The Keras class name.
    pub type_name: String,
    /// What it computes, with its arguments.
    pub layer: Layer,
}

/// What a layer produces: its output shape and its parameter counts.
#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    /// The output shape, batch excluded.
    pub shape: Shape,
    /// Trainable parameters.
    pub trainable: u64,
    /// Non-trainable parameters (BatchNormalization's moving statistics).
    pub non_trainable: u64,
}

/// A parameter count computed in u128 (products of several int32 sizes), saturated to u64.
pub(crate) fn count(n: u128) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

impl Output {
    /// An output with `trainable` parameters only.
    pub fn new(shape: Shape, trainable: u64) -> Output {
        Output {
            shape,
            trainable,
            non_trainable: 0,
        }
    }
}

/// What a layer knows while inferring: who it is and where its inputs come from.
pub struct Ctx<'a> {
    /// The layer's name.
    pub name: &'a str,
    /// The layer's Keras class.
    pub type_name: &'a str,
    /// Names of the layers feeding this one, in order.
    pub input_names: &'a [String],
    /// Positions of those layers in the model (input = 0), to tell a shortcut from a main branch.
    pub input_positions: &'a [usize],
    /// The model's default data format (merge layers have none of their own).
    pub data_format: DataFormat,
}

impl Ctx<'_> {
    /// A diagnosis of `kind` at this layer.
    pub fn diag(&self, kind: Kind, title: impl Into<String>) -> Diagnosis {
        Diagnosis::new(kind, title).at(self.name, self.type_name)
    }
}

/// Parses one layer. `namer` gives Keras's automatic name for wrapped layers without one.
pub fn parse(
    name: &str,
    type_name: &str,
    config: Map<String, Value>,
    default_df: DataFormat,
    namer: &mut dyn FnMut(&str) -> String,
) -> Result<Layer, Diagnosis> {
    let mut a = Args::new(name, type_name, config);
    let layer = match type_name {
        t if activation::LAYER_TYPES.contains(&t) => {
            Layer::Activation(Activation::layer(t, &mut a)?)
        }
        t if Noise::TYPES.contains(&t) => Layer::Noise(Noise::parse(t, &mut a, default_df)?),
        "Masking" => {
            let mask_value = a.float("mask_value", 0.0)? as f32;
            a.finish(&[])?;
            Layer::Masking { mask_value }
        }
        "Dense" => Layer::Dense(Dense::parse(&mut a)?),
        "Embedding" => Layer::Embedding(Embedding::parse(&mut a)?),
        "Flatten" => {
            a.choice("data_format", &DataFormat::NAMES, "channels_last")?;
            a.finish(&[])?;
            Layer::Flatten
        }
        "Reshape" => Layer::Reshape(Reshape::parse(&mut a)?),
        "Permute" => Layer::Permute(Permute::parse(&mut a)?),
        "RepeatVector" => {
            let n = a.positive("n", None)?;
            a.finish(&[])?;
            Layer::RepeatVector(n)
        }
        t if conv::ConvKind::of(t).is_some() => Layer::Conv(Conv::parse(t, &mut a, default_df)?),
        t if pool::Pool::kind_of(t).is_some() => Layer::Pool(Pool::parse(t, &mut a, default_df)?),
        t if pool::GlobalPool::kind_of(t).is_some() => {
            Layer::GlobalPool(GlobalPool::parse(t, &mut a, default_df)?)
        }
        t if spatial::SpatialEdit::kind_of(t).is_some() => {
            Layer::Spatial(spatial::SpatialEdit::parse(t, &mut a, default_df)?)
        }
        "BatchNormalization" => Layer::BatchNorm(BatchNorm::parse(&mut a)?),
        "LayerNormalization" => Layer::LayerNorm(LayerNorm::parse(&mut a)?),
        "UnitNormalization" => Layer::UnitNorm(UnitNorm::parse(&mut a)?),
        "LSTM" | "GRU" | "SimpleRNN" => Layer::Rnn(Rnn::parse(type_name, &mut a)?),
        "Bidirectional" => Layer::Bidirectional(Bidirectional::parse(&mut a, default_df, namer)?),
        "TimeDistributed" => {
            Layer::TimeDistributed(TimeDistributed::parse(&mut a, default_df, namer)?)
        }
        t if merge::MergeOp::of(t).is_some() => Layer::Merge(Merge::parse(t, &mut a)?),
        other => return Err(unknown_type(name, other)),
    };
    Ok(layer)
}

/// The diagnosis of a layer class soundcheck does not know, with a did-you-mean.
pub fn unknown_type(name: &str, type_name: &str) -> Diagnosis {
    let fix = match closest(type_name, KNOWN_TYPES.iter().copied()) {
        Some(c) => format!("did you mean '{c}'? Layer types are Keras class names, case-sensitive"),
        None => format!("use one of: {}", KNOWN_TYPES.join(", ")),
    };
    Diagnosis::new(
        Kind::InvalidSpec,
        format!("unknown layer type '{type_name}'"),
    )
    .at(name, type_name)
    .expected("a Keras layer class name soundcheck knows")
    .cause(format!("'{type_name}' is not a layer soundcheck can check"))
    .fix(fix)
}

impl LayerDef {
    /// Infers the output shape and parameter counts from the input shapes.
    pub fn infer(&self, ctx: &Ctx, inputs: &[Shape]) -> Result<Output, Diagnosis> {
        if !matches!(self.layer, Layer::Merge(_)) && inputs.len() != 1 {
            return Err(ctx
                .diag(
                    Kind::InvalidSpec,
                    format!("{} takes one input, got {}", self.type_name, inputs.len()),
                )
                .fix("list exactly one layer in 'inputs', or use a merge layer (Add, Concatenate) to combine them"));
        }
        let x = &inputs[0];
        match &self.layer {
            Layer::Activation(a) => a.infer(ctx, x),
            Layer::Noise(_) | Layer::Masking { .. } => Ok(Output::new(x.clone(), 0)),
            Layer::Dense(d) => d.infer(ctx, x),
            Layer::Embedding(e) => Ok(e.infer(x)),
            Layer::Flatten => Ok(Output::new(reshaping::flatten(x), 0)),
            Layer::Reshape(r) => r.infer(ctx, x),
            Layer::Permute(p) => p.infer(ctx, x),
            Layer::RepeatVector(n) => reshaping::repeat_vector(ctx, x, *n),
            Layer::Conv(c) => c.infer(ctx, x),
            Layer::Pool(p) => p.infer(ctx, x),
            Layer::GlobalPool(g) => g.infer(ctx, x),
            Layer::Spatial(s) => s.infer(ctx, x),
            Layer::BatchNorm(b) => b.infer(ctx, x),
            Layer::LayerNorm(l) => l.infer(ctx, x),
            Layer::UnitNorm(u) => u.infer(ctx, x),
            Layer::Rnn(r) => r.infer(ctx, x),
            Layer::Bidirectional(b) => b.infer(ctx, x),
            Layer::TimeDistributed(t) => t.infer(ctx, x),
            Layer::Merge(m) => m.infer(ctx, inputs),
        }
    }
}

/// Keras's automatic layer name prefix: `Conv2D` → `conv2d`, `MaxPooling1D` → `max_pooling1d`.
pub fn snake_case(class: &str) -> String {
    // Keras: re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2") then re.sub("([a-z])([A-Z])", r"\1_\2").
    let c: Vec<char> = class.chars().collect();
    let mut first = String::new();
    let mut i = 0;
    while i < c.len() {
        let starts_word = i > 0
            && c[i].is_ascii_uppercase()
            && c.get(i + 1)
                .is_some_and(|n| n.is_ascii_lowercase() || n.is_ascii_digit());
        // The regex consumes the word it matched, so the next match starts after it.
        if starts_word && !first.is_empty() {
            first.push('_');
        }
        first.push(c[i]);
        if starts_word {
            i += 1;
            while i < c.len() && (c[i].is_ascii_lowercase() || c[i].is_ascii_digit()) {
                first.push(c[i]);
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    let f: Vec<char> = first.chars().collect();
    let mut out = String::new();
    for (j, ch) in f.iter().enumerate() {
        if j > 0 && ch.is_ascii_uppercase() && f[j - 1].is_ascii_lowercase() {
            out.push('_');
        }
        out.push(ch.to_ascii_lowercase());
    }
    out
}

/// Rank requirement helper: Keras's `ndim` counts the batch axis, our shapes do not.
pub(crate) fn rank_title(type_name: &str, want_ndim: usize, got: &Shape, exact: bool) -> String {
    let rel = if exact { "ndim" } else { "min_ndim" };
    format!(
        "{type_name} expects {rel}={want_ndim}, found ndim={}",
        got.ndim()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keras_auto_names() {
        for (class, name) in [
            ("Conv2D", "conv2d"),
            ("MaxPooling1D", "max_pooling1d"),
            ("BatchNormalization", "batch_normalization"),
            ("GlobalAveragePooling2D", "global_average_pooling2d"),
            ("Conv2DTranspose", "conv2d_transpose"),
            ("LSTM", "lstm"),
            ("SimpleRNN", "simple_rnn"),
            ("TimeDistributed", "time_distributed"),
            ("UpSampling2D", "up_sampling2d"),
            ("ZeroPadding1D", "zero_padding1d"),
            ("Cropping2D", "cropping2d"),
            ("RepeatVector", "repeat_vector"),
            ("SeparableConv2D", "separable_conv2d"),
            ("DepthwiseConv2D", "depthwise_conv2d"),
            ("InputLayer", "input_layer"),
            ("ReLU", "re_lu"),
            ("LeakyReLU", "leaky_re_lu"),
        ] {
            assert_eq!(snake_case(class), name, "{class}");
        }
    }
}
