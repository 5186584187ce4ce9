//! Trained Keras models with their weights: `.keras` archives (Keras 3: `config.json` and
//! `model.weights.h5`) and full-model `.h5` files (Keras 2's format, which Keras 3 still writes
//! for `model.save('model.h5')`: a `model_config` attribute and a `model_weights` group).
//!
//! Keras saves a layer's variables by position, not by name: a `.keras` file as
//! `layers/<layer>/vars/0, 1, …` under each (sub)layer that owns some (`layers/lstm/cell`; Keras
//! 2.13 and 2.14 wrote `_layer_checkpoint_dependencies/<layer>/…`, the layers numbered
//! otherwise), an `.h5` file as the list `weight_names` of each top-level layer. Both positions
//! follow the layer's trainable variables then its non-trainable ones, each in the order the
//! layer creates them ([`keras_rank`]). So the network is built from the config first (its
//! variables say which weights the config implies, with their shapes), then each variable takes
//! the value saved at its position. A missing value, a value of another shape or type, and a
//! value left over in the file are errors naming the layer and the variable. [`save_keras`]
//! writes the same positions back, so a network goes to Keras as a `.keras` file.

use std::collections::HashMap;
use std::path::Path;

use hdf5_reader::group::Group;
use hdf5_reader::{ByteOrder, Datatype, Hdf5File, OpenOptions};
use soundcheck_shape::load::{keras_archive_bytes_entry, keras_archive_entry, MAX_KERAS_CONFIG};
use soundcheck_shape::{Model, ModelSpec};

use crate::error::{NnError, Result};
use crate::variables::Variable;
use crate::weights::Weights;
use crate::{Device, Network};

/// Deepest group nesting read under `layers/`: Keras writes at most
/// `layers/<bidirectional>/forward_layer/cell/vars` (5); hard links can make a group its own
/// descendant, which must not recurse for ever.
const MAX_DEPTH: usize = 8;

/// Where a `.keras` file saves each node's weights: `layers/<class>` with the class name in
/// snake case (Keras's `naming.to_snake_case`: `Conv2DTranspose` → `conv2d_transpose`, `PReLU` →
/// `p_re_lu`), numbered `_1`, `_2`, … from the second layer of a class on, in the model's layer
/// order. Keras addresses layers by class and position, not by name, so that two instances of a
/// model with automatic names save alike (`saving_lib._save_container_state`).
pub(crate) fn saving_paths(model: &Model) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    model
        .nodes
        .iter()
        .map(|node| {
            let class = snake_case(&node.def.type_name);
            let n = seen.entry(class.clone()).or_insert(0);
            *n += 1;
            match *n {
                1 => format!("layers/{class}"),
                n => format!("layers/{class}_{}", n - 1),
            }
        })
        .collect()
}

/// Where Keras 2.13 and 2.14 saved each node's weights in a `.keras` file:
/// `_layer_checkpoint_dependencies/<class>[_n]`, numbered in the order that Keras 2's saver met
/// the layers in the model's `_layer_checkpoint_dependencies`, which lists a layer with weights
/// twice (as `layer_with_weights-k`, then as `layer-i`): the second visit saves nothing but takes
/// a number, so two Conv1D layers are saved as `conv1d` and `conv1d_2`, two MaxPooling1D as
/// `max_pooling1d` and `max_pooling1d_1`. `paths` are the nodes' Keras 3 paths
/// ([`saving_paths`]); `has_weights` says which nodes have any.
fn checkpoint_paths(
    model: &Model,
    paths: &[String],
    has_weights: impl Fn(&str) -> bool,
) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    model
        .nodes
        .iter()
        .zip(paths)
        .map(|(node, path)| {
            let class = snake_case(&node.def.type_name);
            let visits = if has_weights(path) { 2 } else { 1 };
            let n = seen.entry(class.clone()).or_insert(0);
            let name = match *n {
                0 => format!("{LEGACY_ROOT}/{class}"),
                n => format!("{LEGACY_ROOT}/{class}_{n}"),
            };
            *n += visits;
            name
        })
        .collect()
}

/// The group Keras 2.13 and 2.14 saved a `.keras` file's layers under (Keras 2.15 and 3:
/// `layers`).
const LEGACY_ROOT: &str = "_layer_checkpoint_dependencies";

/// Keras's `to_snake_case` of a class name: `_` before each capital that starts a lowercase run
/// or follows a lowercase letter, then lowercase.
fn snake_case(class: &str) -> String {
    let c: Vec<char> = class
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    let mut out = String::with_capacity(c.len() + 4);
    for (i, &ch) in c.iter().enumerate() {
        let starts_word = c.get(i + 1).is_some_and(|n| n.is_lowercase());
        let after_lower = i > 0 && c[i - 1].is_lowercase();
        if ch.is_uppercase() && i > 0 && (starts_word || after_lower) {
            out.push('_');
        }
        out.extend(ch.to_lowercase());
    }
    out
}

/// A Keras model file with its weights, as a network: the architecture through
/// [`soundcheck_shape::load_model`], the weights from the same file.
///
/// # Errors
/// The file cannot be read or is not a Keras model, the config does not check, or a weight is
/// missing, of another shape or type than the config implies, or left over
/// ([`NnError::KerasFile`]); a weights file larger than the config implies is refused before it
/// is read.
pub fn load_keras(path: &Path, device: &Device) -> Result<Network> {
    if format_of(path).is_none() {
        return Err(NnError::KerasFile {
            path: path.to_path_buf(),
            actual: "not a Keras model file with weights".into(),
            hint: "give a model saved by Keras (model.save('model.keras') or model.save('model.h5')); a soundcheck spec has no weights: train it, then use its run",
        });
    }
    let spec = soundcheck_shape::load_model(path)?;
    let weights = read_keras_weights(path, &spec, device)?;
    Network::new(&spec, &weights, device)
}

/// A `.keras` archive held in memory (the Python module saves a live `keras.Model` to a buffer,
/// with Keras's own saving code), read as [`load_keras`] reads a file; `origin` names it in the
/// errors.
///
/// # Errors
/// As [`load_keras`].
pub fn load_keras_bytes(bytes: &[u8], origin: &Path, device: &Device) -> Result<Network> {
    let spec = soundcheck_shape::load::load_keras_bytes(bytes, origin)?;
    let weights = weights_of(Source::Archive { bytes, origin }, &spec, device)?;
    Network::new(&spec, &weights, device)
}

/// The weights a Keras model file holds for `spec` (its own config), keyed like Keras's
/// variables (`lstm/lstm_cell/kernel`).
pub fn read_keras_weights(path: &Path, spec: &ModelSpec, device: &Device) -> Result<Weights> {
    let source = match format_of(path) {
        Some(Format::H5) => Source::H5(path),
        _ => Source::File(path),
    };
    weights_of(source, spec, device)
}

/// Where a model's weights are read from.
#[derive(Clone, Copy)]
enum Source<'a> {
    /// A `.keras` file.
    File(&'a Path),
    /// A full-model `.h5` file.
    H5(&'a Path),
    /// A `.keras` archive in memory, and the name it goes by.
    Archive { bytes: &'a [u8], origin: &'a Path },
}

fn weights_of(source: Source, spec: &ModelSpec, device: &Device) -> Result<Weights> {
    // The variables, their shapes and where Keras saves them: a network with fresh weights has
    // them all, in build order.
    let net = Network::initialized(spec, 0, device)?;
    let vars: Vec<&Variable> = net.variables().iter().collect();
    let bound = weights_bound(&vars, net.model().nodes.len());
    let what = format!("the {bound} bytes the weights of this model's config take at most (its parameters as float32 four times over, for an optimizer's state, and HDF5's structure)");
    let archive = |path: &Path, bytes: Vec<u8>| {
        Hdf5File::from_vec_with_options(bytes, options(&vars))
            .map_err(|e| damaged(path, format!("model.weights.h5 is not readable HDF5 ({e})")))
    };
    let reader = match source {
        Source::H5(path) => Reader {
            path,
            file: open_h5(path, bound, options(&vars))?,
        },
        Source::File(path) => Reader {
            path,
            file: archive(
                path,
                keras_archive_entry(path, "model.weights.h5", bound, &what)?,
            )?,
        },
        Source::Archive { bytes, origin } => Reader {
            path: origin,
            file: archive(
                origin,
                keras_archive_bytes_entry(bytes, origin, "model.weights.h5", bound, &what)?,
            )?,
        },
    };
    let values = match source {
        Source::H5(_) => reader.legacy(&vars)?,
        _ => reader.archive(&vars, net.model())?,
    };
    Ok(vars
        .iter()
        .zip(values)
        .map(|(v, data)| (v.key.clone(), (v.shape.clone(), data)))
        .collect())
}

#[derive(Clone, Copy, PartialEq)]
enum Format {
    /// Keras 3's archive.
    Keras,
    /// The full-model HDF5 file of Keras 2.
    H5,
}

/// The kind of Keras file, by extension (as [`soundcheck_shape::load_model`] tells them).
fn format_of(path: &Path) -> Option<Format> {
    let ext = path.extension()?.to_str()?.to_lowercase();
    match ext.as_str() {
        "keras" => Some(Format::Keras),
        "h5" | "hdf5" => Some(Format::H5),
        _ => None,
    }
}

/// The most bytes a weights file for these variables takes: their values as float32 four times
/// over (the values, and an optimizer's state saved beside them: Adam keeps two slots per
/// variable) plus HDF5's structure, a few kilobytes per layer and variable.
fn weights_bound(vars: &[&Variable], layers: usize) -> u64 {
    let values: u64 = vars.iter().map(|v| v.len() as u64).sum();
    16 * values + (1 << 20) + (16 << 10) * (layers + vars.len()) as u64
}

/// Reads bounded by the model: no value larger than the model's largest variable or a model
/// config (datasets are read only once their shape matched the variable's), object headers no
/// larger than a model config (the `.h5` root holds it).
fn options(vars: &[&Variable]) -> OpenOptions {
    let largest = vars.iter().map(|v| v.len() * 4).max().unwrap_or(0);
    OpenOptions {
        max_read_bytes: largest.max(MAX_KERAS_CONFIG as usize),
        max_object_header_bytes: MAX_KERAS_CONFIG as usize + (1 << 20),
        chunk_cache_bytes: 0,
        ..Default::default()
    }
}

/// A full-model `.h5` file, refused unread when it is larger than its config and the weights
/// that config implies.
fn open_h5(path: &Path, bound: u64, options: OpenOptions) -> Result<Hdf5File> {
    let size = std::fs::metadata(path)
        .map_err(|e| damaged(path, format!("cannot read the file ({e})")))?
        .len();
    let file = Hdf5File::open_with_options(path, options)
        .map_err(|e| damaged(path, format!("not a readable HDF5 file ({e})")))?;
    let config = file
        .root_group()
        .and_then(|g| g.attribute("model_config"))
        .and_then(|a| a.read_string())
        .map_or(0, |text| text.len() as u64);
    if size > bound + config {
        return Err(damaged(
            path,
            format!(
                "the file holds {size} bytes, more than the {} its model config and the weights it implies can take",
                bound + config
            ),
        ));
    }
    Ok(file)
}

/// The position Keras gives a variable among its layer's: the order its layers create them
/// (kernels, then the second kernel or beta, then the bias, then BatchNormalization's moving
/// statistics, which are non-trainable and last anyway).
fn keras_rank(key: &str) -> u8 {
    match key.rsplit('/').next().unwrap_or(key) {
        "kernel" | "depthwise_kernel" | "embeddings" | "gamma" => 0,
        "pointwise_kernel" | "recurrent_kernel" | "beta" => 1,
        "bias" => 2,
        "moving_mean" => 3,
        "moving_variance" => 4,
        _ => 5,
    }
}

/// The top-level layer a variable belongs to (Keras's variable paths start with its name, and
/// Keras refuses `/` in names).
fn layer_of(v: &Variable) -> &str {
    v.key.split('/').next().unwrap_or(&v.key)
}

/// The top-level layer's part of a saving path: `layers/lstm` of `layers/lstm/cell/vars/0`.
fn top_level(saved_as: &str) -> &str {
    match saved_as.match_indices('/').nth(1) {
        Some((i, _)) => &saved_as[..i],
        None => saved_as,
    }
}

/// The indices of `vars` grouped by `group` (groups in order of first appearance), each group
/// in Keras's saving order: trainable first, then by [`keras_rank`], then by `within` (the
/// sub-layer, in build order).
fn saving_order<'v>(
    vars: &[&'v Variable],
    group: impl Fn(&'v Variable) -> &'v str,
) -> Vec<(&'v str, Vec<usize>)> {
    let mut groups: Vec<(&str, Vec<usize>)> = Vec::new();
    for (i, v) in vars.iter().enumerate() {
        let g = group(v);
        match groups.iter_mut().find(|(name, _)| *name == g) {
            Some((_, members)) => members.push(i),
            None => groups.push((g, vec![i])),
        }
    }
    for (_, members) in &mut groups {
        let mut sub: Vec<&str> = Vec::new();
        for &i in members.iter() {
            if !sub.contains(&vars[i].saved_as.as_str()) {
                sub.push(&vars[i].saved_as);
            }
        }
        let within = |i: usize| sub.iter().position(|s| *s == vars[i].saved_as);
        members.sort_by_key(|&i| (!vars[i].trainable, within(i), keras_rank(&vars[i].key)));
    }
    groups
}

fn damaged(path: &Path, actual: String) -> NnError {
    NnError::KerasFile {
        path: path.to_path_buf(),
        actual,
        hint: "save the model again with model.save('model.keras'); the file is damaged or not a Keras model",
    }
}

struct Reader<'a> {
    path: &'a Path,
    file: Hdf5File,
}

impl Reader<'_> {
    fn error(&self, actual: String) -> NnError {
        NnError::KerasFile {
            path: self.path.to_path_buf(),
            actual,
            hint: "the weights were saved from another model than the config: save the trained model itself with model.save",
        }
    }

    /// The value saved at `at` for `v`: a float32 array of its shape.
    fn value(&self, v: &Variable, at: &str) -> Result<Vec<f32>> {
        let named = format!("layer '{}': variable '{}' ({at})", layer_of(v), v.key);
        let ds = self.file.dataset(at).map_err(|_| {
            self.error(format!(
                "{named} of shape {:?} is missing from the file",
                v.shape
            ))
        })?;
        let float32 = Datatype::FloatingPoint {
            size: 4,
            byte_order: ByteOrder::LittleEndian,
        };
        if *ds.dtype() != float32 {
            return Err(NnError::KerasFile {
                path: self.path.to_path_buf(),
                actual: format!("{named} is stored as {:?}, not float32", ds.dtype()),
                hint: "soundcheck runs float32 models: set the model's dtype policy to float32 in Keras and save it again",
            });
        }
        let shape: Vec<u64> = v.shape.iter().map(|&d| d as u64).collect();
        if ds.shape() != shape.as_slice() {
            return Err(self.error(format!(
                "{named} has shape {:?} in the file, but the config implies {:?}",
                ds.shape(),
                v.shape
            )));
        }
        let values = ds
            .read_array::<f32>()
            .map_err(|e| damaged(self.path, format!("{named} cannot be read ({e})")))?;
        Ok(values.iter().copied().collect())
    }

    /// A `.keras` file's `model.weights.h5`: `layers/<layer>[/<attribute>…]/vars/<position>`,
    /// or, in the files of Keras 2.13 and 2.14, the same under `_layer_checkpoint_dependencies`
    /// with the layers numbered as [`checkpoint_paths`] says.
    fn archive(&self, vars: &[&Variable], model: &Model) -> Result<Vec<Vec<f32>>> {
        let legacy = self.file.group("layers").is_err() && self.file.group(LEGACY_ROOT).is_ok();
        // Each node's top-level group in this file, by its Keras 3 path.
        let renamed: HashMap<String, String> = if legacy {
            let paths = saving_paths(model);
            let has_weights = |path: &str| vars.iter().any(|v| top_level(&v.saved_as) == path);
            let legacy_paths = checkpoint_paths(model, &paths, has_weights);
            paths.into_iter().zip(legacy_paths).collect()
        } else {
            HashMap::new()
        };
        let place = |saved_as: &str| -> String {
            let top = top_level(saved_as);
            let root = renamed.get(top).map_or(top, String::as_str);
            format!("{root}{}", &saved_as[top.len()..])
        };
        let mut values = vec![Vec::new(); vars.len()];
        let mut read = HashMap::new();
        for (group, members) in saving_order(vars, |v| v.saved_as.as_str()) {
            for (position, &i) in members.iter().enumerate() {
                let at = format!("{}/vars/{position}", place(group));
                values[i] = self.value(vars[i], &at)?;
                read.insert(at, i);
            }
        }
        // Whatever else the file holds for the layers is a weight the config does not have.
        let owners: HashMap<String, &str> = vars
            .iter()
            .map(|v| (place(top_level(&v.saved_as)), layer_of(v)))
            .collect();
        let root = if legacy { LEGACY_ROOT } else { "layers" };
        if let Ok(layers) = self.file.group(root) {
            self.leftovers(&layers, root, 0, &read, &owners)?;
        }
        Ok(values)
    }

    fn leftovers(
        &self,
        group: &Group,
        at: &str,
        depth: usize,
        read: &HashMap<String, usize>,
        owners: &HashMap<String, &str>,
    ) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(damaged(
                self.path,
                format!("{at} nests groups deeper than Keras writes them"),
            ));
        }
        let (groups, datasets) = group
            .members()
            .map_err(|e| damaged(self.path, format!("{at} cannot be listed ({e})")))?;
        for d in datasets {
            let path = format!("{at}/{}", d.name());
            if read.contains_key(&path) {
                continue;
            }
            return Err(self.error(match owners.get(top_level(&path)) {
                Some(layer) => format!(
                    "layer '{layer}': the file holds {path}, a weight the config does not give this layer"
                ),
                None => format!(
                    "the file holds {path}, a weight of no layer of the config (it has no layer saved as {})",
                    top_level(&path)
                ),
            }));
        }
        for g in groups {
            self.leftovers(&g, &format!("{at}/{}", g.name()), depth + 1, read, owners)?;
        }
        Ok(())
    }

    /// A full-model `.h5` file: `model_weights/<layer>` lists its weights' names in
    /// `weight_names` (split into `weight_names0`, `weight_names1`, … when long), each a dataset
    /// under that group.
    fn legacy(&self, vars: &[&Variable]) -> Result<Vec<Vec<f32>>> {
        let root = self.file.group("model_weights").map_err(|_| {
            damaged(
                self.path,
                "holds no model_weights group: not a full Keras model".into(),
            )
        })?;
        let mut values = vec![Vec::new(); vars.len()];
        let order = saving_order(vars, layer_of);
        for (layer, members) in &order {
            let names = match root.group(layer) {
                Ok(g) => self.weight_names(&g, layer)?,
                Err(_) => Vec::new(),
            };
            for (position, &i) in members.iter().enumerate() {
                let v = vars[i];
                let Some(name) = names.get(position) else {
                    return Err(self.error(format!(
                        "layer '{layer}': variable '{}' of shape {:?} is missing from the file (model_weights/{layer} lists {} weights, the config implies {})",
                        v.key,
                        v.shape,
                        names.len(),
                        members.len()
                    )));
                };
                values[i] = self.value(v, &format!("model_weights/{layer}/{name}"))?;
            }
            if names.len() > members.len() {
                return Err(self.error(format!(
                    "layer '{layer}': the file holds {} weights for it ({}), the config implies {}",
                    names.len(),
                    names.join(", "),
                    members.len()
                )));
            }
        }
        // A layer the config has no weights for may still list some in the file.
        for g in root
            .groups()
            .map_err(|e| damaged(self.path, format!("model_weights cannot be listed ({e})")))?
        {
            if order.iter().any(|(layer, _)| *layer == g.name()) {
                continue;
            }
            let names = self.weight_names(&g, g.name())?;
            if !names.is_empty() {
                return Err(self.error(format!(
                    "layer '{}': the file holds weights for it ({}), the config gives it none",
                    g.name(),
                    names.join(", ")
                )));
            }
        }
        Ok(values)
    }

    /// A layer group's `weight_names`, or its parts `weight_names0`, `weight_names1`, … (h5py
    /// caps an attribute at 64 KiB, so Keras splits long lists). No names is an empty list
    /// (Keras writes an empty float array).
    fn weight_names(&self, group: &Group, layer: &str) -> Result<Vec<String>> {
        let read = |name: &str| -> Option<Result<Vec<String>>> {
            let a = group.attribute(name).ok()?;
            if a.num_elements().ok()? == 0 {
                return Some(Ok(Vec::new()));
            }
            Some(a.read_strings().map_err(|e| {
                damaged(
                    self.path,
                    format!("model_weights/{layer}: {name} is not a list of names ({e})"),
                )
            }))
        };
        if let Some(names) = read("weight_names") {
            return names;
        }
        let mut names = Vec::new();
        for part in 0.. {
            match read(&format!("weight_names{part}")) {
                Some(more) => names.extend(more?),
                None => break,
            }
        }
        Ok(names)
    }
}

/// The Keras release whose `.keras` format [`save_keras`] writes, and which opened its files in
/// `tools/fixtures/keras_export.py`.
pub const KERAS_VERSION: &str = "3.15.1";

/// Writes a network as a `.keras` archive that Keras 3 opens with `keras.saving.load_model`:
/// `config.json` (the spec in Keras's terms, as [`soundcheck_shape::keras::to_keras`] gives it),
/// `metadata.json` and `model.weights.h5` (each variable at its saving position, float32). Neither
/// optimizer state nor a compile config is kept: the model opens uncompiled, with its weights.
/// The file is written atomically.
pub fn save_keras(spec: &ModelSpec, net: &Network, path: &Path) -> Result<()> {
    let config = soundcheck_shape::keras::to_keras(spec)?;
    let vars: Vec<&Variable> = net.variables().iter().collect();
    let mut h5 = hdf5_writer::Hdf5Builder::new();
    for (group, members) in saving_order(&vars, |v| v.saved_as.as_str()) {
        for (position, &i) in members.iter().enumerate() {
            let v = vars[i];
            let shape: Vec<u64> = v.shape.iter().map(|&d| d as u64).collect();
            let dataset = hdf5_writer::DatasetBuilder::typed_data(
                format!("{group}/vars/{position}"),
                shape,
                &v.values(),
            )
            .map_err(|e| write_failed(path, format!("weight '{}': {e}", v.key)))?;
            h5 = h5.dataset(dataset);
        }
    }
    let weights = h5
        .into_plan()
        .and_then(|plan| plan.encode(hdf5_writer::WriteOptions::default()))
        .map_err(|e| write_failed(path, format!("model.weights.h5: {e}")))?;
    let metadata = serde_json::json!({
        "keras_version": KERAS_VERSION,
        "saved_by": concat!("soundcheck ", env!("CARGO_PKG_VERSION")),
    });
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    // Stored, not deflated, as Keras writes its archives.
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(weights.len() as u64 >= u32::MAX as u64);
    for (name, bytes) in [
        ("metadata.json", metadata.to_string().into_bytes()),
        ("config.json", config.to_string().into_bytes()),
        ("model.weights.h5", weights),
    ] {
        zip.start_file(name, options)
            .and_then(|()| std::io::Write::write_all(&mut zip, &bytes).map_err(Into::into))
            .map_err(|e| write_failed(path, format!("{name}: {e}")))?;
    }
    let bytes = zip
        .finish()
        .map_err(|e| write_failed(path, e.to_string()))?
        .into_inner();
    soundcheck_io::write_atomic(path, &bytes).map_err(|e| NnError::Run {
        path: path.to_path_buf(),
        actual: format!("cannot write ({e}); check the free space and permissions"),
        source: Some(e),
    })
}

fn write_failed(path: &Path, actual: String) -> NnError {
    NnError::KerasFile {
        path: path.to_path_buf(),
        actual: format!("cannot be encoded ({actual})"),
        hint: "report this as a bug, with the model spec",
    }
}
