//! Property tests on stable Rust: spec text of any shape, and valid specs with arguments
//! replaced by random values, must give a spec or a diagnosis, never a panic. CI runs the
//! default 256 cases per property; `PROPTEST_CASES=100000 cargo test -p soundcheck-shape --test
//! fuzz` runs a long session.

use proptest::prelude::*;
use serde_json::{json, Value};
use soundcheck_shape::{check_spec, keras, ModelSpec};

/// Parses and checks: the whole path a user's spec takes, results ignored.
fn checks(spec: Result<ModelSpec, soundcheck_shape::Diagnosis>) {
    if let Ok(spec) = spec {
        let _ = check_spec(&spec);
    }
}

/// JSON values of any shape, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e12f64..1e12).prop_map(Value::from),
        "[a-zA-Z_ ]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const TYPES: &[&str] = &[
    "Dense",
    "Conv1D",
    "Conv2D",
    "Conv2DTranspose",
    "SeparableConv2D",
    "DepthwiseConv1D",
    "MaxPooling2D",
    "AveragePooling1D",
    "GlobalAveragePooling2D",
    "LSTM",
    "GRU",
    "Bidirectional",
    "TimeDistributed",
    "Reshape",
    "Permute",
    "Flatten",
    "Concatenate",
    "Add",
    "BatchNormalization",
    "LayerNormalization",
    "ZeroPadding2D",
    "Cropping1D",
    "UpSampling2D",
    "Embedding",
    "Dropout",
    "Masking",
    "ReLU",
    "Softmax",
    "RepeatVector",
];

const KEYS: &[&str] = &[
    "units",
    "filters",
    "kernel_size",
    "strides",
    "padding",
    "dilation_rate",
    "pool_size",
    "target_shape",
    "dims",
    "axis",
    "rate",
    "activation",
    "return_sequences",
    "layer",
    "size",
    "cropping",
    "groups",
    "n",
    "input_dim",
    "output_dim",
    "data_format",
    "merge_mode",
];

proptest! {
    #[test]
    fn any_text_is_a_spec_or_a_diagnosis(text in "\\PC{0,400}") {
        checks(ModelSpec::from_json_str(&text));
        checks(ModelSpec::from_toml_str(&text));
    }

    #[test]
    fn any_json_value_is_a_spec_or_a_diagnosis(v in any_json()) {
        checks(ModelSpec::from_value(&v));
        if keras::is_keras_config(&v) {
            checks(keras::from_keras(&v));
        }
    }

    #[test]
    fn layers_with_random_arguments_are_checked_without_panics(
        shape in prop::collection::vec(prop_oneof![Just(Value::Null), (0i64..70).prop_map(Value::from)], 0..6),
        layers in prop::collection::vec(
            (prop::sample::select(TYPES), prop::collection::vec((prop::sample::select(KEYS), any_json()), 0..4)),
            1..5,
        ),
    ) {
        let layers: Vec<Value> = layers
            .into_iter()
            .map(|(t, args)| {
                let mut o = json!({ "type": t });
                for (k, v) in args {
                    o[k] = v;
                }
                o
            })
            .collect();
        checks(ModelSpec::from_value(&json!({ "input_shape": shape, "layers": layers })));
    }
}
