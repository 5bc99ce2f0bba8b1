//! What a golden test shows when an output differs from its file, and how it compares an
//! output with its file or rewrites the file.

use std::path::Path;

/// Whether the golden files are rewritten (`CACHEWATCH_UPDATE_GOLDEN=1`) rather than compared.
pub fn updating() -> bool {
    std::env::var_os("CACHEWATCH_UPDATE_GOLDEN").is_some_and(|v| v == "1")
}

/// Rewrites the golden file at `path` with `actual` when `update`; otherwise compares them and
/// adds the difference, if any, to `failures`.
pub fn check_golden(path: &Path, actual: &str, update: bool, failures: &mut Vec<String>) {
    if update {
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_default();
    if expected != actual {
        failures.push(format!(
            "{} differs (- golden, + rendered):\n{}",
            path.display(),
            diff(&expected, actual)
        ));
    }
}

/// Fails with every difference found and how to accept the rendered `what` instead.
pub fn assert_no_failures(failures: &[String], what: &str) {
    assert!(
        failures.is_empty(),
        "{}\nRun with CACHEWATCH_UPDATE_GOLDEN=1 to accept the rendered {what}.",
        failures.join("\n")
    );
}

/// A line diff of `expected` and `actual` (longest common subsequence), with two lines of
/// context around each change.
pub fn diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', a[i]));
            i += 1;
        } else {
            ops.push(('+', b[j]));
            j += 1;
        }
    }
    let near_change = |k: usize| {
        ops[k.saturating_sub(2)..(k + 3).min(ops.len())]
            .iter()
            .any(|(op, _)| *op != ' ')
    };
    let mut out = String::new();
    let mut skipped = false;
    for (k, (op, line)) in ops.iter().enumerate() {
        if near_change(k) {
            out.push_str(&format!("{op} {line}\n"));
            skipped = false;
        } else if !skipped {
            out.push_str("  ...\n");
            skipped = true;
        }
    }
    out
}

#[test]
fn the_golden_diff_shows_changed_lines_with_context() {
    let out = diff("a\nb\nc\nd\ne\nf\ng\n", "a\nb\nc\nD\ne\nf\ng\n");
    assert_eq!(out, "  ...\n  b\n  c\n- d\n+ D\n  e\n  f\n  ...\n");
}
