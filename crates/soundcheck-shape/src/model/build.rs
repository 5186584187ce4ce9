//! A spec resolved into a model's graph: its inputs, its layers' names and arguments, each
//! layer's inputs by name; every problem an `invalid_spec` diagnosis naming the layer.

use std::collections::HashMap;

use serde_json::Value;

use super::{InputNode, Model, Node};
use crate::diagnosis::{closest, Diagnosis, Kind};
use crate::layers::{self, LayerDef};
use crate::shape::{Dim, Shape, MAX_DIM};
use crate::spec::{parse_dims, strip_batch, Api, LayerSpec, ModelSpec, INPUT};

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
