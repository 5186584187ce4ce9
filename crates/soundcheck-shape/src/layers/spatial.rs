//! Layers that resize spatial axes by a fixed amount: UpSampling, ZeroPadding, Cropping.

use super::layout::{self, TooShort};
use super::{Ctx, Output};
use crate::args::Args;
use crate::diagnosis::Diagnosis;
use crate::shape::Shape;
use crate::spec::DataFormat;

/// What a spatial layer does on each spatial axis.
#[derive(Clone, Debug, PartialEq)]
pub enum Edit {
    /// Repeat each element this many times.
    UpSample(Vec<usize>),
    /// Zeros (before, after).
    Pad(Vec<(usize, usize)>),
    /// Elements removed (before, after).
    Crop(Vec<(usize, usize)>),
}

/// `ZeroPadding`, `Cropping` and `UpSampling` in 1 or 2 dimensions.
#[derive(Clone, Debug, PartialEq)]
pub struct SpatialEdit {
    /// What it does per spatial axis.
    pub edit: Edit,
    /// Spatial axes: 1 or 2.
    pub rank: usize,
    /// Where the channel axis is.
    pub data_format: DataFormat,
}

#[derive(Clone, Copy)]
enum Op {
    UpSample,
    Pad,
    Crop,
}

impl SpatialEdit {
    fn kind_of_op(type_name: &str) -> Option<(Op, usize)> {
        Some(match type_name {
            "UpSampling1D" => (Op::UpSample, 1),
            "UpSampling2D" => (Op::UpSample, 2),
            "UpSampling3D" => (Op::UpSample, 3),
            "ZeroPadding1D" => (Op::Pad, 1),
            "ZeroPadding2D" => (Op::Pad, 2),
            "ZeroPadding3D" => (Op::Pad, 3),
            "Cropping1D" => (Op::Crop, 1),
            "Cropping2D" => (Op::Crop, 2),
            "Cropping3D" => (Op::Crop, 3),
            _ => return None,
        })
    }

    /// The rank of a spatial class name, if it is one.
    pub fn kind_of(type_name: &str) -> Option<usize> {
        SpatialEdit::kind_of_op(type_name).map(|(_, r)| r)
    }

    /// Parses the arguments of spatial class `type_name`.
    pub fn parse(
        type_name: &str,
        a: &mut Args,
        default_df: DataFormat,
    ) -> Result<SpatialEdit, Diagnosis> {
        let (op, rank) = SpatialEdit::kind_of_op(type_name).expect("dispatched on a spatial class");
        let edit = match op {
            // Keras's UpSampling1D takes one integer, not a tuple.
            Op::UpSample if rank == 1 => Edit::UpSample(vec![a.positive("size", Some(2))?]),
            Op::UpSample => Edit::UpSample(a.tuple("size", rank, Some(2))?),
            Op::Pad => Edit::Pad(a.pairs("padding", rank, 1)?),
            // Keras's defaults: Cropping1D (1, 1), Cropping2D none, Cropping3D 1 on each side.
            Op::Crop => Edit::Crop(a.pairs("cropping", rank, if rank == 2 { 0 } else { 1 })?),
        };
        // Keras's UpSampling1D and Cropping1D have no data_format: they read (steps, features).
        let has_df = !(rank == 1 && matches!(op, Op::UpSample | Op::Crop));
        let data_format = if has_df {
            let s = a.choice("data_format", &DataFormat::NAMES, default_df.as_str())?;
            DataFormat::parse(s).expect("choice returns a known name")
        } else {
            DataFormat::ChannelsLast
        };
        if rank == 2 && matches!(op, Op::UpSample) {
            a.choice(
                "interpolation",
                &[
                    "nearest", "bilinear", "bicubic", "lanczos3", "lanczos5", "area",
                ],
                "nearest",
            )?;
        }
        a.finish(&[])?;
        Ok(SpatialEdit {
            edit,
            rank,
            data_format,
        })
    }

    fn compute(&self, x: &Shape) -> Result<Shape, (usize, i64)> {
        layout::map_spatial(x, self.data_format, self.rank, |i, l| match &self.edit {
            Edit::UpSample(s) => (l * s[i]) as i64,
            Edit::Pad(p) => (l + p[i].0 + p[i].1) as i64,
            Edit::Crop(c) => l as i64 - (c[i].0 + c[i].1) as i64,
        })
        .map(Shape)
    }

    /// # Shapes
    /// - input: `(batch, steps, C)` or `(batch, rows, cols, C)` (channels_last)
    /// - output: each spatial axis multiplied by `size`, grown by `padding` or shrunk by
    ///   `cropping`; channels unchanged
    pub fn infer(&self, ctx: &Ctx, x: &Shape) -> Result<Output, Diagnosis> {
        let df = self.data_format;
        let fits = |s: &Shape| s.rank() == self.rank + 1 && self.compute(s).is_ok();
        layout::check_rank(ctx, x, self.rank, df, &fits, None)?;
        self.compute(x)
            .map(|s| Output::new(s, 0))
            .map_err(|(axis, out)| {
                let i = layout::spatial_axes(df, self.rank)
                    .iter()
                    .position(|&a| a == axis)
                    .unwrap_or(0);
                let l = x.dims()[axis].unwrap_or(0);
                let (what, need, alternatives) = match &self.edit {
                    Edit::Crop(c) => (
                        format!("cropping ({}, {})", c[i].0, c[i].1),
                        c[i].0 + c[i].1 + 1,
                        vec![format!(
                            "cropping that removes at most {} in total there",
                            l.saturating_sub(1)
                        )],
                    ),
                    Edit::UpSample(_) | Edit::Pad(_) => (ctx.type_name.to_string(), 1, vec![]),
                };
                TooShort {
                    x,
                    df,
                    k: self.rank,
                    axis,
                    out,
                    what,
                    need,
                    alternatives,
                }
                .diagnose(ctx)
            })
    }
}
