//! `soundcheck convert IN OUT`: between Keras JSON, soundcheck JSON and soundcheck TOML.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use soundcheck_shape::{keras, Diagnosis, Kind};

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Toml,
    Json,
    Keras,
}

/// Convert a model between Keras JSON (model.to_json(), .keras), soundcheck JSON and TOML.
#[derive(Args)]
#[command(
    after_help = "Examples:\n  soundcheck convert model.keras model.toml\n  soundcheck convert models/vocal-mask.toml vocal-mask.keras.json --to keras"
)]
pub struct ConvertArgs {
    /// Model to read: .toml, .json (soundcheck or Keras), .keras
    input: PathBuf,
    /// File to write
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

pub fn run(a: &ConvertArgs) -> u8 {
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
