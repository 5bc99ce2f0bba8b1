//! Runbooks: the templates in `runbooks/`, chosen and rendered for one event or maintenance.
//!
//! A template is Markdown with a front matter saying which events it applies to
//! ([`FrontMatter`]), rendered with minijinja. The templates of the repository's `runbooks/`
//! directory are built into the binary ([`Runbooks::embedded`]); a team overrides them file by
//! file, or adds its own, with [`Runbooks::with_overrides`] (the caller reads the directory: this
//! crate does no I/O). Files whose name starts with `_` are partials: never chosen, only
//! included by other templates.
//!
//! Rendering ([`Runbooks::render`]) fills the chosen template with the event, its maintenance,
//! what is known about the cluster ([`ClusterFacts`]) and the commands worked out from it, then
//! reads the Markdown back into a [`Runbook`]: sections, paragraphs and steps, each step with
//! its owner and its commands. [`Runbook::render`] writes it in any [`RunbookFormat`].
//!
//! Values from events never become template code or Markdown structure: they reach the
//! template as data, and everything it prints is escaped (see [`escape`]) unless the template
//! asks for a code span, a shell word or a fenced block, each escaped its own way.

mod context;
mod document;
pub mod escape;
mod format;
mod front_matter;
pub mod html;
pub mod inline;

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};
use serde::{Deserialize, Serialize};

use crate::cluster::facts::{ClusterFacts, Engine, NodeRole};
use crate::cluster::kept::Rehearsal;
use crate::lifecycle::Maintenance;
use crate::model::event::MaintenanceEvent;

pub use context::{FailoverMethod, failover_method};
pub use document::{Owner, Paragraph, ParagraphStyle, Runbook, Section, Step};
pub use format::{DRILL_NOTICE, RunbookFormat};
pub use front_matter::{FrontMatter, Subject};

/// The templates built into the binary: `(file name, content)`.
pub const EMBEDDED: &[(&str, &str)] = &[
    (
        "redis-node-replacement.md",
        include_str!("../../../../runbooks/redis-node-replacement.md"),
    ),
    (
        "memcached-node-replacement.md",
        include_str!("../../../../runbooks/memcached-node-replacement.md"),
    ),
    (
        "failover-happened.md",
        include_str!("../../../../runbooks/failover-happened.md"),
    ),
    (
        "replacement-changed.md",
        include_str!("../../../../runbooks/replacement-changed.md"),
    ),
    (
        "service-update-due.md",
        include_str!("../../../../runbooks/service-update-due.md"),
    ),
    (
        "engine-end-of-life.md",
        include_str!("../../../../runbooks/engine-end-of-life.md"),
    ),
    (
        "generic.md",
        include_str!("../../../../runbooks/generic.md"),
    ),
    (
        "_redis-plan.md",
        include_str!("../../../../runbooks/_redis-plan.md"),
    ),
    (
        "_memcached-plan.md",
        include_str!("../../../../runbooks/_memcached-plan.md"),
    ),
    (
        "_redis-facts.md",
        include_str!("../../../../runbooks/_redis-facts.md"),
    ),
];

/// The name of the auto-escape mode that escapes printed values for Markdown.
const MARKDOWN_ESCAPE: &str = "markdown";

/// How people call the two teams a step can belong to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Owners {
    /// The team that owns the application (`[app]` steps).
    pub app: String,
    /// The team that owns the infrastructure (`[infra]` steps).
    pub infra: String,
}

impl Default for Owners {
    fn default() -> Self {
        Self {
            app: "Application team".to_owned(),
            infra: "Infrastructure team".to_owned(),
        }
    }
}

impl Owners {
    /// The label of `owner`.
    pub fn label(&self, owner: Owner) -> &str {
        match owner {
            Owner::App => &self.app,
            Owner::Infra => &self.infra,
        }
    }
}

/// What a runbook is rendered for.
#[derive(Debug, Clone, Copy)]
pub struct RunbookInput<'a> {
    /// The event the runbook is for; for a maintenance, its latest event (or the one a person
    /// asked about).
    pub event: &'a MaintenanceEvent,
    /// The maintenance the event belongs to, when known: its state, window and history win
    /// over the event's.
    pub maintenance: Option<&'a Maintenance>,
    /// The maintenance's events, for its history (may be empty).
    pub events: &'a [MaintenanceEvent],
    /// What is known about the cluster.
    pub facts: &'a ClusterFacts,
    /// The team labels.
    pub owners: &'a Owners,
    /// Now: deadlines are measured from it.
    pub now: DateTime<Utc>,
    /// When the facts were read from ElastiCache, if they were: the runbook says so.
    pub facts_read_at: Option<DateTime<Utc>>,
    /// Why the facts were not looked up now, when they were kept from an earlier lookup: the
    /// runbook then says how old they are.
    pub facts_kept: Option<&'a str>,
    /// The team's latest measured rehearsal of the cluster, shown beside AWS's impact.
    pub rehearsal: Option<&'a Rehearsal>,
}

impl<'a> RunbookInput<'a> {
    /// An input for an event alone.
    pub fn new(
        event: &'a MaintenanceEvent,
        facts: &'a ClusterFacts,
        owners: &'a Owners,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            event,
            maintenance: None,
            events: &[],
            facts,
            owners,
            now,
            facts_read_at: None,
            facts_kept: None,
            rehearsal: None,
        }
    }

    /// The same input, with facts read from ElastiCache at `at`.
    pub fn with_facts_read_at(self, at: DateTime<Utc>) -> Self {
        Self {
            facts_read_at: Some(at),
            ..self
        }
    }

    /// The same input, with facts read from ElastiCache at `at` and kept since, not looked up
    /// now because `why_not_now`.
    pub fn with_kept_facts(self, at: DateTime<Utc>, why_not_now: &'a str) -> Self {
        Self {
            facts_read_at: Some(at),
            facts_kept: Some(why_not_now),
            ..self
        }
    }

    /// The same input, with the team's latest measured rehearsal of the cluster.
    pub fn with_rehearsal(self, rehearsal: &'a Rehearsal) -> Self {
        Self {
            rehearsal: Some(rehearsal),
            ..self
        }
    }

    crate::model::about_a_maintenance!('a);
}

/// Why runbooks could not be loaded or rendered.
#[derive(Debug, thiserror::Error)]
pub enum RunbookError {
    /// A file name that cannot name a template.
    #[error("`{name}` cannot be a runbook template: {reason}")]
    FileName {
        /// The name as given.
        name: String,
        /// Why not.
        reason: &'static str,
    },
    /// A front matter that does not read.
    #[error("{file}: front matter: {reason}")]
    FrontMatter {
        /// The template file.
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// A template that does not compile or render.
    #[error("{file}: {source}")]
    Template {
        /// The template file.
        file: String,
        /// minijinja's error, with the line.
        #[source]
        source: minijinja::Error,
    },
    /// No template applies (an override set narrowed every template, the generic one included).
    #[error(
        "no runbook template applies to a {kind} event (state {state}, engine {engine}, role {role})"
    )]
    NoTemplate {
        /// The event kind.
        kind: String,
        /// The maintenance state, or `none`.
        state: String,
        /// The engine, or `unknown`.
        engine: String,
        /// The role, or `unknown`.
        role: String,
    },
    /// The rendered Markdown does not follow the runbook layout.
    #[error("{file}: line {line} of the rendered runbook: {reason}")]
    Layout {
        /// The template file.
        file: String,
        /// The line of the rendered text.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

/// Where a template comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateOrigin {
    /// Built into the binary.
    Embedded,
    /// From a team's directory, replacing or adding to the built-in ones.
    Override,
}

/// A selectable template.
#[derive(Debug, Clone)]
pub struct TemplateInfo {
    /// Its file name.
    pub name: String,
    /// What it applies to.
    pub front_matter: FrontMatter,
    /// Where it comes from.
    pub origin: TemplateOrigin,
}

/// The set of runbook templates in force.
pub struct Runbooks {
    env: Environment<'static>,
    templates: Vec<TemplateInfo>,
}

impl fmt::Debug for Runbooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runbooks")
            .field("templates", &self.templates)
            .finish_non_exhaustive()
    }
}

/// Checks that `name` is a bare `*.md` file name.
fn check_name(name: &str) -> Result<(), RunbookError> {
    let bad = |reason| {
        Err(RunbookError::FileName {
            name: name.to_owned(),
            reason,
        })
    };
    if !name.ends_with(".md") || name.len() <= 3 {
        return bad("a template file name ends in `.md`");
    }
    if name.contains(['/', '\\']) || name.starts_with('.') {
        return bad("a template is named by a bare file name");
    }
    if name.chars().any(char::is_control) {
        return bad("a file name has no control characters");
    }
    Ok(())
}

fn is_partial(name: &str) -> bool {
    name.starts_with('_')
}

/// The template environment: Jinja syntax with `trim_blocks` and `lstrip_blocks` (a line holding
/// only a tag disappears), Markdown escaping of everything printed, and the `code`, `shell` and
/// `fence` filters.
fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
        .expect("the default delimiters always make a valid syntax");
    env.set_syntax(syntax);
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    env.set_auto_escape_callback(|_| AutoEscape::Custom(MARKDOWN_ESCAPE.into()));
    // Printing an undefined value is an error before the formatter is called (semi-strict);
    // `none` and the empty branch of an inline `if` print nothing.
    env.set_formatter(|out, _state, value| {
        if value.is_none() || value.is_undefined() {
            return Ok(());
        }
        let text = if value.is_safe() {
            value.to_string()
        } else {
            escape::markdown_text(&value.to_string())
        };
        out.write_str(&text)
            .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, e.to_string()))
    });
    env.add_filter("code", |v: Value| {
        Value::from_safe_string(escape::code_span(&v.to_string()))
    });
    env.add_filter("shell", |v: Value| {
        Value::from_safe_string(escape::shell_word(&v.to_string()))
    });
    env.add_filter("fence", |v: Value, info: Option<String>| {
        Value::from_safe_string(escape::fenced_block(
            &v.to_string(),
            info.as_deref().unwrap_or("text"),
        ))
    });
    env
}

impl Runbooks {
    /// The templates built into the binary.
    pub fn embedded() -> Self {
        Self::with_overrides(std::iter::empty::<(String, String)>())
            .expect("the embedded runbook templates are valid")
    }

    /// The built-in templates, with `files` (`(file name, content)`, as read from a team's
    /// runbook directory) replacing those of the same name and adding the others. Every file
    /// is checked: its name, its front matter (partials, `_*.md`, have none) and its template
    /// syntax. A `README.md` is documentation, not a template, and is skipped.
    pub fn with_overrides<I, N, S>(files: I) -> Result<Self, RunbookError>
    where
        I: IntoIterator<Item = (N, S)>,
        N: Into<String>,
        S: Into<String>,
    {
        let mut sources: BTreeMap<String, (String, TemplateOrigin)> = EMBEDDED
            .iter()
            .map(|(name, content)| {
                (
                    (*name).to_owned(),
                    ((*content).to_owned(), TemplateOrigin::Embedded),
                )
            })
            .collect();
        for (name, content) in files {
            let name = name.into();
            if name.eq_ignore_ascii_case("README.md") {
                continue;
            }
            check_name(&name)?;
            sources.insert(name, (content.into(), TemplateOrigin::Override));
        }
        let mut env = environment();
        let mut templates = Vec::new();
        for (name, (content, origin)) in sources {
            let body = if is_partial(&name) {
                content
            } else {
                let (front_matter, body) =
                    FrontMatter::split(&content).map_err(|reason| RunbookError::FrontMatter {
                        file: name.clone(),
                        reason,
                    })?;
                templates.push(TemplateInfo {
                    name: name.clone(),
                    front_matter,
                    origin,
                });
                body
            };
            env.add_template_owned(name.clone(), body)
                .map_err(|source| RunbookError::Template { file: name, source })?;
        }
        Ok(Self { env, templates })
    }

    /// The selectable templates, by file name.
    pub fn templates(&self) -> &[TemplateInfo] {
        &self.templates
    }

    /// The template for `input`: among those that apply, the highest priority, then the most
    /// specific, then the first by file name.
    pub fn select(&self, input: &RunbookInput<'_>) -> Result<&TemplateInfo, RunbookError> {
        let state = context::state_of(input).map(|s| s.as_str());
        let engine = input
            .facts
            .engine
            .or_else(|| context::inferred_engine(input))
            .map_or(front_matter::UNKNOWN, Engine::as_str);
        let role = input
            .facts
            .node_role
            .map_or(front_matter::UNKNOWN, NodeRole::as_str);
        let subject = Subject {
            kind: input.event.kind.as_str(),
            category: input.event.category.as_str(),
            state,
            engine,
            role,
        };
        self.templates
            .iter()
            .filter(|t| t.front_matter.applies_to(&subject))
            .max_by(|a, b| {
                (a.front_matter.priority, a.front_matter.specificity())
                    .cmp(&(b.front_matter.priority, b.front_matter.specificity()))
                    .then_with(|| b.name.cmp(&a.name))
            })
            .ok_or_else(|| RunbookError::NoTemplate {
                kind: subject.kind.to_owned(),
                state: state.unwrap_or("none").to_owned(),
                engine: engine.to_owned(),
                role: role.to_owned(),
            })
    }

    /// The runbook for `input`, from the template [`select`](Self::select) picks.
    pub fn render(&self, input: &RunbookInput<'_>) -> Result<Runbook, RunbookError> {
        let name = self.select(input)?.name.clone();
        let template_error = |source| RunbookError::Template {
            file: name.clone(),
            source,
        };
        let markdown = self
            .env
            .get_template(&name)
            .and_then(|t| t.render(context::build(input)))
            .map_err(template_error)?;
        let mut runbook = document::read(&markdown, &name).map_err(|e| RunbookError::Layout {
            file: name.clone(),
            line: e.line,
            reason: e.reason,
        })?;
        runbook.drill = input.drill();
        for section in &mut runbook.sections {
            for step in &mut section.steps {
                step.owner_label = input.owners.label(step.owner).to_owned();
            }
        }
        Ok(runbook)
    }
}
