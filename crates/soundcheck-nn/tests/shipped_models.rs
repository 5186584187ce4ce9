//! Every model shipped in `models/` checks, builds into a network, and runs a batch to the
//! output shape the shape engine infers for it (debug builds also assert every layer's shape).

use soundcheck_nn::{Device, Network};
use soundcheck_shape::feed::check_feed;
use soundcheck_shape::{Model, ModelSpec};

#[test]
fn every_shipped_model_runs_to_its_inferred_shape() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    let mut ran = Vec::new();
    for path in paths {
        let spec = ModelSpec::from_toml_str(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|d| panic!("{}: {d}", path.display()));
        let model = Model::from_spec(&spec).unwrap();
        // A batch of 2; variable-length axes at 40 steps.
        let feed: Vec<usize> = std::iter::once(2)
            .chain(model.inputs[0].shape.dims().iter().map(|d| d.unwrap_or(40)))
            .collect();
        let want: Vec<usize> = check_feed(&model, &feed).unwrap()[0]
            .iter()
            .map(|d| d.expect("a fed model's output is known"))
            .collect();
        let net = Network::initialized(&spec, 0, &Device::flex()).unwrap();
        let n: usize = feed.iter().product();
        let x: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin().abs()).collect();
        let (shape, y) = net.forward(&feed, x).unwrap();
        assert_eq!(shape, want, "{}", path.display());
        assert!(y.iter().all(|v| v.is_finite()), "{}", path.display());
        ran.push(spec.name.clone().unwrap_or_default());
    }
    for expected in [
        "vocal-mask",
        "vocal-mask-small",
        "vocal-unet",
        "vocal-unet-norm",
        "mfcc-lstm",
    ] {
        assert!(
            ran.iter().any(|n| n == expected),
            "{expected} not among {ran:?}"
        );
    }
}
