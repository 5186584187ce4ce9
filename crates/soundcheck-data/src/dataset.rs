//! Datasets: numbered examples, each one or several input arrays and one or several target
//! arrays of declared shapes (a model with several inputs or outputs takes one array each).

use std::path::{Path, PathBuf};

use soundcheck_npy::Array;

use crate::error::{DataError, Result};

/// One array of every example: the model input or output it is for, its shape, its element type.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The model input or output it is for (`x_audio.npy`, an `.npz` key); `None` for a dataset's
    /// only input or target, which goes to the model's only one.
    pub name: Option<String>,
    /// One example's shape, batch axis excluded (`[]` for one class index).
    pub shape: Vec<usize>,
    /// Integers: class indices (what `sparse_categorical_crossentropy` wants) or token ids (what
    /// an Embedding wants).
    pub integer: bool,
}

impl Field {
    /// An unnamed float field of `shape`.
    pub fn new(shape: &[usize]) -> Field {
        Field {
            name: None,
            shape: shape.to_vec(),
            integer: false,
        }
    }

    /// Values of one example.
    pub fn len(&self) -> usize {
        product(&self.shape)
    }

    /// Whether one example holds no values (an axis of size 0).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How the field is named in messages: `'audio'`, or `the input`/`the target` when unnamed.
    pub fn describe(&self, role: &str) -> String {
        match &self.name {
            Some(n) => format!("{role} '{n}'"),
            None => format!("the {role}"),
        }
    }
}

/// Values of one example over all `fields`, one field after another.
pub fn example_len(fields: &[Field]) -> usize {
    fields.iter().map(Field::len).sum()
}

/// Examples with fixed input and target shapes (batch axis excluded).
pub trait Dataset: Send + Sync {
    /// The number of examples.
    fn len(&self) -> usize;

    /// Whether the dataset holds no example.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The input arrays of an example, at least one.
    fn inputs(&self) -> &[Field];

    /// The target arrays of an example, at least one.
    fn targets(&self) -> &[Field];

    /// Copies example `i` into `input` (every input field's values, one field after another:
    /// [`example_len`] of [`Dataset::inputs`]) and `target` (likewise).
    fn load(&self, i: usize, input: &mut [f32], target: &mut [f32]) -> Result<()>;

    /// Example `i` as training epoch `epoch` sees it: a dataset that augments draws a new
    /// variant per epoch here (from its seed, `epoch` and `i`, so runs repeat and resume);
    /// the others give [`Dataset::load`]'s example every epoch.
    fn load_in_epoch(
        &self,
        epoch: u64,
        i: usize,
        input: &mut [f32],
        target: &mut [f32],
    ) -> Result<()> {
        let _ = epoch;
        self.load(i, input, target)
    }
}

/// One array of a dataset, batch axis first: every example's values of one field.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedArray {
    /// The model input or output it is for; `None` for the only one.
    pub name: Option<String>,
    /// `(n_examples, *field_shape)`.
    pub shape: Vec<usize>,
    /// The values in C order.
    pub data: Vec<f32>,
    /// Integers (class indices, token ids).
    pub integer: bool,
}

/// A named array read from a file, and the file it came from.
struct Loaded {
    name: Option<String>,
    path: PathBuf,
    array: Array,
}

/// A dataset held in memory: each field's array is `(n, *shape)`.
#[derive(Clone, Debug)]
pub struct ArrayDataset {
    inputs: Vec<Field>,
    targets: Vec<Field>,
    /// Per input field, then per target field: its values for every example.
    data: Vec<Vec<f32>>,
    n: usize,
}

fn product(s: &[usize]) -> usize {
    s.iter().product()
}

impl ArrayDataset {
    /// Builds a dataset of one input and one target array, batch axis first.
    ///
    /// # Errors
    /// Different example counts, data lengths that do not match the shapes, no examples.
    pub fn new(
        x: Vec<f32>,
        x_shape: &[usize],
        y: Vec<f32>,
        y_shape: &[usize],
    ) -> Result<ArrayDataset> {
        let one = |data: Vec<f32>, shape: &[usize]| NamedArray {
            name: None,
            shape: shape.to_vec(),
            data,
            integer: false,
        };
        ArrayDataset::from_arrays(vec![one(x, x_shape)], vec![one(y, y_shape)])
    }

    /// Builds a dataset from input and target arrays, batch axis first in each.
    ///
    /// # Errors
    /// Different example counts, data lengths that do not match the shapes, no examples.
    pub fn from_arrays(inputs: Vec<NamedArray>, targets: Vec<NamedArray>) -> Result<ArrayDataset> {
        let describe = |arrays: &[NamedArray]| {
            arrays
                .iter()
                .map(|a| match &a.name {
                    Some(n) => format!("'{n}' {:?}", a.shape),
                    None => format!("{:?}", a.shape),
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let shapes = format!(
            "inputs {}, targets {}",
            describe(&inputs),
            describe(&targets)
        );
        let batched = inputs.iter().chain(&targets).all(|a| !a.shape.is_empty());
        let n = match inputs.first() {
            Some(first) if batched && !targets.is_empty() => first.shape[0],
            _ => {
                return Err(DataError::Mismatch {
                    what: "dataset arrays".into(),
                    expected: "a batch axis first in both inputs and targets".into(),
                    actual: shapes,
                    hint: "save arrays of shape (n_examples, ...)".into(),
                })
            }
        };
        let mut roles = inputs
            .iter()
            .map(|a| ("inputs", a))
            .chain(targets.iter().map(|a| ("targets", a)));
        if let Some((role, a)) = roles.find(|(_, a)| a.shape[0] != n) {
            let actual = match &a.name {
                None => format!("{} {role}", a.shape[0]),
                Some(name) => format!("{} examples in '{name}'", a.shape[0]),
            };
            return Err(DataError::Mismatch {
                what: "inputs and targets".into(),
                expected: format!("one target per input ({n} inputs)"),
                actual,
                hint: "every array must have the same first axis".into(),
            });
        }
        if n == 0 {
            return Err(DataError::Empty {
                what: "the dataset is empty".into(),
                hint: "give at least one example".into(),
            });
        }
        let mut data = Vec::with_capacity(inputs.len() + targets.len());
        let mut fields = |arrays: Vec<NamedArray>, what| {
            let mut out = Vec::with_capacity(arrays.len());
            for NamedArray {
                name,
                shape,
                data: values,
                integer,
            } in arrays
            {
                if values.len() != product(&shape) {
                    return Err(DataError::Mismatch {
                        what: format!("{what} data"),
                        expected: format!("{} values for shape {shape:?}", product(&shape)),
                        actual: format!("{} values", values.len()),
                        hint: "the array is damaged".into(),
                    });
                }
                out.push(Field {
                    name,
                    shape: shape[1..].to_vec(),
                    integer,
                });
                data.push(values);
            }
            Ok(out)
        };
        let inputs = fields(inputs, "inputs")?;
        let targets = fields(targets, "targets")?;
        Ok(ArrayDataset {
            inputs,
            targets,
            data,
            n,
        })
    }

    /// The same dataset with its targets marked as integer class indices.
    pub fn with_integer_targets(mut self) -> ArrayDataset {
        for t in &mut self.targets {
            t.integer = true;
        }
        self
    }

    /// Reads a dataset folder: the inputs as `x.npy` (a model with one input), one
    /// `x_<input name>.npy` per input, or `x.npz` holding one array per input name
    /// (`np.savez('x.npz', audio=..., meta=...)`); the targets likewise as `y.npy`,
    /// `y_<output name>.npy` or `y.npz`. NaN/inf are refused, naming the file and example.
    ///
    /// # Errors
    /// No inputs or targets in the folder, two spellings of them at once, an unreadable array,
    /// NaN/inf, complex values, arrays of different example counts.
    pub fn open_npy_dir(dir: &Path) -> Result<ArrayDataset> {
        let x = read_role(dir, "x", "inputs")?;
        let y = read_role(dir, "y", "targets")?;
        let paths: Vec<String> = x
            .iter()
            .chain(&y)
            .map(|l| l.path.display().to_string())
            .collect();
        let arrays = |loaded: Vec<Loaded>| -> Vec<NamedArray> {
            loaded
                .into_iter()
                .map(|l| NamedArray {
                    name: l.name,
                    shape: l.array.shape,
                    data: l.array.data,
                    integer: l.array.integer,
                })
                .collect()
        };
        ArrayDataset::from_arrays(arrays(x), arrays(y)).map_err(|e| match e {
            DataError::Mismatch {
                what,
                expected,
                actual,
                hint,
            } => DataError::Mismatch {
                what: format!("{}: {what}", paths.join(" and ")),
                expected,
                actual,
                hint,
            },
            other => other,
        })
    }
}

/// The arrays of one role (`x` inputs or `y` targets) in `dir`, each checked for complex and
/// non-finite values.
fn read_role(dir: &Path, stem: &str, role: &str) -> Result<Vec<Loaded>> {
    let single = dir.join(format!("{stem}.npy"));
    let archive = dir.join(format!("{stem}.npz"));
    let prefix = format!("{stem}_");
    let mut per_name: Vec<(String, PathBuf)> = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|source| DataError::Io {
        path: dir.to_path_buf(),
        action: "read the folder",
        source,
    })?;
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some(name) = file
            .to_str()
            .and_then(|f| f.strip_prefix(&prefix))
            .and_then(|f| f.strip_suffix(".npy"))
        else {
            continue;
        };
        if !name.is_empty() {
            per_name.push((name.to_string(), entry.path()));
        }
    }
    per_name.sort();
    let spellings = [single.is_file(), archive.is_file(), !per_name.is_empty()];
    let hint = format!(
        "save the {role} as {stem}.npy (one array), as {stem}_<name>.npy per model {}, or as {stem}.npz with one array per name",
        if stem == "x" { "input" } else { "output" }
    );
    let loaded: Vec<Loaded> = match spellings {
        [true, false, false] => vec![Loaded {
            name: None,
            array: soundcheck_npy::read(&single)?,
            path: single,
        }],
        [false, true, false] => soundcheck_npy::read_npz(&archive)?
            .into_iter()
            .map(|(name, array)| Loaded {
                path: PathBuf::from(format!("{}:{name}", archive.display())),
                name: Some(name),
                array,
            })
            .collect(),
        [false, false, true] => per_name
            .into_iter()
            .map(|(name, path)| {
                Ok(Loaded {
                    array: soundcheck_npy::read(&path)?,
                    name: Some(name),
                    path,
                })
            })
            .collect::<Result<_>>()?,
        [false, false, false] => {
            return Err(DataError::Mismatch {
                what: dir.display().to_string(),
                expected: format!("the {role} as {stem}.npy, {stem}.npz or {stem}_<name>.npy"),
                actual: "none of them".into(),
                hint,
            })
        }
        _ => {
            return Err(DataError::Mismatch {
                what: format!("the {role} of {}", dir.display()),
                expected: format!("one way of saving the {role}"),
                actual: format!("more than one of {stem}.npy, {stem}.npz and {stem}_<name>.npy"),
                hint: format!("keep one of them: {hint}"),
            })
        }
    };
    for l in &loaded {
        if l.array.complex {
            return Err(DataError::Mismatch {
                what: l.path.display().to_string(),
                expected: "real numbers".into(),
                actual: "complex numbers".into(),
                hint:
                    "use magnitudes (np.abs) or split real and imaginary parts into a channel axis"
                        .into(),
            });
        }
        let per = product(l.array.shape.get(1..).unwrap_or(&[])).max(1);
        if let Some(i) = l.array.data.iter().position(|v| !v.is_finite()) {
            return Err(DataError::NonFinite {
                path: l.path.clone(),
                example: i / per,
                value: l.array.data[i],
            });
        }
    }
    Ok(loaded)
}

impl Dataset for ArrayDataset {
    fn len(&self) -> usize {
        self.n
    }
    fn inputs(&self) -> &[Field] {
        &self.inputs
    }
    fn targets(&self) -> &[Field] {
        &self.targets
    }
    fn load(&self, i: usize, input: &mut [f32], target: &mut [f32]) -> Result<()> {
        let fields = self.inputs.iter().chain(&self.targets);
        let (mut input, mut target) = (input, target);
        for (k, (field, values)) in fields.zip(&self.data).enumerate() {
            let per = field.len();
            let out = if k < self.inputs.len() {
                let (head, rest) = std::mem::take(&mut input).split_at_mut(per);
                input = rest;
                head
            } else {
                let (head, rest) = std::mem::take(&mut target).split_at_mut(per);
                target = rest;
                head
            };
            out.copy_from_slice(&values[i * per..(i + 1) * per]);
        }
        Ok(())
    }
}
