//! cachewatch-lint: is an application ready for an ElastiCache maintenance?
//!
//! A maintenance or a failover moves the primary of a shard to another node. Whether the
//! application notices in seconds or falls over is decided by its Redis client's settings, long
//! before the maintenance starts. This crate reads the files of a repository (never the network,
//! never its history), finds which Redis and Valkey clients it uses and in which versions
//! ([`manifest`]), and checks its code and configuration against rules ([`rules`]) kept in data
//! files (`lint-rules/` at the root of the project, built into the binary; a team adds or
//! replaces rules by id with a directory of its own).
//!
//! [`lint_repository`] checks one repository and gives a [`Report`]; [`run`] is the one call the
//! command line makes: it checks one repository or every repository of a directory
//! ([`org`]), renders the result as text, JSON or SARIF ([`render`]) and says how many findings
//! are at or above the threshold that fails the run.

#![warn(missing_docs)]

pub mod manifest;
pub mod org;
mod properties;
pub mod render;
pub mod rules;
mod scan;
mod suppression;
pub mod version;

use std::path::{Path, PathBuf};

use serde::Serialize;

pub use manifest::{Client, Dependency};
pub use rules::{Rule, RuleError, RuleSet, Severity};

/// One repository checked: what it uses and what was found.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Report {
    /// How many files were read (manifests, code and configuration the rules look at).
    pub files_read: usize,
    /// The Redis and Valkey clients the manifests and lock files name, in path order.
    pub clients: Vec<Dependency>,
    /// What was found, by path, line and rule.
    pub findings: Vec<Finding>,
    /// How many findings a suppression with a reason silenced.
    pub suppressed: usize,
}

impl Report {
    /// How many findings are at or above `threshold`.
    pub fn failing(&self, threshold: Threshold) -> usize {
        self.findings
            .iter()
            .filter(|f| threshold.is_failed_by(f.severity))
            .count()
    }
}

/// One place where a rule found something.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Finding {
    /// The rule's id.
    pub rule: String,
    /// How bad it is.
    pub severity: Severity,
    /// The rule's one-line title.
    pub title: String,
    /// The file, relative to the repository, with `/` between its parts.
    pub path: String,
    /// The line, from 1.
    pub line: usize,
    /// The line's text, trimmed (at most 200 characters).
    pub snippet: String,
    /// What goes wrong during a maintenance or a failover.
    pub failure: String,
    /// What to do instead.
    pub fix: String,
    /// Where the rule comes from.
    pub sources: Vec<String>,
}

/// The severity at which findings fail a run (exit code 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threshold {
    /// Findings of this severity or worse fail the run.
    AtLeast(Severity),
    /// Nothing fails the run: report only.
    Never,
}

impl Threshold {
    /// Whether a finding of `severity` fails the run.
    pub fn is_failed_by(self, severity: Severity) -> bool {
        match self {
            Threshold::AtLeast(at_least) => severity >= at_least,
            Threshold::Never => false,
        }
    }
}

/// How the result is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A report for a person at a terminal.
    Text,
    /// JSON, for scripts.
    Json,
    /// SARIF 2.1.0, for code-scanning services (one repository only).
    Sarif,
}

/// What to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One repository: a directory.
    Repository(PathBuf),
    /// Every repository of a directory (its sub-directories), summarised repository × rule.
    Organisation(PathBuf),
}

/// One run of the linter, as the command line asks for it.
#[derive(Debug, Clone)]
pub struct Request {
    /// What to check.
    pub target: Target,
    /// A directory of rule files that add rules or replace built-in ones by id.
    pub rules_dir: Option<PathBuf>,
    /// How to write the result.
    pub format: Format,
    /// Which findings fail the run.
    pub fail_on: Threshold,
}

/// The result of [`run`]: what to print and whether the run failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The rendered report.
    pub output: String,
    /// How many findings are at or above the threshold (the run fails when this is not zero).
    pub failing: usize,
}

/// Why a run could not be done: every case is bad input.
#[derive(Debug, thiserror::Error)]
pub enum LintError {
    /// The path to check is not a directory.
    #[error("{0} is not a directory")]
    NotADirectory(PathBuf),
    /// A rule file is wrong.
    #[error(transparent)]
    Rules(#[from] RuleError),
    /// SARIF describes one repository's results.
    #[error("--sarif describes one repository: use --json or the table with --org-report")]
    SarifForOrganisation,
}

/// Runs the linter as asked: loads the rules, checks the target, renders the result.
pub fn run(request: &Request) -> Result<Outcome, LintError> {
    let rules = match &request.rules_dir {
        Some(dir) => RuleSet::embedded()?.with_directory(dir)?,
        None => RuleSet::embedded()?,
    };
    match &request.target {
        Target::Repository(root) => {
            let report = lint_repository(root, &rules)?;
            let output = match request.format {
                Format::Text => render::text(&report),
                Format::Json => render::json(&report),
                Format::Sarif => render::sarif(&report, &rules),
            };
            Ok(Outcome {
                failing: report.failing(request.fail_on),
                output,
            })
        }
        Target::Organisation(dir) => {
            if request.format == Format::Sarif {
                return Err(LintError::SarifForOrganisation);
            }
            let summary = org::lint_organisation(dir, &rules)?;
            let output = match request.format {
                Format::Json => org::json(&summary),
                _ => org::table(&summary),
            };
            Ok(Outcome {
                failing: summary.failing(request.fail_on),
                output,
            })
        }
    }
}

/// Checks one repository with `rules`.
pub fn lint_repository(root: &Path, rules: &RuleSet) -> Result<Report, LintError> {
    if !root.is_dir() {
        return Err(LintError::NotADirectory(root.to_path_buf()));
    }
    Ok(scan::scan(root, rules))
}
