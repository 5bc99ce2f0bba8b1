//! Golden tests: every case (the scenario matrix of engines, versions, topologies, roles and
//! events, with and without facts) rendered in every format, compared with its files under
//! `tests/golden/`.
//!
//! `CACHEWATCH_UPDATE_GOLDEN=1 cargo test -p cachewatch-core --test runbooks` rewrites the files;
//! without it, a difference fails with a line diff.

use std::path::PathBuf;

use cachewatch_core::runbook::{Owners, RunbookFormat, Runbooks};

use crate::cases;
use crate::diff::{assert_no_failures, check_golden, updating};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// The golden file of `case` in `format`: `name.md` for Markdown, `name.format.ext` otherwise.
fn golden_path(case: &str, format: RunbookFormat) -> PathBuf {
    let file = match format {
        RunbookFormat::Markdown => format!("{case}.md"),
        other => format!("{case}.{}.{}", other.as_str(), other.extension()),
    };
    golden_dir().join(file)
}

#[test]
fn every_case_renders_as_its_golden_file() {
    // Arrange
    let runbooks = Runbooks::embedded();
    let owners = Owners::default();
    let update = updating();
    let mut failures = Vec::new();

    for case in cases::all() {
        // Act
        let runbook = runbooks
            .render(&case.input(&owners))
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        // Assert: the scenario matrix, every case in every format.
        for format in RunbookFormat::ALL {
            let path = golden_path(case.name, format);
            check_golden(&path, &runbook.render(format), update, &mut failures);
        }
    }
    assert_no_failures(&failures, "runbooks");
}

#[test]
fn no_golden_file_is_left_without_a_case() {
    let names: Vec<String> = cases::all().iter().map(|c| c.name.to_owned()).collect();
    for entry in std::fs::read_dir(golden_dir()).unwrap() {
        let entry = entry.unwrap();
        // Other test binaries keep their golden files in folders of their own (`slack/`).
        if entry.file_type().unwrap().is_dir() {
            continue;
        }
        let file = entry.file_name().to_string_lossy().into_owned();
        let case = file.split('.').next().unwrap_or_default().to_owned();
        assert!(names.contains(&case), "{file} belongs to no case");
    }
}
