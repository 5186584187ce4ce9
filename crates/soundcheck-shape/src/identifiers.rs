//! Keras's registries of initializers, regularizers and constraints: the identifiers
//! `keras.initializers.get` (and its siblings) accept, as names or as serialized `class_name`s.
//! They change no shape, but Keras refuses a model naming one it does not know.

use serde_json::Value;

/// A registry: what it names, and every identifier Keras 3.15.1 resolves in it
/// (`ALL_OBJECTS_DICT`; `tests/fixtures/keras_identifiers.json` records the lists).
pub struct Registry {
    /// `initializer`, `regularizer` or `constraint`.
    pub kind: &'static str,
    /// The accepted identifiers, snake_case names and class names, case as Keras writes them.
    pub names: &'static [&'static str],
}

/// `keras.initializers`.
pub const INITIALIZERS: Registry = Registry {
    kind: "initializer",
    names: &[
        "Constant",
        "GlorotNormal",
        "GlorotUniform",
        "HeNormal",
        "HeUniform",
        "Identity",
        "IdentityInitializer",
        "Initializer",
        "LecunNormal",
        "LecunUniform",
        "Ones",
        "Orthogonal",
        "OrthogonalInitializer",
        "RandomNormal",
        "RandomUniform",
        "STFT",
        "STFTInitializer",
        "TruncatedNormal",
        "VarianceScaling",
        "Zeros",
        "constant",
        "glorot_normal",
        "glorot_uniform",
        "he_normal",
        "he_uniform",
        "identity",
        "initializer",
        "lecun_normal",
        "lecun_uniform",
        "normal",
        "one",
        "ones",
        "orthogonal",
        "random_normal",
        "random_uniform",
        "stft",
        "truncated_normal",
        "uniform",
        "variance_scaling",
        "zero",
        "zeros",
    ],
};

/// `keras.regularizers`.
pub const REGULARIZERS: Registry = Registry {
    kind: "regularizer",
    names: &[
        "L1",
        "L1L2",
        "L2",
        "OrthogonalRegularizer",
        "Regularizer",
        "l1",
        "l1l2",
        "l2",
        "orthogonal_regularizer",
        "regularizer",
    ],
};

/// `keras.constraints`.
pub const CONSTRAINTS: Registry = Registry {
    kind: "constraint",
    names: &[
        "Constraint",
        "MaxNorm",
        "MinMaxNorm",
        "NonNeg",
        "UnitNorm",
        "constraint",
        "max_norm",
        "min_max_norm",
        "non_neg",
        "unit_norm",
    ],
};

/// The registry an argument resolves in, by Keras's naming of its arguments
/// (`kernel_initializer`, `activity_regularizer`, `recurrent_constraint`, ...).
pub fn registry_of(key: &str) -> Option<&'static Registry> {
    [&INITIALIZERS, &REGULARIZERS, &CONSTRAINTS]
        .into_iter()
        .find(|r| key.ends_with(&format!("_{}", r.kind)))
}

impl Registry {
    /// Whether Keras resolves `v`: null (none), a known identifier, or a serialized object
    /// whose `class_name` is known. `Err` carries the identifier it could not resolve.
    pub fn resolves(&self, v: &Value) -> Result<(), Option<String>> {
        let name = match v {
            Value::Null => return Ok(()),
            Value::String(s) => s.as_str(),
            Value::Object(o) => match o.get("class_name").and_then(Value::as_str) {
                Some(c) => c,
                None => return Err(None),
            },
            _ => return Err(None),
        };
        if self.names.contains(&name) {
            Ok(())
        } else {
            Err(Some(name.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_find_their_registry() {
        assert_eq!(
            registry_of("kernel_initializer").unwrap().kind,
            "initializer"
        );
        assert_eq!(
            registry_of("activity_regularizer").unwrap().kind,
            "regularizer"
        );
        assert_eq!(registry_of("gamma_constraint").unwrap().kind, "constraint");
        assert!(registry_of("kernel_size").is_none());
    }

    #[test]
    fn case_and_spelling_count() {
        let ok = |v: Value| INITIALIZERS.resolves(&v).is_ok();
        assert!(ok("glorot_uniform".into()) && ok("GlorotUniform".into()) && ok(Value::Null));
        assert!(!ok("Glorot_Uniform".into()) && !ok(3.into()));
        assert!(ok(
            serde_json::json!({"class_name": "RandomNormal", "config": {}})
        ));
    }
}
