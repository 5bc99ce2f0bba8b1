//! Every shape an operator hands us, detected and read into [`MaintenanceEvent`]s.
//!
//! | shape | how it is recognised |
//! |---|---|
//! | Lambda SNS event | an object with `Records`, each with an `Sns` object |
//! | SNS HTTP notification | an object with `Type` (`Notification`) and `Message` |
//! | ElastiCache message body | an object with one or more `ElastiCache:*` keys |
//! | DescribeEvents output | an object with `Events`, or one record with `SourceIdentifier` |
//! | AWS Health event (EventBridge) | an object with `source` `aws.health` (see `health.rs`) |
//! | a JSON array | each element is any of the above |
//! | JSON Lines | one document per line, each any of the above |
//! | pasted text | console and CLI tables, AWS maintenance e-mails, with the prose around them (see `pasted.rs`) |
//!
//! A document is read whole or not at all: the first problem is returned with the line and record
//! it is in, and no event of that input is returned. In pasted text, lines that are clearly not
//! events (prose, headers, separators) are skipped and counted.

pub mod health;
mod pasted;
mod shapes;
pub mod text;
pub(crate) mod time;

pub use time::{date_in_range, earliest_date, latest_date};

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::model::event::{EventId, FailoverNodes, MaintenanceEvent, Origin, Window};
use crate::model::ids::{ClusterId, IdError, NodeId, ReplicationGroupId, SourceId};
use crate::model::kind::EventKind;

/// The longest message text kept (ElastiCache's own texts are a few hundred characters).
pub const MAX_MESSAGE_LEN: usize = 64 * 1024;

/// What parsing needs to know that the input does not say.
#[derive(Debug, Clone, Copy)]
pub struct ParseContext {
    /// When the input was received: the date of events that carry none.
    pub received_at: DateTime<Utc>,
    /// Mark every event as a drill.
    pub drill: bool,
}

impl ParseContext {
    /// A context for real events received at `received_at`.
    pub fn received_at(received_at: DateTime<Utc>) -> Self {
        Self {
            received_at,
            drill: false,
        }
    }
}

/// Where in the input a problem is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Location {
    /// The 1-based line (text and JSON Lines inputs).
    pub line: Option<usize>,
    /// The 1-based record within a document (`Records`, `Events`, array elements).
    pub record: Option<usize>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.record) {
            (Some(line), Some(record)) => write!(f, "line {line}, record {record}: "),
            (Some(line), None) => write!(f, "line {line}: "),
            (None, Some(record)) => write!(f, "record {record}: "),
            (None, None) => Ok(()),
        }
    }
}

/// What is wrong with an input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Problem {
    /// Nothing but white space.
    #[error("the input is empty")]
    Empty,
    /// JSON that does not parse.
    #[error("not valid JSON at line {line}, column {column}: {reason}")]
    NotJson {
        /// serde_json's line.
        line: usize,
        /// serde_json's column.
        column: usize,
        /// serde_json's description.
        reason: String,
    },
    /// A JSON value that is none of the known shapes.
    #[error(
        "not an ElastiCache message, SNS notification, Lambda SNS event or DescribeEvents output ({found})"
    )]
    UnknownShape {
        /// What was found instead (keys or type).
        found: String,
    },
    /// A well-formed SNS message that is not an event.
    #[error("an SNS {kind} carries no event{hint}")]
    NotAnEvent {
        /// The SNS message type.
        kind: String,
        /// What to do instead.
        hint: &'static str,
    },
    /// A required field is absent.
    #[error("`{field}` is missing")]
    MissingField {
        /// The field's name.
        field: &'static str,
    },
    /// A field has the wrong JSON type.
    #[error("`{field}` should be {expected}")]
    WrongType {
        /// The field's name.
        field: String,
        /// What it should be.
        expected: &'static str,
    },
    /// A date that cannot be read.
    #[error("`{field}` is not a date: {value:?}")]
    BadDate {
        /// The field's name.
        field: &'static str,
        /// The value, shortened.
        value: String,
    },
    /// A date outside [`earliest_date`] ..= [`latest_date`].
    #[error("`{field}` is {value}, outside the years 1970 to 9999 that cachewatch keeps")]
    DateOutOfRange {
        /// The field's name.
        field: &'static str,
        /// The date read, in RFC 3339.
        value: String,
    },
    /// An identifier that is not one.
    #[error("`{field}`: {source}")]
    BadIdentifier {
        /// The field's name.
        field: String,
        /// Why.
        #[source]
        source: IdError,
    },
    /// A text over [`MAX_MESSAGE_LEN`].
    #[error("`{field}` is {len} bytes long (at most {max})")]
    TooLong {
        /// The field's name.
        field: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// An EventBridge event that is not an AWS Health event about ElastiCache.
    #[error("not an AWS Health event about ElastiCache: {found}")]
    NotElastiCacheHealth {
        /// What it is instead (its source or service).
        found: String,
    },
    /// An SNS message whose body is not an ElastiCache message.
    #[error("the SNS Message is not an ElastiCache event: {excerpt:?}")]
    NotElastiCache {
        /// The start of the message.
        excerpt: String,
    },
    /// A console row that does not read.
    #[error("console row: {reason}")]
    BadRow {
        /// Why.
        reason: String,
    },
    /// A line that starts like an AWS maintenance e-mail line but does not read as one.
    #[error("e-mail line: {reason}")]
    BadEmailLine {
        /// Why.
        reason: String,
    },
    /// A pasted text in which no line is an event.
    #[error(
        "no event found ({skipped} lines skipped: not events); expected console or CLI table rows, `aws elasticache describe-events` output or AWS maintenance e-mail lines"
    )]
    NoEvents {
        /// The lines skipped.
        skipped: usize,
    },
}

/// A problem and where it is.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{location}{problem}")]
pub struct ParseError {
    /// Where.
    pub location: Location,
    /// What.
    pub problem: Problem,
}

pub(crate) fn excerpt(text: &str) -> String {
    const MAX: usize = 60;
    let mut out: String = text.chars().take(MAX).collect();
    if text.chars().count() > MAX {
        out.push('…');
    }
    out
}

/// A whole input, read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    /// Every event in it, in input order.
    pub events: Vec<MaintenanceEvent>,
    /// The lines of a pasted text that were clearly not events (prose, headers, separators).
    pub skipped_lines: usize,
}

/// Reads a whole input. Either every event in it, or the first problem.
pub fn parse_document(
    input: &str,
    ctx: &ParseContext,
) -> Result<Vec<MaintenanceEvent>, ParseError> {
    read_document(input, ctx).map(|d| d.events)
}

/// Reads a whole input, saying how many lines of pasted text were not events. Either every
/// event in it, or the first problem.
pub fn read_document(input: &str, ctx: &ParseContext) -> Result<Document, ParseError> {
    let events = |events| Document {
        events,
        skipped_lines: 0,
    };
    let input = input.trim_start_matches('\u{feff}');
    let trimmed = input.trim_start();
    let at = |problem| ParseError {
        location: Location::default(),
        problem,
    };
    match trimmed.as_bytes().first() {
        None => Err(at(Problem::Empty)),
        Some(b'{' | b'[') => match serde_json::from_str::<Value>(input) {
            Ok(value) => shapes::top_level(value, Location::default(), ctx).map(events),
            Err(whole) => {
                let first = trimmed.lines().next().unwrap_or_default();
                if serde_json::from_str::<Value>(first).is_ok() {
                    json_lines(input, ctx).map(events)
                } else {
                    Err(at(not_json(&whole)))
                }
            }
        },
        Some(_) => pasted::pasted_text(input, ctx).map(|p| Document {
            events: p.events,
            skipped_lines: p.skipped,
        }),
    }
}

pub(crate) fn not_json(e: &serde_json::Error) -> Problem {
    let reason = e.to_string();
    // serde_json appends " at line L column C"; the location is given separately.
    let reason = reason
        .rsplit_once(" at line ")
        .map_or(reason.as_str(), |(head, _)| head)
        .to_owned();
    Problem::NotJson {
        line: e.line(),
        column: e.column(),
        reason,
    }
}

/// One document per line.
fn json_lines(input: &str, ctx: &ParseContext) -> Result<Vec<MaintenanceEvent>, ParseError> {
    read_json_lines(input, 1, ctx)
}

/// Whether an input whose first non-blank line is `first` (and that goes on after it) is JSON
/// Lines, as [`read_document`] would read it: a line that is a whole JSON value cannot start a
/// longer JSON document.
pub fn starts_json_lines(first: &str) -> bool {
    let first = first.trim_start_matches('\u{feff}').trim();
    matches!(first.as_bytes().first(), Some(b'{' | b'['))
        && serde_json::from_str::<serde::de::IgnoredAny>(first).is_ok()
}

/// Reads a run of whole lines of a JSON Lines input whose first line is line `first_line` of
/// the input (1-based), on every core when it is large: a large input is read a run at a time.
pub fn read_json_lines(
    input: &str,
    first_line: usize,
    ctx: &ParseContext,
) -> Result<Vec<MaintenanceEvent>, ParseError> {
    by_lines(input, first_line, ctx, |line, location, ctx| {
        let value = serde_json::from_str::<Value>(line).map_err(|e| ParseError {
            location,
            problem: not_json(&e),
        })?;
        shapes::top_level(value, location, ctx)
    })
}

/// Inputs of at least this many bytes (and more lines than cores) are read on every core: a bulk
/// import of a million events is mostly JSON and regular expressions, and lines are independent.
const PARALLEL_BYTES: usize = 256 * 1024;

/// Reads each non-blank line with `read`, on several threads for large inputs. The events come out
/// in input order, and the error reported is the first one in input order, as if read one by one.
pub(crate) fn by_lines<F>(
    input: &str,
    first_line: usize,
    ctx: &ParseContext,
    read: F,
) -> Result<Vec<MaintenanceEvent>, ParseError>
where
    F: Fn(&str, Location, &ParseContext) -> Result<Vec<MaintenanceEvent>, ParseError> + Sync,
{
    let lines: Vec<(usize, &str)> = input
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .collect();
    let read_all = |part: &[(usize, &str)]| -> Result<Vec<MaintenanceEvent>, ParseError> {
        let mut events = Vec::new();
        for (index, line) in part {
            let location = Location {
                line: Some(index + first_line),
                record: None,
            };
            events.extend(read(line, location, ctx)?);
        }
        Ok(events)
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if input.len() < PARALLEL_BYTES || lines.len() < threads * 2 || threads < 2 {
        return read_all(&lines);
    }
    let chunk = lines.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let parts: Vec<_> = lines
            .chunks(chunk)
            .map(|part| scope.spawn(move || read_all(part)))
            .collect();
        let mut events = Vec::with_capacity(lines.len());
        for part in parts {
            match part.join() {
                Ok(read) => events.extend(read?),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        Ok(events)
    })
}

/// An event being assembled: what a shape, a drill or a test knows of it. [`EventDraft::finish`]
/// gives it its id and category.
#[derive(Debug, Clone)]
pub struct EventDraft {
    /// The ElastiCache event name, when the input named one.
    pub event_name: Option<String>,
    /// The kind (from the name or the text).
    pub kind: EventKind,
    /// `cache-cluster`, `replication-group`, ...
    pub source_type: String,
    /// What the event is about.
    pub source_id: SourceId,
    /// The cluster.
    pub cluster_id: Option<ClusterId>,
    /// The node.
    pub node_id: Option<NodeId>,
    /// The replication group.
    pub replication_group_id: Option<ReplicationGroupId>,
    /// When it happened; `None` dates it at reception.
    pub occurred_at: Option<DateTime<Utc>>,
    /// The window it announces.
    pub window: Option<Window>,
    /// A reschedule's previous window.
    pub previous_window: Option<Window>,
    /// The original text.
    pub message: Option<String>,
    /// From the topic ARN.
    pub region: Option<String>,
    /// From the topic ARN.
    pub account_id: Option<String>,
    /// Failover nodes.
    pub failover: Option<FailoverNodes>,
    /// How it reached us.
    pub origin: Origin,
    /// Other metadata.
    pub attributes: BTreeMap<String, String>,
    /// What identifies the event when its source says so itself (an AWS Health communication
    /// about one entity); otherwise its source, kind, node and date do.
    pub identity: Option<String>,
}

impl EventDraft {
    /// A draft with only what every event has.
    pub fn new(kind: EventKind, source_type: String, source_id: SourceId, origin: Origin) -> Self {
        Self {
            event_name: None,
            kind,
            source_type,
            source_id,
            cluster_id: None,
            node_id: None,
            replication_group_id: None,
            occurred_at: None,
            window: None,
            previous_window: None,
            message: None,
            region: None,
            account_id: None,
            failover: None,
            origin,
            attributes: BTreeMap::new(),
            identity: None,
        }
    }

    /// Fills in what the message text says (`reference` gives window times their year), one draft
    /// per node the text names.
    pub fn with_text(
        mut self,
        message: String,
        reference: DateTime<Utc>,
    ) -> Result<Vec<Self>, Problem> {
        let facts = text::read(&message, reference);
        if self.event_name.is_none()
            && let Some(kind) = facts.kind
        {
            self.kind = kind;
        }
        if let Some(cluster) = facts.cluster_id {
            self.cluster_id =
                Some(
                    ClusterId::parse(&cluster).map_err(|source| Problem::BadIdentifier {
                        field: "Cache Cluster ID".into(),
                        source,
                    })?,
                );
        }
        if let Some(group) = facts.replication_group_id {
            self.replication_group_id =
                Some(ReplicationGroupId::parse(&group).map_err(|source| {
                    Problem::BadIdentifier {
                        field: "replication group ID".into(),
                        source,
                    }
                })?);
        }
        self.window = self.window.or(facts.window);
        self.previous_window = self.previous_window.or(facts.previous_window);
        self.failover = self.failover.or(facts.failover);
        for (key, value) in facts.attributes {
            self.attributes.insert(key.to_owned(), value);
        }
        if facts.unreadable_window {
            self.attributes
                .insert("window_unreadable".into(), "true".into());
        }
        self.message = Some(message);
        if facts.node_ids.is_empty() {
            return Ok(vec![self]);
        }
        facts
            .node_ids
            .iter()
            .map(|node| {
                let mut draft = self.clone();
                draft.node_id =
                    Some(
                        NodeId::parse(node).map_err(|source| Problem::BadIdentifier {
                            field: "Node ID".into(),
                            source,
                        })?,
                    );
                Ok(draft)
            })
            .collect()
    }

    /// Refuses a draft whose dates could not be kept: one outside [`earliest_date`] ..=
    /// [`latest_date`] would be stored but not read back, and would stop every later read.
    pub fn check_dates(&self) -> Result<(), Problem> {
        let windows = |field_start, field_end, window: Option<Window>| {
            window
                .into_iter()
                .flat_map(move |w| [(field_start, w.start), (field_end, w.end)])
        };
        let dates = self
            .occurred_at
            .map(|at| ("Date", at))
            .into_iter()
            .chain(windows("window start", "window end", self.window))
            .chain(windows(
                "previous window start",
                "previous window end",
                self.previous_window,
            ));
        for (field, at) in dates {
            if !date_in_range(at) {
                return Err(Problem::DateOutOfRange {
                    field,
                    value: at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                });
            }
        }
        Ok(())
    }

    /// The event, with its id, category and default actionability.
    pub fn finish(self, ctx: &ParseContext) -> MaintenanceEvent {
        let occurred_at = self.occurred_at.unwrap_or(ctx.received_at);
        // An undated input that announces a window (an e-mail line) is identified by its window,
        // so that pasting the same line twice stores it once.
        let identity_time = self
            .occurred_at
            .or(self.window.map(|w| w.start))
            .unwrap_or(ctx.received_at);
        let id = match &self.identity {
            Some(identity) => EventId::from_identity(identity),
            None => EventId::derive_in(
                self.account_id.as_deref(),
                self.region.as_deref(),
                &self.source_id,
                &self.kind,
                self.node_id.as_ref(),
                identity_time,
            ),
        };
        let category = self.kind.category();
        // A canary is kept like a drill: out of normal searches, reports and pages.
        let drill =
            ctx.drill || crate::alerting::canary::is_canary_name(self.event_name.as_deref());
        MaintenanceEvent {
            id,
            event_name: self.event_name,
            actionable: category.has_lifecycle(),
            category,
            kind: self.kind,
            source_type: self.source_type,
            source_id: self.source_id,
            cluster_id: self.cluster_id,
            node_id: self.node_id,
            replication_group_id: self.replication_group_id,
            occurred_at,
            window: self.window,
            previous_window: self.previous_window,
            message: self.message,
            region: self.region,
            account_id: self.account_id,
            failover: self.failover,
            origin: if ctx.drill {
                Origin::Drill
            } else {
                self.origin
            },
            received_at: ctx.received_at,
            attributes: self.attributes,
            drill,
            maintenance_id: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> ParseContext {
        ParseContext::received_at(
            DateTime::parse_from_rfc3339("2026-06-11T00:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
        )
    }

    fn line(i: usize) -> String {
        format!(
            r#"{{"SourceIdentifier":"c-{:03}","SourceType":"cache-cluster","Date":"2026-06-10T00:{:02}:{:02}Z","Message":"Cache node 0001 restarted"}}"#,
            i % 1000,
            (i / 60) % 60,
            i % 60
        )
    }

    #[test]
    fn a_large_input_read_on_every_core_keeps_input_order() {
        let lines: Vec<String> = (0..6_007).map(line).collect();
        assert!(lines.iter().map(String::len).sum::<usize>() > PARALLEL_BYTES);
        let events = parse_document(&lines.join("\n"), &ctx()).unwrap();
        assert_eq!(events.len(), lines.len());
        for (i, e) in events.iter().enumerate() {
            assert_eq!(
                e.source_id.as_str(),
                format!("c-{:03}", i % 1000),
                "event {i}"
            );
        }
    }

    fn out_of_range(input: &str) -> ParseError {
        let err = parse_document(input, &ctx()).unwrap_err();
        assert!(
            matches!(err.problem, Problem::DateOutOfRange { .. }),
            "{err}"
        );
        err
    }

    #[test]
    fn a_date_past_the_year_9999_is_refused_with_its_record() {
        // Epoch milliseconds of the year 11476: microseconds or a typo, never an event.
        let err = out_of_range(
            r#"{"Events":[
              {"SourceIdentifier":"kiwi-001","SourceType":"cache-cluster","Date":"2026-06-10T00:00:00Z","Message":"Cache node 0001 restarted"},
              {"SourceIdentifier":"kiwi-001","SourceType":"cache-cluster","Date":300000000000000,"Message":"Cache node 0001 restarted"}
            ]}"#,
        );
        assert_eq!(err.location.record, Some(2), "{err}");
        assert!(err.to_string().contains("`Date`"), "{err}");
        assert!(err.to_string().contains("1970 to 9999"), "{err}");
    }

    #[test]
    fn a_date_before_1970_is_refused() {
        let err = out_of_range(
            r#"{"SourceIdentifier":"kiwi-001","SourceType":"cache-cluster","Date":"1969-07-20T20:17:40Z","Message":"Cache cluster created"}"#,
        );
        assert!(err.to_string().contains("1969-07-20T20:17:40Z"), "{err}");
    }

    #[test]
    fn a_year_less_window_rolled_past_9999_is_refused() {
        let err = out_of_range(
            "{\"SourceIdentifier\":\"kiwi-001\",\"SourceType\":\"cache-cluster\",\"Date\":\"9999-12-31T12:00:00Z\",\"Message\":\"The node with Cache Cluster ID: kiwi-001, Node ID: 0001 is scheduled for replacement during the maintenance window from Start Time: Jan 02 03:00 UTC, End Time: Jan 02 04:00 UTC\"}\n",
        );
        assert!(err.to_string().contains("window start"), "{err}");
    }

    #[test]
    fn the_first_and_last_keepable_dates_are_kept() {
        for date in ["1970-01-01T00:00:00Z", "9999-12-31T23:59:59Z"] {
            let input = format!(
                r#"{{"SourceIdentifier":"kiwi-001","SourceType":"cache-cluster","Date":"{date}","Message":"Cache cluster created"}}"#
            );
            let events = parse_document(&input, &ctx()).unwrap();
            assert_eq!(
                crate::model::event::rfc3339::format(&events[0].occurred_at),
                date
            );
        }
    }

    #[test]
    fn a_large_input_reports_its_first_bad_line_whichever_thread_read_it() {
        let mut lines: Vec<String> = (0..6_000).map(line).collect();
        let (first, later) = (3_500, 5_995);
        lines[later] = "{not json".into();
        lines[first] = r#"{"SourceIdentifier":"x","Date":"soon","Message":"m"}"#.into();
        let err = parse_document(&lines.join("\n"), &ctx()).unwrap_err();
        assert_eq!(err.location.line, Some(first + 1), "{err}");
    }
}
