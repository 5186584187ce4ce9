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

/// Sums `out[pair][k + max_lag] = Σ_t a[t + k]·b[t]` for `k` in `−max_lag..=max_lag` over a
/// track fed to it span by span ([`Correlator::add`]), where `(a, b) = pairs[pair]` index the
/// signals (all of one length) and samples outside the track are 0.
pub struct Correlator {
    fft: Fft,
    pairs: Vec<(usize, usize)>,
    max_lag: usize,
    /// Which signals lead a pair (`a`), which trail one (`b`): only their spectra are needed.
    leads: Vec<bool>,
    trails: Vec<bool>,
    /// One sum per thread: each is pairs × bins complex values, too many to make one per block.
    sums: Vec<Vec<Vec<Complex64>>>,
}

impl Correlator {
    /// A correlator of `signals` signals for `pairs` at lags up to `max_lag`.
    pub fn new(signals: usize, pairs: &[(usize, usize)], max_lag: usize) -> Correlator {
        // Each block costs a few FFTs of this size per signal and a multiply-add per bin per
        // pair; 8× the lag span keeps the padding (the span) a small part of every block.
        let fft = Fft::new((16 * max_lag).max(64).next_power_of_two());
        let bins = fft.n / 2 + 1;
        let threads = rayon::current_num_threads().max(1);
        Correlator {
            fft,
            pairs: pairs.to_vec(),
            max_lag,
            leads: (0..signals)
                .map(|s| pairs.iter().any(|p| p.0 == s))
                .collect(),
            trails: (0..signals)
                .map(|s| pairs.iter().any(|p| p.1 == s))
                .collect(),
            sums: vec![vec![vec![Complex64::new(0.0, 0.0); bins]; pairs.len()]; threads],
        }
    }

    /// Samples per block: a span given to [`Correlator::add`] should be a multiple of it (but
    /// at the track's end).
    pub fn block(&self) -> usize {
        self.fft.n - 2 * self.max_lag
    }

    /// Adds the track's samples `start..start + len` (for every pair's lags): `signals[i]`
    /// holds signal `i` from `start − max_lag` on, zero before the track's start and after
    /// its end, and at least `len + max_lag` samples past `start` where the track goes on.
    ///
    /// # Shapes
    /// - `signals`: `[signal][sample]`
    pub fn add(&mut self, signals: &[&[f64]], len: usize) {
        let (fft, pairs, span) = (&self.fft, &self.pairs, 2 * self.max_lag);
        let (leads, trails) = (&self.leads, &self.trails);
        let block = self.block();
        let bins = fft.n / 2 + 1;
        let nblocks = len.div_ceil(block);
        // One contiguous run of blocks per thread.
        let per_thread = nblocks.div_ceil(self.sums.len());
        self.sums.par_iter_mut().enumerate().for_each(|(t, acc)| {
            for m in t * per_thread..((t + 1) * per_thread).min(nblocks) {
                // b: the block itself; a: the block with max_lag samples either side, so that
                // every lag in ±max_lag pairs each b sample with its a sample without wrapping.
                let from = m * block;
                let n = block.min(len - from);
                let spectra =
                    |wanted: &[bool], from: usize, n: usize| -> Vec<Option<Vec<Complex64>>> {
                        signals
                            .iter()
                            .zip(wanted)
                            .map(|(s, &w)| w.then(|| fft.spectrum(&segment(s, from as isize, n))))
                            .collect()
                    };
                let a = spectra(leads, from, n + span);
                let b = spectra(trails, from + span / 2, n);
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
        });
    }

    /// The correlations, `[pair][2·max_lag + 1]`.
    pub fn finish(self) -> Vec<Vec<f64>> {
        let (fft, span) = (self.fft, 2 * self.max_lag);
        let mut sums = self.sums.into_iter();
        let mut total = sums.next().unwrap_or_default();
        for other in sums {
            for (xs, ys) in total.iter_mut().zip(other) {
                for (a, b) in xs.iter_mut().zip(ys) {
                    *a += b;
                }
            }
        }
        // The circular correlation's index j is lag j − max_lag (a's segment starts max_lag
        // early).
        total
            .into_par_iter()
            .map(|s| fft.signal(s)[..=span].to_vec())
            .collect()
    }
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
        // 16·9 = 144 → blocks of 256 − 18 = 238 samples, fed in spans of two blocks: three
        // blocks, the last partial, across two spans.
        let pairs = [(0, 1), (1, 1)];
        let mut c = Correlator::new(2, &pairs, max_lag);
        assert_eq!(c.block(), 238);
        for start in (0..len).step_by(2 * c.block()) {
            let n = (2 * c.block()).min(len - start);
            let held: Vec<Vec<f64>> = [&a, &b]
                .iter()
                .map(|s| segment(s, start as isize - max_lag as isize, n + 2 * max_lag))
                .collect();
            c.add(&[&held[0], &held[1]], n);
        }
        let out = c.finish();
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
