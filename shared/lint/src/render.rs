//! A [`Report`] written for a person ([`text`]), a script ([`json`]) or a code-scanning
//! service ([`sarif`], SARIF 2.1.0).
//!
//! Paths and lines come from the repository checked: the text report shows them with control
//! characters escaped, so a hostile file name or line cannot move the cursor or recolour a
//! terminal; JSON and SARIF escape them as JSON does.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::rules::{Matcher, RuleSet, SUPPRESSION_WITHOUT_REASON, Severity};
use crate::{Finding, Report};

/// `text` with control characters written as `\u{..}` escapes.
pub fn escape_control(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The counts of findings by severity, worst first: `2 errors, 1 warning`.
pub fn counts(findings: &[Finding]) -> String {
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    let parts: Vec<String> = [
        (Severity::Error, "error", "errors"),
        (Severity::Warning, "warning", "warnings"),
        (Severity::Note, "note", "notes"),
    ]
    .into_iter()
    .filter(|(s, _, _)| count(*s) > 0)
    .map(|(s, one, many)| plural(count(s), one, many))
    .collect();
    parts.join(", ")
}

/// The report for a terminal.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    let clients = if report.clients.is_empty() {
        "no Redis or Valkey client found in the manifests".to_string()
    } else {
        report
            .clients
            .iter()
            .map(|d| {
                let version = d
                    .version
                    .as_deref()
                    .map(|v| format!(" {v}"))
                    .unwrap_or_default();
                format!("{}{} ({}:{})", d.client, version, d.path, d.line)
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(
        out,
        "cachewatch lint: {} read; clients: {}",
        plural(report.files_read, "file", "files"),
        escape_control(&clients)
    );
    for f in &report.findings {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{}[{}] {}:{}",
            f.severity.as_str(),
            f.rule,
            escape_control(&f.path),
            f.line
        );
        let _ = writeln!(out, "  {}", escape_control(&f.title));
        if !f.snippet.is_empty() {
            let _ = writeln!(out, "  | {}", escape_control(&f.snippet));
        }
        let _ = writeln!(out, "  during a maintenance: {}", f.failure);
        let _ = writeln!(out, "  fix: {}", f.fix);
        for source in &f.sources {
            let _ = writeln!(out, "  source: {source}");
        }
    }
    let _ = writeln!(out);
    let suppressed = if report.suppressed > 0 {
        format!(" ({} suppressed with a reason)", report.suppressed)
    } else {
        String::new()
    };
    if report.findings.is_empty() {
        let _ = writeln!(out, "No finding{suppressed}.");
    } else {
        let _ = writeln!(
            out,
            "{}: {}{suppressed}.",
            plural(report.findings.len(), "finding", "findings"),
            counts(&report.findings)
        );
    }
    out
}

/// The report as JSON.
pub fn json(report: &Report) -> String {
    let value = json!({
        "tool": "cachewatch-lint",
        "files_read": report.files_read,
        "clients": report.clients,
        "findings": report.findings,
        "suppressed": report.suppressed,
    });
    let mut out = serde_json::to_string_pretty(&value).expect("a report serialises");
    out.push('\n');
    out
}

/// The report as a SARIF 2.1.0 log, with every rule of `rules` described.
pub fn sarif(report: &Report, rules: &RuleSet) -> String {
    let mut descriptors: Vec<Value> = rules
        .iter()
        .map(|rule| {
            let kind = match &rule.matcher {
                Matcher::Text(_) => "code and configuration",
                Matcher::Version { .. } => "client version",
            };
            let mut descriptor = json!({
                "id": rule.id,
                "name": rule.id,
                "shortDescription": { "text": rule.title },
                "fullDescription": { "text": rule.failure },
                "help": { "text": format!("{} Sources: {}", rule.fix, rule.sources.join(" ")) },
                "defaultConfiguration": { "level": rule.severity.as_str() },
                "properties": { "tags": [kind] },
            });
            if let Some(first) = rule.sources.first() {
                descriptor["helpUri"] = json!(first);
            }
            descriptor
        })
        .collect();
    descriptors.push(json!({
        "id": SUPPRESSION_WITHOUT_REASON,
        "name": SUPPRESSION_WITHOUT_REASON,
        "shortDescription": { "text": "A suppression gives no reason" },
        "fullDescription": { "text": "A suppression without a reason silences nothing and is reported." },
        "help": { "text": "Write `cachewatch-lint: ignore RULE reason`." },
        "defaultConfiguration": { "level": "error" },
    }));
    let index_of = |id: &str| descriptors.iter().position(|d| d["id"] == id);
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let mut result = json!({
                "ruleId": f.rule,
                "level": f.severity.as_str(),
                "message": { "text": format!("{}. During a maintenance: {} Fix: {}", f.title, f.failure, f.fix) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri_path(&f.path), "uriBaseId": "%SRCROOT%" },
                        "region": { "startLine": f.line, "snippet": { "text": f.snippet } },
                    }
                }],
            });
            if let Some(i) = index_of(&f.rule) {
                result["ruleIndex"] = json!(i);
            }
            result
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "cachewatch-lint",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": descriptors,
                }
            },
            "results": results,
            "columnKind": "unicodeCodePoints",
        }]
    });
    let mut out = serde_json::to_string_pretty(&log).expect("a SARIF log serialises");
    out.push('\n');
    out
}

/// A relative path as a URI reference: each part percent-encoded where it must be.
fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_escaped() {
        assert_eq!(escape_control("a\u{1b}[31mb\tc"), "a\\u{1b}[31mb\\u{9}c");
    }

    #[test]
    fn uri_paths_encode_spaces_and_keep_slashes() {
        assert_eq!(uri_path("src/My App/x#1.java"), "src/My%20App/x%231.java");
    }
}
