//! The Keras 3 `model.summary()` table, character for character.

use crate::model::{Model, Report};
use crate::spec::Api;
use crate::text::escape_controls;

/// Column widths (borders excluded) Keras uses at its default line length.
const CHAIN_WIDTHS: [usize; 3] = [33, 24, 15];
const GRAPH_WIDTHS: [usize; 4] = [21, 19, 12, 19];

/// Thousands separators, as Python's `f"{n:,}"`.
pub fn with_commas(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Keras's `readable_memory_size` of float32 weights.
pub fn memory_size(params: u64) -> String {
    let mut size = params as f64 * 4.0;
    for unit in ["B", "KB", "MB", "GB", "TB"] {
        if size / 1024.0 < 1.0 {
            return format!("{size:.2} {unit}");
        }
        size /= 1024.0;
    }
    format!("{size:.2} PB")
}

/// Greedy word wrap to `width` characters; a word longer than a line is cut with an ellipsis.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in text.split(' ') {
        let word: String = if word.chars().count() > width {
            word.chars().take(width - 1).chain(['…']).collect()
        } else {
            word.to_string()
        };
        let len = cur.chars().count();
        if len == 0 {
            cur = word;
        } else if len + 1 + word.chars().count() <= width {
            cur.push(' ');
            cur.push_str(&word);
        } else {
            lines.push(std::mem::replace(&mut cur, word));
        }
    }
    lines.push(cur);
    lines
}

fn border(widths: &[usize], left: char, mid: char, right: char, fill: char) -> String {
    let parts: Vec<String> = widths.iter().map(|&w| fill.to_string().repeat(w)).collect();
    format!("{left}{}{right}", parts.join(&mid.to_string()))
}

/// One table row, possibly several lines tall; `right` marks right-aligned columns.
fn row(widths: &[usize], cells: &[String], right: &[bool], sep: char) -> Vec<String> {
    let wrapped: Vec<Vec<String>> = cells
        .iter()
        .zip(widths)
        // Escaped before wrapping, so an escaped name is measured as it is shown.
        .map(|(c, &w)| wrap(&escape_controls(c), w - 2))
        .collect();
    let height = wrapped.iter().map(Vec::len).max().unwrap_or(1);
    (0..height)
        .map(|i| {
            let parts: Vec<String> = wrapped
                .iter()
                .zip(widths)
                .zip(right)
                .map(|((lines, &w), &r)| {
                    let t = lines.get(i).map(String::as_str).unwrap_or("");
                    if r {
                        format!(" {t:>width$} ", width = w - 2)
                    } else {
                        format!(" {t:<width$} ", width = w - 2)
                    }
                })
                .collect();
            format!("{sep}{}{sep}", parts.join(&sep.to_string()))
        })
        .collect()
}

/// True when some layer merges several inputs or some output feeds several layers: Keras then
/// adds a "Connected to" column.
fn branched(model: &Model) -> bool {
    let mut uses = vec![0usize; model.inputs.len() + model.nodes.len()];
    for n in &model.nodes {
        for &i in &n.inputs {
            uses[i] += 1;
        }
    }
    model.inputs.len() > 1
        || model.outputs.len() > 1
        || model.nodes.iter().any(|n| n.inputs.len() > 1)
        || uses.iter().any(|&u| u > 1)
}

/// The summary of the layers inferred so far (all of them when the report is ok).
pub fn summary(model: &Model, report: &Report) -> String {
    let graph = branched(model);
    let widths: &[usize] = if graph { &GRAPH_WIDTHS } else { &CHAIN_WIDTHS };
    let mut header = vec![
        "Layer (type)".to_string(),
        "Output Shape".into(),
        "Param #".into(),
    ];
    let mut right = vec![false, false, true];
    if graph {
        header.push("Connected to".into());
        right.push(false);
    }
    let mut rows: Vec<Vec<String>> = Vec::new();
    let show_inputs = model.api == Api::Functional;
    if show_inputs {
        for input in &report.inputs {
            let mut r = vec![
                format!("{} (InputLayer)", input.name),
                input.shape.to_string(),
                "0".into(),
            ];
            if graph {
                r.push("-".into());
            }
            rows.push(r);
        }
    }
    for l in &report.layers {
        let mut r = vec![
            format!("{} ({})", l.name, l.type_name),
            l.output_shape.to_string(),
            with_commas(l.params()),
        ];
        if graph {
            r.push(
                l.inputs
                    .iter()
                    .map(|i| format!("{i}[0][0]"))
                    .collect::<Vec<_>>()
                    .join(", "),
            );
        }
        rows.push(r);
    }
    let name = model.name.clone().unwrap_or_else(|| match model.api {
        Api::Sequential => "sequential".into(),
        Api::Functional => "functional".into(),
    });
    let mut out = vec![format!("Model: \"{}\"", escape_controls(&name))];
    out.push(border(widths, '┏', '┳', '┓', '━'));
    let bold_right: Vec<bool> = right.clone();
    out.extend(row(widths, &header, &bold_right, '┃'));
    out.push(border(widths, '┡', '╇', '┩', '━'));
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            out.push(border(widths, '├', '┼', '┤', '─'));
        }
        out.extend(row(widths, r, &right, '│'));
    }
    out.push(border(widths, '└', '┴', '┘', '─'));
    let (t, tr, nt) = (
        report.total_params(),
        report.trainable_params(),
        report.non_trainable_params(),
    );
    out.push(format!(
        " Total params: {} ({})",
        with_commas(t),
        memory_size(t)
    ));
    out.push(format!(
        " Trainable params: {} ({})",
        with_commas(tr),
        memory_size(tr)
    ));
    out.push(format!(
        " Non-trainable params: {} ({})",
        with_commas(nt),
        memory_size(nt)
    ));
    out.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_like_python() {
        assert_eq!(with_commas(1336876), "1,336,876");
        assert_eq!(with_commas(650), "650");
        assert_eq!(memory_size(20618), "80.54 KB");
        assert_eq!(memory_size(0), "0.00 B");
        assert_eq!(memory_size(217), "868.00 B");
    }

    #[test]
    fn wraps_like_rich() {
        assert_eq!(
            wrap("input_layer (InputLayer)", 19),
            vec!["input_layer", "(InputLayer)"]
        );
        assert_eq!(
            wrap("a_very_long_layer_name_for_wrapping_test (Conv1D)", 19),
            vec!["a_very_long_layer_…", "(Conv1D)"]
        );
    }
}
