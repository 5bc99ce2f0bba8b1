//! What a template sees: the event, the maintenance, the facts and the risks, plus what follows
//! from them for the commands (which replication group, which failover, which endpoint, which
//! time range), each worked out once here so every template uses the same answer.
//!
//! Values are handed to the template as data, never spliced into its source: an event's text
//! can never become template code. Shell fragments under `sh` are built here, already quoted
//! (see [`escape::shell_word`]); everything else a template prints is escaped for Markdown
//! unless the template asks for a code span (`| code`), a shell word (`| shell`) or a fenced
//! block (`| fence`).

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, Utc};
use minijinja::Value;
use serde::Serialize;

use super::escape;
use super::{Owners, RunbookInput};
use crate::cluster::facts::{self, ClusterFacts, Engine, NodeRole};
use crate::cluster::impact;
use crate::lifecycle::{Maintenance, MaintenanceState};
use crate::model::event::{MaintenanceEvent, Window};
use crate::model::kind::EventKind;

/// The port ElastiCache gives Redis OSS and Valkey clusters unless told otherwise.
pub const REDIS_DEFAULT_PORT: u16 = 6379;
/// The port ElastiCache gives Memcached clusters unless told otherwise.
pub const MEMCACHED_DEFAULT_PORT: u16 = 11211;
/// CloudWatch answers at most this many data points per request.
const MAX_DATAPOINTS: i64 = 1440;

/// How a primary can be failed over by hand, given what is known about its replication group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailoverMethod {
    /// `aws elasticache test-failover`: automatic failover is on (always, with cluster mode
    /// enabled). ElastiCache picks the replica.
    TestFailover,
    /// `aws elasticache modify-replication-group --primary-cluster-id`: cluster mode disabled
    /// and automatic failover off (AWS refuses the promotion while Multi-AZ with automatic
    /// failover is on).
    Promote,
    /// The primary has no replica: there is nothing to fail over to.
    NoReplica,
    /// The node is a replica: nothing to fail over.
    NotNeeded,
    /// Memcached has no replicas and no failover.
    NotApplicable,
    /// Not known yet: the runbook shows both ways and how to tell which applies.
    Unknown,
}

impl FailoverMethod {
    /// The method's name as templates see it.
    pub fn as_str(self) -> &'static str {
        match self {
            FailoverMethod::TestFailover => "test_failover",
            FailoverMethod::Promote => "promote",
            FailoverMethod::NoReplica => "no_replica",
            FailoverMethod::NotNeeded => "not_needed",
            FailoverMethod::NotApplicable => "not_applicable",
            FailoverMethod::Unknown => "unknown",
        }
    }
}

/// How the node of `facts` can be failed over by hand. A node whose role is not known is
/// treated as a primary: the runbook then says how to find out.
pub fn failover_method(facts: &ClusterFacts) -> FailoverMethod {
    if facts.engine == Some(Engine::Memcached) {
        return FailoverMethod::NotApplicable;
    }
    if facts.node_role == Some(NodeRole::Replica) {
        return FailoverMethod::NotNeeded;
    }
    if facts.replicas_per_shard == Some(0) {
        return FailoverMethod::NoReplica;
    }
    match (facts.cluster_mode_enabled, facts.automatic_failover) {
        (Some(true), _) | (_, Some(true)) => FailoverMethod::TestFailover,
        (_, Some(false)) => FailoverMethod::Promote,
        (_, None) => FailoverMethod::Unknown,
    }
}

/// The engine the event's node id shows when the facts do not name one: a node numbered
/// `0002` or higher is Memcached's (see [`impact::engine_from_node_id`]).
pub fn inferred_engine(input: &RunbookInput<'_>) -> Option<Engine> {
    if input.facts.engine.is_some() {
        return None;
    }
    let node = input
        .event
        .node_id
        .as_ref()
        .map(ToString::to_string)
        .or_else(|| {
            input
                .maintenance
                .and_then(|m| m.node_id.as_ref().map(ToString::to_string))
        })?;
    impact::engine_from_node_id(&node)
}

/// The effective state of the input: the maintenance's as of `now`, else what the event's kind
/// says; `None` for an event outside any lifecycle.
pub fn state_of(input: &RunbookInput<'_>) -> Option<MaintenanceState> {
    if let Some(m) = input.maintenance {
        return Some(m.status(input.now));
    }
    let e = input.event;
    let passed = e.window.is_some_and(|w| w.end < input.now);
    match e.kind.as_str() {
        EventKind::NODE_REPLACEMENT_SCHEDULED if passed => Some(MaintenanceState::WindowPassed),
        EventKind::NODE_REPLACEMENT_SCHEDULED => Some(MaintenanceState::Scheduled),
        EventKind::NODE_REPLACEMENT_RESCHEDULED if passed => Some(MaintenanceState::WindowPassed),
        EventKind::NODE_REPLACEMENT_RESCHEDULED => Some(MaintenanceState::Rescheduled),
        EventKind::NODE_REPLACEMENT_CANCELED => Some(MaintenanceState::Canceled),
        EventKind::CACHE_NODE_REPLACE_STARTED => Some(MaintenanceState::InProgress),
        EventKind::CACHE_NODE_REPLACE_COMPLETE | EventKind::FAILOVER_COMPLETE => {
            Some(MaintenanceState::Completed)
        }
        _ if e.category == crate::model::kind::Category::Health => {
            let status = e
                .attributes
                .get(crate::intake::parse::health::attribute::STATUS);
            Some(match status.map(String::as_str) {
                Some("open") => MaintenanceState::InProgress,
                Some("closed") => MaintenanceState::Completed,
                _ if passed => MaintenanceState::WindowPassed,
                _ => MaintenanceState::Scheduled,
            })
        }
        _ if e.category.has_lifecycle() => Some(MaintenanceState::InProgress),
        _ => None,
    }
}

/// A time as runbooks print it: `Thu 25 Jun 2026 19:00 UTC`.
pub fn time_text(at: DateTime<Utc>) -> String {
    at.format("%a %d %b %Y %H:%M UTC").to_string()
}

/// A time for the AWS CLI: `2026-06-25T19:00:00Z`.
fn cli_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn plural(n: i64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// `in 3 days 10 hours`, `45 minutes ago`.
pub fn relative(now: DateTime<Utc>, at: DateTime<Utc>) -> String {
    let secs = (at - now).num_seconds();
    let abs = secs.abs();
    let (days, hours, minutes) = (abs / 86_400, abs % 86_400 / 3_600, abs % 3_600 / 60);
    let amount = if days > 0 {
        if hours > 0 {
            format!("{} {}", plural(days, "day"), plural(hours, "hour"))
        } else {
            plural(days, "day")
        }
    } else if hours > 0 {
        if minutes > 0 {
            format!("{} {}", plural(hours, "hour"), plural(minutes, "minute"))
        } else {
            plural(hours, "hour")
        }
    } else {
        plural(minutes, "minute")
    };
    if secs >= 0 {
        format!("in {amount}")
    } else {
        format!("{amount} ago")
    }
}

#[derive(Debug, Serialize)]
struct WindowView {
    start: String,
    end: String,
    text: String,
}

/// A window as runbooks print it: `Thu 25 Jun 2026 19:00–20:00 UTC`, or both times in full
/// when it spans two days.
fn window_view(w: Window) -> WindowView {
    let text = if w.end.date_naive() == w.start.date_naive() {
        format!(
            "{}–{} UTC",
            w.start.format("%a %d %b %Y %H:%M"),
            w.end.format("%H:%M")
        )
    } else {
        format!("{} – {}", time_text(w.start), time_text(w.end))
    };
    WindowView {
        start: time_text(w.start),
        end: time_text(w.end),
        text,
    }
}

#[derive(Debug, Serialize)]
struct Deadline {
    text: String,
    relative: String,
    passed: bool,
}

#[derive(Debug, Serialize)]
struct EventView {
    id: String,
    kind: String,
    kind_text: String,
    category: String,
    source_type: String,
    source_id: String,
    cluster: Option<String>,
    node: Option<String>,
    replication_group: Option<String>,
    occurred_at: String,
    message: Option<String>,
    region: Option<String>,
    account_id: Option<String>,
    failover_from: Option<String>,
    failover_to: Option<String>,
    drill: bool,
}

#[derive(Debug, Serialize)]
struct FailoverView {
    at: String,
    from: Option<String>,
    to: Option<String>,
}

#[derive(Debug, Serialize)]
struct MaintenanceView {
    id: String,
    kind: String,
    state: String,
    notices: u32,
    repeat_of: Option<String>,
    failovers: Vec<FailoverView>,
    started_at: Option<String>,
    completed_at: Option<String>,
    canceled_at: Option<String>,
}

#[derive(Debug, Serialize)]
struct HistoryItem {
    at: String,
    kind_text: String,
    message: Option<String>,
}

#[derive(Debug, Serialize)]
struct ProposedWindow {
    /// `wed:19:00-wed:20:00`, as `--preferred-maintenance-window` takes it.
    slot: String,
    /// When the next window of that slot opens.
    next: String,
    /// Whether that is before the announced window.
    earlier: bool,
    /// How many whole days before (or after) the announced window it opens.
    days_apart: i64,
}

#[derive(Debug, Serialize)]
struct Metrics {
    before_start: String,
    before_end: String,
    around_start: String,
    around_end: String,
    period: i64,
}

#[derive(Debug, Serialize)]
struct Target {
    cluster: String,
    group: Option<String>,
    node: Option<String>,
    node_group: Option<String>,
    mode: &'static str,
    automatic_failover: &'static str,
    tls: &'static str,
    failover: &'static str,
    promote_to: Option<String>,
    snapshot_name: String,
    snapshot_source: String,
    latest_snapshot: Option<String>,
    endpoint: Option<String>,
    node_endpoint: Option<String>,
    port: u16,
    proposed_window: Option<ProposedWindow>,
    metrics: Metrics,
    region: Option<String>,
    /// What a planned replacement of the primary does (see [`impact::PrimaryImpact`]).
    impact: &'static str,
    /// The replicas per shard, and one more: the count while a replica is replaced by hand.
    replicas: Option<u32>,
    replicas_plus_one: Option<u32>,
    /// Whether the engine was inferred from the node id rather than looked up.
    engine_inferred: bool,
    /// `--start-time` for the event log around the work: an hour before the window opens.
    events_since: Option<String>,
    /// When the facts were read from ElastiCache, if they were.
    facts_read_at: Option<String>,
    /// Whether anything is known of the cluster beyond the event.
    facts_known: bool,
    /// How clients authenticate: `token` (AUTH), `rbac` (user groups), `none`, `unknown`.
    auth: &'static str,
    /// Where the engine version stands in its support lifecycle, where AWS documents it.
    support: Option<SupportView>,
    /// The shards of the replication group, and one more: the count while one is replaced.
    node_groups: Option<u32>,
    node_groups_plus_one: Option<u32>,
    /// The nodes of a Memcached cluster, and one fewer: the count while one is replaced.
    cache_nodes: Option<u32>,
    cache_nodes_minus_one: Option<u32>,
    /// What the parameter group sets aside of the nodes' memory (see [`reserved_memory`]).
    reserved_memory: ReservedMemoryView,
}

/// What the parameter group sets aside of the nodes' memory for other uses than data.
#[derive(Debug, Serialize)]
struct ReservedMemoryView {
    /// `recommended` (25% of `maxmemory` or more), `below` (less), `none` (nothing), `bytes`
    /// (a number of bytes, through `reserved-memory`), `unknown` (not read).
    status: &'static str,
    percent: Option<u32>,
    bytes: Option<u64>,
    /// Whether the parameter group is one of ElastiCache's defaults (`default.redis7`).
    default_group: bool,
}

/// The share of `maxmemory` AWS recommends setting aside for most cases, its default.
const RECOMMENDED_RESERVED_MEMORY_PERCENT: u32 = 25;

/// What `facts` say the parameter group sets aside. The two parameters exclude each other:
/// `reserved-memory-percent` counts unless it is zero and `reserved-memory` is set.
fn reserved_memory(f: &ClusterFacts) -> ReservedMemoryView {
    let status = match (f.reserved_memory_percent, f.reserved_memory_bytes) {
        (Some(0) | None, Some(b)) if b > 0 => "bytes",
        (Some(p), _) if p >= RECOMMENDED_RESERVED_MEMORY_PERCENT => "recommended",
        (Some(p), _) if p > 0 => "below",
        (Some(_), _) | (None, Some(_)) => "none",
        (None, None) => "unknown",
    };
    ReservedMemoryView {
        status,
        percent: f.reserved_memory_percent,
        bytes: f.reserved_memory_bytes,
        default_group: f
            .cache_parameter_group
            .as_deref()
            .is_some_and(|g| g.starts_with("default.")),
    }
}

#[derive(Debug, Serialize)]
struct SupportView {
    status: &'static str,
    text: &'static str,
}

/// How clients authenticate, as far as the facts show: RBAC user groups first (they replace
/// an AUTH token), then an AUTH token.
fn auth_mode(f: &ClusterFacts) -> &'static str {
    match (&f.user_group_ids, f.auth_token_enabled) {
        (Some(groups), _) if !groups.is_empty() => "rbac",
        (_, Some(true)) => "token",
        (Some(_), Some(false)) => "none",
        _ => "unknown",
    }
}

/// The redis-cli options that authenticate, for [`auth_mode`].
fn auth_args(mode: &str) -> &'static str {
    match mode {
        "rbac" => " --user USER_NAME --askpass",
        "token" => " --askpass",
        _ => "",
    }
}

#[derive(Debug, Serialize)]
struct Context<'a> {
    event: EventView,
    maintenance: Option<MaintenanceView>,
    history: Vec<HistoryItem>,
    state: Option<&'static str>,
    engine: Option<&'static str>,
    engine_name: Option<&'static str>,
    role: Option<&'static str>,
    facts: &'a ClusterFacts,
    risks: Vec<facts::Risk>,
    owners: &'a Owners,
    window: Option<WindowView>,
    previous_windows: Vec<WindowView>,
    deadline: Option<Deadline>,
    subject: String,
    now: String,
    target: Target,
    /// The team's latest measured rehearsal, as a sentence.
    rehearsal: Option<String>,
}

fn on_off(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "on",
        Some(false) => "off",
        None => "unknown",
    }
}

/// The name of a manual backup: `{base}-{purpose}-{yyyymmdd}`, lowercase letters, digits and
/// hyphens only (ElastiCache stores names in lowercase).
fn snapshot_name(base: &str, purpose: &str, day: DateTime<Utc>) -> String {
    let mut clean = String::new();
    for c in base.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            clean.push(c);
        } else if !clean.ends_with('-') {
            clean.push('-');
        }
    }
    let clean: String = clean.trim_matches('-').chars().take(40).collect();
    let clean = clean.trim_end_matches('-');
    let base = if clean.is_empty() { "cache" } else { clean };
    format!("{base}-{purpose}-{}", day.format("%Y%m%d"))
}

/// The weekly slot of the day before the announced window, and when that slot next opens after
/// `now`: AWS replaces the node at the next window of a changed slot, which may be more than a
/// day before the announced one.
fn proposed_window(w: Window, now: DateTime<Utc>) -> ProposedWindow {
    let length = (w.end - w.start).clamp(Duration::minutes(60), Duration::hours(24));
    let mut start = w.start - Duration::days(1);
    while start <= now {
        start += Duration::days(7);
    }
    while start - Duration::days(7) > now {
        start -= Duration::days(7);
    }
    let end = start + length;
    let day = |t: DateTime<Utc>| t.weekday().to_string().to_ascii_lowercase();
    ProposedWindow {
        slot: format!(
            "{}:{}-{}:{}",
            day(start),
            start.format("%H:%M"),
            day(end),
            end.format("%H:%M")
        ),
        next: time_text(start),
        earlier: start < w.start,
        days_apart: (w.start - start).num_days().abs(),
    }
}

/// The shortest period CloudWatch still answers for data that starts at `from`, seen at `now`:
/// AWS keeps 60-second data points for 15 days, 300-second ones for 63 days and 3600-second
/// ones for 455 days (GetMetricStatistics).
fn shortest_period(from: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    let age = now - from;
    if age > Duration::days(63) {
        3600
    } else if age > Duration::days(15) {
        300
    } else {
        60
    }
}

/// The `--period` for a CloudWatch range `from`..`to` read at `now`: a multiple of the shortest
/// period CloudWatch keeps for data that old, long enough to stay under its data-point limit.
fn period_for(from: DateTime<Utc>, to: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    let base = shortest_period(from, now);
    let secs = (to - from).num_seconds().max(base);
    let per_point = (secs + MAX_DATAPOINTS - 1) / MAX_DATAPOINTS;
    ((per_point + base - 1) / base * base).max(base)
}

/// `--dimensions` for one node: shorthand when the ids are plain, JSON otherwise (shorthand
/// cannot carry commas or equals signs).
fn dimensions(cluster: &str, node: &str) -> String {
    let plain = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    if plain(cluster) && plain(node) {
        format!("Name=CacheClusterId,Value={cluster} Name=CacheNodeId,Value={node}")
    } else {
        let json = serde_json::json!([
            {"Name": "CacheClusterId", "Value": cluster},
            {"Name": "CacheNodeId", "Value": node},
        ]);
        escape::shell_word(&json.to_string())
    }
}

/// The AWS documentation pages templates link, by the key they use (`aws.multi_az`).
fn aws_pages() -> BTreeMap<&'static str, &'static str> {
    use impact::sources::*;
    BTreeMap::from([
        ("node_replacement", NODE_REPLACEMENT),
        ("node_replacement_memcached", NODE_REPLACEMENT_MEMCACHED),
        ("multi_az", MULTI_AZ),
        ("minimize_downtime", MINIMIZE_DOWNTIME),
        ("test_failover", TEST_FAILOVER),
        ("backups", BACKUPS),
        ("get_metric_statistics", GET_METRIC_STATISTICS),
        ("describe_events", DESCRIBE_EVENTS),
        ("client_dns", CLIENT_DNS),
        ("client_lettuce", CLIENT_LETTUCE),
        ("create_cache_cluster", CREATE_CACHE_CLUSTER),
        ("metrics", METRICS),
        ("in_transit_encryption", IN_TRANSIT_ENCRYPTION),
        ("auth", AUTH),
        ("rbac", RBAC),
        ("data_tiering", DATA_TIERING),
        ("global_datastore", GLOBAL_DATASTORE),
        ("global_failover", GLOBAL_FAILOVER),
        ("durability", DURABILITY),
        ("extended_support", EXTENDED_SUPPORT),
        ("online_resharding", ONLINE_RESHARDING),
        ("memcached_remove_node", MEMCACHED_REMOVE_NODE),
        ("reserved_memory", RESERVED_MEMORY),
        ("health_event_schema", HEALTH_EVENT_SCHEMA),
        ("service_updates", SERVICE_UPDATES),
        ("service_update_type", SERVICE_UPDATE_TYPE),
        ("batch_apply_update_action", BATCH_APPLY_UPDATE_ACTION),
        ("engine_versions", ENGINE_VERSIONS),
        ("upgrade_considerations", UPGRADE_CONSIDERATIONS),
        ("version_compatibility", VERSION_COMPATIBILITY),
    ])
}

/// The template context for `input`: the view of the event and its maintenance, the target the
/// commands act on, the shell fragments they paste, and the AWS pages they cite.
pub fn build(input: &RunbookInput<'_>) -> Value {
    let inferred = inferred_engine(input).map(|engine| ClusterFacts {
        engine: Some(engine),
        ..input.facts.clone()
    });
    let f = inferred.as_ref().unwrap_or(input.facts);
    let ids = Ids::of(input, f);
    let context = context(input, f, inferred.is_some(), &ids);
    let sh = shell_fragments(input.event, f, &ids, &context.target);
    // Addresses are printed as they are (they hold no Markdown), inside `[text](…)` links.
    let aws: BTreeMap<String, Value> = aws_pages()
        .into_iter()
        .map(|(k, url)| (k.to_owned(), Value::from_safe_string(url.to_owned())))
        .collect();
    minijinja::context! {
        sh => Value::from(sh),
        aws => Value::from(aws),
        ..Value::from(minijinja::value::Serde(&context)),
    }
}

/// What the commands act on, worked out once from the event, its maintenance and the facts.
struct Ids {
    cluster: String,
    group: Option<String>,
    node: Option<String>,
    node_group: Option<String>,
    promote_to: Option<String>,
    failover_from: Option<String>,
    failover_to: Option<String>,
    window: Option<Window>,
    previous: Vec<Window>,
}

impl Ids {
    fn of(input: &RunbookInput<'_>, f: &ClusterFacts) -> Self {
        let (e, m) = (input.event, input.maintenance);
        let failover_to = e.failover.as_ref().and_then(|n| n.to.clone());
        let failover_from = e.failover.as_ref().and_then(|n| n.from.clone());
        let cluster = e
            .cluster_id
            .as_ref()
            .map(ToString::to_string)
            .or_else(|| m.and_then(|m| m.cluster_id.as_ref().map(ToString::to_string)))
            .or_else(|| failover_to.clone())
            .unwrap_or_else(|| e.source_id.to_string());
        let group = e
            .replication_group_id
            .as_ref()
            .map(ToString::to_string)
            .or_else(|| m.and_then(|m| m.replication_group_id.as_ref().map(ToString::to_string)))
            .or_else(|| f.replication_group_id.clone())
            .or_else(|| (e.source_type == "replication-group").then(|| e.source_id.to_string()));
        let node = e
            .node_id
            .as_ref()
            .map(ToString::to_string)
            .or_else(|| m.and_then(|m| m.node_id.as_ref().map(ToString::to_string)));
        let node_group = f
            .node_group_id
            .clone()
            .or_else(|| (f.cluster_mode_enabled == Some(false)).then(|| "0001".to_owned()));
        let promote_to = f
            .replica_cluster_ids
            .as_ref()
            .and_then(|ids| ids.iter().find(|id| **id != cluster).cloned());
        Ids {
            cluster,
            group,
            node,
            node_group,
            promote_to,
            failover_from,
            failover_to,
            window: m.and_then(|m| m.window).or(e.window),
            previous: match m {
                Some(m) => m.previous_windows.clone(),
                None => e.previous_window.into_iter().collect(),
            },
        }
    }

    /// The manual backup's name: named for the day of the first window announced when taken
    /// before the work (so that it keeps its name when the replacement is rescheduled or
    /// canceled), for today when taken after it.
    fn snapshot_name(
        &self,
        e: &MaintenanceEvent,
        state: Option<MaintenanceState>,
        now: DateTime<Utc>,
    ) -> String {
        let after = e.category == crate::model::kind::Category::Failover
            || matches!(
                state,
                Some(
                    MaintenanceState::InProgress
                        | MaintenanceState::Completed
                        | MaintenanceState::WindowPassed
                )
            );
        let base = self.group.as_deref().unwrap_or(&self.cluster);
        match (after, self.previous.first().copied().or(self.window)) {
            (false, Some(w)) => snapshot_name(base, "before", w.start),
            (false, None) => snapshot_name(base, "before", now),
            (true, _) => snapshot_name(base, "after", now),
        }
    }

    /// A replica's id when the node is a primary with one, so that the backup leaves the primary alone.
    fn snapshot_source(&self, f: &ClusterFacts) -> String {
        match (f.node_role, &self.promote_to) {
            (Some(NodeRole::Primary), Some(replica)) => replica.clone(),
            _ => self.cluster.clone(),
        }
    }
}

/// The CloudWatch ranges: the three hours before now, and the hour around the failover (or the
/// window, or the event).
fn metrics(
    e: &MaintenanceEvent,
    m: Option<&Maintenance>,
    window: Option<Window>,
    now: DateTime<Utc>,
) -> Metrics {
    let around_at = m
        .and_then(|m| m.failovers.last().map(|fo| fo.at))
        .or_else(|| {
            (e.category == crate::model::kind::Category::Failover).then_some(e.occurred_at)
        });
    let (around_start, around_end) = match (around_at, window) {
        (Some(at), _) => (at - Duration::hours(1), at + Duration::hours(1)),
        (None, Some(w)) => (w.start - Duration::hours(1), w.end + Duration::hours(1)),
        (None, None) => (
            e.occurred_at - Duration::hours(1),
            e.occurred_at + Duration::hours(1),
        ),
    };
    let before_start = now - Duration::hours(3);
    Metrics {
        before_start: cli_time(before_start),
        before_end: cli_time(now),
        around_start: cli_time(around_start),
        around_end: cli_time(around_end),
        period: period_for(before_start, now, now).max(period_for(around_start, around_end, now)),
    }
}

/// What the runbook is about, in a few words: the maintenance's label, or the event's cluster
/// and node.
fn subject(e: &MaintenanceEvent, m: Option<&Maintenance>, node: Option<&String>) -> String {
    match m {
        Some(m) => m.subject_label(),
        None => match (&e.cluster_id, node) {
            (Some(c), Some(n)) => format!("{c} node {n}"),
            (Some(c), None) => c.to_string(),
            (None, _) => e.cluster_label().to_owned(),
        },
    }
}

/// The events so far, oldest first, each once.
fn history(events: &[MaintenanceEvent]) -> Vec<HistoryItem> {
    let mut events: Vec<&MaintenanceEvent> = events.iter().collect();
    events.sort_by_key(|ev| (ev.occurred_at, ev.id.clone()));
    events.dedup_by(|a, b| a.id == b.id);
    events
        .into_iter()
        .map(|ev| HistoryItem {
            at: time_text(ev.occurred_at),
            kind_text: ev.kind.describe(),
            message: ev.message.clone(),
        })
        .collect()
}

impl EventView {
    fn of(e: &MaintenanceEvent) -> Self {
        EventView {
            id: e.id.to_string(),
            kind: e.kind.to_string(),
            kind_text: e.kind.describe(),
            category: e.category.as_str().to_owned(),
            source_type: e.source_type.clone(),
            source_id: e.source_id.to_string(),
            cluster: e.cluster_id.as_ref().map(ToString::to_string),
            node: e.node_id.as_ref().map(ToString::to_string),
            replication_group: e.replication_group_id.as_ref().map(ToString::to_string),
            occurred_at: time_text(e.occurred_at),
            message: e.message.clone(),
            region: e.region.clone(),
            account_id: e.account_id.clone(),
            failover_from: e.failover.as_ref().and_then(|n| n.from.clone()),
            failover_to: e.failover.as_ref().and_then(|n| n.to.clone()),
            drill: e.drill,
        }
    }
}

impl MaintenanceView {
    fn of(m: &Maintenance, now: DateTime<Utc>) -> Self {
        MaintenanceView {
            id: m.id.to_string(),
            kind: m.kind.as_str().to_owned(),
            state: m.status(now).as_str().to_owned(),
            notices: m.notices,
            repeat_of: m.repeat_of.as_ref().map(ToString::to_string),
            failovers: m
                .failovers
                .iter()
                .map(|fo| FailoverView {
                    at: time_text(fo.at),
                    from: fo.from.clone(),
                    to: fo.to.clone(),
                })
                .collect(),
            started_at: m.started_at.map(time_text),
            completed_at: m.completed_at.map(time_text),
            canceled_at: m.canceled_at.map(time_text),
        }
    }
}

/// The context the templates see, but for the shell fragments and the AWS pages.
fn context<'a>(
    input: &RunbookInput<'a>,
    f: &'a ClusterFacts,
    engine_inferred: bool,
    ids: &Ids,
) -> Context<'a> {
    let (e, m, now) = (input.event, input.maintenance, input.now);
    let state = state_of(input);
    let engine = f.engine;
    Context {
        event: EventView::of(e),
        maintenance: m.map(|m| MaintenanceView::of(m, now)),
        history: history(input.events),
        state: state.map(MaintenanceState::as_str),
        engine: engine.map(Engine::as_str),
        engine_name: engine.map(Engine::display_name),
        role: f.node_role.map(NodeRole::as_str),
        facts: f,
        risks: facts::risks(f, e, m, now),
        owners: input.owners,
        window: ids.window.map(window_view),
        previous_windows: ids.previous.iter().copied().map(window_view).collect(),
        deadline: ids.window.map(|w| Deadline {
            text: time_text(w.start),
            relative: relative(now, w.start),
            passed: w.start <= now,
        }),
        subject: subject(e, m, ids.node.as_ref()),
        now: time_text(now),
        target: target(input, f, engine_inferred, ids, state),
        rehearsal: input
            .rehearsal
            .map(crate::cluster::kept::Rehearsal::sentence),
    }
}

/// The cluster, node and settings the commands act on.
fn target(
    input: &RunbookInput<'_>,
    f: &ClusterFacts,
    engine_inferred: bool,
    ids: &Ids,
    state: Option<MaintenanceState>,
) -> Target {
    let (e, now) = (input.event, input.now);
    let cluster_mode = f.cluster_mode_enabled;
    let memcached = f.engine == Some(Engine::Memcached);
    let window = ids.window;
    Target {
        cluster: ids.cluster.clone(),
        group: ids.group.clone(),
        node: ids.node.clone(),
        node_group: ids.node_group.clone(),
        mode: match cluster_mode {
            Some(true) => "enabled",
            Some(false) => "disabled",
            None => "unknown",
        },
        automatic_failover: on_off(f.automatic_failover),
        tls: on_off(f.tls_in_transit),
        failover: failover_method(f).as_str(),
        promote_to: ids.promote_to.clone(),
        snapshot_name: ids.snapshot_name(e, state, now),
        snapshot_source: ids.snapshot_source(f),
        latest_snapshot: f.latest_snapshot_at.map(time_text),
        endpoint: if cluster_mode == Some(true) || memcached {
            f.configuration_endpoint.clone()
        } else {
            f.primary_endpoint.clone()
        },
        node_endpoint: f.node_endpoint.clone(),
        port: f.port.unwrap_or(if memcached {
            MEMCACHED_DEFAULT_PORT
        } else {
            REDIS_DEFAULT_PORT
        }),
        proposed_window: window.map(|w| proposed_window(w, now)),
        metrics: metrics(e, input.maintenance, window, now),
        region: e.region.clone(),
        impact: impact::primary_impact(f).as_str(),
        replicas: f.replicas_per_shard,
        replicas_plus_one: f.replicas_per_shard.map(|n| n + 1),
        engine_inferred,
        events_since: window.map(|w| cli_time(w.start - Duration::hours(1))),
        facts_read_at: input.facts_read_at.map(|at| match input.facts_kept {
            Some(why) => crate::cluster::kept::kept_facts_text(at, now, why),
            None => time_text(at),
        }),
        facts_known: !input.facts.is_empty(),
        auth: auth_mode(f),
        support: impact::engine_support(f, now).map(|s| SupportView {
            status: s.as_str(),
            text: s.summary(),
        }),
        node_groups: f.node_group_count,
        node_groups_plus_one: f.node_group_count.map(|n| n + 1),
        cache_nodes: f.num_cache_nodes,
        cache_nodes_minus_one: f.num_cache_nodes.and_then(|n| n.checked_sub(1)),
        reserved_memory: reserved_memory(f),
    }
}

/// Shell fragments, quoted once here. Unknown values become upper-case placeholders that a
/// person replaces; the runbook says how to find each.
fn shell_fragments(
    e: &MaintenanceEvent,
    f: &ClusterFacts,
    ids: &Ids,
    target: &Target,
) -> BTreeMap<String, Value> {
    let word = |v: Option<&str>, placeholder: &str| escape::shell_word(v.unwrap_or(placeholder));
    let cluster = &ids.cluster;
    let names = [
        (
            "aws",
            e.region.as_deref().map_or_else(String::new, |r| {
                format!(" --region {}", escape::shell_word(r))
            }),
        ),
        ("cluster", escape::shell_word(cluster)),
        ("group", word(ids.group.as_deref(), "REPLICATION_GROUP_ID")),
        (
            "parameter_group",
            word(f.cache_parameter_group.as_deref(), "PARAMETER_GROUP_NAME"),
        ),
        (
            "node_group",
            word(ids.node_group.as_deref(), "NODE_GROUP_ID"),
        ),
        (
            "promote_to",
            word(ids.promote_to.as_deref(), "REPLICA_CLUSTER_ID"),
        ),
        ("snapshot", escape::shell_word(&target.snapshot_name)),
        (
            "snapshot_source",
            escape::shell_word(&target.snapshot_source),
        ),
        ("source", escape::shell_word(e.source_id.as_str())),
        (
            "replaced",
            escape::shell_word(ids.failover_from.as_deref().unwrap_or(cluster)),
        ),
        ("source_type", escape::shell_word(&e.source_type)),
    ];
    names
        .into_iter()
        .chain(redis_cli_fragments(f, target))
        .chain(dimension_fragments(f, ids))
        .map(|(k, text)| (k.to_owned(), Value::from_safe_string(text)))
        .collect()
}

/// `redis-cli`'s connection arguments: the endpoint (or a placeholder), the port, and TLS and
/// AUTH as the cluster needs them.
fn redis_cli_fragments(f: &ClusterFacts, target: &Target) -> [(&'static str, String); 3] {
    let tls_only = if f.tls_in_transit == Some(true) {
        " --tls"
    } else {
        ""
    };
    let tls = format!("{tls_only}{}", auth_args(auth_mode(f)));
    let port = target.port;
    let host = target
        .endpoint
        .as_deref()
        .unwrap_or(if f.cluster_mode_enabled == Some(true) {
            "CONFIGURATION_ENDPOINT"
        } else {
            "PRIMARY_ENDPOINT"
        });
    let node_host = f.node_endpoint.as_deref().unwrap_or("NODE_ENDPOINT");
    let tls_prefix = if tls.is_empty() {
        String::new()
    } else {
        format!("{} ", tls.trim_start())
    };
    [
        (
            "redis",
            format!("-h {} -p {port}{tls}", escape::shell_word(host)),
        ),
        (
            "redis_node",
            format!("-h {} -p {port}{tls}", escape::shell_word(node_host)),
        ),
        (
            "redis_cluster",
            format!(
                "{tls_prefix}--cluster call {}",
                escape::shell_word(&format!("{host}:{port}"))
            ),
        ),
    ]
}

/// CloudWatch dimensions of the node, and of both ends of a failover.
fn dimension_fragments(f: &ClusterFacts, ids: &Ids) -> [(&'static str, String); 3] {
    let cache_node = match (&ids.node, f.engine) {
        (Some(n), _) => n.clone(),
        (None, Some(Engine::Memcached)) => "NODE_ID".to_owned(),
        (None, _) => "0001".to_owned(),
    };
    let cluster = &ids.cluster;
    [
        ("dimensions", dimensions(cluster, &cache_node)),
        (
            "dimensions_from",
            dimensions(ids.failover_from.as_deref().unwrap_or(cluster), "0001"),
        ),
        (
            "dimensions_to",
            dimensions(ids.failover_to.as_deref().unwrap_or(cluster), "0001"),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_failover_by_hand_follows_the_topology() {
        let base = ClusterFacts {
            engine: Some(Engine::Redis),
            node_role: Some(NodeRole::Primary),
            ..ClusterFacts::default()
        };
        let cases = [
            (
                "cluster mode disabled, automatic failover on",
                Some(false),
                Some(true),
                Some(2),
                FailoverMethod::TestFailover,
            ),
            (
                "cluster mode disabled, automatic failover off",
                Some(false),
                Some(false),
                Some(1),
                FailoverMethod::Promote,
            ),
            (
                "cluster mode enabled",
                Some(true),
                None,
                Some(2),
                FailoverMethod::TestFailover,
            ),
            (
                "no replica",
                Some(false),
                Some(false),
                Some(0),
                FailoverMethod::NoReplica,
            ),
            (
                "failover setting unknown",
                None,
                None,
                None,
                FailoverMethod::Unknown,
            ),
        ];
        for (name, mode, af, replicas, expected) in cases {
            let facts = ClusterFacts {
                cluster_mode_enabled: mode,
                automatic_failover: af,
                replicas_per_shard: replicas,
                ..base.clone()
            };
            assert_eq!(failover_method(&facts), expected, "{name}");
        }
        let replica = ClusterFacts {
            node_role: Some(NodeRole::Replica),
            ..base.clone()
        };
        assert_eq!(failover_method(&replica), FailoverMethod::NotNeeded);
        let memcached = ClusterFacts {
            engine: Some(Engine::Memcached),
            ..ClusterFacts::default()
        };
        assert_eq!(failover_method(&memcached), FailoverMethod::NotApplicable);
    }

    #[test]
    fn relative_times_read_naturally() {
        let now = at("2026-06-22T09:00:00Z");
        let cases = [
            ("2026-06-25T19:00:00Z", "in 3 days 10 hours"),
            ("2026-06-23T09:00:00Z", "in 1 day"),
            ("2026-06-22T10:30:00Z", "in 1 hour 30 minutes"),
            ("2026-06-22T09:05:00Z", "in 5 minutes"),
            ("2026-06-22T07:00:00Z", "2 hours ago"),
        ];
        for (t, expected) in cases {
            assert_eq!(relative(now, at(t)), expected, "{t}");
        }
    }

    #[test]
    fn the_proposed_window_is_the_day_before_and_at_least_an_hour() {
        // Arrange
        let w = Window {
            start: at("2026-06-25T19:00:00Z"),
            end: at("2026-06-25T19:30:00Z"),
        };

        // Act
        let early = proposed_window(w, at("2026-06-22T09:00:00Z"));
        let late = proposed_window(w, at("2026-06-24T20:00:00Z"));

        // Assert
        assert_eq!(early.slot, "wed:19:00-wed:20:00");
        assert_eq!(early.next, "Wed 24 Jun 2026 19:00 UTC");
        assert!(early.earlier);
        assert_eq!(early.days_apart, 1);
        assert_eq!(late.next, "Wed 01 Jul 2026 19:00 UTC");
        assert!(!late.earlier);
        assert_eq!(late.days_apart, 6);
    }

    #[test]
    fn a_slot_moved_a_day_earlier_can_open_more_than_a_day_earlier() {
        // Arrange: announced for Saturday 19 December, read on Wednesday 9 December.
        let w = Window {
            start: at("2026-12-19T05:00:00Z"),
            end: at("2026-12-19T06:00:00Z"),
        };

        // Act
        let proposed = proposed_window(w, at("2026-12-09T10:00:00Z"));

        // Assert: the Friday slot next opens on 11 December, eight days before.
        assert_eq!(proposed.slot, "fri:05:00-fri:06:00");
        assert_eq!(proposed.next, "Fri 11 Dec 2026 05:00 UTC");
        assert_eq!(proposed.days_apart, 8);
    }

    #[test]
    fn snapshot_names_are_plain_lowercase() {
        let day = at("2026-06-25T19:00:00Z");
        assert_eq!(
            snapshot_name("Orders", "before", day),
            "orders-before-20260625"
        );
        assert_eq!(
            snapshot_name("<!channel> $(x)", "after", day),
            "channel-x-after-20260625"
        );
        assert_eq!(snapshot_name("***", "before", day), "cache-before-20260625");
    }

    #[test]
    fn cloudwatch_periods_keep_under_the_data_point_limit() {
        let t = at("2026-06-25T00:00:00Z");
        let now = t + Duration::days(8);
        assert_eq!(period_for(t, t + Duration::hours(3), now), 60);
        assert_eq!(period_for(t, t + Duration::hours(26), now), 120);
        assert_eq!(period_for(t, t + Duration::days(7), now), 420);
    }

    #[test]
    fn cloudwatch_periods_follow_how_long_aws_keeps_each_resolution() {
        // Arrange: a two-hour range, read 10, 19, 40 and 90 days later.
        let t = at("2026-06-25T00:00:00Z");
        let end = t + Duration::hours(2);
        let cases = [
            (10, 60),
            (15, 60),
            (19, 300),
            (40, 300),
            (63, 300),
            (64, 3600),
            (90, 3600),
        ];

        for (days, expected) in cases {
            // Act
            let period = period_for(t, end, t + Duration::days(days));

            // Assert
            assert_eq!(period, expected, "{days} days later");
        }
    }

    #[test]
    fn dimensions_fall_back_to_json_for_odd_ids() {
        assert_eq!(
            dimensions("orders-0001-001", "0001"),
            "Name=CacheClusterId,Value=orders-0001-001 Name=CacheNodeId,Value=0001"
        );
        assert_eq!(
            dimensions("a,b", "0001"),
            r#"'[{"Name":"CacheClusterId","Value":"a,b"},{"Name":"CacheNodeId","Value":"0001"}]'"#
        );
    }
}
