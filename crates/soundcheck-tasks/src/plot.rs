//! Spectrogram pictures: a colour-mapped matrix with labelled, ticked axes and a colour bar,
//! drawn with an embedded 5×7 bitmap font and written as PNG.

use std::path::Path;

use ndarray::Array2;

/// What the axes of a picture mean.
pub struct Axes {
    pub title: String,
    /// Seconds per column (hop / sr).
    pub x_step: f64,
    pub y_label: String,
    /// Units per row (Hz per bin, or 1 per band/coefficient).
    pub y_step: f64,
    pub value_label: String,
}

/// Classic 5×7 glyphs: 7 rows, 5 bits each (MSB = leftmost column).
fn glyph(c: char) -> [u8; 7] {
    match c.to_ascii_uppercase() {
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        'A' => [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'B' => [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
        'C' => [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E],
        'D' => [0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C],
        'E' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F],
        'F' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
        'G' => [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F],
        'H' => [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'I' => [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E],
        'J' => [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C],
        'K' => [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11],
        'L' => [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
        'M' => [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11],
        'N' => [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
        'O' => [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'P' => [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
        'Q' => [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D],
        'R' => [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        'S' => [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E],
        'T' => [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        'U' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'V' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04],
        'W' => [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A],
        'X' => [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
        'Y' => [0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04],
        'Z' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
        '.' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C],
        '-' => [0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00],
        '(' => [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02],
        ')' => [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08],
        '/' => [0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00],
        ':' => [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00],
        ',' => [0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08],
        '%' => [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03],
        '=' => [0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00],
        '_' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F],
        _ => [0; 7],
    }
}

const SCALE: usize = 2;
const CHAR_W: usize = 6 * SCALE;

struct Canvas {
    w: usize,
    h: usize,
    rgb: Vec<u8>,
}

impl Canvas {
    fn new(w: usize, h: usize) -> Canvas {
        Canvas {
            w,
            h,
            rgb: vec![255; w * h * 3],
        }
    }

    fn set(&mut self, x: usize, y: usize, c: [u8; 3]) {
        if x < self.w && y < self.h {
            let i = (y * self.w + x) * 3;
            self.rgb[i..i + 3].copy_from_slice(&c);
        }
    }

    fn rect(&mut self, x0: usize, y0: usize, w: usize, h: usize, c: [u8; 3]) {
        for y in y0..y0 + h {
            for x in x0..x0 + w {
                self.set(x, y, c);
            }
        }
    }

    /// A tick below the x axis (at height `axis_y`) with its label centred under it.
    fn x_tick(&mut self, x: usize, axis_y: usize, s: &str) {
        self.rect(x, axis_y, 1, 6, [0, 0, 0]);
        self.text(x.saturating_sub(text_width(s) / 2), axis_y + 9, s, false);
    }

    /// A tick left of the y axis (at `left`) with its label right-aligned before it.
    fn y_tick(&mut self, left: usize, y: usize, s: &str) {
        self.rect(left - 6, y, 6, 1, [0, 0, 0]);
        self.text(
            left.saturating_sub(8 + text_width(s)),
            y.saturating_sub(7),
            s,
            false,
        );
    }

    /// Text with its top-left corner at (x, y); `vertical` draws it rotated a quarter turn
    /// anticlockwise, reading upwards, with (x, y) its bottom-left corner.
    fn text(&mut self, x: usize, y: usize, s: &str, vertical: bool) {
        for (k, ch) in s.chars().enumerate() {
            for (row, bits) in glyph(ch).iter().enumerate() {
                for col in 0..5 {
                    if bits & (0x10 >> col) == 0 {
                        continue;
                    }
                    for dy in 0..SCALE {
                        for dx in 0..SCALE {
                            let (gx, gy) = (k * CHAR_W + col * SCALE + dx, row * SCALE + dy);
                            if vertical {
                                self.set(x + gy, y.saturating_sub(gx), [0, 0, 0]);
                            } else {
                                self.set(x + gx, y + gy, [0, 0, 0]);
                            }
                        }
                    }
                }
            }
        }
    }
}

fn text_width(s: &str) -> usize {
    s.chars().count() * CHAR_W
}

/// A perceptually ordered dark-to-bright map (close to matplotlib's magma).
fn colour(t: f32) -> [u8; 3] {
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
    let mut c = [0u8; 3];
    for (k, v) in c.iter_mut().enumerate() {
        *v = (STOPS[i][k] + f * (STOPS[i + 1][k] - STOPS[i][k])).round() as u8;
    }
    c
}

/// A "nice" tick step (1, 2 or 5 × 10^k) giving about `target` ticks over `span`.
fn tick_step(span: f64, target: f64) -> f64 {
    let raw = span / target;
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag)
}

/// A tick label with as many decimals as the step needs.
fn label(v: f64, step: f64) -> String {
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    format!("{v:.decimals$}")
}

/// Encodes the canvas as PNG and writes it atomically.
fn save(cv: &Canvas, path: &Path) -> Result<(), String> {
    let mut bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut bytes, cv.w as u32, cv.h as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().map_err(|e| e.to_string())?;
        w.write_image_data(&cv.rgb).map_err(|e| e.to_string())?;
    }
    soundcheck_npy::write_atomic(path, &bytes).map_err(|e| e.to_string())
}

/// One line of a chart: `(x, y)` points in x order; non-finite ys leave a gap.
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// Line colours, told apart also in greyscale.
const LINES: [[u8; 3]; 4] = [[31, 119, 180], [214, 39, 40], [44, 160, 44], [120, 60, 160]];

/// A line chart (training curves) with ticked axes and a legend, written as PNG atomically.
pub fn write_chart_png(
    path: &Path,
    title: &str,
    x_label: &str,
    series: &[Series],
) -> Result<(), String> {
    let finite = || {
        series
            .iter()
            .flat_map(|s| s.points.iter())
            .filter(|p| p.0.is_finite() && p.1.is_finite())
    };
    let Some(&(x0, _)) = finite().next() else {
        return Err("nothing to draw: no finite points".into());
    };
    let (mut xlo, mut xhi, mut ylo, mut yhi) = (x0, x0, f64::INFINITY, f64::NEG_INFINITY);
    for &(x, y) in finite() {
        (xlo, xhi, ylo, yhi) = (xlo.min(x), xhi.max(x), ylo.min(y), yhi.max(y));
    }
    if xhi <= xlo {
        xhi = xlo + 1.0;
    }
    // Curves of positive losses read best from zero.
    if ylo > 0.0 {
        ylo = 0.0;
    }
    if yhi <= ylo {
        yhi = ylo + 1.0;
    }
    let (pw, ph) = (640, 360);
    let (left, right, top, bottom) = (90, 30, 40, 60);
    let mut cv = Canvas::new(left + pw + right, top + ph + bottom);
    let black = [0, 0, 0];
    cv.rect(left - 1, top + ph, pw + 2, 1, black);
    cv.rect(left - 1, top - 1, 1, ph + 2, black);
    let px = |x: f64| left as f64 + (x - xlo) / (xhi - xlo) * (pw - 1) as f64;
    let py = |y: f64| (top + ph - 1) as f64 - (y - ylo) / (yhi - ylo) * (ph - 1) as f64;
    let xs = tick_step(xhi - xlo, 6.0).max(1.0);
    let mut v = (xlo / xs).ceil() * xs;
    while v <= xhi + 1e-9 {
        let x = px(v).round() as usize;
        cv.x_tick(x, top + ph, &label(v, xs));
        v += xs;
    }
    let ys = tick_step(yhi - ylo, 5.0);
    let mut v = (ylo / ys).ceil() * ys;
    while v <= yhi + 1e-9 {
        let y = py(v).round() as usize;
        cv.rect(left, y, pw, 1, [225, 225, 225]);
        cv.y_tick(left, y, &label(v, ys));
        v += ys;
    }
    cv.text(
        left + pw / 2 - text_width(x_label) / 2,
        top + ph + 36,
        x_label,
        false,
    );
    cv.text(left, 12, title, false);
    for (k, s) in series.iter().enumerate() {
        let c = LINES[k % LINES.len()];
        for w in s.points.windows(2) {
            let ((xa, ya), (xb, yb)) = (w[0], w[1]);
            if !(ya.is_finite() && yb.is_finite()) {
                continue;
            }
            let (ax, ay, bx, by) = (px(xa), py(ya), px(xb), py(yb));
            let steps = (bx - ax).abs().max((by - ay).abs()).ceil().max(1.0) as usize;
            for i in 0..=steps {
                let t = i as f64 / steps as f64;
                let (x, y) = (ax + t * (bx - ax), ay + t * (by - ay));
                cv.rect(x.round() as usize, y.round() as usize, 2, 2, c);
            }
        }
        for &(x, y) in s.points.iter().filter(|p| p.1.is_finite()) {
            cv.rect(
                (px(x) - 2.0).round() as usize,
                (py(y) - 2.0).round() as usize,
                5,
                5,
                c,
            );
        }
        // Legend, top right.
        let lx = left + pw - 12 - text_width(&s.label) - 30;
        let ly = top + 10 + k * 22;
        cv.rect(lx, ly + 6, 22, 3, c);
        cv.text(lx + 30, ly, &s.label, false);
    }
    save(&cv, path)
}

/// A confusion matrix as a picture: cells shaded by the share of their row (true class), each
/// with its count; rows are true classes, columns predictions. Written as PNG atomically.
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
    let cell = 48;
    let left = 24 + labels.iter().map(|l| text_width(l)).max().unwrap_or(0);
    let (top, bottom) = (40, 40 + left - 24);
    let heading = format!("{title}: ROWS TRUE, COLUMNS PREDICTED");
    let width = (left + k * cell + 20).max(text_width(&heading) + 16);
    let mut cv = Canvas::new(width, top + k * cell + bottom);
    for (r, row) in counts.iter().enumerate() {
        let total = row.iter().sum::<usize>().max(1) as f32;
        for (c, &n) in row.iter().enumerate() {
            let shade = colour(0.15 + 0.85 * n as f32 / total);
            let (x, y) = (left + c * cell, top + r * cell);
            cv.rect(x, y, cell - 2, cell - 2, shade);
            let s = n.to_string();
            // White boxes behind the count keep it readable on dark cells.
            let (tw, tx, ty) = (
                text_width(&s),
                x + cell / 2 - text_width(&s) / 2,
                y + cell / 2 - 8,
            );
            cv.rect(
                tx.saturating_sub(2),
                ty.saturating_sub(2),
                tw + 2,
                18,
                [255, 255, 255],
            );
            cv.text(tx, ty, &s, false);
        }
        cv.text(8, top + r * cell + cell / 2 - 7, &labels[r], false);
    }
    for (c, l) in labels.iter().enumerate() {
        cv.text(
            left + c * cell + cell / 2 - 7,
            top + k * cell + 8 + text_width(l),
            l,
            true,
        );
    }
    cv.text(8, 12, &heading, false);
    save(&cv, path)
}

/// Draws `m` (rows = features, low at the bottom; columns = frames) and writes a PNG atomically.
pub fn write_png(path: &Path, m: &Array2<f32>, axes: &Axes) -> Result<(), String> {
    let (rows, cols) = m.dim();
    if rows == 0 || cols == 0 {
        return Err("nothing to draw: the matrix is empty".into());
    }
    let (pw, ph) = (cols.clamp(400, 1200), (rows * 2).clamp(240, 600));
    let (left, right, top, bottom) = (90, 110, 40, 60);
    let mut cv = Canvas::new(left + pw + right, top + ph + bottom);
    let (lo, hi) = m
        .iter()
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let span = if hi > lo { hi - lo } else { 1.0 };
    for py in 0..ph {
        let r = ((ph - 1 - py) * rows) / ph;
        for px in 0..pw {
            let c = (px * cols) / pw;
            cv.set(left + px, top + py, colour((m[[r, c]] - lo) / span));
        }
    }
    // Frame, ticks and tick labels.
    let black = [0, 0, 0];
    cv.rect(left - 1, top - 1, pw + 2, 1, black);
    cv.rect(left - 1, top + ph, pw + 2, 1, black);
    cv.rect(left - 1, top - 1, 1, ph + 2, black);
    cv.rect(left + pw, top - 1, 1, ph + 2, black);
    let duration = cols as f64 * axes.x_step;
    let xs = tick_step(duration, 6.0);
    let mut v = 0.0;
    while v <= duration + 1e-9 {
        let px = left + ((v / duration) * pw as f64).round().min(pw as f64 - 1.0) as usize;
        cv.x_tick(px, top + ph, &label(v, xs));
        v += xs;
    }
    let y_max = rows as f64 * axes.y_step;
    let ys = tick_step(y_max, 5.0);
    let mut v = 0.0;
    while v <= y_max + 1e-9 {
        let py = top + ph - 1 - ((v / y_max) * (ph - 1) as f64).round() as usize;
        cv.y_tick(left, py, &label(v, ys));
        v += ys;
    }
    cv.text(
        left + pw / 2 - text_width("TIME (S)") / 2,
        top + ph + 36,
        "TIME (S)",
        false,
    );
    cv.text(
        8,
        top + ph / 2 + text_width(&axes.y_label) / 2,
        &axes.y_label,
        true,
    );
    cv.text(left, 12, &axes.title, false);
    // Colour bar with its range.
    let bx = left + pw + 20;
    for py in 0..ph {
        cv.rect(
            bx,
            top + py,
            16,
            1,
            colour(1.0 - py as f32 / (ph - 1) as f32),
        );
    }
    cv.text(bx + 20, top, &format!("{hi:.0}"), false);
    cv.text(bx + 20, top + ph - 14, &format!("{lo:.0}"), false);
    cv.text(bx + 20, top + ph / 2 - 7, &axes.value_label, false);
    save(&cv, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_numbers() {
        assert_eq!(tick_step(30.0, 6.0), 5.0);
        assert_eq!(tick_step(11025.0, 5.0), 5000.0);
        assert_eq!(tick_step(0.7, 6.0), 0.2);
    }

    #[test]
    fn colour_map_runs_dark_to_bright() {
        assert_eq!(colour(0.0), [0, 0, 4]);
        assert_eq!(colour(1.0), [252, 253, 191]);
    }
}
