use super::*;
use crate::intake::parse::{ParseContext, parse_document};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Events read from DescribeEvents records `(source type, source, message, date)`.
fn events(records: &[(&str, &str, &str, DateTime<Utc>)]) -> Vec<MaintenanceEvent> {
    let records: Vec<serde_json::Value> = records
        .iter()
        .map(|(source_type, source, message, date)| {
            serde_json::json!({
                "SourceIdentifier": source,
                "SourceType": source_type,
                "Message": message,
                "Date": date.to_rfc3339(),
            })
        })
        .collect();
    let doc = serde_json::json!({ "Events": records }).to_string();
    parse_document(&doc, &ParseContext::received_at(at("2026-06-11T12:00:00Z"))).unwrap()
}

/// The events ElastiCache documents for a TestFailover of `orders` node group 0001, from `t`.
fn rehearsal(group: &str, primary: &str, replica: &str, t: DateTime<Utc>) -> Vec<MaintenanceEvent> {
    let failover =
        format!("Failover from master node {primary} to replica node {replica} completed");
    events(&[
        (
            "replication-group",
            group,
            "Test Failover API called for node group 0001",
            t,
        ),
        (
            "cache-cluster",
            primary,
            &failover,
            t + Duration::seconds(30),
        ),
        (
            "replication-group",
            group,
            &failover,
            t + Duration::seconds(30),
        ),
        (
            "cache-cluster",
            primary,
            "Recovering cache nodes 0001",
            t + Duration::seconds(60),
        ),
        (
            "cache-cluster",
            primary,
            "Finished recovery for cache nodes 0001",
            t + Duration::minutes(6),
        ),
    ])
}

fn member(id: &str, role: Option<NodeRole>) -> ShardMember {
    ShardMember {
        cluster_id: id.to_owned(),
        role,
    }
}

fn orders(tags: GroupTags) -> FailoverTarget {
    FailoverTarget {
        replication_group_id: ReplicationGroupId::parse("orders").unwrap(),
        engine: Some(Engine::Redis),
        automatic_failover: Some(true),
        shards: vec![Shard {
            node_group_id: "0001".to_owned(),
            members: vec![
                member("orders-001", Some(NodeRole::Primary)),
                member("orders-002", Some(NodeRole::Replica)),
            ],
        }],
        member_clusters: vec!["orders-001".to_owned(), "orders-002".to_owned()],
        tags,
    }
}

fn staging() -> GroupTags {
    GroupTags::Read(vec![("Environment".to_owned(), "staging".to_owned())])
}

fn request(node_group: &str, confirmed: bool, allow_production: bool) -> FailoverRequest {
    FailoverRequest {
        node_group: NodeGroupId::parse(node_group).unwrap(),
        confirmed,
        allow_production,
    }
}

#[test]
fn a_confirmed_rehearsal_on_a_staging_shard_may_start() {
    let plan = plan_failover(&orders(staging()), &request("0001", true, false), 0);
    assert!(plan.may_start(), "{:?}", plan.refusals);
    assert_eq!(plan.primary.as_deref(), Some("orders-001"));
    assert_eq!(plan.replicas, vec!["orders-002"]);
    assert!(plan.warnings.is_empty());
}

#[test]
fn every_obstacle_is_named_at_once() {
    // Arrange: a production group, without automatic failover, at the limit, not confirmed.
    let mut target = orders(GroupTags::Read(vec![(
        "STAGE".to_owned(),
        " Prod ".to_owned(),
    )]));
    target.automatic_failover = Some(false);

    // Act
    let plan = plan_failover(&target, &request("0001", false, false), TEST_FAILOVER_LIMIT);

    // Assert
    assert_eq!(
        plan.refusals,
        vec![
            Refusal::AutomaticFailoverOff {
                group: "orders".to_owned()
            },
            Refusal::Production {
                group: "orders".to_owned(),
                tag: "STAGE= Prod ".to_owned()
            },
            Refusal::LimitReached {
                recent: TEST_FAILOVER_LIMIT
            },
            Refusal::NotConfirmed,
        ]
    );
    assert!(plan.refusals[1].to_string().contains("--allow-production"));
    assert!(
        plan.refusals[2]
            .to_string()
            .starts_with("15 failovers in the last 24 hours")
    );
}

#[test]
fn production_goes_ahead_only_when_allowed_and_unreadable_tags_count_as_production() {
    let production = GroupTags::Read(vec![("env".to_owned(), "production".to_owned())]);
    let refused = plan_failover(
        &orders(production.clone()),
        &request("0001", true, false),
        0,
    );
    let allowed = plan_failover(&orders(production), &request("0001", true, true), 0);
    let unknown = GroupTags::Unreadable("AccessDenied".to_owned());
    let unread = plan_failover(&orders(unknown.clone()), &request("0001", true, false), 0);
    let unread_allowed = plan_failover(&orders(unknown), &request("0001", true, true), 0);

    assert!(matches!(
        refused.refusals.as_slice(),
        [Refusal::Production { .. }]
    ));
    assert!(allowed.may_start());
    assert_eq!(allowed.production_tag.as_deref(), Some("env=production"));
    assert!(allowed.warnings[0].contains("tagged as production (env=production)"));
    assert!(matches!(
        unread.refusals.as_slice(),
        [Refusal::TagsUnreadable { .. }]
    ));
    assert!(unread_allowed.may_start());
    assert!(unread_allowed.warnings[0].contains("AccessDenied"));
}

#[test]
fn an_unknown_node_group_or_a_shard_without_replica_is_refused_with_what_exists() {
    let unknown = plan_failover(&orders(staging()), &request("0009", true, false), 0);
    assert_eq!(
        unknown.refusals,
        vec![Refusal::UnknownNodeGroup {
            group: "orders".to_owned(),
            node_group: "0009".to_owned(),
            known: vec!["0001".to_owned()],
        }]
    );
    assert_eq!(
        unknown.refusals[0].to_string(),
        "replication group orders has no node group 0009 (it has 0001)"
    );
    let mut alone = orders(staging());
    alone.shards[0].members.truncate(1);
    let plan = plan_failover(&alone, &request("0001", true, false), 0);
    assert!(matches!(
        plan.refusals.as_slice(),
        [Refusal::NoReplica { .. }]
    ));
    assert!(NodeGroupId::parse("00001").is_err());
    assert!(NodeGroupId::parse("0-1").is_err());
    assert_eq!(NodeGroupId::parse(" 0002 ").unwrap().as_str(), "0002");
}

#[test]
fn near_the_limit_a_warning_says_how_many_are_left() {
    let cases = [
        (NEAR_LIMIT - 1, None),
        (12, Some("so after this one 2 are left")),
        (13, Some("so after this one 1 is left")),
        (14, Some("so after this one none is left")),
    ];
    for (recent, expected) in cases {
        let plan = plan_failover(&orders(staging()), &request("0001", true, false), recent);
        assert!(plan.may_start(), "{recent}");
        match expected {
            None => assert!(plan.warnings.is_empty(), "{recent}: {:?}", plan.warnings),
            Some(text) => assert!(
                plan.warnings[0].ends_with(text),
                "{recent}: {:?}",
                plan.warnings
            ),
        }
    }
}

#[test]
fn recent_failovers_count_each_rehearsal_once_and_only_within_24_hours() {
    // Arrange: two rehearsals (5 events each), an unplanned failover reported by the group and the
    // cluster, and a rehearsal 25 hours ago.
    let now = at("2026-06-11T12:00:00Z");
    let mut history = rehearsal(
        "orders",
        "orders-001",
        "orders-002",
        now - Duration::hours(3),
    );
    history.extend(rehearsal(
        "carts",
        "carts-001",
        "carts-002",
        now - Duration::hours(2),
    ));
    history.extend(events(&[
        (
            "replication-group",
            "payments",
            "Failover to replica node payments-0001-002 completed",
            now - Duration::hours(1),
        ),
        (
            "cache-cluster",
            "payments-0001-002",
            "Failover to replica node payments-0001-002 completed",
            now - Duration::hours(1),
        ),
    ]));
    history.extend(rehearsal(
        "orders",
        "orders-002",
        "orders-001",
        now - Duration::hours(25),
    ));

    // Act
    let count = recent_failovers(&history, now);

    // Assert
    assert_eq!(count, 3);
    assert_eq!(
        recent_failovers(&history, now - Duration::hours(2) - Duration::minutes(30)),
        2
    );
    assert_eq!(recent_failovers(&[], now), 0);
}

#[test]
fn the_watch_completes_when_the_replica_is_promoted_and_the_recovery_finished() {
    // Arrange
    let t = at("2026-06-11T12:00:00Z");
    let target = orders(staging());
    let mut watch = FailoverWatch::new(&target, &NodeGroupId::parse("0001").unwrap(), t);
    let events = rehearsal("orders", "orders-001", "orders-002", t);
    let mut other = rehearsal("carts", "carts-001", "carts-002", t);
    other.extend(rehearsal(
        "orders",
        "orders-001",
        "orders-002",
        t - Duration::hours(1),
    ));

    // Act and assert, event by event.
    for e in &other {
        assert!(!watch.observe(e), "not this failover: {:?}", e.message);
    }
    assert_eq!(watch.stage(), FailoverStage::Waiting);
    let stages: Vec<FailoverStage> = events
        .iter()
        .map(|e| {
            assert!(watch.observe(e), "{:?}", e.message);
            watch.stage()
        })
        .collect();
    assert_eq!(
        stages,
        vec![
            FailoverStage::Called,
            FailoverStage::FailedOver,
            FailoverStage::FailedOver,
            FailoverStage::FailedOver,
            FailoverStage::Complete,
        ]
    );
    assert!(!watch.observe(&events[0]), "seen already");
    assert_eq!(
        watch.promoted(),
        Some((Some("orders-001"), Some("orders-002")))
    );
}

#[test]
fn another_shards_call_is_not_this_failover_and_a_failover_alone_is_not_complete() {
    let t = at("2026-06-11T12:00:00Z");
    let mut target = orders(staging());
    target.shards.push(Shard {
        node_group_id: "0002".to_owned(),
        members: vec![
            member("orders-0002-001", None),
            member("orders-0002-002", None),
        ],
    });
    let mut watch = FailoverWatch::new(&target, &NodeGroupId::parse("0001").unwrap(), t);
    let second_shard = events(&[(
        "replication-group",
        "orders",
        "Test Failover API called for node group 0002",
        t,
    )]);
    assert!(!watch.observe(&second_shard[0]));
    let failover = events(&[(
        "replication-group",
        "orders",
        "Failover from master node orders-001 to replica node orders-002 completed",
        t,
    )]);
    assert!(watch.observe(&failover[0]));
    assert_eq!(watch.stage(), FailoverStage::FailedOver);
    assert!(!watch.is_complete());
}

#[test]
fn drill_marks_and_the_measured_outcome() {
    let t = at("2026-06-11T12:00:00Z");
    let mut drill = rehearsal("orders", "orders-001", "orders-002", t);
    let id = drill[0].id.clone();
    mark_as_drill(&mut drill, &id);
    assert!(drill.iter().all(|e| e.drill
        && e.attributes.get(DRILL_ID) == Some(&id.to_string())
        && e.attributes.get(DRILL_SCENARIO).map(String::as_str) == Some(SCENARIO)));
    assert!(drill[1].group_key().unwrap().starts_with("drill:"));
    let outcome = measured_outcome(
        id.clone(),
        Duration::milliseconds(2_300),
        "longest gap 2.3 s".to_owned(),
        "ops".to_owned(),
        t,
    );
    assert_eq!(outcome.handled, "test-failover");
    assert_eq!(outcome.downtime, Some(Duration::milliseconds(2_300)));
    assert!(!outcome.site_maintenance);
}

#[test]
fn the_probe_note_gives_the_longest_gap_the_keys_and_role_changes_on_one_line() {
    let t = at("2026-06-11T12:00:00Z");
    let summary = ProbeSummary {
        target: "redis://127.0.0.1:6379/0".to_owned(),
        started: t,
        ended: t + Duration::seconds(60),
        interval_ms: 100,
        ticks: 600,
        ok: 577,
        failed: 23,
        longest_gap_ms: 2_310,
        gaps: Vec::new(),
        errors: Default::default(),
        error_messages: Default::default(),
        keys_before: Some(120),
        keys_after: Some(120),
        initial_role: None,
        role_changes: vec![crate::operations::probe::RoleChange {
            at: t,
            from: "master".to_owned(),
            to: "replica".to_owned(),
            from_master: None,
            to_master: Some("10.0.0.2:6379".to_owned()),
        }],
    };
    assert_eq!(
        probe_note(&summary),
        "probe of redis://127.0.0.1:6379/0: longest unavailability 2.31 s, 0 gaps, 23 of 600 ticks failed, keys 120 before and 120 after, role changes master -> replica of 10.0.0.2:6379"
    );
}
