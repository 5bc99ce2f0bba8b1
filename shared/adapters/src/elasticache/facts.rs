//! What ElastiCache says about the cluster and node of an event, read into [`ClusterFacts`].
//!
//! One lookup asks, in this order and within one time bound: `DescribeCacheClusters` (engine,
//! version, window, backups setting, TLS, parameter group and pending changes, the node's
//! endpoint), `DescribeCacheParameters` for Valkey and Redis OSS (the reserved memory of the
//! parameter group), `DescribeReplicationGroups` (cluster mode, Multi-AZ, automatic failover,
//! the node's shard and role, replicas, endpoints), `DescribeSnapshots` (the latest backup) and
//! `ListTagsForResource` (the cluster's tags, and production or not). Calls that need only answers
//! already given are made together: after the cluster, its parameter group and replication group;
//! after those, the backups and the tags. Whatever fails or does not answer in time is left
//! unknown and named in `unavailable`, in the order above; what came before it is kept. Lookups
//! are cached briefly.

use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use aws_sdk_elasticache::types::{
    AutomaticFailoverStatus, CacheCluster, ClusterMode, DataTieringStatus, MultiAzStatus,
    NodeGroup, NodeGroupMember, ReplicationGroup,
};
use cachewatch_core::cluster::facts::{ClusterFacts, Engine, NodeRole};
use cachewatch_core::config::tags::Tags;
use cachewatch_core::fleet::production_from_tags;
use cachewatch_core::model::ids::{ClusterId, NodeId, ReplicationGroupId};
use cachewatch_core::{Maintenance, MaintenanceEvent};
use chrono::{DateTime, Utc};

use super::{
    CACHE_ENTRIES, ElastiCache, ElastiCacheError, FAILED_LOOKUP_TTL, Pager, from_aws_time,
};

/// What a lookup was about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum FactsKey {
    /// A node of a cache cluster (the node when the event names one).
    Cluster(String, Option<String>),
    /// A replication group as a whole.
    Group(String),
}

/// Facts, when they were read, and until when they may be reused.
#[derive(Debug, Clone)]
pub(crate) struct Cached {
    facts: ClusterFacts,
    read_at: DateTime<Utc>,
    until: Instant,
}

/// The calls of one lookup, against one deadline.
struct Lookup {
    deadline: tokio::time::Instant,
    bound: std::time::Duration,
    problems: Vec<String>,
    out_of_time: bool,
}

/// A call's answer, or the deadline passed.
type Timed<T> = Result<Result<T, ElastiCacheError>, tokio::time::error::Elapsed>;

/// The output of `call` when there is one to make.
async fn maybe<F: Future>(call: Option<F>) -> Option<F::Output> {
    match call {
        Some(call) => Some(call.await),
        None => None,
    }
}

impl Lookup {
    fn new(bound: std::time::Duration) -> Self {
        Self {
            deadline: tokio::time::Instant::now() + bound,
            bound,
            problems: Vec::new(),
            out_of_time: false,
        }
    }

    /// The answer of `call`, or `None` (noted) if it failed or the time is up.
    async fn ask<T>(
        &mut self,
        operation: &str,
        call: impl Future<Output = Result<T, ElastiCacheError>>,
    ) -> Option<T> {
        if self.out_of_time {
            return None;
        }
        let answer = self.timed(call).await;
        self.take(operation, answer)
    }

    /// `call` within the lookup's deadline, noted nowhere yet: calls that do not need each
    /// other's answers are made together, then each answer is taken in the lookup's order.
    ///
    /// The call is kept on the heap: the SDK's futures are large, and several of them side by
    /// side in one `join!` would not fit a thread's stack in a debug build.
    fn timed<T, F: Future<Output = Result<T, ElastiCacheError>>>(
        &self,
        call: F,
    ) -> Pin<Box<impl Future<Output = Timed<T>> + use<T, F>>> {
        let deadline = self.deadline;
        Box::pin(async move { tokio::time::timeout_at(deadline, call).await })
    }

    /// The answer of a timed call, or `None` (noted) if it failed or the time was up; nothing
    /// more is noted once the time is up.
    fn take<T>(&mut self, operation: &str, answer: Timed<T>) -> Option<T> {
        if self.out_of_time {
            return None;
        }
        match answer {
            Ok(Ok(answer)) => Some(answer),
            Ok(Err(e)) => {
                self.problems.push(e.to_string());
                None
            }
            Err(_) => {
                self.out_of_time = true;
                self.problems.push(format!(
                    "ElastiCache did not answer {operation} within {} ms",
                    self.bound.as_millis()
                ));
                None
            }
        }
    }

    /// Notes a problem that is not an error of the call itself.
    fn note(&mut self, problem: String) {
        self.problems.push(problem);
    }

    /// Every problem, in order, for `ClusterFacts::unavailable` (which a sentence ends).
    fn unavailable(&self) -> Option<String> {
        (!self.problems.is_empty()).then(|| {
            self.problems
                .iter()
                .map(|p| p.trim_end_matches('.'))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }
}

impl ElastiCache {
    /// The facts for `event` (and its maintenance): about its cluster and node when it names
    /// one, else about its replication group, else nothing.
    pub(crate) async fn facts_about(
        &self,
        event: &MaintenanceEvent,
        maintenance: Option<&Maintenance>,
    ) -> ClusterFacts {
        let cluster = event
            .cluster_id
            .clone()
            .or_else(|| maintenance.and_then(|m| m.cluster_id.clone()))
            .or_else(|| {
                (event.source_type == "cache-cluster")
                    .then(|| ClusterId::parse(event.source_id.as_str()).ok())
                    .flatten()
            });
        let node = event
            .node_id
            .clone()
            .or_else(|| maintenance.and_then(|m| m.node_id.clone()));
        let group = event
            .replication_group_id
            .clone()
            .or_else(|| maintenance.and_then(|m| m.replication_group_id.clone()))
            .or_else(|| {
                (event.source_type == "replication-group")
                    .then(|| ReplicationGroupId::parse(event.source_id.as_str()).ok())
                    .flatten()
            });
        match (cluster, group) {
            (Some(cluster), _) => self.cluster_facts(&cluster, node.as_ref()).await,
            (None, Some(group)) => self.group_facts(&group).await,
            (None, None) => ClusterFacts::default(),
        }
    }

    /// What is known about `cluster` (and its `node`), from the cache or from ElastiCache.
    pub async fn cluster_facts(&self, cluster: &ClusterId, node: Option<&NodeId>) -> ClusterFacts {
        let key = FactsKey::Cluster(cluster.to_string(), node.map(ToString::to_string));
        if let Some(facts) = self.cached(&key) {
            return facts;
        }
        let facts = self
            .look_up_cluster(cluster.as_str(), node.map(NodeId::as_str))
            .await;
        self.remember(key, &facts);
        facts
    }

    /// What is known about replication group `group` as a whole (no node role), from the cache
    /// or from ElastiCache.
    pub async fn group_facts(&self, group: &ReplicationGroupId) -> ClusterFacts {
        let key = FactsKey::Group(group.to_string());
        if let Some(facts) = self.cached(&key) {
            return facts;
        }
        let facts = self.look_up_group(group.as_str()).await;
        self.remember(key, &facts);
        facts
    }

    /// An earlier answer still within its reuse window, marked with when it was read.
    fn cached(&self, key: &FactsKey) -> Option<ClusterFacts> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let cached = cache.get(key).filter(|c| c.until > Instant::now())?;
        tracing::info!(
            read_at = %cached.read_at.to_rfc3339(),
            "facts reused from an earlier lookup"
        );
        Some(ClusterFacts {
            reused_from: Some(cached.read_at),
            ..cached.facts.clone()
        })
    }

    fn remember(&self, key: FactsKey, facts: &ClusterFacts) {
        let ttl = if facts.unavailable.is_some() {
            FAILED_LOOKUP_TTL.min(self.facts_ttl)
        } else {
            self.facts_ttl
        };
        if ttl.is_zero() {
            return;
        }
        let now = Instant::now();
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= CACHE_ENTRIES {
            cache.retain(|_, c| c.until > now);
            if cache.len() >= CACHE_ENTRIES {
                cache.clear();
            }
        }
        cache.insert(
            key,
            Cached {
                facts: facts.clone(),
                read_at: Utc::now(),
                until: now + ttl,
            },
        );
    }

    async fn look_up_cluster(&self, cluster_id: &str, node: Option<&str>) -> ClusterFacts {
        let mut lookup = Lookup::new(self.lookup_timeout);
        let mut facts = ClusterFacts::default();
        let Some(cluster) = lookup
            .ask("DescribeCacheClusters", self.describe_cluster(cluster_id))
            .await
            .and_then(|found| {
                if found.is_none() {
                    lookup.note(format!(
                        "ElastiCache describes no cache cluster {cluster_id}"
                    ));
                }
                found
            })
        else {
            facts.unavailable = lookup.unavailable();
            return facts;
        };
        read_cluster(&mut facts, &cluster, node);
        // The parameter group and the replication group need only the cluster's answer.
        let (reserved, group) = tokio::join!(
            maybe(self.reserved_memory_call(&lookup, &facts)),
            maybe(
                cluster
                    .replication_group_id()
                    .map(|id| lookup.timed(self.describe_group(id)))
            ),
        );
        take_reserved_memory(&mut lookup, &mut facts, reserved);
        let group = group
            .and_then(|answer| lookup.take("DescribeReplicationGroups", answer))
            .flatten();
        if let Some(group) = &group {
            read_group(&mut facts, group, Some(cluster_id));
        }
        self.read_backups_and_tags(
            &mut lookup,
            &mut facts,
            cluster
                .replication_group_id()
                .map_or(Subject::Cluster(cluster_id), Subject::Group),
            [group.as_ref().and_then(|g| g.arn()), cluster.arn()],
        )
        .await;
        facts.unavailable = lookup.unavailable();
        facts
    }

    async fn look_up_group(&self, group_id: &str) -> ClusterFacts {
        let mut lookup = Lookup::new(self.lookup_timeout);
        let mut facts = ClusterFacts::default();
        let Some(group) = lookup
            .ask("DescribeReplicationGroups", self.describe_group(group_id))
            .await
            .and_then(|found| {
                if found.is_none() {
                    lookup.note(format!(
                        "ElastiCache describes no replication group {group_id}"
                    ));
                }
                found
            })
        else {
            facts.unavailable = lookup.unavailable();
            return facts;
        };
        read_group(&mut facts, &group, None);
        // The engine version, window and parameter group are the members'; the primary's stand
        // for the group.
        let member = group
            .node_groups()
            .iter()
            .flat_map(|ng| ng.node_group_members())
            .find(|m| m.current_role() == Some("primary"))
            .and_then(|m| m.cache_cluster_id())
            .or_else(|| group.member_clusters().first().map(String::as_str));
        if let Some(member) = member
            && let Some(cluster) = lookup
                .ask("DescribeCacheClusters", self.describe_cluster(member))
                .await
                .flatten()
        {
            let mut from_member = ClusterFacts::default();
            read_cluster(&mut from_member, &cluster, None);
            facts.engine = facts.engine.or(from_member.engine);
            facts.engine_version = from_member.engine_version;
            facts.preferred_maintenance_window = from_member.preferred_maintenance_window;
            facts.pending_reboot_parameters = from_member.pending_reboot_parameters;
            facts.tls_in_transit = facts.tls_in_transit.or(from_member.tls_in_transit);
            facts.cache_parameter_group = from_member.cache_parameter_group;
            self.read_reserved_memory(&mut lookup, &mut facts).await;
        }
        self.read_backups_and_tags(
            &mut lookup,
            &mut facts,
            Subject::Group(group_id),
            [group.arn(), None],
        )
        .await;
        facts.unavailable = lookup.unavailable();
        facts
    }

    /// What the cluster's parameter group sets aside of the memory (Valkey and Redis OSS).
    async fn read_reserved_memory(&self, lookup: &mut Lookup, facts: &mut ClusterFacts) {
        let answer = maybe(self.reserved_memory_call(lookup, facts)).await;
        take_reserved_memory(lookup, facts, answer);
    }

    /// The call that reads the reserved memory of `facts`' parameter group, when there is one to
    /// read (Valkey and Redis OSS) and the time is not up.
    fn reserved_memory_call<'a>(
        &'a self,
        lookup: &Lookup,
        facts: &ClusterFacts,
    ) -> Option<impl Future<Output = Timed<(Option<u32>, Option<u64>)>> + use<'a>> {
        if lookup.out_of_time || !facts.engine.is_some_and(Engine::replicates) {
            return None;
        }
        let name = facts.cache_parameter_group.clone()?;
        Some(lookup.timed(async move { self.reserved_memory(&name).await }))
    }

    /// `reserved-memory-percent` and `reserved-memory` of parameter group `name`, when it sets
    /// them.
    async fn reserved_memory(
        &self,
        name: &str,
    ) -> Result<(Option<u32>, Option<u64>), ElastiCacheError> {
        let (mut percent, mut bytes) = (None, None);
        let mut pager = Pager::new("DescribeCacheParameters");
        loop {
            // DescribeCacheParameters allows 20 to 100 a page.
            let page = self
                .client
                .describe_cache_parameters()
                .cache_parameter_group_name(name)
                .max_records(self.page_size.clamp(20, 100))
                .set_marker(pager.marker())
                .send()
                .await
                .map_err(|e| ElastiCacheError::call("DescribeCacheParameters", e))?;
            for p in page.parameters() {
                let value = p.parameter_value().map(str::trim);
                match p.parameter_name() {
                    Some("reserved-memory-percent") => {
                        percent = value.and_then(|v| v.parse().ok()).or(percent);
                    }
                    Some("reserved-memory") => {
                        bytes = value.and_then(|v| v.parse().ok()).or(bytes);
                    }
                    _ => {}
                }
            }
            if !pager.next(page.marker())? {
                return Ok((percent, bytes));
            }
        }
    }

    async fn read_backups_and_tags(
        &self,
        lookup: &mut Lookup,
        facts: &mut ClusterFacts,
        subject: Subject<'_>,
        arns: [Option<&str>; 2],
    ) {
        if lookup.out_of_time {
            facts.production = None;
            facts.tags = union_of_tags(arns.iter().flatten().map(|_| None).collect());
            return;
        }
        // Memcached keeps no backups.
        let backups = facts.engine.is_none_or(Engine::replicates);
        let (latest, first_tags, second_tags) = tokio::join!(
            maybe(backups.then(|| lookup.timed(self.latest_snapshot(subject)))),
            maybe(arns[0].map(|arn| lookup.timed(self.tags(arn)))),
            maybe(arns[1].map(|arn| lookup.timed(self.tags(arn)))),
        );
        if let Some(latest) = latest.and_then(|answer| lookup.take("DescribeSnapshots", answer)) {
            facts.latest_snapshot_at = latest;
        }
        let mut production = None;
        let mut answers = Vec::with_capacity(2);
        for answer in [first_tags, second_tags].into_iter().flatten() {
            let answer = lookup.take("ListTagsForResource", answer);
            if let Some(tags) = &answer {
                let found =
                    production_from_tags(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                production = Some(production.unwrap_or(false) || found);
            }
            answers.push(answer);
        }
        facts.production = production;
        facts.tags = union_of_tags(answers);
    }

    async fn describe_cluster(&self, id: &str) -> Result<Option<CacheCluster>, ElastiCacheError> {
        let answer = self
            .client
            .describe_cache_clusters()
            .cache_cluster_id(id)
            .show_cache_node_info(true)
            .send()
            .await
            .map_err(|e| ElastiCacheError::call("DescribeCacheClusters", e))?;
        Ok(answer.cache_clusters().first().cloned())
    }

    /// The replication group `id`, when ElastiCache describes one.
    pub(crate) async fn describe_group(
        &self,
        id: &str,
    ) -> Result<Option<ReplicationGroup>, ElastiCacheError> {
        let answer = self
            .client
            .describe_replication_groups()
            .replication_group_id(id)
            .send()
            .await
            .map_err(|e| ElastiCacheError::call("DescribeReplicationGroups", e))?;
        Ok(answer.replication_groups().first().cloned())
    }

    /// When the latest available backup of `subject` was taken (`None`: there is none).
    async fn latest_snapshot(
        &self,
        subject: Subject<'_>,
    ) -> Result<Option<DateTime<Utc>>, ElastiCacheError> {
        let mut latest: Option<DateTime<Utc>> = None;
        let mut pager = Pager::new("DescribeSnapshots");
        loop {
            let request = self.client.describe_snapshots();
            let request = match subject {
                Subject::Group(id) => request.replication_group_id(id),
                Subject::Cluster(id) => request.cache_cluster_id(id),
            };
            // DescribeSnapshots allows at most 50 a page.
            let page = request
                .max_records(self.page_size.min(50))
                .set_marker(pager.marker())
                .send()
                .await
                .map_err(|e| ElastiCacheError::call("DescribeSnapshots", e))?;
            let taken = page
                .snapshots()
                .iter()
                .filter(|s| s.snapshot_status().is_none_or(|st| st == "available"))
                .flat_map(|s| s.node_snapshots())
                .filter_map(|n| n.snapshot_create_time().and_then(from_aws_time));
            latest = taken.fold(latest, |l, t| Some(l.map_or(t, |l| l.max(t))));
            if !pager.next(page.marker())? {
                return Ok(latest);
            }
        }
    }

    /// The tags of the resource `arn`, as (key, value).
    pub(crate) async fn tags(&self, arn: &str) -> Result<Vec<(String, String)>, ElastiCacheError> {
        let answer = self
            .client
            .list_tags_for_resource()
            .resource_name(arn)
            .send()
            .await
            .map_err(|e| ElastiCacheError::call("ListTagsForResource", e))?;
        Ok(answer
            .tag_list()
            .iter()
            .map(|t| {
                (
                    t.key().unwrap_or_default().to_owned(),
                    t.value().unwrap_or_default().to_owned(),
                )
            })
            .collect())
    }
}

/// The tags of a cluster from the answers of `ListTagsForResource`, the replication group's
/// first and the cluster's last: where both carry a key, the cluster's own value wins, being the
/// more particular. Known only when every resource asked answered (a tag missing from an answer
/// that failed could change what a route or mute by tag decides), and when one was asked at all.
fn union_of_tags(answers: Vec<Option<Vec<(String, String)>>>) -> Option<Tags> {
    if answers.is_empty() {
        return None;
    }
    let mut tags = Tags::new();
    for answer in answers {
        tags.extend(answer?);
    }
    Some(tags)
}

/// Whose backups to look for.
#[derive(Debug, Clone, Copy)]
enum Subject<'a> {
    Group(&'a str),
    Cluster(&'a str),
}

/// What `DescribeCacheClusters` says, for `node` when the event names one.
fn read_cluster(facts: &mut ClusterFacts, cluster: &CacheCluster, node: Option<&str>) {
    facts.engine = cluster.engine().and_then(Engine::parse);
    facts.engine_version = cluster.engine_version().map(str::to_owned);
    facts.replication_group_id = cluster.replication_group_id().map(str::to_owned);
    facts.preferred_maintenance_window = cluster.preferred_maintenance_window().map(str::to_owned);
    facts.snapshot_retention_days = cluster
        .snapshot_retention_limit()
        .and_then(|days| u32::try_from(days).ok());
    facts.tls_in_transit = cluster.transit_encryption_enabled();
    facts.auth_token_enabled = cluster.auth_token_enabled();
    facts.num_cache_nodes = cluster
        .num_cache_nodes()
        .and_then(|n| u32::try_from(n).ok());
    facts.pending_reboot_parameters = pending_changes(cluster);
    facts.cache_parameter_group = cluster
        .cache_parameter_group()
        .and_then(|g| g.cache_parameter_group_name())
        .map(str::to_owned);
    let nodes = cluster.cache_nodes();
    let this_node = match node {
        Some(id) => nodes.iter().find(|n| n.cache_node_id() == Some(id)),
        None if nodes.len() == 1 => nodes.first(),
        None => None,
    };
    if let Some(endpoint) = this_node.and_then(|n| n.endpoint()) {
        facts.node_endpoint = endpoint.address().map(str::to_owned);
        facts.port = endpoint.port().and_then(|p| u16::try_from(p).ok());
    }
    if let Some(endpoint) = cluster.configuration_endpoint() {
        facts.configuration_endpoint = endpoint.address().map(str::to_owned);
        facts.port = facts
            .port
            .or_else(|| endpoint.port().and_then(|p| u16::try_from(p).ok()));
    }
}

/// What waits to be applied: parameter-group changes pending a reboot, and modifications
/// pending the maintenance window. `None` when ElastiCache said nothing about either.
fn pending_changes(cluster: &CacheCluster) -> Option<Vec<String>> {
    let group = cluster.cache_parameter_group();
    let pending = cluster.pending_modified_values();
    if group.is_none() && pending.is_none() {
        return None;
    }
    let mut out = Vec::new();
    if let Some(group) = group
        && group.parameter_apply_status() == Some("pending-reboot")
    {
        out.push(format!(
            "parameter group {} (pending-reboot)",
            group
                .cache_parameter_group_name()
                .unwrap_or("of the cluster")
        ));
    }
    if let Some(p) = pending {
        if let Some(v) = p.engine_version() {
            out.push(format!("engine version {v} (pending modification)"));
        }
        if let Some(t) = p.cache_node_type() {
            out.push(format!("node type {t} (pending modification)"));
        }
        if let Some(n) = p.num_cache_nodes() {
            out.push(format!("number of nodes {n} (pending modification)"));
        }
        if let Some(tls) = p.transit_encryption_enabled() {
            let state = if tls { "on" } else { "off" };
            out.push(format!(
                "encryption in transit {state} (pending modification)"
            ));
        }
    }
    Some(out)
}

/// The group's access, storage and cross-Region settings: AUTH and RBAC, data tiering, Global
/// Datastore membership, durability, and its shard count.
fn read_group_settings(facts: &mut ClusterFacts, group: &ReplicationGroup) {
    facts.auth_token_enabled = group.auth_token_enabled().or(facts.auth_token_enabled);
    facts.user_group_ids = Some(group.user_group_ids().to_vec());
    facts.data_tiering = match group.data_tiering() {
        Some(DataTieringStatus::Enabled) => Some(true),
        Some(DataTieringStatus::Disabled) => Some(false),
        _ => None,
    };
    let global = group.global_replication_group_info();
    facts.global_datastore_id = global
        .and_then(|g| g.global_replication_group_id())
        .map(str::to_owned);
    facts.global_datastore_role = global
        .and_then(|g| g.global_replication_group_member_role())
        .map(str::to_owned);
    facts.durability = group.effective_durability().map(|d| d.as_str().to_owned());
    facts.node_group_count = u32::try_from(group.node_groups().len())
        .ok()
        .filter(|n| *n > 0);
}

/// What `DescribeReplicationGroups` says, about `member` when the facts are about one node.
fn read_group(facts: &mut ClusterFacts, group: &ReplicationGroup, member: Option<&str>) {
    facts.replication_group_id = group.replication_group_id().map(str::to_owned);
    facts.engine = facts
        .engine
        .or_else(|| group.engine().and_then(Engine::parse));
    facts.cluster_mode_enabled = group.cluster_enabled().or(match group.cluster_mode() {
        Some(ClusterMode::Enabled) => Some(true),
        Some(ClusterMode::Disabled) => Some(false),
        _ => None,
    });
    facts.multi_az = match group.multi_az() {
        Some(MultiAzStatus::Enabled) => Some(true),
        Some(MultiAzStatus::Disabled) => Some(false),
        _ => None,
    };
    facts.automatic_failover = match group.automatic_failover() {
        Some(AutomaticFailoverStatus::Enabled) => Some(true),
        Some(AutomaticFailoverStatus::Disabled) => Some(false),
        _ => None,
    };
    // The group's retention is the one in force; a member's may be unset.
    if let Some(days) = group
        .snapshot_retention_limit()
        .and_then(|d| u32::try_from(d).ok())
    {
        facts.snapshot_retention_days = Some(days);
    }
    facts.tls_in_transit = facts.tls_in_transit.or(group.transit_encryption_enabled());
    read_group_settings(facts, group);
    if let Some(endpoint) = group.configuration_endpoint() {
        facts.configuration_endpoint = endpoint.address().map(str::to_owned);
        facts.port = endpoint
            .port()
            .and_then(|p| u16::try_from(p).ok())
            .or(facts.port);
    }
    read_shard(facts, group.node_groups(), member);
}

/// What the node's shard says: its replicas, endpoints, and the node's role among its members.
fn read_shard(facts: &mut ClusterFacts, shards: &[NodeGroup], member: Option<&str>) {
    let shard = match member {
        Some(id) => shards.iter().find(|ng| {
            ng.node_group_members()
                .iter()
                .any(|m| m.cache_cluster_id() == Some(id))
        }),
        None if shards.len() == 1 => shards.first(),
        None => None,
    };
    // Replicas per shard: the same in every shard unless the group was resharded unevenly; the
    // node's own shard is the one that matters.
    let counted = shard.or(shards.first());
    if let Some(ng) = counted {
        facts.replicas_per_shard =
            u32::try_from(ng.node_group_members().len().saturating_sub(1)).ok();
    }
    let Some(ng) = shard else {
        return;
    };
    if let Some(endpoint) = ng.primary_endpoint() {
        facts.primary_endpoint = endpoint.address().map(str::to_owned);
        facts.port = endpoint
            .port()
            .and_then(|p| u16::try_from(p).ok())
            .or(facts.port);
    }
    facts.reader_endpoint = ng
        .reader_endpoint()
        .and_then(|e| e.address())
        .map(str::to_owned);
    if let Some(member) = member {
        facts.node_group_id = ng.node_group_id().map(str::to_owned);
        read_member(facts, ng.node_group_members(), member);
    }
}

/// The node's role, its endpoint, and the replicas beside it.
fn read_member(facts: &mut ClusterFacts, members: &[NodeGroupMember], member: &str) {
    // `CurrentRole` is reported for cluster mode disabled only; with cluster mode enabled the
    // role is not known from the API.
    let roles_known = members.iter().any(|m| m.current_role().is_some());
    if let Some(me) = members
        .iter()
        .find(|m| m.cache_cluster_id() == Some(member))
    {
        facts.node_role = me.current_role().and_then(NodeRole::parse);
        facts.node_endpoint = facts.node_endpoint.take().or_else(|| {
            me.read_endpoint()
                .and_then(|e| e.address())
                .map(str::to_owned)
        });
    }
    if roles_known {
        facts.replica_cluster_ids = Some(
            members
                .iter()
                .filter(|m| m.cache_cluster_id() != Some(member))
                .filter(|m| m.current_role().and_then(NodeRole::parse) == Some(NodeRole::Replica))
                .filter_map(|m| m.cache_cluster_id().map(str::to_owned))
                .collect(),
        );
    }
}

/// Takes the answer of the reserved-memory call into `facts`.
fn take_reserved_memory(
    lookup: &mut Lookup,
    facts: &mut ClusterFacts,
    answer: Option<Timed<(Option<u32>, Option<u64>)>>,
) {
    if let Some((percent, bytes)) =
        answer.and_then(|answer| lookup.take("DescribeCacheParameters", answer))
    {
        facts.reserved_memory_percent = percent;
        facts.reserved_memory_bytes = bytes;
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_elasticache::types::{
        CacheNode, CacheParameterGroupStatus, EffectiveDurability, Endpoint,
        GlobalReplicationGroupInfo, NodeGroup, NodeGroupMember, PendingModifiedValues,
    };

    use super::*;

    fn endpoint(address: &str) -> Endpoint {
        Endpoint::builder().address(address).port(6379).build()
    }

    fn member(id: &str, role: Option<&str>) -> NodeGroupMember {
        NodeGroupMember::builder()
            .cache_cluster_id(id)
            .cache_node_id("0001")
            .read_endpoint(endpoint(&format!("{id}.example.cache.amazonaws.com")))
            .set_current_role(role.map(str::to_owned))
            .build()
    }

    fn group(members: Vec<NodeGroupMember>) -> ReplicationGroup {
        ReplicationGroup::builder()
            .replication_group_id("orders")
            .cluster_enabled(false)
            .multi_az(MultiAzStatus::Enabled)
            .automatic_failover(AutomaticFailoverStatus::Enabling)
            .snapshot_retention_limit(7)
            .node_groups(
                NodeGroup::builder()
                    .node_group_id("0001")
                    .primary_endpoint(endpoint("master.orders.example.cache.amazonaws.com"))
                    .reader_endpoint(endpoint("replica.orders.example.cache.amazonaws.com"))
                    .set_node_group_members(Some(members))
                    .build(),
            )
            .build()
    }

    #[test]
    fn a_group_tells_its_access_tiering_global_datastore_durability_and_shards() {
        // Arrange
        let g = ReplicationGroup::builder()
            .replication_group_id("orders")
            .auth_token_enabled(true)
            .user_group_ids("orders-users")
            .data_tiering(DataTieringStatus::Enabled)
            .global_replication_group_info(
                GlobalReplicationGroupInfo::builder()
                    .global_replication_group_id("ldgnf-orders")
                    .global_replication_group_member_role("SECONDARY")
                    .build(),
            )
            .effective_durability(EffectiveDurability::Sync)
            .node_groups(NodeGroup::builder().node_group_id("0001").build())
            .node_groups(NodeGroup::builder().node_group_id("0002").build())
            .build();
        let mut facts = ClusterFacts::default();

        // Act
        read_group(&mut facts, &g, None);

        // Assert
        assert_eq!(facts.auth_token_enabled, Some(true));
        assert_eq!(facts.user_group_ids, Some(vec!["orders-users".to_owned()]));
        assert_eq!(facts.data_tiering, Some(true));
        assert_eq!(facts.global_datastore_id.as_deref(), Some("ldgnf-orders"));
        assert_eq!(facts.global_datastore_role.as_deref(), Some("SECONDARY"));
        assert_eq!(facts.durability.as_deref(), Some("sync"));
        assert_eq!(facts.node_group_count, Some(2));
    }

    #[test]
    fn a_group_outside_any_global_datastore_says_so_by_leaving_it_empty() {
        // Arrange
        let g = group(vec![member("orders-001", Some("primary"))]);
        let mut facts = ClusterFacts::default();

        // Act
        read_group(&mut facts, &g, Some("orders-001"));

        // Assert
        assert_eq!(facts.global_datastore_id, None);
        assert_eq!(facts.user_group_ids, Some(Vec::new()));
        assert_eq!(facts.data_tiering, None);
        assert_eq!(facts.durability, None);
        assert_eq!(facts.node_group_count, Some(1));
    }

    #[test]
    fn a_member_reads_its_role_shard_replicas_and_endpoints_from_its_group() {
        // Arrange
        let g = group(vec![
            member("orders-001", Some("primary")),
            member("orders-002", Some("replica")),
            member("orders-003", Some("replica")),
        ]);
        let mut facts = ClusterFacts::default();

        // Act
        read_group(&mut facts, &g, Some("orders-002"));

        // Assert
        assert_eq!(facts.node_role, Some(NodeRole::Replica));
        assert_eq!(facts.node_group_id.as_deref(), Some("0001"));
        assert_eq!(facts.replicas_per_shard, Some(2));
        assert_eq!(
            facts.replica_cluster_ids,
            Some(vec!["orders-003".to_owned()])
        );
        assert_eq!(facts.cluster_mode_enabled, Some(false));
        assert_eq!(facts.multi_az, Some(true));
        assert_eq!(facts.automatic_failover, None, "enabling is not yet on");
        assert_eq!(facts.snapshot_retention_days, Some(7));
        assert_eq!(
            facts.primary_endpoint.as_deref(),
            Some("master.orders.example.cache.amazonaws.com")
        );
        assert_eq!(
            facts.node_endpoint.as_deref(),
            Some("orders-002.example.cache.amazonaws.com")
        );
        assert_eq!(facts.port, Some(6379));
    }

    #[test]
    fn without_current_roles_the_role_and_replicas_stay_unknown() {
        let g = group(vec![
            member("orders-0001-001", None),
            member("orders-0001-002", None),
        ]);
        let mut facts = ClusterFacts::default();
        read_group(&mut facts, &g, Some("orders-0001-001"));
        assert_eq!(facts.node_role, None);
        assert_eq!(facts.replica_cluster_ids, None);
        assert_eq!(facts.replicas_per_shard, Some(1));
    }

    #[test]
    fn pending_changes_name_the_parameter_group_and_pending_modifications() {
        let cases: Vec<(CacheCluster, Option<Vec<&str>>)> = vec![
            (CacheCluster::builder().build(), None),
            (
                CacheCluster::builder()
                    .cache_parameter_group(
                        CacheParameterGroupStatus::builder()
                            .cache_parameter_group_name("custom-redis7")
                            .parameter_apply_status("in-sync")
                            .build(),
                    )
                    .build(),
                Some(vec![]),
            ),
            (
                CacheCluster::builder()
                    .cache_parameter_group(
                        CacheParameterGroupStatus::builder()
                            .cache_parameter_group_name("custom-redis7")
                            .parameter_apply_status("pending-reboot")
                            .build(),
                    )
                    .pending_modified_values(
                        PendingModifiedValues::builder()
                            .engine_version("7.1")
                            .cache_node_type("cache.r7g.large")
                            .build(),
                    )
                    .build(),
                Some(vec![
                    "parameter group custom-redis7 (pending-reboot)",
                    "engine version 7.1 (pending modification)",
                    "node type cache.r7g.large (pending modification)",
                ]),
            ),
        ];
        for (cluster, expected) in cases {
            let expected = expected.map(|v| v.into_iter().map(str::to_owned).collect::<Vec<_>>());
            assert_eq!(pending_changes(&cluster), expected, "{cluster:?}");
        }
    }

    #[test]
    fn the_clusters_tags_are_its_groups_and_its_own_its_own_winning() {
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        let group = vec![pair("team", "platform"), pair("env", "production")];
        let cluster = vec![pair("team", "payments")];
        let tags = union_of_tags(vec![Some(group.clone()), Some(cluster)]).unwrap();
        assert_eq!(tags.get("team").map(String::as_str), Some("payments"));
        assert_eq!(tags.get("env").map(String::as_str), Some("production"));
        assert_eq!(
            union_of_tags(vec![Some(group), None]),
            None,
            "one answer missing: not known"
        );
        assert_eq!(union_of_tags(vec![]), None, "nothing asked: not known");
        assert_eq!(union_of_tags(vec![Some(vec![])]), Some(Tags::new()));
    }

    #[test]
    fn a_memcached_node_reads_its_own_endpoint_among_the_clusters_nodes() {
        let cluster = CacheCluster::builder()
            .engine("memcached")
            .engine_version("1.6.22")
            .num_cache_nodes(2)
            .configuration_endpoint(endpoint("sessions.cfg.example.cache.amazonaws.com"))
            .cache_nodes(
                CacheNode::builder()
                    .cache_node_id("0001")
                    .endpoint(endpoint("n1"))
                    .build(),
            )
            .cache_nodes(
                CacheNode::builder()
                    .cache_node_id("0002")
                    .endpoint(endpoint("n2"))
                    .build(),
            )
            .build();
        let mut facts = ClusterFacts::default();
        read_cluster(&mut facts, &cluster, Some("0002"));
        assert_eq!(facts.engine, Some(Engine::Memcached));
        assert_eq!(facts.node_endpoint.as_deref(), Some("n2"));
        assert_eq!(facts.num_cache_nodes, Some(2));
        assert_eq!(
            facts.configuration_endpoint.as_deref(),
            Some("sessions.cfg.example.cache.amazonaws.com")
        );
        assert_eq!(facts.pending_reboot_parameters, None);
    }
}
