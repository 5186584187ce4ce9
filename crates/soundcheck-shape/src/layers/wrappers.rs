//! Wrappers: TimeDistributed (a layer applied to every timestep) and Bidirectional RNNs.

use serde_json::{Map, Value};

use super::{Ctx, Layer, LayerDef, Output, Rnn};
use crate::args::Args;
use crate::diagnosis::{Diagnosis, Kind};
use crate::shape::{fmt_dim, Shape};
use crate::spec::DataFormat;

/// Reads `config.layer` = `{type, config}` (Keras's own `{class_name, config, ...}` too).
fn parse_inner(
    a: &mut Args,
    default_df: DataFormat,
    namer: &mut dyn FnMut(&str) -> String,
) -> Result<LayerDef, Diagnosis> {
    let expected = "a table {type = \"Conv1D\", config = {...}}";
    let v = a
        .take("layer")
        .ok_or_else(|| a.missing("layer", expected))?;
    let obj = v
        .as_object()
        .ok_or_else(|| a.error("layer", expected, &v))?;
    let type_name = obj
        .get("type")
        .or_else(|| obj.get("class_name"))
        .and_then(Value::as_str)
        .ok_or_else(|| a.error("layer", expected, &v))?
        .to_string();
    let mut config: Map<String, Value> = match obj.get("config") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(c)) => c.clone(),
        Some(_) => return Err(a.error("layer", expected, &v)),
    };
    let name = match config.remove("name") {
        Some(Value::String(n)) => n,
        _ => namer(&type_name),
    };
    let layer = super::parse(&name, &type_name, config, default_df, namer)?;
    Ok(LayerDef {
        name,
        type_name,
        layer,
    })
}

/// `TimeDistributed`: a layer applied to every timestep.
#[derive(Clone, Debug, PartialEq)]
pub struct TimeDistributed {
    /// The wrapped layer.
    pub inner: Box<LayerDef>,
}

impl TimeDistributed {
    /// Parses `TimeDistributed`'s arguments and its inner layer.
    pub fn parse(
        a: &mut Args,
        default_df: DataFormat,
        namer: &mut dyn FnMut(&str) -> String,
    ) -> Result<TimeDistributed, Diagnosis> {
        let inner = parse_inner(a, default_df, namer)?;
        a.finish(&[])?;
        Ok(TimeDistributed {
            inner: Box::new(inner),
        })
    }

    /// # Shapes
    /// - input: `(batch, timesteps, *step)`
    /// - output: `(batch, timesteps, *inner(step))`; parameters are the inner layer's, shared
    ///   across timesteps
    pub fn infer(&self, ctx: &Ctx, x: &Shape) -> Result<Output, Diagnosis> {
        let inner_type = &self.inner.type_name;
        if x.rank() < 2 {
            return Err(ctx
                .diag(Kind::RankMismatch, super::rank_title(ctx.type_name, 3, x, false))
                .received(x.to_string())
                .expected("(batch, timesteps, ...)")
                .cause(format!("TimeDistributed applies {inner_type} to each timestep, so it needs a time axis after the batch"))
                .fix(format!("apply {inner_type} directly, without TimeDistributed")));
        }
        let t = x.dims()[0];
        let step = Shape(x.dims()[1..].to_vec());
        let inner_ctx = Ctx {
            name: ctx.name,
            type_name: inner_type,
            ..*ctx
        };
        let out = self.inner.infer(&inner_ctx, std::slice::from_ref(&step)).map_err(|mut d| {
            d.layer_type = Some(format!("TimeDistributed({inner_type})"));
            d.received = Some(format!(
                "{x}: each of the {} timesteps is {}",
                fmt_dim(t),
                step.example()
            ));
            d.fix = match d.kind {
                Kind::MissingChannelAxis => {
                    let mut full = x.dims().to_vec();
                    full.push(Some(1));
                    let full = Shape(full);
                    format!(
                        "add a size-1 channel axis: input_shape={} (Reshape({})) so each of the {} timesteps is a {} sequence; or, if {} is one sequence of {} steps with {} features, use {inner_type} without TimeDistributed",
                        full.example(),
                        full.example(),
                        fmt_dim(t),
                        Shape(full.dims()[1..].to_vec()).example(),
                        x.example(),
                        fmt_dim(t),
                        fmt_dim(x.dims()[1])
                    )
                }
                _ => format!("for each timestep: {}", d.fix),
            };
            d
        })?;
        let mut dims = vec![t];
        dims.extend(out.shape.dims());
        Ok(Output {
            shape: Shape(dims),
            ..out
        })
    }
}

/// `Bidirectional`: a recurrent layer run forwards and backwards.
#[derive(Clone, Debug, PartialEq)]
pub struct Bidirectional {
    /// The wrapped recurrent layer.
    pub inner: Rnn,
    /// Its name (Keras keys the halves' weights `forward_<name>`, `backward_<name>`).
    pub inner_name: String,
    /// How the two outputs are combined.
    pub merge_mode: MergeMode,
}

/// How a Bidirectional layer combines its forward and backward outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MergeMode {
    /// Joined along the features: `2·units`.
    Concat,
    /// Summed.
    Sum,
    /// Multiplied.
    Mul,
    /// Averaged.
    Ave,
}

impl Bidirectional {
    /// Parses `Bidirectional`'s arguments and its inner layer.
    pub fn parse(
        a: &mut Args,
        default_df: DataFormat,
        namer: &mut dyn FnMut(&str) -> String,
    ) -> Result<Bidirectional, Diagnosis> {
        let inner = parse_inner(a, default_df, namer)?;
        let Layer::Rnn(rnn) = inner.layer else {
            return Err(a.error(
                "layer",
                "a recurrent layer (LSTM, GRU, SimpleRNN)",
                &Value::String(inner.type_name),
            ));
        };
        let merge_mode = match a.take_raw("merge_mode") {
            None => MergeMode::Concat,
            Some(Value::Null) => {
                return Err(a.error(
                    "merge_mode",
                    "'concat', 'sum', 'mul' or 'ave' (None returns two outputs, which soundcheck does not model)",
                    &Value::Null,
                ))
            }
            Some(Value::String(s)) if s == "concat" => MergeMode::Concat,
            Some(Value::String(s)) if s == "sum" => MergeMode::Sum,
            Some(Value::String(s)) if s == "mul" => MergeMode::Mul,
            Some(Value::String(s)) if s == "ave" => MergeMode::Ave,
            Some(v) => return Err(a.error("merge_mode", "'concat', 'sum', 'mul' or 'ave'", &v)),
        };
        a.finish(&["backward_layer"])?;
        Ok(Bidirectional {
            inner: rnn,
            inner_name: inner.name,
            merge_mode,
        })
    }

    /// # Shapes
    /// - input: `(batch, timesteps, features)`
    /// - output: the inner RNN's, with `2·units` features for `merge_mode='concat'`
    pub fn infer(&self, ctx: &Ctx, x: &Shape) -> Result<Output, Diagnosis> {
        let out = self.inner.infer(ctx, x)?;
        let mut dims = out.shape.dims().to_vec();
        if self.merge_mode == MergeMode::Concat {
            let last = dims.last_mut().expect("an RNN output has a unit axis");
            *last = last.map(|u| 2 * u);
        }
        Ok(Output::new(Shape(dims), 2 * out.trainable))
    }
}
