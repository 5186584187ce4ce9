//! Layouts: Keras's channels_last at the layer boundaries, burn's channels-first inside its
//! convolutions and pools, channels_last inside our CPU kernels. Used by the layers and by the
//! kernel facade (`kernels::ops`), so it belongs to neither.

use soundcheck_shape::spec::DataFormat;

use crate::tensor::DynTensor;

/// Moves the channel axis from the layer's data format to channels-first.
///
/// # Shapes
/// - `x`: `(batch, *spatial, channels)` for channels_last (rank 3 to 5), else unchanged
/// - output: `(batch, channels, *spatial)`
pub(crate) fn to_channels_first(x: DynTensor, df: DataFormat) -> DynTensor {
    let r = x.dims().len();
    match df {
        DataFormat::ChannelsFirst => x,
        DataFormat::ChannelsLast => {
            let perm: Vec<usize> = [0, r - 1].into_iter().chain(1..r - 1).collect();
            x.permute(&perm)
        }
    }
}

/// The inverse of [`to_channels_first`].
///
/// # Shapes
/// - `x`: `(batch, channels, *spatial)`; output: the layer's data format
pub(crate) fn from_channels_first(x: DynTensor, df: DataFormat) -> DynTensor {
    let r = x.dims().len();
    match df {
        DataFormat::ChannelsFirst => x,
        DataFormat::ChannelsLast => {
            let perm: Vec<usize> = [0].into_iter().chain(2..r).chain([1]).collect();
            x.permute(&perm)
        }
    }
}

/// Moves the channel axis from the layer's data format to channels_last (for our CPU kernels).
///
/// # Shapes
/// - `x`: `(batch, channels, *spatial)` for channels_first (rank 3 to 5), else unchanged
/// - output: `(batch, *spatial, channels)`
pub(crate) fn to_channels_last(x: DynTensor, df: DataFormat) -> DynTensor {
    match df {
        DataFormat::ChannelsLast => x,
        DataFormat::ChannelsFirst => from_channels_first(x, DataFormat::ChannelsLast),
    }
}

/// The inverse of [`to_channels_last`].
pub(crate) fn from_channels_last(x: DynTensor, df: DataFormat) -> DynTensor {
    match df {
        DataFormat::ChannelsLast => x,
        DataFormat::ChannelsFirst => to_channels_first(x, DataFormat::ChannelsLast),
    }
}

/// Keras's convolution kernel `(k…, in, out)` as burn's weight `(out, in, k…)`; equally a
/// transposed convolution's `(k…, out, in)` as burn's `(in, out, k…)`.
pub(crate) fn kernel_to_burn(w: DynTensor) -> DynTensor {
    let r = w.dims().len();
    let perm: Vec<usize> = [r - 1, r - 2].into_iter().chain(0..r - 2).collect();
    w.permute(&perm)
}

/// The spatial axes' lengths of a tensor in the layer's data format.
///
/// # Shapes
/// - `dims`: `(batch, *spatial, channels)` or `(batch, channels, *spatial)`; output: `spatial`
pub(crate) fn spatial_dims(dims: &[usize], df: DataFormat) -> &[usize] {
    match df {
        DataFormat::ChannelsLast => &dims[1..dims.len() - 1],
        DataFormat::ChannelsFirst => &dims[2..],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_moves_the_channel_axis() {
        let device = burn::tensor::Device::flex();
        let x = DynTensor::from_data(&[1, 2, 3, 2], (0..12).map(|v| v as f32).collect(), &device);
        let cf = to_channels_first(x.clone(), DataFormat::ChannelsLast);
        assert_eq!(cf.dims(), [1, 2, 2, 3]);
        // Channel 1 of a (2, 3) image holds the odd values.
        assert_eq!(&cf.to_vec()[6..], [1.0, 3.0, 5.0, 7.0, 9.0, 11.0]);
        let back = from_channels_first(cf, DataFormat::ChannelsLast);
        assert_eq!(back.to_vec(), x.to_vec());
        let same = to_channels_first(x.clone(), DataFormat::ChannelsFirst);
        assert_eq!(same.dims(), [1, 2, 3, 2]);
    }
}
