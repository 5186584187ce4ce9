//! soxr's polyphase stage for the ratio left after the FFT stages: each output is a short dot
//! product of the input with one phase of a long filter. With an exact rational clock there is
//! one phase per output position; otherwise the clock is 32.32 fixed point, its top bits pick
//! one of 2^k phases and the rest interpolate between neighbouring taps with a polynomial.
//!
//! An exact clock's phases repeat with a short period (441 outputs for 16 → 22.05 kHz); the
//! phases are stored in the order one period uses them, so the dot products stream through the
//! table instead of jumping around it.

use multiversion::multiversion;

/// 2^32: soxr's fixed-point clock has 32 fractional bits.
pub(super) const MULT32: f64 = 4294967296.0;

/// Dot products run this many lanes wide.
const LANES: usize = 8;

/// Where output `i` falls on the input.
#[derive(Clone, Copy, Debug)]
pub(super) enum Clock {
    /// In units of `1/phases` input samples: `at0 + i·step`.
    Exact { phases: u64, at0: u64, step: u64 },
    /// In 32.32 fixed-point input samples: `at0 + i·step`.
    Fixed {
        phase_bits: u32,
        at0: u64,
        step: u64,
    },
}

pub(super) struct Poly {
    /// Taps per phase, padded with zeros to a multiple of [`LANES`].
    taps: usize,
    /// Input samples before the first output's window starts (soxr's preload).
    preload: i64,
    /// The degree of the coefficient interpolation (0 for an exact clock).
    order: usize,
    clock: Clock,
    /// `[row][tap][power]`, taps in input order, powers 0..=order; a row is a phase, in the
    /// order of [`Period`] for an exact clock.
    coefs: Vec<f32>,
    period: Option<Period>,
}

/// One period of an exact clock: output `q·len + r` uses row `r`, and its window starts
/// `q·advance + first[r]` samples in.
struct Period {
    len: usize,
    first: Vec<i64>,
    advance: i64,
}

impl Poly {
    /// The stage for `design` (`taps·phases − 1` taps, gain `phases`), with coefficient
    /// polynomials of degree `order` between consecutive taps.
    pub fn new(design: &[f64], taps: usize, phases: usize, order: usize, clock: Clock) -> Poly {
        let v = |t: i64| {
            if t >= 0 && (t as usize) < design.len() {
                design[t as usize]
            } else {
                0.0
            }
        };
        let padded = taps.next_multiple_of(LANES);
        let mut coefs = vec![0f32; phases * padded * (order + 1)];
        for phase in 0..phases {
            for i in 0..taps {
                // Tap i of this phase is design tap i·phases + phase − 1; taps are stored in the
                // order the input is read, last tap first.
                let t = (i * phases + phase) as i64 - 1;
                let (fm1, f0, f1, f2) = (v(t - 1), v(t), v(t + 1), v(t + 2));
                let powers: [f64; 4] = match order {
                    0 => [f0, 0.0, 0.0, 0.0],
                    1 => [f0, f1 - f0, 0.0, 0.0],
                    2 => {
                        let c = 0.5 * (f2 + f0) - f1;
                        [f0, f1 - c - f0, c, 0.0]
                    }
                    _ => {
                        let c = 0.5 * (f1 + fm1) - f0;
                        let d = (1.0 / 6.0) * (f2 - f1 + fm1 - f0 - 4.0 * c);
                        [f0, f1 - f0 - d - c, c, d]
                    }
                };
                let at = (phase * padded + taps - 1 - i) * (order + 1);
                for (slot, p) in coefs[at..at + order + 1].iter_mut().zip(powers) {
                    *slot = p as f32;
                }
            }
        }
        let preload = ((taps - 1) >> 1) as i64;
        let period = match clock {
            Clock::Exact { phases, at0, step } => {
                let len = phases as usize / crate::temporal::gcd(step as usize, phases as usize);
                let row = padded * (order + 1);
                let mut by_use = Vec::with_capacity(len * row);
                let first = (0..len as u64)
                    .map(|r| {
                        let pos = at0 + r * step;
                        let phase = (pos % phases) as usize;
                        by_use.extend_from_slice(&coefs[phase * row..(phase + 1) * row]);
                        (pos / phases) as i64 - preload
                    })
                    .collect();
                coefs = by_use;
                Some(Period {
                    len,
                    first,
                    advance: (len as u64 * step / phases) as i64,
                })
            }
            Clock::Fixed { .. } => None,
        };
        Poly {
            taps: padded,
            preload,
            order,
            clock,
            coefs,
            period,
        }
    }

    /// Output `i`'s first input sample, row and interpolation fraction.
    fn locate(&self, i: i64) -> (i64, usize, f32) {
        self.clock_at(i).locate(self)
    }

    fn clock_at(&self, i: i64) -> Position {
        match (&self.period, self.clock) {
            (Some(p), _) => Position::Exact {
                row: (i as u64 % p.len as u64) as usize,
                base: (i as u64 / p.len as u64) as i64 * p.advance,
            },
            (
                None,
                Clock::Fixed {
                    phase_bits,
                    at0,
                    step,
                },
            ) => Position::Fixed {
                t: at0 as u128 + i as u128 * step as u128,
                step,
                phase_bits,
            },
            (None, Clock::Exact { .. }) => unreachable!("an exact clock has a period"),
        }
    }

    /// The input samples that outputs `a..b` depend on.
    pub fn input_range(&self, a: i64, b: i64) -> (i64, i64) {
        (self.locate(a).0, self.locate(b - 1).0 + self.taps as i64)
    }

    /// Outputs `a..a + out.len()` from `input`, which holds samples `in_lo..` (zero outside).
    pub fn process(&self, input: &[f32], in_lo: i64, a: i64, out: &mut [f32], at: &mut Vec<At>) {
        let mut clock = self.clock_at(a);
        at.clear();
        at.extend((0..out.len()).map(|_| {
            let (first, phase, x) = clock.locate(self);
            clock.advance(self);
            At {
                from: (first - in_lo) as usize,
                phase,
                x,
            }
        }));
        dots(input, &self.coefs, self.taps, self.order + 1, at, out);
    }
}

/// Where one output reads: its window's first sample in the span, phase and fraction.
pub(super) struct At {
    from: usize,
    phase: usize,
    x: f32,
}

/// Each output's dot product of its window with its phase's taps (polynomials of degree
/// `w − 1` in the fraction), [`LANES`] taps at a time.
#[multiversion(targets("x86_64+avx2+fma"))]
fn dots(input: &[f32], coefs: &[f32], taps: usize, w: usize, at: &[At], out: &mut [f32]) {
    for (o, at) in out.iter_mut().zip(at) {
        let window = &input[at.from..at.from + taps];
        let row = &coefs[at.phase * taps * w..(at.phase + 1) * taps * w];
        let mut acc = [0f32; LANES];
        if w == 1 {
            for (s, c) in window.chunks_exact(LANES).zip(row.chunks_exact(LANES)) {
                for k in 0..LANES {
                    acc[k] += s[k] * c[k];
                }
            }
        } else {
            for (s, c) in window.chunks_exact(LANES).zip(row.chunks_exact(LANES * w)) {
                for k in 0..LANES {
                    let p = &c[k * w..(k + 1) * w];
                    acc[k] += s[k] * p.iter().rev().fold(0.0, |acc, c| acc * at.x + c);
                }
            }
        }
        // A tree, so the lanes add in registers.
        let (lo, hi) = acc.split_at(LANES / 2);
        let half: [f32; LANES / 2] = std::array::from_fn(|k| lo[k] + hi[k]);
        *o = (half[0] + half[2]) + (half[1] + half[3]);
    }
}

/// A clock reading, stepped one output at a time without divisions.
enum Position {
    Exact { row: usize, base: i64 },
    Fixed { t: u128, step: u64, phase_bits: u32 },
}

impl Position {
    /// The first input sample of this output's window, its row and interpolation fraction.
    fn locate(&self, poly: &Poly) -> (i64, usize, f32) {
        match *self {
            Position::Exact { row, base } => {
                let p = poly
                    .period
                    .as_ref()
                    .expect("exact positions come from a period");
                (base + p.first[row], row, 0.0)
            }
            Position::Fixed { t, phase_bits, .. } => {
                let frac = t as u32;
                let phase = frac.checked_shr(32 - phase_bits).unwrap_or(0) as usize;
                // The bits below the phase, scaled to [0, 1), as soxr computes them.
                let x = (frac.wrapping_shl(phase_bits) as f64 * (1.0 / MULT32)) as f32;
                ((t >> 32) as i64 - poly.preload, phase, x)
            }
        }
    }

    fn advance(&mut self, poly: &Poly) {
        match self {
            Position::Exact { row, base } => {
                let p = poly
                    .period
                    .as_ref()
                    .expect("exact positions come from a period");
                *row += 1;
                if *row == p.len {
                    *row = 0;
                    *base += p.advance;
                }
            }
            Position::Fixed { t, step, .. } => *t += *step as u128,
        }
    }
}
