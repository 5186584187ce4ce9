//! A checked spec as a network: the graph of layers the shape engine resolved, each run by its
//! op from the `layers` module, in Keras's layout at every layer boundary.

use std::collections::HashMap;

use burn::tensor::{Device, Tensor};
use soundcheck_shape::spec::ModelSpec;
use soundcheck_shape::{Model, Report};

use crate::error::{NnError, Result};
use crate::fusion::{self, Step, Work};
use crate::layers::{self, Build, Op, Source, WeightSource};
use crate::pass::Pass;
use crate::tensor::DynTensor;
use crate::variables::Variables;
use crate::weights::Weights;

/// What the network does at one node of the model, as fusion planned it (`crate::fusion`).
enum Planned {
    /// Runs `op` on the values `reads` (model inputs first, then nodes).
    Run { op: Box<dyn Op>, reads: Vec<usize> },
    /// A layer that the layer it reads ran: its value is that value's.
    Same(usize),
    /// A layer that a later layer ran, which alone reads it: no value.
    Inside,
}

/// The ops of a checked model (`report` its inferred shapes), one entry per node, as fusion
/// plans them; variables are created in node order.
fn build_ops(model: &Model, report: &Report, source: &Source) -> Result<Vec<Planned>> {
    let n_in = model.inputs.len();
    let shape_of = |i: usize| -> Vec<Option<usize>> {
        if i < n_in {
            model.inputs[i].shape.dims().to_vec()
        } else {
            report.layers[i - n_in].output_shape.dims().to_vec()
        }
    };
    let plan = fusion::plan(model, report);
    let saved_as = crate::keras_file::saving_paths(model);
    let mut held = HashMap::new();
    let mut ops = Vec::with_capacity(model.nodes.len());
    for (k, ((node, step), saved_as)) in model.nodes.iter().zip(plan).zip(saved_as).enumerate() {
        let input = shape_of(node.inputs[0]);
        let output = report.layers[k].output_shape.dims();
        let b = Build {
            input: &input,
            output,
            weights: WeightSource::new(source, &node.def.name, saved_as),
        };
        let (work, reads) = match step {
            Step::Same(i) => {
                ops.push(Planned::Same(n_in + i));
                continue;
            }
            Step::Held(c) => {
                held.insert(k, layers::HeldConv::build(c, &b)?);
                ops.push(Planned::Inside);
                continue;
            }
            Step::Run { work, reads } => (work, reads.to_vec()),
        };
        let take = |k: usize| held.remove(&k).expect("a held layer is built first");
        let op = match work {
            Work::Layer(def) => layers::build(def, &b)?,
            Work::Norm { bn, conv, relu } => layers::batch_norm(bn, conv.map(take), relu, &b)?,
            Work::AddRelu(m) => layers::add_relu(m),
            Work::Bank(parts) => layers::conv_bank(parts.into_iter().map(take).collect()),
        };
        ops.push(Planned::Run { op, reads });
    }
    Ok(ops)
}

/// A checked spec as a network: its layers' ops, its variables and the device they live on.
pub struct Network {
    model: Model,
    /// One entry per node of the model.
    ops: Vec<Planned>,
    /// The shape engine's output shape of every layer (batch excluded), checked against the real
    /// tensors in debug builds.
    inferred: Vec<Vec<Option<usize>>>,
    vars: Variables,
    device: Device,
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
        let source = Source::new(weights, seed, device);
        let ops = build_ops(&model, &report, &source)?;
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

    /// How many layers run inside another layer's op (fused).
    #[cfg(test)]
    pub(crate) fn layers_run_by_others(&self) -> usize {
        let fused = |p: &&Planned| !matches!(p, Planned::Run { .. });
        self.ops.iter().filter(fused).count()
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

    /// Checks each input array's shape (batch first) against the model's input of its position.
    pub(crate) fn check_inputs(&self, shapes: &[&[usize]]) -> Result<()> {
        let inputs = &self.model.inputs;
        if shapes.len() != inputs.len() {
            return Err(self.arity(
                format!("{} input array(s)", shapes.len()),
                "give one array per model input, in the model's input order",
            ));
        }
        for (input, shape) in inputs.iter().zip(shapes) {
            let declared = input.shape.dims();
            if shape.len() != declared.len() + 1 || !input.shape.accepts(&shape[1..]) {
                return Err(NnError::Input {
                    name: input.name.clone(),
                    expected: declared.to_vec(),
                    actual: shape.to_vec(),
                });
            }
        }
        Ok(())
    }

    fn arity(&self, given: String, hint: &'static str) -> NnError {
        NnError::Arity {
            inputs: self
                .model
                .inputs
                .iter()
                .map(|i| format!("'{}'", i.name))
                .collect(),
            outputs: self.model.outputs.len(),
            given,
            hint,
        }
    }

    /// Runs a network of one input and one output in inference mode on a batch.
    ///
    /// # Shapes
    /// - `x`: `(batch, *input_shape)` as declared in the spec (channels_last for conv models)
    /// - output: `(batch, *output_shape)`
    ///
    /// # Errors
    /// The model has several inputs or outputs (use [`Network::forward_all`]), or `x` does not
    /// fit its input.
    pub fn forward(&self, shape: &[usize], x: Vec<f32>) -> Result<(Vec<usize>, Vec<f32>)> {
        if self.model.outputs.len() != 1 {
            return Err(self.arity(
                "a call for one output array".into(),
                "run it with forward_all, which returns every output",
            ));
        }
        let mut outs = self.forward_all(vec![(shape.to_vec(), x)])?;
        Ok(outs.swap_remove(0))
    }

    /// Runs the network in inference mode on one batch array per input (in the model's input
    /// order), returning one array per output (in the model's output order).
    ///
    /// # Shapes
    /// - `inputs[k]`: `(batch, *input_shape_k)`, every input of the same batch size
    /// - output `j`: `(batch, *output_shape_j)`
    pub fn forward_all(
        &self,
        inputs: Vec<(Vec<usize>, Vec<f32>)>,
    ) -> Result<Vec<(Vec<usize>, Vec<f32>)>> {
        let shapes: Vec<&[usize]> = inputs.iter().map(|(s, _)| s.as_slice()).collect();
        self.check_inputs(&shapes)?;
        if let Some((s, _)) = inputs.iter().find(|(s, _)| s[0] != inputs[0].0[0]) {
            return Err(self.arity(
                format!("arrays of batch sizes {} and {}", inputs[0].0[0], s[0]),
                "give every input the same number of examples",
            ));
        }
        // NaN is not an answer: a non-finite input is named before it runs, a non-finite output
        // after, so no caller (predict, classify, separate) can pass one off as a result.
        let first_bad = |shape: &[usize], x: &[f32]| {
            let per = x.len() / shape[0].max(1);
            x.iter()
                .position(|v| !v.is_finite())
                .map(|i| (i / per.max(1), x[i]))
        };
        for ((shape, x), input) in inputs.iter().zip(&self.model.inputs) {
            if let Some((example, value)) = first_bad(shape, x) {
                return Err(NnError::NonFiniteInput {
                    input: input.name.clone(),
                    example,
                    value,
                });
            }
        }
        let xs = inputs
            .into_iter()
            .map(|(shape, x)| DynTensor::from_data(&shape, x, &self.device))
            .collect();
        let outs = self.run_graph(xs, &mut Pass::inference())?;
        let outs: Vec<(Vec<usize>, Vec<f32>)> =
            outs.into_iter().map(|y| (y.dims(), y.to_vec())).collect();
        for ((shape, y), &o) in outs.iter().zip(&self.model.outputs) {
            if let Some((example, value)) = first_bad(shape, y) {
                return Err(NnError::NonFiniteOutput {
                    output: self.model.node_name(o).to_string(),
                    example,
                    value,
                });
            }
        }
        Ok(outs)
    }

    /// The graph on checked input tensors (one per model input); in a training pass the outputs
    /// carry the autodiff graph of the tracked variables.
    ///
    /// # Shapes
    /// - `xs[k]`: `(batch, *input_shape_k)`; output `j`: `(batch, *output_shape_j)`
    pub(crate) fn run_graph(&self, xs: Vec<DynTensor>, pass: &mut Pass) -> Result<Vec<DynTensor>> {
        // Values and timestep masks, indexed as `Node::inputs`: inputs first, then nodes.
        let mut masks: Vec<Option<Tensor<2>>> = vec![None; xs.len()];
        let mut values: Vec<Option<DynTensor>> = xs.into_iter().map(Some).collect();
        for ((node, planned), inferred) in
            self.model.nodes.iter().zip(&self.ops).zip(&self.inferred)
        {
            let (op, reads) = match planned {
                Planned::Run { op, reads } => (op, reads),
                Planned::Same(i) => {
                    values.push(values[*i].clone());
                    masks.push(masks[*i].clone());
                    continue;
                }
                Planned::Inside => {
                    values.push(None);
                    masks.push(None);
                    continue;
                }
            };
            let ins: Vec<DynTensor> = reads
                .iter()
                .map(|&i| {
                    values[i]
                        .clone()
                        .expect("fusion leaves no reader of a fused layer")
                })
                .collect();
            pass.mask = masks[reads[0]].clone();
            let y = op.forward(ins, &self.vars, pass)?;
            masks.push(if op.keeps_mask() {
                pass.mask.take()
            } else {
                None
            });
            if cfg!(debug_assertions) {
                let got = y.dims();
                let agrees = got.len() == inferred.len() + 1
                    && got[1..]
                        .iter()
                        .zip(inferred)
                        .all(|(g, d)| d.is_none_or(|d| d == *g));
                assert!(agrees, "layer '{}': the tensor is {got:?}, the shape engine inferred (batch, {inferred:?})", node.def.name);
            }
            values.push(Some(y));
        }
        self.model
            .outputs
            .iter()
            .map(|&o| {
                let out = values[o].clone();
                Ok(out.expect("fusion leaves every output its value"))
            })
            .collect()
    }
}
