//! The account as a whole: service updates not applied yet (`DescribeUpdateActions`), every
//! cluster and group with its notification topic (`DescribeCacheClusters`,
//! `DescribeReplicationGroups`), setting our topic (`ModifyReplicationGroup`,
//! `ModifyCacheCluster`), and `TestFailover`.

use aws_sdk_elasticache::types::{UpdateAction, UpdateActionStatus};
use cachewatch_core::cluster::facts::Engine;
use cachewatch_core::fleet::{
    ClusterTopic, Fleet, GroupMembers, Resource, ServiceUpdate, UpdateSeverity, UpdateStatus,
};
use cachewatch_core::model::ids::{ClusterId, ReplicationGroupId};

use super::{ElastiCache, ElastiCacheError, Pager, from_aws_time};

/// ElastiCache publishes only to an active topic.
const ACTIVE: &str = "active";

impl ElastiCache {
    /// Every service update not applied yet, on every replication group and cluster, through
    /// every page. Update actions that name neither a group nor a cluster are left out.
    pub async fn pending_service_updates(&self) -> Result<Vec<ServiceUpdate>, ElastiCacheError> {
        let statuses: Vec<UpdateActionStatus> = UpdateStatus::PENDING
            .iter()
            .map(|s| UpdateActionStatus::from(s.as_str()))
            .collect();
        let mut out = Vec::new();
        let mut pager = Pager::new("DescribeUpdateActions");
        loop {
            let page = self
                .client
                .describe_update_actions()
                .set_update_action_status(Some(statuses.clone()))
                .max_records(self.page_size)
                .set_marker(pager.marker())
                .send()
                .await
                .map_err(|e| ElastiCacheError::call("DescribeUpdateActions", e))?;
            out.extend(page.update_actions().iter().filter_map(service_update));
            if !pager.next(page.marker())? {
                return Ok(out);
            }
        }
    }

    /// Every cache cluster with its notification topic, and every replication group with its
    /// members, through every page: what [`cachewatch_core::fleet::audit_coverage`] reads.
    pub async fn coverage(&self) -> Result<Fleet, ElastiCacheError> {
        let mut fleet = Fleet::default();
        let mut pager = Pager::new("DescribeCacheClusters");
        loop {
            let page = self
                .client
                .describe_cache_clusters()
                .max_records(self.page_size)
                .set_marker(pager.marker())
                .send()
                .await
                .map_err(|e| ElastiCacheError::call("DescribeCacheClusters", e))?;
            fleet
                .clusters
                .extend(page.cache_clusters().iter().filter_map(|c| {
                    let topic = c.notification_configuration();
                    Some(ClusterTopic {
                        cluster_id: ClusterId::parse(c.cache_cluster_id()?).ok()?,
                        replication_group_id: c
                            .replication_group_id()
                            .and_then(|g| ReplicationGroupId::parse(g).ok()),
                        engine: c.engine().and_then(Engine::parse),
                        topic_arn: topic.and_then(|t| t.topic_arn()).map(str::to_owned),
                        topic_status: topic.and_then(|t| t.topic_status()).map(str::to_owned),
                    })
                }));
            if !pager.next(page.marker())? {
                break;
            }
        }
        let mut pager = Pager::new("DescribeReplicationGroups");
        loop {
            let page = self
                .client
                .describe_replication_groups()
                .max_records(self.page_size)
                .set_marker(pager.marker())
                .send()
                .await
                .map_err(|e| ElastiCacheError::call("DescribeReplicationGroups", e))?;
            fleet
                .replication_groups
                .extend(page.replication_groups().iter().filter_map(|g| {
                    Some(GroupMembers {
                        replication_group_id: ReplicationGroupId::parse(g.replication_group_id()?)
                            .ok()?,
                        engine: g.engine().and_then(Engine::parse),
                        member_clusters: g
                            .member_clusters()
                            .iter()
                            .filter_map(|m| ClusterId::parse(m).ok())
                            .collect(),
                    })
                }));
            if !pager.next(page.marker())? {
                return Ok(fleet);
            }
        }
    }

    /// Sets `topic_arn`, active, as the notification topic of `resource`: on every member of a
    /// replication group (`ModifyReplicationGroup`), or on a cluster outside any
    /// (`ModifyCacheCluster`). Nothing else changes; in particular no pending modification is
    /// applied early (`ApplyImmediately` is not sent).
    pub async fn set_notification_topic(
        &self,
        resource: &Resource,
        topic_arn: &str,
    ) -> Result<(), ElastiCacheError> {
        match resource {
            Resource::ReplicationGroup(group) => {
                self.client
                    .modify_replication_group()
                    .replication_group_id(group.as_str())
                    .notification_topic_arn(topic_arn)
                    .notification_topic_status(ACTIVE)
                    .send()
                    .await
                    .map_err(|e| ElastiCacheError::call("ModifyReplicationGroup", e))?;
            }
            Resource::Cluster(cluster) => {
                self.client
                    .modify_cache_cluster()
                    .cache_cluster_id(cluster.as_str())
                    .notification_topic_arn(topic_arn)
                    .notification_topic_status(ACTIVE)
                    .send()
                    .await
                    .map_err(|e| ElastiCacheError::call("ModifyCacheCluster", e))?;
            }
        }
        Ok(())
    }

    /// Starts a test failover of shard `node_group` (`0001`) of `replication_group`: a replica
    /// is promoted, and the events of it follow in DescribeEvents. ElastiCache allows 15 node
    /// groups per rolling 24 hours and refuses more.
    pub async fn test_failover(
        &self,
        replication_group: &ReplicationGroupId,
        node_group: &str,
    ) -> Result<(), ElastiCacheError> {
        self.client
            .test_failover()
            .replication_group_id(replication_group.as_str())
            .node_group_id(node_group)
            .send()
            .await
            .map_err(|e| ElastiCacheError::call("TestFailover", e))?;
        Ok(())
    }
}

/// An update action as a [`ServiceUpdate`], when it names its update and what it applies to.
fn service_update(action: &UpdateAction) -> Option<ServiceUpdate> {
    let resource = match (action.replication_group_id(), action.cache_cluster_id()) {
        (Some(group), _) => Resource::ReplicationGroup(ReplicationGroupId::parse(group).ok()?),
        (None, Some(cluster)) => Resource::Cluster(ClusterId::parse(cluster).ok()?),
        (None, None) => return None,
    };
    Some(ServiceUpdate {
        name: action.service_update_name()?.to_owned(),
        resource,
        severity: action
            .service_update_severity()
            .map(|s| UpdateSeverity::parse(s.as_str())),
        status: action
            .update_action_status()
            .map_or(UpdateStatus::Other(String::new()), |s| {
                UpdateStatus::parse(s.as_str())
            }),
        release_date: action.service_update_release_date().and_then(from_aws_time),
        apply_by: action
            .service_update_recommended_apply_by_date()
            .and_then(from_aws_time),
        update_type: action.service_update_type().map(|t| t.as_str().to_owned()),
        engine: action.engine().and_then(Engine::parse),
    })
}

#[cfg(test)]
mod tests {
    use aws_sdk_elasticache::primitives::DateTime as AwsDateTime;
    use aws_sdk_elasticache::types::{ServiceUpdateSeverity, ServiceUpdateType};

    use super::*;

    #[test]
    fn an_update_action_reads_as_a_service_update() {
        let action = UpdateAction::builder()
            .service_update_name("elasticache-20260608-002")
            .cache_cluster_id("sessions")
            .service_update_severity(ServiceUpdateSeverity::Important)
            .service_update_type(ServiceUpdateType::SecurityUpdate)
            .service_update_recommended_apply_by_date(AwsDateTime::from_secs(1_782_000_000))
            .update_action_status(UpdateActionStatus::from("paused-by-aws"))
            .engine("Memcached")
            .build();
        let update = service_update(&action).unwrap();
        assert_eq!(
            update.resource,
            Resource::Cluster(ClusterId::parse("sessions").unwrap())
        );
        assert_eq!(update.severity, Some(UpdateSeverity::Important));
        assert_eq!(
            update.status,
            UpdateStatus::Other("paused-by-aws".to_owned())
        );
        assert_eq!(update.update_type.as_deref(), Some("security-update"));
        assert_eq!(update.engine, Some(Engine::Memcached));
        assert_eq!(update.apply_by.unwrap().timestamp(), 1_782_000_000);
        assert!(
            service_update(&UpdateAction::builder().service_update_name("x").build()).is_none()
        );
    }
}
