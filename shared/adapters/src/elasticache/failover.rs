//! What a rehearsed failover asks of ElastiCache besides `TestFailover` itself
//! ([`ElastiCache::test_failover`]): the replication group as the guard rails need it
//! (`DescribeReplicationGroups`, then `ListTagsForResource` on its ARN), and the events of the
//! group and of the shard's clusters since the call (`DescribeEvents`, one source at a time).
//!
//! The decisions (may it start, is it over) are the domain's: [`cachewatch_core::operations::failover`].

use cachewatch_core::cluster::facts::{Engine, NodeRole};
use cachewatch_core::model::ids::ReplicationGroupId;
use cachewatch_core::operations::failover::{FailoverTarget, GroupTags, Shard, ShardMember};
use chrono::{DateTime, Utc};

use super::{ElastiCache, ElastiCacheError, ErrorKind, EventQuery, EventRecord};
use aws_sdk_elasticache::types::AutomaticFailoverStatus;

/// Why the replication group of a rehearsal cannot be described.
#[derive(Debug, thiserror::Error)]
pub enum FailoverLookupError {
    /// ElastiCache knows no such group (in this account and Region).
    #[error("ElastiCache describes no replication group {0} (in this account and Region)")]
    NoSuchGroup(String),
    /// ElastiCache could not be asked.
    #[error(transparent)]
    ElastiCache(#[from] ElastiCacheError),
}

impl ElastiCache {
    /// Replication group `group` as a rehearsal needs to know it: its shards and their members'
    /// roles, whether it fails over automatically, and its tags. Tags that cannot be read are
    /// reported as such (with why), not as an error: the guard rails decide what that means.
    pub async fn failover_target(
        &self,
        group: &ReplicationGroupId,
    ) -> Result<FailoverTarget, FailoverLookupError> {
        let described = match self.describe_group(group.as_str()).await {
            Ok(Some(described)) => described,
            Ok(None) => return Err(FailoverLookupError::NoSuchGroup(group.to_string())),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(FailoverLookupError::NoSuchGroup(group.to_string()));
            }
            Err(e) => return Err(e.into()),
        };
        let shards = described
            .node_groups()
            .iter()
            .filter_map(|ng| {
                Some(Shard {
                    node_group_id: ng.node_group_id()?.to_owned(),
                    members: ng
                        .node_group_members()
                        .iter()
                        .filter_map(|m| {
                            Some(ShardMember {
                                cluster_id: m.cache_cluster_id()?.to_owned(),
                                role: m.current_role().and_then(NodeRole::parse),
                            })
                        })
                        .collect(),
                })
            })
            .collect();
        let tags = match described.arn() {
            Some(arn) => match self.tags(arn).await {
                Ok(tags) => GroupTags::Read(tags),
                Err(e) => GroupTags::Unreadable(e.to_string()),
            },
            None => GroupTags::Unreadable(format!(
                "ElastiCache reported no ARN for replication group {group}"
            )),
        };
        Ok(FailoverTarget {
            replication_group_id: group.clone(),
            engine: described.engine().and_then(Engine::parse),
            automatic_failover: match described.automatic_failover() {
                Some(AutomaticFailoverStatus::Enabled) => Some(true),
                Some(AutomaticFailoverStatus::Disabled) => Some(false),
                _ => None,
            },
            shards,
            member_clusters: described.member_clusters().to_vec(),
            tags,
        })
    }

    /// The DescribeEvents records of replication group `group` and of `clusters` from `since`
    /// on, oldest first: what a rehearsal follows.
    pub async fn failover_records(
        &self,
        group: &ReplicationGroupId,
        clusters: impl IntoIterator<Item = &str>,
        since: DateTime<Utc>,
    ) -> Result<Vec<EventRecord>, ElastiCacheError> {
        // ElastiCache's clock may run ahead of ours: ask a little past now.
        let until = Utc::now() + chrono::Duration::minutes(5);
        let mut sources = vec![("replication-group", group.to_string())];
        sources.extend(
            clusters
                .into_iter()
                .map(|c| ("cache-cluster", c.to_owned())),
        );
        let mut records = Vec::new();
        for (source_type, source) in sources {
            let query = EventQuery::between(since, until).about(source_type, &source);
            records.extend(self.describe_events(&query, None).await?);
        }
        records.sort_by(|a, b| {
            (a.date, &a.source_type, &a.source_identifier, &a.message).cmp(&(
                b.date,
                &b.source_type,
                &b.source_identifier,
                &b.message,
            ))
        });
        records.dedup();
        Ok(records)
    }
}
