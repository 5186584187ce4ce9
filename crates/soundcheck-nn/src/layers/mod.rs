//! Every layer's forward pass, one file per family as in the shape crate
//! (`soundcheck_shape::layers`): each file builds its layers from the shape engine's typed
//! arguments, reads their weights, runs them and tests them.
//!
//! Adding a layer: parse it in the shape crate (a [`Layer`] variant with its arguments), write
//! a type implementing [`Op`] in the family's file here, and register it in [`build`].

mod activation;
mod conv;
mod conv_bank;
mod core;
mod merge;
mod noise;
mod norm;
mod pool;
mod recurrent;
mod reshaping;
mod spatial;
mod wrappers;

use std::cell::RefCell;

use burn::tensor::{Device, Tensor};
use soundcheck_io::SplitMix64;
use soundcheck_shape::layers::{self as spec, Layer, LayerDef};

use crate::error::{NnError, Result};
use crate::pass::Pass;
use crate::tensor::DynTensor;
use crate::variables::{keras_initial, Variables};
use crate::weights::Weights;
pub(crate) use activation::Activation;
pub(crate) use conv::HeldConv;

/// One layer's forward pass with its weights (indices into the network's [`Variables`]): the
/// whole contract of a layer. What a layer runs together with its neighbours (a ReLU after it, a
/// BatchNormalization after a convolution, a bank of convolutions) is decided before any op is
/// built (`crate::fusion`), and the fused op is built from the layers it stands for. `Send +
/// Sync`, so a network can be run from any thread (the Python module runs it with the GIL
/// released).
pub(crate) trait Op: Send + Sync {
    /// Runs the layer on its inputs (one, or several for a merge; see [`single`]).
    ///
    /// # Shapes
    /// - `inputs`: `(batch, *input_shape)` each, in Keras's layout
    /// - output: `(batch, *output_shape)` as the shape engine inferred it
    fn forward(
        &self,
        inputs: Vec<DynTensor>,
        vars: &Variables,
        pass: &mut Pass,
    ) -> Result<DynTensor>;

    /// Whether Keras hands the timestep mask of this layer's input on to the next layer: the
    /// layers that keep the time axis element-wise, and recurrent layers returning sequences.
    fn keeps_mask(&self) -> bool {
        false
    }
}

/// The input of a layer of one input (every layer but the merges).
pub(crate) fn single(inputs: Vec<DynTensor>) -> DynTensor {
    let x = inputs.into_iter().next();
    x.expect("the shape engine checked one input")
}

/// What a layer is built from besides its arguments: its shapes and where its weights are.
pub(crate) struct Build<'a> {
    /// The (first) input's shape, batch excluded.
    pub input: &'a [Option<usize>],
    /// The output's shape, batch excluded.
    pub output: &'a [Option<usize>],
    pub weights: WeightSource<'a>,
}

impl Build<'_> {
    /// An input axis (batch excluded) the shape engine resolved to a size.
    fn known(&self, axis: usize) -> usize {
        self.input[axis].unwrap_or(0)
    }

    /// The layer's name, for errors.
    fn layer(&self) -> &str {
        self.weights.layer
    }

    fn unsupported(&self, what: impl Into<String>) -> NnError {
        NnError::Unsupported {
            layer: self.layer().to_string(),
            what: what.into(),
        }
    }
}

/// Builds the op of a layer that runs alone: the registration point of every layer type.
pub(crate) fn build(def: &LayerDef, b: &Build) -> Result<Box<dyn Op>> {
    Ok(match &def.layer {
        Layer::Activation(a) => Box::new(activation::Activate::build(a, b)?),
        Layer::Noise(n) => Box::new(noise::NoiseOp::build(*n, b)),
        Layer::Masking { mask_value } => Box::new(recurrent::Masking::new(*mask_value)),
        Layer::Dense(d) => Box::new(core::Dense::build(d, b)?),
        Layer::Embedding(e) => Box::new(core::Embedding::build(e, b)?),
        Layer::Flatten => Box::new(reshaping::Flatten),
        Layer::Reshape(_) => Box::new(reshaping::Reshape::build(b)),
        Layer::Permute(p) => Box::new(reshaping::Permute::build(p)),
        Layer::RepeatVector(n) => Box::new(reshaping::RepeatVector(*n)),
        Layer::Conv(c) => conv::build(c, b)?,
        Layer::Pool(p) => Box::new(pool::Pool::build(p)),
        Layer::GlobalPool(g) => Box::new(pool::GlobalPool::build(g)),
        Layer::Spatial(s) => Box::new(spatial::Spatial::build(s, b)),
        Layer::BatchNorm(bn) => Box::new(norm::BatchNorm::build(bn, false, b)?),
        Layer::LayerNorm(ln) => Box::new(norm::LayerNorm::build(ln, b)?),
        Layer::UnitNorm(u) => Box::new(norm::UnitNorm::build(u, b)),
        Layer::Rnn(r) => Box::new(recurrent::Recurrent::build(r, b)?),
        Layer::Bidirectional(bi) => Box::new(wrappers::Bidirectional::build(bi, b)?),
        Layer::TimeDistributed(t) => Box::new(wrappers::TimeDistributed::build(t, b)?),
        Layer::Merge(m) => Box::new(merge::MergeLayer::build(m, false)),
    })
}

/// Builds a BatchNormalization with what fusion gave it: the convolution that alone feeds it
/// (built in its own place, see [`HeldConv`]) and whether it runs the ReLU layer that alone
/// reads it.
pub(crate) fn batch_norm(
    bn: &spec::BatchNorm,
    conv: Option<HeldConv>,
    relu: bool,
    b: &Build,
) -> Result<Box<dyn Op>> {
    let norm = norm::BatchNorm::build(bn, relu, b)?;
    Ok(match conv {
        Some(conv) => Box::new(conv.then_norm(norm)),
        None => Box::new(norm),
    })
}

/// Builds a residual Add that runs the ReLU layer that alone reads it.
pub(crate) fn add_relu(m: &spec::Merge) -> Box<dyn Op> {
    Box::new(merge::MergeLayer::build(m, true))
}

/// Builds a Concatenate over channels of Conv1D branches (built in their own places) as one
/// convolution bank.
pub(crate) fn conv_bank(branches: Vec<HeldConv>) -> Box<dyn Op> {
    Box::new(conv_bank::ConvBank::new(branches))
}

/// Where new variables' values come from: a Keras weights file, or Keras's initializers.
pub(crate) struct Source<'a> {
    weights: Option<&'a Weights>,
    rng: RefCell<SplitMix64>,
    vars: RefCell<Variables>,
    device: &'a Device,
}

impl<'a> Source<'a> {
    pub(crate) fn new(weights: Option<&'a Weights>, seed: u64, device: &'a Device) -> Source<'a> {
        Source {
            weights,
            rng: RefCell::new(SplitMix64::new(seed)),
            vars: RefCell::new(Variables::default()),
            device,
        }
    }

    /// The variables the layers read, in the order they asked for them.
    pub(crate) fn into_variables(self) -> Variables {
        self.vars.into_inner()
    }
}

/// Where a layer's weights live: Keras keys them by variable path (`lstm/lstm_cell/kernel`,
/// `time_distributed/conv1d/kernel`) and saves them in `.keras` files under the path of the
/// (sub)layer that owns them (`layers/lstm/cell`, `layers/time_distributed/layer`); the layer is
/// named in errors.
pub(crate) struct WeightSource<'a> {
    source: &'a Source<'a>,
    layer: &'a str,
    prefix: String,
    saved_as: String,
}

impl<'a> WeightSource<'a> {
    /// The weights of layer `layer`, keyed under its name, saved under `saved_as`
    /// ([`crate::keras_file::saving_paths`]).
    pub(crate) fn new(
        source: &'a Source<'a>,
        layer: &'a str,
        saved_as: String,
    ) -> WeightSource<'a> {
        WeightSource {
            source,
            layer,
            prefix: layer.to_string(),
            saved_as,
        }
    }

    /// The weights of a layer inside this one: Keras's variable paths go through its name
    /// (`part`), its saving path through the attribute that holds it (`attribute`: `cell`,
    /// `forward_layer`, `layer`).
    fn nested(&self, part: &str, attribute: &str) -> WeightSource<'a> {
        WeightSource {
            source: self.source,
            layer: self.layer,
            prefix: format!("{}/{part}", self.prefix),
            saved_as: format!("{}/{attribute}", self.saved_as),
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
        Ok(self.source.vars.borrow_mut().push(
            key,
            self.saved_as.clone(),
            expected,
            data,
            trainable,
            self.source.device,
        ))
    }

    /// An optional bias of `n` values (`use_bias`).
    fn bias(&self, use_bias: bool, n: usize) -> Result<Option<usize>> {
        use_bias.then(|| self.get("bias", &[n])).transpose()
    }
}

/// A bias variable as a tensor, when the layer has one.
fn bias_tensor(vars: &Variables, b: Option<usize>) -> Option<Tensor<1>> {
    b.map(|b| vars.tensor::<1>(b))
}
