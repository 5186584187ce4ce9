//! `soundcheck.check`: the shape engine's whole check of a model against its data, the same
//! [`inspect`] the CLI prints.

use pyo3::prelude::*;
use soundcheck_shape::inspect::{inspect, Data, Inspection};
use soundcheck_shape::load::{spec_from_json_str, ModelFile};

use crate::errors::to_py;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(check_model, m)?)?;
    Ok(())
}

/// Checks a model against array shapes and dtypes: `text` is a Keras `to_json()` config or a
/// soundcheck JSON spec (`format` "json"), or the path of a model file (`format` "path": read by
/// the shape crate as the CLI reads it; a file that cannot be read raises, a spec that does not
/// check is reported). Returns the report as JSON, the rustc-style text, and the Keras summary
/// table.
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
        "json" => spec_from_json_str(text),
        "path" => ModelFile::read(std::path::Path::new(text))
            .map_err(to_py)?
            .parse(),
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
