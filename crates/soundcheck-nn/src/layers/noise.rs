//! Noise layers: Dropout, SpatialDropout1D/2D, GaussianNoise, GaussianDropout. Active in a
//! training pass with draws fixed by its seed; the identity at inference.

use soundcheck_io::SplitMix64;
use soundcheck_shape::layers::Noise;
use soundcheck_shape::spec::DataFormat;

use super::{single, Build, Op};
use crate::error::Result;
use crate::pass::Pass;
use crate::tensor::{Binary, DynTensor};
use crate::variables::Variables;

pub(crate) struct NoiseOp {
    noise: Noise,
    /// The channel axis (batch counted) a spatial dropout draws along.
    channel_axis: usize,
}

impl NoiseOp {
    pub(crate) fn build(noise: Noise, b: &Build) -> NoiseOp {
        let channel_axis = match noise {
            Noise::SpatialDropout {
                data_format: DataFormat::ChannelsFirst,
                ..
            } => 1,
            _ => b.input.len(),
        };
        NoiseOp {
            noise,
            channel_axis,
        }
    }
}

/// Random draws, one per element of `shape`.
fn draws(rng: &mut SplitMix64, shape: &[usize], f: impl Fn(&mut SplitMix64) -> f32) -> Vec<f32> {
    (0..shape.iter().product::<usize>())
        .map(|_| f(rng))
        .collect()
}

/// A dropout mask of `shape`: 0 with probability `rate`, 1/(1 − rate) otherwise.
fn dropout_mask(rate: f32, rng: &mut SplitMix64, shape: &[usize]) -> Vec<f32> {
    let keep = if rate < 1.0 { 1.0 / (1.0 - rate) } else { 0.0 };
    draws(rng, shape, |r| {
        if r.uniform() < rate as f64 {
            0.0
        } else {
            keep
        }
    })
}

impl Op for NoiseOp {
    /// # Shapes
    /// - input: any rank; output: the same shape
    fn forward(&self, inputs: Vec<DynTensor>, _: &Variables, pass: &mut Pass) -> Result<DynTensor> {
        let x = single(inputs);
        let Some(rng) = pass.training.as_mut() else {
            return Ok(x);
        };
        let (dims, device) = (x.dims(), x.device());
        let (shape, values, f) = match self.noise {
            Noise::Dropout { rate } => (dims.clone(), dropout_mask(rate, rng, &dims), Binary::Mul),
            Noise::SpatialDropout { rate, .. } => {
                let shape: Vec<usize> = (0..dims.len())
                    .map(|a| {
                        if a == 0 || a == self.channel_axis {
                            dims[a]
                        } else {
                            1
                        }
                    })
                    .collect();
                let mask = dropout_mask(rate, rng, &shape);
                (shape, mask, Binary::Mul)
            }
            Noise::Gaussian { stddev } => {
                let n = draws(rng, &dims, |r| r.normal() as f32 * stddev);
                (dims.clone(), n, Binary::Add)
            }
            Noise::GaussianDropout { rate } => {
                let std = (rate / (1.0 - rate)).sqrt();
                let n = draws(rng, &dims, |r| 1.0 + r.normal() as f32 * std);
                (dims.clone(), n, Binary::Mul)
            }
        };
        Ok(x.zip_with(DynTensor::from_data(&shape, values, &device), f))
    }

    fn keeps_mask(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropout_keeps_the_expected_sum() {
        // Inverted dropout scales the kept elements by 1/(1 − rate): the mean stays 1.
        let mask = dropout_mask(0.25, &mut SplitMix64::new(7), &[100_000]);
        let kept = mask.iter().filter(|&&m| m > 0.0).count() as f64 / 1e5;
        assert!((kept - 0.75).abs() < 0.01, "kept {kept}");
        assert!(mask
            .iter()
            .all(|&m| m == 0.0 || (m - 4.0 / 3.0).abs() < 1e-6));
        let mean = mask.iter().map(|&m| m as f64).sum::<f64>() / 1e5;
        assert!((mean - 1.0).abs() < 0.02, "mean {mean}");
    }

    #[test]
    fn spatial_dropout_drops_whole_channels_and_inference_passes_through() {
        let net = crate::testing::network(
            "[6, 2]",
            "[[layers]]\ntype = \"SpatialDropout1D\"\nrate = 0.5\n",
            &[],
        );
        let x: Vec<f32> = (1..=12).map(|v| v as f32).collect();
        let (_, y) = crate::testing::run(&net, &[1, 6, 2], x.clone());
        assert_eq!(y, x, "inference is the identity");
        let op = NoiseOp {
            noise: Noise::SpatialDropout {
                rate: 0.5,
                data_format: DataFormat::ChannelsLast,
            },
            channel_axis: 2,
        };
        let device = burn::tensor::Device::flex();
        let mut pass = Pass::training(3);
        let input = DynTensor::from_data(&[4, 6, 2], vec![1.0; 48], &device);
        let y = op
            .forward(vec![input], net.variables(), &mut pass)
            .unwrap()
            .to_vec();
        // Each (example, channel) is all 0 or all 2 across the 6 steps.
        for n in 0..4 {
            for c in 0..2 {
                let v: Vec<f32> = (0..6).map(|t| y[n * 12 + t * 2 + c]).collect();
                assert!(
                    v.iter().all(|&e| e == v[0]) && (v[0] == 0.0 || v[0] == 2.0),
                    "{v:?}"
                );
            }
        }
    }
}
