//! The ElastiCache adapter with the real SDK client against the stand-in
//! (`cachewatch_tests::elasticache`): moto answers what it implements (clusters, groups,
//! snapshots, tags), the stand-in plays DescribeEvents, DescribeUpdateActions, TestFailover and
//! ModifyCacheCluster, all over ElastiCache's Query protocol on 127.0.0.1, with the endpoint
//! overridden as `AWS_ENDPOINT_URL` would.

use std::time::{Duration as StdDuration, Instant};

use aws_sdk_elasticache::Client;
use aws_sdk_elasticache::config::retry::RetryConfig;
use aws_sdk_elasticache::config::timeout::TimeoutConfig;
use aws_sdk_elasticache::error::ProvideErrorMetadata;
use aws_sdk_elasticache::primitives::DateTime as AwsDateTime;
use aws_sdk_elasticache::types::{
    ServiceUpdateSeverity, ServiceUpdateStatus, ServiceUpdateType, SourceType, Tag, UpdateAction,
    UpdateActionStatus,
};
use cachewatch_adapters::elasticache::{
    ElastiCache, ElastiCacheError, ErrorKind, EventQuery, EventsProgress,
};
use cachewatch_core::alerting::slack::{self, limits};
use cachewatch_core::cluster::facts::{ClusterFacts, Engine, NodeRole, RiskKind, risks};
use cachewatch_core::cluster::source::FactsSource;
use cachewatch_core::config::tags::Tags;
use cachewatch_core::fleet::{
    DIGEST_HORIZON, Resource, ServiceUpdate, TopicState, UpdateSeverity, UpdateStatus,
    audit_coverage, upcoming_digest,
};
use cachewatch_core::model::ids::{ClusterId, ReplicationGroupId};
use cachewatch_core::model::timefmt::Zone;
use cachewatch_core::{EventKind, MaintenanceEvent, Origin, ParseContext, Window, parse_document};
use cachewatch_tests::elasticache::{
    ElastiCacheStandIn, Fault, TEST_FAILOVER_LIMIT, plain_redis_group, redis_group,
};
use chrono::{DateTime, Duration, Utc};

const OURS: &str = "arn:aws:sns:eu-west-1:123456789012:cachewatch";
const THEIRS: &str = "arn:aws:sns:eu-west-1:123456789012:platform-alerts";
const WINDOW: &str = "sun:23:00-mon:01:30";

/// A client of the stand-in with the SDK's standard retries.
async fn client(stand_in: &ElastiCacheStandIn) -> Client {
    Client::new(&stand_in.sdk_config().await)
}

/// A client of the stand-in without retries: a test sees the first answer.
async fn client_without_retries(stand_in: &ElastiCacheStandIn) -> Client {
    let config = aws_sdk_elasticache::config::Builder::from(&stand_in.sdk_config().await)
        .retry_config(RetryConfig::disabled())
        .build();
    Client::from_conf(config)
}

/// A stand-in holding replication group `orders` ([`create_orders`]), and a client of it.
async fn with_orders() -> (ElastiCacheStandIn, Client) {
    let stand_in = ElastiCacheStandIn::start();
    let client = client(&stand_in).await;
    create_orders(&client).await;
    (stand_in, client)
}

/// The facts the adapter looks up for cache cluster `cluster`.
async fn facts_of(elasticache: &ElastiCache, cluster: &str) -> ClusterFacts {
    let cluster = ClusterId::parse(cluster).unwrap();
    elasticache.cluster_facts(&cluster, None).await
}

/// The facts the adapter gives a replacement notice of `cluster`.
async fn facts_of_notice(elasticache: &ElastiCache, cluster: &str) -> ClusterFacts {
    elasticache
        .facts_for(&replacement_notice(cluster), None)
        .await
}

/// That the answer came within `seconds` of `started`.
fn assert_answered_within(started: Instant, seconds: u64) {
    let took = started.elapsed();
    assert!(took < StdDuration::from_secs(seconds), "{took:?}");
}

/// Now, to the second (what the stand-in's millisecond dates keep exactly).
fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(Utc::now().timestamp(), 0).expect("now is a time")
}

/// Replication group `orders` (Redis OSS 7.1, one shard of a primary and one replica, Multi-AZ,
/// automatic failover, TLS, backups kept 5 days, our topic, tagged production) and its two
/// member clusters, which moto does not make by itself.
async fn create_orders(client: &Client) {
    redis_group(client, "orders")
        .transit_encryption_enabled(true)
        .snapshot_retention_limit(5)
        .preferred_maintenance_window(WINDOW)
        .cache_parameter_group_name("orders-redis7")
        .notification_topic_arn(OURS)
        .tags(
            Tag::builder()
                .key("Environment")
                .value("Production")
                .build(),
        )
        .send()
        .await
        .expect("moto creates the replication group");
    for member in ["orders-001", "orders-002"] {
        create_cluster(client, member, Some("orders"), "redis", None).await;
    }
}

async fn create_cluster(
    client: &Client,
    id: &str,
    group: Option<&str>,
    engine: &str,
    topic: Option<&str>,
) {
    client
        .create_cache_cluster()
        .cache_cluster_id(id)
        .set_replication_group_id(group.map(str::to_owned))
        .engine(engine)
        .engine_version(if engine == "redis" { "7.1" } else { "1.6.22" })
        .cache_node_type("cache.t4g.small")
        .num_cache_nodes(if engine == "redis" { 1 } else { 2 })
        .preferred_maintenance_window(WINDOW)
        .snapshot_retention_limit(if engine == "redis" { 5 } else { 0 })
        .transit_encryption_enabled(engine == "redis")
        .set_notification_topic_arn(topic.map(str::to_owned))
        .send()
        .await
        .expect("moto creates the cache cluster");
}

/// Tags from (key, value) pairs.
fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The AWS error code of a refused call.
fn code<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    answer: Result<T, E>,
) -> Option<String> {
    answer.expect_err("refused").code().map(str::to_owned)
}

/// `Jun 24 21:00 UTC`, as ElastiCache writes window times.
fn text_time(at: DateTime<Utc>) -> String {
    at.format("%b %-d %H:%M UTC").to_string()
}

fn scheduled_text(cluster: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> String {
    format!(
        "The node with Cache Cluster ID: {cluster}, Node ID: 0001 is scheduled for replacement during the maintenance window from Start Time: {}, End Time: {}",
        text_time(start),
        text_time(end)
    )
}

/// A replacement notice for `cluster` node 0001, as DescribeEvents gives it, announced a day ago
/// for a window in three days.
fn replacement_notice(cluster: &str) -> MaintenanceEvent {
    let announced = now() - Duration::days(1);
    let start = announced + Duration::days(4);
    let record = serde_json::json!({
        "SourceIdentifier": cluster,
        "SourceType": "cache-cluster",
        "Message": scheduled_text(cluster, start, start + Duration::hours(1)),
        "Date": announced.to_rfc3339(),
    });
    let mut events =
        parse_document(&record.to_string(), &ParseContext::received_at(now())).expect("a notice");
    events.remove(0)
}

#[tokio::test]
async fn facts_of_a_primary_and_its_replica_come_from_the_cluster_its_group_backups_and_tags() {
    // Arrange
    let (stand_in, client) = with_orders().await;
    client
        .create_snapshot()
        .replication_group_id("orders")
        .snapshot_name("orders-nightly")
        .send()
        .await
        .expect("moto takes the snapshot");
    let backup_at = now() - Duration::hours(3);
    stand_in.set_snapshot_time("orders-nightly", backup_at);
    stand_in.set_parameter_apply_status("orders-001", "pending-reboot");
    // The members' own tags: one of its own, and one the group also carries.
    for (member, key, value) in [
        ("orders-001", "team", "checkout"),
        ("orders-002", "Environment", "Staging"),
    ] {
        client
            .add_tags_to_resource()
            .resource_name(format!(
                "arn:aws:elasticache:eu-west-1:123456789012:cluster:{member}"
            ))
            .tags(Tag::builder().key(key).value(value).build())
            .send()
            .await
            .expect("moto tags the cluster");
    }
    let elasticache = ElastiCache::new(client);
    let notice = replacement_notice("orders-001");

    // Act
    let primary = elasticache.facts_for(&notice, None).await;
    let replica = facts_of_notice(&elasticache, "orders-002").await;

    // Assert
    let endpoint = |f: &Option<String>, prefix: &str| {
        assert!(
            f.as_deref().is_some_and(|e| e.starts_with(prefix)),
            "{f:?} should start with {prefix}"
        );
    };
    endpoint(&primary.node_endpoint, "orders-001.orders.");
    endpoint(&primary.primary_endpoint, "master.orders.");
    endpoint(&replica.node_endpoint, "orders-002.orders.");
    let expected = ClusterFacts {
        engine: Some(Engine::Redis),
        engine_version: Some("7.1".to_owned()),
        replication_group_id: Some("orders".to_owned()),
        cluster_mode_enabled: Some(false),
        node_role: Some(NodeRole::Primary),
        multi_az: Some(true),
        automatic_failover: Some(true),
        replicas_per_shard: Some(1),
        node_group_id: Some("0001".to_owned()),
        replica_cluster_ids: Some(vec!["orders-002".to_owned()]),
        port: Some(6379),
        tls_in_transit: Some(true),
        preferred_maintenance_window: Some(WINDOW.to_owned()),
        snapshot_retention_days: Some(5),
        latest_snapshot_at: Some(backup_at),
        pending_reboot_parameters: Some(vec![
            "parameter group orders-redis7 (pending-reboot)".to_owned(),
        ]),
        production: Some(true),
        tags: Some(tags(&[("Environment", "Production"), ("team", "checkout")])),
        auth_token_enabled: Some(false),
        user_group_ids: Some(vec![]),
        data_tiering: Some(false),
        node_group_count: Some(1),
        num_cache_nodes: Some(1),
        cache_parameter_group: Some("orders-redis7".to_owned()),
        reserved_memory_percent: Some(25),
        reserved_memory_bytes: Some(0),
        ..ClusterFacts::default()
    };
    let without_endpoints = |f: &ClusterFacts| ClusterFacts {
        node_endpoint: None,
        primary_endpoint: None,
        ..f.clone()
    };
    assert_eq!(without_endpoints(&primary), expected);
    assert_eq!(
        without_endpoints(&replica),
        ClusterFacts {
            node_role: Some(NodeRole::Replica),
            replica_cluster_ids: Some(vec![]),
            pending_reboot_parameters: Some(vec![]),
            // The group's and its own; its own value where both carry the key.
            tags: Some(tags(&[("Environment", "Staging")])),
            ..expected
        }
    );
    let found: Vec<RiskKind> = risks(&primary, &notice, None, Utc::now())
        .into_iter()
        .map(|r| r.kind)
        .collect();
    assert_eq!(
        found,
        vec![RiskKind::PendingParameterChanges, RiskKind::SingleReplica]
    );
}

#[tokio::test]
async fn facts_of_an_auth_protected_tiered_group_and_of_a_memcached_cluster_come_from_moto() {
    // Arrange
    let stand_in = ElastiCacheStandIn::start();
    let client = client(&stand_in).await;
    client
        .create_replication_group()
        .replication_group_id("ledger")
        .replication_group_description("ledger cache")
        .engine("redis")
        .engine_version("7.1")
        .cache_node_type("cache.r6gd.xlarge")
        .replicas_per_node_group(1)
        .automatic_failover_enabled(true)
        .transit_encryption_enabled(true)
        .auth_token("a-long-enough-auth-token-1")
        .data_tiering_enabled(true)
        .send()
        .await
        .expect("moto creates the replication group");
    // A member cluster holds the group's AUTH setting, as in ElastiCache.
    client
        .create_cache_cluster()
        .cache_cluster_id("ledger-001")
        .replication_group_id("ledger")
        .engine("redis")
        .engine_version("7.1")
        .cache_node_type("cache.r6gd.xlarge")
        .num_cache_nodes(1)
        .transit_encryption_enabled(true)
        .auth_token("a-long-enough-auth-token-1")
        .send()
        .await
        .expect("moto creates the member cluster");
    create_cluster(&client, "sessions", None, "memcached", None).await;
    let elasticache = ElastiCache::new(client);

    // Act
    let ledger = facts_of_notice(&elasticache, "ledger-001").await;
    let sessions = facts_of_notice(&elasticache, "sessions").await;

    // Assert
    assert_eq!(ledger.unavailable, None);
    assert_eq!(ledger.tls_in_transit, Some(true));
    assert_eq!(ledger.auth_token_enabled, Some(true));
    assert_eq!(ledger.data_tiering, Some(true));
    assert_eq!(ledger.user_group_ids, Some(vec![]));
    assert_eq!(ledger.global_datastore_id, None);
    assert_eq!(ledger.node_group_count, Some(1));
    assert_eq!(sessions.engine, Some(Engine::Memcached));
    assert_eq!(sessions.num_cache_nodes, Some(2));
    assert_eq!(sessions.node_group_count, None);
}

#[tokio::test]
async fn the_reserved_memory_comes_from_the_parameter_group_of_the_cluster_page_by_page() {
    // Arrange: `orders` uses its own group, which sets nothing aside and has more parameters
    // than a page holds; `ledger-001` was created without a group and has its engine's default.
    let (stand_in, client) = with_orders().await;
    create_cluster(&client, "ledger-001", None, "redis", None).await;
    create_cluster(&client, "sessions", None, "memcached", None).await;
    stand_in.set_cache_parameter("orders-redis7", "reserved-memory-percent", "0");
    for i in 0..30 {
        stand_in.set_cache_parameter("orders-redis7", &format!("zz-extra-{i:02}"), "1");
    }
    let elasticache = ElastiCache::new(client).with_page_size(20);

    // Act
    let orders = facts_of_notice(&elasticache, "orders-001").await;
    let ledger = facts_of_notice(&elasticache, "ledger-001").await;
    let sessions = facts_of_notice(&elasticache, "sessions").await;

    // Assert
    assert_eq!(orders.unavailable, None);
    assert_eq!(
        orders.cache_parameter_group.as_deref(),
        Some("orders-redis7")
    );
    assert_eq!(orders.reserved_memory_percent, Some(0));
    assert_eq!(
        ledger.cache_parameter_group.as_deref(),
        Some("default.redis7")
    );
    assert_eq!(ledger.reserved_memory_percent, Some(25));
    assert_eq!(ledger.reserved_memory_bytes, Some(0));
    assert_eq!(
        sessions.cache_parameter_group.as_deref(),
        Some("default.memcached1.6")
    );
    assert_eq!(sessions.reserved_memory_percent, None, "Memcached has none");
    let asked: Vec<(Option<String>, Option<String>)> = stand_in
        .requests_for("DescribeCacheParameters")
        .iter()
        .map(|r| {
            (
                r.param("CacheParameterGroupName").map(str::to_owned),
                r.param("Marker").map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(
        asked.len(),
        3,
        "two pages for orders, one for ledger: {asked:?}"
    );
    assert!(
        asked[1].1.is_some(),
        "the second page is asked by marker: {asked:?}"
    );
    assert_eq!(asked[2].0.as_deref(), Some("default.redis7"));
}

#[tokio::test]
async fn a_denied_parameter_lookup_leaves_only_the_reserved_memory_unknown() {
    // Arrange
    let (stand_in, client) = with_orders().await;
    stand_in.refuse("DescribeCacheParameters", 1);
    let elasticache = ElastiCache::new(client);

    // Act
    let facts = facts_of_notice(&elasticache, "orders-001").await;

    // Assert
    assert_eq!(facts.engine, Some(Engine::Redis));
    assert_eq!(facts.node_role, Some(NodeRole::Primary));
    assert_eq!(facts.multi_az, Some(true));
    assert_eq!(
        facts.cache_parameter_group.as_deref(),
        Some("orders-redis7")
    );
    assert_eq!(facts.reserved_memory_percent, None);
    assert_eq!(facts.reserved_memory_bytes, None);
    let why = facts.unavailable.as_deref().unwrap_or_default();
    assert!(
        why.starts_with("ElastiCache DescribeCacheParameters failed (")
            && why.contains("AccessDenied"),
        "{why}"
    );
}

#[tokio::test]
async fn facts_of_a_cluster_that_does_not_exist_say_why_at_once() {
    // Arrange
    let stand_in = ElastiCacheStandIn::start();
    let elasticache = ElastiCache::new(client(&stand_in).await);
    let started = Instant::now();

    // Act
    let facts = facts_of(&elasticache, "ghost-001").await;

    // Assert
    assert_answered_within(started, 2);
    assert_eq!(
        facts.unavailable.as_deref(),
        Some(
            "ElastiCache DescribeCacheClusters failed (not found): CacheClusterNotFound: Cache cluster ghost-001 not found"
        )
    );
    assert_eq!(
        ClusterFacts {
            unavailable: None,
            ..facts
        },
        ClusterFacts::default()
    );
}

#[tokio::test]
async fn a_slow_answer_leaves_the_facts_unavailable_within_the_time_bound() {
    // Arrange
    let (stand_in, client) = with_orders().await;
    stand_in.fail_next(
        "DescribeReplicationGroups",
        Fault::Slow(StdDuration::from_secs(20)),
    );
    let elasticache = ElastiCache::new(client).with_lookup_timeout(StdDuration::from_millis(500));
    let started = Instant::now();

    // Act
    let facts = facts_of(&elasticache, "orders-001").await;

    // Assert
    assert_answered_within(started, 3);
    assert_eq!(
        facts.unavailable.as_deref(),
        Some("ElastiCache did not answer DescribeReplicationGroups within 500 ms")
    );
    assert_eq!(
        facts.engine,
        Some(Engine::Redis),
        "what came before is kept"
    );
    assert_eq!(facts.node_role, None);
}

#[tokio::test]
async fn facts_are_looked_up_once_and_reused_for_a_while() {
    // Arrange
    let (stand_in, client) = with_orders().await;
    let elasticache = ElastiCache::new(client);
    let cluster = ClusterId::parse("orders-002").unwrap();

    // Act
    let before = Utc::now();
    let first = elasticache.cluster_facts(&cluster, None).await;
    let after = Utc::now();
    let second = elasticache.cluster_facts(&cluster, None).await;

    // Assert: the second answer is the first, marked with when it was read.
    assert_eq!(first.reused_from, None, "the first answer was read now");
    let reused_from = second
        .reused_from
        .expect("the second answer says it is reused");
    assert!(
        (before..=after).contains(&reused_from),
        "{reused_from} is not the time of the first lookup ({before}..{after})"
    );
    assert_eq!(
        ClusterFacts {
            reused_from: None,
            ..second
        },
        first
    );
    assert_eq!(first.unavailable, None);
    assert_eq!(stand_in.requests_for("DescribeCacheClusters").len(), 1);
}

#[tokio::test]
async fn describe_events_follows_every_marker_across_three_pages() {
    // Arrange
    let stand_in = ElastiCacheStandIn::start();
    let now = now();
    for i in 0..250 {
        stand_in.add_event(
            "cache-cluster",
            &format!("bulk-{i:03}"),
            "Cache cluster created",
            now - Duration::minutes(i + 1),
        );
    }
    stand_in.add_event(
        "cache-cluster",
        "too-old",
        "Cache cluster created",
        now - Duration::days(2),
    );
    // Built as the functions and the CLI build it, from the loaded configuration.
    let elasticache = ElastiCache::from_sdk_config(&stand_in.sdk_config().await);
    let mut pages = Vec::new();
    let mut on_page = |p: EventsProgress| pages.push(p.records);

    // Act
    let records = elasticache
        .describe_events(
            &EventQuery::between(now - Duration::days(1), now),
            Some(&mut on_page),
        )
        .await
        .expect("every page reads");

    // Assert
    assert_eq!(records.len(), 250);
    assert_eq!(records[0].source_identifier, "bulk-000", "newest first");
    assert_eq!(records[249].source_identifier, "bulk-249");
    assert_eq!(pages, vec![100, 200, 250]);
    let requests = stand_in.requests_for("DescribeEvents");
    let sent: Vec<Option<&str>> = requests.iter().map(|r| r.param("Marker")).collect();
    let answered: Vec<Option<&str>> = requests
        .iter()
        .map(|r| r.answered_marker.as_deref())
        .collect();
    assert_eq!(answered.len(), 3);
    assert!(answered[0].is_some() && answered[1].is_some() && answered[2].is_none());
    assert_ne!(answered[0], answered[1]);
    assert_eq!(sent, vec![None, answered[0], answered[1]]);
    let timeouts = elasticache.client().config().timeout_config().cloned();
    assert_eq!(
        timeouts.and_then(|t| t.operation_timeout()),
        Some(StdDuration::from_secs(30))
    );
    for r in &requests {
        assert_eq!(r.param("MaxRecords"), Some("100"));
        assert_eq!(r.param("Version"), Some("2015-02-02"));
        assert!(r.param("StartTime").is_some() && r.param("EndTime").is_some());
        assert!(r.played);
    }
}

#[tokio::test]
async fn described_events_read_into_the_normalized_model_with_their_windows() {
    // Arrange
    let stand_in = ElastiCacheStandIn::start();
    let now = now();
    let announced = now - Duration::days(2);
    let start =
        DateTime::from_timestamp((announced + Duration::days(5)).timestamp() / 3600 * 3600, 0)
            .unwrap();
    let end = start + Duration::hours(1);
    let moved_to = start + Duration::days(1);
    stand_in.add_event(
        "cache-cluster",
        "orders-001",
        &scheduled_text("orders-001", start, end),
        announced,
    );
    stand_in.add_event(
        "cache-cluster",
        "orders-001",
        &format!(
            "The replacement in maintenance window for node with Cache Cluster ID: orders-001, Node ID: 0001 has re-scheduled from Previous Start Time: {}, Previous End Time: {} to New Start Time: {}, New End Time: {}",
            text_time(start),
            text_time(end),
            text_time(moved_to),
            text_time(moved_to + Duration::hours(1)),
        ),
        announced + Duration::days(1),
    );
    stand_in.add_event(
        "replication-group",
        "orders",
        "Failover to replica node orders-002 completed",
        now - Duration::hours(1),
    );
    stand_in.add_event(
        "cache-cluster",
        "",
        "Cache cluster created",
        now - Duration::hours(2),
    );
    let elasticache = ElastiCache::new(client(&stand_in).await);
    let ctx = ParseContext::received_at(now);

    // Act
    let all = elasticache
        .maintenance_events(
            &EventQuery::between(now - Duration::days(3), now),
            &ctx,
            None,
        )
        .await
        .expect("DescribeEvents answers");
    let about_orders_001 = elasticache
        .maintenance_events(
            &EventQuery::between(now - Duration::days(3), now).about("cache-cluster", "orders-001"),
            &ctx,
            None,
        )
        .await
        .expect("DescribeEvents answers");

    // Assert
    assert_eq!(all.rejected.len(), 1, "the record without a source");
    let kinds: Vec<&str> = all.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        vec![
            EventKind::FAILOVER_COMPLETE,
            EventKind::NODE_REPLACEMENT_RESCHEDULED,
            EventKind::NODE_REPLACEMENT_SCHEDULED,
        ]
    );
    let [failover, rescheduled, scheduled] = &all.events[..] else {
        panic!("three events");
    };
    assert_eq!(scheduled.origin, Origin::DescribeEvents);
    assert_eq!(scheduled.occurred_at, announced);
    assert_eq!(
        scheduled.cluster_id.as_ref().unwrap().as_str(),
        "orders-001"
    );
    assert_eq!(scheduled.node_id.as_ref().unwrap().as_str(), "0001");
    assert_eq!(scheduled.window, Some(Window { start, end }));
    assert_eq!(rescheduled.previous_window, Some(Window { start, end }));
    assert_eq!(
        rescheduled.window,
        Some(Window {
            start: moved_to,
            end: moved_to + Duration::hours(1)
        })
    );
    assert_eq!(failover.source_type, "replication-group");
    assert_eq!(
        failover.failover.as_ref().and_then(|f| f.to.as_deref()),
        Some("orders-002")
    );
    assert_eq!(about_orders_001.events.len(), 2);
    let filtered = stand_in.requests_for("DescribeEvents").pop().unwrap();
    assert_eq!(filtered.param("SourceType"), Some("cache-cluster"));
    assert_eq!(filtered.param("SourceIdentifier"), Some("orders-001"));
}

fn update_action(
    target: &str,
    status: &str,
    severity: ServiceUpdateSeverity,
    apply_by: DateTime<Utc>,
) -> UpdateAction {
    let at = |t: DateTime<Utc>| AwsDateTime::from_secs(t.timestamp());
    let builder = UpdateAction::builder();
    let builder = if target.starts_with("sessions") {
        builder.cache_cluster_id(target).engine("memcached")
    } else {
        builder.replication_group_id(target).engine("redis")
    };
    builder
        .service_update_name("elasticache-20260601-001")
        .service_update_release_date(at(apply_by - Duration::days(60)))
        .service_update_recommended_apply_by_date(at(apply_by))
        .service_update_severity(severity)
        .service_update_status(ServiceUpdateStatus::Available)
        .service_update_type(ServiceUpdateType::SecurityUpdate)
        .update_action_status(UpdateActionStatus::from(status))
        .nodes_updated("0/2")
        .build()
}

#[tokio::test]
async fn service_updates_not_yet_applied_come_from_every_page() {
    // Arrange
    let stand_in = ElastiCacheStandIn::start();
    let now = now();
    let statuses = [
        "complete",
        "not-applicable",
        "not-applied",
        "stopped",
        "scheduled",
    ];
    for i in 0..130 {
        let severity = if i % 2 == 0 {
            ServiceUpdateSeverity::Critical
        } else {
            ServiceUpdateSeverity::Low
        };
        stand_in.add_update_action(update_action(
            &format!("rg-{i:03}"),
            statuses[i % 5],
            severity,
            now + Duration::days(30),
        ));
    }
    stand_in.add_update_action(update_action(
        "sessions",
        "not-applied",
        ServiceUpdateSeverity::Important,
        now - Duration::days(3),
    ));
    let elasticache = ElastiCache::new(client(&stand_in).await).with_page_size(20);

    // Act
    let updates = elasticache
        .pending_service_updates()
        .await
        .expect("every page reads");

    // Assert
    assert_eq!(updates.len(), 79);
    assert!(updates.iter().all(ServiceUpdate::is_pending));
    let sessions = updates.last().unwrap();
    assert_eq!(
        sessions,
        &ServiceUpdate {
            name: "elasticache-20260601-001".to_owned(),
            resource: Resource::Cluster(ClusterId::parse("sessions").unwrap()),
            severity: Some(UpdateSeverity::Important),
            status: UpdateStatus::NotApplied,
            release_date: Some(now - Duration::days(63)),
            apply_by: Some(now - Duration::days(3)),
            update_type: Some("security-update".to_owned()),
            engine: Some(Engine::Memcached),
        }
    );
    let requests = stand_in.requests_for("DescribeUpdateActions");
    assert_eq!(requests.len(), 4);
    for r in &requests {
        assert_eq!(
            r.list("UpdateActionStatus"),
            UpdateStatus::PENDING
                .iter()
                .map(UpdateStatus::as_str)
                .collect::<Vec<_>>()
        );
        assert_eq!(r.param("MaxRecords"), Some("20"));
    }
    for pair in requests.windows(2) {
        assert_eq!(pair[1].param("Marker"), pair[0].answered_marker.as_deref());
    }
    let digest = upcoming_digest(&[], &updates, Utc::now(), DIGEST_HORIZON);
    assert_eq!(digest.updates[0].resource.id(), "sessions", "overdue first");
    assert_eq!(digest.overdue(), 1);
    assert_eq!(limits::check(&slack::digest(&digest, Zone::Utc)), vec![]);
}

#[tokio::test]
async fn the_audit_finds_clusters_without_our_topic_and_the_fix_sets_it() {
    // Arrange
    let (stand_in, client) = with_orders().await;
    plain_redis_group(&client, "ledger")
        .send()
        .await
        .expect("moto creates the replication group");
    for member in ["ledger-001", "ledger-002"] {
        create_cluster(&client, member, Some("ledger"), "redis", None).await;
    }
    create_cluster(&client, "sessions", None, "memcached", None).await;
    create_cluster(&client, "legacy", None, "redis", Some(THEIRS)).await;
    create_cluster(&client, "carts", None, "memcached", Some(OURS)).await;
    client
        .modify_cache_cluster()
        .cache_cluster_id("carts")
        .notification_topic_status("inactive")
        .send()
        .await
        .expect("the stand-in modifies the cluster");
    let elasticache = ElastiCache::new(client.clone());

    // Act
    let before = audit_coverage(&elasticache.coverage().await.expect("coverage reads"), OURS);
    let plan = before.fix_plan();
    for fix in &plan {
        elasticache
            .set_notification_topic(&fix.resource, &fix.topic_arn)
            .await
            .expect("the fix applies");
    }
    let after = audit_coverage(&elasticache.coverage().await.expect("coverage reads"), OURS);

    // Assert
    let gaps: Vec<(String, TopicState)> = before
        .gaps()
        .iter()
        .map(|c| (c.resource.to_string(), c.state.clone()))
        .collect();
    assert_eq!(
        gaps,
        vec![
            ("cluster carts".to_owned(), TopicState::Inactive),
            ("replication group ledger".to_owned(), TopicState::Missing),
            (
                "cluster legacy".to_owned(),
                TopicState::Other {
                    topic_arn: THEIRS.to_owned()
                }
            ),
            ("cluster sessions".to_owned(), TopicState::Missing),
        ]
    );
    let operations: Vec<(&str, &str, Vec<String>)> = plan
        .iter()
        .map(|f| (f.operation(), f.resource.id(), f.replaces.clone()))
        .collect();
    assert_eq!(
        operations,
        vec![
            ("ModifyCacheCluster", "carts", vec![]),
            ("ModifyReplicationGroup", "ledger", vec![]),
            ("ModifyCacheCluster", "legacy", vec![THEIRS.to_owned()]),
            ("ModifyCacheCluster", "sessions", vec![]),
        ]
    );
    assert!(after.gaps().is_empty(), "{:?}", after.gaps());
    assert_eq!(after.covered(), 5);
    let group_fix = stand_in
        .requests_for("ModifyReplicationGroup")
        .pop()
        .unwrap();
    assert_eq!(group_fix.param("ReplicationGroupId"), Some("ledger"));
    assert_eq!(group_fix.param("NotificationTopicArn"), Some(OURS));
    assert_eq!(group_fix.param("NotificationTopicStatus"), Some("active"));
    assert_eq!(group_fix.param("ApplyImmediately"), None);
    let legacy = client
        .describe_cache_clusters()
        .cache_cluster_id("legacy")
        .send()
        .await
        .expect("moto describes the cluster");
    let topic = legacy.cache_clusters()[0]
        .notification_configuration()
        .expect("the topic shows");
    assert_eq!(topic.topic_arn(), Some(OURS));
    assert_eq!(topic.topic_status(), Some("active"));
    let message = slack::coverage(&before);
    assert_eq!(limits::check(&message), vec![]);
}

#[tokio::test]
async fn coverage_reads_every_page_of_clusters_from_moto() {
    // Arrange
    let stand_in = ElastiCacheStandIn::start();
    let client = client(&stand_in).await;
    for i in 0..25 {
        create_cluster(
            &client,
            &format!("fragment-{i:02}"),
            None,
            "memcached",
            None,
        )
        .await;
    }
    let elasticache = ElastiCache::new(client).with_page_size(20);

    // Act
    let fleet = elasticache.coverage().await.expect("coverage reads");

    // Assert
    assert_eq!(fleet.clusters.len(), 25);
    let requests = stand_in.requests_for("DescribeCacheClusters");
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|r| !r.played && r.status == 200));
    assert_eq!(requests[0].param("Marker"), None);
    assert!(requests[0].answered_marker.is_some());
    assert_eq!(
        requests[1].param("Marker"),
        requests[0].answered_marker.as_deref()
    );
    assert_eq!(audit_coverage(&fleet, OURS).gaps().len(), 25);
}

#[tokio::test]
async fn a_test_failover_shows_its_documented_events_and_swaps_the_roles() {
    // Arrange
    let (_stand_in, client) = with_orders().await;
    let elasticache = ElastiCache::new(client).with_facts_ttl(StdDuration::ZERO);
    let orders = ReplicationGroupId::parse("orders").unwrap();
    let before = Utc::now() - Duration::seconds(1);

    // Act
    elasticache
        .test_failover(&orders, "0001")
        .await
        .expect("the failover starts");
    let query = EventQuery::between(before, Utc::now() + Duration::minutes(1));
    let mut records = elasticache
        .describe_events(&query, None)
        .await
        .expect("DescribeEvents answers");
    let events = elasticache
        .maintenance_events(&query, &ParseContext::received_at(Utc::now()), None)
        .await
        .expect("DescribeEvents answers");

    // Assert
    records.sort_by_key(|r| r.date);
    let seen: Vec<(&str, &str, &str)> = records
        .iter()
        .map(|r| {
            (
                r.source_type.as_str(),
                r.source_identifier.as_str(),
                r.message.as_str(),
            )
        })
        .collect();
    let failover = "Failover from master node orders-001 to replica node orders-002 completed";
    assert_eq!(
        seen,
        vec![
            (
                "replication-group",
                "orders",
                "Test Failover API called for node group 0001"
            ),
            ("cache-cluster", "orders-001", failover),
            ("replication-group", "orders", failover),
            ("cache-cluster", "orders-001", "Recovering cache nodes 0001"),
            (
                "cache-cluster",
                "orders-001",
                "Finished recovery for cache nodes 0001"
            ),
        ]
    );
    let mut kinds: Vec<&str> = events.events.iter().map(|e| e.kind.as_str()).collect();
    kinds.sort_unstable();
    let mut expected = vec![
        EventKind::TEST_FAILOVER_API_CALLED,
        EventKind::FAILOVER_COMPLETE,
        EventKind::FAILOVER_COMPLETE,
        EventKind::CACHE_NODE_REPLACE_STARTED,
        EventKind::CACHE_NODE_REPLACE_COMPLETE,
    ];
    expected.sort_unstable();
    assert_eq!(kinds, expected);
    assert!(events.rejected.is_empty());
    let promoted = facts_of(&elasticache, "orders-002").await;
    let demoted = facts_of(&elasticache, "orders-001").await;
    assert_eq!(promoted.node_role, Some(NodeRole::Primary));
    assert_eq!(
        promoted.replica_cluster_ids,
        Some(vec!["orders-001".to_owned()])
    );
    assert_eq!(demoted.node_role, Some(NodeRole::Replica));
}

#[tokio::test]
async fn test_failover_is_refused_as_elasticache_refuses_it() {
    // Arrange
    let stand_in = ElastiCacheStandIn::start();
    let client = client_without_retries(&stand_in).await;
    create_orders(&client).await;
    let elasticache = ElastiCache::new(client);
    let orders = ReplicationGroupId::parse("orders").unwrap();
    stand_in.fail_next(
        "TestFailover",
        Fault::Error {
            status: 400,
            code: "TestFailoverNotAvailableFault".to_owned(),
            message: "The TestFailover action is not available.".to_owned(),
        },
    );

    // Act
    let blocked = elasticache.test_failover(&orders, "0001").await;
    let no_shard = elasticache.test_failover(&orders, "0009").await;
    let no_group = elasticache
        .test_failover(&ReplicationGroupId::parse("ghost").unwrap(), "0001")
        .await;
    for _ in 0..TEST_FAILOVER_LIMIT {
        elasticache
            .test_failover(&orders, "0001")
            .await
            .expect("within the daily limit");
    }
    let over_the_limit = elasticache.test_failover(&orders, "0001").await;

    // Assert
    let refusals = [
        (
            "blocked",
            blocked,
            ErrorKind::Refused,
            "TestFailoverNotAvailableFault",
        ),
        (
            "no shard",
            no_shard,
            ErrorKind::NotFound,
            "NodeGroupNotFoundFault",
        ),
        (
            "no group",
            no_group,
            ErrorKind::NotFound,
            "ReplicationGroupNotFoundFault",
        ),
        (
            "over the limit",
            over_the_limit,
            ErrorKind::Refused,
            "APICallRateForCustomerExceeded",
        ),
    ];
    for (case, result, kind, code) in refusals {
        let e: ElastiCacheError = result.expect_err(case);
        assert_eq!(
            (e.kind(), e.code(), e.is_retryable()),
            (kind, Some(code), false),
            "{case}"
        );
    }
}

#[tokio::test]
async fn throttling_server_errors_and_timeouts_are_retryable_and_refusals_are_not() {
    // Arrange
    let stand_in = ElastiCacheStandIn::start();
    let elasticache = ElastiCache::new(client_without_retries(&stand_in).await);
    let impatient = ElastiCache::new(Client::from_conf(
        aws_sdk_elasticache::config::Builder::from(&stand_in.sdk_config().await)
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_timeout(StdDuration::from_millis(300))
                    .build(),
            )
            .build(),
    ));
    let query = EventQuery::between(Utc::now() - Duration::hours(1), Utc::now());
    stand_in.fail_next("DescribeEvents", Fault::Throttled);
    stand_in.fail_next("DescribeEvents", Fault::ServerError);
    stand_in.fail_next(
        "DescribeEvents",
        Fault::Error {
            status: 403,
            code: "AccessDenied".to_owned(),
            message: "User is not authorized to perform: elasticache:DescribeEvents".to_owned(),
        },
    );

    // Act
    let throttled = elasticache.describe_events(&query, None).await;
    let server_error = elasticache.describe_events(&query, None).await;
    let denied = elasticache.describe_events(&query, None).await;
    stand_in.fail_next("DescribeEvents", Fault::Slow(StdDuration::from_secs(20)));
    let timed_out = impatient.describe_events(&query, None).await;
    let fine = elasticache.describe_events(&query, None).await;

    // Assert
    let kind = |r: Result<_, ElastiCacheError>| {
        let e = r.expect_err("failed");
        (e.kind(), e.code().map(str::to_owned))
    };
    assert_eq!(
        kind(throttled),
        (ErrorKind::Retryable, Some("Throttling".to_owned()))
    );
    assert_eq!(
        kind(server_error),
        (ErrorKind::Retryable, Some("InternalFailure".to_owned()))
    );
    assert_eq!(
        kind(denied),
        (ErrorKind::Refused, Some("AccessDenied".to_owned()))
    );
    assert_eq!(kind(timed_out), (ErrorKind::Retryable, None));
    assert_eq!(fine.expect("no fault left"), vec![]);
}

#[tokio::test]
async fn the_stand_in_refuses_what_elasticache_refuses_and_keeps_fourteen_days() {
    // Arrange
    let stand_in = ElastiCacheStandIn::start();
    let client = client_without_retries(&stand_in).await;
    let now = Utc::now();
    stand_in.add_event(
        "cache-cluster",
        "recent",
        "Cache cluster created",
        now - Duration::minutes(20),
    );
    stand_in.add_event(
        "cache-cluster",
        "earlier",
        "Cache cluster created",
        now - Duration::minutes(90),
    );
    stand_in.add_event(
        "cache-cluster",
        "gone",
        "Cache cluster created",
        now - Duration::days(15),
    );

    // Act
    let small_page = code(client.describe_events().max_records(5).send().await);
    let too_long = code(client.describe_events().duration(20_161).send().await);
    let odd_marker = code(client.describe_events().marker("not-a-marker").send().await);
    let odd_source = code(
        client
            .describe_events()
            .source_type(SourceType::from("cache-everything"))
            .send()
            .await,
    );
    let ids = |out: aws_sdk_elasticache::operation::describe_events::DescribeEventsOutput| {
        out.events()
            .iter()
            .map(|e| e.source_identifier().unwrap_or_default().to_owned())
            .collect::<Vec<_>>()
    };
    let last_hour = ids(client.describe_events().send().await.expect("answers"));
    let last_two_hours = ids(client
        .describe_events()
        .duration(120)
        .send()
        .await
        .expect("answers"));
    let all_kept = ids(client
        .describe_events()
        .start_time(AwsDateTime::from_secs(
            (now - Duration::days(20)).timestamp(),
        ))
        .end_time(AwsDateTime::from_secs(now.timestamp() + 1))
        .send()
        .await
        .expect("answers"));

    // Assert
    for refused in [small_page, too_long, odd_marker, odd_source] {
        assert_eq!(refused.as_deref(), Some("InvalidParameterValue"));
    }
    assert_eq!(last_hour, vec!["recent"]);
    assert_eq!(last_two_hours, vec!["recent", "earlier"]);
    assert_eq!(all_kept, vec!["recent", "earlier"]);
}

#[tokio::test]
async fn operations_the_stand_in_does_not_play_reach_moto_unchanged() {
    // Arrange
    let stand_in = ElastiCacheStandIn::start();
    let client = client_without_retries(&stand_in).await;
    create_orders(&client).await;

    // Act
    let tags = client
        .list_tags_for_resource()
        .resource_name("arn:aws:elasticache:eu-west-1:123456789012:replicationgroup:orders")
        .send()
        .await
        .expect("moto lists the tags");
    let not_in_moto = client.describe_cache_parameter_groups().send().await;

    // Assert
    assert!(stand_in.address().ip().is_loopback());
    assert_eq!(tags.tag_list().len(), 1);
    assert!(not_in_moto.is_err(), "moto does not implement it");
    let requests = stand_in.requests();
    let last = |action: &str| {
        requests
            .iter()
            .rev()
            .find(|r| r.action == action)
            .cloned()
            .expect("recorded")
    };
    let listed = last("ListTagsForResource");
    assert!(!listed.played);
    assert_eq!(listed.status, 200);
    let forwarded = last("DescribeCacheParameterGroups");
    assert!(!forwarded.played);
    assert_eq!(forwarded.status, 500);
    assert!(
        requests
            .iter()
            .all(|r| r.param("Version") == Some("2015-02-02"))
    );
}
