//! The trainer learns, stops at a bad loss with the epoch and batch, checks the data before the
//! first step, and resumes a killed run to the very weights of an uninterrupted one.

use std::ops::ControlFlow;
use std::sync::Arc;

use burn::tensor::Device;
use soundcheck_data::{ArrayDataset, Dataset};
use soundcheck_io::SplitMix64;
use soundcheck_nn::train::{CHECKPOINT, LOG_CSV, WEIGHTS};
use soundcheck_nn::{
    read_weights, Event, Loss, Network, NnError, OptimizerKind, TrainConfig, Trainer,
};
use soundcheck_shape::ModelSpec;

fn spec(toml: &str) -> ModelSpec {
    ModelSpec::from_toml_str(toml).unwrap()
}

fn quiet(_: Event) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("sc-train-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// y = x·A + b for a fixed A (4×3) and b: only learning the map brings the MSE near zero (it
/// starts near the targets' mean square, ≈ 2).
fn linear_data(n: usize) -> Arc<dyn Dataset> {
    let a = [
        [1.0, -2.0, 0.5],
        [0.0, 1.5, -1.0],
        [2.0, 0.0, 0.25],
        [-0.5, 1.0, 1.0],
    ];
    let b = [0.3, -0.2, 0.1];
    let mut rng = SplitMix64::new(9);
    let x: Vec<f32> = (0..n * 4)
        .map(|_| (rng.uniform() * 2.0 - 1.0) as f32)
        .collect();
    let y: Vec<f32> = (0..n)
        .flat_map(|i| {
            let xi = &x[i * 4..i * 4 + 4];
            (0..3).map(move |j| b[j] + (0..4).map(|k| xi[k] * a[k][j]).sum::<f32>())
        })
        .collect();
    Arc::new(ArrayDataset::new(x, &[n, 4], y, &[n, 3]).unwrap())
}

#[test]
fn a_dense_layer_learns_a_linear_map() {
    let spec = spec("input_shape = [4]\n[[layers]]\ntype = \"Dense\"\nunits = 3\n");
    let mut net = Network::initialized(&spec, 1, &Device::flex()).unwrap();
    let cfg = TrainConfig {
        epochs: 40,
        batch_size: 16,
        learning_rate: 0.05,
        validation_split: 0.2,
        ..Default::default()
    };
    let out = Trainer::new(&mut net, cfg)
        .fit(linear_data(256), None, &mut quiet)
        .unwrap();
    let (first, last) = (out.initial_loss.unwrap(), out.history.last().unwrap());
    assert!(first > 0.5, "initial loss {first}");
    assert!(
        last.loss < 1e-3 && last.val_loss.unwrap() < 1e-3,
        "{last:?}"
    );
    // The learnt kernel is A itself.
    let w = net.variables().to_weights();
    let k = &w["dense/kernel"].1;
    assert!(
        (k[0] - 1.0).abs() < 0.02 && (k[1] + 2.0).abs() < 0.02,
        "{k:?}"
    );
}

/// Two classes of 12-step, 3-feature sequences: a rising or a falling ramp under noise.
fn ramp_data(n: usize) -> Arc<dyn Dataset> {
    let mut rng = SplitMix64::new(4);
    let (t, f) = (12, 3);
    let mut x = Vec::with_capacity(n * t * f);
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let class = i % 2;
        for s in 0..t {
            let ramp = (s as f64 / t as f64 - 0.5) * if class == 0 { 2.0 } else { -2.0 };
            for _ in 0..f {
                x.push((ramp + 0.3 * rng.normal()) as f32);
            }
        }
        y.push(class as f32);
    }
    Arc::new(ArrayDataset::new(x, &[n, t, f], y, &[n]).unwrap())
}

#[test]
fn an_lstm_separates_two_classes() {
    let spec = spec(
        "input_shape = [12, 3]\n[[layers]]\ntype = \"LSTM\"\nunits = 8\n\
         [[layers]]\ntype = \"Dense\"\nunits = 2\nactivation = \"softmax\"\n",
    );
    let mut net = Network::initialized(&spec, 2, &Device::flex()).unwrap();
    let cfg = TrainConfig {
        loss: Loss::SparseCategoricalCrossentropy,
        epochs: 12,
        batch_size: 16,
        learning_rate: 0.02,
        validation_split: 0.25,
        ..Default::default()
    };
    let out = Trainer::new(&mut net, cfg)
        .fit(ramp_data(160), None, &mut quiet)
        .unwrap();
    let last = out.history.last().unwrap();
    assert!(last.val_accuracy.unwrap() >= 0.95, "{last:?}");
    assert!(last.loss < 0.5 * out.initial_loss.unwrap(), "{out:?}");
}

const BN_DROPOUT: &str = "input_shape = [4]\n\
    [[layers]]\ntype = \"Dense\"\nunits = 8\n\
    [[layers]]\ntype = \"BatchNormalization\"\n\
    [[layers]]\ntype = \"Activation\"\nactivation = \"relu\"\n\
    [[layers]]\ntype = \"Dropout\"\nrate = 0.25\n\
    [[layers]]\ntype = \"Dense\"\nunits = 3\n";

fn resumable_cfg() -> TrainConfig {
    TrainConfig {
        epochs: 4,
        batch_size: 16,
        optimizer: OptimizerKind::AdamW {
            weight_decay: 0.004,
        },
        learning_rate: 0.01,
        validation_split: 0.25,
        seed: 11,
        ..Default::default()
    }
}

#[test]
fn a_killed_run_resumes_to_the_weights_of_an_uninterrupted_one() {
    let spec = spec(BN_DROPOUT);
    let data = linear_data(96);
    let device = Device::flex();

    let whole = tmp("whole");
    let mut net = Network::initialized(&spec, 5, &device).unwrap();
    Trainer::new(&mut net, resumable_cfg())
        .fit(data.clone(), Some(&whole), &mut quiet)
        .unwrap();
    let want = read_weights(&whole.join(WEIGHTS)).unwrap();

    // Killed in the middle of epoch 3: the directory keeps the checkpoint of epoch 2.
    let killed = tmp("killed");
    let mut net = Network::initialized(&spec, 5, &device).unwrap();
    let mut stop = |e: Event| match e {
        Event::Batch {
            epoch: 3, batch: 2, ..
        } => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    };
    let out = Trainer::new(&mut net, resumable_cfg())
        .fit(data.clone(), Some(&killed), &mut stop)
        .unwrap();
    assert!(out.interrupted && out.history.len() == 2);
    let log = std::fs::read_to_string(killed.join(LOG_CSV)).unwrap();
    assert_eq!(log.lines().count(), 3, "{log}");

    // A fresh process: new network (other initial weights), state from the checkpoint.
    let mut net = Network::initialized(&spec, 99, &device).unwrap();
    let mut t = Trainer::resume(&mut net, resumable_cfg(), &killed.join(CHECKPOINT)).unwrap();
    assert_eq!(t.epochs_done(), 2);
    let out = t.fit(data, Some(&killed), &mut quiet).unwrap();
    assert_eq!(out.history.len(), 2);
    let got = read_weights(&killed.join(WEIGHTS)).unwrap();
    assert_eq!(got.len(), want.len());
    for (k, (shape, v)) in &want {
        assert_eq!(&got[k].0, shape);
        assert_eq!(&got[k].1, v, "variable {k} differs after resuming");
    }
    assert!(want.contains_key("batch_normalization/moving_mean"));
    // The same log but for the timings (the last column).
    let untimed = |d: &std::path::Path| -> Vec<String> {
        let log = std::fs::read_to_string(d.join(LOG_CSV)).unwrap();
        log.lines()
            .map(|l| l.rsplit_once(',').unwrap().0.to_string())
            .collect()
    };
    assert_eq!(untimed(&killed), untimed(&whole));
    assert_eq!(untimed(&killed).len(), 5);
    for d in [whole, killed] {
        std::fs::remove_dir_all(d).unwrap();
    }
}

#[test]
fn an_infinite_loss_names_the_epoch_and_batch() {
    let spec = spec("input_shape = [2]\n[[layers]]\ntype = \"Dense\"\nunits = 1\n");
    let mut net = Network::initialized(&spec, 1, &Device::flex()).unwrap();
    // Inputs of 1e30: the squared error overflows float32 at once.
    let ds = Arc::new(ArrayDataset::new(vec![1e30; 8], &[4, 2], vec![0.0; 4], &[4, 1]).unwrap());
    let e = Trainer::new(&mut net, TrainConfig::default())
        .fit(ds, None, &mut quiet)
        .unwrap_err();
    assert!(
        matches!(
            e,
            NnError::NonFinite {
                epoch: 1,
                batch: 1,
                ..
            }
        ),
        "{e}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("epoch 1, batch 1") && msg.contains("learning rate"),
        "{msg}"
    );
}

#[test]
fn a_dataset_that_does_not_fit_stops_before_the_first_step() {
    let spec = spec("input_shape = [4]\n[[layers]]\ntype = \"Dense\"\nunits = 3\n");
    let mut net = Network::initialized(&spec, 1, &Device::flex()).unwrap();
    // Class indices with a one-hot loss.
    let ds =
        Arc::new(ArrayDataset::new(vec![0.5; 16], &[4, 4], vec![0., 1., 2., 1.], &[4]).unwrap());
    let cfg = TrainConfig {
        loss: Loss::CategoricalCrossentropy,
        ..Default::default()
    };
    let e = Trainer::new(&mut net, cfg)
        .fit(ds, None, &mut quiet)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("label_mismatch") || e.contains("integer labels"),
        "{e}"
    );
}

#[test]
fn patience_without_validation_data_is_refused() {
    let spec = spec("input_shape = [4]\n[[layers]]\ntype = \"Dense\"\nunits = 3\n");
    let mut net = Network::initialized(&spec, 1, &Device::flex()).unwrap();
    let cfg = TrainConfig {
        patience: Some(3),
        ..Default::default()
    };
    let e = Trainer::new(&mut net, cfg)
        .fit(linear_data(32), None, &mut quiet)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("patience") && e.contains("validation split"),
        "{e}"
    );
}
