//! A score rendered to stems: each SoundFont part played by its own synthesiser (so every part
//! lands in its stem alone), the formant singer for synthetic voices, a room reverb per stem,
//! and the stems levelled as produced music is: drums, bass and the rest near each other, the
//! voice 5 dB under to 1 dB over the accompaniment, the mixture peaking below full scale.

use std::f64::consts::TAU;
use std::sync::Arc;

use rustysynth::{SoundFont, Synthesizer, SynthesizerSettings};
use soundcheck_io::SplitMix64;

use super::reverb::{reverberate, Room};
use super::score::{Part, Score, Sound, Stem};
use super::voice::sing;

/// Stereo audio, `[left, right]`.
pub type Stereo = [Vec<f32>; 2];

/// A rendered song: the four stems (their sum is the mixture) and how it was levelled.
pub struct Rendered {
    /// Vocals, drums, bass, other.
    pub stems: [Stereo; 4],
    /// The vocals' level over the accompaniment's, in dB (RMS).
    pub vocals_db: f64,
}

/// MIDI channel of the drum kit.
const DRUM_CHANNEL: i32 = 9;

/// One MIDI message at a sample: note-offs sort before other messages at the same time.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Event {
    at: usize,
    order: u8,
    command: i32,
    data1: i32,
    data2: i32,
}

/// Renders a SoundFont part (`program` on a melodic channel, or the kit), stereo.
fn render_program(
    font: &Arc<SoundFont>,
    part: &Part,
    n: usize,
    rate: u32,
    rng: &mut SplitMix64,
) -> Result<Stereo, rustysynth::SynthesizerError> {
    let mut settings = SynthesizerSettings::new(rate as i32);
    settings.enable_reverb_and_chorus = false;
    settings.maximum_polyphony = 128;
    let mut synth = Synthesizer::new(font, &settings)?;
    let sr = rate as f64;
    let (channel, program) = match part.sound {
        Sound::Program(p) => (0, p as i32),
        _ => (DRUM_CHANNEL, 0),
    };
    let ev = |at: usize, order: u8, command: i32, data1: i32, data2: i32| Event {
        at,
        order,
        command: command | channel,
        data1,
        data2,
    };
    let pan = (64.0 + 63.0 * part.pan).round().clamp(0.0, 127.0) as i32;
    let mut events = vec![ev(0, 1, 0xC0, program, 0), ev(0, 1, 0xB0, 0x0A, pan)];
    let sung = matches!(part.stem, Stem::Vocals);
    for note in &part.notes {
        let (s0, s1) = (
            (note.start * sr) as usize,
            ((note.start + note.length) * sr) as usize,
        );
        if s0 >= n {
            continue;
        }
        let key = note.key as i32;
        events.push(ev(s0, 2, 0x90, key, note.velocity as i32));
        events.push(ev(s1.min(n), 0, 0x80, key, 0));
        if sung {
            // A sampled voice gets a singer's vibrato by pitch bend (±2 semitones = ±8192),
            // growing after 0.2 s, updated every 10 ms.
            let (rate_hz, cents) = (4.5 + 2.0 * rng.uniform(), 20.0 + 30.0 * rng.uniform());
            let step = (0.01 * sr) as usize;
            for s in (s0..s1.min(n)).step_by(step.max(1)) {
                let t = (s - s0) as f64 / sr;
                let depth = cents * ((t - 0.2) / 0.3).clamp(0.0, 1.0);
                let bend = 8192.0 + depth / 200.0 * 8192.0 * (TAU * rate_hz * t).sin();
                let bend = bend.round().clamp(0.0, 16383.0) as i32;
                events.push(ev(s, 1, 0xE0, bend & 0x7F, bend >> 7));
            }
        }
    }
    events.sort_unstable();
    let (mut left, mut right) = (vec![0f32; n], vec![0f32; n]);
    let mut pos = 0;
    for e in &events {
        if e.at > pos {
            synth.render(&mut left[pos..e.at], &mut right[pos..e.at]);
            pos = e.at;
        }
        synth.process_midi_message(e.command & 0x0F, e.command & 0xF0, e.data1, e.data2);
    }
    synth.render(&mut left[pos..], &mut right[pos..]);
    Ok([left, right])
}

/// Renders one part, stereo, before its stem's levelling.
fn render_part(
    font: &Arc<SoundFont>,
    part: &Part,
    n: usize,
    rate: u32,
    rng: &mut SplitMix64,
) -> Result<Stereo, rustysynth::SynthesizerError> {
    match &part.sound {
        Sound::Singer(singer) => {
            let y = sing(&part.notes, &part.vowels, singer, n, rate as f64, rng);
            // Constant-power pan.
            let a = (part.pan + 1.0) * std::f64::consts::FRAC_PI_4;
            let (gl, gr) = (a.cos() as f32, a.sin() as f32);
            Ok([
                y.iter().map(|v| v * gl).collect(),
                y.iter().map(|v| v * gr).collect(),
            ])
        }
        _ => render_program(font, part, n, rate, rng),
    }
}

fn rms(x: &Stereo) -> f64 {
    let n = x[0].len().max(1) * 2;
    let e: f64 = x.iter().flatten().map(|&v| (v as f64) * (v as f64)).sum();
    (e / n as f64).sqrt()
}

fn scale(x: &mut Stereo, g: f64) {
    x.iter_mut().flatten().for_each(|v| *v *= g as f32);
}

/// Renders `score` for `seconds` at `rate`.
///
/// # Errors
/// The synthesiser refusing the settings (a rate it does not support).
pub fn render(
    font: &Arc<SoundFont>,
    score: &Score,
    seconds: f64,
    rate: u32,
    rng: &mut SplitMix64,
) -> Result<Rendered, rustysynth::SynthesizerError> {
    let n = (seconds * rate as f64) as usize;
    let order = [Stem::Vocals, Stem::Drums, Stem::Bass, Stem::Other];
    let mut stems: [Stereo; 4] = std::array::from_fn(|_| [vec![0f32; n], vec![0f32; n]]);
    for part in &score.parts {
        let mut y = render_part(font, part, n, rate, rng)?;
        // Parts are levelled by their own RMS first, so a quiet SoundFont patch is not lost.
        let r = rms(&y);
        if r > 0.0 {
            scale(&mut y, 10f64.powf(part.gain_db / 20.0) / r);
        }
        let k = order
            .iter()
            .position(|s| *s == part.stem)
            .expect("four stems");
        for (acc, ch) in stems[k].iter_mut().zip(&y) {
            acc.iter_mut().zip(ch).for_each(|(a, v)| *a += v);
        }
    }
    let mut between = |a: f64, b: f64| a + (b - a) * rng.uniform();
    // Drums at the reference level, bass and the rest around it, in dB.
    let levels = [0.0, 0.0, between(-4.0, 1.0), between(-3.0, 2.0)];
    for (k, stem) in stems.iter_mut().enumerate().skip(1) {
        let r = rms(stem);
        if r > 0.0 {
            scale(stem, 10f64.powf(levels[k] / 20.0) / r);
        }
    }
    let wets = [
        between(0.15, 0.4),
        between(0.05, 0.2),
        0.03,
        between(0.1, 0.35),
    ];
    let room = between(0.5, 0.85) as f32;
    let damp = between(0.2, 0.8) as f32;
    for (stem, wet) in stems.iter_mut().zip(wets) {
        let [l, r] = stem;
        reverberate(
            l,
            r,
            rate,
            Room {
                room,
                damp,
                wet: wet as f32,
            },
        );
    }
    let accompaniment: Stereo = std::array::from_fn(|c| {
        (0..n)
            .map(|i| stems[1][c][i] + stems[2][c][i] + stems[3][c][i])
            .collect()
    });
    let vocals_db = between(-5.0, 1.0);
    let rv = rms(&stems[0]);
    if rv > 0.0 {
        scale(
            &mut stems[0],
            10f64.powf(vocals_db / 20.0) * rms(&accompaniment) / rv,
        );
    }
    let peak = (0..n)
        .flat_map(|i| (0..2).map(move |c| (i, c)))
        .map(|(i, c)| stems.iter().map(|s| s[c][i]).sum::<f32>().abs())
        .fold(1e-9f32, f32::max) as f64;
    let target = between(0.5, 0.9);
    for stem in stems.iter_mut() {
        scale(stem, target / peak);
    }
    Ok(Rendered { stems, vocals_db })
}
