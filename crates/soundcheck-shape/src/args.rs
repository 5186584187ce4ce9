//! Reading a layer's Keras arguments with validation: every wrong key or value names the layer,
//! the argument, what was given and what is accepted.

use serde_json::{Map, Value};

use crate::diagnosis::{closest, Diagnosis, Kind};
use crate::identifiers;
use crate::shape::MAX_DIM;

/// Arguments every Keras layer accepts that never change a shape.
const BASE_ARGS: &[&str] = &[
    "trainable",
    "dtype",
    "autocast",
    "input_shape",
    "batch_input_shape",
    "batch_size",
    "input_dim",
    "activity_regularizer",
];

/// A layer's arguments, consumed key by key; [`Args::finish`] rejects what nobody read.
pub struct Args {
    layer: String,
    type_name: String,
    map: Map<String, Value>,
    read: Vec<String>,
}

impl Args {
    /// Arguments of layer `layer` (class `type_name`), to be read key by key.
    pub fn new(layer: &str, type_name: &str, map: Map<String, Value>) -> Args {
        Args {
            layer: layer.to_string(),
            type_name: type_name.to_string(),
            map,
            read: Vec::new(),
        }
    }

    /// Removes and returns a present, non-null value.
    pub fn take(&mut self, key: &str) -> Option<Value> {
        self.take_raw(key).filter(|v| !v.is_null())
    }

    /// Removes and returns a value as written, `Some(Null)` for an explicit null.
    pub fn take_raw(&mut self, key: &str) -> Option<Value> {
        self.read.push(key.to_string());
        self.map.remove(key)
    }

    /// An `invalid_spec` diagnosis: argument `key` is `got`, and takes `expected`.
    pub fn error(&self, key: &str, expected: &str, got: &Value) -> Diagnosis {
        Diagnosis::new(
            Kind::InvalidSpec,
            format!("argument '{key}' of {} is {got}", self.type_name),
        )
        .at(&self.layer, &self.type_name)
        .received(got.to_string())
        .expected(expected.to_string())
        .cause(format!(
            "{}({key}=...) takes {expected}, as in Keras",
            self.type_name
        ))
        .fix(format!("set '{key}' to {expected}"))
    }

    /// An `invalid_spec` diagnosis: the required argument `key` is absent.
    pub fn missing(&self, key: &str, expected: &str) -> Diagnosis {
        Diagnosis::new(
            Kind::InvalidSpec,
            format!("{} needs the argument '{key}'", self.type_name),
        )
        .at(&self.layer, &self.type_name)
        .expected(expected.to_string())
        .cause(format!(
            "'{key}' has no default in Keras's {}",
            self.type_name
        ))
        .fix(format!("add {key} = <{expected}> to the layer"))
    }

    fn required<T>(&self, key: &str, expected: &str, v: Option<T>) -> Result<T, Diagnosis> {
        v.ok_or_else(|| self.missing(key, expected))
    }

    /// A positive integer.
    pub fn positive(&mut self, key: &str, default: Option<usize>) -> Result<usize, Diagnosis> {
        match self.take(key) {
            None => self.required(key, "a positive integer", default),
            Some(v) => as_positive(&v).ok_or_else(|| {
                self.error(key, &format!("a positive integer (at most {MAX_DIM})"), &v)
            }),
        }
    }

    /// A non-negative integer.
    pub fn count(&mut self, key: &str, default: usize) -> Result<usize, Diagnosis> {
        match self.take(key) {
            None => Ok(default),
            Some(v) => as_size(&v).ok_or_else(|| self.error(key, "a non-negative integer", &v)),
        }
    }

    /// An integer or a tuple of `n` positive integers (Keras's `standardize_tuple`).
    pub fn tuple(
        &mut self,
        key: &str,
        n: usize,
        default: Option<usize>,
    ) -> Result<Vec<usize>, Diagnosis> {
        match self.take(key) {
            None => Ok(vec![self.required(key, &tuple_desc(n), default)?; n]),
            Some(v) => self.parse_tuple(key, n, &v),
        }
    }

    /// Like [`Args::tuple`], `None` when absent or null.
    pub fn opt_tuple(&mut self, key: &str, n: usize) -> Result<Option<Vec<usize>>, Diagnosis> {
        match self.take(key) {
            None => Ok(None),
            Some(v) => self.parse_tuple(key, n, &v).map(Some),
        }
    }

    /// Like [`Args::opt_tuple`], with zeros allowed (Conv*Transpose's `output_padding`).
    pub fn opt_counts(&mut self, key: &str, n: usize) -> Result<Option<Vec<usize>>, Diagnosis> {
        match self.take(key) {
            None => Ok(None),
            Some(v) => self
                .parse_items(key, n, &v, 0, "a non-negative integer or a tuple of them")
                .map(Some),
        }
    }

    fn parse_tuple(&self, key: &str, n: usize, v: &Value) -> Result<Vec<usize>, Diagnosis> {
        self.parse_items(key, n, v, 1, &tuple_desc(n))
    }

    fn parse_items(
        &self,
        key: &str,
        n: usize,
        v: &Value,
        min: u64,
        desc: &str,
    ) -> Result<Vec<usize>, Diagnosis> {
        let err = || self.error(key, desc, v);
        let item = |x: &Value| as_size(x).filter(|&x| x as u64 >= min);
        if let Some(x) = item(v) {
            return Ok(vec![x; n]);
        }
        let items = v.as_array().ok_or_else(err)?;
        if items.len() != n {
            return Err(err());
        }
        items.iter().map(|x| item(x).ok_or_else(err)).collect()
    }

    /// `padding`/`cropping` of ZeroPadding and Cropping: an integer, a tuple of `n` integers
    /// (symmetric per axis), or a tuple of `n` (before, after) pairs. 1-D layers also take one pair.
    pub fn pairs(
        &mut self,
        key: &str,
        n: usize,
        default: usize,
    ) -> Result<Vec<(usize, usize)>, Diagnosis> {
        let v = match self.take(key) {
            None => return Ok(vec![(default, default); n]),
            Some(v) => v,
        };
        let expected = if n == 1 {
            "an integer or a pair (before, after)".to_string()
        } else {
            format!("an integer, a tuple of {n} integers, or {n} pairs (before, after)")
        };
        let err = || self.error(key, &expected, &v);
        let nonneg = as_size;
        if let Some(x) = nonneg(&v) {
            return Ok(vec![(x, x); n]);
        }
        let items = v.as_array().ok_or_else(err)?;
        if n == 1 {
            // A 1-D layer takes one (before, after) pair, not a tuple of pairs.
            return match items.as_slice() {
                [a, b] => Ok(vec![(
                    nonneg(a).ok_or_else(err)?,
                    nonneg(b).ok_or_else(err)?,
                )]),
                _ => Err(err()),
            };
        }
        if items.len() != n {
            return Err(err());
        }
        items
            .iter()
            .map(|item| {
                if let Some(x) = nonneg(item) {
                    return Ok((x, x));
                }
                match item.as_array().map(|p| p.as_slice()) {
                    Some([a, b]) => Ok((nonneg(a).ok_or_else(err)?, nonneg(b).ok_or_else(err)?)),
                    _ => Err(err()),
                }
            })
            .collect()
    }

    /// An integer, or `default` when absent.
    pub fn int(&mut self, key: &str, default: i64) -> Result<i64, Diagnosis> {
        match self.take(key) {
            None => Ok(default),
            Some(v) => v.as_i64().ok_or_else(|| self.error(key, "an integer", &v)),
        }
    }

    /// An integer or a list of integers (LayerNormalization's `axis`).
    pub fn int_list(&mut self, key: &str, default: &[i64]) -> Result<Vec<i64>, Diagnosis> {
        match self.take(key) {
            None => Ok(default.to_vec()),
            Some(v) => {
                if let Some(x) = v.as_i64() {
                    return Ok(vec![x]);
                }
                let err = || self.error(key, "an integer or a list of integers", &v);
                let items = v.as_array().ok_or_else(err)?;
                items.iter().map(|x| x.as_i64().ok_or_else(err)).collect()
            }
        }
    }

    /// A required list of integers (Reshape's `target_shape`, Permute's `dims`).
    pub fn required_int_list(&mut self, key: &str, expected: &str) -> Result<Vec<i64>, Diagnosis> {
        let v = match self.take(key) {
            None => return Err(self.missing(key, expected)),
            Some(v) => v,
        };
        let err = || self.error(key, expected, &v);
        let items = v.as_array().ok_or_else(err)?;
        items.iter().map(|x| x.as_i64().ok_or_else(err)).collect()
    }

    /// A flag, or `default` when absent. Keras reads flags by Python truth: null and 0 are
    /// false, other numbers true. Of strings only "true" is taken: Keras would read any
    /// non-empty string, "false" included, as true, which is never what a spec means.
    pub fn bool(&mut self, key: &str, default: bool) -> Result<bool, Diagnosis> {
        let v = match self.take_raw(key) {
            None => return Ok(default),
            Some(v) => v,
        };
        match &v {
            Value::Null => Ok(false),
            Value::Bool(b) => Ok(*b),
            Value::Number(n) => Ok(n.as_f64().is_some_and(|x| x != 0.0)),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
            _ => {
                let mut d = self.error(key, "true or false", &v);
                if v.is_string() {
                    d.cause = format!(
                        "Keras reads every non-empty string as True, so {v} would silently mean true"
                    );
                    d.fix = format!("write {key} = true or {key} = false, without quotes");
                }
                Err(d)
            }
        }
    }

    /// A number, or `default` when absent. An explicit null is refused: Keras turns these
    /// arguments into floats (`float(None)` raises) or computes with them.
    pub fn float(&mut self, key: &str, default: f64) -> Result<f64, Diagnosis> {
        match self.take_raw(key) {
            None => Ok(default),
            Some(v) => v.as_f64().ok_or_else(|| self.error(key, "a number", &v)),
        }
    }

    /// A number of at least 0, or `default` when absent (ReLU's slope and threshold).
    pub fn non_negative(&mut self, key: &str, default: f64) -> Result<f64, Diagnosis> {
        self.bounded(key, Some(default), 0.0, f64::INFINITY, "a number ≥ 0")
    }

    /// A required number in [0, 1]: Dropout's `rate`, GaussianNoise's `stddev`.
    pub fn fraction(&mut self, key: &str) -> Result<f64, Diagnosis> {
        self.bounded(key, None, 0.0, 1.0, "a number between 0 and 1")
    }

    fn bounded(
        &mut self,
        key: &str,
        default: Option<f64>,
        lo: f64,
        hi: f64,
        expected: &str,
    ) -> Result<f64, Diagnosis> {
        let v = match self.take_raw(key) {
            None => return self.required(key, expected, default),
            Some(v) => v,
        };
        v.as_f64()
            .filter(|x| (lo..=hi).contains(x))
            .ok_or_else(|| self.error(key, expected, &v))
    }

    /// One of `options`, compared case-insensitively as Keras does for padding and data
    /// formats of convolutions; returns the canonical spelling.
    pub fn choice(
        &mut self,
        key: &str,
        options: &[&'static str],
        default: &'static str,
    ) -> Result<&'static str, Diagnosis> {
        self.pick(key, options, default, str::eq_ignore_ascii_case)
    }

    /// One of `options`, spelled exactly (pooling's `padding`: Keras passes it on unchanged
    /// and the backend knows only the lower-case names).
    pub fn exact_choice(
        &mut self,
        key: &str,
        options: &[&'static str],
        default: &'static str,
    ) -> Result<&'static str, Diagnosis> {
        self.pick(key, options, default, |a, b| a == b)
    }

    fn pick(
        &mut self,
        key: &str,
        options: &[&'static str],
        default: &'static str,
        same: impl Fn(&str, &str) -> bool,
    ) -> Result<&'static str, Diagnosis> {
        let v = match self.take(key) {
            None => return Ok(default),
            Some(v) => v,
        };
        let expected = options
            .iter()
            .map(|o| format!("'{o}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let s = v
            .as_str()
            .ok_or_else(|| self.error(key, &format!("one of {expected}"), &v))?;
        options.iter().find(|o| same(o, s)).copied().ok_or_else(|| {
            let mut d = self.error(key, &format!("one of {expected}"), &v);
            let near = options
                .iter()
                .find(|o| o.eq_ignore_ascii_case(s))
                .copied()
                .or_else(|| closest(s, options.iter().copied()));
            if let Some(c) = near {
                d.fix = format!("did you mean '{c}'? Set '{key}' to one of {expected}");
            }
            d
        })
    }

    /// Rejects any argument that was neither read nor listed in `ignored` (arguments that do not
    /// change shapes: initializers, regularizers, ...).
    pub fn finish(&mut self, ignored: &[&str]) -> Result<(), Diagnosis> {
        for k in BASE_ARGS.iter().chain(ignored) {
            if let Some(v) = self.map.remove(*k) {
                self.check_identifier(k, &v)?;
            }
        }
        let Some((key, value)) = self.map.iter().next() else {
            return Ok(());
        };
        let accepted: Vec<&str> = self
            .read
            .iter()
            .map(String::as_str)
            .chain(ignored.iter().copied())
            .collect();
        let hint = match closest(key, accepted.iter().copied()) {
            Some(c) => format!("did you mean '{c}'? "),
            None => String::new(),
        };
        Err(Diagnosis::new(
            Kind::InvalidSpec,
            format!("{} has no argument '{key}'", self.type_name),
        )
        .at(&self.layer, &self.type_name)
        .received(format!("{key} = {value}"))
        .expected(format!("one of: {}", accepted.join(", ")))
        .cause(format!("Keras's {} does not take '{key}'", self.type_name))
        .fix(format!(
            "{hint}remove '{key}' or rename it to an accepted argument"
        )))
    }
}

impl Args {
    /// An initializer, regularizer or constraint argument must name what Keras's registry
    /// resolves, spelled as Keras spells it.
    fn check_identifier(&self, key: &str, v: &Value) -> Result<(), Diagnosis> {
        let Some(registry) = identifiers::registry_of(key) else {
            return Ok(());
        };
        let Err(name) = registry.resolves(v) else {
            return Ok(());
        };
        let kind = registry.kind;
        let mut d = self.error(
            key,
            &format!("a Keras {kind} name, null, or a serialized {kind}"),
            v,
        );
        d.cause = format!(
            "Keras refuses it: \"Could not interpret {kind} identifier: {}\"",
            name.as_deref().unwrap_or("...")
        );
        let names = registry.names.iter().copied();
        let near = name.as_deref().and_then(|n| {
            registry
                .names
                .iter()
                .find(|c| c.eq_ignore_ascii_case(n) || c.replace('_', "").eq_ignore_ascii_case(n))
                .copied()
                .or_else(|| closest(n, names))
        });
        d.fix = match near {
            Some(c) => format!("did you mean '{c}'? Keras's {kind} names are case-sensitive"),
            None => format!("use one of: {}", registry.names.join(", ")),
        };
        Err(d)
    }
}

fn as_positive(v: &Value) -> Option<usize> {
    as_size(v).filter(|&x| x > 0)
}

/// A non-negative integer no larger than [`MAX_DIM`].
fn as_size(v: &Value) -> Option<usize> {
    v.as_u64()
        .filter(|&x| x <= MAX_DIM as u64)
        .map(|x| x as usize)
}

fn tuple_desc(n: usize) -> String {
    if n == 1 {
        format!("a positive integer (at most {MAX_DIM})")
    } else {
        format!("a positive integer or a tuple of {n} positive integers (at most {MAX_DIM})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(v: Value) -> Args {
        Args::new("conv2d", "Conv2D", v.as_object().unwrap().clone())
    }

    #[test]
    fn tuples_accept_int_or_list() {
        let mut a = args(json!({"kernel_size": 3, "strides": [2, 1]}));
        assert_eq!(a.tuple("kernel_size", 2, None).unwrap(), vec![3, 3]);
        assert_eq!(a.tuple("strides", 2, Some(1)).unwrap(), vec![2, 1]);
        assert_eq!(a.tuple("dilation_rate", 2, Some(1)).unwrap(), vec![1, 1]);
        a.finish(&[]).unwrap();
    }

    #[test]
    fn bad_tuple_names_argument_and_expected() {
        let mut a = args(json!({"kernel_size": [3, 3, 3]}));
        let e = a.tuple("kernel_size", 2, None).unwrap_err();
        assert_eq!(e.kind, Kind::InvalidSpec);
        assert!(e.message().contains("'kernel_size'"), "{}", e.message());
        assert!(e.message().contains("tuple of 2 positive integers"));
    }

    #[test]
    fn padding_is_case_insensitive_and_suggests() {
        let mut a = args(json!({"padding": "SAME", "data_format": "channel_last"}));
        assert_eq!(
            a.choice("padding", &["valid", "same"], "valid").unwrap(),
            "same"
        );
        let e = a
            .choice(
                "data_format",
                &["channels_last", "channels_first"],
                "channels_last",
            )
            .unwrap_err();
        assert!(e.fix.contains("did you mean 'channels_last'"), "{}", e.fix);
    }

    #[test]
    fn unknown_argument_is_named_with_suggestion() {
        let mut a = args(json!({"filters": 3, "kernel_sise": 3}));
        a.positive("filters", None).unwrap();
        a.tuple("kernel_size", 2, Some(1)).unwrap();
        let e = a.finish(&["kernel_initializer"]).unwrap_err();
        assert!(e.title.contains("'kernel_sise'"));
        assert!(e.fix.contains("did you mean 'kernel_size'"));
    }

    #[test]
    fn pairs_forms() {
        let mut a = args(json!({"p1": [1, 2], "p2": [[1, 2], [3, 4]], "p3": [1, 2], "p4": 2}));
        assert_eq!(a.pairs("p1", 1, 1).unwrap(), vec![(1, 2)]);
        assert_eq!(a.pairs("p2", 2, 1).unwrap(), vec![(1, 2), (3, 4)]);
        assert_eq!(a.pairs("p3", 2, 1).unwrap(), vec![(1, 1), (2, 2)]);
        assert_eq!(a.pairs("p4", 2, 1).unwrap(), vec![(2, 2), (2, 2)]);
    }
}
