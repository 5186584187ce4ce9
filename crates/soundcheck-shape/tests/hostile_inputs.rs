//! Inputs a user may hand the shape engine that it must refuse with a diagnosis rather than pass
//! on to a network that cannot run them.

use soundcheck_shape::{check_spec, ModelSpec};

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
