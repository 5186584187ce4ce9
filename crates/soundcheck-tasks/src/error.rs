//! Errors of the tasks: each names the file, run folder or argument, what was expected and what
//! was found, and what to do; the error it comes from stays reachable through `source()`. An
//! argument is named in backticks as the library spells it (`` `clip_norm` ``), never as a
//! command-line flag: the CLI maps the names to its flags where it reports.

use std::path::{Path, PathBuf};

use soundcheck_audio::AudioError;
use soundcheck_data::DataError;
use soundcheck_nn::NnError;
use soundcheck_shape::Diagnosis;

/// Why a task stopped.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// The model does not check, or does not fit the data: the shape engine's diagnosis.
    #[error("{0}")]
    Shape(Box<Diagnosis>),
    /// Building, training or running the network failed.
    #[error(transparent)]
    Nn(#[from] NnError),
    /// A dataset that cannot be used.
    #[error(transparent)]
    Data(#[from] DataError),
    /// An audio file that cannot be decoded, or a feature setting librosa would refuse (the
    /// message names the file or the argument).
    #[error(transparent)]
    Audio(#[from] AudioError),
    /// Clips whose features cannot be computed: every one is named, not only the first.
    #[error(
        "{failed} of {total} clips cannot be used:\n  {reasons}\nremove or replace these files"
    )]
    Clips {
        /// How many failed.
        failed: usize,
        /// How many were read.
        total: usize,
        /// One line per failed clip, naming it.
        reasons: String,
    },
    /// A file or folder that cannot be read or written.
    #[error("{}: cannot {action} ({source}); {hint}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What was being done: "read", "write", "create the folder".
        action: &'static str,
        /// The io error, its kind kept.
        #[source]
        source: std::io::Error,
        /// What to check.
        hint: &'static str,
    },
    /// A run folder, output folder or record that cannot be used as asked.
    #[error("{}: {actual}; {hint}", path.display())]
    Folder {
        /// The folder or record.
        path: PathBuf,
        /// What was found.
        actual: String,
        /// What to do about it.
        hint: String,
    },
    /// An argument with a value it cannot take.
    #[error("`{name}` {actual}: expected {expected}")]
    Option {
        /// The argument's name as the library spells it (`clip_norm`); a front end shows it in
        /// its own spelling (the CLI's `--clip-norm`).
        name: &'static str,
        /// The value given.
        actual: String,
        /// The values it can take.
        expected: String,
    },
    /// A file whose processing failed for a reason of its own (a track that cannot be
    /// resampled, a mixture that cannot be separated), the file named.
    #[error("{}", named(path, source))]
    File {
        /// The file.
        path: PathBuf,
        /// The error of its processing.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// `path: message`, unless the message already starts by naming the path (an audio or `.npy`
/// error names its file itself): one name, never "x.wav: x.wav: …".
fn named(path: &std::path::Path, source: &dyn std::fmt::Display) -> String {
    let (path, message) = (path.display().to_string(), source.to_string());
    if message.starts_with(&format!("{path}:")) {
        message
    } else {
        format!("{path}: {message}")
    }
}

/// What kind of failure, for exit codes: the CLI maps these in one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The model does not fit the data or the labels (exit 1).
    Shape,
    /// A file, folder or option cannot be used (exit 2).
    Input,
}

impl TaskError {
    /// Every clip's value, or one [`TaskError::Clips`] naming each clip that failed (not only
    /// the first), for work done on many clips at once.
    pub(crate) fn every_clip<T>(results: Vec<Result<T>>) -> Result<Vec<T>> {
        let failed: Vec<String> = results
            .iter()
            .filter_map(|r| r.as_ref().err().map(ToString::to_string))
            .collect();
        if !failed.is_empty() {
            return Err(TaskError::Clips {
                failed: failed.len(),
                total: results.len(),
                reasons: failed.join("\n  "),
            });
        }
        Ok(results.into_iter().map(|r| r.expect("checked")).collect())
    }

    /// Whether the model does not fit the data, or an input cannot be used.
    pub fn kind(&self) -> FailureKind {
        match self {
            TaskError::Shape(_)
            | TaskError::Nn(NnError::Spec(_))
            | TaskError::Data(DataError::Shape(_)) => FailureKind::Shape,
            TaskError::Nn(NnError::Data(d)) if matches!(**d, DataError::Shape(_)) => {
                FailureKind::Shape
            }
            _ => FailureKind::Input,
        }
    }

    /// An io error on `path`, with what was being done and what to check.
    pub fn io(path: impl Into<PathBuf>, action: &'static str, source: std::io::Error) -> TaskError {
        let hint = match source.kind() {
            std::io::ErrorKind::NotFound => "check the path",
            std::io::ErrorKind::PermissionDenied => {
                "check the permissions, or choose another folder"
            }
            _ => "check the path, the permissions and the free space",
        };
        TaskError::Io {
            path: path.into(),
            action,
            source,
            hint,
        }
    }

    /// [`soundcheck_io::check_outputs`] as the error of argument `name` (the output's), so that
    /// every task refuses an output naming an input, or a file of the run it reads, alike.
    pub fn check_outputs(name: &'static str, reads: &[&Path], writes: &[&Path]) -> Result<()> {
        soundcheck_io::check_outputs(reads, writes).map_err(|c| TaskError::Option {
            name,
            actual: c.output.display().to_string(),
            expected: format!(
                "a path that is not the {} {} (nothing a command reads or writes is overwritten); \
                 choose another path",
                if c.both_outputs {
                    "other output"
                } else {
                    "input"
                },
                c.input.display()
            ),
        })
    }

    /// A failure of one file's processing, naming the file.
    pub fn file(
        path: impl Into<PathBuf>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> TaskError {
        TaskError::File {
            path: path.into(),
            source: Box::new(source),
        }
    }
}

impl From<Diagnosis> for TaskError {
    fn from(d: Diagnosis) -> TaskError {
        TaskError::Shape(Box::new(d))
    }
}

/// A result whose error is a [`TaskError`].
pub type Result<T> = std::result::Result<T, TaskError>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error;

    #[test]
    fn io_errors_keep_their_kind_and_name_the_path() {
        let e = TaskError::io(
            "runs/x/log.csv",
            "write",
            std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied"),
        );
        assert_eq!(
            e.to_string(),
            "runs/x/log.csv: cannot write (denied); check the permissions, or choose another folder"
        );
        let source = e.source().expect("the io error is the source");
        let io = source.downcast_ref::<std::io::Error>().unwrap();
        assert_eq!(io.kind(), std::io::ErrorKind::PermissionDenied);
        assert_eq!(e.kind(), FailureKind::Input);
    }

    #[test]
    fn shape_failures_are_their_own_kind() {
        let d = Diagnosis::new(soundcheck_shape::Kind::LabelMismatch, "10 units, 7 classes");
        assert_eq!(TaskError::from(d.clone()).kind(), FailureKind::Shape);
        assert_eq!(TaskError::Nn(NnError::from(d)).kind(), FailureKind::Shape);
    }

    #[test]
    fn a_file_error_names_its_file_once() {
        let own = std::io::Error::other("song.wav: not a recognised audio container");
        assert_eq!(
            TaskError::file("song.wav", own).to_string(),
            "song.wav: not a recognised audio container"
        );
        let bare = std::io::Error::other("resampling failed");
        assert_eq!(
            TaskError::file("song.wav", bare).to_string(),
            "song.wav: resampling failed"
        );
    }
}
