//! How a command's result reaches the user: one JSON object with `--json`, a sentence
//! otherwise; and the one place that maps failures to exit codes.

use serde::Serialize;
use serde_json::json;
use soundcheck_tasks::{FailureKind, TaskError};

/// Exit status of a failure: 1 the model does not fit the data, 2 anything else.
pub fn exit_code(e: &TaskError) -> u8 {
    match e.kind() {
        FailureKind::Shape => 1,
        FailureKind::Input => 2,
    }
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
                println!(
                    "{}",
                    serde_json::to_string(&v).expect("plain values serialise")
                );
            } else {
                println!("{}", text(&v));
            }
            0
        }
        Err(e) => {
            if json_out {
                println!("{}", json!({"error": e.to_string()}));
            } else {
                eprintln!("error: {e}");
            }
            exit_code(&e)
        }
    }
}
