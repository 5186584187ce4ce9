//! Keras 3 model configs (`model.to_json()`, the `config.json` inside a `.keras` file) to and
//! from the soundcheck spec.

use serde_json::{json, Map, Value};

use crate::diagnosis::{Diagnosis, Kind};
use crate::spec::{dims_to_value, parse_dims, strip_batch, Api, DataFormat, LayerSpec, ModelSpec};

fn invalid(title: impl Into<String>) -> Diagnosis {
    Diagnosis::new(Kind::InvalidSpec, title)
}

/// True when a JSON value looks like a Keras model config rather than a soundcheck spec.
pub fn is_keras_config(v: &Value) -> bool {
    v.get("class_name").is_some() && v.get("config").is_some_and(|c| c.get("layers").is_some())
}

/// Keras keys that carry no shape information and only clutter a converted spec.
fn keep_arg(key: &str, v: &Value) -> bool {
    match key {
        "trainable" | "dtype" | "name" => false,
        "merge_mode" => true,
        _ => !v.is_null(),
    }
}

fn clean_config(config: &Map<String, Value>) -> Map<String, Value> {
    config
        .iter()
        .filter(|(k, v)| keep_arg(k, v))
        .map(|(k, v)| {
            let v = match (k.as_str(), v) {
                // A wrapped layer: {module, class_name, config, ...} → {type, config}.
                ("layer", Value::Object(inner)) => {
                    let mut cfg = inner
                        .get("config")
                        .and_then(Value::as_object)
                        .map(clean_config)
                        .unwrap_or_default();
                    if let Some(n) = inner.get("config").and_then(|c| c.get("name")) {
                        cfg.insert("name".into(), n.clone());
                    }
                    json!({"type": inner.get("class_name").or_else(|| inner.get("type")).cloned().unwrap_or(Value::Null), "config": cfg})
                }
                _ => v.clone(),
            };
            (k.clone(), v)
        })
        .collect()
}

/// Names of the layers a Keras node reads, from its serialized `__keras_tensor__` arguments
/// (Keras 3), or from its list of `[layer, node_index, tensor_index, kwargs]` entries (Keras 2,
/// in `.keras` and `.h5` files that TensorFlow 2.15 and earlier wrote).
fn history_names(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if m.get("class_name").and_then(Value::as_str) == Some("__keras_tensor__") {
                if let Some(name) = m
                    .get("config")
                    .and_then(|c| c.get("keras_history"))
                    .and_then(|h| h.get(0))
                    .and_then(Value::as_str)
                {
                    out.push(name.to_string());
                }
                return;
            }
            m.values().for_each(|x| history_names(x, out));
        }
        Value::Array(a) => match a.as_slice() {
            [Value::String(name), Value::Number(_), Value::Number(_), ..] => {
                out.push(name.clone());
            }
            _ => a.iter().for_each(|x| history_names(x, out)),
        },
        _ => {}
    }
}

/// A model from JSON of either kind, told apart by content: a Keras `model.to_json()` config or a
/// soundcheck spec.
pub fn spec_from_json(v: &Value) -> Result<ModelSpec, Diagnosis> {
    if is_keras_config(v) {
        from_keras(v)
    } else {
        ModelSpec::from_value(v)
    }
}

/// Converts a Keras 3 Sequential or Functional config into a soundcheck spec.
pub fn from_keras(v: &Value) -> Result<ModelSpec, Diagnosis> {
    let class = v.get("class_name").and_then(Value::as_str).unwrap_or("");
    let api = match class {
        "Sequential" => Api::Sequential,
        "Functional" | "Model" => Api::Functional,
        other => {
            return Err(invalid(format!("Keras model class '{other}' is not supported"))
                .expected("a Sequential or Functional model config")
                .fix("save the model with model.to_json() or model.save('m.keras') from a Sequential or Functional model"))
        }
    };
    let config = &v["config"];
    let klayers = config["layers"]
        .as_array()
        .ok_or_else(|| invalid("the Keras config has no layer list"))?;
    let mut layers = Vec::new();
    let mut input_shape = None;
    for (i, kl) in klayers.iter().enumerate() {
        let type_name = kl
            .get("class_name")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(format!("Keras layer {i} has no class_name")))?
            .to_string();
        let cfg = kl
            .get("config")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let name = cfg
            .get("name")
            .or_else(|| kl.get("name"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let inputs = match (api, kl.get("inbound_nodes")) {
            (Api::Functional, Some(Value::Array(nodes))) if !nodes.is_empty() => {
                if nodes.len() > 1 {
                    return Err(invalid(format!(
                        "layer '{}' is shared ({} calls)",
                        name.clone().unwrap_or_default(),
                        nodes.len()
                    ))
                    .fix("soundcheck checks each layer once; give each call its own layer"));
                }
                let mut names = Vec::new();
                history_names(&nodes[0], &mut names);
                Some(names)
            }
            _ => None,
        };
        let mut config = if type_name == "InputLayer" {
            let mut m = Map::new();
            if let Some(s) = cfg
                .get("batch_shape")
                .or_else(|| cfg.get("batch_input_shape"))
            {
                m.insert("batch_shape".into(), s.clone());
            }
            m
        } else {
            clean_config(&cfg)
        };
        // Sequential configs without an InputLayer keep the input shape in build_config
        // (Keras 3) or in the first layer's batch_input_shape (Keras 2).
        if i == 0 && type_name != "InputLayer" {
            let legacy = config.remove("batch_input_shape");
            if let Some(s) = kl
                .get("build_config")
                .and_then(|b| b.get("input_shape"))
                .or(legacy.as_ref())
            {
                input_shape = Some(parse_dims(&strip_batch(s), "input_shape")?);
            }
        }
        layers.push(LayerSpec {
            type_name,
            name,
            inputs,
            config,
        });
    }
    let outputs = match api {
        Api::Functional => {
            let mut names = Vec::new();
            if let Some(o) = config.get("output_layers") {
                let list: Vec<&Value> = match o.as_array() {
                    Some(a) if a.first().is_some_and(Value::is_array) => a.iter().collect(),
                    _ => vec![o],
                };
                for item in list {
                    if let Some(n) = item.get(0).and_then(Value::as_str) {
                        names.push(n.to_string());
                    }
                }
            }
            (!names.is_empty()).then_some(names)
        }
        Api::Sequential => None,
    };
    let loss = v
        .get("compile_config")
        .and_then(|c| c.get("loss"))
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(ModelSpec {
        name: config
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string),
        api: Some(api),
        data_format: DataFormat::ChannelsLast,
        input_shape,
        input_dtype: None,
        loss,
        layers,
        outputs,
    })
}

fn keras_layer(type_name: &str, name: &str, config: &Map<String, Value>) -> Value {
    let mut cfg = config.clone();
    if let Some(Value::Object(inner)) = cfg.get("layer").cloned() {
        let t = inner.get("type").cloned().unwrap_or(Value::Null);
        let c = inner
            .get("config")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let n = c
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        cfg.insert(
            "layer".into(),
            keras_layer(t.as_str().unwrap_or(""), &n, &c),
        );
    }
    cfg.insert("name".into(), name.into());
    json!({"module": "keras.layers", "class_name": type_name, "config": cfg, "registered_name": null})
}

/// Converts a spec to a Keras 3 `model.to_json()` config, as a Functional model (it holds any
/// graph). Automatic names are made explicit, so the layers keep their names in Keras.
pub fn to_keras(spec: &ModelSpec) -> Result<Value, Diagnosis> {
    let model = crate::Model::from_spec(spec)?;
    let report = model.infer();
    let n_in = model.inputs.len();
    let mut layers = Vec::new();
    let mut shapes: Vec<Value> = Vec::new();
    for input in &model.inputs {
        let mut shape = vec![Value::Null];
        shape.extend(
            dims_to_value(input.shape.dims())
                .as_array()
                .cloned()
                .unwrap_or_default(),
        );
        shapes.push(Value::Array(shape.clone()));
        layers.push(json!({
            "module": "keras.layers", "class_name": "InputLayer", "registered_name": null,
            "config": {"batch_shape": shape, "dtype": spec.input_dtype.clone().unwrap_or_else(|| "float32".into()), "sparse": false, "name": input.name},
            "name": input.name, "inbound_nodes": [],
        }));
    }
    let specs: Vec<&LayerSpec> = spec
        .layers
        .iter()
        .filter(|l| l.type_name != "InputLayer" && l.type_name != "Input")
        .collect();
    for (k, node) in model.nodes.iter().enumerate() {
        let mut config = specs[k].config.clone();
        for key in ["input_shape", "batch_input_shape", "batch_shape"] {
            config.remove(key);
        }
        if !config.contains_key("data_format") && has_data_format(&node.def.type_name) {
            config.insert("data_format".into(), model.data_format.as_str().into());
        }
        let tensor = |i: usize| {
            json!({"class_name": "__keras_tensor__", "config": {
                "shape": shapes.get(i).cloned().unwrap_or(Value::Null), "dtype": "float32",
                "keras_history": [model.node_name(i), 0, 0]}})
        };
        let args = if node.inputs.len() == 1 {
            tensor(node.inputs[0])
        } else {
            Value::Array(node.inputs.iter().map(|&i| tensor(i)).collect())
        };
        let mut l = keras_layer(&node.def.type_name, &node.def.name, &config);
        l["name"] = node.def.name.clone().into();
        l["inbound_nodes"] = json!([{"args": [args], "kwargs": {}}]);
        layers.push(l);
        shapes.push(
            report
                .layers
                .get(k)
                .map(|r| r.output_shape.to_json_with_batch())
                .unwrap_or(Value::Null),
        );
    }
    // Keras writes a single input/output as one [name, 0, 0] triple, several as a list of them.
    let io = |idx: &[usize]| match idx {
        [one] => json!([model.node_name(*one), 0, 0]),
        _ => Value::Array(
            idx.iter()
                .map(|&i| json!([model.node_name(i), 0, 0]))
                .collect(),
        ),
    };
    let inputs: Vec<usize> = (0..n_in).collect();
    Ok(json!({
        "module": "keras.src.models.functional", "class_name": "Functional", "registered_name": "Functional",
        "config": {
            "name": spec.name.clone().unwrap_or_else(|| "functional".into()),
            "trainable": true,
            "layers": layers,
            "input_layers": io(&inputs),
            "output_layers": io(&model.outputs),
        },
    }))
}

fn has_data_format(type_name: &str) -> bool {
    (type_name.contains("Conv")
        || type_name.contains("Pooling")
        || type_name.contains("ZeroPadding")
        || type_name.starts_with("UpSampling")
        || type_name.starts_with("Cropping")
        || type_name == "Flatten")
        && type_name != "UpSampling1D"
        && type_name != "Cropping1D"
}
