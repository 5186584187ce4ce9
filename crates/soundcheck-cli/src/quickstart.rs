//! `soundcheck quickstart`: the whole job on built-in demo data (no downloads), vocal
//! separation or `quickstart classification`.

use std::path::PathBuf;

use clap::Args;
use soundcheck_nn::Device;
use soundcheck_tasks::quickstart::{ClassificationQuickstart, SeparationQuickstart};
use soundcheck_tasks::{classification_quickstart, separation_quickstart};

use crate::progress::Bars;
use crate::report::report;

#[derive(clap::Subcommand)]
pub enum QuickTask {
    /// Synthesise 7 sound classes, train the MFCC LSTM, evaluate on the held-out test split
    Classification(QuickstartClassificationArgs),
}

/// Vocal separation on built-in demo songs (no downloads): unpack, check, train, separate
/// the held-out songs, score them beside the mixture and the oracle mask, report.
#[derive(Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  soundcheck quickstart\n  soundcheck quickstart --out demo/ --json\n  soundcheck quickstart classification"
)]
pub struct QuickstartArgs {
    #[command(subcommand)]
    pub task: Option<QuickTask>,
    /// Where the demo songs, the run, the separations and the report go
    #[arg(long, default_value = "soundcheck-quickstart")]
    pub out: PathBuf,
    /// Training epochs (of 1800 random mixes each)
    #[arg(long, default_value_t = 8)]
    pub epochs: usize,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
#[command(after_help = "Example:\n  soundcheck quickstart classification --out demo/ --json")]
pub struct QuickstartClassificationArgs {
    /// Where the demo data, the run and the report go
    #[arg(long, default_value = "soundcheck-quickstart-classification")]
    pub out: PathBuf,
    #[arg(long)]
    pub json: bool,
}

fn separation_line(v: &SeparationQuickstart) -> String {
    let f = |x: Option<f64>| x.map_or("-".into(), |x| format!("{x:.2}"));
    format!(
        "quickstart: vocals SDR {} dB (mixture {} dB, oracle IRM {} dB), accompaniment SDR {} dB, median over {} held-out songs; {:.0} s in all\nseparations, mask pictures and WAVs in {}; run in {}",
        f(v.vocals_sdr), f(v.mixture_vocals_sdr), f(v.oracle_vocals_sdr), f(v.accompaniment_sdr),
        v.held_out_tracks, v.seconds, v.separated.display(), v.run_dir.display()
    )
}

fn classification_line(v: &ClassificationQuickstart) -> String {
    format!(
        "quickstart classification: test accuracy {:.1} % over {} classes in {:.0} s; run in {}, report {}",
        100.0 * v.test_accuracy.unwrap_or(0.0),
        v.classes.len(),
        v.seconds,
        v.run_dir.display(),
        v.report.display()
    )
}

pub fn run(a: &QuickstartArgs, device: &Device) -> u8 {
    match &a.task {
        Some(QuickTask::Classification(c)) => report(
            classification_quickstart(&c.out, device, &Bars::default()),
            c.json,
            classification_line,
        ),
        None => report(
            separation_quickstart(&a.out, a.epochs, device, &Bars::default()),
            a.json,
            separation_line,
        ),
    }
}
