//! What an event is: its kind (the snake_case of the ElastiCache event name) and its category.
//!
//! Kinds are open: ElastiCache adds event names over time, and an unknown `ElastiCache:*` name is
//! kept as a kind of its own (category `other`), never dropped. The kinds the product reasons about
//! are named constants here.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The prefix of every ElastiCache event name in an SNS message body.
pub const EVENT_NAME_PREFIX: &str = "ElastiCache:";

/// The kind of an event: `node_replacement_scheduled`, `failover_complete`, ... .
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventKind(String);

impl EventKind {
    /// A node will be replaced in the given maintenance window.
    pub const NODE_REPLACEMENT_SCHEDULED: &'static str = "node_replacement_scheduled";
    /// A scheduled replacement moved to a new window.
    pub const NODE_REPLACEMENT_RESCHEDULED: &'static str = "node_replacement_rescheduled";
    /// A scheduled replacement is no longer scheduled.
    pub const NODE_REPLACEMENT_CANCELED: &'static str = "node_replacement_canceled";
    /// A degraded node is being replaced now.
    pub const CACHE_NODE_REPLACE_STARTED: &'static str = "cache_node_replace_started";
    /// A replacement finished.
    pub const CACHE_NODE_REPLACE_COMPLETE: &'static str = "cache_node_replace_complete";
    /// A replica was promoted to primary.
    pub const FAILOVER_COMPLETE: &'static str = "failover_complete";
    /// Nodes were rebooted (Memcached announces a shutdown first).
    pub const CACHE_NODES_REBOOTED: &'static str = "cache_nodes_rebooted";
    /// A self-service update is available for a node.
    pub const SERVICE_UPDATE_AVAILABLE_FOR_NODE: &'static str = "service_update_available_for_node";
    /// A backup finished.
    pub const SNAPSHOT_COMPLETE: &'static str = "snapshot_complete";
    /// A backup failed.
    pub const SNAPSHOT_FAILED: &'static str = "snapshot_failed";
    /// A cluster was created.
    pub const CACHE_CLUSTER_PROVISIONING_COMPLETE: &'static str =
        "cache_cluster_provisioning_complete";
    /// TestFailover was called for a node group (text only; no SNS name is documented).
    pub const TEST_FAILOVER_API_CALLED: &'static str = "test_failover_api_called";
    /// A node was added to a cluster.
    pub const ADD_CACHE_NODE_COMPLETE: &'static str = "add_cache_node_complete";
    /// A cluster finished scaling.
    pub const CACHE_CLUSTER_SCALING_COMPLETE: &'static str = "cache_cluster_scaling_complete";
    /// A text that matches no documented template: kept, but not understood.
    pub const UNRECOGNIZED: &'static str = "unrecognized";
    /// The prefix of every kind read from an AWS Health event about ElastiCache: the
    /// snake_case of its `eventTypeCode` (`AWS_ELASTICACHE_BEFORE_UPDATE_DUE_NOTIFICATION`).
    pub const HEALTH_PREFIX: &'static str = "aws_elasticache_";
    /// AWS Health: a self-service update is due for the affected clusters.
    pub const HEALTH_BEFORE_UPDATE_DUE: &'static str =
        "aws_elasticache_before_update_due_notification";
    /// AWS Health: a planned lifecycle event (AWS's `AWS_{SERVICE}_PLANNED_LIFECYCLE_EVENT`
    /// pattern), such as an engine version's end of standard support.
    pub const HEALTH_PLANNED_LIFECYCLE: &'static str = "aws_elasticache_planned_lifecycle_event";

    /// The kind of an ElastiCache event name, with or without its `ElastiCache:` prefix:
    /// `ElastiCache:CacheNodeReplaceComplete` becomes `cache_node_replace_complete`.
    ///
    /// Returns `None` for a name with no letter or digit in it.
    pub fn from_event_name(name: &str) -> Option<Self> {
        let bare = name.strip_prefix(EVENT_NAME_PREFIX).unwrap_or(name);
        let snake = snake_case(bare);
        (!snake.is_empty()).then_some(Self(snake))
    }

    /// A kind from a constant of this type or from a stored value (trusted as snake_case).
    pub fn new(kind: impl Into<String>) -> Self {
        Self(kind.into())
    }

    /// The kind as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The category this kind belongs to.
    pub fn category(&self) -> Category {
        let k = self.0.as_str();
        if k.starts_with("node_replacement") || k.starts_with("cache_node_replace") {
            Category::NodeReplacement
        } else if k == Self::FAILOVER_COMPLETE {
            Category::Failover
        } else if k.starts_with(Self::HEALTH_PREFIX) {
            Category::Health
        } else {
            Category::Other
        }
    }

    /// Whether this kind is `kind` (one of the constants).
    pub fn is(&self, kind: &str) -> bool {
        self.0 == kind
    }

    /// A short phrase for people: "node replacement scheduled".
    pub fn describe(&self) -> String {
        self.0.replace('_', " ")
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for EventKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for EventKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::from_event_name(&raw)
            .ok_or_else(|| serde::de::Error::custom("an event kind needs a letter or digit"))
    }
}

/// `CacheNodeReplaceComplete` -> `cache_node_replace_complete`; runs of capitals stay one word
/// (`SSLCertificateRenewed` -> `ssl_certificate_renewed`); anything not alphanumeric separates words.
fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_alphanumeric() {
            if c.is_uppercase() && i > 0 {
                let prev = chars[i - 1];
                let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
                let boundary = prev.is_lowercase()
                    || prev.is_ascii_digit()
                    || (prev.is_uppercase() && next_lower);
                if boundary && !out.is_empty() && !out.ends_with('_') {
                    out.push('_');
                }
            }
            out.extend(c.to_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// The three families of events the product treats differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// `NodeReplacement*` and `CacheNodeReplace*`: a node is or was replaced.
    NodeReplacement,
    /// `FailoverComplete`: a replica was promoted.
    Failover,
    /// An AWS Health event about ElastiCache: a service update due, an engine's end of support.
    #[serde(rename = "aws_health")]
    Health,
    /// Everything else: kept for history, not alerted on by default.
    Other,
}

impl Category {
    /// The category's name as in the JSON contract.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::NodeReplacement => "node_replacement",
            Category::Failover => "failover",
            Category::Health => "aws_health",
            Category::Other => "other",
        }
    }

    /// Reads a category name.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim() {
            "node_replacement" => Some(Category::NodeReplacement),
            "failover" => Some(Category::Failover),
            "aws_health" => Some(Category::Health),
            "other" => Some(Category::Other),
            _ => None,
        }
    }

    /// Whether events of this category belong to a maintenance's lifecycle.
    pub fn has_lifecycle(self) -> bool {
        !matches!(self, Category::Other)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_become_snake_case_kinds() {
        let cases = [
            (
                "ElastiCache:NodeReplacementScheduled",
                "node_replacement_scheduled",
            ),
            (
                "ElastiCache:NodeReplacementRescheduled",
                "node_replacement_rescheduled",
            ),
            (
                "ElastiCache:NodeReplacementCanceled",
                "node_replacement_canceled",
            ),
            (
                "ElastiCache:CacheNodeReplaceStarted",
                "cache_node_replace_started",
            ),
            (
                "ElastiCache:CacheNodeReplaceComplete",
                "cache_node_replace_complete",
            ),
            ("ElastiCache:FailoverComplete", "failover_complete"),
            ("ElastiCache:CacheNodesRebooted", "cache_nodes_rebooted"),
            (
                "ElastiCache:ReplicationGroupIncreaseReplicaCountStarted",
                "replication_group_increase_replica_count_started",
            ),
            (
                "ElastiCache:SSLCertificateRenewed",
                "ssl_certificate_renewed",
            ),
            ("ElastiCache:Node2Replaced", "node2_replaced"),
            ("ElastiCache:weird name-here", "weird_name_here"),
            ("ServiceUpdateAvailable", "service_update_available"),
        ];
        for (name, kind) in cases {
            assert_eq!(
                EventKind::from_event_name(name).unwrap().as_str(),
                kind,
                "{name}"
            );
        }
        assert_eq!(EventKind::from_event_name("ElastiCache:"), None);
        assert_eq!(EventKind::from_event_name("ElastiCache:--"), None);
    }

    #[test]
    fn categories_follow_the_name_families() {
        let cases = [
            ("node_replacement_scheduled", Category::NodeReplacement),
            (
                "node_replacement_some_future_state",
                Category::NodeReplacement,
            ),
            ("cache_node_replace_complete", Category::NodeReplacement),
            ("failover_complete", Category::Failover),
            (
                "aws_elasticache_before_update_due_notification",
                Category::Health,
            ),
            ("aws_elasticache_some_future_code", Category::Health),
            ("snapshot_complete", Category::Other),
            ("cache_nodes_rebooted", Category::Other),
            ("unrecognized", Category::Other),
        ];
        for (kind, category) in cases {
            assert_eq!(EventKind::new(kind).category(), category, "{kind}");
        }
    }
}
