//! A checked spec as a network: the graph of layers the shape engine resolved, each run by its
//! op from the `layers` module, in Keras's layout at every layer boundary.

use burn::tensor::{Device, Tensor};
use soundcheck_io::SplitMix64;
use soundcheck_shape::spec::ModelSpec;
use soundcheck_shape::Model;

use crate::error::{NnError, Result};
use crate::layers::{self, Build, Op, Source, WeightSource};
use crate::tensor::DynTensor;
use crate::variables::Variables;
use crate::weights::Weights;

/// Lets a layer take over the layer that alone reads its output: an activation layer
/// (BatchNormalization then ReLU: one pass instead of two), or a whole layer (a convolution then
/// BatchNormalization: at inference, no pass of its own). The taken layer's place passes its
/// input through. The shapes and the values are those of the separate layers.
fn fuse_layers(model: &Model, ops: &mut [Box<dyn Op>]) {
    let n_in = model.inputs.len();
    let mut readers = vec![0usize; n_in + model.nodes.len()];
    for node in &model.nodes {
        for &i in &node.inputs {
            readers[i] += 1;
        }
    }
    for &o in &model.outputs {
        readers[o] += 1;
    }
    let pass_through = || -> Box<dyn Op> { Box::new(layers::Activate(layers::Activation::Linear)) };
    for j in 0..ops.len() {
        let (Some(act), [i]) = (ops[j].activation(), model.nodes[j].inputs.as_slice()) else {
            continue;
        };
        if *i >= n_in && readers[*i] == 1 && ops[*i - n_in].absorb(act) {
            ops[j] = pass_through();
        }
    }
    // Then whole layers (a convolution takes the BatchNormalization after it, which may hold
    // a ReLU by now).
    for j in 0..ops.len() {
        let [i] = model.nodes[j].inputs.as_slice() else {
            continue;
        };
        if *i < n_in || readers[*i] != 1 || !ops[j].is_channel_affine() {
            continue;
        }
        let next = std::mem::replace(&mut ops[j], pass_through());
        if let Err(next) = ops[*i - n_in].absorb_layer(next) {
            ops[j] = next;
        }
    }
    // Then convolution banks: Conv1D branches that read one input and that only a Concatenate
    // over channels reads run as one convolution in the Concatenate's place.
    for j in 0..ops.len() {
        let parts = &model.nodes[j].inputs;
        if !ops[j].joins_channels() || parts.iter().any(|&p| p < n_in || readers[p] != 1) {
            continue;
        }
        let source = &model.nodes[parts[0] - n_in].inputs;
        let branches: Option<Vec<layers::Branch>> = parts
            .iter()
            .map(|&p| {
                let same_input = model.nodes[p - n_in].inputs == *source;
                ops[p - n_in].bank_branch().filter(|_| same_input)
            })
            .collect();
        let Some(bank) = branches.and_then(layers::ConvBank::new) else {
            continue;
        };
        for &p in parts {
            ops[p - n_in] = Box::new(layers::TakenOver);
        }
        ops[j] = Box::new(bank);
    }
}

/// A checked spec as a network: its layers' ops, its variables and the device they live on.
pub struct Network {
    model: Model,
    ops: Vec<Box<dyn Op>>,
    /// The shape engine's output shape of every layer (batch excluded), checked against the real
    /// tensors in debug builds.
    inferred: Vec<Vec<Option<usize>>>,
    vars: Variables,
    device: Device,
}

/// One forward pass: inference, or training with its random draws and the moving statistics it
/// produces.
pub(crate) struct Pass {
    pub(crate) training: Option<SplitMix64>,
    /// The timestep mask `(batch, time)` (1 = real, 0 = padding) of the input of the layer
    /// being run, when a Masking layer upstream made one.
    pub(crate) mask: Option<Tensor<2>>,
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
        let n_in = model.inputs.len();
        let shape_of = |i: usize| -> Vec<Option<usize>> {
            if i < n_in {
                model.inputs[i].shape.dims().to_vec()
            } else {
                report.layers[i - n_in].output_shape.dims().to_vec()
            }
        };
        let source = Source::new(weights, seed, device);
        let mut ops = Vec::with_capacity(model.nodes.len());
        for (k, node) in model.nodes.iter().enumerate() {
            let input = shape_of(node.inputs[0]);
            let output = report.layers[k].output_shape.dims();
            let b = Build {
                input: &input,
                output,
                weights: WeightSource::new(&source, &node.def.name),
            };
            ops.push(layers::build(&node.def, &b)?);
        }
        fuse_layers(&model, &mut ops);
        let inferred = report
            .layers
            .iter()
            .map(|l| l.output_shape.dims().to_vec())
            .collect();
        Ok(Network {
            model,
            ops,
            inferred,
            vars: source.into_variables(),
            device: device.clone(),
        })
    }

    /// How many layers' work later layers took over (convolution banks' branches).
    #[cfg(test)]
    pub(crate) fn taken_over_layers(&self) -> usize {
        self.ops.iter().filter(|op| op.taken_over()).count()
    }

    /// The checked model the network was built from.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The device the variables live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The network's variables, in Keras's layout.
    pub fn variables(&self) -> &Variables {
        &self.vars
    }

    /// The variables, to set (a training step, loaded weights).
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
            let y = op.forward(ins, &self.vars, pass)?;
            masks.push(if op.keeps_mask() {
                pass.mask.take()
            } else {
                None
            });
            if cfg!(debug_assertions) && !op.taken_over() {
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
