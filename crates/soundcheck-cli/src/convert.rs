//! `soundcheck convert IN OUT`: between Keras JSON, soundcheck JSON and soundcheck TOML; a trained
//! Keras model file (`.keras`, `.h5`) into a soundcheck run folder.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use soundcheck_nn::Device;
use soundcheck_shape::{keras, Diagnosis, Kind};
use soundcheck_tasks::RunDir;

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Toml,
    Json,
    Keras,
}

/// Convert a model between Keras JSON (model.to_json(), .keras), soundcheck JSON and TOML, or a
/// trained Keras model (.keras, .h5) with its weights into a soundcheck run folder
#[derive(Args)]
#[command(
    after_help = "Examples:\n  soundcheck convert model.keras model.toml\n  soundcheck convert models/vocal-mask.toml vocal-mask.keras.json --to keras\n  soundcheck convert trained.keras runs/trained/   # a run: predict --run, separate --run, export"
)]
pub struct ConvertArgs {
    /// Model to read: .toml, .json (soundcheck or Keras), .keras, Keras .h5
    input: PathBuf,
    /// File to write; a folder (no extension, or a trailing /) takes a Keras model's weights too,
    /// as a run
    output: PathBuf,
    /// Output format; default from OUTPUT's extension (.toml → toml, .json → json)
    #[arg(long, value_enum)]
    to: Option<Format>,
}

fn convert(a: &ConvertArgs) -> Result<(), Diagnosis> {
    if soundcheck_io::check_outputs(&[&a.input], &[&a.output]).is_err() {
        return Err(Diagnosis::new(
            Kind::InvalidSpec,
            format!("{}: the output is the input", a.output.display()),
        )
        .expected("an output file other than the input")
        .fix("write the converted model to a new file; convert never overwrites its input"));
    }
    let spec = soundcheck_shape::load_model(&a.input)?;
    let ext = a
        .output
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_lowercase();
    let format = match (a.to, ext.as_str()) {
        (Some(f), _) => f,
        (None, "toml") => Format::Toml,
        (None, "json") => Format::Json,
        (None, other) => {
            return Err(Diagnosis::new(
                Kind::InvalidSpec,
                format!("cannot tell the output format from '.{other}'"),
            )
            .fix("name the output .toml or .json, or pass --to toml|json|keras"))
        }
    };
    let text = match format {
        Format::Toml => spec.to_toml_string()?,
        Format::Json => spec.to_json_string(),
        Format::Keras => {
            let mut s = serde_json::to_string_pretty(&keras::to_keras(&spec)?).unwrap_or_default();
            s.push('\n');
            s
        }
    };
    soundcheck_io::write_atomic(&a.output, text.as_bytes()).map_err(|e| {
        Diagnosis::new(
            Kind::InvalidSpec,
            format!("{}: cannot write ({e})", a.output.display()),
        )
        .fix("check that the folder exists and is writable")
    })
}

/// Whether the output names a folder: a trailing separator, an existing folder, or no extension.
fn is_folder(p: &Path) -> bool {
    p.as_os_str()
        .to_string_lossy()
        .ends_with(std::path::MAIN_SEPARATOR)
        || p.is_dir()
        || p.extension().is_none()
}

pub fn run(a: &ConvertArgs, device: &Device) -> u8 {
    if a.to.is_none() && is_folder(&a.output) {
        return crate::report::report(
            RunDir::import_keras(&a.input, &a.output, device).map(|r| r.path().to_path_buf()),
            false,
            |out| format!("wrote the run {}", out.display()),
        );
    }
    match convert(a) {
        Ok(()) => {
            errln!("wrote {}", a.output.display());
            crate::report::OK
        }
        Err(d) => {
            err!("{}", crate::report::with_flags(&d.render()));
            crate::report::UNUSABLE
        }
    }
}
