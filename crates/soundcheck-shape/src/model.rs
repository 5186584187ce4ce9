//! A checked model: layers resolved from a spec into a graph, and shape inference over it.

use std::collections::HashMap;

use serde_json::Value;

use crate::diagnosis::{closest, Diagnosis, Kind};
use crate::layers::{self, Ctx, Layer, LayerDef};
use crate::shape::{Dim, Shape, MAX_DIM, RANKS};
use crate::spec::{parse_dims, strip_batch, Api, DataFormat, LayerSpec, ModelSpec, INPUT};

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

fn invalid(title: impl Into<String>) -> Diagnosis {
    Diagnosis::new(Kind::InvalidSpec, title)
}

/// Keras's automatic layer names: `conv2d`, `conv2d_1`, ... per class.
#[derive(Default)]
struct AutoNames(HashMap<String, usize>);

impl AutoNames {
    fn next(&mut self, type_name: &str) -> String {
        let prefix = layers::snake_case(type_name);
        let n = self.0.entry(prefix.clone()).or_insert(0);
        let name = if *n == 0 {
            prefix
        } else {
            format!("{prefix}_{n}")
        };
        *n += 1;
        name
    }
}

/// The model's inputs: `input_shape`, Input layers, or the first layer's `input_shape`, with
/// Keras 3's rules where a shape is declared twice (`tools/fixtures` probe, Keras 3.15.1): an
/// Input layer wins over a first layer's `input_shape`; two declarations on one layer, a
/// second Input layer in a chain, and `batch_input_shape` on a layer are refused.
fn input_nodes(spec: &ModelSpec, auto: &mut AutoNames) -> Result<Vec<InputNode>, Diagnosis> {
    let mut inputs: Vec<InputNode> = Vec::new();
    for (idx, ls) in spec.layers.iter().enumerate() {
        declared_once(ls, idx)?;
        if !is_input_type(&ls.type_name) {
            continue;
        }
        let shape = shape_from_config(ls)?.ok_or_else(|| {
            invalid(format!("Input layer layers[{idx}] has no shape"))
                .fix("give it shape = [..] (one example's shape, batch axis excluded)")
        })?;
        inputs.push(InputNode {
            name: ls.name.clone().unwrap_or_else(|| auto.next("InputLayer")),
            shape: Shape(shape),
            explicit: true,
        });
    }
    let chain = spec.api == Some(Api::Sequential) || spec.layers.iter().all(|l| l.inputs.is_none());
    if chain && inputs.len() > 1 {
        return Err(invalid(format!(
            "the model has {} Input layers but is a chain of layers",
            inputs.len()
        ))
        .received(inputs.iter().map(|i| format!("'{}' {}", i.name, i.shape)).collect::<Vec<_>>().join(", "))
        .expected("one Input layer, or 'inputs' naming which layer reads which input")
        .cause("Keras's Sequential refuses a second Input layer (\"You cannot add a different Input layer to it\")")
        .fix("remove the extra Input layer; for a model with several inputs, give each layer its 'inputs'"));
    }
    if let Some(s) = &spec.input_shape {
        match inputs.as_slice() {
            [] => inputs.push(InputNode {
                name: "input_layer".into(),
                shape: Shape(s.clone()),
                explicit: false,
            }),
            [only] if only.shape.dims() == s.as_slice() => {}
            _ => {
                return Err(invalid(
                    "the input shape is given twice: input_shape and an Input layer",
                )
                .received(format!(
                    "input_shape {} and {}",
                    Shape(s.clone()),
                    inputs
                        .iter()
                        .map(|i| format!("'{}' {}", i.name, i.shape))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .fix("keep one: remove input_shape at the top, or the Input layer"))
            }
        }
    }
    if inputs.is_empty() {
        let first = spec.layers.iter().find(|l| !is_input_type(&l.type_name));
        let shape = match first {
            Some(l) => shape_from_config(l)?,
            None => None,
        }
        .ok_or_else(|| unbuilt(spec))?;
        inputs.push(InputNode {
            name: "input_layer".into(),
            shape: Shape(shape),
            explicit: false,
        });
    }
    Ok(inputs)
}

/// The diagnosis of a spec that declares no input: Keras builds such a model on its first
/// batch. Says which ranks the layers accept, found by checking the spec on probe shapes.
fn unbuilt(spec: &ModelSpec) -> Diagnosis {
    let fits = |dims: Vec<Dim>| {
        let mut probe = spec.clone();
        probe.input_shape = Some(dims);
        Model::from_spec(&probe).is_ok_and(|m| m.check().ok())
    };
    let mut accepted = Vec::new();
    let mut any_last = true;
    for rank in 1..=4 {
        // Large enough for a deep pooling stack, small enough that Flatten stays in int32.
        let side = if rank <= 3 { 256 } else { 64 };
        if fits(vec![Some(side); rank]) {
            accepted.push(format!("ndim {}", rank + 1));
            any_last &= [1, 2, 3, 13].iter().all(|&last| {
                let mut dims = vec![Some(side); rank];
                dims[rank - 1] = Some(last);
                fits(dims)
            });
        }
    }
    let mut d = invalid("the model has no input shape: Keras builds it on the first batch")
        .cause("no input_shape, Input layer or first-layer input_shape is given; Keras builds a model like this from the first array it is called on, so its shapes exist only then")
        .fix("check it against the shape of your data, given as `feed` (e.g. 32,100,13), or declare input_shape = [...] at the top of the spec (batch axis excluded)");
    if !accepted.is_empty() {
        let last = if any_last {
            ", any size on the last axis"
        } else {
            ""
        };
        d = d.expected(format!(
            "its layers accept arrays of {} (batch axis included){last}",
            accepted.join(" or ")
        ));
    }
    d
}

/// Refuses the declarations Keras 3 refuses on one layer: two shapes on an Input layer, and
/// on other layers `batch_input_shape`/`batch_shape` (Keras 2 only) or `input_dim` with
/// `input_shape`.
fn declared_once(ls: &LayerSpec, idx: usize) -> Result<(), Diagnosis> {
    let name = ls.name.clone().unwrap_or_else(|| format!("layers[{idx}]"));
    let keys = |list: &[&'static str]| -> Vec<&'static str> {
        list.iter()
            .copied()
            .filter(|k| ls.config.contains_key(*k))
            .collect()
    };
    if is_input_type(&ls.type_name) {
        let given = keys(&["shape", "input_shape", "batch_shape", "batch_input_shape"]);
        if given.len() > 1 {
            return Err(invalid(format!("Input layer '{name}' is given its shape twice"))
                .at(&name, &ls.type_name)
                .received(given.join(" and "))
                .expected("one of shape, batch_shape")
                .cause("Keras refuses it: \"You cannot pass both `shape` and `batch_shape` at the same time\"")
                .fix(format!("keep only shape = [..] (batch axis excluded); remove {}", given[1..].join(", "))));
        }
        return Ok(());
    }
    let batch = keys(&["batch_input_shape", "batch_shape"]);
    if let Some(k) = batch.first() {
        return Err(invalid(format!("layer '{name}' has '{k}', which Keras 3 removed"))
            .at(&name, &ls.type_name)
            .received(format!("{k} = {}", ls.config[*k]))
            .cause(format!("Keras 3 refuses it: \"Unrecognized keyword arguments passed to {}\"", ls.type_name))
            .fix("write input_shape = [..] at the top of the spec without the batch axis, or an InputLayer with batch_shape first"));
    }
    if keys(&["input_dim", "input_shape"]).len() == 2 && ls.type_name != "Embedding" {
        return Err(invalid(format!("layer '{name}' is given its input twice: input_dim and input_shape"))
            .at(&name, &ls.type_name)
            .cause(format!("Keras refuses it: \"Unrecognized keyword arguments passed to {}: {{'input_shape': ...}}\"", ls.type_name))
            .fix("keep one: input_shape = [..] (batch axis excluded)"));
    }
    Ok(())
}

/// Every layer but the inputs, parsed, named (after `names`, which it extends) and wired.
fn layer_nodes(
    spec: &ModelSpec,
    names: &mut Vec<String>,
    auto: &mut AutoNames,
) -> Result<Vec<Node>, Diagnosis> {
    let mut nodes: Vec<Node> = Vec::new();
    // Name → position, so a spec of many layers is checked in linear time.
    let mut index: HashMap<String, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.clone(), i))
        .collect();
    for ls in spec.layers.iter().filter(|l| !is_input_type(&l.type_name)) {
        let mut config = ls.config.clone();
        // Keras builds the wrapped layer first, so it takes its automatic name first.
        if let Some(Value::Object(inner)) = config.get_mut("layer") {
            let inner_type = inner
                .get("type")
                .or_else(|| inner.get("class_name"))
                .and_then(Value::as_str)
                .map(str::to_string);
            if let Some(t) = inner_type {
                let cfg = inner
                    .entry("config")
                    .or_insert_with(|| Value::Object(Default::default()));
                if let Value::Object(cfg) = cfg {
                    if !cfg.contains_key("name") {
                        cfg.insert("name".into(), auto.next(&t).into());
                    }
                }
            }
        }
        let name = ls.name.clone().unwrap_or_else(|| auto.next(&ls.type_name));
        if index.contains_key(&name) {
            return Err(invalid(format!("two layers are named '{name}'"))
                .at(&name, &ls.type_name)
                .fix(format!("rename one of them, e.g. '{name}_2'")));
        }
        for key in ["input_shape", "batch_input_shape", "batch_shape"] {
            config.remove(key);
        }
        let refs = match &ls.inputs {
            None => vec![names.len() - 1],
            Some(list) => list
                .iter()
                .map(|r| resolve_ref(r, &index, names, spec, &name, &ls.type_name))
                .collect::<Result<Vec<_>, _>>()?,
        };
        let layer = layers::parse(&name, &ls.type_name, config, spec.data_format, &mut |t| {
            auto.next(t)
        })?;
        nodes.push(Node {
            def: LayerDef {
                name: name.clone(),
                type_name: ls.type_name.clone(),
                layer,
            },
            inputs: refs,
        });
        index.insert(name.clone(), names.len());
        names.push(name);
    }
    if nodes.is_empty() {
        return Err(
            invalid("the spec has only Input layers").fix("add the model's layers after the Input")
        );
    }
    Ok(nodes)
}

/// Whether nothing in the spec declares the input shape.
fn is_unbuilt(spec: &ModelSpec) -> bool {
    spec.input_shape.is_none()
        && !spec.layers.iter().any(|l| is_input_type(&l.type_name))
        && spec
            .layers
            .first()
            .is_some_and(|l| shape_from_config(l).is_ok_and(|s| s.is_none()))
}

fn is_input_type(t: &str) -> bool {
    t == "InputLayer" || t == "Input"
}

/// The input shape carried by an Input layer's or a first layer's config.
fn shape_from_config(spec: &LayerSpec) -> Result<Option<Vec<Dim>>, Diagnosis> {
    let c = &spec.config;
    if let Some(v) = c.get("shape").or_else(|| c.get("input_shape")) {
        return parse_dims(v, "input_shape").map(Some);
    }
    for key in ["batch_shape", "batch_input_shape"] {
        if let Some(v) = c.get(key) {
            let dims = parse_dims(&strip_batch(v), key)?;
            return Ok(Some(dims));
        }
    }
    // Dense's legacy `input_dim` is a feature count; Embedding's is a vocabulary size.
    if let (true, Some(d)) = (
        spec.type_name == "Dense",
        c.get("input_dim").and_then(Value::as_u64),
    ) {
        return Ok(Some(vec![Some(d as usize)]));
    }
    Ok(None)
}

impl Model {
    /// Resolves names, inputs and arguments; every problem is an `invalid_spec` diagnosis.
    pub fn from_spec(spec: &ModelSpec) -> Result<Model, Diagnosis> {
        let mut auto = AutoNames::default();
        let inputs = input_nodes(spec, &mut auto)?;
        let mut names: Vec<String> = inputs.iter().map(|i| i.name.clone()).collect();
        let nodes = layer_nodes(spec, &mut names, &mut auto)?;
        let outputs = match &spec.outputs {
            None => vec![names.len() - 1],
            Some(outs) => outs
                .iter()
                .map(|o| {
                    names.iter().position(|n| n == o).ok_or_else(|| {
                        let hint = closest(o, names.iter().map(String::as_str))
                            .map(|c| format!("did you mean '{c}'? "))
                            .unwrap_or_default();
                        invalid(format!("output '{o}' is not a layer of the model"))
                            .fix(format!("{hint}list layer names in 'outputs'"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        let explicit_graph = spec
            .layers
            .iter()
            .any(|l| l.inputs.is_some() || is_input_type(&l.type_name));
        let api = spec.api.unwrap_or(if explicit_graph {
            Api::Functional
        } else {
            Api::Sequential
        });
        Ok(Model {
            name: spec.name.clone(),
            api,
            data_format: spec.data_format,
            inputs,
            nodes,
            outputs,
            loss: spec.loss.clone(),
            input_dtype: spec.input_dtype.clone(),
        })
    }

    /// Keras's deferred build: a spec that declares no input shape is built from the first
    /// array it is given, here `feed` (batch axis first). Returns the model and whether `feed`
    /// built it; a spec with an input shape is built from the spec alone.
    pub fn from_spec_on_feed(spec: &ModelSpec, feed: &[usize]) -> Result<(Model, bool), Diagnosis> {
        match Model::from_spec(spec) {
            Err(e)
                if is_unbuilt(spec)
                    && feed.len() >= 2
                    && feed.iter().all(|d| (1..=MAX_DIM).contains(d)) =>
            {
                let mut built = spec.clone();
                built.input_shape = Some(feed[1..].iter().map(|&d| Some(d)).collect());
                Model::from_spec(&built).map(|m| (m, true)).map_err(|_| e)
            }
            other => other.map(|m| (m, false)),
        }
    }

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

fn resolve_ref(
    r: &str,
    index: &HashMap<String, usize>,
    names: &[String],
    spec: &ModelSpec,
    layer: &str,
    type_name: &str,
) -> Result<usize, Diagnosis> {
    if r == INPUT {
        return Ok(0);
    }
    if let Some(&i) = index.get(r) {
        return Ok(i);
    }
    let later = spec.layers.iter().any(|l| l.name.as_deref() == Some(r));
    let mut known: Vec<&str> = vec![INPUT];
    known.extend(names.iter().map(String::as_str));
    let d = invalid(format!(
        "input '{r}' of layer '{layer}' is not an earlier layer"
    ))
    .at(layer, type_name)
    .received(format!("inputs = [\"{r}\"]"))
    .expected(format!("one of: {}", known.join(", ")));
    Err(if later {
        d.cause(format!("'{r}' is defined after '{layer}'"))
            .fix("list layers in the order they are computed: move it before this layer")
    } else {
        let hint = closest(r, known.iter().copied())
            .map(|c| format!("did you mean '{c}'? "))
            .unwrap_or_default();
        d.cause(format!("no layer is named '{r}'")).fix(format!(
            "{hint}name an earlier layer, or \"input\" for the model input"
        ))
    })
}
