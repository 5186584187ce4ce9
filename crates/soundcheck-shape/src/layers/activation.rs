//! Activations: the `activation` argument of Dense, convolutions and recurrent layers, and the
//! layers that only apply one (Activation, ReLU, LeakyReLU, ELU, Softmax).

use std::fmt;

use serde_json::Value;

use super::{Ctx, Output};
use crate::args::Args;
use crate::diagnosis::{closest, Diagnosis, Kind};
use crate::shape::Shape;

macro_rules! functions {
    ($($name:literal => $variant:ident),* $(,)?) => {
        /// A Keras activation function by its identifier (`keras.activations`), with the
        /// defaults the identifier implies (`leaky_relu`: slope 0.2; `softmax`: last axis).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Function {
            $(
                #[doc = concat!("Keras's `", $name, "`.")]
                $variant
            ),*
        }

        impl Function {
            /// Every canonical identifier, in Keras's order.
            pub const NAMES: &'static [&'static str] = &[$($name),*];

            /// The canonical identifier (`silu` for `swish`).
            pub fn name(self) -> &'static str {
                match self {
                    $(Function::$variant => $name),*
                }
            }

            fn canonical(name: &str) -> Option<Function> {
                match name {
                    $($name => Some(Function::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

functions! {
    "linear" => Linear,
    "relu" => Relu,
    "relu6" => Relu6,
    "leaky_relu" => LeakyRelu,
    "elu" => Elu,
    "selu" => Selu,
    "celu" => Celu,
    "gelu" => Gelu,
    "glu" => Glu,
    "silu" => Silu,
    "mish" => Mish,
    "sigmoid" => Sigmoid,
    "hard_sigmoid" => HardSigmoid,
    "hard_silu" => HardSilu,
    "log_sigmoid" => LogSigmoid,
    "tanh" => Tanh,
    "hard_tanh" => HardTanh,
    "tanh_shrink" => TanhShrink,
    "soft_shrink" => SoftShrink,
    "hard_shrink" => HardShrink,
    "softplus" => Softplus,
    "softsign" => Softsign,
    "softmax" => Softmax,
    "log_softmax" => LogSoftmax,
    "sparsemax" => Sparsemax,
    "sparse_plus" => SparsePlus,
    "sparse_sigmoid" => SparseSigmoid,
    "squareplus" => Squareplus,
    "exponential" => Exponential,
    "threshold" => Threshold,
}

/// Keras's second names for the same functions.
const ALIASES: &[(&str, Function)] = &[
    ("swish", Function::Silu),
    ("hard_swish", Function::HardSilu),
];

impl Function {
    /// Looks an identifier up as Keras spells it, aliases included. Case counts, as in
    /// `keras.activations.get`: `"ReLU"` is refused there.
    pub fn lookup(name: &str) -> Option<Function> {
        Function::canonical(name).or_else(|| {
            ALIASES
                .iter()
                .find(|(alias, _)| *alias == name)
                .map(|&(_, f)| f)
        })
    }

    /// Every identifier Keras accepts, aliases included: the candidates of a did-you-mean.
    pub fn all_names() -> impl Iterator<Item = &'static str> {
        Function::NAMES
            .iter()
            .copied()
            .chain(ALIASES.iter().map(|&(a, _)| a))
    }
}

/// What an activation argument or an activation layer computes, with its parameters.
#[derive(Clone, Debug, PartialEq)]
pub enum Activation {
    /// An identifier (`activation='relu'`, `Activation('tanh')`); absent or null is `linear`.
    Function(Function),
    /// The ReLU layer: `x` from `threshold` up, `negative_slope·(x − threshold)` below, capped
    /// at `max_value`.
    Relu {
        /// The cap (`None`: none).
        max_value: Option<f32>,
        /// The slope below the threshold.
        negative_slope: f32,
        /// Where the slope changes.
        threshold: f32,
    },
    /// The LeakyReLU layer (Keras's default slope 0.3, not the identifier's 0.2).
    LeakyRelu {
        /// The slope below 0.
        negative_slope: f32,
    },
    /// The ELU layer.
    Elu {
        /// The scale of `e^x − 1` below 0.
        alpha: f32,
    },
    /// The Softmax layer, over `axes` (Keras's axis numbering: batch 0, negatives from the end).
    Softmax {
        /// The axes normalised over.
        axes: Vec<i64>,
    },
}

impl Activation {
    /// `activation=None`: the identity.
    pub const LINEAR: Activation = Activation::Function(Function::Linear);

    /// Reads an activation argument whose Keras default is linear.
    pub fn argument(a: &mut Args, key: &str) -> Result<Activation, Diagnosis> {
        Activation::argument_or(a, key, Function::Linear)
    }

    /// Reads an activation argument: absent is `default`; an identifier; null, which Keras
    /// reads as linear whatever the default; or a serialized Keras activation
    /// (`{"class_name": "function", "config": "relu", ...}`).
    pub fn argument_or(
        a: &mut Args,
        key: &str,
        default: Function,
    ) -> Result<Activation, Diagnosis> {
        let v = match a.take_raw(key) {
            None => return Ok(Activation::Function(default)),
            Some(Value::Null) => return Ok(Activation::LINEAR),
            Some(v) => v,
        };
        let name = match &v {
            Value::String(s) => Some(s.as_str()),
            Value::Object(o) => o.get("config").and_then(Value::as_str),
            _ => None,
        };
        if let Some(f) = name.and_then(Function::lookup) {
            return Ok(Activation::Function(f));
        }
        let mut d = a.error(key, "a Keras activation name such as 'relu'", &v);
        let known = Function::all_names().collect::<Vec<_>>().join(", ");
        let lower = name
            .map(str::to_lowercase)
            .filter(|l| Function::lookup(l).is_some());
        if let Some(c) = lower {
            d.cause = format!(
                "Keras's activation identifiers are lower case: it refuses {v} (\"Could not interpret activation function identifier\")"
            );
            d.fix = format!("write '{c}'");
        } else {
            d.fix = match name.and_then(|s| closest(s, Function::all_names())) {
                Some(c) => format!("did you mean '{c}'? Known activations: {known}"),
                None => format!("use one of: {known}"),
            };
        }
        Err(d)
    }

    /// Parses the layers that only apply an activation, by Keras class name.
    pub fn layer(type_name: &str, a: &mut Args) -> Result<Activation, Diagnosis> {
        let layer = match type_name {
            "Activation" => Activation::argument(a, "activation")?,
            // Keras refuses a negative cap, slope or threshold, and a null slope or threshold.
            "ReLU" => {
                let max_value = match a.take("max_value") {
                    None => None,
                    Some(v) => Some(
                        v.as_f64()
                            .filter(|&m| m >= 0.0)
                            .ok_or_else(|| a.error("max_value", "a number ≥ 0 or null", &v))?
                            as f32,
                    ),
                };
                Activation::Relu {
                    max_value,
                    negative_slope: a.non_negative("negative_slope", 0.0)? as f32,
                    threshold: a.non_negative("threshold", 0.0)? as f32,
                }
            }
            // Keras 3 still takes Keras 2's `alpha` for the slope, with a deprecation warning.
            "LeakyReLU" => {
                let legacy = a.non_negative("alpha", 0.3)?;
                Activation::LeakyRelu {
                    negative_slope: a.non_negative("negative_slope", legacy)? as f32,
                }
            }
            "ELU" => Activation::Elu {
                alpha: a.float("alpha", 1.0)? as f32,
            },
            _ => Activation::Softmax {
                axes: a.int_list("axis", &[-1])?,
            },
        };
        a.finish(&[])?;
        Ok(layer)
    }
}

impl Activation {
    /// # Shapes
    /// - input: any shape
    /// - output: the same; Softmax's axes must exist (Keras numbering, batch 0)
    pub fn infer(&self, ctx: &Ctx, x: &Shape) -> Result<Output, Diagnosis> {
        if let Activation::Softmax { axes } = self {
            let ndim = x.ndim() as i64;
            if let Some(&bad) = axes.iter().find(|&&a| a < -ndim || a >= ndim) {
                return Err(ctx
                    .diag(
                        Kind::InvalidSpec,
                        format!("Softmax axis {bad} does not exist for inputs of ndim={ndim}"),
                    )
                    .received(x.to_string())
                    .expected(format!("axes between -{ndim} and {}", ndim - 1))
                    .cause("Keras fails when the layer is called")
                    .fix("normalise over the class axis, usually the last: axis=-1"));
            }
        }
        Ok(Output::new(x.clone(), 0))
    }
}

/// As Keras writes it: `'relu'` for an identifier, `ReLU(max_value=6)` for a layer.
impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Activation::Function(func) => write!(f, "'{}'", func.name()),
            Activation::Relu {
                max_value,
                negative_slope,
                threshold,
            } => {
                let max = max_value.map_or("None".to_string(), |m| m.to_string());
                write!(
                    f,
                    "ReLU(max_value={max}, negative_slope={negative_slope}, threshold={threshold})"
                )
            }
            Activation::LeakyRelu { negative_slope } => {
                write!(f, "LeakyReLU(negative_slope={negative_slope})")
            }
            Activation::Elu { alpha } => write!(f, "ELU(alpha={alpha})"),
            Activation::Softmax { axes } => write!(f, "Softmax(axis={axes:?})"),
        }
    }
}

/// The layer classes [`Activation::layer`] parses.
pub const LAYER_TYPES: &[&str] = &["Activation", "ReLU", "LeakyReLU", "ELU", "Softmax"];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(v: Value) -> Args {
        Args::new("l", "Dense", v.as_object().unwrap().clone())
    }

    #[test]
    fn identifiers_aliases_and_objects() {
        let read =
            |v: Value| Activation::argument(&mut args(json!({ "activation": v })), "activation");
        assert_eq!(
            read(json!("swish")).unwrap(),
            Activation::Function(Function::Silu)
        );
        assert_eq!(read(json!(null)).unwrap(), Activation::LINEAR);
        let object =
            json!({"module": "keras.activations", "class_name": "function", "config": "tanh"});
        assert_eq!(read(object).unwrap(), Activation::Function(Function::Tanh));
        assert_eq!(Function::Silu.name(), "silu");
    }

    #[test]
    fn unknown_activation_rejected_with_suggestion() {
        let e = Activation::argument(&mut args(json!({"activation": "rellu"})), "activation")
            .unwrap_err();
        assert!(e.fix.contains("did you mean 'relu'"), "{}", e.fix);
        let e =
            Activation::argument(&mut args(json!({"activation": 3})), "activation").unwrap_err();
        assert!(e.fix.starts_with("use one of: linear"), "{}", e.fix);
    }

    #[test]
    fn layer_forms_keep_their_arguments() {
        let layer = |t: &str, v: Value| {
            Activation::layer(t, &mut Args::new("l", t, v.as_object().unwrap().clone()))
        };
        assert_eq!(
            layer("LeakyReLU", json!({})).unwrap(),
            Activation::LeakyRelu {
                negative_slope: 0.3
            }
        );
        assert_eq!(
            layer("LeakyReLU", json!({"alpha": 0.1})).unwrap(),
            Activation::LeakyRelu {
                negative_slope: 0.1
            }
        );
        assert_eq!(
            layer("Softmax", json!({"axis": [1, 2]})).unwrap(),
            Activation::Softmax { axes: vec![1, 2] }
        );
        assert_eq!(
            layer("ReLU", json!({"max_value": 6.0})).unwrap(),
            Activation::Relu {
                max_value: Some(6.0),
                negative_slope: 0.0,
                threshold: 0.0
            }
        );
        assert!(layer("ELU", json!({"alpha": "x"})).is_err());
        assert!(layer("LeakyReLU", json!({"negative_slope": -0.1})).is_err());
        assert!(layer("ReLU", json!({"threshold": null})).is_err());
    }

    #[test]
    fn identifiers_are_case_sensitive_as_in_keras() {
        let e = Activation::argument(&mut args(json!({"activation": "ReLU"})), "activation")
            .unwrap_err();
        assert_eq!(e.fix, "write 'relu'");
        assert!(e.cause.contains("lower case"), "{}", e.cause);
        let e = Activation::argument(&mut args(json!({"activation": "Swish"})), "activation")
            .unwrap_err();
        assert_eq!(e.fix, "write 'swish'");
    }
}
