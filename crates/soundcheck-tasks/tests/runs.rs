//! Training runs as a library: a new array run, its resumption, the refusals that keep a user's
//! files safe, and the errors' exit kinds, without spawning the binary.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use soundcheck_nn::Device;
use soundcheck_shape::ModelSpec;
use soundcheck_tasks::{
    resume_arrays, separate_files, train_arrays, ArrayTraining, FailureKind, FitOptions, Progress,
    Quiet, RunDir, Separator,
};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sc-tasks-runs-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn spec() -> ModelSpec {
    ModelSpec::from_toml_str(
        "input_shape = [2]\nloss = \"mse\"\n[[layers]]\ntype = \"Dense\"\nunits = 1\n",
    )
    .unwrap()
}

/// y = 2·x0 − x1 on 64 examples.
fn write_data(dir: &Path) {
    let mut rng = soundcheck_io::SplitMix64::new(5);
    let x: Vec<f32> = (0..128).map(|_| rng.uniform() as f32).collect();
    let y: Vec<f32> = x.chunks(2).map(|r| 2.0 * r[0] - r[1]).collect();
    soundcheck_npy::write(&dir.join("x.npy"), &[64, 2], &x).unwrap();
    soundcheck_npy::write(&dir.join("y.npy"), &[64, 1], &y).unwrap();
}

/// Records the notes a task makes.
#[derive(Default)]
struct Notes(Mutex<Vec<String>>);

impl Progress for Notes {
    fn note(&self, line: &str) {
        self.0.lock().unwrap().push(line.to_string());
    }
}

#[test]
fn an_array_run_trains_resumes_and_keeps_its_files() {
    let d = tmp("arrays");
    write_data(&d);
    let opts = ArrayTraining {
        data: d.clone(),
        loss: None,
        validation_split: 0.25,
        fit: FitOptions {
            epochs: 2,
            batch_size: 16,
            learning_rate: 0.05,
            ..FitOptions::default()
        },
        out: d.join("run"),
    };
    let notes = Notes::default();
    let first = train_arrays(&opts, &spec(), &Device::flex(), &notes).unwrap();
    assert_eq!((first.epochs, first.resumed_from_epoch), (2, None));
    assert_eq!(first.loss_function, "mean_squared_error");
    let lines = notes.0.lock().unwrap().clone();
    assert!(
        lines[0].starts_with("epoch 1/2: loss") && lines[0].contains("val_loss"),
        "{lines:?}"
    );
    for f in [
        RunDir::MODEL,
        RunDir::OPTIONS,
        RunDir::WEIGHTS,
        RunDir::CHECKPOINT,
        RunDir::LOG,
        RunDir::CURVES,
    ] {
        assert!(d.join("run").join(f).exists(), "{f}");
    }
    // A second new run into the folder is refused and leaves the first one as it was.
    let weights = std::fs::read(d.join("run").join(RunDir::WEIGHTS)).unwrap();
    let e = train_arrays(&opts, &spec(), &Device::flex(), &Quiet).unwrap_err();
    assert!(e.to_string().contains("already holds a run"), "{e}");
    assert_eq!(e.kind(), FailureKind::Input);
    assert_eq!(
        std::fs::read(d.join("run").join(RunDir::WEIGHTS)).unwrap(),
        weights
    );
    // Resumed with its own options up to 3 epochs.
    let resumed = resume_arrays(&d.join("run"), &d, 3, &Device::flex(), &Quiet).unwrap();
    assert_eq!((resumed.epochs, resumed.resumed_from_epoch), (3, Some(2)));
    // The first two epochs come back from the checkpoint (JSON: equal to the last digit).
    for (a, b) in resumed.history[..2].iter().zip(&first.history) {
        let close = |x: f64, y: f64| (x - y).abs() < 1e-12;
        assert!(
            a.epoch == b.epoch
                && close(a.loss, b.loss)
                && close(a.val_loss.unwrap(), b.val_loss.unwrap()),
            "{a:?} vs {b:?}"
        );
    }
}

#[test]
fn a_spent_time_budget_ends_the_run_after_the_epoch_that_crossed_it() {
    let d = tmp("budget");
    write_data(&d);
    let opts = ArrayTraining {
        data: d.clone(),
        loss: None,
        validation_split: 0.0,
        fit: FitOptions {
            epochs: 5,
            max_minutes: Some(1e-9),
            ..FitOptions::default()
        },
        out: d.join("run"),
    };
    let s = train_arrays(&opts, &spec(), &Device::flex(), &Quiet).unwrap();
    assert_eq!(s.epochs, 1);
    assert!(
        s.out_of_time && s.line().contains("time budget"),
        "{}",
        s.line()
    );
    // The epoch's checkpoint is kept: the run resumes from it.
    assert!(d.join("run").join(RunDir::CHECKPOINT).exists());
}

#[test]
fn bad_options_and_misfit_data_are_named_before_anything_is_written() {
    let d = tmp("refusals");
    write_data(&d);
    let mut opts = ArrayTraining {
        data: d.clone(),
        loss: Some("mse".into()),
        validation_split: 0.0,
        fit: FitOptions {
            epochs: 0,
            ..FitOptions::default()
        },
        out: d.join("run"),
    };
    let e = train_arrays(&opts, &spec(), &Device::flex(), &Quiet).unwrap_err();
    assert_eq!(
        e.to_string(),
        "`epochs` 0: expected a positive number of epochs"
    );
    opts.fit.epochs = 1;
    opts.fit.schedule = "linear".into();
    let e = train_arrays(&opts, &spec(), &Device::flex(), &Quiet).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("`schedule` linear: expected constant, cosine"),
        "{e}"
    );
    opts.fit.schedule = "constant".into();
    opts.fit.max_minutes = Some(-1.0);
    let e = train_arrays(&opts, &spec(), &Device::flex(), &Quiet).unwrap_err();
    assert_eq!(
        e.to_string(),
        "`max_minutes` -1: expected a positive number of minutes, e.g. 30"
    );
    opts.fit.max_minutes = None;
    // A model taking 3 features: a shape failure (exit 1), found before the run folder exists.
    let wide =
        ModelSpec::from_toml_str("input_shape = [3]\n[[layers]]\ntype = \"Dense\"\nunits = 1\n")
            .unwrap();
    let e = train_arrays(&opts, &wide, &Device::flex(), &Quiet).unwrap_err();
    assert_eq!(e.kind(), FailureKind::Shape, "{e}");
    assert!(!d.join("run").join(RunDir::MODEL).exists());
}

#[test]
fn the_classification_quickstart_and_its_classifier_run_as_a_library() {
    let d = tmp("quickstart").join("q");
    let report = soundcheck_tasks::classification_quickstart(&d, &Device::flex(), &Quiet).unwrap();
    assert_eq!(report.classes.len(), 7);
    assert!(
        report.test_accuracy.is_some_and(|a| a >= 0.95),
        "{report:?}"
    );
    let classifier = soundcheck_tasks::Classifier::load(&report.run_dir, &Device::flex()).unwrap();
    let clip = std::fs::read_dir(d.join("data").join("hum"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .next()
        .unwrap();
    let labelled = classifier.classify(&[clip], 3, &Quiet).unwrap();
    assert_eq!(labelled[0].top.len(), 3);
    let p: Vec<f32> = labelled[0].top.iter().map(|c| c.probability).collect();
    assert!(
        p.windows(2).all(|w| w[0] >= w[1]),
        "most probable first: {p:?}"
    );

    // Damaged or foreign records are refused by load, never run into a panic or wrong labels.
    let refused = |edit: &dyn Fn(&Path)| -> String {
        let copy = d.join("edited");
        let _ = std::fs::remove_dir_all(&copy);
        std::fs::create_dir_all(&copy).unwrap();
        for f in [RunDir::MODEL, RunDir::WEIGHTS, RunDir::CLASSES] {
            std::fs::copy(report.run_dir.join(f), copy.join(f)).unwrap();
        }
        edit(&copy);
        soundcheck_tasks::Classifier::load(&copy, &Device::flex())
            .err()
            .expect("refused")
            .to_string()
    };
    let record = |dir: &Path, key: &str, value: serde_json::Value| {
        let path = dir.join(RunDir::CLASSES);
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        v[key] = value;
        std::fs::write(&path, v.to_string()).unwrap();
    };
    let e = refused(&|dir| record(dir, "maxlen", 0.into()));
    assert!(e.contains("maxlen is 0"), "{e}");
    let e = refused(&|dir| record(dir, "mean", serde_json::json!([0.0, 1.0])));
    assert!(
        e.contains("standardisation vectors of 2 and 13 values for 13 features"),
        "{e}"
    );
    // Statistics that would make every clip NaN, and a length past the memory there is.
    let e = refused(&|dir| record(dir, "std", serde_json::json!(vec![0.0; 13])));
    assert!(
        e.contains("std[0] is 0; expected a positive finite number"),
        "{e}"
    );
    let e = refused(&|dir| {
        let mut std = vec![serde_json::json!(1.0); 13];
        std[4] = serde_json::json!(-2.0);
        record(dir, "std", std.into())
    });
    assert!(e.contains("std[4] is -2"), "{e}");
    let e = refused(&|dir| record(dir, "maxlen", 1_000_000_000_000_000u64.into()));
    assert!(
        e.contains(
            "maxlen: one clip padded to `maxlen` frames of 1000000000000000 × 13 would take"
        ),
        "{e}"
    );
    // A damaged feature setting is the record's fault, not every audio file's.
    let e = refused(&|dir| {
        let path = dir.join(RunDir::CLASSES);
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        v["features"]["n_fft"] = 0.into();
        std::fs::write(&path, v.to_string()).unwrap();
    });
    assert!(
        e.contains("classes.json: its feature settings cannot be used") && e.contains("n_fft"),
        "{e}"
    );
    // A field missing or of another type is named, with the file and what to do.
    let e = refused(&|dir| {
        let path = dir.join(RunDir::CLASSES);
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        v.as_object_mut().unwrap().remove("maxlen");
        std::fs::write(&path, v.to_string()).unwrap();
    });
    assert!(
        e.contains("classes.json: missing field `maxlen`")
            && e.contains("train the run again or restore the file"),
        "{e}"
    );
    let e = refused(&|dir| record(dir, "padding", 3.into()));
    assert!(
        e.contains("invalid type: integer `3`, expected a string") && e.contains(r#""padding":3`"#),
        "{e}"
    );
    let e = refused(&|dir| record(dir, "classes", serde_json::json!(["a", "b"])));
    assert!(e.contains("2 classes for a model with 7 outputs"), "{e}");
    let e = refused(&|dir| {
        let path = dir.join(RunDir::WEIGHTS);
        let mut w = soundcheck_nn::read_weights(&path).unwrap();
        w.values_mut().next().unwrap().1[0] = f32::NAN;
        soundcheck_nn::write_weights(&path, &w, &Default::default()).unwrap();
    });
    assert!(e.contains("holds NaN or infinite values"), "{e}");
}

#[test]
fn a_folder_that_is_no_run_is_named_with_the_command_that_makes_one() {
    let e = soundcheck_tasks::Separator::load(&tmp("norun"), &Device::flex())
        .err()
        .expect("refused")
        .to_string();
    assert!(
        e.contains("model.json") && e.contains("`soundcheck train`"),
        "{e}"
    );
}

/// What a run refused or killed in its first epoch leaves (its lock and start records) is
/// replaced by a new run, which says so, and `resume` says to start it anew; a folder holding
/// a file of the user's beside them is still refused, the file kept.
#[test]
fn a_run_that_never_finished_an_epoch_is_replaced_not_a_dead_end() {
    let d = tmp("unfinished");
    write_data(&d);
    let out = d.join("run");
    drop(RunDir::create(&out, &spec(), &serde_json::json!({"seed": 1})).unwrap());
    std::fs::write(out.join(RunDir::CLASSES), "{}").unwrap();
    let e = resume_arrays(&out, &d, 2, &Device::flex(), &Quiet)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no checkpoint.safetensors") && e.contains("never finished an epoch"),
        "{e}"
    );
    let mut opts = ArrayTraining {
        data: d.clone(),
        loss: None,
        validation_split: 0.0,
        fit: FitOptions {
            epochs: 1,
            ..FitOptions::default()
        },
        out: out.clone(),
    };
    let notes = Notes::default();
    train_arrays(&opts, &spec(), &Device::flex(), &notes).unwrap();
    let notes = notes.0.into_inner().unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("replacing an unfinished run")),
        "{notes:?}"
    );
    assert!(out.join(RunDir::CHECKPOINT).exists());
    assert!(
        !out.join(RunDir::CLASSES).exists(),
        "the old run's records go"
    );
    // Finished runs and folders with other files stay refused.
    let e = train_arrays(&opts, &spec(), &Device::flex(), &Quiet).unwrap_err();
    assert!(e.to_string().contains("already holds a run"), "{e}");
    opts.out = d.join("mine");
    std::fs::create_dir_all(&opts.out).unwrap();
    std::fs::write(opts.out.join(RunDir::MODEL), "{}").unwrap();
    std::fs::write(opts.out.join("notes.txt"), "mine").unwrap();
    let e = train_arrays(&opts, &spec(), &Device::flex(), &Quiet).unwrap_err();
    assert!(e.to_string().contains("already holds model.json"), "{e}");
    assert_eq!(
        std::fs::read_to_string(opts.out.join(RunDir::MODEL)).unwrap(),
        "{}"
    );
}

/// A separation run of a network without weights (enough to load) and its record.
fn separation_run(dir: &Path, target: &str) {
    let spec = ModelSpec::from_toml_str(
        "input_shape = [513, 25, 1]\n[[layers]]\ntype = \"Activation\"\nactivation = \"relu\"\n",
    )
    .unwrap();
    if !dir.join(RunDir::MODEL).exists() {
        drop(RunDir::create(dir, &spec, &serde_json::json!({})).unwrap());
        soundcheck_nn::write_weights(
            &dir.join(RunDir::WEIGHTS),
            &Default::default(),
            &Default::default(),
        )
        .unwrap();
    }
    let record = serde_json::json!({"target": target, "sample_rate": 22050, "n_fft": 1024,
        "hop_length": 256, "patch": 25, "patch_hop": 12});
    std::fs::write(dir.join(RunDir::SEPARATION), record.to_string()).unwrap();
}

#[test]
fn a_record_whose_target_is_a_path_or_another_stem_is_refused_when_read() {
    let d = tmp("stems");
    for target in ["../../x", "/tmp/x", "accompaniment", "mixture", "", "a.b"] {
        separation_run(&d, target);
        let e = Separator::load(&d, &Device::flex())
            .err()
            .expect("refused")
            .to_string();
        assert!(
            e.contains("separation.json: target ") && e.contains("is not a stem name"),
            "{target:?}: {e}"
        );
    }
    separation_run(&d, "vocals");
    assert_eq!(
        Separator::load(&d, &Device::flex())
            .unwrap()
            .target
            .as_str(),
        "vocals"
    );
}

#[test]
fn a_separation_that_fails_before_writing_leaves_no_folder() {
    let d = tmp("sep-fails");
    separation_run(&d.join("run"), "vocals");
    let separator = Separator::load(&d.join("run"), &Device::flex()).unwrap();
    // A rate the resampler refuses: the file fails after its folder was made.
    let odd = d.join("odd.wav");
    soundcheck_audio::write_wav(&odd, &[vec![0.1f32; 1000]], 100_000_019).unwrap();
    let out = d.join("new").join("out");
    separate_files(
        &separator,
        &[odd],
        &[],
        &out,
        false,
        Default::default(),
        &Quiet,
    )
    .unwrap_err();
    assert!(!d.join("new").exists(), "the folders it made are gone");
}
