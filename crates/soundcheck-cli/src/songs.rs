//! `soundcheck songs`: realistic benchmark songs from a General-MIDI SoundFont.

use std::path::PathBuf;

use clap::Args;
use soundcheck_tasks::songs::{write_songs, SongSet, DEFAULT_SOUNDFONT};

use crate::progress::Bars;
use crate::report::report;

/// Compose and render songs with stems (MUSDB18-HQ layout) for training and benchmarking
/// separation: sampled instruments from a SoundFont, a sampled or synthesised singing voice,
/// reverb, panning and produced levels.
#[derive(Args)]
#[command(
    after_help = "Examples:\n  apt install fluid-soundfont-gm\n  soundcheck songs --out data/songs\n  soundcheck songs --out data/small --train 6 --test 2 --seconds 20 --sample-rate 22050"
)]
pub struct SongsArgs {
    /// Where the songs go (a new or empty folder)
    #[arg(long)]
    pub out: PathBuf,
    /// The SoundFont 2 file that plays the instruments
    #[arg(long, default_value = DEFAULT_SOUNDFONT)]
    pub soundfont: PathBuf,
    /// Songs in train/
    #[arg(long, default_value_t = SongSet::default().train)]
    pub train: usize,
    /// Songs in test/
    #[arg(long, default_value_t = SongSet::default().test)]
    pub test: usize,
    /// Seconds per song
    #[arg(long, default_value_t = SongSet::default().seconds)]
    pub seconds: f64,
    /// Sample rate of the files
    #[arg(long, default_value_t = SongSet::default().sample_rate)]
    pub sample_rate: u32,
    /// Seed of the first song
    #[arg(long, default_value_t = SongSet::default().seed)]
    pub seed: u64,
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: &SongsArgs) -> u8 {
    let set = SongSet {
        train: a.train,
        test: a.test,
        seconds: a.seconds,
        sample_rate: a.sample_rate,
        seed: a.seed,
    };
    report(
        write_songs(&a.soundfont, &a.out, &set, &Bars::default()),
        a.json,
        |facts| {
            format!(
                "songs: {} songs of {} s ({} train, {} test) in {}",
                facts.len(),
                set.seconds,
                set.train,
                set.test,
                a.out.display()
            )
        },
    )
}
