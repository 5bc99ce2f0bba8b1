//! A region-wide burst: many replacement notices in one delivery (`describe-events` records, one
//! per line), and what ElastiCache would say of each cluster, by the kind its name gives.

use cachewatch_core::cluster::facts::{ClusterFacts, Engine, NodeRole};
use cachewatch_core::cluster::source::FactsSource;
use cachewatch_core::lifecycle::Maintenance;
use cachewatch_core::model::event::MaintenanceEvent;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

/// The kinds of node of a fleet, by cluster name prefix.
pub const KINDS: [&str; 4] = [
    "redis-primary",
    "redis-replica",
    "valkey-primary",
    "memcached",
];

/// `n` clusters spread over `kinds` of [`KINDS`] in turn: `redis-primary-0000`, `redis-replica-0001`, ...
pub fn fleet(n: usize, kinds: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("{}-{i:04}", KINDS[i % kinds.clamp(1, KINDS.len())]))
        .collect()
}

fn text_time(at: DateTime<Utc>) -> String {
    at.format("%b %d %H:%M UTC").to_string()
}

/// One replacement notice per cluster, each announced a minute apart before `now`, all for
/// node 0001 in the same one-hour window starting at `window`.
pub fn notices(clusters: &[String], window: DateTime<Utc>, now: DateTime<Utc>) -> String {
    clusters
        .iter()
        .enumerate()
        .map(|(i, cluster)| {
            let at = now - Duration::minutes(1 + i64::try_from(i).unwrap_or(0) % 50);
            json!({
                "SourceIdentifier": cluster,
                "SourceType": "cache-cluster",
                "Date": at.to_rfc3339(),
                "Message": format!(
                    "The node with Cache Cluster ID: {cluster}, Node ID: 0001 is scheduled for replacement during the maintenance window from Start Time: {}, End Time: {}",
                    text_time(window),
                    text_time(window + Duration::hours(1))
                ),
            })
            .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The facts of a fleet's clusters, told by their names' prefix (see [`KINDS`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct FleetFacts;

impl FactsSource for FleetFacts {
    async fn facts_for(
        &self,
        event: &MaintenanceEvent,
        _maintenance: Option<&Maintenance>,
    ) -> ClusterFacts {
        let name = event.cluster_label();
        let (engine, role) = match KINDS.iter().find(|k| name.starts_with(*k)) {
            Some(&"redis-primary") => (Engine::Redis, Some(NodeRole::Primary)),
            Some(&"redis-replica") => (Engine::Redis, Some(NodeRole::Replica)),
            Some(&"valkey-primary") => (Engine::Valkey, Some(NodeRole::Primary)),
            Some(_) => (Engine::Memcached, None),
            None => return ClusterFacts::default(),
        };
        ClusterFacts {
            engine: Some(engine),
            node_role: role,
            ..ClusterFacts::default()
        }
    }
}
