//! Convolutions: Conv1D/2D/3D, their transposes, separable and depthwise variants (1-D and 2-D
//! only, as in Keras).

use super::layout::{self, TooShort};
use super::{Activation, Ctx, Output};
use crate::args::Args;
use crate::diagnosis::{Diagnosis, Kind};
use crate::shape::{python_tuple, Shape};
use crate::spec::DataFormat;

/// Which convolution a layer class is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvKind {
    /// `Conv1D`/`Conv2D`.
    Standard,
    /// `Conv1DTranspose`/`Conv2DTranspose`.
    Transpose,
    /// `SeparableConv1D`/`SeparableConv2D`: depthwise, then 1×1 pointwise.
    Separable,
    /// `DepthwiseConv1D`/`DepthwiseConv2D`.
    Depthwise,
}

impl ConvKind {
    /// The kind and number of spatial axes of a Keras conv class.
    pub fn of(type_name: &str) -> Option<(ConvKind, usize)> {
        Some(match type_name {
            "Conv1D" => (ConvKind::Standard, 1),
            "Conv2D" => (ConvKind::Standard, 2),
            "Conv3D" => (ConvKind::Standard, 3),
            "Conv1DTranspose" => (ConvKind::Transpose, 1),
            "Conv2DTranspose" => (ConvKind::Transpose, 2),
            "Conv3DTranspose" => (ConvKind::Transpose, 3),
            "SeparableConv1D" => (ConvKind::Separable, 1),
            "SeparableConv2D" => (ConvKind::Separable, 2),
            "DepthwiseConv1D" => (ConvKind::Depthwise, 1),
            "DepthwiseConv2D" => (ConvKind::Depthwise, 2),
            _ => return None,
        })
    }
}

/// Keras's `padding`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    /// No padding: the window stays inside the input.
    Valid,
    /// Zeros so that the output is `ceil(length / stride)` long.
    Same,
    /// Zeros before the sequence only (`Conv1D`): no step sees the future.
    Causal,
}

impl Padding {
    /// Reads a padding name (already checked against Keras's).
    pub fn parse(s: &str) -> Padding {
        match s {
            "same" => Padding::Same,
            "causal" => Padding::Causal,
            _ => Padding::Valid,
        }
    }
}

/// A convolution layer's arguments, resolved to Keras's defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct Conv {
    /// Which convolution.
    pub kind: ConvKind,
    /// Spatial axes: 1 or 2.
    pub rank: usize,
    /// Output channels (`filters`; a depthwise layer has none: its outputs are input channels ×
    /// `depth_multiplier`).
    pub filters: usize,
    /// The window on each spatial axis.
    pub kernel: Vec<usize>,
    /// The step on each spatial axis.
    pub strides: Vec<usize>,
    /// How the edges are padded.
    pub padding: Padding,
    /// The spacing of the window's taps on each spatial axis.
    pub dilation: Vec<usize>,
    /// Groups of input channels convolved apart (`groups`).
    pub groups: usize,
    /// Outputs per input channel of a depthwise or separable layer.
    pub depth_multiplier: usize,
    /// A transposed convolution's extra output length on each axis.
    pub output_padding: Option<Vec<usize>>,
    /// Whether a bias is added.
    pub use_bias: bool,
    /// Where the channel axis is.
    pub data_format: DataFormat,
    /// The activation applied to the output.
    pub activation: Activation,
}

const INIT_ARGS: &[&str] = &[
    "kernel_initializer",
    "bias_initializer",
    "kernel_regularizer",
    "bias_regularizer",
    "kernel_constraint",
    "bias_constraint",
    "depthwise_initializer",
    "pointwise_initializer",
    "depthwise_regularizer",
    "pointwise_regularizer",
    "depthwise_constraint",
    "pointwise_constraint",
    "lora_rank",
    "lora_alpha",
];

impl Conv {
    /// Parses the arguments of convolution class `type_name`.
    pub fn parse(type_name: &str, a: &mut Args, default_df: DataFormat) -> Result<Conv, Diagnosis> {
        let (kind, rank) = ConvKind::of(type_name).expect("dispatched on a conv class");
        let filters = match kind {
            ConvKind::Depthwise => 0,
            _ => a.positive("filters", None)?,
        };
        let kernel = a.tuple("kernel_size", rank, None)?;
        let strides = a.tuple("strides", rank, Some(1))?;
        let paddings: &[&'static str] = match (kind, rank) {
            (ConvKind::Standard, 1) => &["valid", "same", "causal"],
            _ => &["valid", "same"],
        };
        let padding = Padding::parse(a.choice("padding", paddings, "valid")?);
        let dilation = a.tuple("dilation_rate", rank, Some(1))?;
        let groups = match kind {
            ConvKind::Standard => a.positive("groups", Some(1))?,
            _ => 1,
        };
        let depth_multiplier = match kind {
            ConvKind::Separable | ConvKind::Depthwise => a.positive("depth_multiplier", Some(1))?,
            _ => 1,
        };
        let output_padding = match kind {
            ConvKind::Transpose => a.opt_counts("output_padding", rank)?,
            _ => None,
        };
        let df =
            DataFormat::parse(a.choice("data_format", &DataFormat::NAMES, default_df.as_str())?)
                .expect("choice returns a known name");
        let use_bias = a.bool("use_bias", true)?;
        let activation = Activation::argument(a, "activation")?;
        a.finish(INIT_ARGS)?;
        if filters % groups != 0 {
            return Err(a.error(
                "groups",
                &format!("a divisor of filters={filters}"),
                &groups.into(),
            ));
        }
        if kind != ConvKind::Transpose
            && strides.iter().any(|&s| s > 1)
            && dilation.iter().any(|&d| d > 1)
        {
            return Err(a.error(
                "dilation_rate",
                "1 when strides > 1 (Keras does not support both)",
                &serde_json::json!(dilation),
            ));
        }
        if let Some(op) = &output_padding {
            if let Some(i) = (0..rank).find(|&i| op[i] >= strides[i]) {
                return Err(a.error(
                    "output_padding",
                    &format!("values smaller than strides {:?}", strides),
                    &serde_json::json!(op[i]),
                ));
            }
        }
        Ok(Conv {
            kind,
            rank,
            filters,
            kernel,
            strides,
            padding,
            dilation,
            groups,
            depth_multiplier,
            output_padding,
            use_bias,
            data_format: df,
            activation,
        })
    }

    fn span(&self, i: usize) -> usize {
        self.dilation[i] * (self.kernel[i] - 1) + 1
    }

    /// Output length on spatial axis `i` for input length `l` (Keras's formulas; may be ≤ 0).
    pub fn out_len(&self, i: usize, l: usize) -> i64 {
        let (l, s, span) = (l as i64, self.strides[i] as i64, self.span(i) as i64);
        if self.kind == ConvKind::Transpose {
            return match &self.output_padding {
                None => match self.padding {
                    Padding::Valid => l * s + (span - s).max(0),
                    _ => l * s,
                },
                Some(op) => {
                    let pad = if self.padding == Padding::Same {
                        span / 2
                    } else {
                        0
                    };
                    (l - 1) * s + span - 2 * pad + op[i] as i64
                }
            };
        }
        match self.padding {
            Padding::Valid => (l - span).div_euclid(s) + 1,
            Padding::Same | Padding::Causal => (l - 1).div_euclid(s) + 1,
        }
    }

    fn with_format(&self, df: DataFormat) -> Conv {
        Conv {
            data_format: df,
            ..self.clone()
        }
    }

    fn fits(&self, x: &Shape) -> bool {
        self.compute(x).is_ok_and(|r| r.is_ok())
    }

    /// The 1-D class of the same kind, for advice when a 2-D conv is given a sequence.
    fn one_d(&self, type_name: &str) -> Option<String> {
        (self.rank == 2).then(|| {
            let cls = type_name.replace("2D", "1D");
            match self.kind {
                ConvKind::Depthwise => format!("{cls}({})", self.kernel[0]),
                _ => format!("{cls}({}, {})", self.filters, self.kernel[0]),
            }
        })
    }

    /// `(batch, *spatial, C)` → `(batch, *spatial', filters)` (channels_last; channels_first
    /// moves the channel axis first).
    ///
    /// # Shapes
    /// - input: `(batch, steps, C)` (1-D) or `(batch, rows, cols, C)` (2-D), channels_last
    /// - output: same rank, spatial axes by Keras's conv formulas, channels `filters`
    ///   (`C · depth_multiplier` for depthwise)
    pub fn infer(&self, ctx: &Ctx, x: &Shape) -> Result<Output, Diagnosis> {
        let df = self.data_format;
        layout::check_rank(
            ctx,
            x,
            self.rank,
            df,
            &|s| self.fits(s),
            self.one_d(ctx.type_name),
        )?;
        match self.compute(x) {
            Err(e) => Err(e.diagnose(ctx, self, x)),
            Ok(Ok(out)) => Ok(out),
            Ok(Err((axis, out))) => Err(self.too_short(ctx, x, axis, out)),
        }
    }

    /// Output for a rank-checked input, or the spatial axis whose length would be ≤ 0.
    #[allow(clippy::type_complexity)]
    fn compute(&self, x: &Shape) -> Result<Result<Output, (usize, i64)>, ChannelError> {
        let df = self.data_format;
        if x.rank() != self.rank + 1 {
            return Err(ChannelError::Rank);
        }
        let ch = layout::channel_axis(df, self.rank);
        let c = x.dims()[ch].ok_or(ChannelError::Unknown(ch))?;
        if c % self.groups != 0 {
            return Err(ChannelError::Groups(c));
        }
        let mut dims = match layout::map_spatial(x, df, self.rank, |i, l| self.out_len(i, l)) {
            Ok(d) => d,
            Err(too_short) => return Ok(Err(too_short)),
        };
        // Every factor is at most MAX_DIM; u128 with saturation keeps the products exact or capped.
        let mul = |xs: &[usize]| {
            xs.iter()
                .fold(1u128, |acc, &x| acc.saturating_mul(x as u128))
        };
        let kprod = mul(&self.kernel);
        let bias = |n: usize| if self.use_bias { n as u128 } else { 0 };
        let (out_c, params) = match self.kind {
            ConvKind::Standard => (
                self.filters,
                kprod.saturating_mul(mul(&[c / self.groups, self.filters])) + bias(self.filters),
            ),
            ConvKind::Transpose => (
                self.filters,
                kprod.saturating_mul(mul(&[c, self.filters])) + bias(self.filters),
            ),
            ConvKind::Separable => {
                let dm = self.depth_multiplier;
                (
                    self.filters,
                    kprod.saturating_mul(mul(&[c, dm]))
                        + mul(&[c, dm, self.filters])
                        + bias(self.filters),
                )
            }
            ConvKind::Depthwise => {
                let n = c * self.depth_multiplier;
                (n, kprod.saturating_mul(n as u128) + bias(n))
            }
        };
        dims[ch] = Some(out_c);
        Ok(Ok(Output::new(Shape(dims), super::count(params))))
    }

    fn too_short(&self, ctx: &Ctx, x: &Shape, axis: usize, out: i64) -> Diagnosis {
        let df = self.data_format;
        // A small leading axis read as rows is the classic channels_first/channels_last mix-up.
        let other = self.with_format(df.other());
        if other.fits(x) {
            let moved = layout::move_channel(x, df.other());
            let out_here = self.compute(&moved).ok().and_then(|r| r.ok());
            let out_other = other.compute(x).ok().and_then(|r| r.ok());
            let (ch_other, ch_here) = (
                layout::channel_axis(df.other(), self.rank),
                layout::channel_axis(df, self.rank),
            );
            let describe = |d: DataFormat, ch: usize| {
                let sp: Vec<String> = layout::spatial_axes(d, self.rank)
                    .into_iter()
                    .map(|a| crate::shape::fmt_dim(x.dims()[a]))
                    .collect();
                format!(
                    "{} with {} channels",
                    sp.join("×"),
                    crate::shape::fmt_dim(x.dims()[ch])
                )
            };
            return ctx
                .diag(
                    Kind::ChannelsOrder,
                    format!(
                        "the input looks {} but '{}' reads it {}",
                        df.other().as_str(),
                        ctx.name,
                        df.as_str()
                    ),
                )
                .received(x.to_string())
                .expected(layout::layout(df, self.rank))
                .cause(format!(
                    "read {} (as this layer does), {} is {} and the kernel {} does not fit; read {}, it is {}, which fits (output {})",
                    df.as_str(),
                    x.example(),
                    describe(df, ch_here),
                    python_tuple(self.kernel.iter().map(|k| k.to_string())),
                    df.other().as_str(),
                    describe(df.other(), ch_other),
                    out_other.map(|o| o.shape.to_string()).unwrap_or_default()
                ))
                .fix(format!(
                    "move the channel axis: Permute({}) before '{}' (or build the data as {}){}; or set data_format='{}' on '{}'",
                    layout::permute_dims(df.other(), x.rank()),
                    ctx.name,
                    moved.example(),
                    out_here
                        .map(|o| format!(", giving {}", o.shape))
                        .unwrap_or_default(),
                    df.other().as_str(),
                    ctx.name
                ));
        }
        let i = layout::spatial_axes(df, self.rank)
            .iter()
            .position(|&a| a == axis)
            .expect("axis is spatial");
        let l = x.dims()[axis].expect("a known length overflowed");
        let span = self.span(i);
        let what = if self.dilation[i] > 1 {
            format!(
                "kernel_size {} with dilation_rate {} (span {span})",
                self.kernel[i], self.dilation[i]
            )
        } else {
            format!("kernel_size {}", self.kernel[i])
        };
        let mut alternatives = Vec::new();
        if self.kind != ConvKind::Transpose {
            let same = Conv {
                padding: Padding::Same,
                ..self.clone()
            };
            alternatives.push(format!(
                "padding='same' (keeps {} there)",
                same.out_len(i, l)
            ));
            alternatives.push(format!(
                "kernel_size ≤ {} on that axis",
                (l - 1) / self.dilation[i] + 1
            ));
        }
        TooShort {
            x,
            df,
            k: self.rank,
            axis,
            out,
            what,
            need: span,
            alternatives,
        }
        .diagnose(ctx)
    }
}

/// Why a conv could not size its kernel from the channel axis.
enum ChannelError {
    Rank,
    Unknown(usize),
    Groups(usize),
}

impl ChannelError {
    fn diagnose(self, ctx: &Ctx, conv: &Conv, x: &Shape) -> Diagnosis {
        match self {
            ChannelError::Rank => ctx.diag(Kind::RankMismatch, "wrong rank"),
            ChannelError::Unknown(ch) => ctx
                .diag(Kind::UnknownDimension, "the channel axis is unknown")
                .received(x.to_string())
                .expected(format!(
                    "a known size on axis {} (channels)",
                    ch + 1
                ))
                .cause(format!(
                    "{} sizes its kernel from the channel count, which is None here",
                    ctx.type_name
                ))
                .fix("give the channel axis a fixed size in input_shape"),
            ChannelError::Groups(c) => ctx
                .diag(
                    Kind::ChannelMismatch,
                    format!("{c} input channels cannot be split into {} groups", conv.groups),
                )
                .received(x.to_string())
                .expected(format!("a channel count divisible by groups={}", conv.groups))
                .cause("grouped convolution splits the channels evenly between groups")
                .fix(format!(
                    "use groups that divide both {c} and filters={} (e.g. groups={}), or change the channel count",
                    conv.filters,
                    gcd(c, conv.filters)
                )),
        }
    }
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}
