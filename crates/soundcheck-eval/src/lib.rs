//! Evaluation of separation and classification outputs: BSS Eval v4 (museval-compatible SDR,
//! ISR, SIR, SAR), and classifier accuracy, precision, recall, F1 and confusion matrices.

pub mod bss;
pub mod classification;
mod fft;
mod toeplitz;
mod xcorr;

pub use bss::{bss_eval_v4, nanmedian, EvalError, Metrics, FILTERS_LEN};
pub use classification::ClassReport;
