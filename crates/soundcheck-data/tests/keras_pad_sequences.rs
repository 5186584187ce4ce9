//! `pad_sequences` equals Keras 3.15.1's `keras.utils.pad_sequences` on sequences of feature
//! vectors (lengths 0 to 6, maxlen 4 and 7, every padding/truncating side, two fill values),
//! exactly: it only moves values. Fixture: `tools/fixtures/keras_pad_sequences.py`.

use serde_json::Value;
use soundcheck_data::sequence::{pad_sequences, Sequence, Side};

#[test]
fn padding_and_truncation_equal_keras() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/pad_sequences.json"
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let seqs: Vec<Sequence> = v["sequences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let rows = s.as_array().unwrap();
            Sequence {
                frames: rows.len(),
                features: 2,
                data: rows
                    .iter()
                    .flat_map(|r| {
                        r.as_array()
                            .unwrap()
                            .iter()
                            .map(|x| x.as_f64().unwrap() as f32)
                    })
                    .collect(),
            }
        })
        .collect();
    let side = |s: &Value| if s == "pre" { Side::Pre } else { Side::Post };
    for c in v["cases"].as_array().unwrap() {
        let got = pad_sequences(
            &seqs,
            c["maxlen"].as_u64().unwrap() as usize,
            side(&c["padding"]),
            side(&c["truncating"]),
            c["value"].as_f64().unwrap() as f32,
        )
        .unwrap();
        let want: Vec<f32> = c["output"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap() as f32)
            .collect();
        assert_eq!(got, want, "case {c}");
    }
}
