//! What people ask of the history, in one form for the CLI, the HTTP API and Slack commands.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::intake::parse::time::parse_timestamp;
use crate::model::event::MaintenanceEvent;
use crate::model::ids::ClusterId;
use crate::model::kind::{Category, EventKind};

/// The default number of events a search returns.
pub const DEFAULT_LIMIT: usize = 50;
/// The most events a search returns.
pub const MAX_LIMIT: usize = 10_000;

/// A search of the event history. Every filter is optional; results are newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventQuery {
    /// A cluster id, or a replication group (or other source) id, which also matches the events
    /// of the group's member clusters.
    pub cluster: Option<String>,
    /// A node id, exactly as written.
    pub node: Option<String>,
    /// An event kind.
    pub kind: Option<EventKind>,
    /// A category.
    pub category: Option<Category>,
    /// Events at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Events before this time.
    pub until: Option<DateTime<Utc>>,
    /// Words that must all appear, as whole words, in the message or the identifiers.
    pub text: Option<String>,
    /// The AWS account the events come from (12 digits).
    pub account: Option<String>,
    /// The AWS Region the events come from (`eu-west-1`).
    pub region: Option<String>,
    /// The most events to return.
    pub limit: usize,
    /// Include drill events (left out unless asked for).
    pub include_drills: bool,
    /// Only events people must act on.
    pub actionable_only: bool,
}

impl Default for EventQuery {
    fn default() -> Self {
        Self {
            cluster: None,
            node: None,
            kind: None,
            category: None,
            since: None,
            until: None,
            text: None,
            account: None,
            region: None,
            limit: DEFAULT_LIMIT,
            include_drills: false,
            actionable_only: false,
        }
    }
}

impl EventQuery {
    /// The group a `--cluster` value searches in: the group a member cluster's name points at
    /// (`orders` for `orders-0001-002`), else the value itself.
    pub fn cluster_search_group(cluster: &str) -> String {
        ClusterId::parse(cluster)
            .ok()
            .and_then(|c| c.group_guess().map(str::to_owned))
            .unwrap_or_else(|| cluster.to_owned())
    }

    /// Whether `e` is about `cluster`: a member cluster's own events, or every event of a
    /// replication group (or other source) named. Stores index [`MaintenanceEvent::cluster_group`],
    /// so the test is: the event is in the value's group, and is the cluster or the group itself.
    pub fn matches_cluster(e: &MaintenanceEvent, cluster: &str) -> bool {
        e.cluster_group() == Self::cluster_search_group(cluster)
            && (e.cluster_id.as_ref().is_some_and(|c| c.as_str() == cluster)
                || e.cluster_group() == cluster)
    }

    /// The words of the text filter: letters and digits only, so that no search syntax reaches the
    /// store from a person's input.
    pub fn words(&self) -> Vec<String> {
        self.text
            .as_deref()
            .unwrap_or_default()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .take(16)
            .map(str::to_lowercase)
            .collect()
    }
}

/// Why a time filter does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a date: use 2026-06-01, 2026-06-01T09:00:00Z, or a duration ago like 7d or 12h"
)]
pub struct BadWhen(pub String);

/// Reads a time filter: a date (midnight UTC), an RFC 3339 time, or a duration ago (`30m`, `12h`,
/// `7d`, `2w`).
pub fn parse_when(raw: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, BadWhen> {
    let raw = raw.trim();
    let bad = || BadWhen(raw.to_owned());
    if let Ok(date) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return date
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc())
            .ok_or_else(bad);
    }
    if let Some(t) = parse_timestamp(raw).filter(|_| raw.contains('-')) {
        return Ok(t);
    }
    let ago = parse_duration(raw).ok_or_else(bad)?;
    now.checked_sub_signed(ago).ok_or_else(bad)
}

/// Reads a duration: `90s`, `30m`, `12h`, `7d`, `2w`, or a combination like `1h30m` or `2h 15m`
/// (humantime's units, which also spell them out: `7days`, `90 min`).
pub fn parse_duration(raw: &str) -> Option<Duration> {
    let span = humantime::parse_duration(raw.trim()).ok()?;
    Duration::from_std(span).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn time_filters_read_dates_times_and_durations_ago() {
        let now = at("2026-11-22T12:00:00Z");
        let cases = [
            ("2026-06-01", "2026-06-01T00:00:00Z"),
            ("2026-06-01T09:00:00Z", "2026-06-01T09:00:00Z"),
            ("2026-06-01T09:00:00+09:00", "2026-06-01T00:00:00Z"),
            ("7d", "2026-11-15T12:00:00Z"),
            ("12h", "2026-11-22T00:00:00Z"),
            ("1h30m", "2026-11-22T10:30:00Z"),
            ("1h 30min", "2026-11-22T10:30:00Z"),
            ("2w", "2026-11-08T12:00:00Z"),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_when(raw, now), Ok(at(want)), "{raw}");
        }
        for raw in ["yesterday", "7", "7x", "", "2026-13-01", "99999999999999d"] {
            assert!(parse_when(raw, now).is_err(), "{raw}");
        }
    }

    #[test]
    fn search_words_carry_no_syntax() {
        let q = EventQuery {
            text: Some(r#"replacement" OR "x* NEAR(a b) -c"#.into()),
            ..EventQuery::default()
        };
        assert_eq!(q.words(), ["replacement", "or", "x", "near", "a", "b", "c"]);
    }
}
