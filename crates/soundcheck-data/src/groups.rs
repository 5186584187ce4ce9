//! Group-aware splits: every clip of a group (a speaker, a session, an album) lands in one of
//! train, validation and test, so the test measures what a model does on a group it never
//! heard. A random split puts each speaker in every part and hides that gap.

use std::collections::BTreeMap;

use regex_lite::Regex;
use soundcheck_io::SplitMix64;

use crate::classes::{check_fractions, ClassSet, Split};
use crate::error::{DataError, Result};
use crate::order::shuffled;

/// Where a clip's group comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Grouping {
    /// A manifest column, named in its header (`speaker`).
    Column(String),
    /// A regular expression over the clip's file name: its first capture group, or the whole
    /// match without one (`_(\w+)_` finds `george` in `0_george_12.wav`).
    Pattern(String),
}

impl Grouping {
    /// Each clip's group, in clip order.
    ///
    /// # Errors
    /// A column the manifest does not have (listing those it has), an invalid pattern, a clip
    /// whose file name the pattern does not match or whose group is empty (naming the clip).
    pub fn groups(&self, set: &ClassSet) -> Result<Vec<String>> {
        match self {
            Grouping::Column(name) => {
                let at = set
                    .columns
                    .iter()
                    .position(|c| c.eq_ignore_ascii_case(name))
                    .ok_or_else(|| DataError::InvalidParameter {
                        name: "group_by",
                        actual: format!("'{name}'"),
                        expected: if set.columns.is_empty() {
                            "a column of a manifest with a header (path,label,speaker); class folders and manifests without a header have none: use `group_pattern`".into()
                        } else {
                            format!("one of the manifest's columns: {}", set.columns.join(", "))
                        },
                    })?;
                set.clips
                    .iter()
                    .map(|c| {
                        let g = &c.extra[at];
                        if g.is_empty() {
                            Err(DataError::Empty {
                                what: format!("the '{name}' of {}", c.path.display()),
                                hint: "give every row a group".into(),
                            })
                        } else {
                            Ok(g.clone())
                        }
                    })
                    .collect()
            }
            Grouping::Pattern(pattern) => {
                let re = Regex::new(pattern).map_err(|e| DataError::InvalidParameter {
                    name: "group_pattern",
                    actual: format!("'{pattern}'"),
                    expected: format!("a regular expression ({e})"),
                })?;
                set.clips
                    .iter()
                    .map(|c| {
                        let name = c.path.file_name().map_or_else(
                            || c.path.to_string_lossy(),
                            |n| n.to_string_lossy(),
                        );
                        re.captures(&name)
                            .and_then(|m| m.get(1).or_else(|| m.get(0)))
                            .map(|m| m.as_str().to_string())
                            .filter(|g| !g.is_empty())
                            .ok_or_else(|| DataError::Mismatch {
                                what: format!("{}: its group", c.path.display()),
                                expected: format!("a file name matching `group_pattern` '{pattern}'"),
                                actual: format!("'{name}', which gives no group"),
                                hint: "write a pattern that every clip's file name matches, its group in the first parentheses".into(),
                            })
                    })
                    .collect()
            }
        }
    }

    /// The flag-free description a run records (`column speaker`, `pattern _(\w+)_`).
    pub fn describe(&self) -> String {
        match self {
            Grouping::Column(c) => format!("column {c}"),
            Grouping::Pattern(p) => format!("pattern {p}"),
        }
    }
}

/// Clips per class of one group.
struct Group {
    name: String,
    per_class: Vec<usize>,
}

impl ClassSet {
    /// Assigns every clip a split with each group wholly in one part: the groups named in
    /// `test_groups` (or, without them, groups making about `test` of the clips) to test, then
    /// groups making about `validation` of the clips to validation, the rest to training. Groups
    /// are drawn in an order shuffled by `seed`, each time the one that brings the part's clips
    /// per class closest to the fraction of every class's clips (stratified as far as whole
    /// groups allow), for as long as a group brings it closer; a positive fraction takes at
    /// least one group.
    ///
    /// # Errors
    /// A fraction outside [0, 1), a group listed in `test_groups` that no clip has, a manifest
    /// that also splits clips itself, too few groups for the parts asked for, or a class left
    /// without training clips (naming it and where its groups went).
    pub fn split_by_group(
        &self,
        groups: &[String],
        validation: f64,
        test: f64,
        test_groups: &[String],
        seed: u64,
    ) -> Result<Vec<Split>> {
        check_fractions(validation, test)?;
        if let Some(c) = self.clips.iter().find(|c| c.split.is_some()) {
            return Err(DataError::Mismatch {
                what: format!("{}: its split", c.path.display()),
                expected: "one way of splitting: the manifest's split column or groups".into(),
                actual: "both".into(),
                hint: "drop the split column, or split without `group_by`/`group_pattern`".into(),
            });
        }
        let mut by_name: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (c, g) in self.clips.iter().zip(groups) {
            by_name
                .entry(g.as_str())
                .or_insert_with(|| vec![0; self.classes.len()])[c.label] += 1;
        }
        let all: Vec<Group> = by_name
            .into_iter()
            .map(|(name, per_class)| Group {
                name: name.to_string(),
                per_class,
            })
            .collect();
        for t in test_groups {
            if !all.iter().any(|g| &g.name == t) {
                let known: Vec<&str> = all.iter().take(20).map(|g| g.name.as_str()).collect();
                return Err(DataError::InvalidParameter {
                    name: "test_groups",
                    actual: format!("'{t}'"),
                    expected: format!(
                        "groups of the data ({} in all: {}{})",
                        all.len(),
                        known.join(", "),
                        if all.len() > known.len() { ", ..." } else { "" }
                    ),
                });
            }
        }
        let needed =
            1 + (validation > 0.0) as usize + (test > 0.0 || !test_groups.is_empty()) as usize;
        if all.len() < needed {
            return Err(DataError::Empty {
                what: format!("a split by group of {} group(s) into {needed} parts", all.len()),
                hint: "every part needs whole groups: use data of more groups, or a validation or test fraction of 0".into(),
            });
        }
        let mut rng = SplitMix64::new(seed ^ 0x6A09_E667_F3BC_C909);
        let mut free: Vec<usize> = shuffled((0..all.len()).collect(), rng.next_u64());
        let mut part = vec![Split::Train; all.len()];
        let test_part: Vec<usize> = if test_groups.is_empty() {
            draw(&all, &mut free, test)
        } else {
            free.retain(|&g| !test_groups.contains(&all[g].name));
            (0..all.len()).filter(|g| !free.contains(g)).collect()
        };
        for g in test_part {
            part[g] = Split::Test;
        }
        for g in draw(&all, &mut free, validation) {
            part[g] = Split::Validation;
        }
        if free.is_empty() {
            return Err(DataError::Empty {
                what: format!("the training split ({} group(s), all held out)", all.len()),
                hint: "hold out fewer groups (`test_groups`, `validation_split`)".into(),
            });
        }
        let index: BTreeMap<&str, usize> = all
            .iter()
            .enumerate()
            .map(|(i, g)| (g.name.as_str(), i))
            .collect();
        let splits: Vec<Split> = groups.iter().map(|g| part[index[g.as_str()]]).collect();
        let held: Vec<String> = all
            .iter()
            .zip(&part)
            .filter(|(_, p)| **p != Split::Train)
            .map(|(g, p)| format!("{} → {}", g.name, p.name()))
            .collect();
        self.check_every_class_trains(
            &splits,
            &format!(
                "its clips are all in held-out groups ({}): hold out other groups (`test_groups`), or give the class clips in more groups",
                held.join(", ")
            ),
        )?;
        Ok(splits)
    }
}

/// Takes from `free` (in its order) the groups of a part of `fraction` of the clips: each time
/// the group that brings the part's per-class counts closest (L1) to `fraction` of every class's
/// total, while that distance falls; at least one group when `fraction` is positive.
fn draw(all: &[Group], free: &mut Vec<usize>, fraction: f64) -> Vec<usize> {
    if fraction <= 0.0 {
        return Vec::new();
    }
    let classes = all.first().map_or(0, |g| g.per_class.len());
    let target: Vec<f64> = (0..classes)
        .map(|c| fraction * all.iter().map(|g| g.per_class[c]).sum::<usize>() as f64)
        .collect();
    let mut have = vec![0usize; classes];
    let distance = |have: &[usize], add: Option<&Group>| -> f64 {
        (0..classes)
            .map(|c| (have[c] + add.map_or(0, |g| g.per_class[c])) as f64 - target[c])
            .map(f64::abs)
            .sum()
    };
    let mut taken = Vec::new();
    // One group must stay for training.
    while free.len() > 1 {
        let (at, d) = free
            .iter()
            .enumerate()
            .map(|(at, &g)| (at, distance(&have, Some(&all[g]))))
            .fold(
                (0, f64::INFINITY),
                |best, x| if x.1 < best.1 { x } else { best },
            );
        if !taken.is_empty() && d >= distance(&have, None) {
            break;
        }
        let g = free.remove(at);
        for (h, n) in have.iter_mut().zip(&all[g].per_class) {
            *h += n;
        }
        taken.push(g);
    }
    taken
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classes::Clip;
    use proptest::prelude::*;
    use std::path::PathBuf;

    fn set(clips: &[(usize, usize)], classes: usize) -> (ClassSet, Vec<String>) {
        let set = ClassSet {
            classes: (0..classes).map(|c| format!("c{c}")).collect(),
            clips: clips
                .iter()
                .enumerate()
                .map(|(i, &(label, g))| Clip {
                    path: PathBuf::from(format!("{label}_g{g}_{i}.wav")),
                    label,
                    split: None,
                    extra: vec![format!("g{g}")],
                })
                .collect(),
            columns: vec!["speaker".into()],
        };
        let groups = clips.iter().map(|&(_, g)| format!("g{g}")).collect();
        (set, groups)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]
        #[test]
        fn no_group_is_in_two_parts_and_every_class_trains(
            clips in proptest::collection::vec((0usize..4, 0usize..7), 1..120),
            validation in 0.0f64..0.5,
            test in 0.0f64..0.5,
            named in proptest::collection::vec(0usize..7, 0..3),
            seed in any::<u64>(),
        ) {
            let classes = 1 + clips.iter().map(|c| c.0).max().unwrap_or(0);
            let (set, groups) = set(&clips, classes);
            let named: Vec<String> = named.iter().map(|g| format!("g{g}")).collect();
            match set.split_by_group(&groups, validation, test, &named, seed) {
                Ok(splits) => {
                    let mut part: BTreeMap<&str, Split> = BTreeMap::new();
                    for (g, s) in groups.iter().zip(&splits) {
                        prop_assert_eq!(*part.entry(g).or_insert(*s), *s, "group {} leaks", g);
                    }
                    for c in 0..classes {
                        let has = |i: usize| set.clips[i].label == c;
                        if (0..clips.len()).any(has) {
                            prop_assert!((0..clips.len()).any(|i| has(i) && splits[i] == Split::Train));
                        }
                    }
                    for g in &named {
                        for (h, s) in groups.iter().zip(&splits) {
                            if h == g { prop_assert_eq!(*s, Split::Test); }
                        }
                    }
                    prop_assert_eq!(splits, set.split_by_group(&groups, validation, test, &named, seed).unwrap());
                }
                Err(e) => {
                    let e = e.to_string();
                    prop_assert!(e.contains("group") || e.contains("none of them in training"), "{}", e);
                }
            }
        }
    }

    #[test]
    fn groups_come_from_a_column_or_a_file_name_pattern_and_are_named_when_missing() {
        let (set, groups) = set(&[(0, 1), (1, 2), (0, 3)], 2);
        assert_eq!(
            Grouping::Column("Speaker".into()).groups(&set).unwrap(),
            groups
        );
        assert_eq!(
            Grouping::Pattern(r"_(\w+)_".into()).groups(&set).unwrap(),
            groups
        );
        let e = Grouping::Column("session".into())
            .groups(&set)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("group_by='session'") && e.contains("speaker"),
            "{e}"
        );
        let e = Grouping::Pattern("^x(.)".into())
            .groups(&set)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("0_g1_0.wav") && e.contains("gives no group"),
            "{e}"
        );
        let e = Grouping::Pattern("(".into())
            .groups(&set)
            .unwrap_err()
            .to_string();
        assert!(e.contains("group_pattern='('"), "{e}");
    }

    #[test]
    fn named_test_groups_and_a_class_without_training_clips_are_reported() {
        // Six groups of two classes; class 1 is only spoken in g5.
        let mut clips: Vec<(usize, usize)> = (0..6).flat_map(|g| [(0, g), (0, g)]).collect();
        clips.push((1, 5));
        let (set, groups) = set(&clips, 2);
        let s = set
            .split_by_group(&groups, 0.2, 0.0, &["g0".into(), "g1".into()], 3)
            .unwrap();
        for (g, s) in groups.iter().zip(&s) {
            assert_eq!(*s == Split::Test, g == "g0" || g == "g1", "{g} {s:?}");
        }
        assert_eq!(s.iter().filter(|&&s| s == Split::Validation).count(), 2);
        let e = set
            .split_by_group(&groups, 0.0, 0.0, &["g5".into()], 0)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("class 'c1' (1 clip(s), none of them in training)")
                && e.contains("g5 → test"),
            "{e}"
        );
        let e = set
            .split_by_group(&groups, 0.0, 0.0, &["g9".into()], 0)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("test_groups='g9'") && e.contains("6 in all"),
            "{e}"
        );
    }

    #[test]
    fn fractions_take_about_their_share_of_the_clips() {
        // Ten groups of 10 clips, two classes each: 20 % is two whole groups.
        let clips: Vec<(usize, usize)> = (0..10)
            .flat_map(|g| (0..10).map(move |i| (i % 2, g)))
            .collect();
        let (set, groups) = set(&clips, 2);
        let s = set.split_by_group(&groups, 0.1, 0.2, &[], 11).unwrap();
        let count = |p: Split| s.iter().filter(|&&x| x == p).count();
        assert_eq!(
            (
                count(Split::Test),
                count(Split::Validation),
                count(Split::Train)
            ),
            (20, 10, 70)
        );
    }
}
