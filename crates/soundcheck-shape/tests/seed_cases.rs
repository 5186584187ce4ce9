//! Every case recorded from real Keras runs in `../shared/cases/` (copied to
//! `tests/fixtures/seed_cases.jsonl`): same shapes and parameter counts where Keras accepts the
//! model, the right diagnosis where it does not, and for zero-length outputs Keras lets through.

use serde_json::Value;
use soundcheck_shape::feed::check_feed;
use soundcheck_shape::{Diagnosis, Kind, Model, ModelSpec};

fn cases() -> Vec<Value> {
    let text = include_str!("fixtures/seed_cases.jsonl");
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn case(id: &str) -> Value {
    cases()
        .into_iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no case {id}"))
}

fn model(c: &Value) -> Model {
    let spec = ModelSpec::from_value(&c["model"]).unwrap_or_else(|e| panic!("{}: {e}", c["id"]));
    Model::from_spec(&spec).unwrap_or_else(|e| panic!("{}: {e}", c["id"]))
}

fn feed_of(c: &Value) -> Vec<usize> {
    c["feed_shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect()
}

/// The diagnosis soundcheck gives a case: from building, or from feeding its array.
fn diagnosis(c: &Value) -> Diagnosis {
    let m = model(c);
    let report = m.check();
    if let Some(e) = report.error {
        return e;
    }
    check_feed(&m, &feed_of(c)).expect_err("expected a feed diagnosis")
}

#[test]
fn the_shared_copy_is_current() {
    let shared = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/cases/seed_cases.jsonl"
    );
    if let Ok(text) = std::fs::read_to_string(shared) {
        assert_eq!(
            text,
            include_str!("fixtures/seed_cases.jsonl"),
            "copy ../shared/cases/seed_cases.jsonl to tests/fixtures/"
        );
    }
}

#[test]
fn keras_layers_shapes_and_params_match() {
    let mut checked = 0;
    for c in cases() {
        let id = c["id"].as_str().unwrap();
        let e = &c["expected"];
        let Some(expected_layers) = e["layers"].as_array() else {
            continue;
        };
        let m = model(&c);
        let report = m.infer();
        if e["ok"] == true || e["stage"] == "predict" {
            assert!(report.ok(), "{id}: {:?}", report.error);
            assert_eq!(
                report.total_params(),
                e["total_params"].as_u64().unwrap(),
                "{id}"
            );
            assert_eq!(
                report.trainable_params(),
                e["trainable_params"].as_u64().unwrap(),
                "{id}"
            );
            assert_eq!(
                report.non_trainable_params(),
                e["non_trainable_params"].as_u64().unwrap(),
                "{id}"
            );
        }
        for (got, want) in report.layers.iter().zip(expected_layers) {
            assert_eq!(got.name, want["name"].as_str().unwrap(), "{id}");
            assert_eq!(
                got.output_shape.to_json_with_batch(),
                want["output_shape"],
                "{id} {}",
                got.name
            );
            assert_eq!(
                got.params(),
                want["params"].as_u64().unwrap(),
                "{id} {}",
                got.name
            );
        }
        checked += 1;
    }
    assert!(
        checked >= 20,
        "only {checked} cases carried layer expectations"
    );
}

#[test]
fn fitting_feeds_predict_keras_shapes() {
    for c in cases() {
        let id = c["id"].as_str().unwrap();
        if c["category"] == "build" || c["expected"]["ok"] != true {
            continue;
        }
        let m = model(&c);
        let feed = feed_of(&c);
        let want = &c["expected"]["predict_output_shapes"];
        match check_feed(&m, &feed) {
            Ok(outs) => assert_eq!(serde_json::json!(outs), *want, "{id}"),
            Err(d) => {
                // Keras 3 repairs a missing trailing channel axis; soundcheck still reports it,
                // and says what Keras returns.
                assert_eq!(d.kind, Kind::MissingChannelAxis, "{id}: {d}");
                let shape = want[0]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                assert!(
                    d.notes[0].contains(&format!("Keras runs it and returns ({shape})")),
                    "{id}: {:?}",
                    d.notes
                );
            }
        }
    }
}

#[test]
fn every_rejected_case_gets_the_right_kind() {
    let kinds = [
        ("seed-conv2d-513x25-feed-flat-2584", Kind::FlattenedInput),
        ("seed-resmask-64-no-projection", Kind::MergeMismatch),
        ("seed-convbank-res-broken", Kind::MergeMismatch),
        (
            "seed-reshape-2x131x131-channels-first-mistake",
            Kind::ChannelsOrder,
        ),
        ("seed-conv1d-pool-stack-L73-fails", Kind::NegativeDimension),
        ("seed-conv1d-pool-stack-L105-fails", Kind::NegativeDimension),
        (
            "seed-timedistributed-conv1d-on-3d",
            Kind::MissingChannelAxis,
        ),
        ("seed-lstm-on-2d", Kind::RankMismatch),
        ("seed-conv1d-kernel15-on-10", Kind::NegativeDimension),
        ("seed-conv2d-on-3d-input", Kind::RankMismatch),
        ("seed-conv2d-20x10x1-feed-flat-200", Kind::FlattenedInput),
        ("seed-conv2d-20x10x1-feed-100x20x1", Kind::FeedMismatch),
        ("seed-conv1d-20x1-feed-100x20", Kind::MissingChannelAxis),
        (
            "seed-conv1d-20x1-functional-feed-100x20",
            Kind::MissingChannelAxis,
        ),
    ];
    for c in cases() {
        let id = c["id"].as_str().unwrap();
        let keras_rejects = c["expected"]["ok"] == false;
        let listed = kinds.iter().find(|(k, _)| *k == id);
        assert!(
            !keras_rejects || listed.is_some(),
            "{id} is rejected by Keras but has no expected kind here"
        );
        if let Some((_, kind)) = listed {
            let d = diagnosis(&c);
            assert_eq!(d.kind, *kind, "{id}: {d}");
            if keras_rejects {
                if let Some(layer) = c["expected"]["error_layer"].as_str() {
                    if c["expected"]["stage"] == "build" {
                        assert_eq!(d.layer.as_deref(), Some(layer), "{id}");
                    }
                }
            }
            assert!(
                !d.fix.is_empty() && d.received.is_some() && d.expected.is_some(),
                "{id}: {d:?}"
            );
        }
    }
}

fn show(id: &str) -> Diagnosis {
    let d = diagnosis(&case(id));
    eprintln!("{}", d.render());
    d
}

#[test]
fn lstm_on_2d_names_the_missing_time_axis() {
    let d = show("seed-lstm-on-2d");
    assert_eq!(d.received.as_deref(), Some("(None, 100)"));
    assert_eq!(d.expected.as_deref(), Some("(batch, timesteps, features)"));
    assert!(d.cause.contains("no time axis"));
    assert!(d.fix.contains("Reshape((100, 1))") && d.fix.contains("Reshape((1, 100))"));
}

#[test]
fn flattened_spectrogram_says_the_frequency_axis_was_lost() {
    let d = show("seed-conv2d-513x25-feed-flat-2584");
    assert!(d.cause.contains("2584 ≠ 513·25·1 = 12825"), "{}", d.cause);
    assert!(d.cause.contains("513 frequency bins"));
    assert!(d.fix.contains("(n_patches, 513, 25, 1)"), "{}", d.fix);
    assert!(d.notes[0].contains("Keras raises"), "{:?}", d.notes);
}

#[test]
fn flattened_with_matching_count_gives_the_exact_reshape() {
    let d = show("seed-conv2d-20x10x1-feed-flat-200");
    assert!(
        d.fix
            .contains("x.reshape((-1, 20, 10, 1)) gives (100, 20, 10, 1)"),
        "{}",
        d.fix
    );
}

#[test]
fn missing_channel_axis_on_feed_says_keras_repairs_it() {
    let d = show("seed-conv1d-20x1-feed-100x20");
    assert!(
        d.fix.contains("x[..., np.newaxis]") && d.fix.contains("(100, 20, 1)"),
        "{}",
        d.fix
    );
    assert!(
        d.notes[0].contains("Keras 3 silently adds a trailing size-1 axis"),
        "{:?}",
        d.notes
    );
}

#[test]
fn partial_feed_names_the_missing_axis_and_keras_failure() {
    let d = show("seed-conv2d-20x10x1-feed-100x20x1");
    assert!(
        d.cause.contains("axis 2 (size 10) is missing"),
        "{}",
        d.cause
    );
    assert!(
        d.notes[0].contains("(100, 20, 1, 1)") && d.notes[0].contains("'conv2d'"),
        "{:?}",
        d.notes
    );
}

#[test]
fn strided_residual_gets_the_projection() {
    let d = show("seed-convbank-res-broken");
    assert!(d
        .received
        .as_deref()
        .unwrap()
        .contains("(None, 400, 512) from 'conv1d_9'"));
    assert!(
        d.fix.contains("Conv1D(512, 1, strides=2) to 'concatenate'"),
        "{}",
        d.fix
    );
    assert!(
        d.cause.contains("axis 1: 800 vs 400") && d.cause.contains("axis 2: 8 vs 512"),
        "{}",
        d.cause
    );
}

#[test]
fn widened_residual_gets_the_projection() {
    let d = show("seed-resmask-64-no-projection");
    assert!(d.fix.contains("Conv2D(64, 1)"), "{}", d.fix);
}

#[test]
fn channels_first_reshape_names_both_readings() {
    let d = show("seed-reshape-2x131x131-channels-first-mistake");
    assert!(d.cause.contains("2×131 with 131 channels"), "{}", d.cause);
    assert!(d.cause.contains("131×131 with 2 channels"), "{}", d.cause);
    assert!(d.fix.contains("Reshape((131, 131, 2))"), "{}", d.fix);
    assert!(d.fix.contains("Permute((2, 3, 1))"), "{}", d.fix);
    assert!(d.fix.contains("data_format='channels_first'"), "{}", d.fix);
}

#[test]
fn pool_stack_walks_back_to_the_smallest_input() {
    let d = show("seed-conv1d-pool-stack-L105-fails");
    assert_eq!(d.layer.as_deref(), Some("max_pooling1d_2"));
    assert!(
        d.notes
            .iter()
            .any(|n| n.contains("106 on axis 1 (now 105)")),
        "{:?}",
        d.notes
    );
    assert!(
        d.notes
            .iter()
            .any(|n| n.contains("conv1d_2 (None, 3, 32) → 'max_pooling1d_2' fails")),
        "{:?}",
        d.notes
    );
    let d73 = show("seed-conv1d-pool-stack-L73-fails");
    assert!(
        d73.notes
            .iter()
            .any(|n| n.contains("106 on axis 1 (now 73)")),
        "{:?}",
        d73.notes
    );
}

#[test]
fn min_input_finds_106() {
    let m = model(&case("seed-conv1d-pool-stack-L106-smallest-ok"));
    let mins = m.min_input();
    assert_eq!(mins[0].min, Some(106));
    assert_eq!(mins[0].limited_by.as_deref(), Some("max_pooling1d_2"));
    assert_eq!(mins[1].min, Some(1));
}

#[test]
fn kernel_longer_than_sequence() {
    let d = show("seed-conv1d-kernel15-on-10");
    assert!(
        d.title
            .contains("kernel_size 15 needs at least 15 on axis 1 (steps) but only 10 are left"),
        "{}",
        d.title
    );
    assert!(
        d.fix.contains("padding='same'") && d.fix.contains("kernel_size ≤ 10"),
        "{}",
        d.fix
    );
}

#[test]
fn conv2d_on_a_sequence_suggests_conv1d() {
    let d = show("seed-conv2d-on-3d-input");
    assert!(d.title.contains("expects ndim=4, found ndim=3"));
    assert!(d.fix.contains("Conv1D(32, 3)"), "{}", d.fix);
}

#[test]
fn timedistributed_conv1d_on_frames() {
    let d = show("seed-timedistributed-conv1d-on-3d");
    assert_eq!(d.layer.as_deref(), Some("time_distributed"));
    assert!(d.fix.contains("input_shape=(100, 64, 1)"), "{}", d.fix);
    assert!(
        d.fix.contains("Conv1D without TimeDistributed"),
        "{}",
        d.fix
    );
}
