//! `soundcheck evaluate --reference DIR --estimate DIR`: BSS Eval v4 scores of separated stems,
//! as museval computes them (per-frame SDR/ISR/SIR/SAR, median over frames, median over tracks),
//! or with `--mode sources` v3's whole-track `bss_eval_sources` as mir_eval computes it (with
//! the length-weighted means and GNSDR of the MIR-1K literature).

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use serde_json::{json, Value};
use soundcheck_eval::folders::{columns, medians, rows, BASELINES, METRICS};
use soundcheck_eval::{
    length_weighted, medians_over_tracks, score_folders, EvaluateOptions, Mode, OracleStft,
};

use crate::progress::Progress;

/// Score separated stems against the references with BSS Eval v4 (museval's image metrics:
/// 512-tap distortion filters over the whole track, 1 s windows and hop).
///
/// A folder of audio files is one track (its stems, e.g. vocals.wav and accompaniment.wav; a
/// mixture.wav beside them is not a stem); a folder of folders is one track per subfolder.
/// Estimates carry the same names. Estimates shorter or longer than their reference are
/// zero-padded or cut to it, as museval does.
///
/// `--mode sources` scores as mir_eval's `bss_eval_sources` (BSS Eval v3): one SDR, SIR and SAR
/// per stem over the whole track, single-channel stems, each estimate against the reference of
/// its name (no permutation search); it adds the means over tracks weighted by length (GSDR,
/// GSIR, GSAR) and, with --baselines, GNSDR (SDR − the mixture's SDR), as MIR-1K papers report.
#[derive(Args)]
#[command(
    after_help = "Examples:\n  soundcheck evaluate --reference musdb/test/Song --estimate separated/Song\n  soundcheck evaluate --reference musdb/test --estimate separated --json > scores.json\n  soundcheck evaluate --reference musdb/test --estimate separated --shard 2/8 --json > scores-2.json   (one task of a job array)\n  soundcheck evaluate --reference mir1k/test --estimate separated --mode sources --baselines   (GNSDR, GSIR, GSAR)"
)]
pub struct EvaluateArgs {
    /// Reference stems: one track's folder of audio files, or a folder of track folders
    #[arg(long)]
    pub reference: PathBuf,
    /// Estimated stems, with the reference's file (and track folder) names
    #[arg(long)]
    pub estimate: PathBuf,
    #[command(flatten)]
    pub shard: crate::batch_args::ShardArgs,
    /// Criteria: v4 (museval's image metrics in windows, as museval.evaluate's mode='v4') or
    /// sources (mir_eval's bss_eval_sources, BSS Eval v3 over the whole track; not museval's
    /// mode='v3', which windows image metrics)
    #[arg(long, value_enum, default_value_t = ModeArg::V4)]
    pub mode: ModeArg,
    /// Window length in seconds (v4) [default: 1]
    #[arg(long)]
    pub window: Option<f64>,
    /// Hop between windows in seconds (v4) [default: 1]
    #[arg(long)]
    pub hop: Option<f64>,
    /// Print one JSON object: per-frame and per-track metrics, medians over tracks
    #[arg(long)]
    pub json: bool,
    /// Also score the floor and the ceiling: the mixture as every stem's estimate, and the
    /// oracle ideal ratio mask (|S_j|² / Σ|S_k|², mixture phase) at --n-fft/--hop-length. The
    /// mixture is the track's mixture.wav, or the sum of its stems
    #[arg(long)]
    pub baselines: bool,
    /// FFT size of the oracle mask (use your model's)
    #[arg(long, default_value_t = 1024)]
    pub n_fft: usize,
    /// Hop of the oracle mask (use your model's)
    #[arg(long, default_value_t = 256)]
    pub hop_length: usize,
}

/// `--mode`'s values.
#[derive(Clone, Copy, ValueEnum)]
pub enum ModeArg {
    V4,
    Sources,
}

/// museval's window and hop, one second.
const WINDOW_S: f64 = 1.0;

/// JSON has no NaN or infinity: NaN (a silent window) → null, +inf (an exact estimate) → "inf".
fn number(v: f64) -> Value {
    if v.is_nan() {
        Value::Null
    } else if v.is_infinite() {
        json!(if v > 0.0 { "inf" } else { "-inf" })
    } else {
        json!(v)
    }
}

fn metrics_json(v: &[f64; 4]) -> serde_json::Map<String, Value> {
    METRICS
        .iter()
        .zip(v)
        .map(|(k, &x)| (k.to_lowercase(), number(x)))
        .collect()
}

/// `{stem: {sdr, isr, sir, sar}}`.
fn stems_json(rows: &[(String, [f64; 4])]) -> Value {
    Value::Object(
        rows.iter()
            .map(|(n, v)| (n.clone(), Value::Object(metrics_json(v))))
            .collect(),
    )
}

/// `{"mixture": {stem: ...}, "oracle_irm": {stem: ...}}`.
fn baselines_json(per_baseline: Vec<Vec<(String, [f64; 4])>>) -> Value {
    Value::Object(
        BASELINES
            .iter()
            .zip(per_baseline)
            .map(|(b, r)| (b.to_string(), stems_json(&r)))
            .collect(),
    )
}

/// The rows as a table; ISR is left out where the criteria have none (`--mode sources`).
fn table(rows: &[(String, [f64; 4])], mode: Mode) -> String {
    let shown: Vec<usize> = (0..METRICS.len())
        .filter(|&k| mode == Mode::V4 || METRICS[k] != "ISR")
        .collect();
    let mut s = format!("  {:<16}", "stem");
    for &k in &shown {
        s += &format!("{:>9}", METRICS[k]);
    }
    for (name, vals) in rows {
        s += &format!("\n  {name:<16}");
        for &k in &shown {
            s += &format!("{:>9.2}", vals[k]);
        }
    }
    s
}

impl EvaluateArgs {
    fn mode(&self) -> Mode {
        match self.mode {
            ModeArg::V4 => Mode::V4,
            ModeArg::Sources => Mode::Sources,
        }
    }

    fn options(&self) -> Result<EvaluateOptions, String> {
        if self.mode() == Mode::Sources {
            if let Some(flag) = [("--window", self.window), ("--hop", self.hop)]
                .iter()
                .find_map(|(flag, v)| v.map(|_| flag))
            {
                return Err(format!(
                    "{flag} does not apply to --mode sources, which scores whole tracks (one value per stem); drop it, or use --mode v4 for windows"
                ));
            }
        }
        Ok(EvaluateOptions {
            mode: self.mode(),
            reference: self.reference.clone(),
            estimate: self.estimate.clone(),
            window: self.window.unwrap_or(WINDOW_S),
            hop: self.hop.unwrap_or(WINDOW_S),
            baselines: self.baselines.then_some(OracleStft {
                n_fft: self.n_fft,
                hop_length: self.hop_length,
            }),
            shard: self.shard.shard().map_err(|e| e.to_string())?,
        })
    }
}

pub fn run(a: &EvaluateArgs) -> u8 {
    let options = match a.options() {
        Ok(o) => o,
        Err(e) => {
            errln!("error: {e}");
            return crate::report::UNUSABLE;
        }
    };
    let bar = std::cell::OnceCell::new();
    let result = score_folders(&options, &|done, tracks| {
        let bar = bar.get_or_init(|| Progress::new("evaluate", tracks));
        if done > 0 {
            bar.tick();
        }
    });
    if let Some(b) = bar.get() {
        b.finish();
    }
    let (tracks, warnings) = match result {
        Ok(r) => r,
        Err(e) => {
            let message = crate::report::with_flags(&e.to_string());
            if a.json {
                outln!("{}", json!({"ok": false, "error": message}));
            } else {
                errln!("error: {message}");
            }
            return crate::report::UNUSABLE;
        }
    };
    for w in &warnings {
        errln!("warning: {w}");
    }
    let (overall, overall_baselines) = medians_over_tracks(&tracks);
    let mode = options.mode;
    let weighted = (mode == Mode::Sources).then(|| length_weighted(&tracks));
    let computed = tracks.iter().filter(|t| t.mixture_computed).count();
    if a.json {
        let per_track: Vec<Value> = tracks
            .iter()
            .map(|t| {
                let stems: serde_json::Map<String, Value> = t
                    .stems
                    .iter()
                    .enumerate()
                    .map(|(j, s)| {
                        let mut o = metrics_json(&medians(&t.metrics, j));
                        if mode == Mode::V4 {
                            for (k, m) in METRICS.iter().enumerate() {
                                let frames: Vec<Value> = columns(&t.metrics)[k][j]
                                    .iter()
                                    .map(|&v| number(v))
                                    .collect();
                                o.insert(format!("{}_frames", m.to_lowercase()), json!(frames));
                            }
                        }
                        (s.clone(), Value::Object(o))
                    })
                    .collect();
                let mut o = json!({"name": t.name, "sample_rate": t.sample_rate, "samples": t.samples,
                    "mixture_computed": t.mixture_computed, "stems": stems});
                if let Some(b) = &t.baselines {
                    o["baselines"] = baselines_json(b.iter().map(|m| rows(&t.stems, m)).collect());
                }
                o
            })
            .collect();
        let shard = options.shard;
        let mut o = json!({"ok": true, "shard": {"index": shard.index, "count": shard.count},
            "tracks": per_track, "median": stems_json(&overall), "warnings": warnings});
        match &weighted {
            None => {
                o["mode"] = json!("v4");
                o["window_s"] = json!(options.window);
                o["hop_s"] = json!(options.hop);
            }
            Some(w) => {
                o["mode"] = json!("sources");
                o["length_weighted_mean"] = stems_json(&w.means);
                if a.baselines {
                    o["gnsdr"] = Value::Object(
                        w.gnsdr
                            .iter()
                            .map(|(n, v)| (n.clone(), number(*v)))
                            .collect(),
                    );
                }
            }
        }
        if a.baselines {
            o["median_baselines"] = baselines_json(overall_baselines);
            o["oracle_stft"] = json!({"n_fft": a.n_fft, "hop_length": a.hop_length});
        }
        outln!("{o}");
        return crate::report::OK;
    }
    let labels = [
        "the mixture as estimate".to_string(),
        format!("oracle IRM (n_fft {}, hop {})", a.n_fft, a.hop_length),
    ];
    for t in &tracks {
        match mode {
            Mode::V4 => {
                let frames = t.metrics.sdr.first().map_or(0, Vec::len);
                outln!(
                    "{} ({} Hz, {frames} windows of {} s), median over windows, dB:",
                    t.name,
                    t.sample_rate,
                    options.window
                );
            }
            Mode::Sources => outln!(
                "{} ({} Hz, {} samples), whole track (BSS Eval v3 sources), dB:",
                t.name,
                t.sample_rate,
                t.samples
            ),
        }
        outln!("{}", table(&rows(&t.stems, &t.metrics), mode));
        for (label, m) in labels.iter().zip(t.baselines.iter().flatten()) {
            outln!("{label}:\n{}", table(&rows(&t.stems, m), mode));
        }
    }
    if tracks.len() > 1 {
        outln!(
            "median over {} tracks, dB:\n{}",
            tracks.len(),
            table(&overall, mode)
        );
        if a.baselines {
            for (label, m) in labels.iter().zip(&overall_baselines) {
                outln!("{label}:\n{}", table(m, mode));
            }
        }
    }
    if let Some(w) = &weighted {
        outln!(
            "mean over {} tracks weighted by length (GSDR, GSIR, GSAR), dB:\n{}",
            tracks.len(),
            table(&w.means, mode)
        );
        for (stem, v) in &w.gnsdr {
            outln!("GNSDR {stem}: {v:.2} dB (SDR − the mixture's SDR, weighted by length)");
        }
    }
    if a.baselines && computed > 0 {
        outln!(
            "{computed} of {} tracks have no mixture file: their mixture baseline is the sum of their stems",
            tracks.len()
        );
    }
    crate::report::OK
}
