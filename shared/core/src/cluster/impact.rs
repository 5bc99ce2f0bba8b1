//! What a planned node replacement does to a Valkey or Redis OSS primary, as AWS documents it,
//! worked out once from the cluster's facts so that the alert and the runbook say the same thing.
//!
//! AWS's "Minimizing downtime with Multi-AZ" page ([`sources::MULTI_AZ`]) says that planned node
//! replacements complete while the cluster serves incoming writes with cluster mode enabled,
//! and with cluster mode disabled and Multi-AZ on engine 5.0.6 or later; that with cluster mode
//! disabled and Multi-AZ on 4.0.10 or older a brief write interruption of up to a few seconds
//! comes with the DNS update; and that without Multi-AZ the downtime is not minimized. The
//! "Minimizing downtime during maintenance" page ([`sources::MINIMIZE_DOWNTIME`]) adds that with
//! automatic failover off the node's role does not change and the downtime is higher. The
//! "Replacing nodes" page ([`sources::NODE_REPLACEMENT`]) says that a node without replicas is
//! not available for requests while its replacement syncs from it.

use crate::cluster::facts::{ClusterFacts, Engine};

/// AWS documentation pages the runbooks and alerts cite, each next to the claim it supports.
pub mod sources {
    /// Replacing nodes (Valkey and Redis OSS): the ways to handle a scheduled replacement.
    pub const NODE_REPLACEMENT: &str =
        "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/CacheNodes.NodeReplacement.html";
    /// Replacing nodes (Memcached).
    pub const NODE_REPLACEMENT_MEMCACHED: &str = "https://docs.aws.amazon.com/AmazonElastiCache/latest/mem-ug/CacheNodes.NodeReplacement.html";
    /// Minimizing downtime in ElastiCache by using Multi-AZ with Valkey and Redis OSS.
    pub const MULTI_AZ: &str =
        "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/AutoFailover.html";
    /// Best practices: minimizing downtime during maintenance.
    pub const MINIMIZE_DOWNTIME: &str = "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/BestPractices.MinimizeDowntime.html";
    /// The TestFailover API reference: a test tool, 15 node groups per rolling 24 hours.
    pub const TEST_FAILOVER: &str =
        "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_TestFailover.html";
    /// Snapshot and restore: backup constraints, reserved memory, restoring into a new cache.
    pub const BACKUPS: &str =
        "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/backups.html";
    /// CloudWatch GetMetricStatistics: the 1,440-point limit and how long each period is kept.
    pub const GET_METRIC_STATISTICS: &str = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html";
    /// DescribeEvents: 14 days of events.
    pub const DESCRIBE_EVENTS: &str =
        "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_DescribeEvents.html";
    /// DNS names and underlying IP: clients must resolve endpoints often.
    pub const CLIENT_DNS: &str =
        "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/ClientConfig.DNS.html";
    /// Lettuce client configuration: a JVM DNS TTL of 5 to 10 seconds, topology refresh.
    pub const CLIENT_LETTUCE: &str = "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/BestPractices.Clients-lettuce.html";
    /// The CreateCacheCluster API reference: a Valkey or Redis OSS cache cluster has one node.
    pub const CREATE_CACHE_CLUSTER: &str = "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateCacheCluster.html";
    /// Metrics for Valkey and Redis OSS (ReplicationLag, DatabaseMemoryUsagePercentage...).
    pub const METRICS: &str =
        "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/CacheMetrics.Redis.html";
    /// ElastiCache in-transit encryption (TLS).
    pub const IN_TRANSIT_ENCRYPTION: &str =
        "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/in-transit-encryption.html";
    /// The AUTH command: a token, only with in-transit encryption; superseded by RBAC.
    pub const AUTH: &str = "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth.html";
    /// Role-based access control: users in user groups.
    pub const RBAC: &str =
        "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Clusters.RBAC.html";
    /// Data tiering: values moved between memory and SSD on r6gd nodes; backups restore only
    /// into r6gd clusters.
    pub const DATA_TIERING: &str =
        "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/data-tiering.html";
    /// Global Datastore prerequisites and limitations: no automatic failover across Regions.
    pub const GLOBAL_DATASTORE: &str = "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Redis-Global-Datastores-Getting-Started.html";
    /// FailoverGlobalReplicationGroup: promoting a secondary Region by hand.
    pub const GLOBAL_FAILOVER: &str = "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_FailoverGlobalReplicationGroup.html";
    /// Durability options (Valkey 9 and later): synchronous and asynchronous writes.
    pub const DURABILITY: &str =
        "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Durability.Options.html";
    /// ElastiCache Extended Support: Redis OSS 4 and 5 past the end of standard support.
    pub const EXTENDED_SUPPORT: &str =
        "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/extended-support.html";
    /// Online resharding (cluster mode enabled): adding and removing shards.
    pub const ONLINE_RESHARDING: &str = "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/scaling-redis-cluster-mode-enabled.html";
    /// Managing reserved memory for Valkey and Redis OSS: backups and failovers record writes
    /// in the memory left free; 25% of `maxmemory` is the default and the recommendation.
    pub const RESERVED_MEMORY: &str =
        "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/redis-memory-management.html";
    /// AWS Health's EventBridge schema: the fields of a Health event, the
    /// `AWS_{SERVICE}_PLANNED_LIFECYCLE_EVENT` pattern, `communicationId` for duplicates.
    pub const HEALTH_EVENT_SCHEMA: &str =
        "https://docs.aws.amazon.com/health/latest/ug/aws-health-events-eventbridge-schema.html";
    /// Service updates in ElastiCache: how they are announced, their types, applying them.
    pub const SERVICE_UPDATES: &str =
        "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Self-Service-Updates.html";
    /// The ServiceUpdate type: the recommended apply-by date, and whether the update is applied
    /// automatically once it has passed.
    pub const SERVICE_UPDATE_TYPE: &str =
        "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_ServiceUpdate.html";
    /// `aws elasticache batch-apply-update-action`: its options and their limits.
    pub const BATCH_APPLY_UPDATE_ACTION: &str = "https://docs.aws.amazon.com/cli/latest/reference/elasticache/batch-apply-update-action.html";
    /// Engine versions and upgrading, the cross-engine upgrade from Redis OSS to Valkey included.
    pub const ENGINE_VERSIONS: &str =
        "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/engine-versions.html";
    /// Upgrade considerations for node-based clusters (minimal downtime from Redis OSS 5.0.6).
    pub const UPGRADE_CONSIDERATIONS: &str = "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/VersionManagement-upgrade-considerations.html";
    /// Major version behavior and compatibility differences with Redis OSS (upgrading directly
    /// to the latest version).
    pub const VERSION_COMPATIBILITY: &str = "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/VersionManagementConsiderations.html";
    /// Removing nodes from a Memcached cluster.
    pub const MEMCACHED_REMOVE_NODE: &str =
        "https://docs.aws.amazon.com/AmazonElastiCache/latest/mem-ug/Clusters.DeleteNode.html";
}

/// Where the engine version stands in ElastiCache's support lifecycle, where AWS documents it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EngineSupport {
    /// Redis OSS 4 or 5 before 2026-02-01: standard support ends on 2026-01-31.
    StandardEnding,
    /// Redis OSS 4 or 5 from 2026-02-01: in paid Extended Support until 2029-01-31, then
    /// upgraded to the latest Valkey by ElastiCache.
    ExtendedSupport,
}

impl EngineSupport {
    /// The status's name as templates see it.
    pub fn as_str(self) -> &'static str {
        match self {
            EngineSupport::StandardEnding => "standard_ending",
            EngineSupport::ExtendedSupport => "extended_support",
        }
    }

    /// One plain sentence for people, without markup.
    pub fn summary(self) -> &'static str {
        match self {
            EngineSupport::StandardEnding => {
                "ElastiCache's standard support for Redis OSS 4 and 5 ends on 2026-01-31; caches still on them are then enrolled in paid Extended Support."
            }
            EngineSupport::ExtendedSupport => {
                "ElastiCache's standard support for Redis OSS 4 and 5 ended on 2026-01-31: the cluster runs on paid Extended Support, which ends on 2029-01-31, after which ElastiCache upgrades it to the latest Valkey."
            }
        }
    }
}

/// The support status of the engine in `facts` at `now`, for the versions whose dates AWS's
/// Extended Support page gives (Redis OSS 4 and 5); `None` for any other or unknown version.
pub fn engine_support(
    facts: &ClusterFacts,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<EngineSupport> {
    if facts.engine != Some(Engine::Redis) {
        return None;
    }
    let old = facts.engine_version_at_least((4, 0, 0)) && facts.engine_version_at_most((5, 99, 99));
    if !old {
        return None;
    }
    let end = chrono::NaiveDate::from_ymd_opt(2026, 2, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())?;
    Some(if now < end {
        EngineSupport::StandardEnding
    } else {
        EngineSupport::ExtendedSupport
    })
}

/// What a planned replacement of a primary does to writes, by what AWS documents for the
/// cluster's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrimaryImpact {
    /// Cluster mode enabled, or disabled with Multi-AZ on 5.0.6 or later: the replacement
    /// completes while the cluster serves writes.
    WritesContinue,
    /// Cluster mode disabled, Multi-AZ on, engine 4.0.10 or older: a brief write interruption,
    /// up to a few seconds, with the DNS update.
    BriefWriteInterruption,
    /// Cluster mode disabled with Multi-AZ on, but an engine version AWS's page does not cover
    /// (later than 4.0.10 and earlier than 5.0.6) or that is not known.
    VersionNotCovered,
    /// Automatic failover on but Multi-AZ off: AWS's statements above do not apply; some
    /// downtime, not minimized.
    FailoverWithoutMultiAz,
    /// Automatic failover off (replicas present): the node keeps its role and is replaced in
    /// place; the downtime is higher than with automatic failover.
    NoAutomaticFailover,
    /// No replica: the node is not available while its replacement syncs from it.
    NoReplica,
    /// Not known: cluster mode, Multi-AZ or automatic failover is missing.
    Unknown,
}

impl PrimaryImpact {
    /// The impact's name as templates see it.
    pub fn as_str(self) -> &'static str {
        match self {
            PrimaryImpact::WritesContinue => "writes_continue",
            PrimaryImpact::BriefWriteInterruption => "brief_write_interruption",
            PrimaryImpact::VersionNotCovered => "version_not_covered",
            PrimaryImpact::FailoverWithoutMultiAz => "failover_without_multi_az",
            PrimaryImpact::NoAutomaticFailover => "no_automatic_failover",
            PrimaryImpact::NoReplica => "no_replica",
            PrimaryImpact::Unknown => "unknown",
        }
    }

    /// One plain sentence for people (alerts), without markup.
    pub fn summary(self) -> &'static str {
        match self {
            PrimaryImpact::WritesContinue => {
                "AWS documents that this planned replacement completes while the cluster serves writes: the primary role moves to a replica, connections to the old primary are reset, and clients that use the primary or configuration endpoint (and refresh their topology) carry on."
            }
            PrimaryImpact::BriefWriteInterruption => {
                "AWS documents a brief write interruption, up to a few seconds, with the DNS update of the primary endpoint (cluster mode disabled, Multi-AZ, engine 4.0.10 or older)."
            }
            PrimaryImpact::VersionNotCovered => {
                "AWS documents writes continuing on 5.0.6 or later and a write interruption of a few seconds on 4.0.10 or older; this engine version is in neither statement, so plan for the few seconds."
            }
            PrimaryImpact::FailoverWithoutMultiAz => {
                "Multi-AZ is off: AWS's statement that writes continue does not apply, and AWS says the downtime is only minimized with Multi-AZ; it gives no duration."
            }
            PrimaryImpact::NoAutomaticFailover => {
                "Automatic failover is off: the node keeps its role and is replaced in place, so writes fail while it is; AWS says the downtime is higher than with automatic failover and gives no duration."
            }
            PrimaryImpact::NoReplica => {
                "No replica: AWS says the node is not available for requests while its replacement syncs from it; reads and writes fail until it is back, and AWS keeps the data on a best-effort basis."
            }
            PrimaryImpact::Unknown => {
                "It depends on cluster mode, Multi-AZ, automatic failover, replicas and the engine version, which are not known yet: from writes continuing throughout to the node being unavailable until it is replaced."
            }
        }
    }

    /// The AWS page the summary comes from.
    pub fn source(self) -> &'static str {
        match self {
            PrimaryImpact::NoAutomaticFailover => sources::MINIMIZE_DOWNTIME,
            PrimaryImpact::NoReplica => sources::NODE_REPLACEMENT,
            _ => sources::MULTI_AZ,
        }
    }
}

/// What a planned replacement of the primary described by `facts` does, as AWS documents it.
pub fn primary_impact(facts: &ClusterFacts) -> PrimaryImpact {
    if facts.replicas_per_shard == Some(0) {
        return PrimaryImpact::NoReplica;
    }
    if facts.cluster_mode_enabled == Some(true) {
        return PrimaryImpact::WritesContinue;
    }
    match (facts.automatic_failover, facts.multi_az) {
        (Some(false), _) => PrimaryImpact::NoAutomaticFailover,
        (Some(true), Some(false)) => PrimaryImpact::FailoverWithoutMultiAz,
        (_, Some(true)) if facts.cluster_mode_enabled == Some(false) => {
            // Valkey's versions (7.2 and later) are all past Redis OSS 5.0.6.
            if facts.engine == Some(Engine::Valkey) || facts.engine_version_at_least((5, 0, 6)) {
                PrimaryImpact::WritesContinue
            } else if facts.engine_version_at_most((4, 0, 10)) {
                PrimaryImpact::BriefWriteInterruption
            } else {
                PrimaryImpact::VersionNotCovered
            }
        }
        _ => PrimaryImpact::Unknown,
    }
}

/// The engine a node id alone shows: Valkey and Redis OSS cache clusters hold exactly one node,
/// `0001`, so a node numbered `0002` or higher belongs to Memcached.
pub fn engine_from_node_id(node_id: &str) -> Option<Engine> {
    let number: u32 = node_id.trim().parse().ok()?;
    (number >= 2).then_some(Engine::Memcached)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(
        mode: Option<bool>,
        af: Option<bool>,
        maz: Option<bool>,
        version: &str,
    ) -> ClusterFacts {
        ClusterFacts {
            engine: Some(Engine::Redis),
            engine_version: Some(version.into()),
            cluster_mode_enabled: mode,
            automatic_failover: af,
            multi_az: maz,
            replicas_per_shard: Some(2),
            ..ClusterFacts::default()
        }
    }

    #[test]
    fn the_impact_on_a_primary_follows_what_aws_documents() {
        use PrimaryImpact::*;
        let t = Some(true);
        let f = Some(false);
        let cases = [
            (
                "cluster mode enabled",
                facts(t, t, t, "6.2.6"),
                WritesContinue,
            ),
            ("CMD Multi-AZ 7.1", facts(f, t, t, "7.1.0"), WritesContinue),
            (
                "CMD Multi-AZ 5.0.6",
                facts(f, t, t, "5.0.6"),
                WritesContinue,
            ),
            (
                "CMD Multi-AZ 5.0.3",
                facts(f, t, t, "5.0.3"),
                VersionNotCovered,
            ),
            (
                "CMD Multi-AZ 4.0.10",
                facts(f, t, t, "4.0.10"),
                BriefWriteInterruption,
            ),
            (
                "CMD automatic failover without Multi-AZ",
                facts(f, t, f, "7.1.0"),
                FailoverWithoutMultiAz,
            ),
            (
                "automatic failover off",
                facts(f, f, f, "7.1.0"),
                NoAutomaticFailover,
            ),
            ("nothing known", ClusterFacts::default(), Unknown),
        ];
        for (name, facts, expected) in cases {
            assert_eq!(primary_impact(&facts), expected, "{name}");
        }
        let alone = ClusterFacts {
            replicas_per_shard: Some(0),
            ..facts(t, t, t, "7.1.0")
        };
        assert_eq!(primary_impact(&alone), NoReplica);
        let valkey = ClusterFacts {
            engine: Some(Engine::Valkey),
            engine_version: Some("8.0".into()),
            ..facts(f, t, t, "x")
        };
        assert_eq!(primary_impact(&valkey), WritesContinue);
    }

    #[test]
    fn no_impact_speaks_of_minutes_measured_by_someone() {
        use PrimaryImpact::*;
        for impact in [
            WritesContinue,
            BriefWriteInterruption,
            VersionNotCovered,
            FailoverWithoutMultiAz,
            NoAutomaticFailover,
            NoReplica,
            Unknown,
        ] {
            assert!(!impact.summary().contains("minute"), "{impact:?}");
            assert!(impact.source().starts_with("https://docs.aws.amazon.com/"));
        }
    }

    #[test]
    fn redis_oss_4_and_5_left_standard_support_at_the_end_of_january_2026() {
        let at = |s: &str| {
            chrono::DateTime::parse_from_rfc3339(s)
                .expect("a time")
                .with_timezone(&chrono::Utc)
        };
        let redis = |v: &str| ClusterFacts {
            engine: Some(Engine::Redis),
            engine_version: Some(v.into()),
            ..ClusterFacts::default()
        };
        let after = at("2026-12-06T23:00:00Z");
        let before = at("2026-01-31T23:59:59Z");
        assert_eq!(
            engine_support(&redis("4.0.10"), after),
            Some(EngineSupport::ExtendedSupport)
        );
        assert_eq!(
            engine_support(&redis("5.0.6"), after),
            Some(EngineSupport::ExtendedSupport)
        );
        assert_eq!(
            engine_support(&redis("5.0.6"), before),
            Some(EngineSupport::StandardEnding)
        );
        assert_eq!(engine_support(&redis("6.2.6"), after), None);
        assert_eq!(engine_support(&redis("3.2.10"), after), None);
        assert_eq!(engine_support(&ClusterFacts::default(), after), None);
        let valkey = ClusterFacts {
            engine: Some(Engine::Valkey),
            ..redis("5.0.6")
        };
        assert_eq!(engine_support(&valkey, after), None);
    }

    #[test]
    fn node_ids_past_0001_are_memcached() {
        assert_eq!(engine_from_node_id("0002"), Some(Engine::Memcached));
        assert_eq!(engine_from_node_id("0013"), Some(Engine::Memcached));
        assert_eq!(engine_from_node_id("0001"), None);
        assert_eq!(engine_from_node_id("abc"), None);
    }
}
