//! A trained separator: loaded from its run folder and applied to audio files, each into its
//! own folder, piece by piece.

use std::path::{Path, PathBuf};
use std::time::Instant;

use ndarray::Array2;
use serde::Serialize;
use soundcheck_audio::{resample, to_mono, AudioSource, WavStream};
use soundcheck_nn::{Device, Network};

use crate::error::{Result, TaskError};
use crate::plot::{write_png, Axes};
use crate::progress::Progress;
use crate::run_dir::RunDir;

use super::config::SeparationConfig;
use super::record::{SeparationRecord, StemName};
use super::stream::Chunking;

/// A trained separator: the network, its settings and its target's name.
pub struct Separator {
    /// The trained network.
    pub net: Network,
    /// Its STFT and patch settings.
    pub config: SeparationConfig,
    /// The stem it separates, checked as a file name.
    pub target: StemName,
}

/// One separated file's record.
#[derive(Clone, Debug, Serialize)]
pub struct SeparatedFile {
    /// The mixture.
    pub input: PathBuf,
    /// The folder the stems were written to.
    pub output: PathBuf,
    /// Wall-clock seconds of the separation.
    pub seconds: f64,
    /// Seconds of audio.
    pub audio_seconds: f64,
    /// Seconds of audio separated per second.
    pub realtime_factor: f64,
    /// Left as an earlier run wrote it (`skip_existing`): nothing was computed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub skipped: bool,
}

/// Where `separate_files` writes, and what it may leave.
#[derive(Clone, Copy, Debug, Default)]
pub struct BatchOutput {
    /// Each mixture's folder mirrors its path under `out` (inputs from a list, whose file names
    /// may repeat across folders), instead of `out/<file stem>/`.
    pub mirror: bool,
    /// Leave a mixture whose every output exists (complete: each is written atomically), so a
    /// rerun of a killed job finishes it.
    pub skip_existing: bool,
}

impl Separator {
    /// The separator of a `train separation` run.
    pub fn load(run: &Path, device: &Device) -> Result<Separator> {
        let run = RunDir::open(run);
        let net = run.network(device)?;
        let record: SeparationRecord =
            run.read_record(RunDir::SEPARATION, "soundcheck train separation")?;
        let (config, target) = record.settings().map_err(|actual| TaskError::Folder {
            path: run.file(RunDir::SEPARATION),
            actual,
            hint: "the record is damaged: train the run again or restore the file".into(),
        })?;
        Ok(Separator {
            net,
            config,
            target,
        })
    }

    /// The pretrained separator built into the binary ([`crate::builtin::PRETRAINED_PATH`]): what
    /// `separate` uses without a run or a model file.
    ///
    /// # Errors
    /// None unless the binary was built from damaged files (its tests load it).
    pub fn builtin(device: &Device) -> Result<Separator> {
        let b = &crate::builtin::PRETRAINED;
        let damaged = |file: &str, actual: String| TaskError::Folder {
            path: Path::new(b.path).join(file),
            actual: format!("the built-in separator's file is damaged ({actual})"),
            hint: "rebuild soundcheck from an intact checkout, or pass `run` DIR".into(),
        };
        let spec: serde_json::Value =
            serde_json::from_str(b.model).map_err(|e| damaged(RunDir::MODEL, e.to_string()))?;
        let spec = soundcheck_shape::ModelSpec::from_value(&spec)?;
        let (weights, _) =
            soundcheck_nn::parse_weights(b.weights, &Path::new(b.path).join(RunDir::WEIGHTS))?;
        let record: SeparationRecord = serde_json::from_str(b.separation)
            .map_err(|e| damaged(RunDir::SEPARATION, e.to_string()))?;
        let (config, target) = record
            .settings()
            .map_err(|e| damaged(RunDir::SEPARATION, e))?;
        Ok(Separator {
            net: Network::new(&spec, &weights, device)?,
            config,
            target,
        })
    }

    /// A separator from a Keras model file (`.keras`, `.h5`) with its weights: the settings and
    /// the target come from the caller (a Keras file has none of soundcheck's), and the
    /// model's input must take `(bins, patch, 1)` magnitude patches of them.
    ///
    /// # Errors
    /// An unreadable model or weights; an input or output shape that does not fit the settings,
    /// naming both.
    pub fn from_keras(
        path: &Path,
        config: SeparationConfig,
        target: StemName,
        device: &Device,
    ) -> Result<Separator> {
        let net = soundcheck_nn::load_keras(path, device)?;
        let want = soundcheck_shape::Shape(vec![Some(config.bins()), Some(config.patch), Some(1)]);
        let report = net.model().check();
        let shapes = |v: Vec<&soundcheck_shape::Shape>| {
            v.iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let inputs: Vec<_> = report.inputs.iter().map(|i| &i.shape).collect();
        let output: Vec<_> = report
            .layers
            .last()
            .map(|l| &l.output_shape)
            .into_iter()
            .collect();
        if inputs != [&want] || output != [&want] {
            return Err(TaskError::Folder {
                path: path.to_path_buf(),
                actual: format!(
                    "a model taking {} and returning {}; the settings give {want} magnitude patches (n_fft {} → {} bins, patch {} frames) and expect the target's back",
                    shapes(inputs), shapes(output), config.n_fft, config.bins(), config.patch
                ),
                hint: "set `n_fft` and `patch` to the model's training (its input is (n_fft/2 + 1, patch, 1)), or give a model that maps a magnitude patch to the target's".into(),
            });
        }
        Ok(Separator {
            net,
            config,
            target,
        })
    }

    /// Starts patches every `hop` frames when separating (training's hop is the default). A hop
    /// longer than a patch would leave frames no patch covers, unseparated: it is refused.
    pub fn set_patch_hop(&mut self, hop: usize) -> Result<()> {
        let patch = self.config.patch;
        if !(1..=patch).contains(&hop) {
            return Err(TaskError::Option {
                name: "patch_hop",
                actual: hop.to_string(),
                expected: format!(
                    "1 to {patch} frames (the run's patch length): a longer hop leaves frames no patch covers"
                ),
            });
        }
        self.config.patch_hop = hop;
        Ok(())
    }

    /// Refines each separation by `iterations` steps of multichannel Wiener filtering (0: the
    /// mask alone). More than 10 is refused: each costs a pass over the spectrogram, and
    /// norbert's users run 1 to 3.
    pub fn set_wiener(&mut self, iterations: usize) -> Result<()> {
        if iterations > 10 {
            return Err(TaskError::Option {
                name: "wiener",
                actual: iterations.to_string(),
                expected: "0 to 10 EM iterations (0: the mask alone; 1 is Open-Unmix's default)"
                    .into(),
            });
        }
        self.config.wiener = iterations;
        Ok(())
    }

    /// Separates one file into `dir` (`<target>.wav`, `accompaniment.wav` at the input's rate
    /// and channels; `mixture.png` and `mask.png` with `png`), piece by piece so memory does
    /// not grow with the length.
    pub fn separate_file(
        &self,
        path: &Path,
        dir: &Path,
        png: bool,
        progress: &dyn Progress,
    ) -> Result<SeparatedFile> {
        let mut src = AudioSource::open(path).map_err(|e| TaskError::file(path, e))?;
        // What `create_dir_all` makes: the file's folder, and the `-o` folder when it is new.
        let created = dir
            .ancestors()
            .take_while(|a| !a.as_os_str().is_empty() && !a.exists())
            .last()
            .map(Path::to_path_buf);
        std::fs::create_dir_all(dir).map_err(|e| TaskError::io(dir, "create the folder", e))?;
        let outcome = self.separate_into(path, &mut src, dir, png, progress);
        if let (Err(_), Some(top)) = (&outcome, created) {
            // The streams removed their partial files; the folders made for them go too, each
            // only if empty, so a failure leaves nothing that looks like an output (and an
            // earlier file's output stays).
            for folder in dir.ancestors() {
                if std::fs::remove_dir(folder).is_err() || folder == top {
                    break;
                }
            }
        }
        outcome
    }

    /// [`Separator::separate_file`] once the input is open and the folder exists.
    fn separate_into(
        &self,
        path: &Path,
        src: &mut AudioSource,
        dir: &Path,
        png: bool,
        progress: &dyn Progress,
    ) -> Result<SeparatedFile> {
        let cfg = &self.config;
        let rate = src.sample_rate();
        let stream = |name: &str| {
            let out = dir.join(name);
            WavStream::create(&out, src.channels(), rate).map_err(|e| TaskError::file(&out, e))
        };
        let mut target_out = stream(&format!("{}.wav", self.target))?;
        let mut rest_out = stream("accompaniment.wav")?;
        let chunking = Chunking::default();
        let pieces = (src.frames() as f64 / (chunking.piece * rate as f64)).ceil() as usize;
        progress.start(
            &dir.file_name().unwrap_or_default().to_string_lossy(),
            pieces,
        );
        let t = Instant::now();
        let mask = cfg
            .separate_stream(
                &self.net,
                src,
                &mut target_out,
                &mut rest_out,
                chunking,
                &mut |_, _| progress.step(),
            )
            .map_err(|e| TaskError::file(path, e))?;
        let seconds = t.elapsed().as_secs_f64();
        progress.finish();
        target_out.finish().map_err(|e| TaskError::file(dir, e))?;
        rest_out.finish().map_err(|e| TaskError::file(dir, e))?;
        if let (true, Some(mask)) = (png, mask) {
            // The mask of the first piece, over that piece's mixture.
            let span = ((chunking.piece + chunking.fade + chunking.margin) * rate as f64) as usize;
            let mono = to_mono(&src.read(0, span).map_err(|e| TaskError::file(path, e))?);
            let mono = if rate == cfg.sample_rate {
                mono
            } else {
                resample(&mono, rate, cfg.sample_rate).map_err(|e| TaskError::file(path, e))?
            };
            self.draw_mask(dir, &mask, &mono)?;
        }
        let audio_seconds = src.frames() as f64 / rate as f64;
        Ok(SeparatedFile {
            input: path.to_path_buf(),
            output: dir.to_path_buf(),
            seconds,
            audio_seconds,
            realtime_factor: audio_seconds / seconds.max(1e-9),
            skipped: false,
        })
    }

    /// The mask (and the mixture's dB spectrogram under it) as pictures.
    fn draw_mask(&self, dir: &Path, mask: &Array2<f32>, mono: &[f32]) -> Result<()> {
        let cfg = &self.config;
        let picture_error = |e: String| TaskError::Folder {
            path: dir.to_path_buf(),
            actual: format!("the mask pictures could not be drawn ({e})"),
            hint: "check the free space and permissions".into(),
        };
        let spectrum =
            soundcheck_audio::stft(mono, &cfg.stft()).map_err(|e| TaskError::file(dir, e))?;
        let db = soundcheck_audio::amplitude_to_db(
            &soundcheck_audio::magnitude(&spectrum),
            soundcheck_audio::Ref::Max,
            1e-5,
            Some(80.0),
        )
        .map_err(|e| TaskError::file(dir, e))?;
        let axes = |title: &str, value: &str| Axes {
            title: title.into(),
            x_step: cfg.hop_length as f64 / cfg.sample_rate as f64,
            y_label: "frequency (Hz)".into(),
            y_step: cfg.sample_rate as f64 / cfg.n_fft as f64,
            value_label: value.into(),
        };
        write_png(&dir.join(MIXTURE_PNG), &db, &axes("mixture", "dB")).map_err(picture_error)?;
        write_png(
            &dir.join(MASK_PNG),
            &mask.mapv(|m| m * 100.0),
            &axes("mask", "%"),
        )
        .map_err(picture_error)
    }
}

/// The pictures `png` adds to a mixture's output folder.
const MIXTURE_PNG: &str = "mixture.png";
const MASK_PNG: &str = "mask.png";

/// The output folder of a mixture: `out/<file stem>`.
pub fn output_dir(out: &Path, mixture: &Path) -> PathBuf {
    out.join(mixture.file_stem().unwrap_or(mixture.as_os_str()))
}

/// Separates every mixture into `out/<file stem>/`, refusing, before anything is written, two
/// mixtures that would share a folder and a file that would replace a mixture or one of `keep`
/// (the files of the run the separator comes from).
pub fn separate_files(
    separator: &Separator,
    mixtures: &[PathBuf],
    keep: &[PathBuf],
    out: &Path,
    png: bool,
    batch: BatchOutput,
    progress: &dyn Progress,
) -> Result<Vec<SeparatedFile>> {
    let dirs: Vec<PathBuf> = mixtures
        .iter()
        .map(|m| {
            if batch.mirror {
                soundcheck_data::mirrored(out, m, "").map_err(TaskError::from)
            } else {
                Ok(output_dir(out, m))
            }
        })
        .collect::<Result<_>>()?;
    let target = format!("{}.wav", separator.target);
    let pictures = [MIXTURE_PNG, MASK_PNG];
    let written = |dir: &Path| -> Vec<PathBuf> {
        [target.as_str(), "accompaniment.wav"]
            .iter()
            .chain(if png { &pictures[..] } else { &[] })
            .map(|f| dir.join(f))
            .collect()
    };
    for (i, (m, dir)) in mixtures.iter().zip(&dirs).enumerate() {
        let written = written(dir);
        let reads: Vec<&Path> = mixtures.iter().chain(keep).map(PathBuf::as_path).collect();
        let writes: Vec<&Path> = written.iter().map(PathBuf::as_path).collect();
        TaskError::check_outputs("out", &reads, &writes)?;
        if let Some(other) = dirs[..i]
            .iter()
            .position(|d| d == dir)
            .map(|j| &mixtures[j])
        {
            return Err(TaskError::Folder {
                path: dir.clone(),
                actual: format!(
                    "{} and {} would both be written to this folder",
                    other.display(),
                    m.display()
                ),
                hint: "separate them into different -o folders".into(),
            });
        }
    }
    mixtures
        .iter()
        .zip(&dirs)
        .map(|(m, dir)| {
            if batch.skip_existing && written(dir).iter().all(|f| f.is_file()) {
                return Ok(SeparatedFile {
                    input: m.clone(),
                    output: dir.clone(),
                    seconds: 0.0,
                    audio_seconds: 0.0,
                    realtime_factor: 0.0,
                    skipped: true,
                });
            }
            separator.separate_file(m, dir, png, progress)
        })
        .collect()
}
