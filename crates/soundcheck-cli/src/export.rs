//! `soundcheck export RUN model.keras`: a run's model with its trained weights, as a `.keras`
//! file Keras 3 opens with `keras.saving.load_model`.

use std::path::PathBuf;

use clap::Args;
use soundcheck_nn::Device;
use soundcheck_tasks::RunDir;

use crate::report::report;

/// Write a run's trained model as a .keras file that Keras 3 loads (keras.saving.load_model)
#[derive(Args)]
#[command(
    after_help = "Examples:\n  soundcheck export runs/lstm lstm.keras\n  python -c \"import keras; m = keras.saving.load_model('lstm.keras'); print(m.predict(x))\"\n\nKept: the architecture and every weight (BatchNormalization's moving statistics included). Not kept: the optimizer state and the loss (the model opens uncompiled)."
)]
pub struct ExportArgs {
    /// Run directory written by `soundcheck train` (or `soundcheck convert model.keras RUN`)
    pub run: PathBuf,
    /// The .keras file to write
    pub output: PathBuf,
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: &ExportArgs, device: &Device) -> u8 {
    let result = RunDir::open(&a.run)
        .export_keras(&a.output, device)
        .map(|()| serde_json::json!({ "output": a.output }));
    report(result, a.json, |_| format!("wrote {}", a.output.display()))
}
