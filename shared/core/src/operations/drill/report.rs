//! How a drill went, measured: from the moment it was raised, how long until someone
//! acknowledged it, ticked the first checklist step, and recorded the outcome; and the downtime
//! the outcome measured.
//!
//! Teams that measured their drills learned the most from the numbers ("the report flow took an
//! hour, now thirty minutes"), so the report gives them as numbers, from what was recorded through
//! Slack's buttons, the runbook page or the command line alike.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Serialize, Serializer};

use super::{DRILL_ID, DRILL_SCENARIO};
use crate::alerting::delivery::Delivery;
use crate::history::response::{Acknowledgement, Outcome, StepDone, first_acknowledgement};
use crate::model::event::{EventId, MaintenanceEvent, rfc3339};

/// The name of the drill run `e` belongs to: its [`DRILL_ID`], else its maintenance, else itself.
/// `None` for an event that is not a drill's.
pub fn run_of(e: &MaintenanceEvent) -> Option<String> {
    if !e.drill {
        return None;
    }
    Some(match (e.attributes.get(DRILL_ID), &e.maintenance_id) {
        (Some(id), _) => id.clone(),
        (None, Some(m)) => m.to_string(),
        (None, None) => e.id.to_string(),
    })
}

/// Drill events grouped by run ([`run_of`]); events that are not a drill's are left out.
pub fn runs(events: &[MaintenanceEvent]) -> BTreeMap<String, Vec<MaintenanceEvent>> {
    let mut out: BTreeMap<String, Vec<MaintenanceEvent>> = BTreeMap::new();
    for e in events {
        if let Some(run) = run_of(e) {
            out.entry(run).or_default().push(e.clone());
        }
    }
    out
}

/// A moment someone did something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Response {
    /// Who.
    pub by: String,
    /// When.
    #[serde(with = "rfc3339")]
    pub at: DateTime<Utc>,
}

/// The first checklist step done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FirstStep {
    /// The step's number in the runbook.
    pub step: u32,
    /// Who.
    pub by: String,
    /// When.
    #[serde(with = "rfc3339")]
    pub at: DateTime<Utc>,
}

/// How the drill ended, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Done {
    /// How it was handled.
    pub handled: String,
    /// Whether the site was put into maintenance.
    pub site_maintenance: bool,
    /// Anything worth remembering.
    pub note: Option<String>,
    /// Who recorded it.
    pub by: String,
    /// When.
    #[serde(with = "rfc3339")]
    pub at: DateTime<Utc>,
}

/// The measured drill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DrillReport {
    /// The drill run's id.
    pub drill_id: String,
    /// The scenario, when the events name it.
    pub scenario: Option<String>,
    /// The cluster (or replication group) it was about.
    pub cluster: String,
    /// The maintenances its events make, oldest first.
    pub maintenances: Vec<EventId>,
    /// Its events, oldest first.
    pub events: Vec<EventId>,
    /// When it was raised: its first alert, or the reception of its first event if that was
    /// earlier or there was no alert. Every time below is measured from here.
    #[serde(with = "rfc3339")]
    pub raised_at: DateTime<Utc>,
    /// When its first alert was recorded for sending, if one was.
    #[serde(serialize_with = "optional_time")]
    pub alerted_at: Option<DateTime<Utc>>,
    /// The first acknowledgement.
    pub acknowledged: Option<Response>,
    /// The first checklist step ticked.
    pub first_step: Option<FirstStep>,
    /// The outcome (the latest recorded).
    pub done: Option<Done>,
    /// From raised to acknowledged, in seconds.
    #[serde(serialize_with = "optional_seconds")]
    pub time_to_acknowledge: Option<Duration>,
    /// From raised to the first step, in seconds.
    #[serde(serialize_with = "optional_seconds")]
    pub time_to_first_step: Option<Duration>,
    /// From raised to the outcome, in seconds.
    #[serde(serialize_with = "optional_seconds")]
    pub time_to_done: Option<Duration>,
    /// The unavailability the outcome measured, in seconds.
    #[serde(serialize_with = "optional_seconds")]
    pub downtime: Option<Duration>,
}

fn optional_time<S: Serializer>(at: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => s.serialize_some(&rfc3339::format(at)),
        None => s.serialize_none(),
    }
}

fn optional_seconds<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_some(&d.num_seconds()),
        None => s.serialize_none(),
    }
}

/// What was recorded about one drill run.
#[derive(Debug, Clone, Copy)]
pub struct Recorded<'a> {
    /// The run's events (any order).
    pub events: &'a [MaintenanceEvent],
    /// The alerts of those events.
    pub alerts: &'a [Delivery],
    /// Acknowledgements recorded against any of them.
    pub acknowledgements: &'a [Acknowledgement],
    /// Steps done against any of them.
    pub steps: &'a [StepDone],
    /// Outcomes recorded against any of them.
    pub outcomes: &'a [Outcome],
}

/// Measures the drill run `drill_id` from what was recorded. `None` when it has no events.
pub fn report(drill_id: &str, recorded: Recorded<'_>) -> Option<DrillReport> {
    let mut events: Vec<&MaintenanceEvent> = recorded.events.iter().collect();
    events.sort_by(|a, b| (a.occurred_at, &a.id).cmp(&(b.occurred_at, &b.id)));
    let received = events.iter().map(|e| e.received_at).min()?;
    let alerted_at = recorded
        .alerts
        .iter()
        .filter(|d| d.state.announces())
        .map(|d| d.created_at)
        .min();
    let raised_at = alerted_at.map_or(received, |a| a.min(received));
    let since = |at: DateTime<Utc>| at - raised_at;

    let acknowledged = first_acknowledgement(recorded.acknowledgements).map(|a| Response {
        by: a.by.clone(),
        at: a.at,
    });
    let first_step = recorded
        .steps
        .iter()
        .min_by_key(|s| (s.at, s.step))
        .map(|s| FirstStep {
            step: s.step,
            by: s.by.clone(),
            at: s.at,
        });
    let outcome = recorded.outcomes.iter().max_by_key(|o| o.at);
    let lead = events.last().copied()?;
    let mut maintenances: Vec<EventId> = Vec::new();
    for e in &events {
        if let Some(m) = &e.maintenance_id
            && !maintenances.contains(m)
        {
            maintenances.push(m.clone());
        }
    }
    Some(DrillReport {
        drill_id: drill_id.to_owned(),
        scenario: events
            .iter()
            .find_map(|e| e.attributes.get(DRILL_SCENARIO).cloned()),
        cluster: lead.cluster_label().to_owned(),
        maintenances,
        events: events.iter().map(|e| e.id.clone()).collect(),
        raised_at,
        alerted_at,
        time_to_acknowledge: acknowledged.as_ref().map(|a| since(a.at)),
        time_to_first_step: first_step.as_ref().map(|s| since(s.at)),
        time_to_done: outcome.map(|o| since(o.at)),
        downtime: outcome.and_then(|o| o.downtime),
        acknowledged,
        first_step,
        done: outcome.map(|o| Done {
            handled: o.handled.clone(),
            site_maintenance: o.site_maintenance,
            note: o.note.clone(),
            by: o.by.clone(),
            at: o.at,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerting::delivery::DeliveryState;
    use crate::model::ids::ClusterId;
    use crate::operations::drill::{DrillTarget, Scenario, events_for};

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn run(now: DateTime<Utc>) -> Vec<MaintenanceEvent> {
        let target = DrillTarget {
            cluster: ClusterId::parse("orders-0001-001").unwrap(),
            node: None,
            replication_group: None,
        };
        events_for(Scenario::PrimaryReplacement, &target, now)
            .unwrap()
            .events
    }

    #[test]
    fn times_are_measured_from_the_alert_to_each_response() {
        let now = at("2026-06-25T17:00:00Z");
        let events = run(now);
        let id = events[0].id.clone();
        let alert = Delivery::new(
            id.clone(),
            "C0ALERTS".into(),
            None,
            DeliveryState::Sent,
            now + Duration::seconds(1),
        );
        let acks = [
            Acknowledgement {
                event_id: id.clone(),
                by: "bob".into(),
                at: now + Duration::minutes(5),
            },
            Acknowledgement {
                event_id: id.clone(),
                by: "alice".into(),
                at: now + Duration::minutes(3),
            },
        ];
        let steps = [
            StepDone {
                event_id: id.clone(),
                step: 2,
                by: "alice".into(),
                at: now + Duration::minutes(9),
            },
            StepDone {
                event_id: id.clone(),
                step: 1,
                by: "alice".into(),
                at: now + Duration::minutes(7),
            },
        ];
        let outcomes = [Outcome {
            event_id: id.clone(),
            handled: "manual-failover".into(),
            site_maintenance: false,
            downtime: Some(Duration::seconds(125)),
            note: Some("as rehearsed".into()),
            by: "alice".into(),
            at: now + Duration::minutes(40),
        }];
        let r = report(
            id.as_str(),
            Recorded {
                events: &events,
                alerts: &[alert],
                acknowledgements: &acks,
                steps: &steps,
                outcomes: &outcomes,
            },
        )
        .unwrap();
        assert_eq!(
            r.raised_at, now,
            "the events were received before the alert"
        );
        assert_eq!(r.alerted_at, Some(now + Duration::seconds(1)));
        assert_eq!(r.acknowledged.as_ref().unwrap().by, "alice");
        assert_eq!(r.time_to_acknowledge, Some(Duration::minutes(3)));
        assert_eq!(r.first_step.as_ref().unwrap().step, 1);
        assert_eq!(r.time_to_first_step, Some(Duration::minutes(7)));
        assert_eq!(r.time_to_done, Some(Duration::minutes(40)));
        assert_eq!(r.downtime, Some(Duration::seconds(125)));
        assert_eq!(r.scenario.as_deref(), Some("primary-replacement"));
        assert_eq!(r.cluster, "orders-0001-001");
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["time_to_acknowledge"], 180);
        assert_eq!(json["downtime"], 125);
        assert_eq!(json["raised_at"], "2026-06-25T17:00:00Z");
    }

    #[test]
    fn an_unanswered_drill_has_no_times_yet() {
        let now = at("2026-06-25T17:00:00Z");
        let events = run(now);
        let r = report(
            "x",
            Recorded {
                events: &events,
                alerts: &[],
                acknowledgements: &[],
                steps: &[],
                outcomes: &[],
            },
        )
        .unwrap();
        assert_eq!(r.alerted_at, None);
        assert_eq!(r.time_to_acknowledge, None);
        assert_eq!(r.time_to_done, None);
        let json = serde_json::to_value(&r).unwrap();
        assert!(json["time_to_first_step"].is_null());
        let nothing = Recorded {
            events: &[],
            alerts: &[],
            acknowledgements: &[],
            steps: &[],
            outcomes: &[],
        };
        assert!(report("x", nothing).is_none());
    }

    #[test]
    fn drill_events_group_by_run_and_real_events_are_left_out() {
        let now = at("2026-06-25T17:00:00Z");
        let mut events = run(now);
        events.extend(run(now + Duration::minutes(1)));
        let mut real = events[0].clone();
        real.drill = false;
        events.push(real);
        let grouped = runs(&events);
        assert_eq!(grouped.len(), 2);
        assert!(grouped.values().all(|r| r.len() == 1));
    }
}
