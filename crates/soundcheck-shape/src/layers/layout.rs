//! Axis layout of channel-bearing layers (conv, pool, padding): which axes are spatial, which is
//! the channel, and the diagnoses shared by every such layer.

use super::Ctx;
use crate::diagnosis::{Diagnosis, Kind};
use crate::shape::{fmt_dim, Dim, Shape};
use crate::spec::DataFormat;

/// Index of the channel axis in a batch-less shape with `k` spatial axes.
pub fn channel_axis(df: DataFormat, k: usize) -> usize {
    match df {
        DataFormat::ChannelsLast => k,
        DataFormat::ChannelsFirst => 0,
    }
}

/// Indices of the spatial axes in a batch-less shape with `k` spatial axes.
pub fn spatial_axes(df: DataFormat, k: usize) -> Vec<usize> {
    match df {
        DataFormat::ChannelsLast => (0..k).collect(),
        DataFormat::ChannelsFirst => (1..=k).collect(),
    }
}

fn spatial_names(k: usize) -> &'static [&'static str] {
    match k {
        1 => &["steps"],
        2 => &["rows", "cols"],
        _ => &["depth", "rows", "cols"],
    }
}

/// How the layer reads its input, with the batch axis: `(batch, rows, cols, channels)`.
pub fn layout(df: DataFormat, k: usize) -> String {
    let sp = spatial_names(k).join(", ");
    match df {
        DataFormat::ChannelsLast => format!("(batch, {sp}, channels)"),
        DataFormat::ChannelsFirst => format!("(batch, channels, {sp})"),
    }
}

/// Applies `len(i, l)` to each known spatial axis `i` of length `l`; unknown lengths stay
/// unknown. `Err((axis, out))` names the first axis whose new length would be ≤ 0.
pub fn map_spatial(
    x: &Shape,
    df: DataFormat,
    k: usize,
    len: impl Fn(usize, usize) -> i64,
) -> Result<Vec<Dim>, (usize, i64)> {
    let mut dims: Vec<Dim> = x.dims().to_vec();
    for (i, ax) in spatial_axes(df, k).into_iter().enumerate() {
        if let Some(l) = x.dims()[ax] {
            let out = len(i, l);
            if out <= 0 {
                return Err((ax, out));
            }
            dims[ax] = Some(out as usize);
        }
    }
    Ok(dims)
}

/// A human name for axis `i` of a batch-less shape (`axis 1 (rows)`), Keras numbering.
pub fn axis_label(df: DataFormat, k: usize, i: usize) -> String {
    let sp = spatial_axes(df, k);
    let what = match sp.iter().position(|&a| a == i) {
        Some(j) => spatial_names(k)[j],
        None => "channels",
    };
    format!("axis {} ({what})", i + 1)
}

/// The shape with its channel axis moved to where the other data format reads it.
pub fn move_channel(x: &Shape, from: DataFormat) -> Shape {
    let mut d: Vec<Dim> = x.dims().to_vec();
    match from {
        DataFormat::ChannelsFirst => d.rotate_left(1),
        DataFormat::ChannelsLast => d.rotate_right(1),
    }
    Shape(d)
}

/// Adds a size-1 channel axis where `df` reads channels.
pub fn with_channel(x: &Shape, df: DataFormat) -> Shape {
    let mut d: Vec<Dim> = x.dims().to_vec();
    match df {
        DataFormat::ChannelsLast => d.push(Some(1)),
        DataFormat::ChannelsFirst => d.insert(0, Some(1)),
    }
    Shape(d)
}

/// Keras's `Permute` dims (1-based) that move the channel axis of a rank-`r` shape from `from`
/// to where the other format reads it.
pub fn permute_dims(from: DataFormat, r: usize) -> String {
    let mut dims: Vec<usize> = (1..=r).collect();
    match from {
        DataFormat::ChannelsFirst => dims.rotate_left(1),
        DataFormat::ChannelsLast => dims.rotate_right(1),
    }
    let parts: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
    crate::shape::python_tuple(parts)
}

/// Checks that `x` has `k` spatial axes and a channel axis; otherwise explains what is missing,
/// trying each candidate fix with `fits` (the layer itself run on the candidate shape).
///
/// `one_d` names the 1-D layer to use instead when a 2-D layer is given a sequence.
pub fn check_rank(
    ctx: &Ctx,
    x: &Shape,
    k: usize,
    df: DataFormat,
    fits: &dyn Fn(&Shape) -> bool,
    one_d: Option<String>,
) -> Result<(), Diagnosis> {
    let want = k + 1;
    if x.rank() == want {
        return Ok(());
    }
    let base = ctx
        .diag(
            Kind::RankMismatch,
            super::rank_title(ctx.type_name, want + 1, x, true),
        )
        .received(x.to_string())
        .expected(layout(df, k));
    let misfit = RankMisfit {
        ctx,
        x,
        k,
        df,
        fits,
    };
    Err(if x.rank() + 1 == want {
        misfit.one_axis_short(base, one_d)
    } else if x.rank() == 1 && k == 2 {
        misfit.flattened_grid(base)
    } else if x.rank() > want {
        misfit.extra_axes(base)
    } else {
        base.cause(format!(
            "the input has {} axes besides the batch; {} reads {want}: {}",
            x.rank(),
            ctx.type_name,
            layout(df, k)
        ))
        .fix(format!(
            "give each example the layout {} (batch axis excluded in input_shape)",
            layout(df, k)
        ))
    })
}

/// An input of another rank than a layer reads, and what the layer needs.
#[derive(Clone, Copy)]
struct RankMisfit<'a> {
    ctx: &'a Ctx<'a>,
    x: &'a Shape,
    /// The layer's spatial axes.
    k: usize,
    df: DataFormat,
    fits: &'a dyn Fn(&Shape) -> bool,
}

impl RankMisfit<'_> {
    /// One axis fewer than the layer reads: a missing channel axis, a sequence fed to a 2-D
    /// layer, or an axis lost elsewhere.
    fn one_axis_short(&self, base: Diagnosis, one_d: Option<String>) -> Diagnosis {
        let RankMisfit {
            ctx,
            x,
            k,
            df,
            fits,
        } = *self;
        let want = k + 1;
        let fixed = with_channel(x, df);
        if fits(&fixed) {
            return Diagnosis {
                kind: Kind::MissingChannelAxis,
                ..base
            }
            .cause(format!(
                "the input has {k} data {} but no channel axis; {} reads {}",
                if k == 1 { "axis" } else { "axes" },
                ctx.type_name,
                layout(df, k)
            ))
            .fix(format!(
                "add a size-1 channel axis: input_shape={} (Reshape({}) in the model, or x[..., np.newaxis] on the data)",
                fixed.example(),
                fixed.example()
            ));
        }
        if let (Some(alt), 2) = (&one_d, x.rank()) {
            return base
                .cause(format!(
                    "{} is a sequence of {} steps with {} channel(s), not an image; a {}-D layer needs {}",
                    x.example(),
                    fmt_dim(x.dims()[0]),
                    fmt_dim(x.dims()[1]),
                    k,
                    layout(df, k)
                ))
                .fix(format!(
                    "use {alt} for sequence data; or, if it really is an image, give it rows, cols and channels, e.g. input_shape={}",
                    with_channel(x, df).example()
                ));
        }
        base
            .cause(format!("one axis is missing: {} reads {}", ctx.type_name, layout(df, k)))
            .fix(format!(
                "give each example {want} axes; a size-1 channel axis gives {} but the layer still does not fit it, so check the axis sizes",
                fixed.example()
            ))
    }

    /// A flat vector fed to a 2-D layer: a grid flattened somewhere.
    fn flattened_grid(&self, base: Diagnosis) -> Diagnosis {
        let RankMisfit {
            ctx,
            x,
            k,
            df,
            fits,
        } = *self;
        let n = x.dims()[0];
        let mut d = Diagnosis {
            kind: Kind::FlattenedInput,
            ..base
        }
        .cause(format!(
            "each example is a flat vector of {} values; {} needs a grid {} — the grid was flattened somewhere",
            fmt_dim(n),
            ctx.type_name,
            layout(df, k)
        ));
        d.fix = match n.and_then(|n| grid_for(n, df, fits)) {
            Some(g) => format!(
                "keep the 2-D structure of the data (e.g. a spectrogram's (freq, frames)) and add a channel axis; if the {} values are a flattened grid, Reshape({}) restores one such layout",
                fmt_dim(n),
                g.example()
            ),
            None => "keep the 2-D structure of the data (rows, cols) and add a channel axis instead of flattening it".to_string(),
        };
        d
    }

    /// More axes than the layer reads: an extra size-1 axis, or a job for TimeDistributed.
    fn extra_axes(&self, base: Diagnosis) -> Diagnosis {
        let RankMisfit {
            ctx,
            x,
            k,
            df,
            fits,
        } = *self;
        let want = k + 1;
        let squeezed = (0..x.rank())
            .filter(|&i| x.dims()[i] == Some(1))
            .map(|i| {
                let mut d = x.dims().to_vec();
                d.remove(i);
                Shape(d)
            })
            .find(|s| s.rank() == want && fits(s));
        let fix = match squeezed {
            Some(s) => format!("drop the extra size-1 axis: Reshape({})", s.example()),
            None => {
                let per_step = Shape(x.dims()[1..].to_vec());
                if per_step.rank() == want && fits(&per_step) {
                    format!(
                        "to apply {} to each of the {} items on axis 1, wrap it: TimeDistributed({}(...)); or use a layer with {} spatial axes",
                        ctx.type_name,
                        fmt_dim(x.dims()[0]),
                        ctx.type_name,
                        x.rank() - 1
                    )
                } else {
                    format!(
                        "reduce the input to {} axes (e.g. Reshape, or a layer with {} spatial axes)",
                        want,
                        x.rank() - 1
                    )
                }
            }
        };
        base.cause(format!(
            "the input has {} axes besides the batch; {} reads exactly {want}: {}",
            x.rank(),
            ctx.type_name,
            layout(df, k)
        ))
        .fix(fix)
    }
}

/// A (rows, cols, 1) grid holding `n` values that the layer accepts, nearest to square.
fn grid_for(n: usize, df: DataFormat, fits: &dyn Fn(&Shape) -> bool) -> Option<Shape> {
    let mut r = (n as f64).sqrt() as usize;
    while r >= 2 {
        if n.is_multiple_of(r) {
            let g = with_channel(&Shape::known(&[r, n / r]), df);
            if fits(&g) {
                return Some(g);
            }
        }
        r -= 1;
    }
    None
}

/// The output length would be ≤ 0 on axis `i`: the kernel/pool/crop is longer than what is left.
pub struct TooShort<'a> {
    pub x: &'a Shape,
    pub df: DataFormat,
    pub k: usize,
    pub axis: usize,
    pub out: i64,
    /// `kernel_size 15`, `pool_size 4`, `cropping (3, 3)`.
    pub what: String,
    /// The smallest length this layer accepts on that axis.
    pub need: usize,
    /// Other ways out, each a complete sentence fragment: "padding='same' (keeps 10 steps)".
    pub alternatives: Vec<String>,
}

impl TooShort<'_> {
    pub fn diagnose(self, ctx: &Ctx) -> Diagnosis {
        let have = fmt_dim(self.x.dims()[self.axis]);
        let label = axis_label(self.df, self.k, self.axis);
        let fixes = self.alternatives;
        ctx.diag(
            Kind::NegativeDimension,
            format!(
                "{} needs at least {} on {label} but only {have} are left: the output would have {} there",
                self.what, self.need, self.out
            ),
        )
        .received(self.x.to_string())
        .expected(format!("at least {} on {label}", self.need))
        .cause(format!(
            "{} does not fit in the {have} that reach '{}' on {label}",
            self.what, ctx.name
        ))
        .fix(fixes.join("; or "))
    }
}
