//! The maintenance an AWS Health event makes: every communication of one `eventArn` about one
//! entity, followed through the statuses AWS Health gives it.
//!
//! AWS Health's EventBridge schema
//! (<https://docs.aws.amazon.com/health/latest/ug/aws-health-events-eventbridge-schema.html>)
//! gives each event a `statusCode` of `upcoming`, `open` or `closed`, and a start and end time.
//! The latest communication decides: `upcoming` is scheduled (rescheduled once its start moved),
//! `open` in progress, `closed` completed. The start time is the deadline.

use std::collections::BTreeMap;

use super::{Maintenance, MaintenanceKind, MaintenanceState, chronological};
use crate::intake::parse::health::attribute;
use crate::model::event::{MaintenanceEvent, Window};

/// The maintenances of a group's AWS Health events, one per `eventArn` and entity.
pub(super) fn maintenances(events: Vec<&MaintenanceEvent>) -> Vec<Maintenance> {
    let mut by_notice: BTreeMap<(String, String, String), Vec<&MaintenanceEvent>> = BTreeMap::new();
    for e in events {
        let arn = e
            .attributes
            .get(attribute::EVENT_ARN)
            .cloned()
            .unwrap_or_else(|| e.kind.to_string());
        by_notice
            .entry((arn, e.source_type.clone(), e.source_id.to_string()))
            .or_default()
            .push(e);
    }
    by_notice
        .into_values()
        .map(|mut events| {
            events.sort_by(chronological);
            events.dedup_by(|a, b| a.id == b.id);
            maintenance(&events)
        })
        .collect()
}

/// The state a Health `statusCode` stands for.
fn state_of(status: Option<&str>) -> MaintenanceState {
    match status {
        Some("open") => MaintenanceState::InProgress,
        Some("closed") => MaintenanceState::Completed,
        _ => MaintenanceState::Scheduled,
    }
}

fn maintenance(events: &[&MaintenanceEvent]) -> Maintenance {
    let first = events[0];
    let last = events[events.len() - 1];
    let status =
        |e: &MaintenanceEvent| state_of(e.attributes.get(attribute::STATUS).map(String::as_str));
    let mut window: Option<Window> = None;
    let mut previous_windows = Vec::new();
    for w in events.iter().filter_map(|e| e.window) {
        match window {
            Some(current) if current != w => {
                previous_windows.retain(|p| *p != w);
                previous_windows.push(current);
                window = Some(w);
            }
            Some(_) => {}
            None => window = Some(w),
        }
    }
    let mut state = status(last);
    if state == MaintenanceState::Scheduled && !previous_windows.is_empty() {
        state = MaintenanceState::Rescheduled;
    }
    let first_at = |wanted: MaintenanceState| {
        events
            .iter()
            .find(|e| status(e) == wanted)
            .map(|e| e.occurred_at)
    };
    Maintenance {
        id: first.id.clone(),
        group_key: first
            .group_key()
            .unwrap_or_else(|| first.source_id.to_string()),
        kind: MaintenanceKind::Health,
        state,
        cluster_id: events.iter().find_map(|e| e.cluster_id.clone()),
        node_id: None,
        replication_group_id: events.iter().find_map(|e| e.replication_group_id.clone()),
        window,
        previous_windows,
        first_event_at: first.occurred_at,
        last_event_at: last.occurred_at,
        started_at: first_at(MaintenanceState::InProgress),
        completed_at: (state == MaintenanceState::Completed)
            .then(|| first_at(MaintenanceState::Completed))
            .flatten(),
        canceled_at: None,
        failovers: Vec::new(),
        notices: u32::try_from(events.len()).unwrap_or(u32::MAX),
        repeat_of: None,
        event_ids: events.iter().map(|e| e.id.clone()).collect(),
        region: events.iter().find_map(|e| e.region.clone()),
        account_id: events.iter().find_map(|e| e.account_id.clone()),
        drill: first.drill,
    }
}
