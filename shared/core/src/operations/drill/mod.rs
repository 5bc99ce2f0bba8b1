//! Drills: rehearsals of a maintenance or a failure, run through the same pipeline as real events.
//!
//! A drill injects synthetic events, written in ElastiCache's documented message texts, about a
//! cluster the team names. They are marked as drills ([`MaintenanceEvent::drill`], origin
//! `drill`), so they group into maintenances of their own, stay out of normal searches and
//! reports, and every alert and runbook they produce says DRILL first. Each event also carries
//! the attributes [`DRILL_ID`] and [`DRILL_SCENARIO`], so that a drill run can be found again and
//! measured: how long until someone acknowledged it, ticked the first checklist step, recorded how
//! it went ([`report`]).
//!
//! The scenarios ([`Scenario`]) follow what teams met: a primary or a replica scheduled for
//! replacement, a failover nobody saw coming, a Memcached node that comes back empty, and the
//! node just replaced that gets another notice. The `failure-menu` scenario injects nothing: it
//! renders the platform team's menu of failure tests as a plan for one topology ([`menu`]).

pub mod menu;
pub mod report;

use std::fmt;

use chrono::{DateTime, Duration, DurationRound, Utc};

use crate::cluster::facts::{ClusterFacts, Engine, NodeRole};
use crate::cluster::source::FactsSource;
use crate::intake::parse::{EventDraft, ParseContext, Problem};
use crate::lifecycle::Maintenance;
use crate::model::event::{EventId, MaintenanceEvent, Origin};
use crate::model::ids::{ClusterId, NodeId, ReplicationGroupId, SourceId};
use crate::model::kind::{EVENT_NAME_PREFIX, EventKind};

/// The attribute that names the drill run an event belongs to. Every event of one run carries the
/// same value; other drill doors (a rehearsed failover) set it too.
pub const DRILL_ID: &str = "drill_id";
/// The attribute that names the scenario a drill event was injected for.
pub const DRILL_SCENARIO: &str = "drill_scenario";

/// How far ahead of the drill's start the announced maintenance window opens: near enough to
/// make the deadline real, far enough to work through the runbook before it.
pub const WINDOW_LEAD: Duration = Duration::hours(2);
/// How long the announced window lasts.
pub const WINDOW_LENGTH: Duration = Duration::hours(1);
/// In `repeat-notice`, how long ago the node's previous replacement finished: the day before
/// yesterday, old enough that its own events are history and do not page again.
pub const REPLACED_AGO: Duration = Duration::hours(50);

/// A drill scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scenario {
    /// A Redis OSS or Valkey primary is scheduled for replacement.
    PrimaryReplacement,
    /// A replica is scheduled for replacement.
    ReplicaReplacement,
    /// A primary failed without notice and a replica was promoted.
    UnplannedFailover,
    /// A Memcached node is scheduled for replacement (it comes back empty).
    MemcachedReplacement,
    /// A node replaced two days ago gets another replacement notice.
    RepeatNotice,
    /// The menu of failure tests, as a plan for a topology (injects no events).
    FailureMenu,
}

impl Scenario {
    /// Every scenario, in the order they are listed.
    pub const ALL: [Scenario; 6] = [
        Scenario::PrimaryReplacement,
        Scenario::ReplicaReplacement,
        Scenario::UnplannedFailover,
        Scenario::MemcachedReplacement,
        Scenario::RepeatNotice,
        Scenario::FailureMenu,
    ];

    /// The scenario's name, as typed on the command line and stored in [`DRILL_SCENARIO`].
    pub fn name(self) -> &'static str {
        match self {
            Scenario::PrimaryReplacement => "primary-replacement",
            Scenario::ReplicaReplacement => "replica-replacement",
            Scenario::UnplannedFailover => "unplanned-failover",
            Scenario::MemcachedReplacement => "memcached-replacement",
            Scenario::RepeatNotice => "repeat-notice",
            Scenario::FailureMenu => "failure-menu",
        }
    }

    /// What the scenario rehearses, in a sentence or two.
    pub fn description(self) -> &'static str {
        match self {
            Scenario::PrimaryReplacement => {
                "A primary is scheduled for replacement in a window two hours from now: a replica \
                 will be promoted and the endpoint will move. Rehearse deciding between waiting \
                 and failing over by hand, the backup, the key counts and the batch jobs."
            }
            Scenario::ReplicaReplacement => {
                "A replica is scheduled for replacement in a window two hours from now: reads it \
                 serves move elsewhere and the shard has one fewer failover candidate meanwhile."
            }
            Scenario::UnplannedFailover => {
                "A primary failed without notice and the given cluster was promoted in its place \
                 (the 5 a.m. alert): rehearse noticing, telling, and checking what the \
                 application lost."
            }
            Scenario::MemcachedReplacement => {
                "A Memcached node is scheduled for replacement in a window two hours from now: it \
                 comes back empty. Rehearse the dump and restore, and deciding on a site \
                 maintenance."
            }
            Scenario::RepeatNotice => {
                "A node replaced two days ago gets another replacement notice (node ids stay the \
                 same after a replacement): the alert says it is a repeat. Rehearse checking \
                 whether the work is really needed again."
            }
            Scenario::FailureMenu => {
                "The menu of failure tests to run before a release (one replica down, one \
                 primary down, all replicas of a shard, a majority of primaries, all primaries, \
                 one shard, every node), as a plan for one topology: which nodes to stop and \
                 what the application should see. Injects no events."
            }
        }
    }

    /// Reads a scenario name.
    pub fn parse(raw: &str) -> Result<Self, DrillError> {
        let raw = raw.trim();
        Scenario::ALL
            .into_iter()
            .find(|s| s.name() == raw)
            .ok_or_else(|| DrillError::UnknownScenario(raw.to_owned()))
    }

    /// Whether the scenario injects events (all but `failure-menu`).
    pub fn injects_events(self) -> bool {
        self != Scenario::FailureMenu
    }

    /// What the scenario takes for granted about the node, where nothing better is known.
    pub fn assumed_facts(self) -> ClusterFacts {
        let (engine, role) = match self {
            Scenario::PrimaryReplacement => (None, Some(NodeRole::Primary)),
            Scenario::ReplicaReplacement => (None, Some(NodeRole::Replica)),
            Scenario::MemcachedReplacement => (Some(Engine::Memcached), None),
            Scenario::UnplannedFailover | Scenario::RepeatNotice | Scenario::FailureMenu => {
                (None, None)
            }
        };
        ClusterFacts {
            engine,
            node_role: role,
            ..ClusterFacts::default()
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a drill cannot be run as asked.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DrillError {
    /// The scenario name is not one of [`Scenario::ALL`].
    #[error("{0:?} is not a drill scenario: {names}", names = scenario_names())]
    UnknownScenario(String),
    /// `failure-menu` renders a plan; it has no events to inject.
    #[error("the failure-menu scenario injects no events: it prints a plan")]
    NoEvents,
    /// A failover needs the replication group it happened in.
    #[error(
        "{scenario} needs the replication group: the name of cluster {cluster:?} does not say it, so give --replication-group"
    )]
    NeedsReplicationGroup {
        /// The scenario.
        scenario: Scenario,
        /// The cluster given.
        cluster: String,
    },
    /// A synthetic text did not read as the documented template it follows (a bug, or an
    /// identifier that breaks the template).
    #[error("the drill's {kind} text does not read back: {source}")]
    Text {
        /// The kind of the event.
        kind: String,
        /// Why.
        #[source]
        source: Problem,
    },
}

fn scenario_names() -> String {
    Scenario::ALL
        .iter()
        .map(|s| s.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a drill is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrillTarget {
    /// The cache cluster (for a replication group, a member cluster: `orders-0001-001`).
    pub cluster: ClusterId,
    /// The node; `0001` unless given (a Redis member cluster has only that one).
    pub node: Option<NodeId>,
    /// The replication group; by default the one the cluster's name points at, if any.
    pub replication_group: Option<ReplicationGroupId>,
}

impl DrillTarget {
    /// The target's node: the one given, else `0001`.
    pub fn node(&self) -> NodeId {
        self.node
            .clone()
            .unwrap_or_else(|| NodeId::parse("0001").expect("0001 is a node id"))
    }

    /// The replication group: the one given, else the one the cluster's name points at.
    pub fn replication_group(&self) -> Option<ReplicationGroupId> {
        self.replication_group.clone().or_else(|| {
            self.cluster
                .group_guess()
                .and_then(|g| ReplicationGroupId::parse(g).ok())
        })
    }
}

/// The events of one drill run, ready for the ingest.
#[derive(Debug, Clone, PartialEq)]
pub struct DrillRun {
    /// The run's id: the id of the event that opens the drill now (the one that alerts), so that
    /// every command taking an event id takes the drill id too.
    pub id: EventId,
    /// The scenario.
    pub scenario: Scenario,
    /// The events, oldest first, each marked as a drill with [`DRILL_ID`] and [`DRILL_SCENARIO`].
    pub events: Vec<MaintenanceEvent>,
}

/// A window time as ElastiCache writes it in texts: no year, minutes.
fn text_time(at: DateTime<Utc>) -> String {
    at.format("%b %d %H:%M UTC").to_string()
}

/// One synthetic event, read through the same text reading as a real one.
struct Synthetic {
    event_name: &'static str,
    source_type: &'static str,
    source: String,
    at: DateTime<Utc>,
    message: String,
}

/// The events `scenario` injects about `target`, dated from `now`.
///
/// The drill opens at `now` (to the second): its event ids derive from that time, so two runs a
/// second apart never collide, and an earlier run is never mistaken for this one. Windows are
/// whole minutes, as ElastiCache writes them, opening [`WINDOW_LEAD`] after `now`.
pub fn events_for(
    scenario: Scenario,
    target: &DrillTarget,
    now: DateTime<Utc>,
) -> Result<DrillRun, DrillError> {
    let now = now.duration_trunc(Duration::seconds(1)).unwrap_or(now);
    let synthetic = synthetic_events(scenario, target, now)?;
    let mut events = Vec::with_capacity(synthetic.len());
    for s in synthetic {
        events.extend(drill_events(s, target, now)?);
    }
    // The run is named by the event that opens it now: the last one.
    let id = events
        .iter()
        .rev()
        .find(|e| e.occurred_at == now)
        .or(events.last())
        .map(|e| e.id.clone())
        .expect("every scenario with events injects at least one");
    for e in &mut events {
        e.attributes.insert(DRILL_ID.to_owned(), id.to_string());
        e.attributes
            .insert(DRILL_SCENARIO.to_owned(), scenario.name().to_owned());
    }
    Ok(DrillRun {
        id,
        scenario,
        events,
    })
}

/// What `scenario` makes ElastiCache say about `target`, as of `now` (whole seconds).
fn synthetic_events(
    scenario: Scenario,
    target: &DrillTarget,
    now: DateTime<Utc>,
) -> Result<Vec<Synthetic>, DrillError> {
    let minute = |t: DateTime<Utc>| t.duration_trunc(Duration::minutes(1)).unwrap_or(t);
    let cluster = target.cluster.as_str();
    let node = target.node();
    let scheduled = |at: DateTime<Utc>, start: DateTime<Utc>| Synthetic {
        event_name: "NodeReplacementScheduled",
        source_type: "cache-cluster",
        source: cluster.to_owned(),
        at,
        message: format!(
            "The node with Cache Cluster ID: {cluster}, Node ID: {node} is scheduled for replacement during the maintenance window from Start Time: {}, End Time: {}",
            text_time(start),
            text_time(start + WINDOW_LENGTH)
        ),
    };
    let ahead = minute(now + WINDOW_LEAD);
    Ok(match scenario {
        Scenario::FailureMenu => return Err(DrillError::NoEvents),
        Scenario::PrimaryReplacement
        | Scenario::ReplicaReplacement
        | Scenario::MemcachedReplacement => vec![scheduled(now, ahead)],
        Scenario::UnplannedFailover => {
            let group =
                target
                    .replication_group()
                    .ok_or_else(|| DrillError::NeedsReplicationGroup {
                        scenario,
                        cluster: cluster.to_owned(),
                    })?;
            vec![Synthetic {
                event_name: "FailoverComplete",
                source_type: "replication-group",
                source: group.to_string(),
                at: now,
                message: format!("Failover to replica node {cluster} completed"),
            }]
        }
        Scenario::RepeatNotice => {
            let replaced = minute(now - REPLACED_AGO);
            let window = replaced - Duration::minutes(40);
            vec![
                scheduled(window - Duration::days(2), window),
                Synthetic {
                    event_name: "CacheNodeReplaceComplete",
                    source_type: "cache-cluster",
                    source: cluster.to_owned(),
                    at: replaced,
                    message: format!("Finished recovery for cache nodes {node}"),
                },
                scheduled(now, ahead),
            ]
        }
    })
}

/// The events one synthetic notice reads as, marked as a drill's.
fn drill_events(
    s: Synthetic,
    target: &DrillTarget,
    now: DateTime<Utc>,
) -> Result<Vec<MaintenanceEvent>, DrillError> {
    let ctx = ParseContext {
        received_at: now,
        drill: true,
    };
    let node = target.node();
    let kind = EventKind::from_event_name(s.event_name).expect("event names have letters");
    let source = SourceId::parse(&s.source).map_err(|source| DrillError::Text {
        kind: kind.to_string(),
        source: Problem::BadIdentifier {
            field: "source".into(),
            source,
        },
    })?;
    let mut draft = EventDraft::new(
        kind.clone(),
        s.source_type.to_owned(),
        source,
        Origin::Drill,
    );
    draft.event_name = Some(format!("{EVENT_NAME_PREFIX}{}", s.event_name));
    draft.cluster_id = Some(target.cluster.clone());
    draft.replication_group_id = target.replication_group();
    draft.occurred_at = Some(s.at);
    if s.source_type == "cache-cluster" {
        draft.node_id = Some(node.clone());
    }
    let drafts = draft
        .with_text(s.message, s.at)
        .map_err(|source| DrillError::Text {
            kind: kind.to_string(),
            source,
        })?;
    Ok(drafts.into_iter().map(|d| d.finish(&ctx)).collect())
}

/// The facts of a drill's alerts and runbooks: what the facts source knows, with what the
/// drill's scenario ([`DRILL_SCENARIO`]) takes for granted (a primary, a Memcached node) where
/// the source knows nothing. Other events get the source's facts unchanged.
#[derive(Debug)]
pub struct DrillFacts<'a, F> {
    /// Where facts come from otherwise.
    pub source: &'a F,
}

impl<F: FactsSource> FactsSource for DrillFacts<'_, F> {
    async fn facts_for(
        &self,
        event: &MaintenanceEvent,
        maintenance: Option<&Maintenance>,
    ) -> ClusterFacts {
        let mut facts = self.source.facts_for(event, maintenance).await;
        let scenario = event
            .attributes
            .get(DRILL_SCENARIO)
            .filter(|_| event.drill)
            .and_then(|name| Scenario::parse(name).ok());
        if let Some(scenario) = scenario {
            let assumed = scenario.assumed_facts();
            facts.engine = facts.engine.or(assumed.engine);
            facts.node_role = facts.node_role.or(assumed.node_role);
        }
        facts
    }

    async fn tags_for(
        &self,
        event: &MaintenanceEvent,
        maintenance: Option<&Maintenance>,
    ) -> Option<crate::config::tags::Tags> {
        // A scenario takes no tags for granted.
        self.source.tags_for(event, maintenance).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::source::NoFacts;
    use crate::lifecycle::{MaintenanceKind, MaintenanceState, assemble};
    use crate::model::kind::Category;
    use crate::test_support::{at, block_on};

    fn target(cluster: &str) -> DrillTarget {
        DrillTarget {
            cluster: ClusterId::parse(cluster).unwrap(),
            node: None,
            replication_group: None,
        }
    }

    fn maintenances(run: &DrillRun) -> Vec<Maintenance> {
        assemble(&run.events)
    }

    #[test]
    fn scenario_names_read_back_and_unknown_names_list_the_known_ones() {
        for s in Scenario::ALL {
            assert_eq!(Scenario::parse(s.name()), Ok(s));
            assert!(!s.description().is_empty());
        }
        let err = Scenario::parse("meteor-strike").unwrap_err();
        assert!(err.to_string().contains("primary-replacement"), "{err}");
        assert!(err.to_string().contains("failure-menu"), "{err}");
    }

    #[test]
    fn a_primary_replacement_is_a_marked_notice_with_a_window_two_hours_ahead() {
        let now = at("2026-06-25T17:03:27.400Z");
        let run = events_for(
            Scenario::PrimaryReplacement,
            &target("orders-0001-001"),
            now,
        )
        .unwrap();
        assert_eq!(run.events.len(), 1);
        let e = &run.events[0];
        assert!(e.drill);
        assert_eq!(e.origin, Origin::Drill);
        assert_eq!(e.kind.as_str(), EventKind::NODE_REPLACEMENT_SCHEDULED);
        assert_eq!(e.node_id.as_ref().unwrap().as_str(), "0001");
        assert_eq!(e.replication_group_id.as_ref().unwrap().as_str(), "orders");
        let w = e.window.unwrap();
        assert_eq!(w.start, at("2026-06-25T19:03:00Z"));
        assert_eq!(w.end, at("2026-06-25T20:03:00Z"));
        assert_eq!(e.attributes[DRILL_ID], run.id.as_str());
        assert_eq!(e.attributes[DRILL_SCENARIO], "primary-replacement");
        assert_eq!(e.id, run.id);
        assert!(e.group_key().unwrap().starts_with("drill:"));
    }

    #[test]
    fn runs_a_second_apart_have_their_own_ids_and_maintenances() {
        let now = at("2026-06-25T17:03:27Z");
        let first = events_for(
            Scenario::PrimaryReplacement,
            &target("orders-0001-001"),
            now,
        )
        .unwrap();
        let again = events_for(
            Scenario::PrimaryReplacement,
            &target("orders-0001-001"),
            now + Duration::seconds(1),
        )
        .unwrap();
        assert_ne!(first.id, again.id);
        assert_ne!(
            first.events[0].group_key(),
            again.events[0].group_key(),
            "a second run does not reschedule the first one's maintenance"
        );
    }

    #[test]
    fn an_unplanned_failover_is_a_failover_of_the_group() {
        let now = at("2026-06-25T05:00:00Z");
        let run = events_for(Scenario::UnplannedFailover, &target("orders-0001-002"), now).unwrap();
        assert_eq!(run.events.len(), 1);
        assert_eq!(run.events[0].category, Category::Failover);
        assert_eq!(run.events[0].source_id.as_str(), "orders");
        let ms = maintenances(&run);
        assert_eq!(ms.len(), 1);
        assert_eq!(ms[0].kind, MaintenanceKind::Failover);
        assert_eq!(ms[0].failovers[0].to.as_deref(), Some("orders-0001-002"));
        assert!(ms[0].drill);
    }

    #[test]
    fn an_unplanned_failover_without_a_group_asks_for_one() {
        let err = events_for(
            Scenario::UnplannedFailover,
            &target("memcache-prod"),
            at("2026-06-25T05:00:00Z"),
        )
        .unwrap_err();
        assert!(matches!(err, DrillError::NeedsReplicationGroup { .. }));
        assert!(err.to_string().contains("--replication-group"), "{err}");
    }

    #[test]
    fn a_repeat_notice_is_flagged_as_a_repeat_of_the_replacement_just_done() {
        let now = at("2026-06-25T09:15:00Z");
        let mut t = target("sessions-mc");
        t.node = Some(NodeId::parse("0002").unwrap());
        let run = events_for(Scenario::RepeatNotice, &t, now).unwrap();
        assert_eq!(run.events.len(), 3);
        assert_eq!(
            run.id, run.events[2].id,
            "the drill is named by today's notice"
        );
        let ms = maintenances(&run);
        assert_eq!(ms.len(), 2, "{ms:#?}");
        assert_eq!(ms[0].state, MaintenanceState::Completed);
        assert_eq!(ms[1].state, MaintenanceState::Scheduled);
        assert_eq!(ms[1].repeat_of.as_ref(), Some(&ms[0].id));
        assert!(ms[0].completed_at.unwrap() < now - Duration::hours(48));
    }

    #[test]
    fn the_failure_menu_injects_nothing() {
        assert_eq!(
            events_for(Scenario::FailureMenu, &target("orders"), Utc::now()),
            Err(DrillError::NoEvents)
        );
    }

    #[test]
    fn drill_facts_fill_only_what_is_not_known() {
        let now = at("2026-06-25T17:00:00Z");
        let run = events_for(Scenario::MemcachedReplacement, &target("sessions-mc"), now).unwrap();
        let facts = DrillFacts { source: &NoFacts };
        let got = block_on(facts.facts_for(&run.events[0], None));
        assert_eq!(got.engine, Some(Engine::Memcached));
        assert_eq!(got.node_role, None);
        let mut real = run.events[0].clone();
        real.drill = false;
        assert!(block_on(facts.facts_for(&real, None)).is_empty());
    }
}
