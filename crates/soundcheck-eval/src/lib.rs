//! Evaluation of separation and classification outputs: BSS Eval v4 (museval-compatible SDR,
//! ISR, SIR, SAR) and v3's whole-track `bss_eval_sources` (mir_eval-compatible SDR, SIR, SAR), and classifier accuracy, precision, recall, F1 and confusion matrices.

#![warn(missing_docs)]

pub mod bss;
pub mod classification;
mod fft;
pub mod folders;
mod signals;
mod toeplitz;
mod track;
mod xcorr;

pub use bss::{bss_eval_sources, bss_eval_v4, nanmedian, EvalError, Metrics, FILTERS_LEN};
pub use classification::ClassReport;
pub use folders::{
    length_weighted, medians_over_tracks, score_folders, EvaluateOptions, LengthWeighted, Mode,
    OracleStft, ScoreError, StemRows, TrackScores,
};
