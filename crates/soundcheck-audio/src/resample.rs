//! Sample-rate conversion with rubato's FFT resampler, aligned and sized like librosa's.

use rayon::prelude::*;
use rubato::{FftFixedIn, Resampler};

use crate::error::{invalid, Result};

/// The shorter side of rubato's FFT block, in samples, that best matches soxr's HQ filter
/// (librosa's default): rubato's anti-aliasing cutoff is set by that length. Measured for
/// 44.1 → 22.05 kHz: soxr −2.9/−17.5/−33 dB at 0.95/0.97/0.98 of Nyquist; this block −2.1/−20/−42.
const SHORT_SIDE: usize = 320;

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// The input block: an even multiple of `orig / gcd(orig, target)` frames, so that rubato's
/// delay of half a block is a whole number of output samples and can be removed exactly
/// (otherwise the output is off by a fraction of a sample, 0.5 for 48000 → 22050), with its
/// shorter FFT side near [`SHORT_SIDE`].
fn block_size(orig: usize, target: usize) -> usize {
    let g = gcd(orig, target);
    let (unit_in, unit_out) = (orig / g, target / g);
    let j = (SHORT_SIDE as f64 / (2 * unit_in.min(unit_out)) as f64)
        .round()
        .max(1.0) as usize;
    2 * j * unit_in
}

thread_local! {
    static POOL: std::cell::RefCell<std::collections::HashMap<(usize, usize, usize), FftFixedIn<f32>>> =
        Default::default();
}

/// Resamples one channel from `orig_sr` to `target_sr`.
///
/// # Shapes
/// - `y`: `(n,)`
/// - output: `(ceil(n · target_sr / orig_sr),)`, as `librosa.resample(..., fix=True)`
///
/// The resampler's delay is removed, so sample `i` of the output is at time `i / target_sr`,
/// as with soxr (librosa's default `res_type='soxr_hq'`). The two are different band-limited
/// filters: they agree closely below the passband edge and differ near Nyquist.
pub fn resample(y: &[f32], orig_sr: u32, target_sr: u32) -> Result<Vec<f32>> {
    check_rates(orig_sr, target_sr)?;
    if orig_sr == target_sr || y.is_empty() {
        return Ok(y.to_vec());
    }
    resample_blocks(y.len(), orig_sr, target_sr, || SliceBlocks(y))
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
    Ok(())
}

/// Where a resampler's input comes from, one block at a time, in increasing order.
pub(crate) trait Blocks {
    /// Fills `buf` with input samples `k·block .. (k+1)·block`, zeros past the end.
    fn block(&mut self, k: usize, block: usize, buf: &mut Vec<f32>) -> Result<()>;
}

struct SliceBlocks<'a>(&'a [f32]);

impl Blocks for SliceBlocks<'_> {
    fn block(&mut self, k: usize, block: usize, buf: &mut Vec<f32>) -> Result<()> {
        let y = self.0;
        buf.clear();
        buf.extend_from_slice(&y[(k * block).min(y.len())..((k + 1) * block).min(y.len())]);
        buf.resize(block, 0.0);
        Ok(())
    }
}

/// Resamples `n_in` samples read through `source` (one source per parallel task).
///
/// Output block k lands at k·out_block − delay and depends on input blocks k and k−1 only (one
/// block of overlap-add state), so each task starts one block early, discards that output, and
/// the result matches a sequential run exactly.
pub(crate) fn resample_blocks<S: Blocks>(
    n_in: usize,
    orig_sr: u32,
    target_sr: u32,
    source: impl Fn() -> S + Sync,
) -> Result<Vec<f32>> {
    check_rates(orig_sr, target_sr)?;
    let want = (n_in as u64 * target_sr as u64).div_ceil(orig_sr as u64) as usize;
    let (orig, target) = (orig_sr as usize, target_sr as usize);
    let block = block_size(orig, target);
    let out_block = block * target / orig;
    let delay = out_block / 2;
    let make = || -> Result<FftFixedIn<f32>> {
        // A reset resampler starts from the same state as a new one, without re-planning its
        // FFTs: each thread keeps the ones it has used.
        let reused = POOL.with(|p| p.borrow_mut().remove(&(orig, target, block)));
        match reused {
            Some(mut r) => {
                r.reset();
                Ok(r)
            }
            None => FftFixedIn::<f32>::new(orig, target, block, 1, 1).map_err(|e| {
                invalid(
                    "sr",
                    target_sr,
                    "a rate rubato can convert to",
                    e.to_string(),
                )
            }),
        }
    };
    let keep = |r: FftFixedIn<f32>| POOL.with(|p| p.borrow_mut().insert((orig, target, block), r));
    // Writes final output samples `a..a + chunk.len()`.
    let run = |r: &mut FftFixedIn<f32>, a: usize, chunk: &mut [f32]| -> Result<()> {
        let mut src = source();
        let (first, last) = (
            (a + delay) / out_block,
            (a + chunk.len() + delay).div_ceil(out_block),
        );
        let mut inp = Vec::with_capacity(block);
        let mut res = vec![vec![0f32; r.output_frames_max()]];
        if first > 0 {
            src.block(first - 1, block, &mut inp)?;
            r.process_into_buffer(&[&inp], &mut res, None)
                .expect("buffer sizes come from the resampler");
        }
        for k in first..last {
            src.block(k, block, &mut inp)?;
            r.process_into_buffer(&[&inp], &mut res, None)
                .expect("buffer sizes come from the resampler");
            // Block k covers final samples [k·ob − delay, (k+1)·ob − delay) ∩ [a, a + len).
            let lo = (k * out_block).saturating_sub(delay).max(a);
            let hi = ((k + 1) * out_block - delay).min(a + chunk.len());
            if lo < hi {
                let from = lo + delay - k * out_block;
                chunk[lo - a..hi - a].copy_from_slice(&res[0][from..from + hi - lo]);
            }
        }
        Ok(())
    };
    let mut resampler = make()?;
    let per_task = (want.div_ceil(rayon::current_num_threads().max(1))).max(16 * out_block);
    let mut out = vec![0f32; want];
    if want <= per_task {
        run(&mut resampler, 0, &mut out)?;
    } else {
        out.par_chunks_mut(per_task)
            .enumerate()
            .map(|(task, chunk)| {
                let mut r = make()?;
                let done = run(&mut r, task * per_task, chunk);
                keep(r);
                done
            })
            .collect::<Result<()>>()?;
    }
    keep(resampler);
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
