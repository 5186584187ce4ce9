//! Separation training examples cut on demand from spectrograms kept on disk, so that a corpus
//! of hours (MUSDB18 holds about 10 h) trains in the memory of a few patches. Each track's
//! mixture and target magnitudes are stored frame-major, so one patch is one contiguous read.

use std::path::PathBuf;

use soundcheck_audio::{magnitude, stft, AudioError};
use soundcheck_data::{DataError, Dataset, Field};
use soundcheck_npy::RowReader;

use super::config::{scale_by_mixture_peak, SeparationConfig};

impl SeparationConfig {
    /// A track's mixture and target magnitude spectrograms in the layout [`PatchDataset`] reads:
    /// frame-major, the mixture's bins then the target's in each frame.
    ///
    /// # Shapes
    /// - `mix`, `target`: `(n_samples,)` at `sample_rate`
    /// - output: `(frames, 2, bins)` and its data
    pub fn track_spectra(
        &self,
        mix: &[f32],
        target: &[f32],
    ) -> Result<(Vec<usize>, Vec<f32>), AudioError> {
        let cfg = self.stft();
        let (x, y) = (
            magnitude(&stft(mix, &cfg)?),
            magnitude(&stft(target, &cfg)?),
        );
        let (bins, frames) = x.dim();
        let mut data = Vec::with_capacity(frames * 2 * bins);
        for t in 0..frames {
            data.extend(x.column(t).iter());
            data.extend(y.column(t).iter());
        }
        Ok((vec![frames, 2, bins], data))
    }
}

/// Patches of every track's spectrograms (written by [`SeparationConfig::track_spectra`]), one
/// example per patch start: the mixture's magnitude patch as input, the target's as target, each
/// pair scaled by its mixture patch's peak.
///
/// # Shapes
/// - input and target of each example: `(bins, patch, 1)`
pub struct PatchDataset {
    tracks: Vec<RowReader>,
    /// `(track, first frame)` of each example.
    index: Vec<(usize, usize)>,
    bins: usize,
    patch: usize,
    field: Field,
}

impl PatchDataset {
    /// The patches of the tracks whose spectrograms are in `files`.
    ///
    /// # Errors
    /// A file that is not a `(frames, 2, bins)` float32 array of this configuration's bins.
    pub fn open(cfg: &SeparationConfig, files: &[PathBuf]) -> Result<PatchDataset, DataError> {
        let bins = cfg.bins();
        let mut tracks = Vec::with_capacity(files.len());
        let mut index = Vec::new();
        for (i, f) in files.iter().enumerate() {
            let r = RowReader::open(f)?;
            if r.shape().len() != 3 || r.shape()[1..] != [2, bins] {
                return Err(DataError::Mismatch {
                    what: format!("{}: cached spectrograms", f.display()),
                    expected: format!("(frames, 2, {bins}) for n_fft {}", cfg.n_fft),
                    actual: format!("{:?}", r.shape()),
                    hint: "delete the file to have it recomputed".into(),
                });
            }
            index.extend(cfg.starts(r.shape()[0]).into_iter().map(|s| (i, s)));
            tracks.push(r);
        }
        Ok(PatchDataset {
            tracks,
            index,
            bins,
            patch: cfg.patch,
            field: Field::new(&[bins, cfg.patch, 1]),
        })
    }
}

impl Dataset for PatchDataset {
    fn len(&self) -> usize {
        self.index.len()
    }

    fn inputs(&self) -> &[Field] {
        std::slice::from_ref(&self.field)
    }

    fn targets(&self) -> &[Field] {
        std::slice::from_ref(&self.field)
    }

    fn load(&self, i: usize, input: &mut [f32], target: &mut [f32]) -> soundcheck_data::Result<()> {
        let (track, start) = self.index[i];
        let reader = &self.tracks[track];
        // A track shorter than a patch is zero-padded to one.
        let frames = self.patch.min(reader.shape()[0] - start);
        let bins = self.bins;
        let mut rows = vec![0f32; frames * 2 * bins];
        reader.read_rows(start, &mut rows)?;
        input.fill(0.0);
        target.fill(0.0);
        for (t, frame) in rows.chunks_exact(2 * bins).enumerate() {
            for f in 0..bins {
                input[f * self.patch + t] = frame[f];
                target[f * self.patch + t] = frame[bins + f];
            }
        }
        scale_by_mixture_peak(input, target);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::separation::config::SCALE_FLOOR;

    #[test]
    fn patches_read_from_disk_are_the_spectrogram_windows_scaled_by_the_mixture_peak() {
        let cfg = SeparationConfig {
            n_fft: 64,
            hop_length: 16,
            patch: 5,
            patch_hop: 3,
            ..Default::default()
        };
        let mix: Vec<f32> = (0..200).map(|t| (t as f32 * 0.3).sin()).collect();
        let target: Vec<f32> = mix.iter().map(|v| 0.5 * v).collect();
        let (shape, data) = cfg.track_spectra(&mix, &target).unwrap();
        // 200 samples, centred frames every 16: 1 + 200 / 16 = 13 frames of 33 bins.
        assert_eq!(shape, vec![13, 2, 33]);
        let dir = std::env::temp_dir().join(format!("sc-patches-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("track.npy");
        soundcheck_npy::write(&file, &shape, &data).unwrap();
        let ds = PatchDataset::open(&cfg, &[file.clone(), file]).unwrap();
        // Starts 0, 3, 6 and 8 (flush with the end) in each of the two tracks.
        assert_eq!(ds.len(), 8);
        let (mut x, mut y) = (vec![0f32; 33 * 5], vec![0f32; 33 * 5]);
        ds.load(3, &mut x, &mut y).unwrap();
        let peak = (8 * 66..13 * 66)
            .filter(|i| i % 66 < 33)
            .map(|i| data[i])
            .fold(SCALE_FLOOR, f32::max);
        for f in 0..33 {
            for t in 0..5 {
                let frame = (8 + t) * 66;
                assert_eq!(x[f * 5 + t], data[frame + f] / peak);
                assert_eq!(y[f * 5 + t], data[frame + 33 + f] / peak);
            }
        }
        let bad = dir.join("bad.npy");
        soundcheck_npy::write(&bad, &[13, 2, 20], &vec![0f32; 13 * 40]).unwrap();
        let e = PatchDataset::open(&cfg, &[bad]).err().unwrap().to_string();
        assert!(e.contains("expected (frames, 2, 33)"), "{e}");
    }
}
