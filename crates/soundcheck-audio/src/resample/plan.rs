//! Which stages soxr's HQ recipe runs for a rate ratio (libsoxr 0.1.3, `cr.c`'s `_soxr_init`,
//! with librosa's settings: 20-bit precision, linear phase, the default runtime spec), and the
//! filter each one gets.
//!
//! soxr splits a conversion into up to four stages: halvings by a fixed half-band filter while
//! more than 4× of decimation is left; a "pre" stage that changes the rate by a small ratio L/M
//! through one long FFT-convolved filter; an "arbitrary" polyphase stage for what is left (exact
//! phases for a ratio of at most 2048 phases, else 2^k phases with interpolated coefficients);
//! and a "post" stage for large integer upsampling. Each stage's filter and attenuation budget
//! depend on the others, so the plan follows soxr's decisions step by step.

use super::design::{self, db, inverse_response, Lowpass, Taps};
use super::fir::Fir;
use super::poly::{Clock, Poly, MULT32};

/// HQ's precision in bits.
const BITS: f64 = 20.0;
/// The most phases an exact (rational) polyphase stage may have.
const MAX_PHASES: i64 = 2048;
/// The coefficient budget of soxr's default runtime spec, in kB.
const COEF_KB: usize = 400;

/// One step of the conversion.
pub(super) enum Stage {
    Fir(Fir),
    Poly(Poly),
}

/// HQ's pass-band end, relative to the lower Nyquist frequency (0.9137).
pub(super) fn passband_end() -> f64 {
    1.0 - 0.05 / (1.0 - inverse_response(-3.0, BITS * db(2.0)))
}

/// The stages that convert at `io_ratio` = input rate / output rate, in order.
pub(super) fn plan(io_ratio: f64) -> Vec<Stage> {
    let fp0 = passband_end();
    let fs0 = 1.0;
    let mut att = (BITS + 1.0) * db(2.0);
    let mut att_arb = att;

    let mut arb_m = io_ratio;
    // soxr's "mode" for 20 bits, `(ceil(bits) − 6) / 4`, is 3; the branches below are those it
    // takes for that mode.
    let (mut arb_l, mut post_l) = (1i64, 1i64);
    let (mut pre_l, mut pre_m, mut shr, mut post_m);
    let mut upsample;
    let mut rational;
    loop {
        upsample = arb_m < 1.0;
        shr = 0;
        let mut i = (0.5 * arb_m) as i64;
        loop {
            i >>= 1;
            if i == 0 {
                break;
            }
            arb_m *= 0.5;
            shr += 1;
        }
        pre_m = (upsample || (arb_m > 1.5 && arb_m < 2.0)) as i64;
        post_m = 1 + (arb_m > 1.0 && pre_m != 0) as i64;
        arb_m /= post_m as f64;
        pre_l = 1 + (pre_m == 0 && arb_m < 2.0) as i64 + upsample as i64;
        arb_m *= pre_l as f64;
        // A ratio counts as rational when some denominator up to MAX_PHASES reproduces its
        // fractional part as closely as the 32-bit clock could represent it.
        let frac = arb_m - arb_m.trunc();
        let epsilon = if frac != 0.0 {
            ((frac * MULT32 + 0.5).floor() / (frac * MULT32) - 1.0).abs()
        } else {
            0.0
        };
        rational = frac == 0.0;
        let mut den = 1;
        while den <= MAX_PHASES && !rational {
            let d = frac * den as f64;
            let num = (d + 0.5) as i64;
            rational = (num as f64 / d - 1.0).abs() <= epsilon;
            if rational {
                if num == den {
                    arb_m = arb_m.ceil();
                    let halve = arb_m > 3.0;
                    shr += halve as i32;
                    arb_m /= 1.0 + halve as i64 as f64;
                } else {
                    arb_m = (den * arb_m.trunc() as i64 + num) as f64;
                    arb_l = den;
                }
            }
            den += 1;
        }
        let (mut l, mut m) = (pre_l * arb_l, (arb_m * post_m as f64) as i64);
        if (l | m) & 1 == 0 {
            l >>= 1;
            m >>= 1;
        }
        let d = (pre_l * arb_l) as f64 / arb_m;
        if post_l == 1 && d > 4.0 && d != 5.0 {
            // Large upsampling: a power-of-two post stage takes most of it.
            post_l = 4;
            let mut i = (d / 16.0) as i64;
            loop {
                i >>= 1;
                if i == 0 || post_l >= 256 {
                    break;
                }
                post_l <<= 1;
            }
            arb_m = arb_m * post_l as f64 / arb_l as f64 / pre_l as f64;
            arb_l = 1;
            continue;
        } else if rational && (l.max(m) < 5 || l * m < 6) {
            // A small ratio: one FFT stage does everything.
            pre_l = l;
            pre_m = m;
            arb_m = 1.0;
            arb_l = 1;
            post_m = 1;
        }
        break;
    }

    let have_pre = pre_m * pre_l != 1;
    let have_arb = arb_m * arb_l as f64 != 1.0;
    let have_post = post_m * post_l != 1;
    let count = shr as usize + have_pre as usize + have_arb as usize + have_post as usize;
    // Each stage's share of the error budget: more stages, deeper stop bands.
    if count > 1 {
        let mut n = count;
        if have_arb {
            att += db(2.0);
            att_arb = att;
            n -= 1;
        }
        att += db(n as f64);
    }
    let alpha = post_m as f64 / (io_ratio * post_l as f64);

    let mut stages = Vec::with_capacity(count);
    for _ in 0..shr {
        stages.push(Stage::Fir(half_band(att)));
    }
    let (mut fp1, mut fs1) = (fp0, fs0);
    if have_pre {
        let fn1 = if pre_m != 0 {
            pre_l.max(pre_m) as f64
        } else {
            arb_m / arb_l as f64
        };
        stages.push(Stage::Fir(dft_stage(
            fp1,
            fs1,
            fn1,
            att,
            pre_l as usize,
            pre_m.max(1) as usize,
        )));
        fp1 /= fn1;
        fs1 /= fn1;
    }
    if have_arb {
        // soxr's table of interpolation choices for HQ: (phase bits, order) after the exact one.
        let interp: [(f64, usize); 2] = if upsample {
            [(9.0, 1), (6.0, 2)]
        } else if pre_m != 0 {
            [(10.6, 1), (6.75, 2)]
        } else {
            [(12.4, 1), (7.8, 2)]
        };
        let mult = if upsample { 1.0 } else { arb_m / arb_l as f64 };
        let (fn_, fs) = if !upsample && pre_m != 0 {
            (2.0 * mult, 3.0 + (fs1 - 1.0).abs())
        } else {
            (1.0, 2.0 - (fp1 + (fs1 - fp1) * 0.7))
        };
        // The default roll-off: −0.01 dB at the pass-band end (a float constant in soxr).
        let fp = fs - (fs - fp1) / (1.0 - inverse_response(-0.01f32 as f64, att_arb));
        let mut level = if rational { 0 } else { 1 };
        let (mut phases, mut num_coefs, mut phase_bits);
        loop {
            if level > 0 {
                arb_m /= arb_l as f64;
                arb_l = 1;
                rational = false;
            }
            phase_bits = if level == 0 {
                0
            } else {
                (interp[level - 1].0 - mult.log2()).ceil() as u32
            };
            phases = if rational {
                arb_l as usize
            } else {
                1usize << phase_bits
            };
            let phases0 = phases.max(19);
            let n0 = Lowpass::new(fp, fs, fn_, att_arb, None, Taps::Phases(phases0), None).len;
            num_coefs = n0 / phases0 + 1;
            if pre_m == 0 {
                num_coefs += num_coefs & 1;
            }
            if num_coefs & 1 == 1 && rational && arb_l & 1 == 1 {
                phases <<= 1;
                arb_l <<= 1;
                arb_m *= 2.0;
            }
            // soxr's vector core pads each phase to a multiple of 4 coefficients.
            let size = num_coefs.next_multiple_of(4) * phases * (level + 1) * 4;
            if level == 2 || size / 1000 <= COEF_KB {
                break;
            }
            level += 1;
        }
        let num_taps = num_coefs * phases - 1;
        let design = Lowpass::new(
            fp,
            fs,
            fn_,
            att_arb,
            Some(num_taps),
            Taps::Phases(phases),
            None,
        )
        .taps();
        let odd = num_coefs & 1 == 1;
        let clock = if rational {
            Clock::Exact {
                phases: phases as u64,
                at0: if odd { arb_l as u64 / 2 } else { 0 },
                step: arb_m as u64,
            }
        } else {
            Clock::Fixed {
                phase_bits,
                at0: if odd { 1 << 31 } else { 0 },
                step: (arb_m * MULT32 + 0.5) as u64,
            }
        };
        stages.push(Stage::Poly(Poly::new(
            &design, num_coefs, phases, level, clock,
        )));
    }
    if have_post {
        let (fp, fs) = if upsample {
            (fp0 / alpha, (2.0 - fs0 / alpha).max(1.0))
        } else {
            (fp0, fs0)
        };
        stages.push(Stage::Fir(dft_stage(
            fp,
            fs,
            post_l.max(post_m) as f64,
            att,
            post_l as usize,
            post_m as usize,
        )));
    }
    stages
}

/// soxr's FFT-convolved stage: upsample by `l`, filter, decimate by `m`.
fn dft_stage(fp: f64, fs: f64, fn_: f64, att: f64, l: usize, m: usize) -> Fir {
    let k = if l.is_power_of_two() && l > 1 && fn_ == l as f64 {
        2 * l
    } else {
        4
    };
    let taps = Lowpass::new(fp, fs, fn_, att, None, Taps::OneModulo(k), None).taps();
    Fir::new(l, m, taps.iter().map(|t| t * l as f64).collect())
}

/// A halving by soxr's equiripple half-band filter: 8 taps a side, or 9 where the stage's
/// share of the attenuation budget exceeds what 8 give (thresholds from soxr's table, float
/// constants there).
fn half_band(att: f64) -> Fir {
    let n = if att > 136.51f32 as f64 { 9 } else { 8 };
    Fir::new(1, 2, design::half_band(n))
}
