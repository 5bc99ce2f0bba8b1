//! Rehearsed failovers on ElastiCache (`TestFailover`): the guard rails that decide whether one
//! may start, and the reading of the events ElastiCache reports that says when it is over.
//!
//! A rehearsal promotes a replica of one shard (node group) of a replication group. The guard
//! rails, checked together so that a dry run names every obstacle at once ([`plan_failover`]):
//!
//! - the node group must exist, have a replica, and its group must fail over automatically;
//! - a group tagged as production (an `env`, `environment` or `stage` tag of `prod`,
//!   `production` or `prd`, any case) is refused unless production is allowed explicitly, and so
//!   is a group whose tags cannot be read: not knowing is not a yes;
//! - ElastiCache accepts TestFailover on at most [`TEST_FAILOVER_LIMIT`] node groups in any
//!   rolling 24 hours: the failovers of the last 24 hours in the history are counted
//!   ([`recent_failovers`]), from [`NEAR_LIMIT`] on a warning says how many are left, and at the
//!   limit the rehearsal is refused;
//! - nothing starts without an explicit confirmation.
//!
//! Once started, [`FailoverWatch`] reads the events of the group and of the shard's clusters as
//! they arrive: the TestFailover call, `Failover from master node P to replica node R completed`
//! (or `FailoverComplete`), then the recovery of the former primary. The failover is over when it
//! completed and every recovery that started has finished.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Duration, Utc};

use crate::cluster::facts::{Engine, NodeRole};
use crate::fleet::production_from_tags;
use crate::history::response::Outcome;
use crate::model::event::{EventId, MaintenanceEvent};
use crate::model::ids::ReplicationGroupId;
use crate::model::kind::EventKind;
use crate::operations::drill::{DRILL_ID, DRILL_SCENARIO};
use crate::operations::probe::{ProbeSummary, format_ms};

/// How many node groups ElastiCache lets TestFailover fail over in any rolling 24 hours.
pub const TEST_FAILOVER_LIMIT: usize = 15;
/// The period the limit counts over.
pub const LIMIT_PERIOD: Duration = Duration::hours(24);
/// From this many failovers in the last 24 hours on, a rehearsal warns how many are left.
pub const NEAR_LIMIT: usize = 12;
/// The drill scenario of a rehearsed failover, in [`DRILL_SCENARIO`], and how its measured
/// outcome is recorded as handled.
pub const SCENARIO: &str = "test-failover";
/// Reports of one failover (the call, the group's and the cluster's texts) fall within this of
/// each other.
const SAME_FAILOVER: Duration = Duration::minutes(15);

/// A node group (shard) of a replication group, as ElastiCache names it: `0001`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeGroupId(String);

/// A node group id that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a node group id: 1 to 4 letters or digits, like 0001")]
pub struct BadNodeGroupId(pub String);

impl NodeGroupId {
    /// Reads a node group id: 1 to 4 ASCII letters or digits.
    pub fn parse(raw: &str) -> Result<Self, BadNodeGroupId> {
        let raw = raw.trim();
        if (1..=4).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(BadNodeGroupId(raw.to_owned()))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NodeGroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A member cluster of a shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardMember {
    /// The member's cache cluster (`orders-0001-001`).
    pub cluster_id: String,
    /// Its role, when ElastiCache reports it (cluster mode disabled only).
    pub role: Option<NodeRole>,
}

/// A shard (node group) and its members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    /// The node group id (`0001`).
    pub node_group_id: String,
    /// Its member clusters.
    pub members: Vec<ShardMember>,
}

/// What the tags of the group say, if they could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupTags {
    /// The tags, as (key, value).
    Read(Vec<(String, String)>),
    /// Why they could not be read.
    Unreadable(String),
}

/// A replication group, as a rehearsal needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailoverTarget {
    /// The group.
    pub replication_group_id: ReplicationGroupId,
    /// Its engine, when reported.
    pub engine: Option<Engine>,
    /// Whether a replica is promoted automatically (`None`: changing, or not reported).
    pub automatic_failover: Option<bool>,
    /// Its shards.
    pub shards: Vec<Shard>,
    /// Every member cluster of the group.
    pub member_clusters: Vec<String>,
    /// Its tags.
    pub tags: GroupTags,
}

impl FailoverTarget {
    /// The shard named `node_group`.
    pub fn shard(&self, node_group: &NodeGroupId) -> Option<&Shard> {
        self.shards
            .iter()
            .find(|s| s.node_group_id == node_group.as_str())
    }

    /// The production tag, as `key=value`, when a tag says the group serves production.
    pub fn production_tag(&self) -> Option<String> {
        match &self.tags {
            GroupTags::Read(tags) => tags
                .iter()
                .find(|(k, v)| production_from_tags([(k.as_str(), v.as_str())]))
                .map(|(k, v)| format!("{k}={v}")),
            GroupTags::Unreadable(_) => None,
        }
    }
}

/// What was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailoverRequest {
    /// The shard to fail over.
    pub node_group: NodeGroupId,
    /// Whether the person confirmed (`--yes`).
    pub confirmed: bool,
    /// Whether a production group may be failed over (`--allow-production`).
    pub allow_production: bool,
}

/// Why a rehearsal may not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The group has no such node group.
    UnknownNodeGroup {
        /// The group.
        group: String,
        /// The node group asked for.
        node_group: String,
        /// The node groups it has.
        known: Vec<String>,
    },
    /// The group does not fail over automatically: TestFailover needs it.
    AutomaticFailoverOff {
        /// The group.
        group: String,
    },
    /// The shard has no replica to promote.
    NoReplica {
        /// The group.
        group: String,
        /// The node group.
        node_group: String,
    },
    /// The group is tagged as production and production was not allowed.
    Production {
        /// The group.
        group: String,
        /// The tag, as `key=value`.
        tag: String,
    },
    /// The group's tags could not be read, so it may be production.
    TagsUnreadable {
        /// The group.
        group: String,
        /// Why.
        problem: String,
    },
    /// The history holds as many failovers in the last 24 hours as ElastiCache allows.
    LimitReached {
        /// How many.
        recent: usize,
    },
    /// Nobody confirmed.
    NotConfirmed,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::UnknownNodeGroup {
                group,
                node_group,
                known,
            } => write!(
                f,
                "replication group {group} has no node group {node_group} (it has {})",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            ),
            Refusal::AutomaticFailoverOff { group } => write!(
                f,
                "replication group {group} does not fail over automatically, which TestFailover needs"
            ),
            Refusal::NoReplica { group, node_group } => write!(
                f,
                "node group {node_group} of {group} has no replica to promote"
            ),
            Refusal::Production { group, tag } => write!(
                f,
                "replication group {group} is tagged as production ({tag}): add --allow-production to rehearse on it"
            ),
            Refusal::TagsUnreadable { group, problem } => write!(
                f,
                "the tags of replication group {group} cannot be read, so it may serve production ({problem}): add --allow-production to go ahead"
            ),
            Refusal::LimitReached { recent } => write!(
                f,
                "{recent} failovers in the last 24 hours: ElastiCache allows TestFailover on {TEST_FAILOVER_LIMIT} node groups per rolling 24 hours"
            ),
            Refusal::NotConfirmed => f.write_str("add --yes to start it"),
        }
    }
}

/// What a rehearsal would do, and whether it may.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailoverPlan {
    /// The group.
    pub replication_group_id: ReplicationGroupId,
    /// The shard.
    pub node_group: NodeGroupId,
    /// The shard's primary, when ElastiCache reports roles.
    pub primary: Option<String>,
    /// The replicas that may be promoted (the members other than the primary).
    pub replicas: Vec<String>,
    /// The production tag, when one says so.
    pub production_tag: Option<String>,
    /// Failovers in the history in the last 24 hours.
    pub recent_failovers: usize,
    /// What the person should know before it starts.
    pub warnings: Vec<String>,
    /// Why it may not start; empty when it may.
    pub refusals: Vec<Refusal>,
}

impl FailoverPlan {
    /// Whether the rehearsal may start.
    pub fn may_start(&self) -> bool {
        self.refusals.is_empty()
    }
}

/// Whether a rehearsal of `request` on `target` may start, with `recent_failovers` in the last 24
/// hours (see [`recent_failovers`]). Every obstacle is named, not only the first.
pub fn plan_failover(
    target: &FailoverTarget,
    request: &FailoverRequest,
    recent_failovers: usize,
) -> FailoverPlan {
    let mut checks = Checks::default();
    let (primary, replicas) = checks.shard(target, request);
    if target.automatic_failover == Some(false) {
        checks.refusals.push(Refusal::AutomaticFailoverOff {
            group: target.replication_group_id.to_string(),
        });
    }
    let production_tag = target.production_tag();
    checks.production(target, production_tag.as_ref(), request.allow_production);
    checks.limit(recent_failovers);
    if !request.confirmed {
        checks.refusals.push(Refusal::NotConfirmed);
    }
    FailoverPlan {
        replication_group_id: target.replication_group_id.clone(),
        node_group: request.node_group.clone(),
        primary,
        replicas,
        production_tag,
        recent_failovers,
        warnings: checks.warnings,
        refusals: checks.refusals,
    }
}

/// What the checks of a plan found: refusals stop it, warnings are said before it goes ahead.
#[derive(Default)]
struct Checks {
    refusals: Vec<Refusal>,
    warnings: Vec<String>,
}

impl Checks {
    /// The shard's primary and replicas; refused when the shard is unknown or has no replica.
    fn shard(
        &mut self,
        target: &FailoverTarget,
        request: &FailoverRequest,
    ) -> (Option<String>, Vec<String>) {
        let group = target.replication_group_id.to_string();
        let Some(shard) = target.shard(&request.node_group) else {
            self.refusals.push(Refusal::UnknownNodeGroup {
                group,
                node_group: request.node_group.to_string(),
                known: target
                    .shards
                    .iter()
                    .map(|s| s.node_group_id.clone())
                    .collect(),
            });
            return (None, Vec::new());
        };
        let primary = shard
            .members
            .iter()
            .find(|m| m.role == Some(NodeRole::Primary))
            .map(|m| m.cluster_id.clone());
        let replicas: Vec<String> = shard
            .members
            .iter()
            .filter(|m| Some(&m.cluster_id) != primary.as_ref())
            .filter(|m| m.role != Some(NodeRole::Primary))
            .map(|m| m.cluster_id.clone())
            .collect();
        if shard.members.len() < 2 || replicas.is_empty() {
            self.refusals.push(Refusal::NoReplica {
                group,
                node_group: request.node_group.to_string(),
            });
        }
        (primary, replicas)
    }

    /// Production, or tags that cannot be read, refuse unless production is allowed.
    fn production(&mut self, target: &FailoverTarget, tag: Option<&String>, allowed: bool) {
        let group = target.replication_group_id.to_string();
        match (&target.tags, tag, allowed) {
            (_, Some(tag), false) => self.refusals.push(Refusal::Production {
                group,
                tag: tag.clone(),
            }),
            (GroupTags::Unreadable(problem), _, false) => {
                self.refusals.push(Refusal::TagsUnreadable {
                    group,
                    problem: problem.clone(),
                });
            }
            (_, Some(tag), true) => self.warnings.push(format!(
                "{group} is tagged as production ({tag}): going ahead because production is allowed"
            )),
            (GroupTags::Unreadable(problem), None, true) => self.warnings.push(format!(
                "the tags of {group} cannot be read ({problem}): going ahead because production is allowed"
            )),
            (GroupTags::Read(_), None, _) => {}
        }
    }

    /// ElastiCache's TestFailover limit: refused at it, warned near it.
    fn limit(&mut self, recent: usize) {
        if recent >= TEST_FAILOVER_LIMIT {
            self.refusals.push(Refusal::LimitReached { recent });
        } else if recent >= NEAR_LIMIT {
            let left = TEST_FAILOVER_LIMIT - recent - 1;
            self.warnings.push(format!(
                "{recent} failovers in the last 24 hours: ElastiCache allows TestFailover on {TEST_FAILOVER_LIMIT} node groups per rolling 24 hours, so after this one {}",
                match left {
                    0 => "none is left".to_owned(),
                    1 => "1 is left".to_owned(),
                    n => format!("{n} are left"),
                }
            ));
        }
    }
}

/// How many failovers the history holds in the [`LIMIT_PERIOD`] before `now`, drills included:
/// each TestFailover call, and each failover no call explains (ElastiCache reports one failover
/// for the group and for the former primary's cluster, and both count once).
///
/// A failover that was not a rehearsal counts too: from the history alone the two cannot always
/// be told apart, and counting one too many only warns earlier.
pub fn recent_failovers(events: &[MaintenanceEvent], now: DateTime<Utc>) -> usize {
    let mut recent: Vec<&MaintenanceEvent> = events
        .iter()
        .filter(|e| e.occurred_at > now - LIMIT_PERIOD && e.occurred_at <= now)
        .filter(|e| {
            e.kind.is(EventKind::TEST_FAILOVER_API_CALLED)
                || e.kind.is(EventKind::FAILOVER_COMPLETE)
        })
        .collect();
    // Calls first, so that the failovers they caused find them.
    recent.sort_by_key(|e| {
        (
            !e.kind.is(EventKind::TEST_FAILOVER_API_CALLED),
            e.occurred_at,
            e.id.clone(),
        )
    });
    let mut seen_ids: BTreeSet<&EventId> = BTreeSet::new();
    // (group, when, promoted node) of each failover counted.
    let mut counted: Vec<(&str, DateTime<Utc>, Option<&str>)> = Vec::new();
    for e in recent {
        if !seen_ids.insert(&e.id) {
            continue;
        }
        let group = e.cluster_group();
        let to = e.failover.as_ref().and_then(|f| f.to.as_deref());
        if e.kind.is(EventKind::TEST_FAILOVER_API_CALLED) {
            counted.push((group, e.occurred_at, None));
            continue;
        }
        let explained = counted.iter_mut().find(|(g, at, promoted)| {
            *g == group
                && (e.occurred_at - *at).abs() <= SAME_FAILOVER
                && (promoted.is_none() || to.is_none() || *promoted == to)
        });
        match explained {
            Some(found) => {
                // The call names no node; the first failover text of it does.
                if found.2.is_none() {
                    found.2 = to;
                }
            }
            None => counted.push((group, e.occurred_at, to)),
        }
    }
    counted.len()
}

/// Where a followed failover stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailoverStage {
    /// Nothing reported yet.
    Waiting,
    /// ElastiCache reported the TestFailover call.
    Called,
    /// A replica was promoted; recovery has not been reported finished.
    FailedOver,
    /// Promoted, and every recovery that started has finished.
    Complete,
}

impl FailoverStage {
    /// The stage in words.
    pub fn describe(self) -> &'static str {
        match self {
            FailoverStage::Waiting => "no event reported yet",
            FailoverStage::Called => "the call was reported, no failover yet",
            FailoverStage::FailedOver => "a replica was promoted, the recovery has not finished",
            FailoverStage::Complete => "complete",
        }
    }
}

/// The failover of one shard, followed through the events ElastiCache reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailoverWatch {
    group: String,
    node_group: NodeGroupId,
    clusters: BTreeSet<String>,
    since: DateTime<Utc>,
    seen: BTreeSet<EventId>,
    called: bool,
    promoted: Option<(Option<String>, Option<String>)>,
    recovering: BTreeSet<String>,
    recovered: BTreeSet<String>,
}

impl FailoverWatch {
    /// A watch of `node_group` of `target`, for events from `since` on (just before the call).
    pub fn new(target: &FailoverTarget, node_group: &NodeGroupId, since: DateTime<Utc>) -> Self {
        let clusters = match target.shard(node_group) {
            Some(shard) => shard.members.iter().map(|m| m.cluster_id.clone()).collect(),
            None => target.member_clusters.iter().cloned().collect(),
        };
        Self {
            group: target.replication_group_id.to_string(),
            node_group: node_group.clone(),
            clusters,
            since,
            seen: BTreeSet::new(),
            called: false,
            promoted: None,
            recovering: BTreeSet::new(),
            recovered: BTreeSet::new(),
        }
    }

    /// The time from which events are taken in (just before the call).
    pub fn since(&self) -> DateTime<Utc> {
        self.since
    }

    /// The clusters whose events are followed.
    pub fn clusters(&self) -> impl Iterator<Item = &str> {
        self.clusters.iter().map(String::as_str)
    }

    /// Whether `e` is about this failover: an event of the group or of one of the shard's
    /// clusters, since the call.
    pub fn concerns(&self, e: &MaintenanceEvent) -> bool {
        if e.occurred_at < self.since {
            return false;
        }
        let of_cluster = e
            .cluster_id
            .as_ref()
            .is_some_and(|c| self.clusters.contains(c.as_str()))
            || (e.source_type == "cache-cluster" && self.clusters.contains(e.source_id.as_str()));
        let of_group = e
            .replication_group_id
            .as_ref()
            .is_some_and(|g| g.as_str() == self.group)
            || (e.source_type == "replication-group" && e.source_id.as_str() == self.group);
        if of_cluster {
            return true;
        }
        if !of_group {
            return false;
        }
        if e.kind.is(EventKind::TEST_FAILOVER_API_CALLED) {
            // Another shard's rehearsal of the same group is not this one.
            return e.message.as_deref().is_none_or(|m| {
                m.split(|c: char| !c.is_ascii_alphanumeric())
                    .any(|word| word == self.node_group.as_str())
            });
        }
        match &e.failover {
            Some(nodes) => [&nodes.from, &nodes.to]
                .into_iter()
                .flatten()
                .all(|n| self.clusters.contains(n)),
            None => true,
        }
    }

    /// Takes in an event; whether it was about this failover and not seen before.
    pub fn observe(&mut self, e: &MaintenanceEvent) -> bool {
        if !self.concerns(e) || !self.seen.insert(e.id.clone()) {
            return false;
        }
        let cluster = e
            .cluster_id
            .as_ref()
            .map_or_else(|| e.source_id.to_string(), ToString::to_string);
        match e.kind.as_str() {
            EventKind::TEST_FAILOVER_API_CALLED => self.called = true,
            EventKind::FAILOVER_COMPLETE => {
                let nodes = e.failover.clone().unwrap_or_default();
                if self.promoted.as_ref().is_none_or(|(_, to)| to.is_none()) {
                    self.promoted = Some((nodes.from, nodes.to));
                }
            }
            EventKind::CACHE_NODE_REPLACE_STARTED => {
                self.recovering.insert(cluster);
            }
            EventKind::CACHE_NODE_REPLACE_COMPLETE => {
                self.recovered.insert(cluster);
            }
            _ => {}
        }
        true
    }

    /// Where it stands.
    pub fn stage(&self) -> FailoverStage {
        match &self.promoted {
            Some(_) if !self.recovered.is_empty() && self.recovering.is_subset(&self.recovered) => {
                FailoverStage::Complete
            }
            Some(_) => FailoverStage::FailedOver,
            None if self.called => FailoverStage::Called,
            None => FailoverStage::Waiting,
        }
    }

    /// Whether the failover is over.
    pub fn is_complete(&self) -> bool {
        self.stage() == FailoverStage::Complete
    }

    /// The former primary and the promoted replica, as far as the events named them.
    pub fn promoted(&self) -> Option<(Option<&str>, Option<&str>)> {
        self.promoted
            .as_ref()
            .map(|(from, to)| (from.as_deref(), to.as_deref()))
    }
}

/// Marks `events` as the drill `drill_id` of the rehearsed-failover scenario, so that they group
/// into a drill maintenance of their own and a drill report finds them.
pub fn mark_as_drill(events: &mut [MaintenanceEvent], drill_id: &EventId) {
    for e in events {
        e.drill = true;
        e.attributes
            .insert(DRILL_ID.to_owned(), drill_id.to_string());
        e.attributes
            .insert(DRILL_SCENARIO.to_owned(), SCENARIO.to_owned());
    }
}

/// The outcome a rehearsal records when the interruption was measured: handled
/// [`SCENARIO`], no site maintenance, the longest gap as the downtime, and `summary` as the note.
pub fn measured_outcome(
    event_id: EventId,
    longest_gap: Duration,
    summary: String,
    by: String,
    at: DateTime<Utc>,
) -> Outcome {
    Outcome {
        event_id,
        handled: SCENARIO.to_owned(),
        site_maintenance: false,
        downtime: Some(longest_gap),
        note: Some(summary),
        by,
        at,
    }
}

/// What a probe measured beside a rehearsal, on one line, for the drill's outcome note.
pub fn probe_note(summary: &ProbeSummary) -> String {
    let count = |n: Option<u64>| n.map_or_else(|| "unknown".to_owned(), |n| n.to_string());
    let roles = if summary.role_changes.is_empty() {
        "no role change".to_owned()
    } else {
        let changes: Vec<String> = summary
            .role_changes
            .iter()
            .map(ToString::to_string)
            .collect();
        format!("role changes {}", changes.join(", "))
    };
    format!(
        "probe of {}: longest unavailability {}, {} gap{}, {} of {} ticks failed, keys {} before and {} after, {roles}",
        summary.target,
        format_ms(summary.longest_gap_ms),
        summary.gaps.len(),
        if summary.gaps.len() == 1 { "" } else { "s" },
        summary.failed,
        summary.ticks,
        count(summary.keys_before),
        count(summary.keys_after),
    )
}

#[cfg(test)]
mod tests;
