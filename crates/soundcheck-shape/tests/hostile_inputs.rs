//! Inputs a user may hand the shape engine that it must refuse with a diagnosis rather than pass
//! on to a network that cannot run them.

use soundcheck_shape::{check_spec, load_model, ModelSpec};

fn check(toml: &str) -> soundcheck_shape::Report {
    check_spec(&ModelSpec::from_toml_str(toml).unwrap()).unwrap()
}

#[test]
fn tensors_of_more_axes_than_the_engine_runs_are_refused_where_they_appear() {
    // A 5-axis example is 6 axes with the batch: the first layer that sees it is named.
    let r = check("input_shape = [2, 3, 4, 5, 6]\n[[layers]]\ntype = \"Dense\"\nunits = 4\n");
    let e = r.error.expect("refused");
    assert_eq!(e.kind.as_str(), "rank_mismatch");
    assert_eq!(e.layer.as_deref(), Some("dense"));
    assert!(
        e.title.contains("6 axes with the batch") && e.title.contains("2 to 5"),
        "{}",
        e.title
    );
    assert!(e.fix.contains("Reshape"), "{}", e.fix);
    // A Reshape that grows the rank past 5 is refused at the Reshape.
    let r = check("input_shape = [64]\n[[layers]]\ntype = \"Reshape\"\ntarget_shape = [2, 2, 2, 2, 4]\n\n[[layers]]\ntype = \"Flatten\"\n");
    let e = r.error.expect("refused");
    assert_eq!(e.layer.as_deref(), Some("reshape"));
    assert!(
        e.title.starts_with("the output (None, 2, 2, 2, 2, 4)"),
        "{}",
        e.title
    );
    // Four axes per example (five with the batch) are fine.
    let r = check("input_shape = [2, 3, 4, 5]\n[[layers]]\ntype = \"Dense\"\nunits = 4\n");
    assert!(r.error.is_none(), "{:?}", r.error);
}

#[test]
fn a_keras_archive_that_inflates_past_the_bound_is_refused_without_inflating_it() {
    let dir = std::env::temp_dir().join(format!("sc-shape-bomb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bomb.keras");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let deflate = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("config.json", deflate).unwrap();
    let block = vec![b' '; 1 << 20];
    for _ in 0..80 {
        std::io::Write::write_all(&mut zip, &block).unwrap();
    }
    zip.finish().unwrap();
    assert!(
        std::fs::metadata(&path).unwrap().len() < 1 << 20,
        "a small archive"
    );
    let e = load_model(&path).unwrap_err();
    assert_eq!(e.kind.as_str(), "invalid_spec");
    assert!(
        e.title.contains("bomb.keras")
            && e.title.contains("config.json inflates to 83886080 bytes"),
        "{}",
        e.title
    );
}
