//! A song's score, composed at random the way pop arrangements are built: a key and a chord
//! loop, sections with their own density, a drum pattern with fills, a bass line on the roots,
//! 1–3 harmony instruments voiced in the singer's range, sometimes a melodic instrument
//! answering the voice, and a sung melody in phrases over the chords.

use soundcheck_io::SplitMix64;

/// The stem a part belongs to (MUSDB18's four).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stem {
    /// The sung lines (lead and harmony).
    Vocals,
    /// The drum kit.
    Drums,
    /// The bass.
    Bass,
    /// Everything else.
    Other,
}

/// One note: times in seconds, a MIDI key and velocity.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Note {
    /// Onset in seconds.
    pub start: f64,
    /// Length in seconds.
    pub length: f64,
    /// MIDI key.
    pub key: u8,
    /// MIDI velocity 1–127.
    pub velocity: u8,
}

/// How a part sounds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sound {
    /// A General-MIDI program of the SoundFont (0–127), or its drum kit.
    Program(u8),
    /// The drum kit (MIDI channel 10).
    Kit,
    /// The built-in formant singer ([`super::voice`]).
    Singer(Singer),
}

/// A synthetic singer's voice: register, timbre and expression.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Singer {
    /// Formant frequencies relative to an adult male's (1.0 male, ≈ 1.15 female).
    pub formant_scale: f64,
    /// Aspiration noise relative to the voiced source.
    pub breathiness: f64,
    /// Vibrato rate in Hz.
    pub vibrato_hz: f64,
    /// Vibrato depth in cents.
    pub vibrato_cents: f64,
    /// Spectral tilt: the source's one-pole low-pass coefficient (0 bright, 0.9 dark).
    pub tilt: f64,
}

/// One voice of the arrangement.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    /// The stem it is mixed into.
    pub stem: Stem,
    /// Its instrument.
    pub sound: Sound,
    /// Its notes, sorted by onset.
    pub notes: Vec<Note>,
    /// Vowel index per note (sung parts; empty otherwise).
    pub vowels: Vec<usize>,
    /// Stereo position, −1 left to 1 right.
    pub pan: f64,
    /// Gain in dB relative to the stem's other parts.
    pub gain_db: f64,
}

/// A composed song.
#[derive(Clone, Debug, PartialEq)]
pub struct Score {
    /// Tempo in beats per minute.
    pub bpm: f64,
    /// The parts, lead vocal first.
    pub parts: Vec<Part>,
}

/// Number of vowels the singer knows ([`super::voice::VOWELS`]).
pub const N_VOWELS: usize = 5;

const MAJOR: [i32; 7] = [0, 2, 4, 5, 7, 9, 11];
const MINOR: [i32; 7] = [0, 2, 3, 5, 7, 8, 10];
/// Chord loops as scale degrees (0 = tonic), the commonest of pop.
const MAJOR_LOOPS: [[usize; 4]; 5] = [
    [0, 4, 5, 3],
    [5, 3, 0, 4],
    [0, 5, 3, 4],
    [0, 3, 4, 3],
    [0, 3, 0, 4],
];
const MINOR_LOOPS: [[usize; 4]; 4] = [[0, 5, 2, 6], [0, 3, 4, 0], [0, 6, 5, 6], [0, 5, 3, 4]];
/// Harmony instruments: pianos, electric pianos, organs, guitars, strings, brass, pads.
const HARMONY: [u8; 20] = [
    0, 1, 2, 4, 5, 16, 17, 19, 24, 25, 26, 27, 29, 30, 48, 49, 50, 61, 88, 89,
];
/// Melodic instruments that answer the voice in its own range.
const LEADS: [u8; 9] = [40, 56, 65, 66, 68, 71, 73, 80, 81];
/// Sampled voices for a lead sung by the SoundFont.
const VOICES: [u8; 3] = [52, 53, 54];

/// GM drum keys.
const KICK: u8 = 36;
const SNARE: u8 = 38;
const CLOSED_HAT: u8 = 42;
const OPEN_HAT: u8 = 46;
const CRASH: u8 = 49;
const RIDE: u8 = 51;
const TOMS: [u8; 3] = [50, 47, 45];

struct Composer<'a> {
    rng: &'a mut SplitMix64,
    beat: f64,
    bars: usize,
    /// Pitch classes of the scale, rooted at the key.
    scale: [i32; 7],
    key: i32,
    /// Scale degree of each bar's chord.
    chords: Vec<usize>,
    /// 0 verse, 1 chorus, per bar; bar 0 (and 1) may be an intro.
    section: Vec<u8>,
}

impl Composer<'_> {
    fn between(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * self.rng.uniform()
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.uniform() < p
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.rng.below(xs.len())]
    }

    /// MIDI key of scale degree `d` (any integer) above the key's octave `octave`.
    fn degree_key(&self, d: i32, octave: i32) -> i32 {
        let (o, i) = (d.div_euclid(7), d.rem_euclid(7) as usize);
        self.key + 12 * (octave + o) + self.scale[i]
    }

    /// The chord's tones (degrees) in bar `bar`: a triad, sometimes with its seventh.
    fn chord_degrees(&self, bar: usize) -> [i32; 3] {
        let r = self.chords[bar] as i32;
        [r, r + 2, r + 4]
    }

    /// Timing and velocity as a player gives them: a few ms early or late, ±10 velocity.
    fn human(&mut self, start: f64, length: f64, key: i32, velocity: f64) -> Note {
        let v = (velocity + self.between(-10.0, 10.0)).clamp(20.0, 127.0);
        Note {
            start: (start + self.between(-0.006, 0.006)).max(0.0),
            length: length.max(0.03),
            key: key.clamp(0, 127) as u8,
            velocity: v as u8,
        }
    }

    fn bar_start(&self, bar: usize) -> f64 {
        bar as f64 * 4.0 * self.beat
    }

    fn loudness(&self, bar: usize) -> f64 {
        if self.section[bar] == 1 {
            105.0
        } else {
            85.0
        }
    }

    fn drums(&mut self) -> Part {
        let style = self.rng.below(4); // rock, 16th hats, four on the floor, half time with ride
        let mut notes = Vec::new();
        let step = self.beat / 4.0;
        for bar in 0..self.bars {
            let t0 = self.bar_start(bar);
            let loud = self.loudness(bar);
            let fill = bar + 1 < self.bars && (bar + 1) % 4 == 0 && self.chance(0.6);
            if bar == 0 || self.section[bar] != self.section[bar - 1] {
                notes.push(self.human(t0, 1.5, CRASH as i32, loud + 10.0));
            }
            for s in 0..16 {
                let t = t0 + s as f64 * step;
                if fill && s >= 12 {
                    let tom = TOMS[(s - 12) % 3] as i32;
                    let k = if s % 2 == 0 { SNARE as i32 } else { tom };
                    notes.push(self.human(t, step, k, loud + 5.0));
                    continue;
                }
                let kick = match style {
                    2 => s % 4 == 0,
                    3 => s == 0 || (s == 10 && self.chance(0.5)),
                    _ => s == 0 || s == 8 || (s == 10 && self.chance(0.4)),
                };
                let snare = match style {
                    3 => s == 8,
                    _ => s == 4 || s == 12,
                };
                if kick {
                    notes.push(self.human(t, step, KICK as i32, loud + 10.0));
                }
                if snare {
                    notes.push(self.human(t, step, SNARE as i32, loud + 5.0));
                }
                let (hat_every, hat) = match style {
                    1 => (1, CLOSED_HAT),
                    3 => (2, RIDE),
                    _ => (2, CLOSED_HAT),
                };
                if s % hat_every == 0 {
                    let open = style == 2 && s % 4 == 2;
                    let accent = if s % 4 == 0 { 0.0 } else { -20.0 };
                    let k = if open { OPEN_HAT } else { hat };
                    notes.push(self.human(t, step, k as i32, loud - 15.0 + accent));
                }
            }
        }
        Part {
            stem: Stem::Drums,
            sound: Sound::Kit,
            notes,
            vowels: Vec::new(),
            pan: 0.0,
            gain_db: 0.0,
        }
    }

    fn bass(&mut self) -> Part {
        let program = self.pick(&[32, 33, 34, 35, 38, 39]);
        let style = self.rng.below(3); // 8ths on the root, root-fifth quarters, syncopated
        let mut notes = Vec::new();
        for bar in 0..self.bars {
            let t0 = self.bar_start(bar);
            let root = self.degree_key(self.chords[bar] as i32, -2).clamp(28, 43);
            let loud = self.loudness(bar);
            let hits: &[(f64, f64, i32)] = match style {
                0 => &[
                    (0.0, 0.5, 0),
                    (0.5, 0.5, 0),
                    (1.0, 0.5, 0),
                    (1.5, 0.5, 0),
                    (2.0, 0.5, 0),
                    (2.5, 0.5, 0),
                    (3.0, 0.5, 0),
                    (3.5, 0.5, 12),
                ],
                1 => &[(0.0, 1.0, 0), (1.0, 1.0, 7), (2.0, 1.0, 0), (3.0, 1.0, 7)],
                _ => &[(0.0, 1.5, 0), (1.5, 1.0, 0), (2.5, 0.5, 12), (3.0, 1.0, 7)],
            };
            for &(at, len, iv) in hits {
                notes.push(self.human(t0 + at * self.beat, len * self.beat * 0.9, root + iv, loud));
            }
        }
        Part {
            stem: Stem::Bass,
            sound: Sound::Program(program),
            notes,
            vowels: Vec::new(),
            pan: 0.0,
            gain_db: 0.0,
        }
    }

    /// A harmony instrument: sustained chords (pads, strings, organs), strums (guitars) or
    /// comping and arpeggios (keys), voiced from C3 upwards, through the voice's range.
    fn harmony(&mut self, program: u8, pan: f64) -> Part {
        let sustained = matches!(program, 16..=19 | 48..=50 | 61 | 88..=95);
        let guitar = matches!(program, 24..=31);
        let arpeggio = !sustained && !guitar && self.chance(0.4);
        let low = self.pick(&[48, 52, 55]);
        let mut notes = Vec::new();
        for bar in 0..self.bars {
            let t0 = self.bar_start(bar);
            let loud = self.loudness(bar) - 10.0;
            let mut keys: Vec<i32> = self
                .chord_degrees(bar)
                .iter()
                .map(|&d| {
                    let mut k = self.degree_key(d, 0);
                    while k < low {
                        k += 12;
                    }
                    k
                })
                .collect();
            keys.sort_unstable();
            if program == 30 {
                // Distortion guitar plays power chords: root, fifth, octave.
                keys = vec![keys[0], keys[0] + 7, keys[0] + 12];
            } else if self.chance(0.5) {
                keys.push(keys[0] + 12);
            }
            if sustained {
                for &k in &keys {
                    notes.push(self.human(t0, 4.0 * self.beat * 0.98, k, loud));
                }
            } else if guitar {
                for e in 0..8 {
                    if e % 2 == 1 && self.chance(0.35) {
                        continue;
                    }
                    for (j, &k) in keys.iter().enumerate() {
                        let spread = 0.012 * j as f64;
                        let t = t0 + e as f64 * self.beat / 2.0 + spread;
                        notes.push(self.human(t, self.beat / 2.0 * 0.95, k, loud));
                    }
                }
            } else if arpeggio {
                for e in 0..8 {
                    let k = keys[e % keys.len()];
                    let t = t0 + e as f64 * self.beat / 2.0;
                    notes.push(self.human(t, self.beat, k, loud));
                }
            } else {
                for q in 0..4 {
                    let len = if q % 2 == 0 { 1.5 } else { 0.5 };
                    let at = if q % 2 == 0 { 0.0 } else { 1.5 };
                    for &k in &keys {
                        let t = t0 + (2 * (q / 2)) as f64 * self.beat + at * self.beat;
                        notes.push(self.human(t, len * self.beat * 0.9, k, loud));
                    }
                }
            }
        }
        notes.sort_by(|a, b| a.start.total_cmp(&b.start));
        Part {
            stem: Stem::Other,
            sound: Sound::Program(program),
            notes,
            vowels: Vec::new(),
            pan,
            gain_db: self.between(-4.0, 0.0),
        }
    }

    /// A melody over the chords in `range` (MIDI keys): phrases of about a bar and a half with
    /// rests, chord tones on strong beats, steps and small leaps in between. `sing` gives the
    /// probability that a two-bar slot holds a phrase, per section (verse, chorus).
    fn melody(&mut self, range: (i32, i32), sing: [f64; 2], first_bar: usize) -> Vec<Note> {
        let mut notes = Vec::new();
        let centre = (range.0 + range.1) / 2;
        let mut degree = {
            let mut d = 0;
            while self.degree_key(d, 0) < centre {
                d += 1;
            }
            while self.degree_key(d, 0) > centre {
                d -= 1;
            }
            d
        };
        let mut bar = first_bar;
        while bar < self.bars {
            let p = sing[self.section[bar] as usize];
            if !self.chance(p) {
                bar += 2;
                continue;
            }
            let loud = self.loudness(bar);
            let mut t = self.pick(&[0.0, 0.0, 0.5, 1.0]);
            let end = self.between(5.0, 7.5).min(((self.bars - bar) * 4) as f64);
            while t < end {
                let len: f64 = self.pick(&[0.5, 0.5, 1.0, 1.0, 1.0, 1.5, 2.0]);
                let b = bar + (t / 4.0) as usize;
                if b >= self.bars {
                    break;
                }
                let strong = (t % 2.0) < 1e-9;
                if strong {
                    // The nearest chord tone.
                    let tones = self.chord_degrees(b);
                    degree = (degree - 3..=degree + 3)
                        .filter(|d| tones.iter().any(|c| (d - c).rem_euclid(7) == 0))
                        .min_by_key(|d| (d - degree).abs())
                        .unwrap_or(degree);
                } else {
                    degree += self.pick(&[-2, -1, -1, 0, 1, 1, 2, 3, -3]);
                }
                while self.degree_key(degree, 0) > range.1 {
                    degree -= 2;
                }
                while self.degree_key(degree, 0) < range.0 {
                    degree += 2;
                }
                let key = self.degree_key(degree, 0);
                let legato = self.between(0.85, 1.0);
                notes.push(self.human(
                    self.bar_start(bar) + t * self.beat,
                    len * self.beat * legato,
                    key,
                    loud,
                ));
                t += len;
            }
            bar += 2;
        }
        notes
    }
}

/// Composes a song of `seconds`.
pub fn compose(seconds: f64, rng: &mut SplitMix64) -> Score {
    let minor = rng.uniform() < 0.4;
    let bpm = 75.0 + 75.0 * rng.uniform();
    let beat = 60.0 / bpm;
    let bars = (seconds / (4.0 * beat)).ceil() as usize + 1;
    let loop_ = if minor {
        MINOR_LOOPS[rng.below(MINOR_LOOPS.len())]
    } else {
        MAJOR_LOOPS[rng.below(MAJOR_LOOPS.len())]
    };
    // Sections of 4 bars alternate verse and chorus from a random start; an intro of 1–2 bars
    // has no voice.
    let chorus_first = rng.below(2) as u8;
    let section: Vec<u8> = (0..bars)
        .map(|b| ((b / 4) as u8 + chorus_first) % 2)
        .collect();
    let intro = rng.below(3);
    let mut c = Composer {
        beat,
        bars,
        scale: if minor { MINOR } else { MAJOR },
        key: 48 + rng.below(12) as i32,
        chords: (0..bars).map(|b| loop_[b % 4]).collect(),
        section,
        rng,
    };
    let female = c.chance(0.5);
    let range = if female { (57, 76) } else { (47, 66) };
    let lead_notes = c.melody(range, [0.8, 0.95], intro);
    let n = lead_notes.len();
    let lead_sound = if c.chance(0.3) {
        Sound::Program(c.pick(&VOICES))
    } else {
        Sound::Singer(Singer {
            formant_scale: if female { 1.15 } else { 1.0 } * c.between(0.94, 1.06),
            breathiness: c.between(0.02, 0.15),
            vibrato_hz: c.between(4.5, 6.5),
            vibrato_cents: c.between(15.0, 60.0),
            tilt: c.between(0.1, 0.6),
        })
    };
    let vowels = (0..n).map(|_| c.rng.below(N_VOWELS)).collect::<Vec<_>>();
    let mut parts = vec![Part {
        stem: Stem::Vocals,
        sound: lead_sound,
        notes: lead_notes.clone(),
        vowels: vowels.clone(),
        pan: 0.0,
        gain_db: 0.0,
    }];
    if c.chance(0.35) {
        // A harmony a third above in the choruses, sung by the same voice.
        let notes: Vec<Note> = lead_notes
            .iter()
            .filter(|n| c.section[((n.start / (4.0 * beat)) as usize).min(bars - 1)] == 1)
            .map(|n| {
                let mut h = *n;
                let up = if MAJOR.contains(&((n.key as i32 - c.key + 4).rem_euclid(12))) {
                    4
                } else {
                    3
                };
                h.key = (n.key as i32 + up).min(127) as u8;
                h
            })
            .collect();
        let vowels = vec![c.rng.below(N_VOWELS); notes.len()];
        parts.push(Part {
            stem: Stem::Vocals,
            sound: lead_sound,
            notes,
            vowels,
            pan: c.between(-0.5, 0.5),
            gain_db: -8.0,
        });
    }
    parts.push(c.drums());
    parts.push(c.bass());
    let n_harmony = 1 + c.rng.below(3);
    for i in 0..n_harmony {
        let program = c.pick(&HARMONY);
        let pan = if n_harmony == 1 {
            0.0
        } else {
            -0.6 + 1.2 * i as f64 / (n_harmony - 1) as f64
        };
        parts.push(c.harmony(program, pan));
    }
    if c.chance(0.5) {
        // A melodic instrument in the singer's range: in the verses' gaps and the intro.
        let program = c.pick(&LEADS);
        let notes = c.melody((range.0 + 3, range.1 + 5), [0.35, 0.2], 0);
        let pan = c.between(-0.7, 0.7);
        parts.push(Part {
            stem: Stem::Other,
            sound: Sound::Program(program),
            notes,
            vowels: Vec::new(),
            pan,
            gain_db: c.between(-8.0, -3.0),
        });
    }
    Score { bpm, parts }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_song_has_every_stem_notes_in_range_and_is_deterministic() {
        for seed in 0..20 {
            let score = compose(30.0, &mut SplitMix64::new(seed));
            assert_eq!(score, compose(30.0, &mut SplitMix64::new(seed)));
            for stem in [Stem::Vocals, Stem::Drums, Stem::Bass, Stem::Other] {
                assert!(score.parts.iter().any(|p| p.stem == stem), "{stem:?}");
            }
            let lead = &score.parts[0];
            assert_eq!(lead.stem, Stem::Vocals);
            assert_eq!(lead.vowels.len(), lead.notes.len());
            assert!(
                !lead.notes.is_empty(),
                "seed {seed}: a song with no singing"
            );
            for p in &score.parts {
                for n in &p.notes {
                    assert!(n.start >= 0.0 && n.length > 0.0 && n.velocity > 0);
                }
                if p.stem == Stem::Vocals {
                    assert!(p.notes.iter().all(|n| (47..=81).contains(&n.key)));
                }
            }
        }
    }
}
