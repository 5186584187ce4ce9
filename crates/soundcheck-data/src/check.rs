//! Before the first step: the dataset's arrays against the model's inputs and outputs (which
//! array feeds which, by name), their shapes and dtypes, with the shape engine's diagnoses.

use soundcheck_shape::feed::{check_input_dtype, check_input_feed};
use soundcheck_shape::labels::check_output_labels;
use soundcheck_shape::{Diagnosis, Kind, Model};

use crate::dataset::{Dataset, Field};

/// Which dataset field feeds each model input, and which target field each model output is
/// scored against, in the model's order.
#[derive(Clone, Debug, PartialEq)]
pub struct Wiring {
    /// Per model input, the index into [`Dataset::inputs`].
    pub inputs: Vec<usize>,
    /// Per model output, the index into [`Dataset::targets`].
    pub targets: Vec<usize>,
}

/// Checks a batch of `batch_size` examples of `ds` against `model` and `loss` (the spec's loss
/// when `None`): each input array as a fed array, each target array as labels, integer ids for
/// an integer model input. Returns which array goes where.
pub fn check_dataset(
    model: &Model,
    ds: &dyn Dataset,
    batch_size: usize,
    loss: Option<&str>,
) -> Result<Wiring, Diagnosis> {
    let wiring = wire(model, ds)?;
    let n = batch_size.min(ds.len()).max(1);
    let with_batch =
        |f: &Field| -> Vec<usize> { std::iter::once(n).chain(f.shape.iter().copied()).collect() };
    for (k, &f) in wiring.inputs.iter().enumerate() {
        let field = &ds.inputs()[f];
        check_input_feed(model, k, &with_batch(field))?;
        check_input_dtype(model, k, field.integer)?;
    }
    for (k, &f) in wiring.targets.iter().enumerate() {
        let field = &ds.targets()[f];
        check_output_labels(model, k, &with_batch(field), Some(field.integer), loss)?;
    }
    Ok(wiring)
}

/// Matches the dataset's arrays to the model's inputs and outputs by name; a dataset's only
/// array goes to a model's only input (or output) whatever its name (`np.savez` without a keyword
/// names it `arr_0`).
pub fn wire(model: &Model, ds: &dyn Dataset) -> Result<Wiring, Diagnosis> {
    let outputs: Vec<&str> = model.outputs.iter().map(|&o| model.node_name(o)).collect();
    Ok(Wiring {
        inputs: wire_inputs(model, ds.inputs())?,
        targets: match_names(&outputs, ds.targets(), Side::Output)?,
    })
}

/// Which of `fields` feeds each model input (see [`wire`]).
pub fn wire_inputs(model: &Model, fields: &[Field]) -> Result<Vec<usize>, Diagnosis> {
    let inputs: Vec<&str> = (0..model.inputs.len())
        .map(|i| model.node_name(i))
        .collect();
    match_names(&inputs, fields, Side::Input)
}

#[derive(Clone, Copy)]
enum Side {
    Input,
    Output,
}

impl Side {
    fn role(self) -> &'static str {
        match self {
            Side::Input => "input",
            Side::Output => "output",
        }
    }

    fn stem(self) -> &'static str {
        match self {
            Side::Input => "x",
            Side::Output => "y",
        }
    }

    fn kind(self) -> Kind {
        match self {
            Side::Input => Kind::FeedMismatch,
            Side::Output => Kind::LabelMismatch,
        }
    }
}

fn match_names(names: &[&str], fields: &[Field], side: Side) -> Result<Vec<usize>, Diagnosis> {
    if names.len() == 1 && fields.len() == 1 {
        return Ok(vec![0]);
    }
    let (role, stem) = (side.role(), side.stem());
    let quoted = |v: &mut dyn Iterator<Item = &str>| {
        v.map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ")
    };
    let per_name: Vec<String> = names.iter().map(|n| format!("{stem}_{n}.npy")).collect();
    let keywords: Vec<String> = names.iter().map(|n| format!("{n}=...")).collect();
    let fix = format!(
        "save one array per model {role}, named after it: {} in the data folder, or np.savez('{stem}.npz', {})",
        per_name.join(", "),
        keywords.join(", ")
    );
    let given = if fields.iter().all(|f| f.name.is_none()) {
        format!("{} unnamed array(s) ({stem}.npy)", fields.len())
    } else {
        format!(
            "arrays named {}",
            quoted(&mut fields.iter().filter_map(|f| f.name.as_deref()))
        )
    };
    let expected = format!(
        "{} array(s) named {}",
        names.len(),
        quoted(&mut names.iter().copied())
    );
    let mismatch = |title: String| {
        Diagnosis::new(side.kind(), title)
            .received(given.clone())
            .expected(expected.clone())
            .cause(format!(
                "the model has {} {role}(s); each takes the array of its name, as Keras's fit takes a dict keyed by {role} name",
                names.len()
            ))
            .fix(fix.clone())
    };
    let mut wiring = Vec::with_capacity(names.len());
    for name in names {
        match fields.iter().position(|f| f.name.as_deref() == Some(*name)) {
            Some(i) => wiring.push(i),
            None => {
                return Err(mismatch(format!(
                    "no array for the model's {role} '{name}'"
                )))
            }
        }
    }
    if let Some(extra) = fields
        .iter()
        .find(|f| f.name.as_deref().is_none_or(|n| !names.contains(&n)))
    {
        let what = extra
            .name
            .as_deref()
            .map_or("an unnamed array".to_string(), |n| {
                format!("the array '{n}'")
            });
        return Err(mismatch(format!("{what} matches no {role} of the model")));
    }
    Ok(wiring)
}
