//! A checked model: layers resolved from a spec into a graph (`build`), and shape inference
//! over it.

mod build;

use crate::diagnosis::{Diagnosis, Kind};
use crate::layers::{Ctx, Layer, LayerDef};
use crate::shape::{Dim, Shape, MAX_DIM, RANKS};
use crate::spec::{Api, DataFormat};

/// One model input.
#[derive(Clone, Debug, PartialEq)]
pub struct InputNode {
    /// The input's name.
    pub name: String,
    /// One example's shape.
    pub shape: Shape,
    /// Declared as an Input layer in the spec (shown as a row in the summary).
    pub explicit: bool,
}

/// A layer with the indices of the nodes feeding it (inputs first, then layers, in order).
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The layer.
    pub def: LayerDef,
    /// The nodes feeding it (inputs first, then layers, in order).
    pub inputs: Vec<usize>,
}

/// A spec resolved into a graph: inputs, layers with their parsed arguments, outputs.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// The model's name.
    pub name: Option<String>,
    /// Sequential or Functional, as Keras would build it.
    pub api: Api,
    /// The default data format of its layers.
    pub data_format: DataFormat,
    /// Its inputs.
    pub inputs: Vec<InputNode>,
    /// Its layers, in spec order.
    pub nodes: Vec<Node>,
    /// Node indices of the outputs.
    pub outputs: Vec<usize>,
    /// The spec's Keras loss, for label checks.
    pub loss: Option<String>,
    /// The declared input element type (`int32` for Embedding ids), when given.
    pub input_dtype: Option<String>,
}

/// One inferred layer, as a row of the summary.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerReport {
    /// The layer's name.
    pub name: String,
    /// The layer's Keras class.
    pub type_name: String,
    /// The inferred output shape, batch excluded.
    pub output_shape: Shape,
    /// Trainable parameters.
    pub trainable: u64,
    /// Non-trainable parameters.
    pub non_trainable: u64,
    /// The layers feeding it.
    pub inputs: Vec<String>,
}

impl LayerReport {
    /// All its parameters.
    pub fn params(&self) -> u64 {
        self.trainable.saturating_add(self.non_trainable)
    }
}

/// The result of inferring a whole model: every layer that could be inferred and, if one
/// could not, why.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The model's inputs.
    pub inputs: Vec<InputNode>,
    /// Every layer inferred, in order.
    pub layers: Vec<LayerReport>,
    /// Why inference stopped, if it did.
    pub error: Option<Diagnosis>,
}

impl Report {
    /// Whether every layer was inferred.
    pub fn ok(&self) -> bool {
        self.error.is_none()
    }
    // Counts saturate rather than overflow for absurd specs (each layer's count already does).
    /// Trainable parameters of the inferred layers.
    pub fn trainable_params(&self) -> u64 {
        self.layers
            .iter()
            .fold(0, |a, l| a.saturating_add(l.trainable))
    }
    /// Non-trainable parameters of the inferred layers.
    pub fn non_trainable_params(&self) -> u64 {
        self.layers
            .iter()
            .fold(0, |a, l| a.saturating_add(l.non_trainable))
    }
    /// All parameters of the inferred layers.
    pub fn total_params(&self) -> u64 {
        self.trainable_params()
            .saturating_add(self.non_trainable_params())
    }
}

impl Model {
    /// Name of node `i` (inputs first, then layers).
    pub fn node_name(&self, i: usize) -> &str {
        if i < self.inputs.len() {
            &self.inputs[i].name
        } else {
            &self.nodes[i - self.inputs.len()].def.name
        }
    }

    /// Infers every layer with the declared input shapes.
    pub fn infer(&self) -> Report {
        let shapes: Vec<Shape> = self.inputs.iter().map(|i| i.shape.clone()).collect();
        self.infer_with(&shapes)
    }

    /// Infers every layer with the given input shapes, stopping at the first problem.
    pub fn infer_with(&self, input_shapes: &[Shape]) -> Report {
        let n_in = self.inputs.len();
        let mut shapes: Vec<Shape> = input_shapes.to_vec();
        let mut layers = Vec::with_capacity(self.nodes.len());
        let inputs = self
            .inputs
            .iter()
            .zip(input_shapes)
            .map(|(i, s)| InputNode {
                shape: s.clone(),
                ..i.clone()
            })
            .collect();
        for (k, node) in self.nodes.iter().enumerate() {
            let ins: Vec<Shape> = node.inputs.iter().map(|&i| shapes[i].clone()).collect();
            let input_names: Vec<String> = node
                .inputs
                .iter()
                .map(|&i| self.node_name(i).to_string())
                .collect();
            let ctx = Ctx {
                name: &node.def.name,
                type_name: &node.def.type_name,
                input_names: &input_names,
                input_positions: &node.inputs,
                data_format: self.data_format,
            };
            let result = node.def.infer(&ctx, &ins).and_then(|out| match out.shape.dims().iter().position(|d| *d == Some(0)) {
                Some(ax) => Err(ctx
                    .diag(Kind::NegativeDimension, format!("the output has length 0 on axis {}", ax + 1))
                    .received(ins.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", "))
                    .expected("every output axis at least 1 long")
                    .cause("an empty axis carries no data; Keras may let it through silently, but training on it is meaningless")
                    .fix("make the input longer on that axis, or shrink what this layer removes")),
                None if ins.iter().chain([&out.shape]).any(|s| !RANKS.contains(&(s.rank() + 1))) => {
                    let bad = ins.iter().chain([&out.shape]).find(|s| !RANKS.contains(&(s.rank() + 1))).expect("one is out of range");
                    let side = if ins.contains(bad) { "input" } else { "output" };
                    Err(ctx
                        .diag(Kind::RankMismatch, format!("the {side} {bad} has {} axes with the batch; soundcheck runs tensors of {} to {} axes", bad.rank() + 1, RANKS.start(), RANKS.end()))
                        .received(bad.to_string())
                        .expected(format!("{} to {} axes, batch included", RANKS.start(), RANKS.end()))
                        .cause("the neural engine's tensors have at most 5 axes (a batch of volumes with channels) and at least a batch and one feature axis")
                        .fix("merge axes with Reshape before this layer (e.g. fold two spatial axes into one), or give each example at least one axis"))
                }
                None if out.shape.dims().iter().any(|d| d.is_some_and(|d| d > MAX_DIM)) => Err(ctx
                    .diag(Kind::InvalidSpec, format!("the output {} has an axis longer than {MAX_DIM}", out.shape))
                    .received(ins.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", "))
                    .expected(format!("every axis at most {MAX_DIM} (int32, as in Keras)"))
                    .fix("check the sizes in this layer's arguments")),
                None => Ok(out),
            });
            match result {
                Ok(out) => {
                    layers.push(LayerReport {
                        name: node.def.name.clone(),
                        type_name: node.def.type_name.clone(),
                        output_shape: out.shape.clone(),
                        trainable: out.trainable,
                        non_trainable: out.non_trainable,
                        inputs: input_names,
                    });
                    shapes.push(out.shape);
                }
                Err(d) => {
                    return Report {
                        inputs,
                        layers,
                        error: Some(d),
                    }
                }
            }
            debug_assert_eq!(shapes.len(), n_in + k + 1);
        }
        Report {
            inputs,
            layers,
            error: None,
        }
    }

    /// Infers the model and, when it fails, adds what only the whole model can tell: the
    /// smallest input that works, how the axis shrank, and the Reshape that set up a bad layout.
    pub fn check(&self) -> Report {
        let mut report = self.infer();
        if let Some(d) = report.error.take() {
            report.error = Some(self.explain(d, &report));
        }
        report
    }

    fn explain(&self, mut d: Diagnosis, report: &Report) -> Diagnosis {
        let failing = report.layers.len();
        match d.kind {
            Kind::NegativeDimension => {
                d.notes.push(self.trace(report, failing));
                if let Some((axis, n)) = self.smallest_fix(failing) {
                    let declared = self.inputs[0].shape.dims()[axis];
                    d.notes.insert(
                        0,
                        format!(
                            "the smallest input that gets through the whole model has {n} on axis {} (now {})",
                            axis + 1,
                            crate::shape::fmt_dim(declared)
                        ),
                    );
                    d.fix = format!(
                        "make the input at least {n} long on axis {} (input_shape); or change '{}': {}",
                        axis + 1,
                        self.nodes[failing].def.name,
                        d.fix
                    );
                } else {
                    d.notes
                        .push("no longer input alone fixes it: change the layer".into());
                    d.fix = format!("change '{}': {}", self.nodes[failing].def.name, d.fix);
                }
            }
            Kind::ChannelsOrder => {
                let node = &self.nodes[failing];
                let producer = node.inputs[0];
                if producer >= self.inputs.len() {
                    let p = &self.nodes[producer - self.inputs.len()];
                    if let Layer::Reshape(r) = &p.def.layer {
                        let mut t = r.target.clone();
                        match self.data_format {
                            DataFormat::ChannelsLast => t.rotate_left(1),
                            DataFormat::ChannelsFirst => t.rotate_right(1),
                        }
                        let t = crate::shape::python_tuple(t.iter().map(|v| v.to_string()));
                        d.fix = format!(
                            "if the flat data interleaves the channels, make '{}' Reshape({t}); if it stores them one after another, keep it and {}",
                            p.def.name, d.fix
                        );
                    }
                }
            }
            _ => {}
        }
        d
    }

    /// "input (None, 105, 1) → conv1d (None, 103, 32) → ..." along first inputs to `failing`.
    fn trace(&self, report: &Report, failing: usize) -> String {
        let n_in = self.inputs.len();
        let mut chain = Vec::new();
        let mut i = self.nodes[failing].inputs[0];
        while i >= n_in {
            let l = &report.layers[i - n_in];
            chain.push(format!("{} {}", l.name, l.output_shape));
            i = self.nodes[i - n_in].inputs[0];
        }
        chain.push(format!(
            "{} {}",
            self.inputs[i].name, report.inputs[i].shape
        ));
        chain.reverse();
        chain.push(format!("'{}' fails", self.nodes[failing].def.name));
        format!("how the shape shrank: {}", chain.join(" → "))
    }

    fn infer_axis(&self, axis: usize, n: usize) -> Report {
        let mut shapes: Vec<Shape> = self.inputs.iter().map(|i| i.shape.clone()).collect();
        shapes[0].0[axis] = Some(n);
        self.infer_with(&shapes)
    }

    /// The first input axis (and its smallest size above the declared one) that lets every
    /// layer infer.
    fn smallest_fix(&self, _failing: usize) -> Option<(usize, usize)> {
        let declared = self.inputs[0].shape.clone();
        (0..declared.rank()).find_map(|axis| {
            let from = declared.dims()[axis]? + 1;
            smallest_ok(from, |n| self.infer_axis(axis, n).ok()).map(|n| (axis, n))
        })
    }

    /// For each axis of the (first) input, the smallest size the model accepts, with the layer
    /// that rejects the next smaller one.
    pub fn min_input(&self) -> Vec<AxisMin> {
        let declared = self.inputs[0].shape.clone();
        (0..declared.rank())
            .map(|axis| {
                let min = smallest_ok(1, |n| self.infer_axis(axis, n).ok());
                let limited_by = min.filter(|&m| m > 1).and_then(|m| {
                    let r = self.infer_axis(axis, m - 1);
                    r.error.and_then(|d| d.layer)
                });
                let exact = min.is_some_and(|m| !self.infer_axis(axis, m + 1).ok());
                AxisMin {
                    axis: axis + 1,
                    declared: declared.dims()[axis],
                    min,
                    limited_by,
                    exact,
                }
            })
            .collect()
    }
}

/// The smallest size the model accepts on one input axis.
#[derive(Clone, Debug, PartialEq)]
pub struct AxisMin {
    /// Keras axis number (batch = 0).
    pub axis: usize,
    /// The size the spec declares (`None`: variable).
    pub declared: Dim,
    /// `None` when no size up to 2^24 works.
    pub min: Option<usize>,
    /// The layer that rejects `min - 1`.
    pub limited_by: Option<String>,
    /// Only this one size works (a Reshape or similar pins the axis).
    pub exact: bool,
}

/// Smallest n ≥ `from` with `ok(n)`: a scan of the first sizes (where non-monotone layers such
/// as Reshape pin exact values), then doubling and bisection (inference is monotone in length
/// for convolutions and pools).
fn smallest_ok(from: usize, ok: impl Fn(usize) -> bool) -> Option<usize> {
    const SCAN: usize = 4096;
    const LIMIT: usize = 1 << 24;
    if let Some(n) = (from..from + SCAN).find(|&n| ok(n)) {
        return Some(n);
    }
    let mut lo = from + SCAN - 1;
    let mut hi = lo * 2;
    while !ok(hi) {
        if hi > LIMIT {
            return None;
        }
        lo = hi;
        hi *= 2;
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if ok(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(hi)
}
