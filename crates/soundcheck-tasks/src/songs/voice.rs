//! A source-filter singer: a band-limited glottal source (a PolyBLEP sawtooth, tilted by a
//! one-pole low-pass, with aspiration noise) through a cascade of four formant resonators, as
//! Klatt's synthesiser builds vowels. The pitch glides between legato notes, scoops into some
//! onsets, wavers (jitter) and carries a vibrato that grows after the onset; the vowel moves
//! to the next note's formants; some notes start with a consonant (a fricative or a burst).

use std::f64::consts::{PI, TAU};

use soundcheck_io::SplitMix64;

use super::score::{Note, Singer};

/// Formants F1–F4 of an adult male voice in Hz: /a/, /i/, /u/, /e/, /o/.
pub const VOWELS: [[f64; 4]; 5] = [
    [730.0, 1090.0, 2440.0, 3400.0],
    [270.0, 2290.0, 3010.0, 3700.0],
    [300.0, 870.0, 2240.0, 3300.0],
    [530.0, 1840.0, 2480.0, 3500.0],
    [570.0, 840.0, 2410.0, 3300.0],
];

/// Formant bandwidths in Hz.
const BANDWIDTHS: [f64; 4] = [80.0, 100.0, 140.0, 200.0];

/// Coefficients are recomputed every this many samples.
const CONTROL: usize = 32;

fn midi_hz(m: f64) -> f64 {
    440.0 * 2f64.powf((m - 69.0) / 12.0)
}

/// A two-pole resonator with unit gain at DC (Klatt's normalisation).
#[derive(Clone, Copy, Default)]
struct Resonator {
    a: f64,
    b: f64,
    c: f64,
    y1: f64,
    y2: f64,
}

impl Resonator {
    fn tune(&mut self, f: f64, bw: f64, sr: f64) {
        let r = (-PI * bw / sr).exp();
        self.c = -r * r;
        self.b = 2.0 * r * (TAU * f / sr).cos();
        self.a = 1.0 - self.b - self.c;
    }

    fn run(&mut self, x: f64) -> f64 {
        let y = self.a * x + self.b * self.y1 + self.c * self.y2;
        self.y2 = self.y1;
        self.y1 = y;
        y
    }
}

/// PolyBLEP correction of a sawtooth's step at phase 0 (`dt` = phase increment per sample).
fn poly_blep(t: f64, dt: f64) -> f64 {
    if t < dt {
        let x = t / dt;
        x + x - x * x - 1.0
    } else if t > 1.0 - dt {
        let x = (t - 1.0) / dt;
        x * x + x + x + 1.0
    } else {
        0.0
    }
}

/// Per-sample controls of a sung line: pitch (0 where silent), loudness, vowel formants, and
/// the consonant noise to add.
struct Controls {
    f0: Vec<f64>,
    amp: Vec<f64>,
    vowel: Vec<u8>,
    fricative: Vec<f64>,
}

fn controls(
    notes: &[Note],
    vowels: &[usize],
    singer: &Singer,
    n: usize,
    sr: f64,
    rng: &mut SplitMix64,
) -> Controls {
    let mut c = Controls {
        f0: vec![0.0; n],
        amp: vec![0.0; n],
        vowel: vec![0; n],
        fricative: vec![0.0; n],
    };
    let mut prev: Option<(usize, f64)> = None; // (end sample, key)
    for (i, note) in notes.iter().enumerate() {
        let s0 = (note.start * sr) as usize;
        let s1 = (((note.start + note.length) * sr) as usize).min(n);
        if s0 >= s1 {
            continue;
        }
        let key = note.key as f64;
        let level = (note.velocity as f64 / 127.0).powf(1.5);
        // Legato notes glide from the previous pitch; others may scoop up a semitone's half.
        let glide_from = match prev {
            Some((end, k)) if s0.saturating_sub(end) < (0.06 * sr) as usize => Some(k),
            _ if rng.uniform() < 0.4 => Some(key - 0.5),
            _ => None,
        };
        let glide = (rng.uniform() * 0.05 + 0.03) * sr;
        let attack = (0.02 + 0.04 * rng.uniform()) * sr;
        let release = (0.04 + 0.06 * rng.uniform()) * sr;
        let vib_delay = 0.15 + 0.2 * rng.uniform();
        let vib_phase = rng.uniform() * TAU;
        for s in s0..s1 {
            let k = (s - s0) as f64;
            let t = k / sr;
            let mut m = key;
            if let Some(from) = glide_from {
                let w = (k / glide).min(1.0);
                m = from + (key - from) * (0.5 - 0.5 * (PI * w).cos());
            }
            let vib_depth = singer.vibrato_cents / 100.0 * ((t - vib_delay) / 0.3).clamp(0.0, 1.0);
            m += vib_depth * (TAU * singer.vibrato_hz * t + vib_phase).sin();
            c.f0[s] = midi_hz(m);
            let env = (k / attack).min(1.0) * (((s1 - s) as f64) / release).min(1.0);
            c.amp[s] = level * env;
            c.vowel[s] = vowels.get(i).copied().unwrap_or(0) as u8;
        }
        // A consonant before one note in two: a fricative of 50–120 ms or a 15 ms burst.
        if rng.uniform() < 0.5 {
            let (len, level) = if rng.uniform() < 0.6 {
                (0.05 + 0.07 * rng.uniform(), 0.25)
            } else {
                (0.015, 0.6)
            };
            let len = (len * sr) as usize;
            let from = s0.saturating_sub(len / 2);
            for s in from..(from + len).min(n) {
                let x = (s - from) as f64 / len as f64;
                c.fricative[s] += level * (PI * x).sin();
            }
        }
        prev = Some((s1, key));
    }
    // Jitter: pitch wanders by a slow random walk of about ±0.5 %.
    let mut wander = 0.0;
    for f in c.f0.iter_mut() {
        wander = 0.999 * wander + 0.0003 * rng.normal();
        *f *= 1.0 + wander;
    }
    c
}

/// Sings `notes` (one vowel index per note) for `n` samples at `sr`.
pub fn sing(
    notes: &[Note],
    vowels: &[usize],
    singer: &Singer,
    n: usize,
    sr: f64,
    rng: &mut SplitMix64,
) -> Vec<f32> {
    let c = controls(notes, vowels, singer, n, sr, rng);
    let mut formants = VOWELS[c.vowel.first().copied().unwrap_or(0) as usize];
    let mut res = [Resonator::default(); 4];
    let mut phase = 0.0;
    let mut tilt_state = 0.0;
    // Fricatives are noise high-passed by a first difference, then shaped by a resonator
    // near 5 kHz (an /s/-like hiss).
    let mut hiss = Resonator::default();
    hiss.tune(5000.0f64.min(0.4 * sr), 3000.0, sr);
    let mut prev_noise = 0.0;
    let mut out = vec![0f32; n];
    for s in 0..n {
        if s % CONTROL == 0 {
            // Formants move toward the current vowel's with a ≈ 40 ms time constant.
            let target = VOWELS[c.vowel[s] as usize];
            let alpha = 1.0 - (-(CONTROL as f64) / (0.04 * sr)).exp();
            for (j, r) in res.iter_mut().enumerate() {
                formants[j] += alpha * (target[j] * singer.formant_scale - formants[j]);
                let f = formants[j].min(0.45 * sr);
                r.tune(f, BANDWIDTHS[j], sr);
            }
        }
        let noise = rng.normal();
        let mut y = 0.0;
        if c.amp[s] > 0.0 {
            let dt = c.f0[s] / sr;
            phase += dt;
            if phase >= 1.0 {
                phase -= 1.0;
            }
            let saw = 2.0 * phase - 1.0 - poly_blep(phase, dt);
            // Aspiration is strongest in the glottis's open phase.
            let open = if phase < 0.6 { 1.0 } else { 0.3 };
            let src = -saw + singer.breathiness * noise * open;
            tilt_state = singer.tilt * tilt_state + (1.0 - singer.tilt) * src;
            y = tilt_state;
            for r in res.iter_mut() {
                y = r.run(y);
            }
            y *= c.amp[s];
        } else {
            // Let the resonators ring down, so a note's end decays naturally.
            for r in res.iter_mut() {
                y = r.run(y);
            }
        }
        if c.fricative[s] > 0.0 {
            y += c.fricative[s] * hiss.run(noise - prev_noise);
        }
        prev_noise = noise;
        out[s] = y as f32;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use soundcheck_audio::{magnitude, stft, StftConfig};

    #[test]
    fn a_sung_vowel_has_its_pitch_and_its_first_formant_where_they_belong() {
        let sr = 22050.0;
        let singer = Singer {
            formant_scale: 1.0,
            breathiness: 0.0,
            vibrato_hz: 5.0,
            vibrato_cents: 0.0,
            tilt: 0.5,
        };
        let note = Note {
            start: 0.1,
            length: 1.0,
            key: 57, // A3, 220 Hz
            velocity: 100,
        };
        let y = sing(&[note], &[0], &singer, 30000, sr, &mut SplitMix64::new(1));
        assert!(y.iter().all(|v| v.is_finite()));
        assert!(y[..2000].iter().all(|&v| v.abs() < 1e-3), "silent before");
        let cfg = StftConfig {
            n_fft: 4096,
            hop_length: Some(1024),
            ..Default::default()
        };
        let m = magnitude(&stft(&y[4410..24000], &cfg).unwrap());
        let col = m.column(m.ncols() / 2);
        let bin_hz = sr / 4096.0;
        let peak = |lo: f64, hi: f64| {
            let (a, b) = ((lo / bin_hz) as usize, (hi / bin_hz) as usize);
            (a..b).max_by(|&i, &j| col[i].total_cmp(&col[j])).unwrap() as f64 * bin_hz
        };
        // The fundamental (jitter moves it by well under a semitone).
        assert!((peak(150.0, 300.0) - 220.0).abs() < 12.0);
        // /a/'s F1 at 730 Hz: the strongest harmonic between 500 and 1000 Hz is the one
        // nearest 730 (660 or 880).
        let f1 = peak(500.0, 1000.0);
        assert!((f1 - 730.0).abs() < 160.0, "F1 peak at {f1} Hz");
    }
}
