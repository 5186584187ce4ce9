//! Sample-rate conversion as librosa does it by default (`res_type='soxr_hq'`): soxr's HQ
//! recipe (libsoxr 0.1.3), re-implemented — the same stages, filter designs, clock and edge
//! behaviour, so outputs agree with `librosa.resample` / `librosa.load(sr=…)` to float rounding
//! across the band, transition band and the first and last samples included.
//!
//! - [`plan`]: which stages a ratio gets, and their filters ([`design`]);
//! - [`fir`]: the FFT-convolved stages (small ratios L/M, halvings);
//! - [`poly`]: the polyphase stage for the rest of the ratio.
//!
//! soxr streams: each stage starts with zeros for the samples before the first (its "preload")
//! and the end is flushed with zeros. So every stage's output is what its filter makes of the
//! zero-extended input, for output indices from 0 on; an earlier stage's output before index 0
//! is taken as zero, not computed. That is what this module computes, in independent chunks of
//! output (in parallel, each from the input span it needs), rather than as a stream.

mod design;
mod fir;
mod plan;
mod poly;

use rayon::prelude::*;

use crate::error::{invalid, Result};
use fir::FirScratch;
use plan::Stage;

/// The largest ratio between the two rates, either way. Real conversions stay far below it
/// (8 → 384 kHz is 48×); beyond it a rate is almost surely a damaged header, and the output
/// would be that many times larger than the input.
const MAX_RATIO: u64 = 4096;

/// Final output samples per chunk, at most: each chunk holds every stage's span at once, reused
/// chunk after chunk.
const CHUNK: usize = 1 << 14;
/// Input samples per chunk, at most (fewer outputs per chunk when downsampling far), so that
/// memory stays flat at a few hundred kB per task whatever the ratio.
const CHUNK_IN: f64 = 65536.0;

/// The stages for one rate pair, planned once per pair for the process.
struct Converter {
    io_ratio: f64,
    stages: Vec<Stage>,
    /// Final output samples per chunk: a power of two up to [`CHUNK`].
    chunk: usize,
}

impl Converter {
    fn cached(orig_sr: u32, target_sr: u32) -> std::sync::Arc<Converter> {
        static CONVERTERS: crate::memo::Memo<(u32, u32), Converter> = crate::memo::Memo::new();
        CONVERTERS.get_or_build((orig_sr, target_sr), || {
            let io_ratio = orig_sr as f64 / target_sr as f64;
            let fit = (CHUNK_IN / io_ratio).clamp(256.0, CHUNK as f64) as usize;
            Converter {
                io_ratio,
                stages: plan::plan(io_ratio),
                chunk: 1 << fit.ilog2(),
            }
        })
    }

    /// The number of samples soxr writes for `n` input samples: `round(n / io_ratio)`.
    fn out_len(&self, n: usize) -> usize {
        (n as f64 / self.io_ratio + 0.5) as usize
    }
}

impl Stage {
    fn input_range(&self, a: i64, b: i64) -> (i64, i64) {
        match self {
            Stage::Fir(f) => f.input_range(a, b),
            Stage::Poly(p) => p.input_range(a, b),
        }
    }
}

/// Copies samples `from..from + out.len()` of a signal of which `span` holds samples
/// `span_lo..`, with zeros wherever `span` has none.
pub(crate) fn copy_span(span: &[f32], span_lo: i64, from: i64, out: &mut [f32]) {
    let lo = (span_lo - from).clamp(0, out.len() as i64) as usize;
    let hi = (span_lo + span.len() as i64 - from).clamp(lo as i64, out.len() as i64) as usize;
    out[..lo].fill(0.0);
    if lo < hi {
        let s = (from + lo as i64 - span_lo) as usize;
        out[lo..hi].copy_from_slice(&span[s..s + hi - lo]);
    }
    out[hi..].fill(0.0);
}

/// Resamples one channel from `orig_sr` to `target_sr`.
///
/// # Shapes
/// - `y`: `(n,)`
/// - output: `(ceil(n · target_sr / orig_sr),)`, as `librosa.resample(..., fix=True)`: soxr
///   writes `round(n · target_sr / orig_sr)` samples and librosa pads with a zero where the
///   rounding went down.
///
/// Sample `i` of the output is at time `i / target_sr`, as soxr's linear-phase filters leave it.
pub fn resample(y: &[f32], orig_sr: u32, target_sr: u32) -> Result<Vec<f32>> {
    check_rates(orig_sr, target_sr)?;
    // librosa refuses it too (`valid_audio`): a NaN would smear over the filter's length.
    crate::error::check_finite("resample input", y)?;
    if orig_sr == target_sr || y.is_empty() {
        return Ok(y.to_vec());
    }
    resample_from(y.len(), orig_sr, target_sr, || SliceSource(y))
}

fn check_rates(orig_sr: u32, target_sr: u32) -> Result<()> {
    if orig_sr == 0 {
        return Err(invalid("orig_sr", 0, "a positive sample rate in Hz", ""));
    }
    if target_sr == 0 {
        return Err(invalid(
            "sr",
            0,
            "a positive sample rate in Hz",
            "librosa's default is 22050",
        ));
    }
    let (hi, lo) = (orig_sr.max(target_sr) as u64, orig_sr.min(target_sr) as u64);
    if hi > MAX_RATIO * lo {
        let (name, value) = if target_sr > orig_sr {
            ("sr", target_sr)
        } else {
            ("orig_sr", orig_sr)
        };
        return Err(invalid(
            name,
            value,
            format!("rates within {MAX_RATIO}× of each other"),
            format!(
                "{orig_sr} → {target_sr} Hz is a ratio of {:.0}; check that {orig_sr} Hz is the \
                 input's real rate (a damaged header?) and that {target_sr} Hz is the rate you \
                 meant",
                hi as f64 / lo as f64
            ),
        ));
    }
    Ok(())
}

/// Where a resampler's input comes from.
pub(crate) trait Source {
    /// Fills `buf` with input samples `start..start + buf.len()`, zeros past the end. Calls come
    /// in increasing order of `start`.
    fn read(&mut self, start: usize, buf: &mut [f32]) -> Result<()>;
}

struct SliceSource<'a>(&'a [f32]);

impl Source for SliceSource<'_> {
    fn read(&mut self, start: usize, buf: &mut [f32]) -> Result<()> {
        copy_span(self.0, 0, start as i64, buf);
        Ok(())
    }
}

/// One task's spans and working memory: `spans[k]` holds stage `k`'s output (`spans[0]` the
/// input), each with the index of its first sample.
struct Run<'c> {
    conv: &'c Converter,
    spans: Vec<(i64, Vec<f32>)>,
    firs: Vec<Option<FirScratch>>,
    /// The polyphase stage's read positions.
    at: Vec<poly::At>,
}

impl<'c> Run<'c> {
    fn new(conv: &'c Converter) -> Run<'c> {
        Run {
            conv,
            spans: vec![(0, Vec::new()); conv.stages.len() + 1],
            firs: conv
                .stages
                .iter()
                .map(|s| match s {
                    Stage::Fir(f) => Some(f.scratch()),
                    Stage::Poly(_) => None,
                })
                .collect(),
            at: Vec::new(),
        }
    }

    /// Final outputs `a..a + out.len()` of an input of `n` samples read through `src`.
    fn outputs<S: Source>(
        &mut self,
        n: usize,
        src: &mut S,
        a: usize,
        out: &mut [f32],
    ) -> Result<()> {
        let stages = &self.conv.stages;
        // Back from the output: the span each stage must produce. Before index 0 an
        // intermediate signal is zero, so only indices from 0 on need inputs.
        let mut want = (a as i64, (a + out.len()) as i64);
        for (k, stage) in stages.iter().enumerate().rev() {
            self.spans[k + 1].0 = want.0;
            self.spans[k + 1].1.resize((want.1 - want.0) as usize, 0.0);
            want = stage.input_range(want.0.max(0), want.1);
        }
        let (lo, hi) = want;
        let input = &mut self.spans[0];
        input.0 = lo;
        input.1.resize((hi - lo) as usize, 0.0);
        let skip = (-lo).clamp(0, hi - lo) as usize;
        input.1[..skip].fill(0.0);
        if lo + (skip as i64) < n as i64 {
            src.read((lo + skip as i64) as usize, &mut input.1[skip..])?;
        } else {
            input.1[skip..].fill(0.0);
        }
        for (k, stage) in stages.iter().enumerate() {
            let (done, rest) = self.spans.split_at_mut(k + 1);
            let (in_lo, input) = (&done[k].0, &done[k].1);
            let (out_lo, span) = (&rest[0].0, &mut rest[0].1);
            let skip = (-out_lo).clamp(0, span.len() as i64) as usize;
            span[..skip].fill(0.0);
            let first = out_lo + skip as i64;
            match stage {
                Stage::Fir(f) => f.process(
                    input,
                    *in_lo,
                    first,
                    &mut span[skip..],
                    self.firs[k].as_mut().expect("made for each FFT stage"),
                ),
                Stage::Poly(p) => p.process(input, *in_lo, first, &mut span[skip..], &mut self.at),
            }
        }
        out.copy_from_slice(&self.spans[stages.len()].1);
        Ok(())
    }
}

/// Resamples `n_in` samples read through `source` (one source per parallel task).
pub(crate) fn resample_from<S: Source>(
    n_in: usize,
    orig_sr: u32,
    target_sr: u32,
    source: impl Fn() -> S + Sync,
) -> Result<Vec<f32>> {
    check_rates(orig_sr, target_sr)?;
    let want = (n_in as u64 * target_sr as u64).div_ceil(orig_sr as u64) as usize;
    let conv = Converter::cached(orig_sr, target_sr);
    let written = conv.out_len(n_in).min(want);
    let mut out = soundcheck_io::budget::vec(
        &format!("resampled audio ({n_in} samples at {orig_sr} Hz to `sr` = {target_sr} Hz)"),
        &[want],
        0f32,
    )
    .map_err(|e| {
        invalid(
            "sr",
            target_sr,
            "an output that fits in memory",
            e.to_string(),
        )
    })?;
    // Chunks start at multiples of the chunk length whatever the number of threads: the FFT
    // blocks, and so the rounding, depend on where a chunk starts.
    let chunk = conv.chunk;
    let per_task = written
        .div_ceil(rayon::current_num_threads().max(1))
        .max(1)
        .next_multiple_of(chunk);
    out[..written]
        .par_chunks_mut(per_task)
        .enumerate()
        .try_for_each(|(task, part)| {
            let (mut src, mut run) = (source(), Run::new(&conv));
            for (c, part) in part.chunks_mut(chunk).enumerate() {
                run.outputs(n_in, &mut src, task * per_task + c * chunk, part)?;
            }
            Ok(())
        })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sine_lands_on_the_ideal_sine_at_every_ratio() {
        for (a, b) in [
            (44100u32, 22050u32),
            (48000, 22050),
            (22050, 16000),
            (8000, 22050),
            (22050, 44100),
        ] {
            let f = 220.0f64;
            let x: Vec<f32> = (0..a as usize)
                .map(|i| (2.0 * std::f64::consts::PI * f * i as f64 / a as f64).sin() as f32)
                .collect();
            let y = resample(&x, a, b).unwrap();
            assert_eq!(y.len(), b as usize);
            // Away from the edges (where the input starts and stops abruptly):
            let m = y.len();
            let err = (500..m - 500)
                .map(|i| {
                    (y[i] - (2.0 * std::f64::consts::PI * f * i as f64 / b as f64).sin() as f32)
                        .abs()
                })
                .fold(0f32, f32::max);
            assert!(err < 1e-4, "{a} -> {b}: {err}");
        }
    }

    #[test]
    fn parallel_blocks_match_a_single_thread_exactly() {
        let x: Vec<f32> = (0..300_000u64)
            .map(|i| ((i as f32) * 0.013).sin() + ((i * 7919 % 1000) as f32 / 1000.0 - 0.5) * 0.1)
            .collect();
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let many = rayon::ThreadPoolBuilder::new()
            .num_threads(5)
            .build()
            .unwrap();
        for (a, b) in [(44100, 22050), (48000, 22050), (8000, 22050)] {
            let seq = one.install(|| resample(&x, a, b).unwrap());
            let par = many.install(|| resample(&x, a, b).unwrap());
            assert_eq!(seq, par, "{a} -> {b}");
        }
    }

    #[test]
    fn zero_rates_are_errors() {
        assert!(resample(&[0.0; 10], 0, 22050)
            .unwrap_err()
            .to_string()
            .starts_with("orig_sr=0"));
        assert!(resample(&[0.0; 10], 44100, 0)
            .unwrap_err()
            .to_string()
            .starts_with("sr=0"));
    }
}
