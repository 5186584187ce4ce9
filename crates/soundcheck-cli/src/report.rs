//! How a command's result reaches the user: one JSON object with `--json`, a sentence
//! otherwise; the one place that maps failures to exit codes, and the one place that spells the
//! libraries' argument names as this CLI's flags.

use serde::Serialize;
use serde_json::json;
use soundcheck_shape::{escape_controls, Diagnosis};
use soundcheck_tasks::{FailureKind, TaskError};

/// Every command's exit status: everything fits and was done.
pub const OK: u8 = 0;
/// The model does not fit the data, the labels or its own layers (a shape problem).
pub const MISFIT: u8 = 1;
/// A file, folder or option cannot be used.
pub const UNUSABLE: u8 = 2;

/// The library arguments that are flags of this CLI. Library errors name an argument in
/// backticks as the library spells it (`` `clip_norm` ``), since Python and other programs call
/// the same functions; [`with_flags`] writes each one listed here as the flag that sets it.
const FLAGS: &[&str] = &[
    "augment_copies",
    "batch_size",
    "cache",
    "classes",
    "clip_norm",
    "data",
    "deltas",
    "epochs",
    "features",
    "feed",
    "fill_classes",
    "gain_db",
    "group_by",
    "group_pattern",
    "hop",
    "hop_length",
    "labels",
    "learning_rate",
    "loss",
    "max_minutes",
    "maxlen",
    "mixes",
    "model",
    "n_fft",
    "n_mels",
    "n_mfcc",
    "noise_dir",
    "noise_snr",
    "normalisation",
    "out",
    "output",
    "patch",
    "patch_hop",
    "reference",
    "resume",
    "run",
    "sample_rate",
    "scaling",
    "schedule",
    "seconds",
    "soundfont",
    "speed",
    "split",
    "sr",
    "target",
    "test",
    "test_groups",
    "test_split",
    "train",
    "validation_split",
    "voice_channel",
    "wiener",
    "window",
    "window_hop",
];

/// A library's message as this CLI says it: `` `clip_norm` `` becomes `--clip-norm`, for every
/// argument in [`FLAGS`].
pub fn with_flags(message: &str) -> String {
    FLAGS.iter().fold(message.to_string(), |m, name| {
        m.replace(
            &format!("`{name}`"),
            &format!("--{}", name.replace('_', "-")),
        )
    })
}

/// Exit status of a task's failure.
pub fn exit_code(e: &TaskError) -> u8 {
    match e.kind() {
        FailureKind::Shape => MISFIT,
        FailureKind::Input => UNUSABLE,
    }
}

/// Exit status of a check: the diagnosis, if any, is a misfit or an unusable input.
pub fn diagnosis_code(d: Option<&Diagnosis>) -> u8 {
    match d {
        None => OK,
        Some(d) if d.kind.is_unusable_input() => UNUSABLE,
        Some(_) => MISFIT,
    }
}

/// Writes to standard output. A closed pipe (`soundcheck ... | head`) ends the program quietly
/// with [`OK`], as ripgrep does; any other failure (a full disk behind a redirect) is named on
/// standard error and exits with [`UNUSABLE`]. Every line the CLI prints goes through here
/// (`outln!`, `out!`), never `println!`, which would panic. Control characters from names are
/// escaped ([`escape_controls`]); JSON has none left, serde escapes them.
pub fn emit(args: std::fmt::Arguments) {
    use std::io::Write;
    let text = args.to_string();
    let written = {
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(escape_controls(&text).as_bytes())
            .and_then(|()| stdout.flush())
    };
    if let Err(e) = written {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(OK.into());
        }
        errln!("error: cannot write to standard output ({e}); check where it goes (a full disk?)");
        std::process::exit(UNUSABLE.into());
    }
}

/// Writes to standard error, with control characters escaped as [`emit`] does. A message that
/// cannot be written (`2>/dev/full`, a closed terminal) is dropped: there is nowhere left to
/// say so, and the exit status stays the command's, where `eprintln!` would panic (exit 101).
/// Every message the CLI writes to standard error goes through here (`errln!`, `err!`).
pub fn emit_err(args: std::fmt::Arguments) {
    use std::io::Write;
    let text = args.to_string();
    let _ = std::io::stderr().write_all(escape_controls(&text).as_bytes());
}

/// Prints a command's result and returns the exit status.
pub fn report<T: Serialize>(
    result: Result<T, TaskError>,
    json_out: bool,
    text: impl Fn(&T) -> String,
) -> u8 {
    match result {
        Ok(v) => {
            if json_out {
                outln!(
                    "{}",
                    serde_json::to_string(&v).expect("plain values serialise")
                );
            } else {
                outln!("{}", text(&v));
            }
            OK
        }
        Err(e) => {
            let message = with_flags(&e.to_string());
            if json_out {
                outln!("{}", json!({ "error": message }));
            } else {
                errln!("error: {message}");
            }
            exit_code(&e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_arguments_are_spelled_as_flags() {
        assert_eq!(
            with_flags("`clip_norm` 0: expected a positive norm; choose another `out`"),
            "--clip-norm 0: expected a positive norm; choose another --out"
        );
        // Only this CLI's flags: another backticked name stays as the library wrote it.
        assert_eq!(with_flags("`batch_shape`"), "`batch_shape`");
    }
}
