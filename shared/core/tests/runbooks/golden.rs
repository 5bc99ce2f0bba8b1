//! Golden tests: every case (the scenario matrix of engines, versions, topologies, roles and
//! events, with and without facts) rendered in every format, compared with its files under
//! `tests/golden/`.
//!
//! `CACHEWATCH_UPDATE_GOLDEN=1 cargo test -p cachewatch-core --test runbooks` rewrites the files;
//! without it, a difference fails with a line diff.

use std::path::PathBuf;

use cachewatch_core::runbook::{Owners, RunbookFormat, Runbooks};

use crate::cases;
use crate::diff::diff;

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
    let update = std::env::var_os("CACHEWATCH_UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let mut failures = Vec::new();

    for case in cases::all() {
        // Act
        let runbook = runbooks
            .render(&case.input(&owners))
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        // Assert: the scenario matrix, every case in every format.
        for format in RunbookFormat::ALL {
            let path = golden_path(case.name, format);
            let actual = runbook.render(format);
            if update {
                std::fs::write(&path, &actual).unwrap();
                continue;
            }
            let expected = std::fs::read_to_string(&path).unwrap_or_default();
            if expected != actual {
                failures.push(format!(
                    "{} differs (- golden, + rendered):\n{}",
                    path.display(),
                    diff(&expected, &actual)
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{}\nRun with CACHEWATCH_UPDATE_GOLDEN=1 to accept the rendered runbooks.",
        failures.join("\n")
    );
}

#[test]
fn the_golden_diff_shows_changed_lines_with_context() {
    let out = diff("a\nb\nc\nd\ne\nf\ng\n", "a\nb\nc\nD\ne\nf\ng\n");
    assert_eq!(out, "  ...\n  b\n  c\n- d\n+ D\n  e\n  f\n  ...\n");
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
