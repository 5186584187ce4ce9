//! Built-in separation demo: small songs synthesised deterministically — a sung line (glottal
//! harmonics with vibrato through vowel formants, phrases with rests), drums (kick, snare,
//! hi-hat), a bass line and struck chords — written in the MUSDB18-HQ layout.

use std::f64::consts::TAU;
use std::path::Path;

use soundcheck_audio::{write_wav, AudioError};
use soundcheck_data::SplitMix64;

use crate::demo::DEMO_RATE;

/// Vowel formants (F1, F2, F3) in Hz: /a/, /i/, /u/, /e/, /o/.
const VOWELS: [[f64; 3]; 5] = [
    [730.0, 1090.0, 2440.0],
    [270.0, 2290.0, 3010.0],
    [300.0, 870.0, 2240.0],
    [530.0, 1840.0, 2480.0],
    [570.0, 840.0, 2410.0],
];

/// Semitone offsets of a major scale.
const SCALE: [i32; 7] = [0, 2, 4, 5, 7, 9, 11];

fn midi_hz(m: f64) -> f64 {
    440.0 * 2f64.powf((m - 69.0) / 12.0)
}

/// One song's stems, each `seconds` long at [`DEMO_RATE`].
pub struct Song {
    /// The singing voice.
    pub vocals: Vec<f32>,
    /// The drum kit.
    pub drums: Vec<f32>,
    /// The bass line.
    pub bass: Vec<f32>,
    /// Everything else.
    pub other: Vec<f32>,
}

fn to_f32(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

/// A song: key, tempo, melody and vowels drawn from `rng`.
pub fn demo_song(seconds: f64, rng: &mut SplitMix64) -> Song {
    let sr = DEMO_RATE as f64;
    let n = (seconds * sr) as usize;
    let key = 55.0 + rng.below(8) as f64; // G3 to D4
    let bpm = 96.0 + 40.0 * rng.uniform();
    let beat = (60.0 / bpm * sr) as usize;
    let (mut vocals, mut drums, mut bass, mut other) =
        (vec![0f64; n], vec![0f64; n], vec![0f64; n], vec![0f64; n]);

    // Vocals: notes of 1–2 beats in phrases of 4–8 notes, a rest of 1–3 beats between phrases.
    let mut t = beat * rng.below(2);
    while t < n {
        let notes = 4 + rng.below(5);
        for _ in 0..notes {
            let len = beat * (1 + rng.below(2));
            let degree = rng.below(SCALE.len() + 3);
            let octave = (degree / SCALE.len()) as i32;
            let f0 = midi_hz(key + 12.0 + (SCALE[degree % SCALE.len()] + 12 * octave) as f64);
            let formants = VOWELS[rng.below(VOWELS.len())];
            let mut phase = 0.0;
            for i in 0..len.min(n.saturating_sub(t)) {
                let time = i as f64 / sr;
                let vib = 1.0 + 0.025 * (TAU * 5.5 * time).sin() * (time * 4.0).min(1.0);
                phase += TAU * f0 * vib / sr;
                let env =
                    (i as f64 / (0.03 * sr)).min(1.0) * ((len - i) as f64 / (0.05 * sr)).min(1.0);
                let mut s = 0.0;
                let mut k = 1.0;
                while k * f0 < 5000.0 {
                    // Harmonic k through three resonances of bandwidth 80–120 Hz.
                    let gain: f64 = formants
                        .iter()
                        .enumerate()
                        .map(|(j, &f)| {
                            let bw = 80.0 + 20.0 * j as f64;
                            (1.0 / (1.0 + ((k * f0 - f) / bw).powi(2))) / (1.0 + j as f64)
                        })
                        .sum();
                    s += gain * (k * phase).sin() / k.sqrt();
                    k += 1.0;
                }
                vocals[t + i] += env * s;
            }
            t += len;
            if t >= n {
                break;
            }
        }
        t += beat * (1 + rng.below(3));
    }

    // Drums, bass and chords on the beat grid.
    let chords = [0, 5, 7, 9];
    let mut b = 0;
    while b * beat < n {
        let start = b * beat;
        let bar_chord = chords[(b / 4 + rng.below(2)) % chords.len()] as f64;
        for i in 0..beat.min(n - start) {
            let time = i as f64 / sr;
            // Kick on beats 1 and 3, snare on 2 and 4, closed hi-hat on every half beat.
            let hit = if b % 2 == 0 {
                (TAU * (50.0 * time + 100.0 * (1.0 - (-time * 30.0).exp()) / 30.0)).sin()
                    * (-time * 18.0).exp()
            } else {
                (0.6 * rng.normal() + 0.4 * (TAU * 190.0 * time).sin()) * (-time * 25.0).exp()
            };
            let half = i % (beat / 2).max(1);
            let hat = rng.normal() * (-(half as f64) / sr * 120.0).exp() * 0.25;
            drums[start + i] += 0.8 * hit + hat;
            // Bass: the chord root two octaves down, a few harmonics, plucked.
            let fb = midi_hz(key - 24.0 + bar_chord);
            let pluck = (-time * 3.0).exp();
            bass[start + i] += pluck
                * (1..=4)
                    .map(|k| (TAU * fb * k as f64 * time).sin() / k as f64)
                    .sum::<f64>()
                * 0.6;
            // Chords: a major triad an octave below the voice, struck on every beat and decaying
            // like a piano's.
            let tt = (start + i) as f64 / sr;
            let strike = (-time * 2.5).exp();
            other[start + i] += [0.0, 4.0, 7.0]
                .iter()
                .map(|&iv| {
                    let f = midi_hz(key - 12.0 + bar_chord + iv);
                    (TAU * f * tt).sin() + 0.3 * (TAU * 2.0 * f * tt).sin()
                })
                .sum::<f64>()
                * 0.12
                * strike;
        }
        b += 1;
    }
    let norm = |v: &mut Vec<f64>, peak: f64| {
        let m = v.iter().fold(1e-9f64, |a, x| a.max(x.abs()));
        v.iter_mut().for_each(|x| *x *= peak / m);
    };
    norm(&mut vocals, 0.35);
    norm(&mut drums, 0.3);
    norm(&mut bass, 0.2);
    norm(&mut other, 0.15);
    Song {
        vocals: to_f32(&vocals),
        drums: to_f32(&drums),
        bass: to_f32(&bass),
        other: to_f32(&other),
    }
}

/// Writes `train` + `test` songs of `seconds` each as MUSDB18-HQ (`DIR/{train,test}/<song>/
/// {mixture,vocals,drums,bass,other}.wav`, mono, 22050 Hz); the mixture is the stems' sum.
///
/// # Errors
/// A file that cannot be written.
pub fn write_separation_demo(
    dir: &Path,
    train: usize,
    test: usize,
    seconds: f64,
    seed: u64,
) -> Result<(), AudioError> {
    let mut rng = SplitMix64::new(seed);
    for k in 0..train + test {
        let subset = if k < train { "train" } else { "test" };
        let folder = dir.join(subset).join(format!("song{k:02}"));
        std::fs::create_dir_all(&folder).map_err(|e| AudioError::Write {
            path: folder.clone(),
            source: e,
        })?;
        let song = demo_song(seconds, &mut rng);
        let mix: Vec<f32> = (0..song.vocals.len())
            .map(|i| song.vocals[i] + song.drums[i] + song.bass[i] + song.other[i])
            .collect();
        for (name, y) in [
            ("vocals", &song.vocals),
            ("drums", &song.drums),
            ("bass", &song.bass),
            ("other", &song.other),
            ("mixture", &mix),
        ] {
            write_wav(
                &folder.join(format!("{name}.wav")),
                std::slice::from_ref(y),
                DEMO_RATE,
            )?;
        }
    }
    Ok(())
}
