//! `soundcheck features KIND AUDIO... -o OUT`: librosa's features, as .npy files numpy reads.
//! The arguments map onto soundcheck-audio's feature recipe (`args.rs`), each file is computed
//! and laid out (`compute.rs`), and written and reported here.

mod args;
mod compute;

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde_json::json;
use soundcheck_audio::AudioError;

use args::bad;
pub use args::FeaturesArgs;
use soundcheck_data::Shard;

use crate::batch_args::Inputs;
use compute::{Data, Feature};

fn write_feature(path: &Path, feat: &Feature) -> Result<(), AudioError> {
    let written = match &feat.data {
        Data::Real(v) => soundcheck_npy::write(path, &feat.shape, v),
        Data::Complex(v) => {
            let pairs: Vec<[f32; 2]> = v.iter().map(|c| [c.re, c.im]).collect();
            soundcheck_npy::write(path, &feat.shape, &pairs)
        }
    };
    written.map_err(|e| AudioError::Write {
        path: e.path.clone(),
        source: std::io::Error::other(e),
    })
}

/// Each input's output: `-o` itself for one input, else a file in the `-o` folder named after
/// the input (`<stem>.npy`, or the input's path mirrored when it came from `--files-from`).
/// Names are given from the whole job's inputs, so every shard names a file alike.
fn outputs(a: &FeaturesArgs, inputs: &Inputs) -> Result<Vec<PathBuf>, Failure> {
    if !inputs.listed && a.audio.len() == 1 && !a.output.is_dir() {
        return Ok(inputs.mine.iter().map(|_| a.output.clone()).collect());
    }
    if inputs.listed {
        return Ok(inputs
            .mine
            .iter()
            .map(|p| soundcheck_data::mirrored(&a.output, p, "npy"))
            .collect::<Result<_, _>>()?);
    }
    let mut seen = std::collections::HashMap::new();
    for p in &a.audio {
        let stem = stem(p);
        if let Some(other) = seen.insert(stem, p.clone()) {
            return Err(bad(
                "AUDIO",
                p.display(),
                format!(
                    "inputs with distinct file names ({} would overwrite {})",
                    p.display(),
                    other.display()
                ),
                "rename one, run them separately, or list them with --files-from (outputs then mirror their paths)",
            )
            .into());
        }
    }
    Ok(inputs
        .mine
        .iter()
        .map(|p| a.output.join(format!("{}.npy", stem(p))))
        .collect())
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("audio")
        .to_string()
}

fn dtype(feat: &Feature) -> &'static str {
    match feat.data {
        Data::Real(_) => "float32",
        Data::Complex(_) => "complex64",
    }
}

/// One input's failure, or the whole command's: audio, or a list or shard that cannot be used.
type Failure = Box<dyn std::error::Error + Send + Sync>;

/// What became of one input.
type Outcome = Result<serde_json::Value, Failure>;

/// Runs this shard's inputs; the shard, and each input's outcome in sorted input order.
fn run_all(a: &FeaturesArgs) -> Result<(Shard, Vec<Outcome>), Failure> {
    a.validate()?;
    let inputs = a.batch.inputs(&a.audio)?;
    if a.png.is_some() && (inputs.listed || a.audio.len() > 1) {
        return Err(bad(
            "--png",
            "set",
            "one AUDIO input",
            "run once per file to draw each",
        )
        .into());
    }
    let outs = outputs(a, &inputs)?;
    let reads: Vec<&Path> = inputs.mine.iter().map(PathBuf::as_path).collect();
    let writes: Vec<&Path> = outs.iter().chain(&a.png).map(PathBuf::as_path).collect();
    if let Err(c) = soundcheck_io::check_outputs(&reads, &writes) {
        let flag = if a.png.as_deref() == Some(c.output.as_path()) {
            "--png"
        } else {
            "-o"
        };
        let what = if c.both_outputs { "output" } else { "input" };
        return Err(bad(
            flag,
            c.output.display(),
            format!("a file other than the {what} {}", c.input.display()),
            "features never overwrite their audio or another output: choose another path",
        )
        .into());
    }
    let progress = crate::progress::Progress::new("features", inputs.mine.len());
    let results = inputs
        .mine
        .par_iter()
        .zip(&outs)
        .map(|(input, out)| -> Outcome {
            if a.skip.done(out) {
                progress.tick();
                return Ok(json!({"input": input, "output": out, "skipped": true}));
            }
            let feat = a.compute(input)?;
            if let Some(folder) = out.parent().filter(|f| !f.as_os_str().is_empty()) {
                std::fs::create_dir_all(folder).map_err(|source| AudioError::Write {
                    path: folder.to_path_buf(),
                    source,
                })?;
            }
            write_feature(out, &feat)?;
            if let (Some(png), Some(pic)) = (&a.png, &feat.picture) {
                soundcheck_tasks::plot::write_png(png, pic, &a.axes(input, feat.sample_rate))
                    .map_err(|e| AudioError::Write {
                        path: png.clone(),
                        source: std::io::Error::other(e),
                    })?;
            }
            progress.tick();
            Ok(json!({
                "input": input, "output": out, "shape": feat.shape, "dtype": dtype(&feat),
                "sample_rate": feat.sample_rate, "frames_dropped": feat.dropped,
            }))
        })
        .collect();
    progress.finish();
    Ok((inputs.shard, results))
}

fn describe(it: &serde_json::Value, patch: bool) -> String {
    if it["skipped"] == true {
        return format!(
            "{} → {}: skipped (the output exists)",
            it["input"].as_str().unwrap_or(""),
            it["output"].as_str().unwrap_or("")
        );
    }
    let shape: Vec<String> = it["shape"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| d.to_string())
        .collect();
    let mut line = format!(
        "{} → {}: {} ({})",
        it["input"].as_str().unwrap_or(""),
        it["output"].as_str().unwrap_or(""),
        soundcheck_shape::shape::python_tuple(shape),
        it["dtype"].as_str().unwrap_or("")
    );
    if patch {
        let dropped = it["frames_dropped"].as_u64().unwrap_or(0);
        line.push_str(&format!(
            "; {dropped} frame(s) after the last whole patch dropped"
        ));
    }
    line
}

/// Exit status 0 when every input was written, 2 when any could not be (the others still are).
pub fn run(a: &FeaturesArgs) -> u8 {
    let (shard, results) = match run_all(a) {
        Ok(r) => r,
        Err(e) => (Shard::ALL, vec![Err(e)]),
    };
    let failed = results.iter().filter(|r| r.is_err()).count();
    let skipped = results
        .iter()
        .filter(|r| r.as_ref().is_ok_and(|v| v["skipped"] == true))
        .count();
    if a.json {
        let items: Vec<serde_json::Value> = results
            .iter()
            .map(|r| match r {
                Ok(v) => v.clone(),
                Err(e) => json!({"error": e.to_string()}),
            })
            .collect();
        outln!(
            "{}",
            json!({"ok": failed == 0, "shard": {"index": shard.index, "count": shard.count},
                "done": results.len() - failed - skipped, "skipped": skipped, "failed": failed,
                "outputs": items})
        );
    } else {
        for r in &results {
            match r {
                Ok(it) => outln!("{}", describe(it, a.patch.is_some())),
                Err(e) => errln!("error: {e}"),
            }
        }
        if failed > 0 && results.len() > 1 {
            errln!(
                "{failed} of {} inputs failed; the others were written",
                results.len()
            );
        }
    }
    if failed == 0 {
        crate::report::OK
    } else {
        crate::report::UNUSABLE
    }
}
