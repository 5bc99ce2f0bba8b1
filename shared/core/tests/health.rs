//! AWS Health events about ElastiCache, from the fixtures under `tests/fixtures/health/`
//! (written from AWS Health's EventBridge schema): what each one becomes, which deliveries are
//! the same record, and the maintenance their communications make.

use cachewatch_core::intake::parse::Problem;
use cachewatch_core::intake::parse::health::attribute;
use cachewatch_core::lifecycle::{MaintenanceKind, assemble};
use cachewatch_core::{
    Category, MaintenanceEvent, MaintenanceState, Origin, ParseContext, parse_document,
};
use chrono::{DateTime, Utc};

const DUE: &str = include_str!("../../../tests/fixtures/health/service_update_due.json");
const DUE_OPEN: &str = include_str!("../../../tests/fixtures/health/service_update_due_open.json");
const LIFECYCLE: &str = include_str!("../../../tests/fixtures/health/planned_lifecycle.json");
const UNKNOWN: &str = include_str!("../../../tests/fixtures/health/unknown_code.json");
const NO_ARN: &str = include_str!("../../../tests/fixtures/health/malformed_no_event_arn.json");
const OTHER_SERVICE: &str = include_str!("../../../tests/fixtures/health/other_service.json");

fn at(raw: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(raw)
        .unwrap()
        .with_timezone(&Utc)
}

fn parse(input: &str, received: &str) -> Vec<MaintenanceEvent> {
    parse_document(input, &ParseContext::received_at(at(received))).unwrap()
}

#[test]
fn a_service_update_due_becomes_one_event_per_affected_entity() {
    let events = parse(DUE, "2026-06-01T09:00:05Z");
    assert_eq!(events.len(), 2);
    let (group, cluster) = (&events[0], &events[1]);
    assert_eq!(group.source_type, "replication-group");
    assert_eq!(
        group.replication_group_id.as_ref().unwrap().as_str(),
        "orders"
    );
    assert_eq!(cluster.source_type, "cache-cluster");
    assert_eq!(
        cluster.cluster_id.as_ref().unwrap().as_str(),
        "sessions-001"
    );
    for e in &events {
        assert_eq!(
            e.kind.as_str(),
            "aws_elasticache_before_update_due_notification"
        );
        assert_eq!(e.category, Category::Health);
        assert!(e.actionable);
        assert_eq!(e.origin, Origin::AwsHealth);
        assert_eq!(e.occurred_at, at("2026-06-01T09:00:00Z"));
        assert_eq!(e.window.unwrap().start, at("2026-07-01T00:00:00Z"));
        assert_eq!(e.region.as_deref(), Some("eu-west-1"));
        assert_eq!(e.account_id.as_deref(), Some("123456789012"));
        assert_eq!(e.attributes[attribute::STATUS], "upcoming");
        assert!(
            e.message
                .as_deref()
                .unwrap()
                .contains("Apply it before July 1, 2026")
        );
    }
    assert_ne!(group.id, cluster.id);
}

#[test]
fn the_same_communication_delivered_again_has_the_same_ids() {
    let first = parse(DUE, "2026-06-01T09:00:05Z");
    let again = parse(DUE, "2026-06-01T09:07:40Z");
    let ids = |events: &[MaintenanceEvent]| events.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&first), ids(&again));
}

#[test]
fn a_new_communication_is_a_new_record_in_the_same_maintenance() {
    let mut events = parse(DUE, "2026-06-01T09:00:05Z");
    let later = parse(DUE_OPEN, "2026-06-20T10:00:02Z");
    assert_ne!(events[0].id, later[0].id);
    events.extend(later);
    let orders: Vec<MaintenanceEvent> = events
        .into_iter()
        .filter(|e| e.group_key().as_deref() == Some("orders"))
        .collect();
    let maintenances = assemble(&orders);
    assert_eq!(maintenances.len(), 1, "{maintenances:#?}");
    let m = &maintenances[0];
    assert_eq!(m.kind, MaintenanceKind::Health);
    assert_eq!(m.state, MaintenanceState::InProgress);
    assert_eq!(m.event_ids.len(), 2);
    assert_eq!(m.deadline(), Some(at("2026-07-08T00:00:00Z")));
    assert_eq!(m.previous_windows[0].start, at("2026-07-01T00:00:00Z"));
    assert_eq!(m.started_at, Some(at("2026-06-20T10:00:00Z")));
}

#[test]
fn statuses_map_onto_the_lifecycle() {
    let upcoming = parse(DUE, "2026-06-01T09:00:05Z");
    let m = &assemble(&upcoming[1..])[0];
    assert_eq!(m.state, MaintenanceState::Scheduled);
    assert!(m.is_upcoming(at("2026-06-02T00:00:00Z")));
    assert_eq!(
        m.status(at("2026-07-02T00:00:00Z")),
        MaintenanceState::WindowPassed
    );

    let closed = DUE.replace("\"upcoming\"", "\"closed\"");
    let m = &assemble(&parse(&closed, "2026-06-01T09:00:05Z")[1..])[0];
    assert_eq!(m.state, MaintenanceState::Completed);
    assert!(!m.is_upcoming(at("2026-06-02T00:00:00Z")));
}

#[test]
fn an_engine_end_of_support_notice_has_its_deadline_for_each_cluster() {
    let events = parse(LIFECYCLE, "2026-05-04T08:00:03Z");
    assert_eq!(events.len(), 2);
    for e in &events {
        assert_eq!(e.kind.as_str(), "aws_elasticache_planned_lifecycle_event");
        let m = &assemble(std::slice::from_ref(e))[0];
        assert_eq!(m.deadline(), Some(at("2026-07-31T00:00:00Z")));
        assert_eq!(m.kind, MaintenanceKind::Health);
    }
    assert_eq!(
        events[1].cluster_id.as_ref().unwrap().as_str(),
        "legacy-cache-002"
    );
}

#[test]
fn an_unknown_code_without_entities_is_kept_for_the_account() {
    let events = parse(UNKNOWN, "2026-06-05T12:30:09Z");
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e.kind.as_str(), "aws_elasticache_operational_issue");
    assert_eq!(
        e.event_name.as_deref(),
        Some("AWS_ELASTICACHE_OPERATIONAL_ISSUE")
    );
    assert_eq!(e.source_type, "account");
    assert_eq!(e.source_id.as_str(), "123456789012");
    assert_eq!(e.attributes[attribute::EVENT_TYPE_CATEGORY], "issue");
}

#[test]
fn a_health_event_without_its_arn_is_refused() {
    let err = parse_document(
        NO_ARN,
        &ParseContext::received_at(at("2026-06-01T09:00:05Z")),
    )
    .unwrap_err();
    assert_eq!(err.problem, Problem::MissingField { field: "eventArn" });
    assert!(err.to_string().contains("`eventArn` is missing"), "{err}");
}

#[test]
fn a_health_event_about_another_service_is_refused() {
    let err = parse_document(
        OTHER_SERVICE,
        &ParseContext::received_at(at("2026-06-01T09:00:05Z")),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("not an AWS Health event about ElastiCache")
            && err.to_string().contains("EC2"),
        "{err}"
    );
}

#[test]
fn an_eventbridge_event_from_another_source_is_refused() {
    let input = DUE.replace("\"aws.health\"", "\"aws.elasticache\"");
    let err = parse_document(
        &input,
        &ParseContext::received_at(at("2026-06-01T09:00:05Z")),
    )
    .unwrap_err();
    assert!(matches!(err.problem, Problem::UnknownShape { .. }), "{err}");
    assert!(err.to_string().contains("detail-type"), "{err}");
}

#[test]
fn a_health_event_with_a_bad_date_or_entity_is_refused() {
    let ctx = ParseContext::received_at(at("2026-06-01T09:00:05Z"));
    let bad_date = DUE.replace("Wed, 01 Jul 2026 00:00:00 GMT", "first of July");
    let err = parse_document(&bad_date, &ctx).unwrap_err();
    assert!(
        err.to_string().contains("`startTime` is not a date"),
        "{err}"
    );
    let bad_entity = DUE.replace("sessions-001", "sessions\u{202e}-001");
    assert!(matches!(
        parse_document(&bad_entity, &ctx).unwrap_err().problem,
        Problem::BadIdentifier { .. }
    ));
}

#[test]
fn a_health_event_forwarded_through_sns_reads_the_same() {
    let sns = serde_json::json!({
        "Type": "Notification",
        "MessageId": "d3b2a1f0-0000-4000-8000-000000000001",
        "TopicArn": "arn:aws:sns:eu-west-1:123456789012:cachewatch",
        "Message": DUE,
        "Timestamp": "2026-06-01T09:00:01.000Z"
    });
    let via_sns = parse(&sns.to_string(), "2026-06-01T09:00:05Z");
    let direct = parse(DUE, "2026-06-01T09:00:05Z");
    assert_eq!(
        via_sns.iter().map(|e| &e.id).collect::<Vec<_>>(),
        direct.iter().map(|e| &e.id).collect::<Vec<_>>()
    );
}

#[test]
fn the_slack_alert_of_a_service_update_speaks_of_the_update_not_of_a_node_replacement() {
    use cachewatch_core::alerting::slack::{self, AlertContext};
    use cachewatch_core::cluster::facts::ClusterFacts;
    use cachewatch_core::runbook::Owners;

    let events = parse(DUE, "2026-06-01T09:00:05Z");
    let event = &events[0];
    let m = assemble(std::slice::from_ref(event)).remove(0);
    let (facts, owners) = (ClusterFacts::default(), Owners::default());
    let ctx = AlertContext::new(event, &facts, &owners, at("2026-06-22T09:00:00Z"))
        .with_maintenance(&m, std::slice::from_ref(event));

    let message = slack::alert(&ctx);
    let whole = format!(
        "{}\n{}",
        message.text,
        serde_json::to_value(&message.blocks).unwrap()
    );

    assert!(whole.contains("Service update due"), "{whole}");
    assert!(!whole.to_lowercase().contains("replace"), "{whole}");
}
