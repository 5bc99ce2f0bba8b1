//! What is known about the cluster and node an event is about (engine, role, failover settings,
//! backups...), and the risks that follow from it.
//!
//! Facts come later than events: an adapter asks ElastiCache (DescribeCacheClusters,
//! DescribeReplicationGroups, DescribeSnapshots, the tags) and fills in what it learns. Every
//! field is optional, because any lookup can fail or be forbidden, and `None` always means
//! "not known", never "no" or "zero": a runbook that meets an unknown fact says how to find it
//! out instead of guessing. [`risks`] turns what is known into plain-language warnings.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::config::tags::Tags;
use crate::lifecycle::Maintenance;
use crate::model::event::MaintenanceEvent;
use crate::model::kind::{Category, EventKind};

/// A backup older than this is not a recent backup.
pub const RECENT_BACKUP: Duration = Duration::hours(24);

/// The cache engine a cluster runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    /// Redis OSS.
    Redis,
    /// Valkey (the Redis OSS fork ElastiCache also runs).
    Valkey,
    /// Memcached: nothing persisted, no replicas.
    Memcached,
}

impl Engine {
    /// The engine's name as ElastiCache writes it (`redis`, `valkey`, `memcached`).
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Redis => "redis",
            Engine::Valkey => "valkey",
            Engine::Memcached => "memcached",
        }
    }

    /// The engine's name for people.
    pub fn display_name(self) -> &'static str {
        match self {
            Engine::Redis => "Redis OSS",
            Engine::Valkey => "Valkey",
            Engine::Memcached => "Memcached",
        }
    }

    /// Reads an engine name, in any case.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "redis" => Some(Engine::Redis),
            "valkey" => Some(Engine::Valkey),
            "memcached" => Some(Engine::Memcached),
            _ => None,
        }
    }

    /// Whether the engine replicates and fails over (Redis OSS and Valkey).
    pub fn replicates(self) -> bool {
        !matches!(self, Engine::Memcached)
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The role of a Redis OSS or Valkey node in its shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeRole {
    /// Takes the writes.
    Primary,
    /// A read replica of the primary.
    Replica,
}

impl NodeRole {
    /// The role's name as ElastiCache writes it (`CurrentRole`).
    pub fn as_str(self) -> &'static str {
        match self {
            NodeRole::Primary => "primary",
            NodeRole::Replica => "replica",
        }
    }

    /// Reads a role name, in any case.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "primary" => Some(NodeRole::Primary),
            "replica" => Some(NodeRole::Replica),
            _ => None,
        }
    }
}

impl fmt::Display for NodeRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything later enrichment may know about the cluster and node of an event. `None` is
/// "not known".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterFacts {
    /// The engine.
    pub engine: Option<Engine>,
    /// The engine version (`7.1.0`, `1.6.22`).
    pub engine_version: Option<String>,
    /// The replication group the node's cluster belongs to (`None` also when it belongs to none).
    pub replication_group_id: Option<String>,
    /// Whether the replication group shards its data (cluster mode enabled).
    pub cluster_mode_enabled: Option<bool>,
    /// The node's role when the facts were taken.
    pub node_role: Option<NodeRole>,
    /// Whether the replication group has Multi-AZ on.
    pub multi_az: Option<bool>,
    /// Whether a replica is promoted automatically when the primary fails.
    pub automatic_failover: Option<bool>,
    /// How many replicas each shard has (`0`: the primary alone).
    pub replicas_per_shard: Option<u32>,
    /// The node group (shard) the node is in: `0001` when cluster mode is disabled.
    pub node_group_id: Option<String>,
    /// The cache clusters of the shard's replicas: the candidates for promotion.
    pub replica_cluster_ids: Option<Vec<String>>,
    /// The node's own endpoint address.
    pub node_endpoint: Option<String>,
    /// The primary endpoint (cluster mode disabled): always points at the current primary.
    pub primary_endpoint: Option<String>,
    /// The reader endpoint (cluster mode disabled): spreads reads over the replicas.
    pub reader_endpoint: Option<String>,
    /// The configuration endpoint (cluster mode enabled, and Memcached).
    pub configuration_endpoint: Option<String>,
    /// The port the endpoints listen on.
    pub port: Option<u16>,
    /// Whether clients must connect with TLS (encryption in transit).
    pub tls_in_transit: Option<bool>,
    /// The preferred maintenance window, as ElastiCache writes it (`sun:23:00-mon:01:30`).
    pub preferred_maintenance_window: Option<String>,
    /// How many days automatic backups are kept (`0`: automatic backups are off).
    pub snapshot_retention_days: Option<u32>,
    /// When the latest backup was taken.
    pub latest_snapshot_at: Option<DateTime<Utc>>,
    /// Parameters of the parameter group whose change waits for a reboot (`Some(empty)`: none).
    pub pending_reboot_parameters: Option<Vec<String>>,
    /// Whether the cluster's tags say it serves production.
    pub production: Option<bool>,
    /// The cluster's tags: its replication group's and its own, its own winning where both
    /// carry a key (`None`: not read, or not every resource's tags could be read). Routes and
    /// mutes by tag match on them ([`crate::config::tags`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,
    /// Why a lookup failed, when one did: what is missing above may be unknown for that reason.
    pub unavailable: Option<String>,
    /// Whether clients must authenticate with an AUTH token (`AuthTokenEnabled`).
    pub auth_token_enabled: Option<bool>,
    /// The user groups of role-based access control (`UserGroupIds`; `Some(empty)`: none).
    pub user_group_ids: Option<Vec<String>>,
    /// Whether data is tiered between memory and SSD (`DataTiering`, r6gd node types).
    pub data_tiering: Option<bool>,
    /// The Global Datastore the replication group belongs to (`GlobalReplicationGroupInfo`).
    pub global_datastore_id: Option<String>,
    /// The group's role in its Global Datastore, as ElastiCache writes it (`primary`, `secondary`).
    pub global_datastore_role: Option<String>,
    /// The durability in force (`EffectiveDurability`: `sync`, `async`, `disabled`).
    pub durability: Option<String>,
    /// How many shards (node groups) the replication group has.
    pub node_group_count: Option<u32>,
    /// How many nodes the cache cluster has (`NumCacheNodes`; Memcached clusters have several).
    pub num_cache_nodes: Option<u32>,
    /// The cache parameter group of the cluster (`CacheParameterGroupName`).
    pub cache_parameter_group: Option<String>,
    /// The share of `maxmemory` the parameter group sets aside for other uses than data
    /// (`reserved-memory-percent`), when the group says.
    pub reserved_memory_percent: Option<u32>,
    /// The bytes the parameter group sets aside for other uses than data (`reserved-memory`),
    /// when the group says.
    pub reserved_memory_bytes: Option<u64>,
    /// When ElastiCache gave these facts, when they are an earlier answer the lookup reused
    /// within its reuse window (`None`: read now, or not read at all).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reused_from: Option<DateTime<Utc>>,
}

impl ClusterFacts {
    /// Whether the engine version is known and is at most `max` (`(4, 0, 10)`).
    ///
    /// Missing parts of a version count as zero (`4.0` is `4.0.0`); a version whose major part
    /// is not a number is not known.
    pub fn engine_version_at_most(&self, max: (u32, u32, u32)) -> bool {
        self.engine_version
            .as_deref()
            .and_then(parse_version)
            .is_some_and(|v| v <= max)
    }

    /// Whether the engine version is known and is at least `min` (`(5, 0, 6)`), read as
    /// [`engine_version_at_most`](Self::engine_version_at_most) reads it.
    pub fn engine_version_at_least(&self, min: (u32, u32, u32)) -> bool {
        self.engine_version
            .as_deref()
            .and_then(parse_version)
            .is_some_and(|v| v >= min)
    }

    /// Whether nothing at all is known.
    pub fn is_empty(&self) -> bool {
        *self == ClusterFacts::default()
    }
}

/// `7.1.0` -> `(7, 1, 0)`; `6.x` -> `(6, 0, 0)`; `x` -> `None`.
fn parse_version(raw: &str) -> Option<(u32, u32, u32)> {
    let mut parts = raw.trim().split('.').map(|p| {
        let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
        digits.parse::<u32>().ok()
    });
    let major = parts.next().flatten()?;
    let minor = parts.next().flatten().unwrap_or(0);
    let patch = parts.next().flatten().unwrap_or(0);
    Some((major, minor, patch))
}

/// How bad a risk is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing before deciding.
    Notice,
    /// Downtime or data loss unless someone acts.
    High,
}

/// Which risk it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskKind {
    /// A primary is replaced and nothing promotes a replica in its place.
    PrimaryWithoutAutomaticFailover,
    /// A primary with no replica at all.
    NoReplica,
    /// No backup in the last [`RECENT_BACKUP`], or automatic backups are off.
    NoRecentBackup,
    /// Redis OSS 4.0.10 or older with cluster mode disabled.
    LongerWriteInterruption,
    /// A Memcached node is replaced: it comes back empty.
    MemcachedDataLoss,
    /// Parameter-group changes wait for a reboot; the replacement applies them.
    PendingParameterChanges,
    /// One replica in the shard: while one node is away, the shard has no replica.
    SingleReplica,
    /// Enrichment failed: what is known is incomplete.
    FactsUnavailable,
}

impl RiskKind {
    /// The kind's name as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            RiskKind::PrimaryWithoutAutomaticFailover => "primary_without_automatic_failover",
            RiskKind::NoReplica => "no_replica",
            RiskKind::NoRecentBackup => "no_recent_backup",
            RiskKind::LongerWriteInterruption => "longer_write_interruption",
            RiskKind::MemcachedDataLoss => "memcached_data_loss",
            RiskKind::PendingParameterChanges => "pending_parameter_changes",
            RiskKind::SingleReplica => "single_replica",
            RiskKind::FactsUnavailable => "facts_unavailable",
        }
    }
}

/// A risk, in plain language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Risk {
    /// Which risk.
    pub kind: RiskKind,
    /// How bad.
    pub severity: Severity,
    /// One sentence for people. May quote values ElastiCache returned (parameter names): escape
    /// it where it is shown.
    pub text: String,
}

impl Risk {
    fn new(kind: RiskKind, severity: Severity, text: impl Into<String>) -> Self {
        Self {
            kind,
            severity,
            text: text.into(),
        }
    }
}

/// Whether the replacement `event` (and `maintenance`) announce is still ahead or under way at
/// `now`.
fn replacement_ahead(
    event: &MaintenanceEvent,
    maintenance: Option<&Maintenance>,
    now: DateTime<Utc>,
) -> bool {
    if let Some(m) = maintenance {
        return m.is_upcoming(now);
    }
    match event.kind.as_str() {
        EventKind::NODE_REPLACEMENT_SCHEDULED | EventKind::NODE_REPLACEMENT_RESCHEDULED => {
            event.window.is_none_or(|w| w.end >= now)
        }
        EventKind::CACHE_NODE_REPLACE_STARTED => true,
        _ => false,
    }
}

/// The risks that follow from `facts` for `event` (and its `maintenance`, when known) at `now`,
/// most severe first. Unknown facts raise no risk: the runbook asks for them instead.
pub fn risks(
    facts: &ClusterFacts,
    event: &MaintenanceEvent,
    maintenance: Option<&Maintenance>,
    now: DateTime<Utc>,
) -> Vec<Risk> {
    let replacement = event.category == Category::NodeReplacement;
    let ahead = replacement && replacement_ahead(event, maintenance, now);
    let failover_ahead = ahead || event.category == Category::Failover;
    let mut out: Vec<Risk> = [
        memcached_data_loss(facts, ahead),
        primary_without_failover(facts, ahead),
        longer_write_interruption(facts, failover_ahead),
        no_recent_backup(facts, now),
        pending_parameters(facts, ahead),
        single_replica(facts, ahead),
        facts.unavailable.as_ref().map(|reason| {
            Risk::new(
                RiskKind::FactsUnavailable,
                Severity::Notice,
                format!("What is known about the cluster is incomplete: {reason}."),
            )
        }),
    ]
    .into_iter()
    .flatten()
    .collect();
    out.sort_by_key(|r| std::cmp::Reverse(r.severity));
    out
}

fn replicates(facts: &ClusterFacts) -> bool {
    facts.engine.is_none_or(Engine::replicates)
}

fn memcached_data_loss(facts: &ClusterFacts, ahead: bool) -> Option<Risk> {
    (ahead && facts.engine == Some(Engine::Memcached)).then(|| {
        Risk::new(
            RiskKind::MemcachedDataLoss,
            Severity::High,
            "Memcached: this node's data will be lost; the node comes back empty.",
        )
    })
}

fn primary_without_failover(facts: &ClusterFacts, ahead: bool) -> Option<Risk> {
    if !(ahead && replicates(facts) && facts.node_role == Some(NodeRole::Primary)) {
        return None;
    }
    if facts.replicas_per_shard == Some(0) {
        Some(Risk::new(
            RiskKind::NoReplica,
            Severity::High,
            "Primary with no replica: there is nothing to fail over to, so the replacement interrupts writes and reads.",
        ))
    } else if facts.automatic_failover == Some(false) {
        Some(Risk::new(
            RiskKind::PrimaryWithoutAutomaticFailover,
            Severity::High,
            "Primary with automatic failover off: the replacement means downtime until the primary is back.",
        ))
    } else {
        None
    }
}

fn longer_write_interruption(facts: &ClusterFacts, failover_ahead: bool) -> Option<Risk> {
    (failover_ahead
        && facts.engine == Some(Engine::Redis)
        && facts.cluster_mode_enabled == Some(false)
        && facts.engine_version_at_most((4, 0, 10)))
    .then(|| {
        Risk::new(
            RiskKind::LongerWriteInterruption,
            Severity::Notice,
            "Redis OSS 4.0.10 or older with cluster mode disabled: expect a longer write interruption during the failover.",
        )
    })
}

fn no_recent_backup(facts: &ClusterFacts, now: DateTime<Utc>) -> Option<Risk> {
    if !(replicates(facts) && facts.engine.is_some()) {
        return None;
    }
    let stale = facts.latest_snapshot_at.map(|at| now - at > RECENT_BACKUP);
    let text = match (stale, facts.snapshot_retention_days) {
        (Some(true), _) => "No backup in the last 24 h.",
        (None, Some(0)) => "Automatic backups are off and no backup is known.",
        _ => return None,
    };
    Some(Risk::new(RiskKind::NoRecentBackup, Severity::Notice, text))
}

fn pending_parameters(facts: &ClusterFacts, ahead: bool) -> Option<Risk> {
    let pending = facts.pending_reboot_parameters.as_ref()?;
    (ahead && !pending.is_empty()).then(|| {
        Risk::new(
            RiskKind::PendingParameterChanges,
            Severity::Notice,
            format!(
                "Parameter changes pending reboot will be applied by the replacement: {}.",
                pending.join(", ")
            ),
        )
    })
}

fn single_replica(facts: &ClusterFacts, ahead: bool) -> Option<Risk> {
    (ahead && replicates(facts) && facts.replicas_per_shard == Some(1)).then(|| {
        Risk::new(
            RiskKind::SingleReplica,
            Severity::Notice,
            "Only one replica in the shard: during the replacement it has none.",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::parse::{EventDraft, ParseContext};
    use crate::model::event::{Origin, Window};
    use crate::model::ids::{ClusterId, NodeId, SourceId};

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    const NOW: &str = "2026-06-22T09:00:00Z";

    fn event(kind: &str, window_end: Option<&str>) -> MaintenanceEvent {
        let mut d = EventDraft::new(
            EventKind::new(kind),
            "cache-cluster".into(),
            SourceId::parse("orders-0001-001").unwrap(),
            Origin::DescribeEvents,
        );
        d.cluster_id = Some(ClusterId::parse("orders-0001-001").unwrap());
        d.node_id = Some(NodeId::parse("0001").unwrap());
        d.occurred_at = Some(at("2026-06-20T03:00:00Z"));
        d.window = window_end.map(|end| Window {
            start: at(end) - Duration::hours(1),
            end: at(end),
        });
        d.finish(&ParseContext::received_at(at("2026-06-20T03:00:00Z")))
    }

    fn scheduled() -> MaintenanceEvent {
        event(
            EventKind::NODE_REPLACEMENT_SCHEDULED,
            Some("2026-06-25T20:00:00Z"),
        )
    }

    fn redis_primary() -> ClusterFacts {
        ClusterFacts {
            engine: Some(Engine::Redis),
            engine_version: Some("7.1.0".into()),
            cluster_mode_enabled: Some(false),
            node_role: Some(NodeRole::Primary),
            automatic_failover: Some(true),
            replicas_per_shard: Some(2),
            latest_snapshot_at: Some(at("2026-06-22T03:00:00Z")),
            pending_reboot_parameters: Some(vec![]),
            ..ClusterFacts::default()
        }
    }

    fn kinds(facts: &ClusterFacts, e: &MaintenanceEvent) -> Vec<RiskKind> {
        risks(facts, e, None, at(NOW))
            .into_iter()
            .map(|r| r.kind)
            .collect()
    }

    #[test]
    fn risks_follow_from_the_facts_of_an_upcoming_replacement() {
        use RiskKind::*;
        let cases: Vec<(&str, ClusterFacts, Vec<RiskKind>)> = vec![
            ("healthy primary", redis_primary(), vec![]),
            (
                "primary with automatic failover off",
                ClusterFacts {
                    automatic_failover: Some(false),
                    ..redis_primary()
                },
                vec![PrimaryWithoutAutomaticFailover],
            ),
            (
                "primary alone",
                ClusterFacts {
                    automatic_failover: Some(false),
                    replicas_per_shard: Some(0),
                    ..redis_primary()
                },
                vec![NoReplica],
            ),
            (
                "replica with automatic failover off",
                ClusterFacts {
                    automatic_failover: Some(false),
                    node_role: Some(NodeRole::Replica),
                    ..redis_primary()
                },
                vec![],
            ),
            (
                "backup three days old",
                ClusterFacts {
                    latest_snapshot_at: Some(at("2026-06-19T09:00:00Z")),
                    ..redis_primary()
                },
                vec![NoRecentBackup],
            ),
            (
                "automatic backups off and no backup known",
                ClusterFacts {
                    latest_snapshot_at: None,
                    snapshot_retention_days: Some(0),
                    ..redis_primary()
                },
                vec![NoRecentBackup],
            ),
            (
                "backup time unknown but retention on",
                ClusterFacts {
                    latest_snapshot_at: None,
                    snapshot_retention_days: Some(7),
                    ..redis_primary()
                },
                vec![],
            ),
            (
                "Redis 4.0.10 with cluster mode off",
                ClusterFacts {
                    engine_version: Some("4.0.10".into()),
                    ..redis_primary()
                },
                vec![LongerWriteInterruption],
            ),
            (
                "Redis 4.0.10 with cluster mode on",
                ClusterFacts {
                    engine_version: Some("4.0.10".into()),
                    cluster_mode_enabled: Some(true),
                    ..redis_primary()
                },
                vec![],
            ),
            (
                "Redis 5.0.6 with cluster mode off",
                ClusterFacts {
                    engine_version: Some("5.0.6".into()),
                    ..redis_primary()
                },
                vec![],
            ),
            (
                "Valkey is not Redis 4",
                ClusterFacts {
                    engine: Some(Engine::Valkey),
                    engine_version: Some("4.0".into()),
                    ..redis_primary()
                },
                vec![],
            ),
            (
                "pending parameter changes",
                ClusterFacts {
                    pending_reboot_parameters: Some(vec!["maxmemory-policy".into()]),
                    ..redis_primary()
                },
                vec![PendingParameterChanges],
            ),
            (
                "one replica",
                ClusterFacts {
                    replicas_per_shard: Some(1),
                    ..redis_primary()
                },
                vec![SingleReplica],
            ),
            (
                "Memcached",
                ClusterFacts {
                    engine: Some(Engine::Memcached),
                    engine_version: Some("1.6.22".into()),
                    ..ClusterFacts::default()
                },
                vec![MemcachedDataLoss],
            ),
            ("nothing known", ClusterFacts::default(), vec![]),
            (
                "lookup failed",
                ClusterFacts {
                    unavailable: Some("AccessDenied".into()),
                    ..ClusterFacts::default()
                },
                vec![FactsUnavailable],
            ),
            (
                "everything at once, most severe first",
                ClusterFacts {
                    automatic_failover: Some(false),
                    replicas_per_shard: Some(1),
                    engine_version: Some("3.2.6".into()),
                    latest_snapshot_at: Some(at("2026-06-01T00:00:00Z")),
                    pending_reboot_parameters: Some(vec!["a".into(), "b".into()]),
                    ..redis_primary()
                },
                vec![
                    PrimaryWithoutAutomaticFailover,
                    LongerWriteInterruption,
                    NoRecentBackup,
                    PendingParameterChanges,
                    SingleReplica,
                ],
            ),
        ];
        let e = scheduled();
        for (name, facts, expected) in cases {
            assert_eq!(kinds(&facts, &e), expected, "{name}");
        }
    }

    #[test]
    fn replacement_risks_end_when_the_window_has_passed() {
        // Arrange
        let passed = event(
            EventKind::NODE_REPLACEMENT_SCHEDULED,
            Some("2026-06-21T20:00:00Z"),
        );
        let facts = ClusterFacts {
            automatic_failover: Some(false),
            pending_reboot_parameters: Some(vec!["x".into()]),
            ..redis_primary()
        };

        // Act
        let found = kinds(&facts, &passed);

        // Assert
        assert_eq!(found, vec![]);
    }

    #[test]
    fn a_failover_keeps_only_the_risks_that_still_matter() {
        // Arrange
        let failover = event(EventKind::FAILOVER_COMPLETE, None);
        let facts = ClusterFacts {
            automatic_failover: Some(false),
            engine_version: Some("4.0.10".into()),
            latest_snapshot_at: Some(at("2026-06-01T00:00:00Z")),
            replicas_per_shard: Some(1),
            ..redis_primary()
        };

        // Act
        let found = kinds(&facts, &failover);

        // Assert
        assert_eq!(
            found,
            vec![RiskKind::LongerWriteInterruption, RiskKind::NoRecentBackup]
        );
    }

    #[test]
    fn pending_parameters_are_named_in_the_risk() {
        let facts = ClusterFacts {
            pending_reboot_parameters: Some(vec!["maxmemory-policy".into(), "timeout".into()]),
            ..redis_primary()
        };
        let found = risks(&facts, &scheduled(), None, at(NOW));
        assert_eq!(
            found[0].text,
            "Parameter changes pending reboot will be applied by the replacement: maxmemory-policy, timeout."
        );
    }

    #[test]
    fn versions_compare_by_number_not_by_text() {
        let cases = [
            ("4.0.10", true),
            ("4.0.9", true),
            ("4.0.11", false),
            ("4.0", true),
            ("3.2.10", true),
            ("10.0.0", false),
            ("6.x", false),
            ("x", false),
        ];
        for (version, at_most) in cases {
            let facts = ClusterFacts {
                engine_version: Some(version.into()),
                ..ClusterFacts::default()
            };
            assert_eq!(
                facts.engine_version_at_most((4, 0, 10)),
                at_most,
                "{version}"
            );
        }
    }

    #[test]
    fn facts_read_from_json_with_every_field_optional() {
        let facts: ClusterFacts =
            serde_json::from_str(r#"{"engine":"valkey","node_role":"replica","port":6379}"#)
                .unwrap();
        assert_eq!(facts.engine, Some(Engine::Valkey));
        assert_eq!(facts.node_role, Some(NodeRole::Replica));
        assert_eq!(facts.port, Some(6379));
        assert_eq!(facts.automatic_failover, None);
        assert!(ClusterFacts::default().is_empty());
    }

    #[test]
    fn tags_are_kept_with_the_facts_and_facts_kept_before_them_read_as_not_known() {
        let facts = ClusterFacts {
            engine: Some(Engine::Redis),
            tags: Some(Tags::from([("team".to_owned(), "payments".to_owned())])),
            ..ClusterFacts::default()
        };
        let json = serde_json::to_string(&facts).unwrap();
        assert!(json.contains(r#""tags":{"team":"payments"}"#), "{json}");
        assert_eq!(serde_json::from_str::<ClusterFacts>(&json).unwrap(), facts);
        let before: ClusterFacts = serde_json::from_str(r#"{"engine":"redis"}"#).unwrap();
        assert_eq!(before.tags, None);
        assert!(
            !serde_json::to_string(&before).unwrap().contains("tags"),
            "facts without tags read are written as before"
        );
    }

    #[test]
    fn engine_and_role_names_read_in_any_case() {
        assert_eq!(Engine::parse("Redis"), Some(Engine::Redis));
        assert_eq!(Engine::parse(" VALKEY "), Some(Engine::Valkey));
        assert_eq!(Engine::parse("memcached"), Some(Engine::Memcached));
        assert_eq!(Engine::parse("mysql"), None);
        assert_eq!(NodeRole::parse("Primary"), Some(NodeRole::Primary));
        assert_eq!(NodeRole::parse("replica"), Some(NodeRole::Replica));
        assert_eq!(NodeRole::parse("master"), None);
    }
}
