//! Measured unavailability: what a Redis availability probe saw, and the arithmetic that turns its
//! ticks into gaps.
//!
//! A probe writes and reads a key on every tick and polls the node's replication role. This module
//! owns what those observations mean; the adapter does the talking. [`ProbeRecorder`] is fed the
//! ticks and role samples as they happen (it answers a live [`ProbeStatus`] and the transitions
//! worth printing) and ends in a [`ProbeSummary`], which is what `cachewatch probe --json` prints
//! and what a rehearsed failover stores.
//!
//! # What a gap is
//!
//! A gap runs from the start of the **last successful tick before** the failures to the start of
//! the **first successful tick after** them. Every moment of the real outage lies inside it, and it
//! exceeds the outage by at most one interval (plus one tick's own time): it answers "how long could
//! the application have gone without one successful request", which is the number a team reports.
//! Failures from the very first tick start the gap at the probe's start; failures still going on
//! when the probe ends close the gap at the probe's end, marked as not recovered.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::model::timefmt::Zone;

/// Why a tick failed, in the kinds an operator tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Nothing listens on the port: the node is down or restarting.
    ConnectionRefused,
    /// An open connection was closed or reset by the other side.
    ConnectionLost,
    /// No answer within the tick's timeout (connecting or waiting for a reply).
    Timeout,
    /// The host name did not resolve (an endpoint's DNS record changing hands).
    Dns,
    /// The TLS handshake failed.
    Tls,
    /// `READONLY`: the node is a replica now (a failover moved the primary elsewhere).
    Readonly,
    /// `LOADING`: the node is loading its data set after a restart.
    Loading,
    /// `MASTERDOWN`: a replica that has lost its primary and serves no stale data.
    MasterDown,
    /// `MOVED` / `ASK`: the key belongs to another shard (point the probe at a shard's node).
    Moved,
    /// Authentication was refused (`NOAUTH`, `WRONGPASS`, a bad password).
    Auth,
    /// `GET` did not return the value just written.
    WrongValue,
    /// The reply could not be read as RESP.
    Protocol,
    /// Any other error reply from the server.
    ErrorReply,
    /// Any other I/O error.
    Other,
}

impl ErrorKind {
    /// Every kind, in order.
    pub const ALL: [ErrorKind; 14] = [
        ErrorKind::ConnectionRefused,
        ErrorKind::ConnectionLost,
        ErrorKind::Timeout,
        ErrorKind::Dns,
        ErrorKind::Tls,
        ErrorKind::Readonly,
        ErrorKind::Loading,
        ErrorKind::MasterDown,
        ErrorKind::Moved,
        ErrorKind::Auth,
        ErrorKind::WrongValue,
        ErrorKind::Protocol,
        ErrorKind::ErrorReply,
        ErrorKind::Other,
    ];

    /// The kind's name as written in the JSON summary (`connection_refused`, `readonly`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::ConnectionRefused => "connection_refused",
            ErrorKind::ConnectionLost => "connection_lost",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Dns => "dns",
            ErrorKind::Tls => "tls",
            ErrorKind::Readonly => "readonly",
            ErrorKind::Loading => "loading",
            ErrorKind::MasterDown => "master_down",
            ErrorKind::Moved => "moved",
            ErrorKind::Auth => "auth",
            ErrorKind::WrongValue => "wrong_value",
            ErrorKind::Protocol => "protocol",
            ErrorKind::ErrorReply => "error_reply",
            ErrorKind::Other => "other",
        }
    }

    /// The kind of an error reply (`-READONLY You can't write against a read only replica.`),
    /// from its first word as Redis and Valkey write it.
    pub fn of_error_reply(message: &str) -> ErrorKind {
        let word = message.split_whitespace().next().unwrap_or("");
        match word {
            "READONLY" => ErrorKind::Readonly,
            "LOADING" => ErrorKind::Loading,
            "MASTERDOWN" => ErrorKind::MasterDown,
            "MOVED" | "ASK" | "TRYAGAIN" | "CLUSTERDOWN" => ErrorKind::Moved,
            "NOAUTH" | "WRONGPASS" | "NOPERM" => ErrorKind::Auth,
            _ if message.contains("invalid password")
                || message.contains("invalid username-password")
                || message.contains("AUTH <password> called without any password") =>
            {
                ErrorKind::Auth
            }
            _ => ErrorKind::ErrorReply,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A node's replication role, from `INFO replication`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Role {
    /// `role:master`: the node takes writes.
    Master,
    /// `role:slave`: the node replicates from `master` (`host:port`, when the section says).
    Replica {
        /// The primary it replicates from.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        master: Option<String>,
    },
}

impl Role {
    /// The role an `INFO replication` reply describes, or `None` if it names none.
    pub fn from_info(info: &str) -> Option<Role> {
        let field = |name: &str| {
            info.lines().find_map(|line| {
                let (key, value) = line.trim_end_matches('\r').split_once(':')?;
                (key == name).then(|| value.trim().to_owned())
            })
        };
        match field("role")?.as_str() {
            "master" => Some(Role::Master),
            "slave" | "replica" => {
                let master = match (field("master_host"), field("master_port")) {
                    (Some(host), Some(port)) => Some(format!("{host}:{port}")),
                    (Some(host), None) => Some(host),
                    _ => None,
                };
                Some(Role::Replica { master })
            }
            _ => None,
        }
    }

    /// `master` or `replica`.
    pub fn name(&self) -> &'static str {
        match self {
            Role::Master => "master",
            Role::Replica { .. } => "replica",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Role::Master => f.write_str("master"),
            Role::Replica { master: Some(m) } => write!(f, "replica of {m}"),
            Role::Replica { master: None } => f.write_str("replica"),
        }
    }
}

/// A span without a successful tick. See the module documentation for where it starts and ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    /// The start of the last successful tick before the failures (or of the probe).
    #[serde(with = "millis_rfc3339")]
    pub start: DateTime<Utc>,
    /// The start of the first successful tick after them (or the end of the probe).
    #[serde(with = "millis_rfc3339")]
    pub end: DateTime<Utc>,
    /// `end - start` in milliseconds.
    pub ms: u64,
    /// How many ticks failed inside it.
    pub failed_ticks: u64,
    /// The kind of the first failure.
    pub first_error: ErrorKind,
    /// False when the probe ended before a tick succeeded again.
    pub recovered: bool,
}

/// The node changed role, or a replica changed primary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleChange {
    /// When the new role was first seen.
    #[serde(with = "millis_rfc3339")]
    pub at: DateTime<Utc>,
    /// `master` or `replica`, before.
    pub from: String,
    /// `master` or `replica`, after.
    pub to: String,
    /// The primary it replicated from before, when it was a replica.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_master: Option<String>,
    /// The primary it replicates from after, when it is a replica.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_master: Option<String>,
}

impl RoleChange {
    fn between(at: DateTime<Utc>, from: &Role, to: &Role) -> RoleChange {
        let master = |role: &Role| match role {
            Role::Master => None,
            Role::Replica { master } => master.clone(),
        };
        RoleChange {
            at,
            from: from.name().to_owned(),
            to: to.name().to_owned(),
            from_master: master(from),
            to_master: master(to),
        }
    }
}

impl fmt::Display for RoleChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = |name: &str, master: &Option<String>| match master {
            Some(m) => format!("{name} of {m}"),
            None => name.to_owned(),
        };
        write!(
            f,
            "{} -> {}",
            side(&self.from, &self.from_master),
            side(&self.to, &self.to_master)
        )
    }
}

/// Everything one probe run measured: what `cachewatch probe --json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeSummary {
    /// What was probed, without credentials (`redis://127.0.0.1:6379/0`).
    pub target: String,
    /// When the first tick started.
    #[serde(with = "millis_rfc3339")]
    pub started: DateTime<Utc>,
    /// When the probe stopped.
    #[serde(with = "millis_rfc3339")]
    pub ended: DateTime<Utc>,
    /// The time between tick starts, in milliseconds.
    pub interval_ms: u64,
    /// Ticks run.
    pub ticks: u64,
    /// Ticks that wrote and read back the probe key.
    pub ok: u64,
    /// Ticks that failed.
    pub failed: u64,
    /// The longest gap, in milliseconds (0 when there was none).
    pub longest_gap_ms: u64,
    /// Every gap, in order.
    pub gaps: Vec<Gap>,
    /// Failed ticks by kind.
    pub errors: BTreeMap<ErrorKind, u64>,
    /// The first message seen of each kind, as the server or the system wrote it.
    pub error_messages: BTreeMap<ErrorKind, String>,
    /// `DBSIZE` before the first tick (`None` when it could not be read).
    pub keys_before: Option<u64>,
    /// `DBSIZE` after the last tick, the probe key removed (`None` when it could not be read).
    pub keys_after: Option<u64>,
    /// The role first seen (`None` when `INFO replication` could not be read).
    pub initial_role: Option<Role>,
    /// Role changes, in order.
    pub role_changes: Vec<RoleChange>,
}

impl ProbeSummary {
    /// The longest gap, if any.
    pub fn longest_gap(&self) -> Option<&Gap> {
        self.gaps
            .iter()
            .max_by(|a, b| a.ms.cmp(&b.ms).then(b.start.cmp(&a.start)))
    }
}

/// Where a probe stands, for a live status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeStatus {
    /// The latest tick's start.
    pub at: DateTime<Utc>,
    /// Ticks so far.
    pub ticks: u64,
    /// Successful ticks so far.
    pub ok: u64,
    /// Failed ticks so far.
    pub failed: u64,
    /// The start of the gap the probe is in, when the latest tick failed.
    pub down_since: Option<DateTime<Utc>>,
    /// The kind of the latest failure, when the latest tick failed.
    pub last_error: Option<ErrorKind>,
    /// The longest finished gap so far, in milliseconds.
    pub longest_gap_ms: u64,
    /// The latest role seen.
    pub role: Option<Role>,
}

/// Something worth a line of its own as it happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// Ticks began failing (the gap started at `since`).
    Down {
        /// The start of the gap.
        since: DateTime<Utc>,
        /// The first failure's kind.
        kind: ErrorKind,
    },
    /// A tick succeeded again, closing this gap.
    Up(Gap),
    /// The role changed.
    Role(RoleChange),
}

/// The gap being measured.
#[derive(Debug, Clone)]
struct OpenGap {
    start: DateTime<Utc>,
    failed_ticks: u64,
    first_error: ErrorKind,
}

/// Folds ticks and role samples, as they happen, into gaps, counts and role changes.
#[derive(Debug, Clone)]
pub struct ProbeRecorder {
    target: String,
    started: DateTime<Utc>,
    interval: Duration,
    ticks: u64,
    ok: u64,
    last_tick: Option<DateTime<Utc>>,
    last_ok: Option<DateTime<Utc>>,
    last_error: Option<ErrorKind>,
    open: Option<OpenGap>,
    gaps: Vec<Gap>,
    errors: BTreeMap<ErrorKind, u64>,
    error_messages: BTreeMap<ErrorKind, String>,
    initial_role: Option<Role>,
    role: Option<Role>,
    role_changes: Vec<RoleChange>,
}

impl ProbeRecorder {
    /// A recorder for a probe of `target` (written without credentials) started at `started`,
    /// ticking every `interval`.
    pub fn new(target: impl Into<String>, started: DateTime<Utc>, interval: Duration) -> Self {
        ProbeRecorder {
            target: target.into(),
            started,
            interval,
            ticks: 0,
            ok: 0,
            last_tick: None,
            last_ok: None,
            last_error: None,
            open: None,
            gaps: Vec::new(),
            errors: BTreeMap::new(),
            error_messages: BTreeMap::new(),
            initial_role: None,
            role: None,
            role_changes: Vec::new(),
        }
    }

    /// Records a tick that started at `at`: `Ok(())`, or its failure's kind and message. Ticks come
    /// in the order they started.
    pub fn tick(
        &mut self,
        at: DateTime<Utc>,
        outcome: Result<(), (ErrorKind, String)>,
    ) -> Option<Transition> {
        self.ticks += 1;
        self.last_tick = Some(at);
        match outcome {
            Ok(()) => {
                self.ok += 1;
                self.last_ok = Some(at);
                self.last_error = None;
                let open = self.open.take()?;
                let gap = close(open, at, true);
                self.gaps.push(gap.clone());
                Some(Transition::Up(gap))
            }
            Err((kind, message)) => {
                *self.errors.entry(kind).or_default() += 1;
                self.error_messages.entry(kind).or_insert(message);
                self.last_error = Some(kind);
                match &mut self.open {
                    Some(open) => {
                        open.failed_ticks += 1;
                        None
                    }
                    None => {
                        let since = self.last_ok.unwrap_or(self.started);
                        self.open = Some(OpenGap {
                            start: since,
                            failed_ticks: 1,
                            first_error: kind,
                        });
                        Some(Transition::Down { since, kind })
                    }
                }
            }
        }
    }

    /// Records the role seen at `at`; answers the change when it differs from the last one seen.
    pub fn role(&mut self, at: DateTime<Utc>, role: Role) -> Option<RoleChange> {
        if self.initial_role.is_none() {
            self.initial_role = Some(role.clone());
        }
        let change = match &self.role {
            Some(previous) if *previous != role => {
                let change = RoleChange::between(at, previous, &role);
                self.role_changes.push(change.clone());
                Some(change)
            }
            _ => None,
        };
        self.role = Some(role);
        change
    }

    /// Where the probe stands now.
    pub fn status(&self) -> ProbeStatus {
        ProbeStatus {
            at: self.last_tick.unwrap_or(self.started),
            ticks: self.ticks,
            ok: self.ok,
            failed: self.ticks - self.ok,
            down_since: self.open.as_ref().map(|open| open.start),
            last_error: self.last_error,
            longest_gap_ms: self.gaps.iter().map(|g| g.ms).max().unwrap_or(0),
            role: self.role.clone(),
        }
    }

    /// The summary of the run that ended at `ended`, with the key counts read around it. A gap
    /// still open is closed at `ended`, not recovered.
    pub fn finish(
        mut self,
        ended: DateTime<Utc>,
        keys_before: Option<u64>,
        keys_after: Option<u64>,
    ) -> ProbeSummary {
        if let Some(open) = self.open.take() {
            let end = ended.max(self.last_tick.unwrap_or(ended));
            self.gaps.push(close(open, end, false));
        }
        let longest_gap_ms = self.gaps.iter().map(|g| g.ms).max().unwrap_or(0);
        ProbeSummary {
            target: self.target,
            started: self.started,
            ended,
            interval_ms: millis(self.interval),
            ticks: self.ticks,
            ok: self.ok,
            failed: self.ticks - self.ok,
            longest_gap_ms,
            gaps: self.gaps,
            errors: self.errors,
            error_messages: self.error_messages,
            keys_before,
            keys_after,
            initial_role: self.initial_role,
            role_changes: self.role_changes,
        }
    }
}

fn close(open: OpenGap, end: DateTime<Utc>, recovered: bool) -> Gap {
    Gap {
        start: open.start,
        end,
        ms: millis(end - open.start),
        failed_ticks: open.failed_ticks,
        first_error: open.first_error,
        recovered,
    }
}

/// A duration in whole milliseconds, 0 when negative.
fn millis(d: Duration) -> u64 {
    u64::try_from(d.num_milliseconds()).unwrap_or(0)
}

/// `1.25 s`, `850 ms`, `2 min 5.0 s`: a measured span as a person reads it.
pub fn format_ms(ms: u64) -> String {
    if ms < 1_000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.2} s", ms as f64 / 1_000.0)
    } else {
        let minutes = ms / 60_000;
        let rest = (ms % 60_000) as f64 / 1_000.0;
        format!("{minutes} min {rest:.1} s")
    }
}

/// Reads a probe interval or duration: `100ms`, `2s`, `5m`, `1h`, or a combination like `1m30s`.
pub fn parse_span(raw: &str) -> Option<std::time::Duration> {
    humantime::parse_duration(raw.trim()).ok()
}

/// The summary as a person reads it at the end of a probe: the longest unavailability first,
/// then each gap, the errors by kind, the key counts and the role changes, times in `zone`.
pub fn render_summary(summary: &ProbeSummary, zone: &Zone) -> String {
    let time = |at: DateTime<Utc>| zone.format_with(at, "%H:%M:%S%.3f");
    let mut lines = vec![
        format!(
            "Probe of {} from {} for {} (every {})",
            summary.target,
            zone.format_with(summary.started, "%Y-%m-%d %H:%M:%S%.3f"),
            format_ms(millis(summary.ended - summary.started)),
            format_ms(summary.interval_ms),
        ),
        format!(
            "Ticks: {} ({} ok, {} failed)",
            summary.ticks, summary.ok, summary.failed
        ),
    ];
    lines.extend(gap_lines(summary, &time));
    lines.extend(error_lines(summary));
    lines.push(keys_line(summary));
    lines.extend(role_lines(summary, &time));
    lines.into_iter().map(|l| l + "\n").collect()
}

/// The longest unavailability, then each gap.
fn gap_lines(summary: &ProbeSummary, time: &dyn Fn(DateTime<Utc>) -> String) -> Vec<String> {
    let mut lines = vec![match summary.longest_gap() {
        None => "Longest unavailability: none (every tick succeeded)".to_owned(),
        Some(gap) => format!(
            "Longest unavailability: {} ({} to {}{})",
            format_ms(gap.ms),
            time(gap.start),
            time(gap.end),
            if gap.recovered { "" } else { ", not recovered" }
        ),
    }];
    if !summary.gaps.is_empty() {
        lines.push(format!("Gaps ({}):", summary.gaps.len()));
    }
    lines.extend(summary.gaps.iter().map(|gap| {
        format!(
            "  {} to {}  {:>10}  {} failed tick{}, first {}{}",
            time(gap.start),
            time(gap.end),
            format_ms(gap.ms),
            gap.failed_ticks,
            if gap.failed_ticks == 1 { "" } else { "s" },
            gap.first_error,
            if gap.recovered { "" } else { ", not recovered" }
        )
    }));
    lines
}

/// The errors by kind, each with an example message.
fn error_lines(summary: &ProbeSummary) -> Vec<String> {
    if summary.errors.is_empty() {
        return Vec::new();
    }
    let each = summary.errors.iter().map(|(kind, count)| {
        let message = summary
            .error_messages
            .get(kind)
            .map(|m| format!("  e.g. {}", printable(m)))
            .unwrap_or_default();
        format!("  {:<20} {count:>6}{message}", kind.name())
    });
    std::iter::once("Errors:".to_owned()).chain(each).collect()
}

/// The key counts before and after, and the difference.
fn keys_line(summary: &ProbeSummary) -> String {
    let count = |n: Option<u64>| n.map_or_else(|| "unknown".to_owned(), |n| n.to_string());
    let change = match (summary.keys_before, summary.keys_after) {
        (Some(before), Some(after)) if after < before => format!(", {} fewer", before - after),
        (Some(before), Some(after)) if after > before => format!(", {} more", after - before),
        _ => String::new(),
    };
    format!(
        "Keys (DBSIZE): {} before, {} after{change}",
        count(summary.keys_before),
        count(summary.keys_after)
    )
}

/// The role at the start, and each change.
fn role_lines(summary: &ProbeSummary, time: &dyn Fn(DateTime<Utc>) -> String) -> Vec<String> {
    match &summary.initial_role {
        None => vec!["Role: unknown (INFO replication could not be read)".to_owned()],
        Some(role) if summary.role_changes.is_empty() => {
            vec![format!("Role: {} throughout", printable(&role.to_string()))]
        }
        Some(role) => {
            let first = format!("Role: {} at the start, then:", printable(&role.to_string()));
            let changes = summary
                .role_changes
                .iter()
                .map(|change| format!("  {}  {}", time(change.at), printable(&change.to_string())));
            std::iter::once(first).chain(changes).collect()
        }
    }
}

/// The live status line: `09:00:01.200 UTC  ticks 12  ok 10  failed 2  longest gap 0 ms  role
/// master  DOWN for 300 ms (connection_refused)`.
pub fn status_line(status: &ProbeStatus, zone: &Zone) -> String {
    let mut line = format!(
        "{}  ticks {}  ok {}  failed {}  longest gap {}",
        zone.format_with(status.at, "%H:%M:%S%.3f"),
        status.ticks,
        status.ok,
        status.failed,
        format_ms(status.longest_gap_ms),
    );
    if let Some(role) = &status.role {
        line.push_str(&format!("  role {}", printable(&role.to_string())));
    }
    if let Some(since) = status.down_since {
        let kind = status.last_error.map_or("", ErrorKind::name);
        line.push_str(&format!(
            "  DOWN for {} ({kind})",
            format_ms(millis(status.at - since))
        ));
    }
    line
}

/// A transition as a line of its own: `09:00:01.200 UTC  down (connection_refused), last
/// success 09:00:01.100 UTC`, `... up again after 1.25 s`, `... role: replica -> master`.
pub fn transition_line(transition: &Transition, status: &ProbeStatus, zone: &Zone) -> String {
    let time = |at: DateTime<Utc>| zone.format_with(at, "%H:%M:%S%.3f");
    match transition {
        Transition::Down { since, kind } => format!(
            "{}  down ({kind}), last success {}",
            time(status.at),
            time(*since)
        ),
        Transition::Up(gap) => format!(
            "{}  up again after {} ({} failed tick{})",
            time(gap.end),
            format_ms(gap.ms),
            gap.failed_ticks,
            if gap.failed_ticks == 1 { "" } else { "s" }
        ),
        Transition::Role(change) => format!(
            "{}  role: {}",
            time(change.at),
            printable(&change.to_string())
        ),
    }
}

/// Text from a server, safe to print on a terminal: control characters become spaces.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// RFC 3339 UTC with milliseconds (`2026-11-22T07:04:55.125Z`): gaps are measured in them.
mod millis_rfc3339 {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&at.to_rfc3339_opts(SecondsFormat::Millis, true))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let raw = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&raw)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn ms(n: i64) -> DateTime<Utc> {
        t0() + Duration::milliseconds(n)
    }

    fn refused() -> Result<(), (ErrorKind, String)> {
        Err((ErrorKind::ConnectionRefused, "Connection refused".into()))
    }

    /// Ticks every 100 ms from t0: `.` succeeds, `x` is refused, `r` is READONLY.
    fn run(pattern: &str) -> ProbeRecorder {
        let mut recorder =
            ProbeRecorder::new("redis://h:6379/0", t0(), Duration::milliseconds(100));
        for (i, c) in pattern.chars().enumerate() {
            let outcome = match c {
                '.' => Ok(()),
                'x' => refused(),
                'r' => Err((ErrorKind::Readonly, "READONLY replica".into())),
                _ => unreachable!(),
            };
            recorder.tick(ms(i as i64 * 100), outcome);
        }
        recorder
    }

    #[test]
    fn a_gap_runs_from_the_last_success_to_the_next_success() {
        let summary = run("..xxx..").finish(ms(700), Some(10), Some(10));

        assert_eq!(summary.gaps.len(), 1);
        let gap = &summary.gaps[0];
        assert_eq!((gap.start, gap.end), (ms(100), ms(500)));
        assert_eq!(gap.ms, 400);
        assert_eq!(gap.failed_ticks, 3);
        assert!(gap.recovered);
        assert_eq!(summary.longest_gap_ms, 400);
        assert_eq!((summary.ticks, summary.ok, summary.failed), (7, 4, 3));
    }

    #[test]
    fn the_longest_of_several_gaps_is_reported_and_errors_are_counted_by_kind() {
        let summary = run(".x..rrr.x.").finish(ms(1000), None, None);

        let lengths: Vec<u64> = summary.gaps.iter().map(|g| g.ms).collect();
        assert_eq!(lengths, vec![200, 400, 200]);
        assert_eq!(summary.longest_gap_ms, 400);
        assert_eq!(
            summary.longest_gap().unwrap().first_error,
            ErrorKind::Readonly
        );
        assert_eq!(summary.errors[&ErrorKind::ConnectionRefused], 2);
        assert_eq!(summary.errors[&ErrorKind::Readonly], 3);
        assert_eq!(
            summary.error_messages[&ErrorKind::Readonly],
            "READONLY replica"
        );
    }

    #[test]
    fn failures_from_the_first_tick_start_the_gap_at_the_probe_start() {
        let summary = run("xx.").finish(ms(300), None, None);

        assert_eq!(summary.gaps[0].start, t0());
        assert_eq!(summary.gaps[0].ms, 200);
    }

    #[test]
    fn a_gap_still_open_at_the_end_closes_there_not_recovered() {
        let summary = run("..xx").finish(ms(450), None, None);

        let gap = &summary.gaps[0];
        assert_eq!((gap.start, gap.end, gap.ms), (ms(100), ms(450), 350));
        assert!(!gap.recovered);
    }

    #[test]
    fn no_failures_means_no_gap() {
        let summary = run(".....").finish(ms(500), Some(3), Some(3));

        assert!(summary.gaps.is_empty());
        assert_eq!(summary.longest_gap_ms, 0);
        assert!(summary.errors.is_empty());
    }

    #[test]
    fn transitions_say_when_ticks_start_failing_and_when_they_recover() {
        let mut recorder = ProbeRecorder::new("t", t0(), Duration::milliseconds(100));
        assert_eq!(recorder.tick(ms(0), Ok(())), None);
        assert_eq!(
            recorder.tick(ms(100), refused()),
            Some(Transition::Down {
                since: ms(0),
                kind: ErrorKind::ConnectionRefused
            })
        );
        assert_eq!(recorder.tick(ms(200), refused()), None);
        assert_eq!(recorder.status().down_since, Some(ms(0)));
        match recorder.tick(ms(300), Ok(())) {
            Some(Transition::Up(gap)) => assert_eq!(gap.ms, 300),
            other => panic!("expected the gap to close, got {other:?}"),
        }
        assert_eq!(recorder.status().down_since, None);
        assert_eq!(recorder.status().longest_gap_ms, 300);
    }

    #[test]
    fn a_promotion_is_a_role_change_and_the_same_role_again_is_not() {
        let mut recorder = ProbeRecorder::new("t", t0(), Duration::milliseconds(100));
        let replica = Role::Replica {
            master: Some("10.0.0.5:6379".into()),
        };
        assert_eq!(recorder.role(ms(0), replica.clone()), None);
        assert_eq!(recorder.role(ms(1000), replica), None);
        let change = recorder.role(ms(2000), Role::Master).expect("a change");

        assert_eq!(
            (change.from.as_str(), change.to.as_str()),
            ("replica", "master")
        );
        assert_eq!(change.from_master.as_deref(), Some("10.0.0.5:6379"));
        assert_eq!(change.to_string(), "replica of 10.0.0.5:6379 -> master");
        let summary = recorder.finish(ms(2000), None, None);
        assert_eq!(summary.role_changes, vec![change]);
        assert_eq!(
            summary.initial_role,
            Some(Role::Replica {
                master: Some("10.0.0.5:6379".into())
            })
        );
    }

    #[test]
    fn a_replica_following_a_new_primary_is_a_role_change() {
        let mut recorder = ProbeRecorder::new("t", t0(), Duration::milliseconds(100));
        recorder.role(
            ms(0),
            Role::Replica {
                master: Some("a:1".into()),
            },
        );
        let change = recorder
            .role(
                ms(10),
                Role::Replica {
                    master: Some("b:1".into()),
                },
            )
            .expect("a change");

        assert_eq!(change.to_string(), "replica of a:1 -> replica of b:1");
    }

    #[test]
    fn info_replication_gives_the_role_and_the_primary() {
        let replica = "# Replication\r\nrole:slave\r\nmaster_host:10.0.0.5\r\nmaster_port:6379\r\nmaster_link_status:up\r\n";
        assert_eq!(
            Role::from_info(replica),
            Some(Role::Replica {
                master: Some("10.0.0.5:6379".into())
            })
        );
        assert_eq!(
            Role::from_info("# Replication\r\nrole:master\r\nconnected_slaves:1\r\n"),
            Some(Role::Master)
        );
        assert_eq!(Role::from_info("# Server\r\nredis_version:7.0\r\n"), None);
    }

    #[test]
    fn error_replies_are_told_apart_by_their_first_word() {
        let cases = [
            (
                "READONLY You can't write against a read only replica.",
                ErrorKind::Readonly,
            ),
            (
                "LOADING Redis is loading the dataset in memory",
                ErrorKind::Loading,
            ),
            ("MASTERDOWN Link with MASTER is down", ErrorKind::MasterDown),
            ("MOVED 3999 127.0.0.1:6381", ErrorKind::Moved),
            ("NOAUTH Authentication required.", ErrorKind::Auth),
            ("WRONGPASS invalid username-password pair", ErrorKind::Auth),
            ("ERR invalid password", ErrorKind::Auth),
            ("ERR unknown command 'FOO'", ErrorKind::ErrorReply),
        ];
        for (message, kind) in cases {
            assert_eq!(ErrorKind::of_error_reply(message), kind, "{message}");
        }
    }

    #[test]
    fn the_json_summary_names_error_kinds_and_times_in_milliseconds() {
        let summary = run(".x.").finish(ms(300), Some(5), Some(4));
        let json = serde_json::to_value(&summary).unwrap();

        assert_eq!(json["longest_gap_ms"], 200);
        assert_eq!(json["errors"]["connection_refused"], 1);
        assert_eq!(json["gaps"][0]["start"], "2026-11-22T09:00:00.000Z");
        assert_eq!(json["gaps"][0]["end"], "2026-11-22T09:00:00.200Z");
        assert_eq!(json["keys_before"], 5);
        assert_eq!(json["keys_after"], 4);
        let back: ProbeSummary = serde_json::from_value(json).unwrap();
        assert_eq!(back, summary);
    }

    #[test]
    fn every_kind_has_the_name_serde_gives_it() {
        for kind in ErrorKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.name());
        }
    }

    #[test]
    fn spans_read_milliseconds_and_the_usual_units() {
        use std::time::Duration as Std;
        assert_eq!(parse_span("100ms"), Some(Std::from_millis(100)));
        assert_eq!(parse_span("2s"), Some(Std::from_secs(2)));
        assert_eq!(parse_span("5m"), Some(Std::from_secs(300)));
        assert_eq!(parse_span("1m30s"), Some(Std::from_secs(90)));
        assert_eq!(parse_span("fast"), None);
        assert_eq!(parse_span("-1s"), None);
    }

    #[test]
    fn the_text_summary_leads_with_the_longest_unavailability() {
        let mut recorder =
            ProbeRecorder::new("redis://h:6379/0", t0(), Duration::milliseconds(100));
        recorder.role(
            ms(0),
            Role::Replica {
                master: Some("a:1".into()),
            },
        );
        for (i, c) in "..xxx..".chars().enumerate() {
            let outcome = if c == '.' {
                Ok(())
            } else {
                Err((ErrorKind::Loading, "LOADING\x1b[31m".into()))
            };
            recorder.tick(ms(i as i64 * 100), outcome);
        }
        recorder.role(ms(600), Role::Master);
        let text = render_summary(&recorder.finish(ms(700), Some(100), Some(0)), &Zone::Utc);

        assert!(
            text.contains("Longest unavailability: 400 ms (09:00:00.100 UTC to 09:00:00.500 UTC)"),
            "{text}"
        );
        assert!(text.contains("loading"), "{text}");
        assert!(
            !text.contains('\x1b'),
            "control characters are not printed: {text}"
        );
        assert!(
            text.contains("Keys (DBSIZE): 100 before, 0 after, 100 fewer"),
            "{text}"
        );
        assert!(
            text.contains("09:00:00.600 UTC  replica of a:1 -> master"),
            "{text}"
        );
    }

    #[test]
    fn the_live_lines_say_when_it_went_down_and_for_how_long() {
        let mut recorder = ProbeRecorder::new("t", t0(), Duration::milliseconds(100));
        recorder.tick(ms(0), Ok(()));
        recorder.role(ms(0), Role::Master);
        let down = recorder.tick(ms(100), refused()).unwrap();
        assert_eq!(
            transition_line(&down, &recorder.status(), &Zone::Utc),
            "09:00:00.100 UTC  down (connection_refused), last success 09:00:00.000 UTC"
        );
        recorder.tick(ms(200), refused());
        let status = recorder.status();
        assert_eq!(
            status_line(&status, &Zone::Utc),
            "09:00:00.200 UTC  ticks 3  ok 1  failed 2  longest gap 0 ms  role master  DOWN for 200 ms (connection_refused)"
        );
        let up = recorder.tick(ms(300), Ok(())).unwrap();
        assert_eq!(
            transition_line(&up, &recorder.status(), &Zone::Utc),
            "09:00:00.300 UTC  up again after 300 ms (2 failed ticks)"
        );
    }

    #[test]
    fn spans_are_written_for_people() {
        assert_eq!(format_ms(850), "850 ms");
        assert_eq!(format_ms(1250), "1.25 s");
        assert_eq!(format_ms(125_000), "2 min 5.0 s");
    }
}
