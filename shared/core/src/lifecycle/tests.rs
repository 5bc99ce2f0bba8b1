//! Table tests of the lifecycle: which events make one maintenance, in any order.

use chrono::{DateTime, Utc};

use super::*;
use crate::intake::parse::{EventDraft, ParseContext};
use crate::model::event::{FailoverNodes, Origin};
use crate::model::ids::SourceId;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn window(start: &str, end: &str) -> Option<Window> {
    Some(Window {
        start: at(start),
        end: at(end),
    })
}

/// A node event of `kind` for `cluster`/`node` at `when`.
fn node_event(kind: &str, cluster: &str, node: Option<&str>, when: &str) -> EventDraft {
    let mut d = EventDraft::new(
        EventKind::new(kind),
        "cache-cluster".into(),
        SourceId::parse(cluster).unwrap(),
        Origin::DescribeEvents,
    );
    d.cluster_id = Some(ClusterId::parse(cluster).unwrap());
    d.node_id = node.map(|n| NodeId::parse(n).unwrap());
    d.occurred_at = Some(at(when));
    d
}

fn scheduled(cluster: &str, when: &str, w: Option<Window>) -> MaintenanceEvent {
    finish(scheduled_node(cluster, "0001", when, w))
}

/// The notice, at `when`, that `node` of `cluster` is to be replaced in `w`, not yet finished.
fn scheduled_node(cluster: &str, node: &str, when: &str, w: Option<Window>) -> EventDraft {
    let mut d = node_event(
        EventKind::NODE_REPLACEMENT_SCHEDULED,
        cluster,
        Some(node),
        when,
    );
    d.window = w;
    d
}

fn rescheduled(
    cluster: &str,
    when: &str,
    from: Option<Window>,
    to: Option<Window>,
) -> MaintenanceEvent {
    let mut d = node_event(
        EventKind::NODE_REPLACEMENT_RESCHEDULED,
        cluster,
        Some("0001"),
        when,
    );
    d.previous_window = from;
    d.window = to;
    finish(d)
}

fn canceled(cluster: &str, when: &str, w: Option<Window>) -> MaintenanceEvent {
    let mut d = node_event(
        EventKind::NODE_REPLACEMENT_CANCELED,
        cluster,
        Some("0001"),
        when,
    );
    d.window = w;
    finish(d)
}

fn simple(kind: &str, cluster: &str, node: Option<&str>, when: &str) -> MaintenanceEvent {
    finish(node_event(kind, cluster, node, when))
}

fn failover(source: &str, when: &str, from: Option<&str>, to: &str) -> MaintenanceEvent {
    let mut d = EventDraft::new(
        EventKind::new(EventKind::FAILOVER_COMPLETE),
        "replication-group".into(),
        SourceId::parse(source).unwrap(),
        Origin::DescribeEvents,
    );
    d.replication_group_id = Some(ReplicationGroupId::parse(source).unwrap());
    d.occurred_at = Some(at(when));
    d.failover = Some(FailoverNodes {
        from: from.map(Into::into),
        to: Some(to.into()),
    });
    finish(d)
}

fn finish(d: EventDraft) -> MaintenanceEvent {
    d.finish(&ParseContext::received_at(at("2026-01-01T00:00:00Z")))
}

/// Every permutation of `events` gives the same maintenances.
fn assemble_in_every_order(events: &[MaintenanceEvent]) -> Vec<Maintenance> {
    let expected = assemble(events);
    let mut indices: Vec<usize> = (0..events.len()).collect();
    permute(&mut indices, 0, &mut |order| {
        let shuffled: Vec<MaintenanceEvent> = order.iter().map(|&i| events[i].clone()).collect();
        assert_eq!(assemble(&shuffled), expected, "order {order:?}");
    });
    expected
}

fn permute(items: &mut Vec<usize>, k: usize, check: &mut impl FnMut(&[usize])) {
    if k == items.len() {
        check(items);
        return;
    }
    for i in k..items.len() {
        items.swap(k, i);
        permute(items, k + 1, check);
        items.swap(k, i);
    }
}

#[test]
fn rescheduled_notice_moves_the_window() {
    let w1 = window("2026-06-25T19:00:00Z", "2026-06-25T20:00:00Z");
    let w2 = window("2026-07-02T19:00:00Z", "2026-07-02T20:00:00Z");
    let events = [
        scheduled("orders-0001-001", "2026-06-11T03:00:00Z", w1),
        rescheduled("orders-0001-001", "2026-06-20T03:00:00Z", w1, w2),
    ];
    let ms = assemble_in_every_order(&events);
    assert_eq!(ms.len(), 1);
    let m = &ms[0];
    assert_eq!(m.id, events[0].id, "named by its first event");
    assert_eq!(m.state, MaintenanceState::Rescheduled);
    assert_eq!(m.window, w2);
    assert_eq!(m.previous_windows, vec![w1.unwrap()]);
    assert_eq!(m.kind, MaintenanceKind::Planned);
    assert_eq!(m.deadline(), Some(at("2026-07-02T19:00:00Z")));
}

#[test]
fn a_primary_replacement_with_failover_is_one_maintenance_in_any_order() {
    let w1 = window("2026-06-25T19:00:00Z", "2026-06-25T20:00:00Z");
    let w2 = window("2026-07-02T19:00:00Z", "2026-07-02T20:00:00Z");
    let events = [
        scheduled("orders-0001-001", "2026-06-11T03:00:00Z", w1),
        rescheduled("orders-0001-001", "2026-06-20T03:00:00Z", w1, w2),
        simple(
            EventKind::CACHE_NODE_REPLACE_STARTED,
            "orders-0001-001",
            None,
            "2026-07-02T19:05:00Z",
        ),
        failover("orders", "2026-07-02T19:07:00Z", None, "orders-0001-002"),
        simple(
            EventKind::CACHE_NODE_REPLACE_COMPLETE,
            "orders-0001-001",
            Some("0001"),
            "2026-07-02T19:20:00Z",
        ),
    ];
    let ms = assemble_in_every_order(&events);
    assert_eq!(ms.len(), 1, "{ms:#?}");
    let m = &ms[0];
    assert_eq!(m.state, MaintenanceState::Completed);
    assert_eq!(m.started_at, Some(at("2026-07-02T19:05:00Z")));
    assert_eq!(m.completed_at, Some(at("2026-07-02T19:20:00Z")));
    assert_eq!(m.failovers.len(), 1);
    assert_eq!(m.failovers[0].to.as_deref(), Some("orders-0001-002"));
    assert_eq!(m.event_ids.len(), 5);
    assert_eq!(
        m.node_id.as_ref().map(NodeId::as_str),
        Some("0001"),
        "node-less start joins node 0001"
    );
}

#[test]
fn a_node_replaced_again_the_next_day_is_a_repeat() {
    let w1 = window("2026-03-10T14:00:00Z", "2026-03-10T15:00:00Z");
    let w2 = window("2026-03-17T14:00:00Z", "2026-03-17T15:00:00Z");
    let first = scheduled_node("mc-sessions", "0002", "2026-03-01T00:00:00Z", w1);
    let again = scheduled_node("mc-sessions", "0002", "2026-03-11T09:00:00Z", w2);
    let events = [
        finish(first),
        simple(
            EventKind::CACHE_NODE_REPLACE_COMPLETE,
            "mc-sessions",
            Some("0002"),
            "2026-03-10T14:20:00Z",
        ),
        finish(again),
    ];
    let ms = assemble_in_every_order(&events);
    assert_eq!(ms.len(), 2);
    assert_eq!(ms[0].state, MaintenanceState::Completed);
    assert_eq!(ms[1].state, MaintenanceState::Scheduled);
    assert_eq!(ms[1].repeat_of.as_ref(), Some(&ms[0].id));
    assert_eq!(ms[0].repeat_of, None);
}

#[test]
fn a_new_notice_after_a_passed_window_is_a_new_maintenance() {
    let w1 = window("2026-03-10T14:00:00Z", "2026-03-10T15:00:00Z");
    let w2 = window("2026-05-01T14:00:00Z", "2026-05-01T15:00:00Z");
    let events = [
        scheduled("cache-a", "2026-03-01T00:00:00Z", w1),
        scheduled("cache-a", "2026-04-20T00:00:00Z", w2),
    ];
    let ms = assemble_in_every_order(&events);
    assert_eq!(ms.len(), 2);
    assert_eq!(
        ms[0].status(at("2026-04-21T00:00:00Z")),
        MaintenanceState::WindowPassed
    );
    assert_eq!(
        ms[1].repeat_of, None,
        "more than 30 days after the first window ended"
    );
}

#[test]
fn the_same_notice_sent_again_is_the_same_maintenance() {
    let w = window("2026-03-10T14:00:00Z", "2026-03-10T15:00:00Z");
    let events = [
        scheduled("cache-a", "2026-03-01T00:00:00Z", w),
        scheduled("cache-a", "2026-03-05T00:00:00Z", w),
        scheduled("cache-a", "2026-03-09T00:00:00Z", w),
    ];
    let ms = assemble_in_every_order(&events);
    assert_eq!(ms.len(), 1);
    assert_eq!(ms[0].notices, 3);
    assert_eq!(ms[0].state, MaintenanceState::Scheduled);
    assert!(ms[0].previous_windows.is_empty());
}

#[test]
fn cancellation_ends_it_and_a_later_notice_opens_another() {
    let w = window("2026-03-10T14:00:00Z", "2026-03-10T15:00:00Z");
    let w2 = window("2026-03-20T14:00:00Z", "2026-03-20T15:00:00Z");
    let events = [
        scheduled("cache-a", "2026-03-01T00:00:00Z", w),
        canceled("cache-a", "2026-03-03T00:00:00Z", w),
        scheduled("cache-a", "2026-03-04T00:00:00Z", w2),
    ];
    let ms = assemble_in_every_order(&events);
    assert_eq!(ms.len(), 2);
    assert_eq!(ms[0].state, MaintenanceState::Canceled);
    assert_eq!(ms[0].canceled_at, Some(at("2026-03-03T00:00:00Z")));
    assert_eq!(ms[1].state, MaintenanceState::Scheduled);
    assert_eq!(ms[1].repeat_of.as_ref(), Some(&ms[0].id));
}

#[test]
fn a_reschedule_after_a_cancellation_of_the_same_window_revives_it() {
    let w = window("2026-03-10T14:00:00Z", "2026-03-10T15:00:00Z");
    let w2 = window("2026-03-20T14:00:00Z", "2026-03-20T15:00:00Z");
    let events = [
        scheduled("cache-a", "2026-03-01T00:00:00Z", w),
        canceled("cache-a", "2026-03-03T00:00:00Z", w),
        rescheduled("cache-a", "2026-03-04T00:00:00Z", w, w2),
    ];
    let ms = assemble_in_every_order(&events);
    assert_eq!(ms.len(), 1);
    assert_eq!(ms[0].state, MaintenanceState::Rescheduled);
    assert_eq!(ms[0].canceled_at, None);
    assert_eq!(ms[0].window, w2);
}

#[test]
fn an_unplanned_failover_stands_alone_and_its_two_records_are_one() {
    let events = [
        failover("sessions", "2026-05-05T04:58:00Z", None, "sessions-002"),
        failover("sessions-002", "2026-05-05T04:58:02Z", None, "sessions-002"),
    ];
    let ms = assemble_in_every_order(&events);
    assert_eq!(ms.len(), 1);
    assert_eq!(ms[0].kind, MaintenanceKind::Failover);
    assert_eq!(ms[0].state, MaintenanceState::Completed);
    assert_eq!(ms[0].failovers.len(), 2);
    assert_eq!(ms[0].cluster_id, None);
}

#[test]
fn a_failover_outside_every_window_is_not_attached() {
    let w = window("2026-03-10T14:00:00Z", "2026-03-10T15:00:00Z");
    let events = [
        scheduled("orders-0001-001", "2026-03-01T00:00:00Z", w),
        failover("orders", "2026-03-05T03:00:00Z", None, "orders-0001-002"),
    ];
    let ms = assemble_in_every_order(&events);
    assert_eq!(ms.len(), 2);
    assert!(ms.iter().any(|m| m.kind == MaintenanceKind::Failover));
    assert!(
        ms.iter()
            .all(|m| m.kind != MaintenanceKind::Planned || m.failovers.is_empty())
    );
}

#[test]
fn a_test_failover_joins_the_recovery_of_the_node_it_names() {
    let events = [
        failover(
            "orders",
            "2026-03-05T03:00:00Z",
            Some("orders-0002-001"),
            "orders-0002-002",
        ),
        simple(
            EventKind::CACHE_NODE_REPLACE_STARTED,
            "orders-0002-001",
            Some("0001"),
            "2026-03-05T03:00:30Z",
        ),
        simple(
            EventKind::CACHE_NODE_REPLACE_COMPLETE,
            "orders-0002-001",
            Some("0001"),
            "2026-03-05T03:06:00Z",
        ),
        simple(
            EventKind::CACHE_NODE_REPLACE_STARTED,
            "orders-0001-001",
            Some("0001"),
            "2026-03-05T03:01:00Z",
        ),
    ];
    let ms = assemble_in_every_order(&events);
    assert_eq!(ms.len(), 2);
    let named = ms
        .iter()
        .find(|m| m.cluster_id.as_ref().unwrap().as_str() == "orders-0002-001")
        .unwrap();
    assert_eq!(named.failovers.len(), 1);
    assert_eq!(named.kind, MaintenanceKind::Unplanned);
    assert_eq!(named.state, MaintenanceState::Completed);
}

#[test]
fn memcached_nodes_of_one_cluster_are_separate_maintenances() {
    let w = window("2026-03-10T14:00:00Z", "2026-03-10T15:00:00Z");
    let a = scheduled_node("mc", "0001", "2026-03-01T00:00:00Z", w);
    let b = scheduled_node("mc", "0002", "2026-03-01T00:00:00Z", w);
    let events = [
        finish(a),
        finish(b),
        simple(
            EventKind::CACHE_NODE_REPLACE_COMPLETE,
            "mc",
            Some("0002"),
            "2026-03-10T14:10:00Z",
        ),
        simple(
            EventKind::CACHE_NODE_REPLACE_STARTED,
            "mc",
            None,
            "2026-03-10T14:01:00Z",
        ),
    ];
    let ms = assemble_in_every_order(&events);
    // The node-less start cannot be placed on one of two nodes: it stands as its own episode.
    assert_eq!(ms.len(), 3, "{ms:#?}");
    let n2 = ms
        .iter()
        .find(|m| m.node_id.as_ref().is_some_and(|n| n.as_str() == "0002"))
        .unwrap();
    assert_eq!(n2.state, MaintenanceState::Completed);
    let n1 = ms
        .iter()
        .find(|m| m.node_id.as_ref().is_some_and(|n| n.as_str() == "0001"))
        .unwrap();
    assert_eq!(n1.state, MaintenanceState::Scheduled);
}

#[test]
fn a_late_completion_still_closes_the_window_it_belongs_to() {
    let w = window("2026-03-10T14:00:00Z", "2026-03-10T15:00:00Z");
    let events = [
        scheduled("cache-a", "2026-03-01T00:00:00Z", w),
        simple(
            EventKind::CACHE_NODE_REPLACE_COMPLETE,
            "cache-a",
            Some("0001"),
            "2026-03-10T18:00:00Z",
        ),
        simple(
            EventKind::CACHE_NODE_REPLACE_COMPLETE,
            "cache-a",
            Some("0001"),
            "2026-03-10T18:00:40Z",
        ),
        simple(
            EventKind::CACHE_NODE_REPLACE_COMPLETE,
            "cache-a",
            Some("0001"),
            "2026-04-10T18:00:00Z",
        ),
    ];
    let ms = assemble_in_every_order(&events);
    assert_eq!(ms.len(), 2);
    assert_eq!(ms[0].state, MaintenanceState::Completed);
    assert_eq!(
        ms[0].event_ids.len(),
        3,
        "the duplicate completion joins it"
    );
    assert_eq!(
        ms[1].kind,
        MaintenanceKind::Unplanned,
        "a month later is another recovery"
    );
}

#[test]
fn upcoming_means_not_over_yet() {
    let w = window("2026-03-10T14:00:00Z", "2026-03-10T15:00:00Z");
    let ms = assemble(&[scheduled("cache-a", "2026-03-01T00:00:00Z", w)]);
    let m = &ms[0];
    assert!(m.is_upcoming(at("2026-03-10T14:30:00Z")));
    assert!(!m.is_upcoming(at("2026-03-10T15:00:01Z")));
    assert_eq!(m.ended_at(), Some(at("2026-03-10T15:00:00Z")));
}

#[test]
fn drill_events_never_mix_with_real_ones() {
    let w = window("2026-03-10T14:00:00Z", "2026-03-10T15:00:00Z");
    let real = scheduled("cache-a", "2026-03-01T00:00:00Z", w);
    let d = scheduled_node("cache-a", "0001", "2026-03-01T00:00:00Z", w);
    let drill = d.finish(&ParseContext {
        received_at: at("2026-03-01T00:00:00Z"),
        drill: true,
    });
    assert_ne!(real.group_key(), drill.group_key());
    assert!(drill.group_key().unwrap().starts_with("drill:"));
}

#[test]
fn other_events_take_no_part() {
    let ms = assemble(&[simple(
        EventKind::SNAPSHOT_COMPLETE,
        "cache-a",
        None,
        "2026-03-01T00:00:00Z",
    )]);
    assert!(ms.is_empty());
}

fn in_place(mut e: MaintenanceEvent, account: &str, region: &str) -> MaintenanceEvent {
    e.stamp_place(account, region);
    e
}

#[test]
fn clusters_of_one_name_in_two_accounts_or_regions_never_share_a_maintenance() {
    let w = window("2026-06-25T19:00:00Z", "2026-06-25T20:00:00Z");
    let notice = || scheduled("sessions-redis", "2026-06-11T03:10:02Z", w);
    let events = [
        in_place(notice(), "111122223333", "eu-west-1"),
        in_place(notice(), "444455556666", "eu-west-1"),
        in_place(notice(), "111122223333", "us-east-1"),
    ];
    let maintenances = assemble(&events);
    assert_eq!(maintenances.len(), 3, "{maintenances:#?}");
    for (m, e) in maintenances.iter().zip(sorted_ids(&events)) {
        assert_eq!(m.event_ids, std::slice::from_ref(&e));
    }
    let places: BTreeSet<_> = maintenances
        .iter()
        .map(|m| (m.account_id.clone(), m.region.clone()))
        .collect();
    assert_eq!(places.len(), 3);
}

fn sorted_ids(events: &[MaintenanceEvent]) -> Vec<EventId> {
    let mut ids: Vec<EventId> = events.iter().map(|e| e.id.clone()).collect();
    ids.sort();
    ids
}

#[test]
fn an_event_without_an_account_joins_the_one_place_of_its_group_and_no_other() {
    let w = window("2026-06-25T19:00:00Z", "2026-06-25T20:00:00Z");
    let notice = in_place(
        scheduled("sessions-redis", "2026-06-11T03:10:02Z", w),
        "111122223333",
        "eu-west-1",
    );
    let started = finish(node_event(
        EventKind::CACHE_NODE_REPLACE_STARTED,
        "sessions-redis",
        Some("0001"),
        "2026-06-25T19:05:00Z",
    ));
    let one_place = assemble(&[notice.clone(), started.clone()]);
    assert_eq!(one_place.len(), 1, "{one_place:#?}");
    assert_eq!(one_place[0].state, MaintenanceState::InProgress);
    // With a second account of the same name, which one started cannot be told: apart.
    let other = in_place(
        scheduled("sessions-redis", "2026-06-11T03:10:02Z", w),
        "444455556666",
        "eu-west-1",
    );
    let two_places = assemble(&[notice, other, started.clone()]);
    assert_eq!(two_places.len(), 3, "{two_places:#?}");
    assert!(
        two_places
            .iter()
            .filter(|m| m.event_ids != [started.id.clone()])
            .all(|m| m.state == MaintenanceState::Scheduled)
    );
}
