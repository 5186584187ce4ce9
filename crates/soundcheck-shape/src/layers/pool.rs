//! Pooling: Max/AveragePooling1D/2D and their global forms.

use super::layout::{self, TooShort};
use super::{Ctx, Output};
use crate::args::Args;
use crate::diagnosis::Diagnosis;
use crate::shape::Shape;
use crate::spec::DataFormat;

/// What a pool takes of its window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolOp {
    /// The maximum.
    Max,
    /// The mean.
    Average,
}

/// `MaxPooling1D/2D`, `AveragePooling1D/2D`.
#[derive(Clone, Debug, PartialEq)]
pub struct Pool {
    /// Maximum or mean.
    pub op: PoolOp,
    /// Spatial axes: 1 or 2.
    pub rank: usize,
    /// The window on each spatial axis.
    pub pool: Vec<usize>,
    /// The step on each spatial axis.
    pub strides: Vec<usize>,
    /// `padding='same'`.
    pub same: bool,
    /// Where the channel axis is.
    pub data_format: DataFormat,
}

fn data_format(a: &mut Args, default_df: DataFormat) -> Result<DataFormat, Diagnosis> {
    let s = a.choice("data_format", &DataFormat::NAMES, default_df.as_str())?;
    Ok(DataFormat::parse(s).expect("choice returns a known name"))
}

impl Pool {
    /// The operation and rank of a pooling class name, if it is one.
    pub fn kind_of(type_name: &str) -> Option<(PoolOp, usize)> {
        Some(match type_name {
            "MaxPooling1D" => (PoolOp::Max, 1),
            "MaxPooling2D" => (PoolOp::Max, 2),
            "MaxPooling3D" => (PoolOp::Max, 3),
            "AveragePooling1D" => (PoolOp::Average, 1),
            "AveragePooling2D" => (PoolOp::Average, 2),
            "AveragePooling3D" => (PoolOp::Average, 3),
            _ => return None,
        })
    }

    /// Parses the arguments of pooling class `type_name`.
    pub fn parse(type_name: &str, a: &mut Args, default_df: DataFormat) -> Result<Pool, Diagnosis> {
        let (op, rank) = Pool::kind_of(type_name).expect("dispatched on a pooling class");
        // Keras 3's AveragePooling has no default pool_size; MaxPooling's is 2.
        let default_pool = (op == PoolOp::Max).then_some(2);
        let pool = a.tuple("pool_size", rank, default_pool)?;
        let strides = a
            .opt_tuple("strides", rank)?
            .unwrap_or_else(|| pool.clone());
        let same = a.exact_choice("padding", &["valid", "same"], "valid")? == "same";
        let data_format = data_format(a, default_df)?;
        a.finish(&[])?;
        Ok(Pool {
            op,
            rank,
            pool,
            strides,
            same,
            data_format,
        })
    }

    /// Output length on spatial axis `i` for input length `l` (Keras's formulas; may be ≤ 0).
    pub fn out_len(&self, i: usize, l: usize) -> i64 {
        let (l, p, s) = (l as i64, self.pool[i] as i64, self.strides[i] as i64);
        if self.same {
            (l - 1).div_euclid(s) + 1
        } else {
            (l - p).div_euclid(s) + 1
        }
    }

    fn compute(&self, x: &Shape) -> Result<Shape, (usize, i64)> {
        layout::map_spatial(x, self.data_format, self.rank, |i, l| self.out_len(i, l)).map(Shape)
    }

    /// # Shapes
    /// - input: `(batch, steps, C)` or `(batch, rows, cols, C)` (channels_last)
    /// - output: spatial axes `floor((L - pool) / strides) + 1` (valid) or `ceil(L / strides)`
    ///   (same); channels unchanged
    pub fn infer(&self, ctx: &Ctx, x: &Shape) -> Result<Output, Diagnosis> {
        let df = self.data_format;
        let fits = |s: &Shape| s.rank() == self.rank + 1 && self.compute(s).is_ok();
        let one_d = (self.rank == 2)
            .then(|| format!("{}({})", ctx.type_name.replace("2D", "1D"), self.pool[0]));
        layout::check_rank(ctx, x, self.rank, df, &fits, one_d)?;
        self.compute(x)
            .map(|s| Output::new(s, 0))
            .map_err(|(axis, out)| {
                let i = layout::spatial_axes(df, self.rank)
                    .iter()
                    .position(|&a| a == axis)
                    .expect("axis is spatial");
                let l = x.dims()[axis].expect("only known lengths can be too short");
                let same = Pool {
                    same: true,
                    ..self.clone()
                };
                TooShort {
                    x,
                    df,
                    k: self.rank,
                    axis,
                    out,
                    what: format!("pool_size {}", self.pool[i]),
                    need: self.pool[i],
                    alternatives: vec![
                        format!("padding='same' (keeps {} there)", same.out_len(i, l)),
                        format!("pool_size ≤ {l} on that axis"),
                    ],
                }
                .diagnose(ctx)
            })
    }
}

/// `GlobalMaxPooling1D/2D`, `GlobalAveragePooling1D/2D`.
#[derive(Clone, Debug, PartialEq)]
pub struct GlobalPool {
    /// Maximum or mean.
    pub op: PoolOp,
    /// Spatial axes: 1 or 2.
    pub rank: usize,
    /// Keep the pooled axes at size 1.
    pub keepdims: bool,
    /// Where the channel axis is.
    pub data_format: DataFormat,
}

impl GlobalPool {
    /// The operation and rank of a global pooling class name, if it is one.
    pub fn kind_of(type_name: &str) -> Option<(PoolOp, usize)> {
        Some(match type_name {
            "GlobalMaxPooling1D" => (PoolOp::Max, 1),
            "GlobalMaxPooling2D" => (PoolOp::Max, 2),
            "GlobalMaxPooling3D" => (PoolOp::Max, 3),
            "GlobalAveragePooling1D" => (PoolOp::Average, 1),
            "GlobalAveragePooling2D" => (PoolOp::Average, 2),
            "GlobalAveragePooling3D" => (PoolOp::Average, 3),
            _ => return None,
        })
    }

    /// Parses the arguments of global pooling class `type_name`.
    pub fn parse(
        type_name: &str,
        a: &mut Args,
        default_df: DataFormat,
    ) -> Result<GlobalPool, Diagnosis> {
        let (op, rank) =
            GlobalPool::kind_of(type_name).expect("dispatched on a global pooling class");
        let keepdims = a.bool("keepdims", false)?;
        let data_format = data_format(a, default_df)?;
        a.finish(&[])?;
        Ok(GlobalPool {
            op,
            rank,
            keepdims,
            data_format,
        })
    }

    /// # Shapes
    /// - input: `(batch, steps, C)` or `(batch, rows, cols, C)` (channels_last)
    /// - output: `(batch, C)`, or with `keepdims` the spatial axes kept at size 1
    pub fn infer(&self, ctx: &Ctx, x: &Shape) -> Result<Output, Diagnosis> {
        let df = self.data_format;
        let fits = |s: &Shape| s.rank() == self.rank + 1;
        let one_d = (self.rank == 2).then(|| format!("{}()", ctx.type_name.replace("2D", "1D")));
        layout::check_rank(ctx, x, self.rank, df, &fits, one_d)?;
        let ch = layout::channel_axis(df, self.rank);
        let shape = if self.keepdims {
            let mut d = vec![Some(1); self.rank + 1];
            d[ch] = x.dims()[ch];
            Shape(d)
        } else {
            Shape(vec![x.dims()[ch]])
        };
        Ok(Output::new(shape, 0))
    }
}
