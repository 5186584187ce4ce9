//! On-the-fly augmentation of the training clips' feature stacks, drawn anew every epoch: a
//! random time shift (each clip placed at a random offset in the padded length, or a random
//! excerpt of a longer clip) and SpecAugment's frequency and time masks. Draws come from the
//! seed, the epoch and the clip, so a run repeats and resumes exactly.

use soundcheck_data::{DataError, Dataset, Field, Sequence, Side};
use soundcheck_io::SplitMix64;

/// What is drawn per clip and epoch; the default draws nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Augment {
    /// Place each clip at a random offset in the padded length (a longer clip: a random
    /// excerpt) instead of where `padding`/`truncating` put it.
    pub time_shift: bool,
    /// Frequency masks per clip: runs of consecutive features set to the mean (0).
    pub freq_masks: usize,
    /// The widest frequency mask (SpecAugment's F): widths are drawn from 0 to it.
    pub freq_mask_width: usize,
    /// Time masks per clip: runs of consecutive frames set to the mean (0).
    pub time_masks: usize,
    /// The widest time mask (SpecAugment's T).
    pub time_mask_width: usize,
}

impl Augment {
    /// Whether anything is drawn.
    pub fn is_active(&self) -> bool {
        self.time_shift
            || (self.freq_masks > 0 && self.freq_mask_width > 0)
            || (self.time_masks > 0 && self.time_mask_width > 0)
    }

    /// One line for the run's options and notes.
    pub fn describe(&self) -> String {
        if !self.is_active() {
            return "none".into();
        }
        format!(
            "time_shift={} freq_masks={}x{} time_masks={}x{}",
            self.time_shift,
            self.freq_masks,
            self.freq_mask_width,
            self.time_masks,
            self.time_mask_width
        )
    }

    /// Clip `seq` (standardised) as one example of `maxlen` frames: placed by `place` (the
    /// offset of its first frame, negative to cut its start), then masked by `rng`.
    fn draw(
        &self,
        seq: &Sequence,
        maxlen: usize,
        place: isize,
        rng: &mut SplitMix64,
        out: &mut [f32],
    ) {
        let f = seq.features;
        out.fill(0.0);
        for t in 0..maxlen {
            let src = t as isize - place;
            if (0..seq.frames as isize).contains(&src) {
                let src = src as usize;
                out[t * f..(t + 1) * f].copy_from_slice(&seq.data[src * f..(src + 1) * f]);
            }
        }
        let band = |extent: usize, widest: usize, rng: &mut SplitMix64| {
            let w = rng.below(widest.min(extent) + 1);
            (rng.below(extent - w + 1), w)
        };
        for _ in 0..self.freq_masks {
            let (start, w) = band(f, self.freq_mask_width, rng);
            for row in out.chunks_mut(f) {
                row[start..start + w].fill(0.0);
            }
        }
        for _ in 0..self.time_masks {
            let (start, w) = band(maxlen, self.time_mask_width, rng);
            out[start * f..(start + w) * f].fill(0.0);
        }
    }
}

/// Where `pad_sequences` puts the first frame of a clip of `frames` in `maxlen`: after the
/// padding (`pre`) or at 0, or, for a longer clip, so that its start is cut (`pre`) or at 0.
pub(super) fn home(frames: usize, maxlen: usize, padding: Side, truncating: Side) -> isize {
    match (frames <= maxlen, padding, truncating) {
        (true, Side::Pre, _) => (maxlen - frames) as isize,
        (false, _, Side::Pre) => -((frames - maxlen) as isize),
        _ => 0,
    }
}

/// The training clips, standardised but unpadded, augmented as they are loaded.
///
/// # Shapes
/// - input of each example: `(maxlen, features)`; target: `()`, the class index
pub(super) struct AugmentedClips {
    /// Each clip, then its waveform copies ([`super::WaveAugment`]), of which every epoch
    /// shows one.
    variants: Vec<Vec<Sequence>>,
    labels: Vec<f32>,
    maxlen: usize,
    /// `pad_sequences`'s placement of an unshifted clip.
    padding: Side,
    truncating: Side,
    augment: Augment,
    seed: u64,
    input: Field,
    target: Field,
}

impl AugmentedClips {
    /// `variants[i]` (clip `i`, then its copies) with their `labels`, placed in `maxlen` frames
    /// as `padding`/`truncating` say unless shifted.
    pub(super) fn new(
        variants: Vec<Vec<Sequence>>,
        labels: &[usize],
        maxlen: usize,
        (padding, truncating): (Side, Side),
        augment: Augment,
        seed: u64,
    ) -> AugmentedClips {
        let features = variants
            .first()
            .and_then(|v| v.first())
            .map_or(0, |s| s.features);
        AugmentedClips {
            labels: labels.iter().map(|&l| l as f32).collect(),
            variants,
            maxlen,
            padding,
            truncating,
            augment,
            seed,
            input: Field::new(&[maxlen, features]),
            target: Field {
                integer: true,
                ..Field::new(&[])
            },
        }
    }

    fn example(&self, epoch: Option<u64>, i: usize, input: &mut [f32], target: &mut [f32]) {
        let mut rng = SplitMix64::keyed(self.seed, &[epoch.map_or(0, |e| e + 1), i as u64]);
        let variants = &self.variants[i];
        let seq = match epoch {
            Some(_) if variants.len() > 1 => &variants[rng.below(variants.len())],
            _ => &variants[0],
        };
        let place = match epoch {
            Some(_) if self.augment.time_shift => {
                let (lo, hi) = if seq.frames <= self.maxlen {
                    (0, (self.maxlen - seq.frames) as isize)
                } else {
                    (-((seq.frames - self.maxlen) as isize), 0)
                };
                lo + rng.below((hi - lo) as usize + 1) as isize
            }
            _ => home(seq.frames, self.maxlen, self.padding, self.truncating),
        };
        let masked = Augment {
            freq_masks: if epoch.is_some() {
                self.augment.freq_masks
            } else {
                0
            },
            time_masks: if epoch.is_some() {
                self.augment.time_masks
            } else {
                0
            },
            ..self.augment.clone()
        };
        masked.draw(seq, self.maxlen, place, &mut rng, input);
        target[0] = self.labels[i];
    }
}

impl Dataset for AugmentedClips {
    fn len(&self) -> usize {
        self.variants.len()
    }

    fn inputs(&self) -> &[Field] {
        std::slice::from_ref(&self.input)
    }

    fn targets(&self) -> &[Field] {
        std::slice::from_ref(&self.target)
    }

    /// The clip as `pad_sequences` places it, unmasked.
    fn load(&self, i: usize, input: &mut [f32], target: &mut [f32]) -> Result<(), DataError> {
        self.example(None, i, input, target);
        Ok(())
    }

    fn load_in_epoch(
        &self,
        epoch: u64,
        i: usize,
        input: &mut [f32],
        target: &mut [f32],
    ) -> Result<(), DataError> {
        self.example(Some(epoch), i, input, target);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clips() -> AugmentedClips {
        // Frame t of clip i holds (i + 1)·100 + t in each of its 4 features.
        let seqs: Vec<Sequence> = [3usize, 6, 10]
            .iter()
            .enumerate()
            .map(|(i, &frames)| Sequence {
                frames,
                features: 4,
                data: (0..frames)
                    .flat_map(|t| [((i + 1) * 100 + t) as f32; 4])
                    .collect(),
            })
            .collect();
        let augment = Augment {
            time_shift: true,
            freq_masks: 1,
            freq_mask_width: 2,
            time_masks: 2,
            time_mask_width: 2,
        };
        let variants = seqs.into_iter().map(|s| vec![s]).collect();
        AugmentedClips::new(variants, &[0, 1, 0], 8, (Side::Pre, Side::Pre), augment, 9)
    }

    fn load(ds: &AugmentedClips, epoch: Option<u64>, i: usize) -> Vec<f32> {
        let (mut x, mut y) = (vec![f32::NAN; 8 * 4], vec![f32::NAN]);
        match epoch {
            Some(e) => ds.load_in_epoch(e, i, &mut x, &mut y).unwrap(),
            None => ds.load(i, &mut x, &mut y).unwrap(),
        }
        assert_eq!(y[0], [0.0, 1.0, 0.0][i]);
        x
    }

    #[test]
    fn draws_repeat_per_seed_and_epoch_and_keep_the_declared_shape() {
        let ds = clips();
        assert_eq!(ds.inputs()[0].shape, vec![8, 4]);
        for i in 0..3 {
            let x = load(&ds, Some(4), i);
            assert_eq!(x.len(), 8 * 4);
            assert!(x.iter().all(|v| v.is_finite()));
            assert_eq!(x, load(&ds, Some(4), i), "same seed, epoch and clip");
        }
        let epochs: Vec<Vec<f32>> = (0..6).map(|e| load(&ds, Some(e), 2)).collect();
        assert!(epochs.windows(2).any(|w| w[0] != w[1]), "epochs differ");
        let mut other = clips();
        other.seed = 10;
        assert!((0..6).any(|e| load(&other, Some(e), 2) != epochs[e as usize]));
    }

    #[test]
    fn shifted_clips_keep_their_frames_in_order_and_masks_only_zero_values() {
        let ds = clips();
        for e in 0..20 {
            for i in 0..3 {
                let x = load(&ds, Some(e), i);
                // Unmasked values of a frame are that frame's; the frames shown are
                // consecutive frames of the clip.
                let shown: Vec<f32> = x
                    .chunks(4)
                    .filter_map(|row| row.iter().copied().find(|&v| v != 0.0))
                    .collect();
                for row in x.chunks(4) {
                    let v = row.iter().copied().find(|&v| v != 0.0).unwrap_or(0.0);
                    assert!(row.iter().all(|&u| u == 0.0 || u == v), "{row:?}");
                }
                let base = ((i + 1) * 100) as f32;
                assert!(shown.iter().all(|&v| v >= base && v < base + 10.0));
                assert!(shown.windows(2).all(|w| w[1] > w[0]), "{shown:?}");
            }
        }
        // Outside training, the clip is where pad_sequences puts it: clip 0 (3 frames) after
        // 5 frames of padding, clip 2 (10 frames) without its first 2.
        let x = load(&ds, None, 0);
        assert_eq!(&x[..20], &[0.0; 20]);
        assert_eq!(
            &x[20..],
            &[100.0, 100.0, 100.0, 100.0, 101.0, 101.0, 101.0, 101.0, 102.0, 102.0, 102.0, 102.0]
        );
        assert_eq!(load(&ds, None, 2)[0], 302.0);
    }

    #[test]
    fn epochs_show_a_clip_or_its_copies_and_evaluation_the_clip() {
        let frames = |v: f32| Sequence {
            frames: 2,
            features: 1,
            data: vec![v; 2],
        };
        let ds = AugmentedClips::new(
            vec![vec![frames(1.0), frames(2.0), frames(3.0)]],
            &[0],
            2,
            (Side::Pre, Side::Pre),
            Augment::default(),
            5,
        );
        let (mut x, mut y) = (vec![0.0; 2], vec![0.0]);
        let mut seen = std::collections::BTreeSet::new();
        for e in 0..30 {
            ds.load_in_epoch(e, 0, &mut x, &mut y).unwrap();
            seen.insert(x[0] as i32);
        }
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), vec![1, 2, 3]);
        ds.load(0, &mut x, &mut y).unwrap();
        assert_eq!(x, vec![1.0, 1.0]);
    }

    #[test]
    fn unshifted_clips_sit_where_pad_sequences_puts_them() {
        let ds = clips();
        for padding in [Side::Pre, Side::Post] {
            for truncating in [Side::Pre, Side::Post] {
                for s in ds.variants.iter().map(|v| &v[0]) {
                    let mut x = vec![0.0; 8 * 4];
                    Augment::default().draw(
                        s,
                        8,
                        home(s.frames, 8, padding, truncating),
                        &mut SplitMix64::new(0),
                        &mut x,
                    );
                    let keras = soundcheck_data::pad_sequences(
                        std::slice::from_ref(s),
                        8,
                        padding,
                        truncating,
                        0.0,
                    )
                    .unwrap();
                    assert_eq!(x, keras, "{padding:?} {truncating:?} {} frames", s.frames);
                }
            }
        }
    }
}
