//! Cross-correlations of long signals at the few lags BSS Eval uses.
//!
//! One FFT of the whole track per signal and one inverse per pair (what museval does) spends
//! almost all of its work on lags nobody reads. Here the track is cut into blocks; each block's
//! spectra are multiplied pairwise and summed, and only the sum goes back through one short
//! inverse FFT per pair. The result is the same linear correlation.

use rayon::prelude::*;
use realfft::num_complex::Complex64;

use crate::fft::Fft;

/// Bins per tile of the multiply-add: the tile of every pair's sum fits in a core's L2 cache.
const TILE: usize = 256;

/// `signal[from..from + n]`, zero outside the signal.
fn segment(signal: &[f64], from: isize, n: usize) -> Vec<f64> {
    let mut out = vec![0.0; n];
    let (lo, hi) = (from.max(0), (from + n as isize).min(signal.len() as isize));
    if lo < hi {
        let (lo, hi) = (lo as usize, hi as usize);
        let at = (lo as isize - from) as usize;
        out[at..at + hi - lo].copy_from_slice(&signal[lo..hi]);
    }
    out
}

/// `out[pair][k + max_lag] = Σ_t a[t + k]·b[t]` for `k` in `−max_lag..=max_lag`, where
/// `(a, b) = pairs[pair]` index `signals` (all of one length) and samples outside a signal are 0.
///
/// # Shapes
/// - `signals`: `[signal][sample]`, `pairs`: `[(a, b)]` → `[pair][2·max_lag + 1]`
pub fn correlations(signals: &[&[f64]], pairs: &[(usize, usize)], max_lag: usize) -> Vec<Vec<f64>> {
    let len = signals.first().map_or(0, |s| s.len());
    let span = 2 * max_lag;
    // Each block costs a few FFTs of this size per signal and a multiply-add per bin per pair;
    // 8× the lag span keeps the padding (the span) a small part of every block.
    let fft = Fft::new((8 * span).max(64).next_power_of_two());
    let block = fft.n - span;
    let nblocks = len.div_ceil(block).max(1);
    let bins = fft.n / 2 + 1;
    let leads: Vec<bool> = (0..signals.len())
        .map(|s| pairs.iter().any(|p| p.0 == s))
        .collect();
    let trails: Vec<bool> = (0..signals.len())
        .map(|s| pairs.iter().any(|p| p.1 == s))
        .collect();
    let zero = || vec![vec![Complex64::new(0.0, 0.0); bins]; pairs.len()];
    // One contiguous run of blocks per thread: each sum is pairs × bins complex values, too
    // many to make one per block.
    let threads = rayon::current_num_threads().max(1);
    let per_thread = nblocks.div_ceil(threads);
    let sums = (0..threads)
        .into_par_iter()
        .map(|t| {
            let mut acc = zero();
            for m in t * per_thread..((t + 1) * per_thread).min(nblocks) {
                let start = m * block;
                // b: the block itself; a: the block with max_lag samples either side, so that
                // every lag in ±max_lag pairs each b sample with its a sample without wrapping.
                let spectra =
                    |wanted: &[bool], from: isize, n: usize| -> Vec<Option<Vec<Complex64>>> {
                        signals
                            .iter()
                            .zip(wanted)
                            .map(|(s, &w)| w.then(|| fft.spectrum(&segment(s, from, n))))
                            .collect()
                    };
                let a = spectra(&leads, start as isize - max_lag as isize, block + span);
                let b = spectra(&trails, start as isize, block);
                // By tiles of bins, so that the sums being added to stay in cache.
                for lo in (0..bins).step_by(TILE) {
                    let hi = (lo + TILE).min(bins);
                    for (sum, &(i, j)) in acc.iter_mut().zip(pairs) {
                        let (a, b) = (
                            a[i].as_ref().expect("a lead"),
                            b[j].as_ref().expect("a trail"),
                        );
                        for (s, (x, y)) in
                            sum[lo..hi].iter_mut().zip(a[lo..hi].iter().zip(&b[lo..hi]))
                        {
                            *s += x * y.conj();
                        }
                    }
                }
            }
            acc
        })
        .reduce(zero, |mut x, y| {
            for (xs, ys) in x.iter_mut().zip(y) {
                for (a, b) in xs.iter_mut().zip(ys) {
                    *a += b;
                }
            }
            x
        });
    // The circular correlation's index j is lag j − max_lag (a's segment starts max_lag early).
    sums.into_par_iter()
        .map(|s| fft.signal(s)[..=span].to_vec())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equals_the_direct_sum_across_block_boundaries() {
        let (len, max_lag) = (700, 9);
        let a: Vec<f64> = (0..len)
            .map(|t| ((t * 37) % 101) as f64 / 50.0 - 1.0)
            .collect();
        let b: Vec<f64> = (0..len).map(|t| (t as f64 * 0.3).sin()).collect();
        // 8·18 = 144 → blocks of 256 − 18 = 238 samples: three blocks, the last partial.
        let out = correlations(&[&a, &b], &[(0, 1), (1, 1)], max_lag);
        for (pair, (x, y)) in [(&a, &b), (&b, &b)].into_iter().enumerate() {
            for k in -(max_lag as isize)..=max_lag as isize {
                let want: f64 = (0..len as isize)
                    .filter(|t| (0..len as isize).contains(&(t + k)))
                    .map(|t| x[(t + k) as usize] * y[t as usize])
                    .sum();
                let got = out[pair][(k + max_lag as isize) as usize];
                assert!(
                    (got - want).abs() < 1e-10,
                    "pair {pair}, lag {k}: {got} vs {want}"
                );
            }
        }
    }
}
