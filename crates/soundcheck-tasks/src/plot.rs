//! Pictures a person would rather look at than read: training curves, confusion matrices and
//! spectrograms, drawn with plotters in an embedded font (DejaVu Sans, so no system fonts are
//! needed) and written as PNG atomically.

use std::path::Path;
use std::sync::Once;

use ndarray::Array2;
use plotters::coord::ranged1d::SegmentValue;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

/// DejaVu Sans (Bitstream Vera licence, `fonts/LICENSE-DejaVu`).
static FONT: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");

/// The family every text below is set in.
const FAMILY: &str = "sans-serif";

fn font(size: u32) -> TextStyle<'static> {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        // The embedded font parses (the tests draw with it); were it not to, every drawing
        // would fail with plotters' font error, which the callers report.
        let _ = register_font(FAMILY, FontStyle::Normal, FONT);
    });
    (FAMILY, size).into_font().color(&BLACK)
}

/// A tick label with the decimals it needs (60, 0.25, 0.0045; not 60.0 or
/// 0.30000000000000004).
fn tick(v: &f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

/// What the axes of a spectrogram mean.
pub struct Axes {
    /// The picture's title.
    pub title: String,
    /// Seconds per column (hop / sr).
    pub x_step: f64,
    /// What the rows are (`frequency (Hz)`, `mel band`).
    pub y_label: String,
    /// Units per row (Hz per bin, or 1 per band/coefficient).
    pub y_step: f64,
    /// What the colours are (`dB`, `%`).
    pub value_label: String,
}

/// One line of a chart: `(x, y)` points in x order; non-finite ys leave a gap.
pub struct Series {
    /// The legend's text.
    pub label: String,
    /// The points.
    pub points: Vec<(f64, f64)>,
}

/// Line colours, told apart also in greyscale.
const LINES: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(120, 60, 160),
];

/// A perceptually ordered dark-to-bright map (close to matplotlib's magma).
fn colour(t: f32) -> RGBColor {
    const STOPS: [[f32; 3]; 6] = [
        [0.0, 0.0, 4.0],
        [59.0, 15.0, 112.0],
        [140.0, 41.0, 129.0],
        [222.0, 73.0, 104.0],
        [254.0, 159.0, 109.0],
        [252.0, 253.0, 191.0],
    ];
    let t = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f32;
    let i = (t.floor() as usize).min(STOPS.len() - 2);
    let f = t - i as f32;
    let c = |k: usize| (STOPS[i][k] + f * (STOPS[i + 1][k] - STOPS[i][k])).round() as u8;
    RGBColor(c(0), c(1), c(2))
}

/// Draws on a white `(w, h)` canvas and writes it as PNG atomically.
fn draw_png(
    path: &Path,
    (w, h): (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend, Shift>) -> Result<(), String>,
) -> Result<(), String> {
    let mut rgb = vec![255u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        draw(&root)?;
        root.present().map_err(|e| e.to_string())?;
    }
    let mut bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut bytes, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(&rgb).map_err(|e| e.to_string())?;
    }
    soundcheck_io::write_atomic(path, &bytes).map_err(|e| e.to_string())
}

/// A line chart (training curves) with ticked axes and a legend.
pub fn write_chart_png(
    path: &Path,
    title: &str,
    x_label: &str,
    series: &[Series],
) -> Result<(), String> {
    let finite: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .filter(|p| p.0.is_finite() && p.1.is_finite())
        .collect();
    if finite.is_empty() {
        return Err("nothing to draw: no finite points".into());
    }
    let bounds = |f: fn(&(f64, f64)) -> f64| {
        finite
            .iter()
            .map(f)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            })
    };
    let (xlo, mut xhi) = bounds(|p| p.0);
    let (mut ylo, mut yhi) = bounds(|p| p.1);
    if xhi <= xlo {
        xhi = xlo + 1.0;
    }
    // Curves of positive losses read best from zero.
    ylo = ylo.min(0.0);
    if yhi <= ylo {
        yhi = ylo + 1.0;
    }
    // Epochs are whole numbers: one label each, up to a dozen.
    let whole = finite.iter().all(|p| p.0.fract() == 0.0);
    let x_labels = if whole {
        ((xhi - xlo) as usize + 1).min(12)
    } else {
        10
    };
    // The legend goes where the curves end up not: below them when they end high (accuracy).
    let ends_high = series
        .first()
        .and_then(|s| s.points.iter().rev().find(|p| p.1.is_finite()))
        .is_some_and(|p| p.1 > (ylo + yhi) / 2.0);
    let legend = if ends_high {
        SeriesLabelPosition::LowerRight
    } else {
        SeriesLabelPosition::UpperRight
    };
    draw_png(path, (760, 460), |root| {
        let err = |e: DrawingAreaErrorKind<_>| e.to_string();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(root)
            .caption(title, font(20))
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(70)
            .build_cartesian_2d(xlo..xhi, ylo..yhi * 1.05)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .x_labels(x_labels)
            .x_label_formatter(&tick)
            .y_label_formatter(&tick)
            .axis_desc_style(font(16))
            .label_style(font(14))
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(225, 225, 225))
            .draw()
            .map_err(err)?;
        for (k, s) in series.iter().enumerate() {
            let c = LINES[k % LINES.len()];
            // A gap at every non-finite value: one line per run of finite points.
            for run in s.points.split(|p| !p.1.is_finite()) {
                chart
                    .draw_series(LineSeries::new(run.iter().copied(), c.stroke_width(2)))
                    .map_err(err)?;
            }
            chart
                .draw_series(
                    s.points
                        .iter()
                        .filter(|p| p.1.is_finite())
                        .map(|&p| Circle::new(p, 3, c.filled())),
                )
                .map_err(err)?
                .label(s.label.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 22, y)], c.stroke_width(3))
                });
        }
        chart
            .configure_series_labels()
            .label_font(font(14))
            .border_style(RGBColor(200, 200, 200))
            .background_style(WHITE)
            .position(legend)
            .draw()
            .map_err(err)
    })
}

/// A confusion matrix: cells shaded by the share of their row (true class), each with its
/// count; rows are true classes, columns predictions.
pub fn write_matrix_png(
    path: &Path,
    title: &str,
    labels: &[String],
    counts: &[Vec<usize>],
) -> Result<(), String> {
    let k = labels.len();
    if k == 0 {
        return Err("nothing to draw: no classes".into());
    }
    let label_px = 16 + 9 * labels.iter().map(|l| l.chars().count()).max().unwrap_or(0) as u32;
    let cell = 56u32;
    let side = cell * k as u32;
    let size = (side + label_px + 70, side + label_px + 90);
    let name = |v: &SegmentValue<usize>| match v {
        SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
            labels.get(*i).cloned().unwrap_or_default()
        }
        SegmentValue::Last => String::new(),
    };
    // Row r (true class r) is drawn at y = k − 1 − r, so the first class is on top.
    let row_name = |v: &SegmentValue<usize>| match v {
        SegmentValue::CenterOf(i) | SegmentValue::Exact(i) if *i < k => {
            name(&SegmentValue::Exact(k - 1 - i))
        }
        _ => String::new(),
    };
    draw_png(path, size, |root| {
        let err = |e: DrawingAreaErrorKind<_>| e.to_string();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(root)
            .caption(title, font(18))
            .margin(14)
            .x_label_area_size(label_px + 24)
            .y_label_area_size(label_px + 24)
            // A discrete range includes its end: k classes are 0..=k − 1.
            .build_cartesian_2d((0..k - 1).into_segmented(), (0..k - 1).into_segmented())
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(k)
            .y_labels(k)
            // The column names are drawn below, turned a quarter; plotters would clip them.
            .x_label_formatter(&|_| String::new())
            .y_label_formatter(&row_name)
            .x_desc("predicted")
            .y_desc("true class")
            .axis_desc_style(font(15))
            .y_label_style(font(14))
            .draw()
            .map_err(err)?;
        let (_, rows_px) = chart.plotting_area().get_pixel_range();
        for c in 0..k {
            let (x, _) = chart.backend_coord(&(SegmentValue::CenterOf(c), SegmentValue::Exact(0)));
            let label = name(&SegmentValue::Exact(c));
            let style = font(14).transform(FontTransform::Rotate90);
            root.draw(&Text::new(label, (x + 7, rows_px.end + 8), style))
                .map_err(err)?;
        }
        let cells = counts.iter().enumerate().flat_map(|(r, row)| {
            let total = row.iter().sum::<usize>().max(1) as f32;
            row.iter()
                .enumerate()
                .map(move |(c, &n)| (r, c, n, n as f32 / total))
        });
        let at = |i: usize| SegmentValue::Exact(i);
        for (r, c, n, share) in cells {
            let y = k - 1 - r;
            chart
                .draw_series([Rectangle::new(
                    [(at(c), at(y)), (at(c + 1), at(y + 1))],
                    colour(0.15 + 0.85 * share).filled(),
                )])
                .map_err(err)?;
            let ink = if share > 0.6 { BLACK } else { WHITE };
            let style = font(15)
                .color(&ink)
                .pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Center,
                    plotters::style::text_anchor::VPos::Center,
                ));
            chart
                .draw_series([Text::new(
                    n.to_string(),
                    (SegmentValue::CenterOf(c), SegmentValue::CenterOf(y)),
                    style,
                )])
                .map_err(err)?;
        }
        Ok(())
    })
}

/// A spectrogram-like matrix (rows = features, low at the bottom; columns = frames) with time
/// and feature axes and a colour bar.
pub fn write_png(path: &Path, m: &Array2<f32>, axes: &Axes) -> Result<(), String> {
    let (rows, cols) = m.dim();
    if rows == 0 || cols == 0 {
        return Err("nothing to draw: the matrix is empty".into());
    }
    let (lo, hi) = m
        .iter()
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 0.0) };
    let span = if hi > lo { hi - lo } else { 1.0 };
    let (pw, ph) = (
        cols.clamp(400, 1200) as u32,
        (rows * 2).clamp(240, 600) as u32,
    );
    let (duration, y_max) = (cols as f64 * axes.x_step, rows as f64 * axes.y_step);
    draw_png(path, (pw + 230, ph + 110), |root| {
        let err = |e: DrawingAreaErrorKind<_>| e.to_string();
        root.fill(&WHITE).map_err(err)?;
        let (main, bar) = root.split_horizontally(pw + 120);
        let mut chart = ChartBuilder::on(&main)
            .caption(axes.title.as_str(), font(18))
            .margin(10)
            .x_label_area_size(44)
            .y_label_area_size(80)
            .build_cartesian_2d(0.0..duration, 0.0..y_max)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("time (s)")
            .y_desc(axes.y_label.as_str())
            .x_label_formatter(&tick)
            .y_label_formatter(&tick)
            .axis_desc_style(font(15))
            .label_style(font(13))
            .draw()
            .map_err(err)?;
        // Every pixel of the plotting area takes its nearest matrix cell.
        let area = chart.plotting_area();
        let (xr, yr) = area.get_pixel_range();
        let (w, h) = ((xr.end - xr.start).max(1), (yr.end - yr.start).max(1));
        let root_area = area.strip_coord_spec();
        for py in 0..h {
            let r = ((h - 1 - py) as usize * rows) / h as usize;
            for px in 0..w {
                let c = (px as usize * cols) / w as usize;
                root_area
                    .draw_pixel((px, py), &colour((m[[r, c]] - lo) / span))
                    .map_err(err)?;
            }
        }
        let mut scale = ChartBuilder::on(&bar)
            .caption(axes.value_label.as_str(), font(15))
            .margin_top(12)
            .margin_bottom(54)
            .margin_right(10)
            .y_label_area_size(0)
            .right_y_label_area_size(60)
            .build_cartesian_2d(0.0..1.0, f64::from(lo)..f64::from(lo + span))
            .map_err(err)?;
        scale
            .configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .y_label_formatter(&tick)
            .label_style(font(13))
            .draw()
            .map_err(err)?;
        let steps = 200;
        scale
            .draw_series((0..steps).map(|i| {
                let (a, b) = (i as f64 / steps as f64, (i + 1) as f64 / steps as f64);
                let v = |t: f64| f64::from(lo) + t * f64::from(span);
                Rectangle::new([(0.0, v(a)), (1.0, v(b))], colour(a as f32).filled())
            }))
            .map_err(err)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("sc-plot-{name}-{}.png", std::process::id()))
    }

    /// The PNG's size, from its header.
    fn png_size(path: &Path) -> (u32, u32) {
        let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
        let reader = decoder.read_info().unwrap();
        let info = reader.info();
        (info.width, info.height)
    }

    #[test]
    fn tick_labels_keep_the_decimals_they_need() {
        assert_eq!(tick(&60.0), "60");
        assert_eq!(tick(&0.0045), "0.0045");
        assert_eq!(tick(&(0.1 + 0.2)), "0.3");
        assert_eq!(tick(&-0.0), "0");
    }

    #[test]
    fn colour_map_runs_dark_to_bright() {
        assert_eq!(colour(0.0), RGBColor(0, 0, 4));
        assert_eq!(colour(1.0), RGBColor(252, 253, 191));
    }

    #[test]
    fn each_picture_is_written_and_empty_input_is_an_error() {
        let chart = tmp("chart");
        let series = [Series {
            label: "loss".into(),
            points: vec![(1.0, 0.5), (2.0, f64::NAN), (3.0, 0.2)],
        }];
        write_chart_png(&chart, "TRAINING LOSS", "epoch", &series).unwrap();
        assert_eq!(png_size(&chart), (760, 460));
        let empty = [Series {
            label: "loss".into(),
            points: vec![(1.0, f64::NAN)],
        }];
        assert!(write_chart_png(&chart, "x", "epoch", &empty).is_err());

        let matrix = tmp("matrix");
        let labels = vec!["hum".to_string(), "siren".to_string()];
        write_matrix_png(&matrix, "CONFUSION", &labels, &[vec![3, 1], vec![0, 4]]).unwrap();
        assert!(png_size(&matrix).0 > 104);

        let spec = tmp("spec");
        let m = Array2::from_shape_fn((64, 500), |(r, c)| (r * c) as f32);
        let axes = Axes {
            title: "MEL".into(),
            x_step: 0.01,
            y_label: "band".into(),
            y_step: 1.0,
            value_label: "dB".into(),
        };
        write_png(&spec, &m, &axes).unwrap();
        assert_eq!(png_size(&spec), (500 + 230, 240 + 110));
        assert!(write_png(&spec, &Array2::zeros((0, 3)), &axes).is_err());
    }
}
