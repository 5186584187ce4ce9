//! `soundcheck.check`: the shape engine's whole check of a model against its data, the same
//! [`inspect`] the CLI prints.

use pyo3::prelude::*;
use soundcheck_shape::inspect::{inspect, Data, Inspection};
use soundcheck_shape::{keras, Diagnosis, Kind, ModelSpec};

use crate::errors::to_py;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(check_model, m)?)?;
    Ok(())
}

/// Checks a model given as text (`format` "json": a Keras `to_json()` config or a soundcheck
/// JSON spec; "toml": a soundcheck spec) against array shapes and dtypes. Returns the report as
/// JSON, the rustc-style text, and the Keras summary table.
#[pyfunction]
#[pyo3(signature = (text, format, origin, feed, feed_integer, labels, labels_integer, loss))]
#[allow(clippy::too_many_arguments)]
fn check_model(
    text: &str,
    format: &str,
    origin: Option<&str>,
    feed: Option<Vec<usize>>,
    feed_integer: Option<bool>,
    labels: Option<Vec<usize>>,
    labels_integer: Option<bool>,
    loss: Option<String>,
) -> PyResult<(String, String, String)> {
    let spec = match format {
        "toml" => ModelSpec::from_toml_str(text),
        "json" => serde_json::from_str(text)
            .map_err(|e| {
                Diagnosis::new(Kind::InvalidSpec, format!("not valid JSON: {e}")).fix(format!(
                    "correct the JSON near line {}, column {}; or pass model.to_json() or a dict",
                    e.line(),
                    e.column()
                ))
            })
            .and_then(|v| keras::spec_from_json(&v)),
        other => return Err(to_py(format!("internal: unknown model format '{other}'"))),
    };
    let data = Data {
        feed,
        feed_integer,
        labels,
        labels_integer,
        loss,
    };
    let i = match spec {
        Ok(spec) => inspect(&spec, &data, origin),
        Err(mut e) => {
            if let (None, Some(o)) = (&e.layer, origin) {
                e.title = format!("{o}: {}", e.title);
            }
            Inspection::failed(e)
        }
    };
    Ok((i.to_json().to_string(), i.render(), i.summary()))
}
