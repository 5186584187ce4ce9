//! A run folder: every file a training run writes, named in one place; new runs that never
//! overwrite anything, resumed runs, runs read back for inference, and a lock so two processes
//! never write one run.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::error::Category;
use serde_json::Value;
use soundcheck_nn::{read_weights, Device, Network};
use soundcheck_shape::ModelSpec;

use crate::error::{Result, TaskError};
use crate::progress::Progress;

/// A run folder, locked while this value lives when it was created or resumed.
#[derive(Debug)]
pub struct RunDir {
    path: PathBuf,
    /// The open lock file; the OS releases the lock when the process ends, however it ends.
    _lock: Option<File>,
}

impl RunDir {
    /// The spec the run was started with.
    pub const MODEL: &'static str = "model.json";
    /// The options it was started with.
    pub const OPTIONS: &'static str = "train.json";
    /// The trained weights, Keras's variable names (`model.load_weights`-compatible keys).
    pub const WEIGHTS: &'static str = soundcheck_nn::train::WEIGHTS;
    /// Weights, optimizer state and loop state, written atomically after every epoch.
    pub const CHECKPOINT: &'static str = soundcheck_nn::train::CHECKPOINT;
    /// One line per epoch.
    pub const LOG: &'static str = soundcheck_nn::train::LOG_CSV;
    /// Loss (and validation loss) per epoch.
    pub const CURVES: &'static str = "curves.png";
    /// Accuracy per epoch, for classifiers.
    pub const ACCURACY: &'static str = "accuracy.png";
    /// A classifier's preprocessing and split.
    pub const CLASSES: &'static str = "classes.json";
    /// A classifier's test-split confusion matrix.
    pub const CONFUSION: &'static str = "confusion.png";
    /// A separator's STFT and patch settings and its target.
    pub const SEPARATION: &'static str = "separation.json";
    /// Held (OS advisory lock) by the process writing the run.
    pub const LOCK: &'static str = ".soundcheck-lock";

    /// Every file a run writes: a new run refuses a folder holding any of them.
    pub const FILES: [&'static str; 10] = [
        RunDir::MODEL,
        RunDir::OPTIONS,
        RunDir::WEIGHTS,
        RunDir::CHECKPOINT,
        RunDir::LOG,
        RunDir::CURVES,
        RunDir::ACCURACY,
        RunDir::CLASSES,
        RunDir::CONFUSION,
        RunDir::SEPARATION,
    ];

    /// The records a run writes when it starts, before its first epoch: a folder holding only
    /// these (and the lock and `cache/`) is a run that never trained, which a new run replaces.
    const START: [&'static str; 4] = [
        RunDir::MODEL,
        RunDir::OPTIONS,
        RunDir::CLASSES,
        RunDir::SEPARATION,
    ];
    /// The paths of [`RunDir::FILES`] in the run folder `path` but `except`: what a command
    /// using the run must not overwrite (other files in the folder are the user's to place).
    pub fn files_of(path: &Path, except: &[&str]) -> Vec<PathBuf> {
        RunDir::FILES
            .iter()
            .filter(|f| !except.contains(f))
            .map(|f| path.join(f))
            .collect()
    }

    /// A new run in `path` (created if missing), recording its spec and options. A folder
    /// holding a run, or any file a run would write, is refused: nothing is ever overwritten,
    /// except the start records of a run that never finished an epoch (see [`RunDir::check_new`]).
    pub fn create(path: &Path, spec: &ModelSpec, options: &impl Serialize) -> Result<RunDir> {
        RunDir::unfinished(path)?;
        std::fs::create_dir_all(path)
            .map_err(|e| TaskError::io(path, "create the run folder", e))?;
        let run = RunDir {
            path: path.to_path_buf(),
            _lock: Some(lock(path)?),
        };
        // Checked again under the lock: another process may have started a run meanwhile.
        // An unfinished run's records go, so none of its records is taken for this run's.
        for name in RunDir::unfinished(path)? {
            let file = run.file(name);
            std::fs::remove_file(&file)
                .map_err(|e| TaskError::io(file, "remove the unfinished run's record", e))?;
        }
        run.write_text(RunDir::MODEL, &spec.to_json_string())?;
        run.write_record(RunDir::OPTIONS, options)?;
        Ok(run)
    }

    /// Refuses a folder holding a run or any file a run writes, unless it is a run that never
    /// finished an epoch (a run refused or killed after it started: only its start records, no
    /// checkpoint), which the new run replaces; `progress` is told so.
    pub fn check_new(path: &Path, progress: &dyn Progress) -> Result<()> {
        let records = RunDir::unfinished(path)?;
        if !records.is_empty() {
            progress.note(&format!(
                "{}: replacing an unfinished run (it holds {} but never finished an epoch)",
                path.display(),
                records.join(", ")
            ));
        }
        Ok(())
    }

    /// The start records of a run in `path` that never finished an epoch, none for a folder
    /// without a run; refuses a folder holding any other file a run writes.
    fn unfinished(path: &Path) -> Result<Vec<&'static str>> {
        if path.join(RunDir::CHECKPOINT).exists() {
            return Err(TaskError::Folder {
                path: path.to_path_buf(),
                actual: format!("already holds a run ({})", RunDir::CHECKPOINT),
                hint: "pass `resume` to continue it, or choose another `out`".into(),
            });
        }
        let present: Vec<&str> = RunDir::FILES
            .iter()
            .copied()
            .filter(|f| path.join(f).exists())
            .collect();
        if present.is_empty() || only_start_files(path) {
            return Ok(present);
        }
        Err(TaskError::Folder {
            path: path.to_path_buf(),
            actual: format!("already holds {}", present.join(", ")),
            hint: "a new run never overwrites files: choose another `out`".into(),
        })
    }

    /// A run to continue training: it must hold a checkpoint; locked.
    pub fn resume(path: &Path) -> Result<RunDir> {
        if !path.join(RunDir::CHECKPOINT).exists() {
            let hint = if only_start_files(path) {
                "it never finished an epoch: start it again without `resume`, which replaces it"
            } else {
                "start the run without `resume`"
            };
            return Err(TaskError::Folder {
                path: path.to_path_buf(),
                actual: format!("no {} to resume from", RunDir::CHECKPOINT),
                hint: hint.into(),
            });
        }
        Ok(RunDir {
            path: path.to_path_buf(),
            _lock: Some(lock(path)?),
        })
    }

    /// A run made of a trained Keras model file (`.keras`, `.h5`): its spec and its weights, as
    /// `train` writes them, so `predict`, `export` and `--resume`-free training read it like any
    /// run; `train.json` records where it came from. A folder holding a run is refused.
    pub fn import_keras(model: &Path, out: &Path, device: &Device) -> Result<RunDir> {
        let writes = RunDir::files_of(out, &[]);
        let writes: Vec<&Path> = writes.iter().map(PathBuf::as_path).collect();
        TaskError::check_outputs("out", &[model], &writes)?;
        let net = soundcheck_nn::load_keras(model, device)?;
        let spec = soundcheck_shape::load_model(model)?;
        let run = RunDir::create(
            out,
            &spec,
            &serde_json::json!({ "keras_model": model.display().to_string() }),
        )?;
        let source = BTreeMap::from([("keras_model".to_string(), model.display().to_string())]);
        soundcheck_nn::write_weights(
            &run.file(RunDir::WEIGHTS),
            &net.variables().to_weights(),
            &source,
        )?;
        Ok(run)
    }

    /// Writes the run's model with its trained weights as a `.keras` file that Keras 3 opens
    /// (`soundcheck_nn::save_keras`); the file is checked against the run's files first.
    pub fn export_keras(&self, out: &Path, device: &Device) -> Result<()> {
        let reads = RunDir::files_of(&self.path, &[]);
        let reads: Vec<&Path> = reads.iter().map(PathBuf::as_path).collect();
        TaskError::check_outputs("output", &reads, &[out])?;
        let spec = self.spec("soundcheck train")?;
        let net = self.network(device)?;
        Ok(soundcheck_nn::save_keras(&spec, &net, out)?)
    }

    /// A finished (or running) run, to read: not locked.
    pub fn open(path: &Path) -> RunDir {
        RunDir {
            path: path.to_path_buf(),
            _lock: None,
        }
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The path of one of the run's files.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// A JSON record of the run, read into its type ([`read_json`]); `command` is what writes
    /// it, named when the file is missing.
    pub fn read_record<T: DeserializeOwned>(&self, name: &str, command: &str) -> Result<T> {
        read_json(&self.file(name), command)
    }

    /// Writes a record atomically as JSON.
    pub fn write_record(&self, name: &str, record: &impl Serialize) -> Result<()> {
        let text = serde_json::to_string(record).map_err(|e| TaskError::Folder {
            path: self.file(name),
            actual: format!("cannot be written as JSON ({e})"),
            hint: "give the files and folders it names UTF-8 names".into(),
        })?;
        self.write_text(name, &text)
    }

    fn write_text(&self, name: &str, text: &str) -> Result<()> {
        let path = self.file(name);
        soundcheck_io::write_atomic(&path, text.as_bytes())
            .map_err(|e| TaskError::io(path, "write", e))
    }

    /// The spec the run was started with.
    pub fn spec(&self, command: &str) -> Result<ModelSpec> {
        Ok(ModelSpec::from_value(
            &self.read_record::<Value>(RunDir::MODEL, command)?,
        )?)
    }

    /// The run's network with its trained weights, refused when a weight is NaN or infinite
    /// (a diverged run, a damaged file): it would give NaN outputs with exit 0.
    pub fn network(&self, device: &Device) -> Result<Network> {
        let spec = self.spec("soundcheck train")?;
        let path = self.file(RunDir::WEIGHTS);
        let weights = read_weights(&path)?;
        let mut keys: Vec<&String> = weights.keys().collect();
        keys.sort();
        if let Some(key) = keys
            .into_iter()
            .find(|k| weights[*k].1.iter().any(|v| !v.is_finite()))
        {
            return Err(TaskError::Folder {
                path,
                actual: format!("weight '{key}' holds NaN or infinite values"),
                hint: "the run diverged or the file is damaged: train the run again (a lower learning rate, `clip_norm` 1.0)".into(),
            });
        }
        Ok(Network::new(&spec, &weights, device)?)
    }
}

/// A run's JSON record at `path` (in its run folder or copied beside a model), read into its
/// type; `command` is what writes it, named when the file is missing. A record that is not
/// JSON, lacks a field or holds a value of another type is refused with serde's account (the
/// field missing, or the type found and expected, at a line and column) and the text it stopped
/// at, so a damaged run says what is wrong.
pub fn read_json<T: DeserializeOwned>(path: &Path, command: &str) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| TaskError::Folder {
        path: path.to_path_buf(),
        actual: format!("cannot read ({e})"),
        hint: format!("was the run trained with `{command}`?"),
    })?;
    serde_json::from_str(&text).map_err(|e| TaskError::Folder {
        path: path.to_path_buf(),
        actual: damage(&text, &e),
        hint: "the run folder's record is damaged: train the run again or restore the file".into(),
    })
}

/// Whether `dir` holds a start record and nothing else but the lock and the default `cache/`
/// folder: what a run refused or killed before its first checkpoint leaves.
fn only_start_files(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    let mut started = false;
    for entry in entries {
        let Ok(entry) = entry else { return false };
        let name = entry.file_name();
        let name = name.to_str().unwrap_or_default();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if RunDir::START.contains(&name) && !is_dir {
            started = true;
        } else if !(name == RunDir::LOCK || (name == "cache" && is_dir)) {
            return false;
        }
    }
    started
}

/// What is wrong with a record, in serde's words. serde names a missing field but not the field
/// of a value of the wrong type: the text up to where it stopped shows that field.
fn damage(text: &str, e: &serde_json::Error) -> String {
    if e.classify() != Category::Data {
        return format!("not JSON ({e})");
    }
    if e.line() == 0 || e.to_string().starts_with("missing field") {
        return e.to_string();
    }
    let line = text.lines().nth(e.line() - 1).unwrap_or_default();
    let end = (0..=e.column().min(line.len()))
        .rev()
        .find(|&i| line.is_char_boundary(i))
        .unwrap_or(0);
    let before: Vec<char> = line[..end].chars().rev().take(40).collect();
    let before: String = before.into_iter().rev().collect();
    format!("{e}, after `{before}`")
}

/// Takes the run folder's lock, refusing when another process holds it.
fn lock(dir: &Path) -> Result<File> {
    let path = dir.join(RunDir::LOCK);
    let file = File::create(&path).map_err(|e| TaskError::io(&path, "create the lock file", e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(TaskError::Folder {
            path: dir.to_path_buf(),
            actual: "another soundcheck process is writing this run".into(),
            hint: "wait for it to finish, or choose another `out`".into(),
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(TaskError::io(&path, "lock", e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("sc-rundir-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn spec() -> ModelSpec {
        ModelSpec::from_toml_str("input_shape = [3]\n[[layers]]\ntype = \"Dense\"\nunits = 2\n")
            .unwrap()
    }

    #[test]
    fn a_new_run_records_its_spec_and_refuses_foreign_files() {
        let d = tmp("new");
        let run = RunDir::create(&d, &spec(), &serde_json::json!({"seed": 3})).unwrap();
        assert_eq!(
            run.read_record::<Value>(RunDir::OPTIONS, "x").unwrap()["seed"],
            3
        );
        assert_eq!(run.spec("x").unwrap(), spec());
        drop(run);
        // The first run logged an epoch: a second run into the folder is refused.
        std::fs::write(d.join(RunDir::LOG), b"epoch\n").unwrap();
        let e = RunDir::create(&d, &spec(), &Value::Null)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("already holds model.json, train.json, log.csv")
                && e.contains("choose another `out`"),
            "{e}"
        );
        // Someone else's weights alone are never overwritten either.
        let other = tmp("foreign");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join(RunDir::WEIGHTS), b"mine").unwrap();
        let e = RunDir::create(&other, &spec(), &Value::Null)
            .unwrap_err()
            .to_string();
        assert!(e.contains("weights.safetensors"), "{e}");
        assert_eq!(std::fs::read(other.join(RunDir::WEIGHTS)).unwrap(), b"mine");
    }

    #[test]
    fn a_damaged_record_is_named_with_its_field() {
        let d = tmp("damaged");
        std::fs::create_dir_all(&d).unwrap();
        let run = RunDir::open(&d);
        let read = |text: &str| {
            std::fs::write(d.join(RunDir::OPTIONS), text).unwrap();
            run.read_record::<crate::FitOptions>(RunDir::OPTIONS, "x")
                .unwrap_err()
                .to_string()
        };
        let e = read(r#"{"batch_size": 32}"#);
        assert!(
            e.contains("train.json: missing field `optimizer` at line 1 column 18;")
                && e.contains("train the run again or restore the file"),
            "{e}"
        );
        let e = read(r#"{"batch_size": "32", "optimizer": "adam"}"#);
        assert!(
            e.contains(r#"invalid type: string "32", expected usize"#)
                && e.contains(r#"after `{"batch_size": "32"`"#),
            "{e}"
        );
        let e = read(r#"{"batch_size": "#);
        assert!(e.contains("train.json: not JSON (EOF"), "{e}");
    }

    #[test]
    fn one_writer_at_a_time() {
        let d = tmp("lock");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(RunDir::CHECKPOINT), b"").unwrap();
        let first = RunDir::resume(&d).unwrap();
        let e = RunDir::resume(&d).unwrap_err().to_string();
        assert!(
            e.contains("another soundcheck process is writing this run"),
            "{e}"
        );
        drop(first);
        RunDir::resume(&d).expect("the lock is released with the run");
    }

    #[test]
    fn resuming_needs_a_checkpoint_and_missing_records_name_the_command() {
        let d = tmp("empty");
        let e = RunDir::resume(&d).unwrap_err().to_string();
        assert!(
            e.contains("no checkpoint.safetensors to resume from"),
            "{e}"
        );
        let e = RunDir::open(&d)
            .read_record::<Value>(RunDir::SEPARATION, "soundcheck train separation")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("separation.json") && e.contains("soundcheck train separation"),
            "{e}"
        );
    }
}
