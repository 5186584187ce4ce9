//! The model spec: one structure, written as JSON or TOML, with Keras layer names and arguments.

use serde_json::{Map, Value};

use crate::diagnosis::{closest, Diagnosis, Kind};
use crate::shape::Dim;

/// Where the channel axis is (Keras's `data_format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataFormat {
    /// `(..., channels)`: Keras's default.
    ChannelsLast,
    /// `(channels, ...)`.
    ChannelsFirst,
}

impl DataFormat {
    /// The spellings Keras accepts.
    pub const NAMES: [&'static str; 2] = ["channels_last", "channels_first"];

    /// Reads a data format name (case-insensitive, as Keras).
    pub fn parse(s: &str) -> Option<DataFormat> {
        match s.to_lowercase().as_str() {
            "channels_last" => Some(DataFormat::ChannelsLast),
            "channels_first" => Some(DataFormat::ChannelsFirst),
            _ => None,
        }
    }

    /// The name Keras uses.
    pub fn as_str(self) -> &'static str {
        match self {
            DataFormat::ChannelsLast => "channels_last",
            DataFormat::ChannelsFirst => "channels_first",
        }
    }

    /// The other format.
    pub fn other(self) -> DataFormat {
        match self {
            DataFormat::ChannelsLast => DataFormat::ChannelsFirst,
            DataFormat::ChannelsFirst => DataFormat::ChannelsLast,
        }
    }
}

/// How the model was built in Keras; matters only for how Keras checks a fed array.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    /// `keras.Sequential`: each layer feeds the next.
    Sequential,
    /// The functional API: layers name their inputs.
    Functional,
}

impl Api {
    /// The name Keras uses for the class.
    pub fn as_str(self) -> &'static str {
        match self {
            Api::Sequential => "sequential",
            Api::Functional => "functional",
        }
    }
}

/// One layer as written in the spec. `config` holds the Keras arguments, whether they were written
/// under `config` or directly in the layer table.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerSpec {
    /// The Keras class name.
    pub type_name: String,
    /// The layer's name (default: Keras's automatic one).
    pub name: Option<String>,
    /// The layers feeding it (default: the previous one).
    pub inputs: Option<Vec<String>>,
    /// The Keras arguments.
    pub config: Map<String, Value>,
}

/// A whole model spec.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelSpec {
    /// The model's name.
    pub name: Option<String>,
    /// Sequential or Functional (default: inferred from the layers).
    pub api: Option<Api>,
    /// The default data format of its layers.
    pub data_format: DataFormat,
    /// One example's shape (batch excluded); `None` when an `Input` layer or the first layer's
    /// `input_shape` argument gives it.
    pub input_shape: Option<Vec<Dim>>,
    /// The input's dtype (`int32` for token ids), for feed checks.
    pub input_dtype: Option<String>,
    /// A Keras loss name, used to check labels.
    pub loss: Option<String>,
    /// The layers, in order.
    pub layers: Vec<LayerSpec>,
    /// The output layers (default: the last).
    pub outputs: Option<Vec<String>>,
}

const TOP_KEYS: &[&str] = &[
    "name",
    "api",
    "data_format",
    "input_shape",
    "input_dtype",
    "loss",
    "layers",
    "outputs",
];
const LAYER_KEYS: &[&str] = &["type", "name", "inputs", "config"];

/// The name by which layers refer to the model input in `inputs`.
pub const INPUT: &str = "input";

fn invalid(title: impl Into<String>) -> Diagnosis {
    Diagnosis::new(Kind::InvalidSpec, title)
}

impl ModelSpec {
    /// Parses a JSON spec.
    pub fn from_json_str(text: &str) -> Result<ModelSpec, Diagnosis> {
        let v: Value = serde_json::from_str(text).map_err(|e| {
            invalid(format!("the spec is not valid JSON: {e}"))
                .cause("the file could not be parsed as JSON")
                .fix(format!(
                    "correct the JSON syntax near line {}, column {}",
                    e.line(),
                    e.column()
                ))
        })?;
        ModelSpec::from_value(&v)
    }

    /// Parses a TOML spec.
    pub fn from_toml_str(text: &str) -> Result<ModelSpec, Diagnosis> {
        let t: toml::Value = toml::from_str(text).map_err(|e| {
            invalid(format!("the spec is not valid TOML: {}", e.message()))
                .cause("the file could not be parsed as TOML")
                .fix(match e.span() {
                    Some(s) => format!("correct the TOML syntax at byte {}", s.start),
                    None => "correct the TOML syntax".to_string(),
                })
        })?;
        let v = serde_json::to_value(t).map_err(|e| invalid(format!("unreadable TOML: {e}")))?;
        ModelSpec::from_value(&none_strings_to_null(v))
    }

    /// Reads a spec from its JSON value (TOML goes through the same path).
    pub fn from_value(v: &Value) -> Result<ModelSpec, Diagnosis> {
        let top = v.as_object().ok_or_else(|| {
            invalid("the spec must be a table/object with a 'layers' list")
                .received(kind_of(v))
                .fix("write the spec as an object: {\"input_shape\": [...], \"layers\": [...]}")
        })?;
        check_keys(top, TOP_KEYS, "top level of the spec")?;
        let name = opt_string(top, "name", "the spec")?;
        let api = match opt_string(top, "api", "the spec")? {
            None => None,
            Some(s) => Some(match s.to_lowercase().as_str() {
                "sequential" => Api::Sequential,
                "functional" => Api::Functional,
                _ => {
                    return Err(invalid(format!("unknown api '{s}'"))
                        .expected("'sequential' or 'functional'")
                        .fix("set api to 'sequential' or 'functional', or remove it"))
                }
            }),
        };
        let data_format = match opt_string(top, "data_format", "the spec")? {
            None => DataFormat::ChannelsLast,
            Some(s) => DataFormat::parse(&s).ok_or_else(|| {
                invalid(format!("unknown data_format '{s}'"))
                    .expected("'channels_last' or 'channels_first'")
                    .fix("set data_format to 'channels_last' (Keras's default) or 'channels_first'")
            })?,
        };
        let input_shape = match top.get("input_shape") {
            None | Some(Value::Null) => None,
            Some(s) => Some(parse_dims(s, "input_shape")?),
        };
        let layers_v = top.get("layers").ok_or_else(|| {
            invalid("the spec has no 'layers' list")
                .fix("add a 'layers' list ([[layers]] tables in TOML)")
        })?;
        let layers_a = layers_v.as_array().ok_or_else(|| {
            invalid("'layers' must be a list of layer tables").received(kind_of(layers_v))
        })?;
        if layers_a.is_empty() {
            return Err(
                invalid("the spec has an empty 'layers' list").fix("add at least one layer")
            );
        }
        let layers = layers_a
            .iter()
            .enumerate()
            .map(|(i, l)| LayerSpec::from_value(l, &format!("layers[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ModelSpec {
            name,
            api,
            data_format,
            input_shape,
            input_dtype: opt_string(top, "input_dtype", "the spec")?,
            loss: opt_string(top, "loss", "the spec")?,
            layers,
            outputs: opt_string_list(top, "outputs", "the spec")?,
        })
    }

    /// The spec as a JSON value, in the structure it is read from.
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        if let Some(n) = &self.name {
            m.insert("name".into(), n.clone().into());
        }
        if let Some(a) = self.api {
            m.insert("api".into(), a.as_str().into());
        }
        m.insert("data_format".into(), self.data_format.as_str().into());
        if let Some(s) = &self.input_shape {
            m.insert("input_shape".into(), dims_to_value(s));
        }
        if let Some(d) = &self.input_dtype {
            m.insert("input_dtype".into(), d.clone().into());
        }
        if let Some(l) = &self.loss {
            m.insert("loss".into(), l.clone().into());
        }
        m.insert(
            "layers".into(),
            Value::Array(self.layers.iter().map(LayerSpec::to_value).collect()),
        );
        if let Some(o) = &self.outputs {
            m.insert("outputs".into(), o.clone().into());
        }
        Value::Object(m)
    }

    /// The spec as soundcheck JSON text.
    pub fn to_json_string(&self) -> String {
        let mut s =
            serde_json::to_string_pretty(&self.to_value()).expect("a JSON value serializes");
        s.push('\n');
        s
    }

    /// TOML has no null: unknown dimensions and null arguments are written as `"None"`.
    pub fn to_toml_string(&self) -> Result<String, Diagnosis> {
        let v = null_to_none_strings(self.to_value());
        toml::to_string(&v).map_err(|e| {
            invalid(format!("this spec cannot be written as TOML: {e}"))
                .fix("write it as JSON instead")
        })
    }
}

impl LayerSpec {
    fn from_value(v: &Value, at: &str) -> Result<LayerSpec, Diagnosis> {
        let obj = v.as_object().ok_or_else(|| {
            invalid(format!("{at} must be a table with at least a 'type'"))
                .received(kind_of(v))
                .fix("write each layer as {\"type\": \"Conv2D\", \"filters\": 16, ...}")
        })?;
        let type_name = match obj.get("type").or_else(|| obj.get("class_name")) {
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                return Err(
                    invalid(format!("{at}.type must be a Keras layer class name"))
                        .received(other.to_string()),
                )
            }
            None => {
                return Err(invalid(format!("{at} has no 'type'"))
                    .fix("add type = \"<Keras layer class>\", e.g. type = \"Dense\""))
            }
        };
        let mut config = match obj.get("config") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(c)) => c.clone(),
            Some(other) => {
                return Err(invalid(format!("{at}.config must be a table of arguments"))
                    .received(kind_of(other)))
            }
        };
        for (k, val) in obj {
            if LAYER_KEYS.contains(&k.as_str()) || k == "class_name" {
                continue;
            }
            if config.contains_key(k) {
                return Err(invalid(format!(
                    "{at} gives '{k}' both in the layer table and under config"
                ))
                .fix(format!("keep one '{k}'")));
            }
            config.insert(k.clone(), val.clone());
        }
        let mut name = opt_string(obj, "name", at)?;
        match (config.remove("name"), &name) {
            (Some(Value::String(c)), None) => name = Some(c),
            (Some(Value::String(c)), Some(n)) if &c != n => {
                return Err(
                    invalid(format!("{at} is named '{n}' but its config names it '{c}'"))
                        .fix("keep one name"),
                )
            }
            _ => {}
        }
        Ok(LayerSpec {
            type_name,
            name,
            inputs: opt_string_list(obj, "inputs", at)?,
            config,
        })
    }

    /// The spec as a JSON value.
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("type".into(), self.type_name.clone().into());
        if let Some(n) = &self.name {
            m.insert("name".into(), n.clone().into());
        }
        if let Some(i) = &self.inputs {
            m.insert("inputs".into(), i.clone().into());
        }
        m.insert("config".into(), Value::Object(self.config.clone()));
        Value::Object(m)
    }
}

fn kind_of(v: &Value) -> String {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a table",
    }
    .to_string()
}

fn check_keys(obj: &Map<String, Value>, allowed: &[&str], at: &str) -> Result<(), Diagnosis> {
    for k in obj.keys() {
        if !allowed.contains(&k.as_str()) {
            let hint = closest(k, allowed.iter().copied())
                .map(|c| format!("did you mean '{c}'? "))
                .unwrap_or_default();
            return Err(invalid(format!("unknown key '{k}' at the {at}"))
                .expected(format!("one of: {}", allowed.join(", ")))
                .fix(format!("{hint}remove or rename '{k}'")));
        }
    }
    Ok(())
}

fn opt_string(obj: &Map<String, Value>, key: &str, at: &str) -> Result<Option<String>, Diagnosis> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => {
            Err(invalid(format!("'{key}' of {at} must be a string")).received(other.to_string()))
        }
    }
}

fn opt_string_list(
    obj: &Map<String, Value>,
    key: &str,
    at: &str,
) -> Result<Option<Vec<String>>, Diagnosis> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
        Some(Value::Array(items)) => items
            .iter()
            .map(|x| {
                x.as_str().map(str::to_string).ok_or_else(|| {
                    invalid(format!("'{key}' of {at} must list layer names"))
                        .received(x.to_string())
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(other) => Err(
            invalid(format!("'{key}' of {at} must be a list of layer names"))
                .received(other.to_string()),
        ),
    }
}

/// A full shape (a JSON list, batch axis first) without its batch axis.
pub(crate) fn strip_batch(v: &Value) -> Value {
    match v.as_array() {
        Some(a) if !a.is_empty() => Value::Array(a[1..].to_vec()),
        _ => v.clone(),
    }
}

/// Parses a shape list whose entries are positive integers or `null`/`"None"` (unknown). A bad
/// entry is named by its position, with why it cannot be a size.
pub fn parse_dims(v: &Value, key: &str) -> Result<Vec<Dim>, Diagnosis> {
    let items = v.as_array().ok_or_else(|| {
        invalid(format!("'{key}' must be a list of axis sizes"))
            .received(v.to_string())
            .expected("e.g. [513, 25, 1], or [null, 13] (\"None\" in TOML) for a variable length")
            .cause("a shape is one example's axes, the batch axis left out")
            .fix(format!("write {key} as a list like [513, 25, 1]"))
    })?;
    items
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let bad = |why: String, cause: String| {
                invalid(format!("axis {i} of '{key}' is {x}: {why}"))
                    .received(v.to_string())
                    .expected("positive whole sizes, or null (\"None\" in TOML) for a variable axis")
                    .cause(cause)
                    .fix(format!(
                        "write axis {i} as its size, or null if its length varies"
                    ))
            };
            match x {
                Value::Null => Ok(None),
                Value::String(s) if s == "None" => Ok(None),
                _ => match (x.as_u64(), x.as_i64()) {
                    (Some(0), _) => Err(bad(
                        "an axis of size 0".into(),
                        "an axis of size 0 holds no values, so no example could be fed".into(),
                    )),
                    (Some(d), _) if d > crate::shape::MAX_DIM as u64 => Err(bad(
                        format!("above the largest size, {}", crate::shape::MAX_DIM),
                        "sizes are bounded so that every tensor soundcheck builds fits in memory"
                            .into(),
                    )),
                    (Some(d), _) => Ok(Some(d as usize)),
                    (None, Some(d)) => Err(bad(
                        "a size cannot be negative".into(),
                        format!(
                            "{d} means \"infer this axis\" in a Reshape or NumPy; an input's axis of unknown length is null (None in Keras)"
                        ),
                    )),
                    _ => Err(bad(
                        "not a whole number".into(),
                        "an axis holds a whole number of values".into(),
                    )),
                },
            }
        })
        .collect()
}

/// Axes as JSON: sizes, `null` for unknown.
pub fn dims_to_value(dims: &[Dim]) -> Value {
    Value::Array(
        dims.iter()
            .map(|d| d.map(Value::from).unwrap_or(Value::Null))
            .collect(),
    )
}

fn none_strings_to_null(v: Value) -> Value {
    match v {
        Value::String(s) if s == "None" => Value::Null,
        Value::Array(a) => Value::Array(a.into_iter().map(none_strings_to_null).collect()),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k, none_strings_to_null(v)))
                .collect(),
        ),
        other => other,
    }
}

fn null_to_none_strings(v: Value) -> Value {
    match v {
        Value::Null => Value::String("None".into()),
        Value::Array(a) => Value::Array(a.into_iter().map(null_to_none_strings).collect()),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k, null_to_none_strings(v)))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOML: &str = r#"
name = "mfcc-lstm"
input_shape = ["None", 13]

[[layers]]
type = "LSTM"
units = 64

[[layers]]
type = "Dense"
config = { units = 10, activation = "softmax" }
"#;

    #[test]
    fn toml_and_json_read_the_same_structure() {
        let t = ModelSpec::from_toml_str(TOML).unwrap();
        assert_eq!(t.input_shape, Some(vec![None, Some(13)]));
        assert_eq!(t.layers[0].config["units"], 64);
        assert_eq!(t.layers[1].config["activation"], "softmax");
        let j = ModelSpec::from_json_str(&t.to_json_string()).unwrap();
        assert_eq!(j, t);
        let back = ModelSpec::from_toml_str(&t.to_toml_string().unwrap()).unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn unknown_top_key_suggests() {
        let e = ModelSpec::from_json_str(
            r#"{"input_shap": [3], "layers": [{"type": "Dense", "units": 1}]}"#,
        )
        .unwrap_err();
        assert_eq!(e.kind, Kind::InvalidSpec);
        assert!(e.fix.contains("did you mean 'input_shape'"), "{}", e.fix);
    }

    #[test]
    fn syntax_errors_are_invalid_spec_not_panics() {
        for bad in [
            "",
            "{",
            "[1,2]",
            "{\"layers\": 3}",
            "{\"layers\": []}",
            "{\"layers\": [3]}",
        ] {
            let e = ModelSpec::from_json_str(bad).unwrap_err();
            assert_eq!(e.kind, Kind::InvalidSpec, "{bad}");
        }
        assert!(ModelSpec::from_toml_str("layers = [").is_err());
    }

    #[test]
    fn a_bad_input_shape_entry_is_named_with_why_it_cannot_be_a_size() {
        let err = |shape: &str| {
            ModelSpec::from_json_str(&format!(
                r#"{{"input_shape": {shape}, "layers": [{{"type": "Dense", "units": 1}}]}}"#
            ))
            .unwrap_err()
        };
        let e = err("[0, 3]");
        assert!(
            e.title.contains("axis 0 of 'input_shape' is 0"),
            "{}",
            e.title
        );
        let e = err("[13, -1]");
        assert!(
            e.title
                .contains("axis 1 of 'input_shape' is -1: a size cannot be negative"),
            "{}",
            e.title
        );
        assert!(e.cause.contains("null (None in Keras)"), "{}", e.cause);
        assert!(e.fix.contains("null if its length varies"), "{}", e.fix);
        let e = err("[2.5]");
        assert!(
            e.title.contains("is 2.5: not a whole number"),
            "{}",
            e.title
        );
        let e = err("[99999999999]");
        assert!(e.title.contains("above the largest size"), "{}", e.title);
        let e = err("13");
        assert!(e.cause.contains("batch axis left out"), "{}", e.cause);
        assert_eq!(e.kind, Kind::InvalidSpec);
    }
}
