//! A checked spec as a network: every layer's forward pass, in Keras's channels_last layout at
//! the boundaries, channels-first inside burn's convolutions and pools.

use burn::tensor::activation as act;
use burn::tensor::module::{
    avg_pool1d, avg_pool2d, conv1d, conv2d, conv_transpose1d, conv_transpose2d, max_pool1d,
    max_pool2d,
};
use burn::tensor::ops::{
    AvgPoolOptions, ConvOptions, ConvTransposeOptions, MaxPoolOptions, PadMode,
};
use std::cell::RefCell;

use burn::tensor::{Device, Int, Tensor, TensorData};
use serde_json::Value;
use soundcheck_data::SplitMix64;
use soundcheck_shape::layers::{
    Conv, ConvKind, Edit, Layer, LayerDef, MergeOp, Padding, PoolOp, Rnn, RnnCell,
};
use soundcheck_shape::spec::{DataFormat, ModelSpec};
use soundcheck_shape::Model;

use crate::error::{NnError, Result};
use crate::tensor::{each_rank, Binary, DynTensor};
use crate::variables::{keras_initial, Variables};
use crate::weights::Weights;

/// Keras's activations, by name.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    Linear,
    Relu,
    /// With its negative slope.
    LeakyRelu(f32),
    /// With its alpha.
    Elu(f32),
    Gelu,
    Sigmoid,
    Tanh,
    Softmax,
    Selu,
    Softplus,
    Softsign,
    Swish,
}

impl Activation {
    fn parse(layer: &str, v: Option<&Value>) -> Result<Activation> {
        let name = match v {
            None | Some(Value::Null) => return Ok(Activation::Linear),
            Some(Value::String(s)) => s.to_lowercase(),
            Some(Value::Object(o)) => o
                .get("config")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_lowercase(),
            Some(other) => other.to_string(),
        };
        Ok(match name.as_str() {
            "linear" => Activation::Linear,
            "relu" => Activation::Relu,
            "leaky_relu" => Activation::LeakyRelu(0.2),
            "elu" => Activation::Elu(1.0),
            "gelu" => Activation::Gelu,
            "sigmoid" => Activation::Sigmoid,
            "tanh" => Activation::Tanh,
            "softmax" => Activation::Softmax,
            "selu" => Activation::Selu,
            "softplus" => Activation::Softplus,
            "softsign" => Activation::Softsign,
            "swish" | "silu" => Activation::Swish,
            other => {
                return Err(NnError::Unsupported {
                    layer: layer.to_string(),
                    what: format!("activation '{other}'"),
                })
            }
        })
    }

    fn apply<const D: usize>(self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Activation::Linear => x,
            Activation::Relu => act::relu(x),
            // Keras 3's `leaky_relu` activation uses negative_slope 0.2 (the layer's default is 0.3).
            Activation::LeakyRelu(slope) => act::leaky_relu(x, slope as f64),
            Activation::Elu(alpha) => act::elu(x, alpha as f64),
            // Keras's gelu defaults to the exact (erf) form.
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

    fn run(self, x: DynTensor) -> DynTensor {
        each_rank!(x, t => self.apply(t))
    }
}

enum ConvWeight {
    W1(Tensor<3>),
    W2(Tensor<4>),
}

/// A convolution kernel variable, in Keras's layout: `(k…, in, out)`, or `(k…, channels,
/// multiplier)` for a depthwise one.
struct Kernel {
    var: usize,
    depthwise: bool,
}

/// What a noise layer does while training (at inference it passes its input through).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Noise {
    /// Zeroes elements with probability `rate`, scaling the rest by 1/(1 − rate).
    Dropout(f32),
    /// Dropout of whole channels (`channel_axis`), the same for every position.
    Spatial { rate: f32, channel_axis: usize },
    /// Adds N(0, stddev²).
    Gaussian(f32),
    /// Multiplies by N(1, rate / (1 − rate)).
    GaussianDropout(f32),
}

/// One layer's forward pass with its weights.
// One Op per layer, built once: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
enum Op {
    Act(Activation),
    Noise(Noise),
    /// Keras's Masking: timesteps whose features all equal the value are zeroed and skipped by
    /// the recurrent layers after it.
    Mask(f32),
    Dense {
        w: usize,
        b: Option<usize>,
        act: Activation,
    },
    Conv {
        conv: Conv,
        w: Kernel,
        b: Option<usize>,
        act: Activation,
    },
    ConvTranspose {
        conv: Conv,
        w: Kernel,
        b: Option<usize>,
        act: Activation,
    },
    Pool {
        op: PoolOp,
        rank: usize,
        pool: Vec<usize>,
        strides: Vec<usize>,
        same: bool,
        df: DataFormat,
    },
    GlobalPool {
        op: PoolOp,
        rank: usize,
        keepdims: bool,
        df: DataFormat,
    },
    /// Normalisation along `axis` with the batch's statistics while training (moving them by
    /// `momentum`), with the moving statistics at inference.
    BatchNorm {
        axis: usize,
        gamma: Option<usize>,
        beta: Option<usize>,
        mean: usize,
        var: usize,
        eps: f32,
        momentum: f32,
    },
    Flatten,
    Reshape(Vec<Option<usize>>),
    Permute(Vec<usize>),
    Merge(MergeOp, i64),
    Rnn(RnnOp),
    Bidirectional {
        fwd: RnnOp,
        bwd: RnnOp,
        merge: BiMerge,
    },
    /// The inner op applied to every timestep (time folded into the batch).
    TimeDistributed(Box<Op>),
    /// Ops run one after the other (a separable convolution: depthwise, then pointwise).
    Chain(Vec<Op>),
    /// Zero padding, one (before, after) pair per axis, batch included.
    Pad(Vec<(usize, usize)>),
    /// Cropping, one (before, after) pair per axis, batch included.
    Crop(Vec<(usize, usize)>),
    /// Nearest-neighbour repetition factor per axis, batch included.
    UpSample(Vec<usize>),
    LayerNorm {
        axes: Vec<usize>,
        gamma: Option<usize>,
        beta: Option<usize>,
        eps: f32,
        rms: bool,
    },
    /// An embedding table `(input_dim, output_dim)`.
    Embedding(usize),
    RepeatVector(usize),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum BiMerge {
    Concat,
    Sum,
    Mul,
    Ave,
}

/// A recurrent layer's weights, Keras's gate order (LSTM i, f, c, o; GRU z, r, h).
struct RnnOp {
    cell: RnnCell,
    units: usize,
    /// `(features, gates·units)`.
    w: usize,
    /// `(units, gates·units)`.
    u: usize,
    /// `(gates·units)`, or `(2, gates·units)` for a GRU with reset_after: the input projection's
    /// bias, then the recurrent projection's.
    bias: Option<usize>,
    return_sequences: bool,
}

fn gates(cell: RnnCell) -> usize {
    match cell {
        RnnCell::Lstm => 4,
        RnnCell::Gru { .. } => 3,
        RnnCell::Simple => 1,
    }
}

/// Reads a recurrent layer's weights from `{prefix}/{cell}/…`, refusing activations other than
/// Keras's defaults (tanh, and sigmoid for the gates).
fn rnn_op(
    r: &Rnn,
    config: &serde_json::Map<String, Value>,
    features: usize,
    ws: &WeightSource,
) -> Result<RnnOp> {
    for (key, default) in [("activation", "tanh"), ("recurrent_activation", "sigmoid")] {
        if let Some(v) = config.get(key).and_then(Value::as_str) {
            if v != default {
                return Err(NnError::Unsupported {
                    layer: ws.layer.to_string(),
                    what: format!("{key}='{v}' in a recurrent layer (only '{default}')"),
                });
            }
        }
    }
    let cell_name = match r.cell {
        RnnCell::Lstm => "lstm_cell",
        RnnCell::Gru { .. } => "gru_cell",
        RnnCell::Simple => "simple_rnn_cell",
    };
    let ws = ws.nested(cell_name);
    let (u, g) = (r.units, gates(r.cell));
    let bias = match (r.use_bias, r.cell) {
        (false, _) => None,
        (true, RnnCell::Gru { reset_after: true }) => Some(ws.get("bias", &[2, g * u])?),
        (true, _) => Some(ws.get("bias", &[g * u])?),
    };
    Ok(RnnOp {
        cell: r.cell,
        units: u,
        w: ws.get("kernel", &[features, g * u])?,
        u: ws.get("recurrent_kernel", &[u, g * u])?,
        bias,
        return_sequences: r.return_sequences,
    })
}

/// Runs a recurrent layer over `x` `(batch, time, features)`, backwards when `reverse` (a
/// Bidirectional's backward half, its sequence output put back in input time order).
fn run_rnn(
    r: &RnnOp,
    vars: &Variables,
    x: Tensor<3>,
    reverse: bool,
    mask: Option<&Tensor<2>>,
) -> DynTensor {
    let [n, t, f] = x.dims();
    let (u, g) = (r.units, gates(r.cell));
    let device = x.device();
    let (b_in, b_rec): (Option<Tensor<1>>, Option<Tensor<1>>) = match r.bias {
        None => (None, None),
        Some(b) if vars.get(b).shape.len() == 2 => {
            let b = vars.tensor::<2>(b);
            (
                Some(b.clone().slice([0..1, 0..g * u]).reshape([g * u])),
                Some(b.slice([1..2, 0..g * u]).reshape([g * u])),
            )
        }
        Some(b) => (Some(vars.tensor::<1>(b)), None),
    };
    let (w, ru) = (vars.tensor::<2>(r.w), vars.tensor::<2>(r.u));
    // The input projections of all timesteps in one product.
    let mut xw = x.reshape([n * t, f]).matmul(w);
    if let Some(b) = b_in {
        xw = xw + b.unsqueeze::<2>();
    }
    let xw = xw.reshape([n, t, g * u]);
    let gate = |z: &Tensor<2>, k: usize| z.clone().slice([0..n, k * u..(k + 1) * u]);
    let mut h = Tensor::<2>::zeros([n, u], &device);
    let mut c = Tensor::<2>::zeros([n, u], &device);
    let mut outs = Vec::with_capacity(if r.return_sequences { t } else { 0 });
    for step in 0..t {
        let ti = if reverse { t - 1 - step } else { step };
        let xt: Tensor<2> = xw
            .clone()
            .slice([0..n, ti..ti + 1, 0..g * u])
            .reshape([n, g * u]);
        let h_new = match r.cell {
            RnnCell::Lstm => {
                let z = xt + h.clone().matmul(ru.clone());
                let (i, fg, cc, o) = (
                    act::sigmoid(gate(&z, 0)),
                    act::sigmoid(gate(&z, 1)),
                    act::tanh(gate(&z, 2)),
                    act::sigmoid(gate(&z, 3)),
                );
                let c_new = fg * c.clone() + i * cc;
                let h_new = o * act::tanh(c_new.clone());
                c = match mask {
                    Some(m) => {
                        let m = m.clone().slice([0..n, ti..ti + 1]);
                        c_new * m.clone() + c.clone() * (m.neg() + 1.0)
                    }
                    None => c_new,
                };
                h_new
            }
            RnnCell::Gru { reset_after: true } => {
                let mut hu = h.clone().matmul(ru.clone());
                if let Some(b) = &b_rec {
                    hu = hu + b.clone().unsqueeze::<2>();
                }
                let z = act::sigmoid(gate(&xt, 0) + gate(&hu, 0));
                let rg = act::sigmoid(gate(&xt, 1) + gate(&hu, 1));
                let hh = act::tanh(gate(&xt, 2) + rg * gate(&hu, 2));
                z.clone() * h.clone() + (z.neg() + 1.0) * hh
            }
            RnnCell::Gru { reset_after: false } => {
                let u_zr = ru.clone().slice([0..u, 0..2 * u]);
                let u_h = ru.clone().slice([0..u, 2 * u..3 * u]);
                let zr = xt.clone().slice([0..n, 0..2 * u]) + h.clone().matmul(u_zr);
                let z = act::sigmoid(gate(&zr, 0));
                let rg = act::sigmoid(gate(&zr, 1));
                let hh = act::tanh(gate(&xt, 2) + (rg * h.clone()).matmul(u_h));
                z.clone() * h.clone() + (z.neg() + 1.0) * hh
            }
            RnnCell::Simple => act::tanh(xt + h.clone().matmul(ru.clone())),
        };
        // A masked timestep leaves the state as it was and (Keras 3) outputs zeros.
        h = match mask {
            Some(m) => {
                let m = m.clone().slice([0..n, ti..ti + 1]);
                if r.return_sequences {
                    outs.push(h_new.clone() * m.clone());
                }
                h_new * m.clone() + h.clone() * (m.neg() + 1.0)
            }
            None => {
                if r.return_sequences {
                    outs.push(h_new.clone());
                }
                h_new
            }
        };
    }
    if !r.return_sequences {
        return DynTensor::R2(h);
    }
    if reverse {
        outs.reverse();
    }
    DynTensor::R3(Tensor::cat(
        outs.into_iter().map(|o| o.unsqueeze_dim::<3>(1)).collect(),
        1,
    ))
}

/// A numeric argument, or its default when absent or null.
fn number(config: &serde_json::Map<String, Value>, key: &str, default: f32) -> f32 {
    config
        .get(key)
        .and_then(Value::as_f64)
        .map_or(default, |v| v as f32)
}

/// Keras's conv kernel `(k…, in, out)` as burn's `(out, in, k…)`, equally a transposed kernel
/// `(k…, out, in)` as burn's `(in, out, k…)`; a depthwise kernel `(k…, channels, multiplier)` as
/// burn's grouped weight `(channels·multiplier, 1, k…)`: output channel `c·multiplier + m` reads
/// input channel `c`.
fn burn_kernel(vars: &Variables, k: &Kernel) -> ConvWeight {
    let s = &vars.get(k.var).shape;
    match (s.len(), k.depthwise) {
        (3, false) => ConvWeight::W1(vars.tensor::<3>(k.var).permute([2, 1, 0])),
        (3, true) => {
            let n = s[1] * s[2];
            ConvWeight::W1(
                vars.tensor::<3>(k.var)
                    .reshape([s[0], n])
                    .permute([1, 0])
                    .reshape([n, 1, s[0]]),
            )
        }
        (_, false) => ConvWeight::W2(vars.tensor::<4>(k.var).permute([3, 2, 0, 1])),
        (_, true) => {
            let n = s[2] * s[3];
            ConvWeight::W2(
                vars.tensor::<4>(k.var)
                    .reshape([s[0], s[1], n])
                    .permute([2, 0, 1])
                    .reshape([n, 1, s[0], s[1]]),
            )
        }
    }
}

/// `(begin, end)` padding Keras applies for `padding` on a length-`l` axis.
fn pads(padding: Padding, l: usize, span: usize, stride: usize) -> (usize, usize) {
    match padding {
        Padding::Valid => (0, 0),
        Padding::Causal => (span - 1, 0),
        Padding::Same => {
            let out = l.div_ceil(stride);
            let total = ((out - 1) * stride + span).saturating_sub(l);
            (total / 2, total - total / 2)
        }
    }
}

pub struct Network {
    model: Model,
    ops: Vec<Op>,
    /// The shape engine's output shape of every layer (batch excluded), checked against the real
    /// tensors in debug builds.
    inferred: Vec<Vec<Option<usize>>>,
    vars: Variables,
    device: Device,
}

/// Where new variables' values come from: a Keras weights file, or Keras's initializers.
struct Source<'a> {
    weights: Option<&'a Weights>,
    rng: RefCell<SplitMix64>,
    vars: RefCell<Variables>,
    device: &'a Device,
}

/// Where a layer's weights live: Keras keys them by variable path (`lstm/lstm_cell/kernel`,
/// `time_distributed/conv1d/kernel`), the layer named in errors.
struct WeightSource<'a> {
    source: &'a Source<'a>,
    layer: &'a str,
    prefix: String,
}

impl<'a> WeightSource<'a> {
    fn nested(&self, part: &str) -> WeightSource<'a> {
        WeightSource {
            source: self.source,
            layer: self.layer,
            prefix: format!("{}/{part}", self.prefix),
        }
    }

    /// The variable `name` of this layer, of Keras shape `expected`, as an index.
    fn get(&self, name: &str, expected: &[usize]) -> Result<usize> {
        let key = format!("{}/{name}", self.prefix);
        let data = match self.source.weights {
            None => keras_initial(&key, expected, &mut self.source.rng.borrow_mut()),
            Some(weights) => match weights.get(&key) {
                Some((shape, data)) if shape.as_slice() == expected => data.clone(),
                found => {
                    return Err(NnError::Weight {
                        layer: self.layer.to_string(),
                        key,
                        expected: expected.to_vec(),
                        actual: found.map(|(s, _)| s.clone()),
                    })
                }
            },
        };
        let trainable = !name.starts_with("moving_");
        Ok(self
            .source
            .vars
            .borrow_mut()
            .push(key, expected, data, trainable, self.source.device))
    }
}

/// One forward pass: inference, or training with its random draws and the moving statistics it
/// produces.
pub(crate) struct Pass {
    training: Option<SplitMix64>,
    /// The timestep mask `(batch, time)` (1 = real, 0 = padding) of the input of the layer
    /// being run, when a Masking layer upstream made one.
    mask: Option<Tensor<2>>,
    /// New values of non-trainable variables (BatchNormalization's moving statistics).
    pub(crate) moving: Vec<(usize, Vec<f32>)>,
}

impl Pass {
    pub(crate) fn inference() -> Pass {
        Pass {
            training: None,
            mask: None,
            moving: Vec::new(),
        }
    }

    /// A training pass whose dropout and noise draws are fixed by `seed`.
    pub(crate) fn training(seed: u64) -> Pass {
        Pass {
            training: Some(SplitMix64::new(seed)),
            mask: None,
            moving: Vec::new(),
        }
    }
}

impl Network {
    /// Builds the network of a spec with Keras weights (keyed `"layer/kernel"`, Keras's shapes).
    ///
    /// # Errors
    /// The spec does not check (the diagnosis), a weight is missing or of another shape, or a
    /// layer the engine does not run yet.
    pub fn new(spec: &ModelSpec, weights: &Weights, device: &Device) -> Result<Network> {
        Network::build(spec, Some(weights), 0, device)
    }

    /// Builds the network of a spec with fresh weights from Keras's default initializers, drawn
    /// from `seed`.
    pub fn initialized(spec: &ModelSpec, seed: u64, device: &Device) -> Result<Network> {
        Network::build(spec, None, seed, device)
    }

    fn build(
        spec: &ModelSpec,
        weights: Option<&Weights>,
        seed: u64,
        device: &Device,
    ) -> Result<Network> {
        let model = Model::from_spec(spec)?;
        let report = model.check();
        if let Some(d) = report.error {
            return Err(d.into());
        }
        let configs: Vec<&serde_json::Map<String, Value>> = spec
            .layers
            .iter()
            .filter(|l| l.type_name != "InputLayer" && l.type_name != "Input")
            .map(|l| &l.config)
            .collect();
        let n_in = model.inputs.len();
        let shape_of = |i: usize| -> Vec<Option<usize>> {
            if i < n_in {
                model.inputs[i].shape.dims().to_vec()
            } else {
                report.layers[i - n_in].output_shape.dims().to_vec()
            }
        };
        let source = Source {
            weights,
            rng: RefCell::new(SplitMix64::new(seed)),
            vars: RefCell::new(Variables::default()),
            device,
        };
        let mut ops = Vec::with_capacity(model.nodes.len());
        for (k, node) in model.nodes.iter().enumerate() {
            let name = node.def.name.as_str();
            let ws = WeightSource {
                source: &source,
                layer: name,
                prefix: name.to_string(),
            };
            let input = shape_of(node.inputs[0]);
            let output = report.layers[k].output_shape.dims().to_vec();
            ops.push(build_op(&node.def, configs[k], &input, &output, &ws)?);
        }
        let inferred = report
            .layers
            .iter()
            .map(|l| l.output_shape.dims().to_vec())
            .collect();
        Ok(Network {
            model,
            ops,
            inferred,
            vars: source.vars.into_inner(),
            device: device.clone(),
        })
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    pub fn variables(&self) -> &Variables {
        &self.vars
    }

    pub fn variables_mut(&mut self) -> &mut Variables {
        &mut self.vars
    }

    /// Checks a batch's shape against the model's input.
    pub(crate) fn check_input(&self, shape: &[usize]) -> Result<()> {
        let declared = self.model.inputs[0].shape.dims();
        if shape.len() != declared.len() + 1 || !self.model.inputs[0].shape.accepts(&shape[1..]) {
            return Err(NnError::Input {
                expected: declared.to_vec(),
                actual: shape.to_vec(),
            });
        }
        Ok(())
    }

    /// Runs the network in inference mode on a batch.
    ///
    /// # Shapes
    /// - `x`: `(batch, *input_shape)` as declared in the spec (channels_last for conv models)
    /// - output: `(batch, *output_shape)` of the first output layer
    pub fn forward(&self, shape: &[usize], x: Vec<f32>) -> Result<(Vec<usize>, Vec<f32>)> {
        self.check_input(shape)?;
        let x = DynTensor::from_data(shape, x, &self.device);
        let out = self.run_graph(x, &mut Pass::inference())?;
        Ok((out.dims(), out.to_vec()))
    }

    /// The graph on a checked input tensor; in a training pass the output carries the autodiff
    /// graph of the tracked variables.
    ///
    /// # Shapes
    /// - `x`: `(batch, *input_shape)`; output: `(batch, *output_shape)`
    pub(crate) fn run_graph(&self, x: DynTensor, pass: &mut Pass) -> Result<DynTensor> {
        let mut values: Vec<DynTensor> = vec![x];
        let mut masks: Vec<Option<Tensor<2>>> = vec![None];
        for ((node, op), inferred) in self.model.nodes.iter().zip(&self.ops).zip(&self.inferred) {
            let ins: Vec<DynTensor> = node.inputs.iter().map(|&i| values[i].clone()).collect();
            pass.mask = masks[node.inputs[0]].clone();
            let y = match op {
                Op::Embedding(table) => embed(self.vars.tensor(*table), &ins[0], &node.def.name)?,
                Op::Mask(value) => {
                    let (y, m) = timestep_mask(ins.into_iter().next().expect("one input"), *value);
                    pass.mask = Some(m);
                    y
                }
                _ => run(op, ins, &self.vars, pass),
            };
            // Keras propagates a mask through the layers that keep the time axis element-wise
            // (and through recurrent layers returning sequences); others drop it.
            let keeps = matches!(
                op,
                Op::Mask(_) | Op::Act(_) | Op::Noise(_) | Op::Dense { .. }
            ) || matches!(op, Op::Rnn(r) if r.return_sequences)
                || matches!(op, Op::Bidirectional { fwd, .. } if fwd.return_sequences);
            masks.push(if keeps { pass.mask.take() } else { None });
            if cfg!(debug_assertions) {
                let got = y.dims();
                let agrees = got.len() == inferred.len() + 1
                    && got[1..]
                        .iter()
                        .zip(inferred)
                        .all(|(g, d)| d.is_none_or(|d| d == *g));
                assert!(agrees, "layer '{}': the tensor is {got:?}, the shape engine inferred (batch, {inferred:?})", node.def.name);
            }
            values.push(y);
        }
        Ok(values.swap_remove(self.model.outputs[0]))
    }
}

/// One layer's forward op. `input`/`output` are its shapes without the batch axis, `ws` where its
/// weights are.
fn build_op(
    def: &LayerDef,
    config: &serde_json::Map<String, Value>,
    input: &[Option<usize>],
    output: &[Option<usize>],
    ws: &WeightSource,
) -> Result<Op> {
    let name = def.name.as_str();
    let activation = Activation::parse(ws.layer, config.get("activation"))?;
    let known = |d: Option<usize>| d.unwrap_or(0);
    Ok(match &def.layer {
        Layer::Identity => match def.type_name.as_str() {
            "Activation" => Op::Act(activation),
            "Dropout" => Op::Noise(Noise::Dropout(number(config, "rate", 0.5))),
            "SpatialDropout1D" | "SpatialDropout2D" => Op::Noise(Noise::Spatial {
                rate: number(config, "rate", 0.5),
                channel_axis: match config.get("data_format").and_then(Value::as_str) {
                    Some("channels_first") => 1,
                    _ => input.len(),
                },
            }),
            "Masking" => Op::Mask(number(config, "mask_value", 0.0)),
            "GaussianNoise" => Op::Noise(Noise::Gaussian(number(config, "stddev", 0.0))),
            "GaussianDropout" => Op::Noise(Noise::GaussianDropout(number(config, "rate", 0.0))),
            "LeakyReLU" => Op::Act(Activation::LeakyRelu(number(config, "negative_slope", 0.3))),
            "ELU" => Op::Act(Activation::Elu(number(config, "alpha", 1.0))),
            "ReLU"
                if ["max_value", "negative_slope", "threshold"]
                    .iter()
                    .all(|k| number(config, k, 0.0) == 0.0) =>
            {
                Op::Act(Activation::Relu)
            }
            "Softmax"
                if config
                    .get("axis")
                    .is_none_or(|a| a == -1 || a == &serde_json::json!([-1])) =>
            {
                Op::Act(Activation::Softmax)
            }
            other => {
                return Err(NnError::Unsupported {
                    layer: name.to_string(),
                    what: format!(
                        "the {other} layer with these arguments (use Activation('...') instead)"
                    ),
                })
            }
        },
        Layer::Dense(d) => {
            let fin = known(*input.last().expect("Dense input has a feature axis"));
            Op::Dense {
                w: ws.get("kernel", &[fin, d.units])?,
                b: if d.use_bias {
                    Some(ws.get("bias", &[d.units])?)
                } else {
                    None
                },
                act: activation,
            }
        }
        Layer::Conv(c) if c.kind == ConvKind::Transpose => {
            let ch = match c.data_format {
                DataFormat::ChannelsLast => input.len() - 1,
                DataFormat::ChannelsFirst => 0,
            };
            let kshape: Vec<usize> = c
                .kernel
                .iter()
                .copied()
                .chain([c.filters, known(input[ch])])
                .collect();
            Op::ConvTranspose {
                conv: c.clone(),
                w: Kernel {
                    var: ws.get("kernel", &kshape)?,
                    depthwise: false,
                },
                b: if c.use_bias {
                    Some(ws.get("bias", &[c.filters])?)
                } else {
                    None
                },
                act: activation,
            }
        }
        Layer::Conv(c) => {
            let ch = match c.data_format {
                DataFormat::ChannelsLast => input.len() - 1,
                DataFormat::ChannelsFirst => 0,
            };
            let channels = known(input[ch]);
            let with = |tail: &[usize]| -> Vec<usize> {
                c.kernel
                    .iter()
                    .copied()
                    .chain(tail.iter().copied())
                    .collect()
            };
            let bias = |n: usize| -> Result<Option<usize>> {
                Ok(if c.use_bias {
                    Some(ws.get("bias", &[n])?)
                } else {
                    None
                })
            };
            let kernel = |name: &str, depthwise: bool, shape: &[usize]| -> Result<Kernel> {
                Ok(Kernel {
                    var: ws.get(name, shape)?,
                    depthwise,
                })
            };
            match c.kind {
                ConvKind::Standard => {
                    let kshape = with(&[channels / c.groups, c.filters]);
                    Op::Conv {
                        conv: c.clone(),
                        w: kernel("kernel", false, &kshape)?,
                        b: bias(c.filters)?,
                        act: activation,
                    }
                }
                ConvKind::Depthwise => {
                    let dm = c.depth_multiplier;
                    let w = kernel("kernel", true, &with(&[channels, dm]))?;
                    let conv = Conv {
                        groups: channels,
                        filters: channels * dm,
                        ..c.clone()
                    };
                    Op::Conv {
                        conv,
                        w,
                        b: bias(channels * dm)?,
                        act: activation,
                    }
                }
                _ => {
                    // Separable: a depthwise convolution (with the strides and padding), then a
                    // 1×1 pointwise one (with the bias and activation).
                    let dm = c.depth_multiplier;
                    let w = kernel("depthwise_kernel", true, &with(&[channels, dm]))?;
                    let depthwise = Conv {
                        groups: channels,
                        filters: channels * dm,
                        use_bias: false,
                        ..c.clone()
                    };
                    let ones = vec![1; c.rank];
                    let pshape: Vec<usize> = ones
                        .iter()
                        .copied()
                        .chain([channels * dm, c.filters])
                        .collect();
                    let pointwise = Conv {
                        kernel: ones.clone(),
                        strides: ones.clone(),
                        dilation: ones.clone(),
                        padding: Padding::Valid,
                        groups: 1,
                        ..c.clone()
                    };
                    Op::Chain(vec![
                        Op::Conv {
                            conv: depthwise,
                            w,
                            b: None,
                            act: Activation::Linear,
                        },
                        Op::Conv {
                            conv: pointwise,
                            w: kernel("pointwise_kernel", false, &pshape)?,
                            b: bias(c.filters)?,
                            act: activation,
                        },
                    ])
                }
            }
        }
        Layer::Spatial(sp) => {
            let rank = input.len() + 1;
            let first = match sp.data_format {
                DataFormat::ChannelsLast => 1,
                DataFormat::ChannelsFirst => 2,
            };
            let per_axis = |i: usize| (first..first + sp.rank).position(|a| a == i);
            match &sp.edit {
                Edit::Pad(p) => Op::Pad(
                    (0..rank)
                        .map(|i| per_axis(i).map_or((0, 0), |j| p[j]))
                        .collect(),
                ),
                Edit::Crop(c) => Op::Crop(
                    (0..rank)
                        .map(|i| per_axis(i).map_or((0, 0), |j| c[j]))
                        .collect(),
                ),
                Edit::UpSample(f) => {
                    Op::UpSample((0..rank).map(|i| per_axis(i).map_or(1, |j| f[j])).collect())
                }
            }
        }
        Layer::LayerNorm(ln) => {
            let r = input.len() as i64 + 1;
            let mut axes: Vec<usize> = ln
                .axes
                .iter()
                .map(|&a| if a < 0 { r + a } else { a } as usize)
                .collect();
            axes.sort_unstable();
            let pshape: Vec<usize> = axes.iter().map(|&a| known(input[a - 1])).collect();
            let eps = config
                .get("epsilon")
                .and_then(Value::as_f64)
                .unwrap_or(1e-3) as f32;
            let gamma = if ln.scale || ln.rms_scaling {
                Some(ws.get("gamma", &pshape)?)
            } else {
                None
            };
            let beta = if ln.center && !ln.rms_scaling {
                Some(ws.get("beta", &pshape)?)
            } else {
                None
            };
            Op::LayerNorm {
                axes,
                gamma,
                beta,
                eps,
                rms: ln.rms_scaling,
            }
        }
        Layer::Embedding(e) => Op::Embedding(ws.get("embeddings", &[e.input_dim, e.output_dim])?),
        Layer::RepeatVector(n) => Op::RepeatVector(*n),
        Layer::Pool(p) => Op::Pool {
            op: p.op,
            rank: p.rank,
            pool: p.pool.clone(),
            strides: p.strides.clone(),
            same: p.same,
            df: p.data_format,
        },
        Layer::GlobalPool(g) => Op::GlobalPool {
            op: g.op,
            rank: g.rank,
            keepdims: g.keepdims,
            df: g.data_format,
        },
        Layer::BatchNorm(bn) => {
            let r = input.len() as i64 + 1;
            let axis = if bn.axis < 0 { r + bn.axis } else { bn.axis };
            let c = known(input[axis as usize - 1]);
            Op::BatchNorm {
                axis: axis as usize,
                gamma: if bn.scale {
                    Some(ws.get("gamma", &[c])?)
                } else {
                    None
                },
                beta: if bn.center {
                    Some(ws.get("beta", &[c])?)
                } else {
                    None
                },
                mean: ws.get("moving_mean", &[c])?,
                var: ws.get("moving_variance", &[c])?,
                eps: number(config, "epsilon", 1e-3),
                momentum: number(config, "momentum", 0.99),
            }
        }
        Layer::Flatten => Op::Flatten,
        Layer::Reshape(_) => Op::Reshape(output.to_vec()),
        Layer::Permute(p) => Op::Permute(p.dims.clone()),
        Layer::Merge(m) => Op::Merge(m.op, m.axis),
        Layer::Rnn(r) => Op::Rnn(rnn_op(r, config, known(input[1]), ws)?),
        Layer::Bidirectional(b) => {
            let inner = config
                .get("layer")
                .and_then(|l| l.get("config"))
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            let features = known(input[1]);
            let merge = match config
                .get("merge_mode")
                .and_then(Value::as_str)
                .unwrap_or("concat")
            {
                "sum" => BiMerge::Sum,
                "mul" => BiMerge::Mul,
                "ave" => BiMerge::Ave,
                _ => BiMerge::Concat,
            };
            Op::Bidirectional {
                fwd: rnn_op(
                    &b.inner,
                    &inner,
                    features,
                    &ws.nested(&format!("forward_{}", b.inner_name)),
                )?,
                bwd: rnn_op(
                    &b.inner,
                    &inner,
                    features,
                    &ws.nested(&format!("backward_{}", b.inner_name)),
                )?,
                merge,
            }
        }
        Layer::TimeDistributed(t) if matches!(t.inner.layer, Layer::Embedding(_)) => {
            return Err(NnError::Unsupported {
                layer: name.to_string(),
                what: "TimeDistributed(Embedding)".into(),
            })
        }
        Layer::TimeDistributed(t) => {
            let inner = config
                .get("layer")
                .and_then(|l| l.get("config"))
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            Op::TimeDistributed(Box::new(build_op(
                &t.inner,
                &inner,
                &input[1..],
                &output[1..],
                &ws.nested(&t.inner.name),
            )?))
        }
    })
}

fn crop<const D: usize>(t: Tensor<D>, ranges: &[std::ops::Range<usize>]) -> Tensor<D> {
    let r: [std::ops::Range<usize>; D] = std::array::from_fn(|i| ranges[i].clone());
    t.slice(r)
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

/// Looks up integer ids in an embedding table, refusing ids outside it.
fn embed(table: Tensor<2>, x: &DynTensor, layer: &str) -> Result<DynTensor> {
    let [v, d] = table.dims();
    let ids = x.to_vec();
    if let Some((i, bad)) = ids
        .iter()
        .enumerate()
        .find(|(_, &t)| !(t >= 0.0 && t.fract() == 0.0 && (t as usize) < v))
    {
        return Err(NnError::Value {
            layer: layer.to_string(),
            detail: format!("input id {bad} at flat position {i} is not an integer in 0..{v} (input_dim); make input_dim cover every id"),
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

/// Moves the channel axis between Keras's layout and burn's channels-first.
fn to_channels_first(x: DynTensor, df: DataFormat) -> DynTensor {
    match (df, x.dims().len()) {
        (DataFormat::ChannelsFirst, _) => x,
        (_, 3) => x.permute(&[0, 2, 1]),
        (_, 4) => x.permute(&[0, 3, 1, 2]),
        (_, r) => unreachable!("conv and pool inputs have rank 3 or 4, not {r}"),
    }
}

fn from_channels_first(x: DynTensor, df: DataFormat) -> DynTensor {
    match (df, x.dims().len()) {
        (DataFormat::ChannelsFirst, _) => x,
        (_, 3) => x.permute(&[0, 2, 1]),
        (_, 4) => x.permute(&[0, 2, 3, 1]),
        (_, r) => unreachable!("conv and pool outputs have rank 3 or 4, not {r}"),
    }
}

/// Keras's Masking on `(batch, time, features)`: the mask `(batch, time)` is 1 where any feature
/// differs from `value`, and the masked timesteps are zeroed.
fn timestep_mask(x: DynTensor, value: f32) -> (DynTensor, Tensor<2>) {
    let dims = x.dims();
    let (n, t) = (dims[0], dims[1]);
    let per: usize = dims[2..].iter().product();
    let m: Vec<f32> = x
        .to_vec()
        .chunks(per.max(1))
        .map(|step| step.iter().any(|&v| v != value) as u8 as f32)
        .collect();
    let device = x.device();
    let mask: Tensor<2> = Tensor::from_data(TensorData::new(m.clone(), [n, t]), &device);
    let mut shape = vec![n, t];
    shape.extend(std::iter::repeat_n(1, dims.len() - 2));
    let y = x.zip_with(DynTensor::from_data(&shape, m, &device), Binary::Mul);
    (y, mask)
}

/// `y · gamma + beta` with the (optional) variables laid along the axes of `shape` that are not
/// 1: the affine step of BatchNormalization and LayerNormalization.
fn scale_shift(
    mut y: DynTensor,
    gamma: Option<usize>,
    beta: Option<usize>,
    vars: &Variables,
    shape: &[usize],
) -> DynTensor {
    if let Some(g) = gamma {
        y = y.zip_with(DynTensor::along(vars.flat(g), shape), Binary::Mul);
    }
    if let Some(b) = beta {
        y = y.zip_with(DynTensor::along(vars.flat(b), shape), Binary::Add);
    }
    y
}

/// Random draws for noise layers, one per element of `shape`.
fn draws(rng: &mut SplitMix64, shape: &[usize], f: impl Fn(&mut SplitMix64) -> f32) -> Vec<f32> {
    (0..shape.iter().product::<usize>())
        .map(|_| f(rng))
        .collect()
}

fn run(op: &Op, mut ins: Vec<DynTensor>, vars: &Variables, pass: &mut Pass) -> DynTensor {
    let x = ins.remove(0);
    let bias = |b: &Option<usize>| b.map(|b| vars.tensor::<1>(b));
    match op {
        Op::Act(a) => a.run(x),
        Op::Mask(_) => unreachable!("masks are made in Network::run_graph"),
        Op::Noise(noise) => {
            let Some(rng) = pass.training.as_mut() else {
                return x;
            };
            let (dims, device) = (x.dims(), x.device());
            let dropout = |rate: f32, rng: &mut SplitMix64, shape: &[usize]| {
                let keep = if rate < 1.0 { 1.0 / (1.0 - rate) } else { 0.0 };
                let mask = draws(rng, shape, |r| {
                    if r.uniform() < rate as f64 {
                        0.0
                    } else {
                        keep
                    }
                });
                DynTensor::from_data(shape, mask, &device)
            };
            match *noise {
                Noise::Dropout(rate) => x.zip_with(dropout(rate, rng, &dims), Binary::Mul),
                Noise::Spatial { rate, channel_axis } => {
                    let shape: Vec<usize> = (0..dims.len())
                        .map(|a| {
                            if a == 0 || a == channel_axis {
                                dims[a]
                            } else {
                                1
                            }
                        })
                        .collect();
                    x.zip_with(dropout(rate, rng, &shape), Binary::Mul)
                }
                Noise::Gaussian(std) => {
                    let n = draws(rng, &dims, |r| r.normal() as f32 * std);
                    x.zip_with(DynTensor::from_data(&dims, n, &device), Binary::Add)
                }
                Noise::GaussianDropout(rate) => {
                    let std = (rate / (1.0 - rate)).sqrt();
                    let n = draws(rng, &dims, |r| 1.0 + r.normal() as f32 * std);
                    x.zip_with(DynTensor::from_data(&dims, n, &device), Binary::Mul)
                }
            }
        }
        Op::Dense { w, b, act } => {
            let mut dims = x.dims();
            let fin = *dims.last().expect("a feature axis");
            let rows: usize = dims.iter().product::<usize>() / fin;
            let DynTensor::R2(flat) = x.reshape(&[rows, fin]) else {
                unreachable!("reshaped to rank 2")
            };
            let w = vars.tensor::<2>(*w);
            let units = w.dims()[1];
            let mut y = flat.matmul(w);
            if let Some(b) = bias(b) {
                y = y + b.unsqueeze::<2>();
            }
            *dims.last_mut().expect("a feature axis") = units;
            act.run(DynTensor::R2(y)).reshape(&dims)
        }
        Op::Conv { conv, w, b, act } => {
            let x = to_channels_first(x, conv.data_format);
            let dims = x.dims();
            let span = |i: usize| conv.dilation[i] * (conv.kernel[i] - 1) + 1;
            let y = match (x, burn_kernel(vars, w)) {
                (DynTensor::R3(x), ConvWeight::W1(w)) => {
                    let p = pads(conv.padding, dims[2], span(0), conv.strides[0]);
                    let opts = ConvOptions {
                        stride: [conv.strides[0]],
                        padding: [p],
                        dilation: [conv.dilation[0]],
                        groups: conv.groups,
                    };
                    DynTensor::R3(conv1d(x, w, bias(b), opts))
                }
                (DynTensor::R4(x), ConvWeight::W2(w)) => {
                    let p0 = pads(conv.padding, dims[2], span(0), conv.strides[0]);
                    let p1 = pads(conv.padding, dims[3], span(1), conv.strides[1]);
                    let opts = ConvOptions {
                        stride: [conv.strides[0], conv.strides[1]],
                        padding: [p0, p1],
                        dilation: [conv.dilation[0], conv.dilation[1]],
                        groups: conv.groups,
                    };
                    DynTensor::R4(conv2d(x, w, bias(b), opts))
                }
                _ => unreachable!("the shape engine checked the conv input rank"),
            };
            act.run(from_channels_first(y, conv.data_format))
        }
        Op::ConvTranspose { conv, w, b, act } => {
            let x = to_channels_first(x, conv.data_format);
            let dims = x.dims();
            let r = conv.rank;
            // The full transposed convolution, then TensorFlow's window of it: the output starts
            // where SAME padding of the matching forward convolution would, and is zero-extended
            // where it reaches past the full result.
            let full = match (x, burn_kernel(vars, w)) {
                (DynTensor::R3(x), ConvWeight::W1(w)) => DynTensor::R3(conv_transpose1d(
                    x,
                    w,
                    None,
                    ConvTransposeOptions {
                        stride: [conv.strides[0]],
                        padding: [0],
                        padding_out: [0],
                        dilation: [conv.dilation[0]],
                        groups: 1,
                    },
                )),
                (DynTensor::R4(x), ConvWeight::W2(w)) => DynTensor::R4(conv_transpose2d(
                    x,
                    w,
                    None,
                    ConvTransposeOptions {
                        stride: [conv.strides[0], conv.strides[1]],
                        padding: [0, 0],
                        padding_out: [0, 0],
                        dilation: [conv.dilation[0], conv.dilation[1]],
                        groups: 1,
                    },
                )),
                _ => unreachable!("the shape engine checked the conv input rank"),
            };
            let fdims = full.dims();
            let mut crop = vec![(0, 0); fdims.len()];
            let mut extend = vec![(0, 0); fdims.len()];
            for i in 0..r {
                let (l, f) = (dims[2 + i], fdims[2 + i]);
                let out = conv.out_len(i, l) as usize;
                let span = conv.dilation[i] * (conv.kernel[i] - 1) + 1;
                let start = match conv.padding {
                    Padding::Valid => 0,
                    _ => ((l - 1) * conv.strides[i] + span).saturating_sub(out) / 2,
                };
                let end = (start + out).min(f);
                crop[2 + i] = (start, f - end);
                extend[2 + i] = (0, out - (end - start));
            }
            let mut y = run(&Op::Crop(crop), vec![full], vars, pass);
            if extend.iter().any(|&(_, e)| e > 0) {
                y = run(&Op::Pad(extend), vec![y], vars, pass);
            }
            if let Some(b) = bias(b) {
                let mut shape = vec![1; y.dims().len()];
                shape[1] = conv.filters;
                y = y.zip_with(DynTensor::along(b, &shape), Binary::Add);
            }
            act.run(from_channels_first(y, conv.data_format))
        }
        Op::Pool {
            op,
            rank,
            pool,
            strides,
            same,
            df,
        } => {
            let x = to_channels_first(x, *df);
            let dims = x.dims();
            let pad = |i: usize| {
                if *same {
                    pads(Padding::Same, dims[2 + i], pool[i], strides[i])
                } else {
                    (0, 0)
                }
            };
            let y = match (x, rank, op) {
                (DynTensor::R3(x), 1, PoolOp::Max) => DynTensor::R3(max_pool1d(
                    x,
                    MaxPoolOptions {
                        kernel_size: [pool[0]],
                        stride: [strides[0]],
                        padding: [pad(0)],
                        dilation: [1],
                        ceil_mode: false,
                    },
                )),
                (DynTensor::R3(x), 1, PoolOp::Average) => DynTensor::R3(avg_pool1d(
                    x,
                    AvgPoolOptions {
                        kernel_size: [pool[0]],
                        stride: [strides[0]],
                        padding: [pad(0)],
                        count_include_pad: false,
                        ceil_mode: false,
                    },
                )),
                (DynTensor::R4(x), 2, PoolOp::Max) => DynTensor::R4(max_pool2d(
                    x,
                    MaxPoolOptions {
                        kernel_size: [pool[0], pool[1]],
                        stride: [strides[0], strides[1]],
                        padding: [pad(0), pad(1)],
                        dilation: [1, 1],
                        ceil_mode: false,
                    },
                )),
                (DynTensor::R4(x), 2, PoolOp::Average) => DynTensor::R4(avg_pool2d(
                    x,
                    AvgPoolOptions {
                        kernel_size: [pool[0], pool[1]],
                        stride: [strides[0], strides[1]],
                        padding: [pad(0), pad(1)],
                        count_include_pad: false,
                        ceil_mode: false,
                    },
                )),
                _ => unreachable!("the shape engine checked the pool input rank"),
            };
            from_channels_first(y, *df)
        }
        Op::GlobalPool {
            op,
            rank,
            keepdims,
            df,
        } => {
            let x = to_channels_first(x, *df);
            let dims = x.dims();
            let pooled = match (x, op) {
                (DynTensor::R3(t), PoolOp::Average) => DynTensor::R3(t.mean_dim(2)),
                (DynTensor::R3(t), PoolOp::Max) => DynTensor::R3(t.max_dim(2)),
                (DynTensor::R4(t), PoolOp::Average) => DynTensor::R4(t.mean_dim(3).mean_dim(2)),
                (DynTensor::R4(t), PoolOp::Max) => DynTensor::R4(t.max_dim(3).max_dim(2)),
                _ => unreachable!("the shape engine checked the pool input rank"),
            };
            if *keepdims {
                from_channels_first(pooled, *df)
            } else {
                let _ = rank;
                pooled.reshape(&dims[..2])
            }
        }
        Op::BatchNorm {
            axis,
            gamma,
            beta,
            mean,
            var,
            eps,
            momentum,
        } => {
            let dims = x.dims();
            let mut shape = vec![1; dims.len()];
            shape[*axis] = dims[*axis];
            let (mu, sigma2) = if pass.training.is_some() {
                let others: Vec<usize> = (0..dims.len()).filter(|a| a != axis).collect();
                let (m, v) = x.clone().moments(&others);
                for (idx, batch) in [(*mean, m.to_vec()), (*var, v.to_vec())] {
                    let moved = vars
                        .get(idx)
                        .values()
                        .iter()
                        .zip(&batch)
                        .map(|(old, b)| old * momentum + b * (1.0 - momentum))
                        .collect();
                    pass.moving.push((idx, moved));
                }
                (m, v)
            } else {
                (
                    DynTensor::along(vars.flat(*mean), &shape),
                    DynTensor::along(vars.flat(*var), &shape),
                )
            };
            let std = each_rank!(sigma2, t => (t + *eps).sqrt());
            let y = x.zip_with(mu, Binary::Sub).zip_with(std, Binary::Div);
            scale_shift(y, *gamma, *beta, vars, &shape)
        }
        Op::Flatten => {
            let dims = x.dims();
            x.reshape(&[dims[0], dims[1..].iter().product()])
        }
        Op::Reshape(target) => {
            let dims = x.dims();
            let total: usize = dims[1..].iter().product();
            let known: usize = target.iter().flatten().product();
            let mut shape = vec![dims[0]];
            shape.extend(target.iter().map(|d| d.unwrap_or(total / known.max(1))));
            x.reshape(&shape)
        }
        Op::Permute(p) => {
            let mut axes = vec![0];
            axes.extend(p.iter().copied());
            x.permute(&axes)
        }
        Op::Rnn(r) => match x {
            DynTensor::R3(t) => run_rnn(r, vars, t, false, pass.mask.as_ref()),
            _ => unreachable!("the shape engine checked the recurrent input rank"),
        },
        Op::Bidirectional { fwd, bwd, merge } => {
            let DynTensor::R3(t) = x else {
                unreachable!("the shape engine checked the recurrent input rank")
            };
            let (f, b) = (
                run_rnn(fwd, vars, t.clone(), false, pass.mask.as_ref()),
                run_rnn(bwd, vars, t, true, pass.mask.as_ref()),
            );
            match merge {
                BiMerge::Concat => {
                    let axis = f.dims().len() - 1;
                    DynTensor::concat(vec![f, b], axis)
                }
                BiMerge::Sum => f.zip_with(b, Binary::Add),
                BiMerge::Mul => f.zip_with(b, Binary::Mul),
                BiMerge::Ave => each_rank!(f.zip_with(b, Binary::Add), t => t / 2.0),
            }
        }
        Op::TimeDistributed(inner) => {
            let dims = x.dims();
            let mut folded = vec![dims[0] * dims[1]];
            folded.extend(&dims[2..]);
            // A timestep mask is over (batch, time), not the folded batch: the inner layer runs
            // unmasked, as Keras's TimeDistributed does not pass masks to its layer.
            let mask = pass.mask.take();
            let y = run(inner, vec![x.reshape(&folded)], vars, pass);
            pass.mask = mask;
            let mut out = vec![dims[0], dims[1]];
            out.extend(&y.dims()[1..]);
            y.reshape(&out)
        }
        Op::Chain(ops) => ops.iter().fold(x, |y, op| run(op, vec![y], vars, pass)),
        Op::Pad(pairs) => each_rank!(x, t => t.pad(pairs.clone(), PadMode::Constant(0.0))),
        Op::Crop(pairs) => {
            let dims = x.dims();
            let ranges: Vec<std::ops::Range<usize>> = dims
                .iter()
                .zip(pairs)
                .map(|(&d, &(a, b))| a..d - b)
                .collect();
            each_rank!(x, t => crop(t, &ranges))
        }
        Op::UpSample(factors) => factors
            .iter()
            .enumerate()
            .filter(|(_, &f)| f > 1)
            .fold(x, |y, (axis, &f)| repeat_axis(y, axis, f)),
        Op::LayerNorm {
            axes,
            gamma,
            beta,
            eps,
            rms,
        } => {
            let dims = x.dims();
            let y = if *rms {
                let ms = each_rank!(x.clone(), t => {
                    let sq = t.clone() * t;
                    axes.iter().fold(sq, |m, &a| m.mean_dim(a)) + *eps
                });
                x.zip_with(each_rank!(ms, t => t.sqrt()), Binary::Div)
            } else {
                let (m, v) = x.clone().moments(axes);
                x.zip_with(m, Binary::Sub)
                    .zip_with(each_rank!(v, t => (t + *eps).sqrt()), Binary::Div)
            };
            let mut shape = vec![1; dims.len()];
            for &a in axes {
                shape[a] = dims[a];
            }
            scale_shift(y, *gamma, *beta, vars, &shape)
        }
        Op::RepeatVector(n) => {
            let d = x.dims();
            let DynTensor::R3(t) = x.reshape(&[d[0], 1, d[1]]) else {
                unreachable!("reshaped to rank 3")
            };
            DynTensor::R3(t.expand([d[0], *n, d[1]]))
        }
        Op::Embedding(_) => unreachable!("embeddings are looked up in Network::forward"),
        Op::Merge(m, axis) => {
            let n = ins.len() + 1;
            match m {
                MergeOp::Concatenate => {
                    let r = x.dims().len() as i64;
                    let a = if *axis < 0 { r + axis } else { *axis } as usize;
                    let mut parts = vec![x];
                    parts.extend(ins);
                    DynTensor::concat(parts, a)
                }
                _ => {
                    let f = match m {
                        MergeOp::Add | MergeOp::Average => Binary::Add,
                        MergeOp::Subtract => Binary::Sub,
                        MergeOp::Multiply => Binary::Mul,
                        MergeOp::Maximum => Binary::Max,
                        MergeOp::Minimum => Binary::Min,
                        MergeOp::Concatenate => unreachable!("handled above"),
                    };
                    let y = ins.into_iter().fold(x, |acc, t| acc.zip_with(t, f));
                    if *m == MergeOp::Average {
                        each_rank!(y, t => t / n as f32)
                    } else {
                        y
                    }
                }
            }
        }
    }
}
