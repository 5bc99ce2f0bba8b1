//! Many repositories at once: the weekly run of a platform team.
//!
//! Every directory directly under the given one (hidden ones aside) is a checked-out
//! repository. Each is linted with the same rules; the summary is a table, one row per
//! repository and one column per rule that found something anywhere, with the count of
//! findings in each cell, so the team sees which repositories are at risk and for what.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;
use serde_json::json;

use crate::render::escape_control;
use crate::rules::{RuleSet, Severity};
use crate::{LintError, Report, Threshold};

/// One repository of the organisation, linted.
#[derive(Debug, Clone, Serialize)]
pub struct RepositoryReport {
    /// The directory's name.
    pub name: String,
    /// What was found there.
    pub report: Report,
}

/// Every repository of a directory, linted.
#[derive(Debug, Clone, Serialize)]
pub struct OrganisationReport {
    /// The repositories, by name.
    pub repositories: Vec<RepositoryReport>,
}

impl OrganisationReport {
    /// How many findings, across the repositories, are at or above `threshold`.
    pub fn failing(&self, threshold: Threshold) -> usize {
        self.repositories
            .iter()
            .map(|r| r.report.failing(threshold))
            .sum()
    }

    /// The rules that found something somewhere, by id, with their severity.
    pub fn rules_found(&self) -> BTreeMap<String, Severity> {
        let mut found = BTreeMap::new();
        for repo in &self.repositories {
            for f in &repo.report.findings {
                found.insert(f.rule.clone(), f.severity);
            }
        }
        found
    }
}

/// Lints every repository directly under `dir`.
pub fn lint_organisation(dir: &Path, rules: &RuleSet) -> Result<OrganisationReport, LintError> {
    if !dir.is_dir() {
        return Err(LintError::NotADirectory(dir.to_path_buf()));
    }
    let mut names: BTreeSet<String> = BTreeSet::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with('.') && entry.path().is_dir() {
                names.insert(name);
            }
        }
    }
    let mut repositories = Vec::new();
    for name in names {
        let report = crate::lint_repository(&dir.join(&name), rules)?;
        repositories.push(RepositoryReport { name, report });
    }
    Ok(OrganisationReport { repositories })
}

/// The summary as a Markdown table: repository × rule, then the totals.
pub fn table(summary: &OrganisationReport) -> String {
    let rules = summary.rules_found();
    let mut out = String::new();
    let _ = write!(out, "| repository | clients |");
    for id in rules.keys() {
        let _ = write!(out, " {id} |");
    }
    let _ = writeln!(out, " total |");
    let _ = write!(out, "|---|---|");
    for _ in rules.keys() {
        let _ = write!(out, "---:|");
    }
    let _ = writeln!(out, "---:|");
    let mut at_risk = 0;
    for repo in &summary.repositories {
        let clients: BTreeSet<&str> = repo
            .report
            .clients
            .iter()
            .map(|d| d.client.name())
            .collect();
        let clients = clients.into_iter().collect::<Vec<_>>().join(", ");
        let _ = write!(
            out,
            "| {} | {} |",
            cell(&repo.name),
            if clients.is_empty() { "—" } else { &clients }
        );
        for id in rules.keys() {
            let n = repo
                .report
                .findings
                .iter()
                .filter(|f| &f.rule == id)
                .count();
            if n == 0 {
                let _ = write!(out, " |");
            } else {
                let _ = write!(out, " {n} |");
            }
        }
        let total = repo.report.findings.len();
        if total > 0 {
            at_risk += 1;
        }
        let _ = writeln!(out, " {total} |");
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{} of {} repositories have findings.",
        at_risk,
        summary.repositories.len()
    );
    out
}

/// A table cell: control characters escaped, `|` escaped for Markdown.
fn cell(text: &str) -> String {
    escape_control(text).replace('|', "\\|")
}

/// The summary as JSON: per repository, its clients and its findings by rule.
pub fn json(summary: &OrganisationReport) -> String {
    let repositories: Vec<_> = summary
        .repositories
        .iter()
        .map(|repo| {
            let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
            for f in &repo.report.findings {
                *by_rule.entry(f.rule.as_str()).or_default() += 1;
            }
            json!({
                "repository": repo.name,
                "clients": repo.report.clients,
                "findings_by_rule": by_rule,
                "findings": repo.report.findings.len(),
                "suppressed": repo.report.suppressed,
            })
        })
        .collect();
    let mut out = serde_json::to_string_pretty(&json!({ "repositories": repositories }))
        .expect("a summary serialises");
    out.push('\n');
    out
}
