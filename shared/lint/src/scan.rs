//! The walk over a repository: which files to read, and what the rules find in them.
//!
//! The walk is parallel and honours `.gitignore`, `.ignore` and the other ignore files (the
//! `ignore` crate, as ripgrep does), in a git repository or not; hidden files and directories
//! are skipped. A file is read only when it is a manifest or when some rule reads files of
//! its name, and only when it is text of at most [`MAX_FILE_BYTES`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::mpsc;

use globset::GlobSet;
use ignore::{WalkBuilder, WalkState};

use crate::manifest::{self, Client, Dependency};
use crate::properties;
use crate::rules::{Matcher, Rule, RuleSet, SUPPRESSION_WITHOUT_REASON, Severity, View};
use crate::suppression::{self, Suppression};
use crate::{Finding, Report};

/// Larger files are not read: generated or vendored code, not configuration.
pub const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024;

/// What one file gave.
struct FileResult {
    path: String,
    /// The clients the file names, each with the text of its line.
    dependencies: Vec<(Dependency, String)>,
    findings: Vec<Finding>,
    suppressions: Vec<Suppression>,
}

/// Checks the repository at `root` (a directory).
pub fn scan(root: &Path, rules: &RuleSet) -> Report {
    let text_rules: Vec<&Rule> = rules
        .iter()
        .filter(|r| matches!(r.matcher, Matcher::Text(_)))
        .collect();
    let wanted = wanted_files(&text_rules);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let (sender, receiver) = mpsc::channel::<FileResult>();
    WalkBuilder::new(root)
        .require_git(false)
        .threads(threads)
        .build_parallel()
        .run(|| {
            let sender = sender.clone();
            let text_rules = &text_rules;
            let wanted = &wanted;
            Box::new(move |entry| {
                let Ok(entry) = entry else {
                    return WalkState::Continue;
                };
                if !entry.file_type().is_some_and(|t| t.is_file()) {
                    return WalkState::Continue;
                }
                let name = entry.file_name().to_string_lossy();
                let is_manifest = manifest::is_manifest(&name);
                if !is_manifest && !wanted.is_match(name.as_ref()) {
                    return WalkState::Continue;
                }
                if let Some(result) = read_file(root, entry.path(), &name, is_manifest, text_rules)
                    && sender.send(result).is_err()
                {
                    return WalkState::Quit;
                }
                WalkState::Continue
            })
        });
    drop(sender);
    let mut results: Vec<FileResult> = receiver.into_iter().collect();
    results.sort_by(|a, b| a.path.cmp(&b.path));
    assemble(results, rules)
}

/// The file names some text rule reads.
fn wanted_files(text_rules: &[&Rule]) -> GlobSet {
    let mut builder = globset::GlobSetBuilder::new();
    for rule in text_rules {
        if let Matcher::Text(m) = &rule.matcher {
            for glob in &m.files {
                if let Ok(glob) = globset::Glob::new(glob) {
                    builder.add(glob);
                }
            }
        }
    }
    builder.build().unwrap_or_else(|_| GlobSet::empty())
}

fn read_file(
    root: &Path,
    path: &Path,
    name: &str,
    is_manifest: bool,
    text_rules: &[&Rule],
) -> Option<FileResult> {
    let size = std::fs::metadata(path).ok()?.len();
    if size > MAX_FILE_BYTES {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let relative = path
        .strip_prefix(root)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/");
    let dependencies = if is_manifest {
        manifest::dependencies(name, &relative, &text)
            .into_iter()
            .map(|d| {
                let line = snippet(&text, d.line);
                (d, line)
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut findings = text_findings(&relative, name, &text, text_rules);
    let suppressions = suppression::find(&text);
    findings.extend(
        suppressions
            .iter()
            .filter(|s| s.reason.is_none())
            .map(|s| unexplained(s, &relative, &text)),
    );
    Some(FileResult {
        path: relative,
        dependencies,
        findings,
        suppressions,
    })
}

/// What the text rules that apply to the file `name` find in it.
fn text_findings(relative: &str, name: &str, text: &str, text_rules: &[&Rule]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut flattened = None;
    for rule in text_rules {
        let Matcher::Text(m) = &rule.matcher else {
            continue;
        };
        if !m.file_set.is_match(name) {
            continue;
        }
        let (view, lines): (&str, Option<&[usize]>) = match m.view {
            View::Text => (text, None),
            View::Properties => {
                let flat = flattened.get_or_insert_with(|| properties::flatten(name, text));
                (flat.text.as_str(), Some(flat.lines.as_slice()))
            }
        };
        if m.unless.iter().any(|r| r.is_match(view)) || !m.requires.iter().all(|r| r.is_match(view))
        {
            continue;
        }
        for found in m.pattern.find_iter(view) {
            let view_line = manifest::line_of(view, found.start());
            let line = match lines {
                Some(map) => map.get(view_line - 1).copied().unwrap_or(view_line),
                None => view_line,
            };
            findings.push(finding(rule, relative, line, snippet(text, line)));
            if m.once {
                break;
            }
        }
    }
    findings
}

/// The finding of a suppression that gives no reason.
fn unexplained(s: &suppression::Suppression, relative: &str, text: &str) -> Finding {
    Finding {
        rule: SUPPRESSION_WITHOUT_REASON.to_string(),
        severity: Severity::Error,
        title: format!("A suppression of {} gives no reason", s.rule),
        path: relative.to_owned(),
        line: s.line,
        snippet: snippet(text, s.line),
        failure: "A silenced risk nobody can explain is still there at the next maintenance, \
                  and a platform team reading the report cannot tell an accepted risk from a \
                  forgotten one. This suppression silences nothing until it says why."
            .to_string(),
        fix: format!(
            "Say why after the rule id: `cachewatch-lint: ignore {} <reason>`, or remove the \
             suppression and fix the finding.",
            s.rule
        ),
        sources: Vec::new(),
    }
}

fn finding(rule: &Rule, path: &str, line: usize, snippet: String) -> Finding {
    Finding {
        rule: rule.id.clone(),
        severity: rule.severity,
        title: rule.title.clone(),
        path: path.to_string(),
        line,
        snippet,
        failure: rule.failure.clone(),
        fix: rule.fix.clone(),
        sources: rule.sources.clone(),
    }
}

/// Line `line` (from 1) of `text`, trimmed, at most 200 characters.
fn snippet(text: &str, line: usize) -> String {
    let raw = text
        .lines()
        .nth(line.saturating_sub(1))
        .unwrap_or("")
        .trim();
    match raw.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &raw[..cut]),
        None => raw.to_string(),
    }
}

/// Puts the files' results together: client-limited rules, version rules, suppressions.
fn assemble(results: Vec<FileResult>, rules: &RuleSet) -> Report {
    let files_read = results.len();
    let mut clients: Vec<(Dependency, String)> = Vec::new();
    let mut findings: Vec<Finding> = Vec::new();
    let mut suppressions: BTreeMap<String, Vec<Suppression>> = BTreeMap::new();
    for result in results {
        clients.extend(result.dependencies);
        findings.extend(result.findings);
        if !result.suppressions.is_empty() {
            suppressions.insert(result.path, result.suppressions);
        }
    }
    let used: BTreeSet<Client> = clients.iter().map(|(d, _)| d.client).collect();
    findings.retain(|f| {
        rules
            .get(&f.rule)
            .is_none_or(|r| r.clients.is_empty() || r.clients.iter().any(|c| used.contains(c)))
    });
    for rule in rules.iter() {
        let Matcher::Version {
            client,
            from,
            below,
        } = &rule.matcher
        else {
            continue;
        };
        for (dep, line) in clients.iter().filter(|(d, _)| d.client == *client) {
            let Some(version) = dep
                .version
                .as_deref()
                .and_then(crate::version::Version::parse)
            else {
                continue;
            };
            if &version < below && from.as_ref().is_none_or(|from| &version >= from) {
                findings.push(finding(rule, &dep.path, dep.line, line.clone()));
            }
        }
    }
    let before = findings.len();
    findings.retain(|f| {
        !suppressions
            .get(&f.path)
            .is_some_and(|list| list.iter().any(|s| s.silences(&f.rule, f.line)))
    });
    let suppressed = before - findings.len();
    findings.sort_by(|a, b| {
        (a.path.as_str(), a.line, a.rule.as_str()).cmp(&(b.path.as_str(), b.line, b.rule.as_str()))
    });
    findings.dedup();
    Report {
        files_read,
        clients: clients.into_iter().map(|(d, _)| d).collect(),
        findings,
        suppressed,
    }
}
