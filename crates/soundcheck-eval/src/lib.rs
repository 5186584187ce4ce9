//! Evaluation of separation and classification outputs: BSS Eval v4 (museval-compatible SDR,
//! ISR, SIR, SAR).

pub mod bss;
pub mod linalg;

pub use bss::{bss_eval_v4, nanmedian, EvalError, Metrics, FILTERS_LEN};
