//! `soundcheck`: check every tensor shape before anything trains.
//!
//! This binary parses arguments, prints results and maps failures to exit codes; the work is
//! done by the library crates (`soundcheck-tasks` for training, separation and
//! classification).

// Diagnoses are large by design and only built on the failure path.
#![allow(clippy::result_large_err)]

/// `print!` through [`report::emit`]: a closed pipe exits quietly, a full disk is named.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::report::emit(format_args!($($arg)*))
    };
}

/// `println!` through [`report::emit`].
macro_rules! outln {
    () => {
        $crate::report::emit(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::report::emit(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprint!` through [`report::emit_err`]: a failed write is dropped, never a panic.
macro_rules! err {
    ($($arg:tt)*) => {
        $crate::report::emit_err(format_args!($($arg)*))
    };
}

/// `eprintln!` through [`report::emit_err`].
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::report::emit_err(format_args!("{}\n", format_args!($($arg)*)))
    };
}

mod batch_args;
mod check;
mod classify;
mod convert;
mod device;
mod evaluate;
mod export;
mod features;
mod fit_args;
mod predict;
mod progress;
mod quickstart;
mod report;
mod separate;
mod songs;
mod train;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "soundcheck",
    version,
    about = "Deep learning on audio, with every tensor shape checked before anything trains",
    after_help = "Examples:\n  soundcheck quickstart\n  soundcheck check models/vocal-mask.toml\n  soundcheck check models/vocal-mask.toml --feed 32,2584\n  soundcheck convert model.keras model.toml\n  soundcheck train --model models/mfcc-lstm.toml --data data/ --epochs 20 --out runs/lstm"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Where networks train and run: cpu (burn-flex, every build) or wgpu (a GPU through Vulkan,
    /// Metal or DX12; builds with `--features wgpu`)
    #[arg(long, global = true, default_value = "cpu")]
    device: String,
}

#[derive(Subcommand)]
enum Command {
    Check(check::CheckArgs),
    Convert(convert::ConvertArgs),
    Export(export::ExportArgs),
    Features(Box<features::FeaturesArgs>),
    Evaluate(evaluate::EvaluateArgs),
    Train(Box<TrainCommand>),
    Predict(predict::PredictArgs),
    /// Label audio files with a classifier run
    Classify(classify::ClassifyArgs),
    /// Accuracy, per-class precision/recall/F1 and the confusion matrix of a classifier run
    EvaluateClassifier(classify::EvaluateClassifierArgs),
    /// Separate a target stem (vocals) from mixtures with a separation run
    Separate(separate::SeparateArgs),
    /// Run the whole job on built-in demo data (no downloads): vocal separation, or
    /// `quickstart classification`
    Quickstart(quickstart::QuickstartArgs),
    Songs(songs::SongsArgs),
}

/// Train a checked model on x.npy/y.npy (or `train classification`, `train separation`), with
/// progress, checkpoints, a log and curves; `--resume` continues a run
#[derive(Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "Examples:\n  soundcheck train --model models/mfcc-lstm.toml --data data/ --epochs 20 --out runs/lstm\n  soundcheck train --data data/ --out runs/lstm --resume --epochs 40\n  soundcheck train classification --data sounds/ --model models/mfcc-lstm.toml --out runs/sounds\n\nThe run directory holds model.json, train.json, weights.safetensors (Keras variable names), checkpoint.safetensors, log.csv and curves.png."
)]
struct TrainCommand {
    #[command(subcommand)]
    task: Option<TrainTask>,
    #[command(flatten)]
    arrays: train::TrainArgs,
}

#[derive(Subcommand)]
enum TrainTask {
    /// Train a classifier on a folder per class (DATA/<label>/*.wav) or a CSV manifest
    // Both boxed: their flags differ in size by hundreds of bytes (clippy's large_enum_variant),
    // and the enum is built once per process.
    Classification(Box<classify::ClassificationArgs>),
    /// Train a spectrogram-mask separator on DSD100 or MUSDB18-HQ
    Separation(Box<separate::SeparationArgs>),
}

/// Exit status: 0 everything fits, 1 a shape problem was found, 2 an input could not be used.
fn main() -> ExitCode {
    // Ctrl-C or a SIGTERM (a scheduler's kill) ends the run without leaving partial files: the
    // temporary files of unfinished writes are deleted first. 130 is what a shell reports for
    // Ctrl-C. A handler that cannot be installed only loses this cleanup.
    let _ = ctrlc::set_handler(|| soundcheck_io::remove_temporary_files_and_exit(130));
    // Training and inference free and reallocate tensors of tens of MB every step: keeping freed
    // blocks in the heap saves a fifth of a step (see `keep_freed_memory`). The binary chooses
    // this for its process; the libraries leave the allocator as their host set it.
    soundcheck_io::keep_freed_memory();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return ExitCode::from(parse_failure(&e)),
    };
    let device = match device::parse(&cli.device) {
        Ok(d) => d,
        Err(e) => {
            errln!("error: {e}");
            return ExitCode::from(report::UNUSABLE);
        }
    };
    let code = match cli.command {
        Command::Check(a) => check::run(&a),
        Command::Convert(a) => convert::run(&a, &device),
        Command::Export(a) => export::run(&a, &device),
        Command::Features(a) => features::run(&a),
        Command::Evaluate(a) => evaluate::run(&a),
        Command::Train(a) => match &a.task {
            Some(TrainTask::Classification(c)) => classify::run_train(c, &device),
            Some(TrainTask::Separation(s)) => separate::run_train(s, &device),
            None => train::run(&a.arrays, &device),
        },
        Command::Predict(a) => predict::run(&a, &device),
        Command::Classify(a) => classify::run_classify(&a, &device),
        Command::EvaluateClassifier(a) => classify::run_evaluate(&a, &device),
        Command::Separate(a) => separate::run_separate(&a, &device),
        Command::Quickstart(a) => quickstart::run(&a, &device),
        Command::Songs(a) => songs::run(&a),
    };
    ExitCode::from(code)
}

/// Prints clap's help, version or usage error and returns the exit status. `Cli::parse` would
/// exit 0 after `--help >/dev/full` wrote nothing, and could panic writing an error: help or a
/// version that cannot be written exits with [`report::UNUSABLE`], and a usage error keeps its
/// status whether or not it could be written.
fn parse_failure(e: &clap::Error) -> u8 {
    use std::io::Write;
    let printed = e.print().and_then(|()| std::io::stdout().flush());
    let code = u8::try_from(e.exit_code()).unwrap_or(report::UNUSABLE);
    if printed.is_err() && !e.use_stderr() {
        report::UNUSABLE
    } else {
        code
    }
}
