//! Rules: data files a platform team can read and extend without Rust.
//!
//! Each file of `lint-rules/` holds `[[rule]]` tables. A rule has an id, a severity, a title,
//! what goes wrong during a maintenance or failover (`failure`), the `fix`, and its `sources`
//! (the pages it comes from). It matches in one of two ways:
//!
//! - a regular expression (`pattern`) over the files whose name matches one of `files`; every
//!   match is a finding, or only the first of a file with `once = true`. `requires` are
//!   expressions that must all match somewhere in the same file, `unless` expressions none of
//!   which may. With `view = "properties"`, Spring configuration (`.yml`, `.yaml`,
//!   `.properties`) is read as `dotted.key=value` lines, whichever way it was written.
//! - a version (`[rule.version]`): a client (`client`) in a version below `below` (and, with
//!   `from`, at or above `from`: a bug introduced in one release and fixed in another), as a
//!   manifest or lock file names it.
//!
//! `clients` limits a rule to repositories that use one of those clients (empty: any).
//! The built-in files are compiled into the binary; [`RuleSet::with_directory`] reads a
//! directory of more files, whose rules replace built-in ones of the same id.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::manifest::Client;
use crate::version::Version;

/// The rule files built into the binary: `(file name, content)`.
pub const EMBEDDED: &[(&str, &str)] = &[
    (
        "endpoints.toml",
        include_str!("../../../lint-rules/endpoints.toml"),
    ),
    (
        "go-redis.toml",
        include_str!("../../../lint-rules/go-redis.toml"),
    ),
    (
        "ioredis.toml",
        include_str!("../../../lint-rules/ioredis.toml"),
    ),
    ("jedis.toml", include_str!("../../../lint-rules/jedis.toml")),
    ("jvm.toml", include_str!("../../../lint-rules/jvm.toml")),
    (
        "lettuce.toml",
        include_str!("../../../lint-rules/lettuce.toml"),
    ),
    (
        "node-redis.toml",
        include_str!("../../../lint-rules/node-redis.toml"),
    ),
    (
        "redis-py.toml",
        include_str!("../../../lint-rules/redis-py.toml"),
    ),
    (
        "redis-rs.toml",
        include_str!("../../../lint-rules/redis-rs.toml"),
    ),
    (
        "spring.toml",
        include_str!("../../../lint-rules/spring.toml"),
    ),
    (
        "stackexchange-redis.toml",
        include_str!("../../../lint-rules/stackexchange-redis.toml"),
    ),
];

/// The id of the rule every suppression without a reason breaks.
pub const SUPPRESSION_WITHOUT_REASON: &str = "suppression-without-reason";

/// How bad a finding is, from the least to the worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Note,
    /// Likely to hurt during a maintenance.
    Warning,
    /// Known to fail during a maintenance or failover.
    Error,
}

impl Severity {
    /// The lowercase name, as in rule files and SARIF levels.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// How a text rule reads a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum View {
    /// The file as it is.
    #[default]
    Text,
    /// Spring configuration as `dotted.key=value` lines.
    Properties,
}

/// What a rule looks for.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// Expressions over files.
    Text(TextMatcher),
    /// A client's version from manifests and lock files.
    Version {
        /// The client.
        client: Client,
        /// Versions from this one on match (every version when absent).
        from: Option<Version>,
        /// Versions below this one match.
        below: Version,
    },
}

/// Expressions over the files whose name matches.
#[derive(Debug, Clone)]
pub struct TextMatcher {
    /// The file name patterns, as written.
    pub files: Vec<String>,
    pub(crate) file_set: GlobSet,
    /// How the file is read.
    pub view: View,
    /// Every match is a finding.
    pub pattern: Regex,
    /// Must all match in the same file.
    pub requires: Vec<Regex>,
    /// None may match in the same file.
    pub unless: Vec<Regex>,
    /// Only the file's first match is a finding.
    pub once: bool,
}

/// One rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// A stable id, in kebab case.
    pub id: String,
    /// How bad a finding is.
    pub severity: Severity,
    /// One line saying what was found.
    pub title: String,
    /// The clients the rule is about; empty for any repository.
    pub clients: Vec<Client>,
    /// What goes wrong during a maintenance or failover.
    pub failure: String,
    /// What to do instead.
    pub fix: String,
    /// The pages the rule comes from (`https://` URLs), the first being the main one.
    pub sources: Vec<String>,
    /// What it looks for.
    pub matcher: Matcher,
    /// The file it was read from (`lint-rules/NAME` for built-in rules).
    pub origin: String,
}

/// Why rules could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// A rule file is not valid TOML or misses a field.
    #[error("{file}: {message}")]
    Syntax {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// A rule is wrong.
    #[error("{file}: rule {id:?}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// The rule's id.
        id: String,
        /// What is wrong.
        message: String,
    },
    /// Two rules of the same set share an id.
    #[error("rule {id:?} is defined in both {first} and {second}")]
    Duplicate {
        /// The id.
        id: String,
        /// Where it was first defined.
        first: String,
        /// Where it was defined again.
        second: String,
    },
    /// The rules directory cannot be read.
    #[error("cannot read the rules directory {dir}: {source}")]
    Directory {
        /// The directory.
        dir: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The rules directory has no rule file.
    #[error("the rules directory {0} has no .toml rule file")]
    EmptyDirectory(PathBuf),
}

/// The rules a run applies, by id.
#[derive(Debug, Clone)]
pub struct RuleSet {
    rules: BTreeMap<String, Rule>,
}

impl RuleSet {
    /// The built-in rules.
    pub fn embedded() -> Result<Self, RuleError> {
        let mut rules = BTreeMap::new();
        for (name, text) in EMBEDDED {
            for rule in parse_file(&format!("lint-rules/{name}"), text)? {
                insert_new(&mut rules, rule)?;
            }
        }
        Ok(Self { rules })
    }

    /// These rules, plus the rules of every `.toml` file of `dir`; a rule of `dir` replaces a
    /// rule of the same id.
    pub fn with_directory(mut self, dir: &Path) -> Result<Self, RuleError> {
        let entries = std::fs::read_dir(dir).map_err(|source| RuleError::Directory {
            dir: dir.to_path_buf(),
            source,
        })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml") && p.is_file())
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(RuleError::EmptyDirectory(dir.to_path_buf()));
        }
        let mut added = BTreeMap::new();
        for path in files {
            let name = path.display().to_string();
            let text = std::fs::read_to_string(&path).map_err(|e| RuleError::Syntax {
                file: name.clone(),
                message: e.to_string(),
            })?;
            for rule in parse_file(&name, &text)? {
                insert_new(&mut added, rule)?;
            }
        }
        self.rules.extend(added);
        Ok(self)
    }

    /// The rules, by id.
    pub fn iter(&self) -> impl Iterator<Item = &Rule> {
        self.rules.values()
    }

    /// The rule of this id.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.get(id)
    }

    /// How many rules there are.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there is no rule.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

fn insert_new(rules: &mut BTreeMap<String, Rule>, rule: Rule) -> Result<(), RuleError> {
    if let Some(first) = rules.get(&rule.id) {
        return Err(RuleError::Duplicate {
            id: rule.id.clone(),
            first: first.origin.clone(),
            second: rule.origin,
        });
    }
    rules.insert(rule.id.clone(), rule);
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rule: Vec<RuleSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    id: String,
    severity: Severity,
    title: String,
    #[serde(default)]
    clients: Vec<Client>,
    #[serde(default)]
    files: Vec<String>,
    #[serde(default)]
    view: View,
    pattern: Option<String>,
    #[serde(default)]
    requires: Vec<String>,
    #[serde(default)]
    unless: Vec<String>,
    #[serde(default)]
    once: bool,
    version: Option<VersionSpec>,
    failure: String,
    fix: String,
    sources: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VersionSpec {
    client: Client,
    from: Option<String>,
    below: String,
}

/// Reads the rules of one file; `file` names it in errors.
pub fn parse_file(file: &str, text: &str) -> Result<Vec<Rule>, RuleError> {
    let parsed: RuleFile = toml::from_str(text).map_err(|e| RuleError::Syntax {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    if parsed.rule.is_empty() {
        return Err(RuleError::Syntax {
            file: file.to_string(),
            message: "no [[rule]] in this file".to_string(),
        });
    }
    parsed
        .rule
        .into_iter()
        .map(|spec| build(file, spec))
        .collect()
}

fn build(file: &str, spec: RuleSpec) -> Result<Rule, RuleError> {
    let invalid = |message: String| RuleError::Invalid {
        file: file.to_string(),
        id: spec.id.clone(),
        message,
    };
    check_spec(&spec).map_err(invalid)?;
    let matcher = match (spec.pattern.as_deref(), &spec.version) {
        (Some(pattern), None) => text_matcher(&spec, pattern).map_err(invalid)?,
        (None, Some(version)) => version_matcher(version).map_err(invalid)?,
        _ => {
            return Err(invalid(
                "a rule has either a `pattern` or a `[rule.version]`, not both".to_string(),
            ));
        }
    };
    Ok(Rule {
        id: spec.id,
        severity: spec.severity,
        title: spec.title.trim().to_string(),
        clients: spec.clients,
        failure: squash(&spec.failure),
        fix: squash(&spec.fix),
        sources: spec.sources,
        matcher,
        origin: file.to_string(),
    })
}

/// What is wrong with a rule's id, texts or sources, if anything.
fn check_spec(spec: &RuleSpec) -> Result<(), String> {
    let id_ok = !spec.id.is_empty()
        && spec
            .id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !id_ok {
        return Err("an id is lowercase letters, digits and dashes".to_string());
    }
    if spec.id == SUPPRESSION_WITHOUT_REASON {
        return Err("this id belongs to the linter itself".to_string());
    }
    for (field, value) in [
        ("title", &spec.title),
        ("failure", &spec.failure),
        ("fix", &spec.fix),
    ] {
        if value.trim().is_empty() {
            return Err(format!("{field} is empty"));
        }
    }
    if spec.sources.is_empty() {
        return Err("a rule names at least one source (the page it comes from)".to_string());
    }
    if let Some(bad) = spec.sources.iter().find(|s| !s.starts_with("https://")) {
        return Err(format!("source {bad:?} is not an https:// URL"));
    }
    Ok(())
}

/// The matcher of a rule's `pattern` over its `files`, or what is wrong with it.
fn text_matcher(spec: &RuleSpec, pattern: &str) -> Result<Matcher, String> {
    if spec.files.is_empty() {
        return Err("a pattern needs `files`: the file names it reads".to_string());
    }
    let mut set = GlobSetBuilder::new();
    for glob in &spec.files {
        set.add(Glob::new(glob).map_err(|e| format!("files: {e}"))?);
    }
    let file_set = set.build().map_err(|e| format!("files: {e}"))?;
    let compile = |expr: &str, field: &str| Regex::new(expr).map_err(|e| format!("{field}: {e}"));
    let all = |exprs: &[String], field: &str| {
        exprs
            .iter()
            .map(|r| compile(r, field))
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(Matcher::Text(TextMatcher {
        files: spec.files.clone(),
        file_set,
        view: spec.view,
        pattern: compile(pattern, "pattern")?,
        requires: all(&spec.requires, "requires")?,
        unless: all(&spec.unless, "unless")?,
        once: spec.once,
    }))
}

/// The matcher of a `[rule.version]`, or what is wrong with it.
fn version_matcher(version: &VersionSpec) -> Result<Matcher, String> {
    let parse = |field: &str, text: &str| {
        Version::parse(text).ok_or_else(|| format!("version.{field} {text:?} is no version"))
    };
    let below = parse("below", &version.below)?;
    let from = match version.from.as_deref() {
        Some(text) => Some(parse("from", text)?),
        None => None,
    };
    if from.as_ref().is_some_and(|from| from >= &below) {
        return Err("version.from must be lower than version.below".to_string());
    }
    Ok(Matcher::Version {
        client: version.client,
        from,
        below,
    })
}

/// Joins the lines of a multi-line TOML string into one paragraph.
fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_rules_load_and_each_names_a_source() {
        let rules = RuleSet::embedded().unwrap();
        assert!(rules.len() >= 10, "{} rules", rules.len());
        for rule in rules.iter() {
            assert!(rule.sources.iter().all(|s| s.starts_with("https://")));
        }
    }

    #[test]
    fn a_version_range_that_ends_before_it_starts_is_refused() {
        let text = r#"
[[rule]]
id = "backwards"
severity = "warning"
title = "t"
failure = "f"
fix = "x"
sources = ["https://example.com/"]

[rule.version]
client = "jedis"
from = "8.0.1"
below = "6.2.0"
"#;
        let err = parse_file("mine.toml", text).unwrap_err().to_string();
        assert!(err.contains("version.from must be lower"), "{err}");
    }

    #[test]
    fn a_rule_without_a_source_is_refused() {
        let text = r#"
[[rule]]
id = "x"
severity = "error"
title = "t"
files = ["*.java"]
pattern = "a"
failure = "f"
fix = "x"
sources = []
"#;
        let err = parse_file("mine.toml", text).unwrap_err().to_string();
        assert!(err.contains("at least one source"), "{err}");
    }

    #[test]
    fn a_bad_expression_names_its_file_and_rule() {
        let text = r#"
[[rule]]
id = "broken"
severity = "error"
title = "t"
files = ["*.java"]
pattern = "("
failure = "f"
fix = "x"
sources = ["https://example.com/"]
"#;
        let err = parse_file("mine.toml", text).unwrap_err().to_string();
        assert!(
            err.starts_with("mine.toml: rule \"broken\": pattern:"),
            "{err}"
        );
    }
}
