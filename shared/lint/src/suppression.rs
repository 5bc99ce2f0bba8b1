//! Suppressions written in the code: `cachewatch-lint: ignore RULE reason`.
//!
//! A suppression silences the findings of `RULE` on its own line and on the line below it (so
//! it can sit in a comment above the code). It must say why: a suppression without a reason
//! silences nothing and is itself a finding ([`SUPPRESSION_WITHOUT_REASON`]), so that a
//! platform team reading the weekly report sees every silenced risk with its reason.
//!
//! [`SUPPRESSION_WITHOUT_REASON`]: crate::rules::SUPPRESSION_WITHOUT_REASON

use std::sync::LazyLock;

use regex::Regex;

/// The marker that starts a suppression.
pub const MARKER: &str = "cachewatch-lint:";

/// One suppression comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// Its line, from 1.
    pub line: usize,
    /// The rule it silences.
    pub rule: String,
    /// Why, if it says.
    pub reason: Option<String>,
}

impl Suppression {
    /// Whether it silences a finding of `rule` at `line`.
    pub fn silences(&self, rule: &str, line: usize) -> bool {
        self.reason.is_some() && self.rule == rule && (line == self.line || line == self.line + 1)
    }
}

/// The suppressions of a file.
pub fn find(text: &str) -> Vec<Suppression> {
    static SUPPRESSION: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"cachewatch-lint:[ \t]*ignore[ \t]+([A-Za-z0-9_-]+)[ \t]*([^\r\n]*)")
            .expect("a built-in expression compiles")
    });
    if !text.contains(MARKER) {
        return Vec::new();
    }
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let c = SUPPRESSION.captures(line)?;
            let reason = c[2]
                .trim()
                .trim_end_matches("*/")
                .trim_end_matches("-->")
                .trim_end_matches("#}")
                .trim();
            Some(Suppression {
                line: i + 1,
                rule: c[1].to_string(),
                reason: (!reason.is_empty()).then(|| reason.to_string()),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suppression_names_its_rule_and_reason_in_any_comment_style() {
        let text = "a\n// cachewatch-lint: ignore jvm-dns-cache-forever tested: the JVM restarts on failover\n<!-- cachewatch-lint: ignore lettuce-below-6-2-2 pinned by the platform -->\n# cachewatch-lint: ignore hardcoded-node-endpoint\n";
        let found = find(text);
        assert_eq!(found.len(), 3);
        assert_eq!(found[0].rule, "jvm-dns-cache-forever");
        assert_eq!(
            found[0].reason.as_deref(),
            Some("tested: the JVM restarts on failover")
        );
        assert_eq!(found[1].reason.as_deref(), Some("pinned by the platform"));
        assert_eq!(found[2].reason, None);
        assert!(found[0].silences("jvm-dns-cache-forever", 3));
        assert!(!found[0].silences("jvm-dns-cache-forever", 4));
        assert!(!found[2].silences("hardcoded-node-endpoint", 4));
    }
}
