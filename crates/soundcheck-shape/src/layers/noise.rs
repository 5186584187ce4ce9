//! Noise layers: Dropout, SpatialDropout1D/2D, GaussianNoise, GaussianDropout. They pass their
//! input through at inference and change no shape.

use crate::args::Args;
use crate::diagnosis::Diagnosis;
use crate::spec::DataFormat;

/// What a noise layer does while training.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Noise {
    /// Zeroes elements with probability `rate`, scaling the rest by 1/(1 − rate).
    Dropout {
        /// The share of elements zeroed.
        rate: f32,
    },
    /// Dropout of whole channels, the same draw for every position.
    SpatialDropout {
        /// The share of channels zeroed.
        rate: f32,
        /// Where the channel axis is.
        data_format: DataFormat,
    },
    /// Adds N(0, stddev²).
    Gaussian {
        /// The noise's standard deviation.
        stddev: f32,
    },
    /// Multiplies by N(1, rate / (1 − rate)).
    GaussianDropout {
        /// The equivalent dropout rate.
        rate: f32,
    },
}

impl Noise {
    /// The layer classes [`Noise::parse`] reads.
    pub const TYPES: &'static [&'static str] = &[
        "Dropout",
        "SpatialDropout1D",
        "SpatialDropout2D",
        "GaussianNoise",
        "GaussianDropout",
    ];

    /// Keras requires `rate` (`stddev` for GaussianNoise), between 0 and 1 (the bound holds
    /// for `stddev` too): a layer without it, or out of range, is refused.
    pub fn parse(
        type_name: &str,
        a: &mut Args,
        default_df: DataFormat,
    ) -> Result<Noise, Diagnosis> {
        let noise = match type_name {
            "GaussianNoise" => Noise::Gaussian {
                stddev: a.fraction("stddev")? as f32,
            },
            "GaussianDropout" => Noise::GaussianDropout {
                rate: a.fraction("rate")? as f32,
            },
            "Dropout" => Noise::Dropout {
                rate: a.fraction("rate")? as f32,
            },
            _ => Noise::SpatialDropout {
                rate: a.fraction("rate")? as f32,
                data_format: DataFormat::parse(a.choice(
                    "data_format",
                    &DataFormat::NAMES,
                    default_df.as_str(),
                )?)
                .expect("choice returns a known name"),
            },
        };
        a.finish(&["seed", "noise_shape", "data_format"])?;
        Ok(noise)
    }
}
