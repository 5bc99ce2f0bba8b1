//! The front matter of a runbook template: which events it applies to, and how strongly.
//!
//! ```text
//! ---
//! categories: node_replacement
//! states: scheduled
//! engines: redis, valkey, unknown
//! roles: primary, replica, unknown
//! priority: 20
//! ---
//! ```
//!
//! Each key lists accepted values, separated by commas (square brackets are allowed, as in
//! YAML). A template applies when every key it has accepts the event; a key it does not have
//! accepts anything. Among the templates that apply, the highest `priority` wins, then the one
//! with more keys, then the first file name.

use std::collections::BTreeSet;

/// The keys a front matter may have.
const KEYS: &[&str] = &[
    "kinds",
    "categories",
    "states",
    "engines",
    "roles",
    "priority",
];

/// The values of the `engines` and `roles` keys, besides the engine and role names.
pub const UNKNOWN: &str = "unknown";

/// Which events a template applies to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FrontMatter {
    /// Event kinds (`node_replacement_scheduled`), or any.
    pub kinds: Option<BTreeSet<String>>,
    /// Event categories (`node_replacement`, `failover`, `other`), or any.
    pub categories: Option<BTreeSet<String>>,
    /// Maintenance states (`scheduled`, `rescheduled`, `canceled`, `in_progress`, `completed`,
    /// `window_passed`), or any. An input without a state (an event outside any lifecycle)
    /// matches only templates without this key.
    pub states: Option<BTreeSet<String>>,
    /// Engines (`redis`, `valkey`, `memcached`, `unknown`), or any.
    pub engines: Option<BTreeSet<String>>,
    /// Node roles (`primary`, `replica`, `unknown`), or any.
    pub roles: Option<BTreeSet<String>>,
    /// Higher wins among the templates that apply.
    pub priority: i32,
}

/// What a template is matched against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject<'a> {
    /// The event's kind.
    pub kind: &'a str,
    /// The event's category.
    pub category: &'a str,
    /// The maintenance state, when the event belongs to a lifecycle.
    pub state: Option<&'a str>,
    /// The engine, or [`UNKNOWN`].
    pub engine: &'a str,
    /// The node's role, or [`UNKNOWN`].
    pub role: &'a str,
}

impl FrontMatter {
    /// Splits a template file into its front matter and its body. The body keeps its line count
    /// (front matter lines become empty lines), so template errors point at the file's lines.
    pub fn split(source: &str) -> Result<(FrontMatter, String), String> {
        let mut lines = source.lines();
        if lines.next().map(str::trim_end) != Some("---") {
            return Err("the file must start with a `---` line opening the front matter".into());
        }
        let mut front = FrontMatter::default();
        let mut seen = BTreeSet::new();
        let mut consumed = 1;
        let mut closed = false;
        for line in lines.by_ref() {
            consumed += 1;
            let line = line.trim();
            if line == "---" {
                closed = true;
                break;
            }
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, value) = line
                .split_once(':')
                .ok_or_else(|| format!("`{line}` is not `key: value`"))?;
            let key = key.trim();
            if !KEYS.contains(&key) {
                return Err(format!("unknown key `{key}` (known: {})", KEYS.join(", ")));
            }
            if !seen.insert(key.to_owned()) {
                return Err(format!("`{key}` is given twice"));
            }
            if key == "priority" {
                front.priority = value
                    .trim()
                    .parse()
                    .map_err(|_| format!("priority `{}` is not a whole number", value.trim()))?;
                continue;
            }
            let values = list(value);
            if values.is_empty() {
                return Err(format!("`{key}` lists nothing"));
            }
            let slot = match key {
                "kinds" => &mut front.kinds,
                "categories" => &mut front.categories,
                "states" => &mut front.states,
                "engines" => &mut front.engines,
                _ => &mut front.roles,
            };
            *slot = Some(values);
        }
        if !closed {
            return Err("the front matter has no closing `---` line".into());
        }
        let body_lines: Vec<&str> = source.lines().skip(consumed).collect();
        let mut body = "\n".repeat(consumed);
        body.push_str(&body_lines.join("\n"));
        if source.ends_with('\n') {
            body.push('\n');
        }
        Ok((front, body))
    }

    /// Whether the template applies to `subject`.
    pub fn applies_to(&self, subject: &Subject<'_>) -> bool {
        let accepts = |set: &Option<BTreeSet<String>>, value: &str| {
            set.as_ref().is_none_or(|s| s.contains(value))
        };
        accepts(&self.kinds, subject.kind)
            && accepts(&self.categories, subject.category)
            && self
                .states
                .as_ref()
                .is_none_or(|s| subject.state.is_some_and(|state| s.contains(state)))
            && accepts(&self.engines, subject.engine)
            && accepts(&self.roles, subject.role)
    }

    /// How many keys narrow the template down: among equal priorities, the narrower wins.
    pub fn specificity(&self) -> usize {
        [
            &self.kinds,
            &self.categories,
            &self.states,
            &self.engines,
            &self.roles,
        ]
        .iter()
        .filter(|k| k.is_some())
        .count()
    }
}

/// `a, b` or `[a, b]` -> {a, b}.
fn list(raw: &str) -> BTreeSet<String> {
    let raw = raw.trim();
    let raw = raw
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .unwrap_or(raw);
    raw.split(',')
        .map(|v| v.trim().trim_matches(['"', '\'']).to_owned())
        .filter(|v| !v.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject<'a>(kind: &'a str, state: Option<&'a str>, engine: &'a str) -> Subject<'a> {
        Subject {
            kind,
            category: "node_replacement",
            state,
            engine,
            role: "primary",
        }
    }

    #[test]
    fn front_matter_is_read_and_the_body_keeps_its_line_numbers() {
        // Arrange
        let source = "---\nkinds: [a, \"b\"]\nengines: redis,valkey\npriority: 5\n---\n# Title\n";

        // Act
        let (front, body) = FrontMatter::split(source).unwrap();

        // Assert
        assert_eq!(front.kinds, Some(["a".to_owned(), "b".to_owned()].into()));
        assert_eq!(
            front.engines,
            Some(["redis".to_owned(), "valkey".to_owned()].into())
        );
        assert_eq!(front.priority, 5);
        assert_eq!(body, "\n\n\n\n\n# Title\n");
        assert_eq!(front.specificity(), 2);
    }

    #[test]
    fn malformed_front_matter_is_refused_with_a_reason() {
        let cases = [
            ("# no front matter\n", "must start"),
            ("---\nkinds: a\n", "no closing"),
            ("---\ncolour: red\n---\n", "unknown key `colour`"),
            ("---\nkinds a\n---\n", "not `key: value`"),
            ("---\nkinds: a\nkinds: b\n---\n", "given twice"),
            ("---\npriority: high\n---\n", "not a whole number"),
            ("---\nroles: []\n---\n", "lists nothing"),
        ];
        for (source, reason) in cases {
            let err = FrontMatter::split(source).unwrap_err();
            assert!(err.contains(reason), "{source:?}: {err}");
        }
    }

    #[test]
    fn every_key_present_must_accept_the_subject() {
        let (front, _) =
            FrontMatter::split("---\nstates: scheduled\nengines: redis, unknown\n---\n").unwrap();
        let cases = [
            (
                subject("node_replacement_scheduled", Some("scheduled"), "redis"),
                true,
            ),
            (
                subject("node_replacement_scheduled", Some("scheduled"), "unknown"),
                true,
            ),
            (
                subject("node_replacement_scheduled", Some("scheduled"), "memcached"),
                false,
            ),
            (
                subject("node_replacement_scheduled", Some("canceled"), "redis"),
                false,
            ),
            (subject("snapshot_failed", None, "redis"), false),
        ];
        for (s, applies) in cases {
            assert_eq!(front.applies_to(&s), applies, "{s:?}");
        }
        assert!(FrontMatter::default().applies_to(&subject("anything", None, "unknown")));
    }
}
