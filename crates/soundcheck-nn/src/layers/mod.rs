//! Every layer's forward pass, one file per family as in the shape crate
//! (`soundcheck_shape::layers`): each file builds its layers from the shape engine's typed
//! arguments, reads their weights, runs them and tests them.
//!
//! Adding a layer: parse it in the shape crate (a [`Layer`] variant with its arguments), write
//! a type implementing [`Unary`] (or [`Op`] for several inputs) in the family's file here, and register it in [`build`].

mod activation;
mod conv;
mod conv_bank;
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

use std::cell::RefCell;

use burn::tensor::{Device, Tensor};
use soundcheck_io::SplitMix64;
use soundcheck_shape::layers::{Layer, LayerDef};

use crate::error::{NnError, Result};
use crate::network::Pass;
use crate::tensor::DynTensor;
use crate::variables::{keras_initial, Variables};
use crate::weights::Weights;
pub(crate) use activation::{Activate, Activation};
pub(crate) use conv_bank::{Branch, ConvBank, TakenOver};

/// One layer's forward pass with its weights (indices into the network's [`Variables`]).
pub(crate) trait Op {
    /// Runs the layer on its inputs (one, or several for a merge).
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

    /// The activation, if the layer only applies one (an Activation or ReLU layer).
    fn activation(&self) -> Option<Activation> {
        None
    }

    /// Takes over the activation of the layer that alone reads this layer's output, if it can
    /// apply it cheaper itself; that layer then passes its input through.
    fn absorb(&mut self, _: Activation) -> bool {
        false
    }

    /// Takes the layer that alone reads this layer's output, to run the two as one where it
    /// can (a convolution and the BatchNormalization after it, at inference); hands it back if
    /// not. The taken layer's place then passes its input through.
    fn absorb_layer(&mut self, next: Box<dyn Op>) -> std::result::Result<(), Box<dyn Op>> {
        Err(next)
    }

    /// Whether the layer is, at inference, a per-channel map of the last axis (see
    /// [`Op::channel_affine`]).
    fn is_channel_affine(&self) -> bool {
        false
    }

    /// At inference, the layer as `(scale, shift, relu)` per channel of the last axis:
    /// `max(0, x·scale + shift)` if `relu`, else `x·scale + shift`.
    fn channel_affine(&self, _: &Variables) -> Option<ChannelAffine> {
        None
    }

    /// The layer as a branch of a convolution bank (see [`ConvBank`]), if it can be one.
    fn bank_branch(&self) -> Option<Branch> {
        None
    }

    /// Whether the layer concatenates its inputs along the last axis.
    fn joins_channels(&self) -> bool {
        false
    }

    /// Whether a later layer took over this layer's work ([`TakenOver`]).
    fn taken_over(&self) -> bool {
        false
    }
}

/// Per-channel scale and shift of the last axis, and whether a ReLU follows.
pub(crate) type ChannelAffine = (Vec<f32>, Vec<f32>, bool);

/// A layer of one input: every layer but the merges.
pub(crate) trait Unary {
    /// Runs the layer.
    ///
    /// # Shapes
    /// - `x`: `(batch, *input_shape)` in Keras's layout
    /// - output: `(batch, *output_shape)` as the shape engine inferred it
    fn apply(&self, x: DynTensor, vars: &Variables, pass: &mut Pass) -> Result<DynTensor>;

    /// See [`Op::keeps_mask`].
    fn keeps_mask(&self) -> bool {
        false
    }

    /// See [`Op::activation`].
    fn activation(&self) -> Option<Activation> {
        None
    }

    /// See [`Op::absorb`].
    fn absorb(&mut self, _: Activation) -> bool {
        false
    }

    /// See [`Op::absorb_layer`].
    fn absorb_layer(&mut self, next: Box<dyn Op>) -> std::result::Result<(), Box<dyn Op>> {
        Err(next)
    }

    /// See [`Op::is_channel_affine`].
    fn is_channel_affine(&self) -> bool {
        false
    }

    /// See [`Op::channel_affine`].
    fn channel_affine(&self, _: &Variables) -> Option<ChannelAffine> {
        None
    }

    /// See [`Op::bank_branch`].
    fn bank_branch(&self) -> Option<Branch> {
        None
    }
}

impl<T: Unary> Op for T {
    fn forward(
        &self,
        inputs: Vec<DynTensor>,
        vars: &Variables,
        pass: &mut Pass,
    ) -> Result<DynTensor> {
        let x = inputs.into_iter().next();
        self.apply(x.expect("the shape engine checked one input"), vars, pass)
    }

    fn keeps_mask(&self) -> bool {
        Unary::keeps_mask(self)
    }

    fn activation(&self) -> Option<Activation> {
        Unary::activation(self)
    }

    fn absorb(&mut self, act: Activation) -> bool {
        Unary::absorb(self, act)
    }

    fn absorb_layer(&mut self, next: Box<dyn Op>) -> std::result::Result<(), Box<dyn Op>> {
        Unary::absorb_layer(self, next)
    }

    fn is_channel_affine(&self) -> bool {
        Unary::is_channel_affine(self)
    }

    fn channel_affine(&self, vars: &Variables) -> Option<ChannelAffine> {
        Unary::channel_affine(self, vars)
    }

    fn bank_branch(&self) -> Option<Branch> {
        Unary::bank_branch(self)
    }
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

/// Builds one layer's op: the registration point of every layer type.
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
        Layer::BatchNorm(bn) => Box::new(norm::BatchNorm::build(bn, b)?),
        Layer::LayerNorm(ln) => Box::new(norm::LayerNorm::build(ln, b)?),
        Layer::Rnn(r) => Box::new(recurrent::Recurrent::build(r, b)?),
        Layer::Bidirectional(bi) => Box::new(wrappers::Bidirectional::build(bi, b)?),
        Layer::TimeDistributed(t) => Box::new(wrappers::TimeDistributed::build(t, b)?),
        Layer::Merge(m) => Box::new(merge::MergeLayer::build(m)),
    })
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
/// `time_distributed/conv1d/kernel`), the layer named in errors.
pub(crate) struct WeightSource<'a> {
    source: &'a Source<'a>,
    layer: &'a str,
    prefix: String,
}

impl<'a> WeightSource<'a> {
    /// The weights of layer `layer`, keyed under its name.
    pub(crate) fn new(source: &'a Source<'a>, layer: &'a str) -> WeightSource<'a> {
        WeightSource {
            source,
            layer,
            prefix: layer.to_string(),
        }
    }

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

    /// An optional bias of `n` values (`use_bias`).
    fn bias(&self, use_bias: bool, n: usize) -> Result<Option<usize>> {
        use_bias.then(|| self.get("bias", &[n])).transpose()
    }
}

/// A bias variable as a tensor, when the layer has one.
fn bias_tensor(vars: &Variables, b: Option<usize>) -> Option<Tensor<1>> {
    b.map(|b| vars.tensor::<1>(b))
}

#[cfg(test)]
pub(crate) mod testing {
    //! Builds single layers from spec snippets with given weights, for the families' tests.

    use burn::tensor::Device;
    use soundcheck_shape::spec::ModelSpec;

    use crate::network::Network;
    use crate::weights::Weights;

    /// A one-input network from TOML layers, with the given Keras-keyed weights.
    pub(crate) fn network(
        input_shape: &str,
        layers: &str,
        weights: &[(&str, &[usize], Vec<f32>)],
    ) -> Network {
        let spec = ModelSpec::from_toml_str(&format!("input_shape = {input_shape}\n{layers}"))
            .expect("test spec parses");
        let weights: Weights = weights
            .iter()
            .map(|(k, s, v)| (k.to_string(), (s.to_vec(), v.clone())))
            .collect();
        Network::new(&spec, &weights, &Device::flex()).expect("test network builds")
    }

    /// Runs `net` on one input, returning the output's shape and values.
    pub(crate) fn run(net: &Network, shape: &[usize], x: Vec<f32>) -> (Vec<usize>, Vec<f32>) {
        net.forward(shape, x).expect("test forward runs")
    }

    pub(crate) fn assert_close(got: &[f32], want: &[f32]) {
        assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                (g - w).abs() <= 1e-5 * w.abs().max(1.0),
                "element {i}: {g} vs {w} ({got:?})"
            );
        }
    }
}
