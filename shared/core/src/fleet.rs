//! What the account runs: service updates waiting to be applied, and which clusters send their
//! events to cachewatch.
//!
//! The ElastiCache adapter reads `DescribeUpdateActions`, `DescribeCacheClusters` and
//! `DescribeReplicationGroups` into the types here; what to make of them is decided by pure
//! functions:
//!
//! - [`audit_coverage`]: which replication groups and clusters do not send their events to our
//!   topic (no topic, another topic, or ours but inactive), and the [`TopicFix`] that would set
//!   it. ElastiCache keeps one topic per cache cluster; a replication group's topic is set on all
//!   its member clusters at once (`ModifyReplicationGroup`), a cluster outside any group on its
//!   own (`ModifyCacheCluster`).
//! - [`upcoming_digest`]: the maintenance windows that open in the coming days, soonest first,
//!   and the service updates still to apply, overdue first.
//! - [`production_from_tags`]: whether a cluster's tags say it serves production.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};
use serde::{Deserialize, Serialize};

use crate::cluster::facts::Engine;
use crate::lifecycle::Maintenance;
use crate::model::ids::{ClusterId, ReplicationGroupId};
use crate::model::timefmt::Zone;

/// How far ahead the upcoming digest looks.
pub const DIGEST_HORIZON: Duration = Duration::days(7);

/// How urgent AWS rates a service update (`ServiceUpdateSeverity`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum UpdateSeverity {
    /// `critical`.
    Critical,
    /// `important`.
    Important,
    /// `medium`.
    Medium,
    /// `low`.
    Low,
    /// A severity this version does not know, kept as written.
    Other(String),
}

impl UpdateSeverity {
    /// Reads a severity as ElastiCache writes it, in any case.
    pub fn parse(raw: &str) -> Self {
        match raw.trim().to_ascii_lowercase().as_str() {
            "critical" => Self::Critical,
            "important" => Self::Important,
            "medium" => Self::Medium,
            "low" => Self::Low,
            _ => Self::Other(raw.trim().to_owned()),
        }
    }

    /// The severity as ElastiCache writes it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Critical => "critical",
            Self::Important => "important",
            Self::Medium => "medium",
            Self::Low => "low",
            Self::Other(raw) => raw,
        }
    }

    /// Higher is more urgent; an unknown severity ranks lowest.
    pub fn rank(&self) -> u8 {
        match self {
            Self::Critical => 4,
            Self::Important => 3,
            Self::Medium => 2,
            Self::Low => 1,
            Self::Other(_) => 0,
        }
    }
}

impl From<String> for UpdateSeverity {
    fn from(raw: String) -> Self {
        Self::parse(&raw)
    }
}

impl From<UpdateSeverity> for String {
    fn from(severity: UpdateSeverity) -> Self {
        severity.as_str().to_owned()
    }
}

impl fmt::Display for UpdateSeverity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a service update stands on one replication group or cluster (`UpdateActionStatus`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum UpdateStatus {
    /// `not-applied`: nobody has started it.
    NotApplied,
    /// `waiting-to-start`.
    WaitingToStart,
    /// `in-progress`.
    InProgress,
    /// `stopping`.
    Stopping,
    /// `stopped`: started, then stopped before it finished.
    Stopped,
    /// `scheduling`.
    Scheduling,
    /// `scheduled`.
    Scheduled,
    /// `complete`: applied.
    Complete,
    /// `not-applicable`: nothing to apply here.
    NotApplicable,
    /// A status this version does not know, kept as written (and taken as not applied).
    Other(String),
}

impl UpdateStatus {
    /// The statuses of updates that are not applied yet: what the digest lists, and what the
    /// adapter asks `DescribeUpdateActions` for.
    pub const PENDING: &'static [UpdateStatus] = &[
        UpdateStatus::NotApplied,
        UpdateStatus::WaitingToStart,
        UpdateStatus::InProgress,
        UpdateStatus::Stopping,
        UpdateStatus::Stopped,
        UpdateStatus::Scheduling,
        UpdateStatus::Scheduled,
    ];

    /// Reads a status as ElastiCache writes it, in any case.
    pub fn parse(raw: &str) -> Self {
        match raw.trim().to_ascii_lowercase().as_str() {
            "not-applied" => Self::NotApplied,
            "waiting-to-start" => Self::WaitingToStart,
            "in-progress" => Self::InProgress,
            "stopping" => Self::Stopping,
            "stopped" => Self::Stopped,
            "scheduling" => Self::Scheduling,
            "scheduled" => Self::Scheduled,
            "complete" => Self::Complete,
            "not-applicable" => Self::NotApplicable,
            _ => Self::Other(raw.trim().to_owned()),
        }
    }

    /// The status as ElastiCache writes it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::NotApplied => "not-applied",
            Self::WaitingToStart => "waiting-to-start",
            Self::InProgress => "in-progress",
            Self::Stopping => "stopping",
            Self::Stopped => "stopped",
            Self::Scheduling => "scheduling",
            Self::Scheduled => "scheduled",
            Self::Complete => "complete",
            Self::NotApplicable => "not-applicable",
            Self::Other(raw) => raw,
        }
    }

    /// Whether there is nothing left to apply (`complete`, `not-applicable`).
    pub fn is_applied(&self) -> bool {
        matches!(self, Self::Complete | Self::NotApplicable)
    }
}

impl From<String> for UpdateStatus {
    fn from(raw: String) -> Self {
        Self::parse(&raw)
    }
}

impl From<UpdateStatus> for String {
    fn from(status: UpdateStatus) -> Self {
        status.as_str().to_owned()
    }
}

impl fmt::Display for UpdateStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A replication group, or a cache cluster outside any: what a service update or a notification
/// topic is set on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    /// A Redis OSS or Valkey replication group (every member cluster at once).
    ReplicationGroup(ReplicationGroupId),
    /// A cache cluster: a Memcached cluster, or a Redis OSS cluster outside any group.
    Cluster(ClusterId),
}

impl Resource {
    /// The identifier, as ElastiCache writes it.
    pub fn id(&self) -> &str {
        match self {
            Resource::ReplicationGroup(id) => id.as_str(),
            Resource::Cluster(id) => id.as_str(),
        }
    }

    /// `replication group` or `cluster`, for people.
    pub fn kind_label(&self) -> &'static str {
        match self {
            Resource::ReplicationGroup(_) => "replication group",
            Resource::Cluster(_) => "cluster",
        }
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind_label(), self.id())
    }
}

/// A self-service update ElastiCache offers for one replication group or cluster (one
/// `UpdateAction` of `DescribeUpdateActions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceUpdate {
    /// The service update's name (`elasticache-20260608-002`).
    pub name: String,
    /// What it applies to.
    pub resource: Resource,
    /// How urgent AWS rates it.
    pub severity: Option<UpdateSeverity>,
    /// Where it stands on this resource.
    pub status: UpdateStatus,
    /// When AWS released it.
    pub release_date: Option<DateTime<Utc>>,
    /// The date AWS recommends applying it by.
    pub apply_by: Option<DateTime<Utc>>,
    /// Its type (`security-update`, or another type AWS adds).
    pub update_type: Option<String>,
    /// The engine it is for.
    pub engine: Option<Engine>,
}

impl ServiceUpdate {
    /// Whether it is not applied yet.
    pub fn is_pending(&self) -> bool {
        !self.status.is_applied()
    }

    /// Whether it is not applied and its recommended apply-by date has passed at `now`.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.is_pending() && self.apply_by.is_some_and(|by| by < now)
    }
}

/// A cache cluster and the notification topic ElastiCache reports for it
/// (`NotificationConfiguration`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterTopic {
    /// The cluster.
    pub cluster_id: ClusterId,
    /// The replication group it is a member of, if any.
    pub replication_group_id: Option<ReplicationGroupId>,
    /// Its engine.
    pub engine: Option<Engine>,
    /// The topic its events go to (`None`: no topic).
    pub topic_arn: Option<String>,
    /// `active` or `inactive` (ElastiCache publishes only to an active topic).
    pub topic_status: Option<String>,
}

/// A replication group and its member clusters (`DescribeReplicationGroups`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMembers {
    /// The group.
    pub replication_group_id: ReplicationGroupId,
    /// Its engine.
    pub engine: Option<Engine>,
    /// Its member clusters.
    pub member_clusters: Vec<ClusterId>,
}

/// Every cache cluster and replication group of an account and Region, with their topics: what
/// the coverage audit reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fleet {
    /// Every cache cluster.
    pub clusters: Vec<ClusterTopic>,
    /// Every replication group.
    pub replication_groups: Vec<GroupMembers>,
}

/// Where a cluster's (or a group's) events go, compared with our topic.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum TopicState {
    /// Our topic, active: its events reach cachewatch.
    Ours,
    /// No topic: its events are only in DescribeEvents, for 14 days.
    Missing,
    /// Another topic: its events go elsewhere (a cluster has one topic only).
    Other {
        /// The topic it has.
        topic_arn: String,
    },
    /// Our topic, but inactive: ElastiCache publishes nothing to it.
    Inactive,
}

impl TopicState {
    /// The state of a cluster whose topic is `topic_arn` with `status`, given `ours`.
    pub fn of(topic_arn: Option<&str>, status: Option<&str>, ours: &str) -> Self {
        match topic_arn.map(str::trim).filter(|arn| !arn.is_empty()) {
            None => TopicState::Missing,
            Some(arn) if arn != ours.trim() => TopicState::Other {
                topic_arn: arn.to_owned(),
            },
            Some(_) if status.is_some_and(|s| s.trim().eq_ignore_ascii_case("inactive")) => {
                TopicState::Inactive
            }
            Some(_) => TopicState::Ours,
        }
    }

    /// How much it needs attention: a group shows its most pressing member's state. Another
    /// topic comes first, because fixing it replaces someone else's topic.
    fn weight(&self) -> u8 {
        match self {
            TopicState::Ours => 0,
            TopicState::Inactive => 1,
            TopicState::Missing => 2,
            TopicState::Other { .. } => 3,
        }
    }
}

/// One member cluster's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterState {
    /// The cluster.
    pub cluster_id: ClusterId,
    /// Where its events go.
    pub state: TopicState,
}

/// Where the events of one replication group or standalone cluster go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// The group or cluster.
    pub resource: Resource,
    /// Its engine.
    pub engine: Option<Engine>,
    /// The most pressing state among its clusters.
    pub state: TopicState,
    /// Each of its clusters (a group whose members were not described has none: it counts as
    /// missing, and the fix sets the topic on every member).
    pub clusters: Vec<ClusterState>,
}

impl Coverage {
    /// Whether its events reach cachewatch.
    pub fn is_covered(&self) -> bool {
        self.state == TopicState::Ours
    }
}

/// The coverage audit: every replication group and standalone cluster, and whether its events
/// reach our topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageAudit {
    /// Our topic.
    pub topic_arn: String,
    /// Every group and standalone cluster, by identifier.
    pub resources: Vec<Coverage>,
}

impl CoverageAudit {
    /// Those whose events do not reach cachewatch.
    pub fn gaps(&self) -> Vec<&Coverage> {
        self.resources.iter().filter(|c| !c.is_covered()).collect()
    }

    /// How many send their events to cachewatch.
    pub fn covered(&self) -> usize {
        self.resources.iter().filter(|c| c.is_covered()).count()
    }

    /// The changes that would set our topic, active, on every gap: one per group or cluster.
    pub fn fix_plan(&self) -> Vec<TopicFix> {
        self.gaps()
            .into_iter()
            .map(|c| {
                let replaces: BTreeSet<String> = c
                    .clusters
                    .iter()
                    .filter_map(|m| match &m.state {
                        TopicState::Other { topic_arn } => Some(topic_arn.clone()),
                        _ => None,
                    })
                    .chain(match &c.state {
                        TopicState::Other { topic_arn } => Some(topic_arn.clone()),
                        _ => None,
                    })
                    .collect();
                TopicFix {
                    resource: c.resource.clone(),
                    topic_arn: self.topic_arn.clone(),
                    replaces: replaces.into_iter().collect(),
                }
            })
            .collect()
    }
}

/// A change that sets our topic, active, on one replication group or cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicFix {
    /// What it changes.
    pub resource: Resource,
    /// The topic it sets.
    pub topic_arn: String,
    /// The other topics it replaces: their owners stop receiving these events.
    pub replaces: Vec<String>,
}

impl TopicFix {
    /// The ElastiCache operation that makes it: `ModifyReplicationGroup` for a group,
    /// `ModifyCacheCluster` for a cluster outside any.
    pub fn operation(&self) -> &'static str {
        match self.resource {
            Resource::ReplicationGroup(_) => "ModifyReplicationGroup",
            Resource::Cluster(_) => "ModifyCacheCluster",
        }
    }
}

/// Where the events of every replication group and standalone cluster of `fleet` go, compared
/// with `topic_arn`; gaps first, then by identifier.
pub fn audit_coverage(fleet: &Fleet, topic_arn: &str) -> CoverageAudit {
    let mut groups: BTreeMap<ReplicationGroupId, (Option<Engine>, Vec<ClusterState>)> =
        BTreeMap::new();
    for g in &fleet.replication_groups {
        groups.entry(g.replication_group_id.clone()).or_default().0 = g.engine;
    }
    let mut resources = Vec::new();
    for c in &fleet.clusters {
        let state = TopicState::of(c.topic_arn.as_deref(), c.topic_status.as_deref(), topic_arn);
        match &c.replication_group_id {
            Some(group) => {
                let entry = groups.entry(group.clone()).or_default();
                entry.0 = entry.0.or(c.engine);
                entry.1.push(ClusterState {
                    cluster_id: c.cluster_id.clone(),
                    state,
                });
            }
            None => resources.push(Coverage {
                resource: Resource::Cluster(c.cluster_id.clone()),
                engine: c.engine,
                state: state.clone(),
                clusters: vec![ClusterState {
                    cluster_id: c.cluster_id.clone(),
                    state,
                }],
            }),
        }
    }
    for (group, (engine, mut clusters)) in groups {
        clusters.sort_by(|a, b| a.cluster_id.cmp(&b.cluster_id));
        let state = clusters
            .iter()
            .map(|m| &m.state)
            .max_by_key(|s| s.weight())
            .cloned()
            .unwrap_or(TopicState::Missing);
        resources.push(Coverage {
            resource: Resource::ReplicationGroup(group),
            engine,
            state,
            clusters,
        });
    }
    resources.sort_by(|a, b| {
        (a.is_covered(), &a.resource.id(), &a.resource).cmp(&(
            b.is_covered(),
            &b.resource.id(),
            &b.resource,
        ))
    });
    CoverageAudit {
        topic_arn: topic_arn.trim().to_owned(),
        resources,
    }
}

/// What the daily digest says is coming.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpcomingDigest {
    /// When it was made.
    pub now: DateTime<Utc>,
    /// How far it looks: windows opening before this are listed.
    pub until: DateTime<Utc>,
    /// Maintenances whose window opens before `until` and has not closed, soonest first.
    pub maintenances: Vec<Maintenance>,
    /// Service updates not applied yet: overdue first (longest overdue first), then by
    /// apply-by date, those without one last.
    pub updates: Vec<ServiceUpdate>,
    /// Why service updates could not be read, when they could not: the digest then says so
    /// rather than claim there is nothing to apply.
    #[serde(default)]
    pub updates_unavailable: Option<String>,
    /// The spokes (account and Region) the poller could not read in the run that made it, each
    /// with why: their maintenances may be missing.
    #[serde(default)]
    pub unread_spokes: Vec<String>,
    /// The maintenances someone has acknowledged, when known ([`UpcomingDigest::with_acknowledged`]):
    /// the others are listed first and marked.
    #[serde(default)]
    pub acknowledged: Option<std::collections::BTreeSet<crate::model::event::EventId>>,
    /// The last canary that went through the alert path, when the history has one.
    #[serde(default)]
    pub alert_path_checked: Option<crate::alerting::canary::LastCheck>,
}

impl UpcomingDigest {
    /// This digest knowing which of its maintenances someone has acknowledged: those nobody has
    /// come first, each part soonest first.
    pub fn with_acknowledged(
        mut self,
        acknowledged: std::collections::BTreeSet<crate::model::event::EventId>,
    ) -> Self {
        self.maintenances.sort_by(|a, b| {
            let key = |m: &Maintenance| (acknowledged.contains(&m.id), m.deadline());
            key(a).cmp(&key(b)).then_with(|| a.id.cmp(&b.id))
        });
        self.acknowledged = Some(acknowledged);
        self
    }

    /// Whether someone acknowledged `m`: `None` when the digest does not know.
    pub fn is_acknowledged(&self, m: &Maintenance) -> Option<bool> {
        self.acknowledged.as_ref().map(|a| a.contains(&m.id))
    }

    /// How many of its updates are overdue.
    pub fn overdue(&self) -> usize {
        self.updates
            .iter()
            .filter(|u| u.is_overdue(self.now))
            .count()
    }

    /// Whether there is nothing to say.
    pub fn is_empty(&self) -> bool {
        self.maintenances.is_empty()
            && self.updates.is_empty()
            && self.updates_unavailable.is_none()
            && self.unread_spokes.is_empty()
    }
}

/// The digest at `now` of `maintenances` (as the store lists the open ones) and `updates`:
/// windows that open within `horizon` (or are open now) of maintenances still ahead, drills left
/// out; updates not applied yet.
pub fn upcoming_digest(
    maintenances: &[Maintenance],
    updates: &[ServiceUpdate],
    now: DateTime<Utc>,
    horizon: Duration,
) -> UpcomingDigest {
    let until = now + horizon;
    let mut ahead: Vec<Maintenance> = maintenances
        .iter()
        .filter(|m| !m.drill && m.is_upcoming(now))
        .filter(|m| m.window.is_some_and(|w| w.start <= until && w.end >= now))
        .cloned()
        .collect();
    ahead.sort_by(|a, b| (a.deadline(), &a.id).cmp(&(b.deadline(), &b.id)));

    let mut pending: Vec<ServiceUpdate> =
        updates.iter().filter(|u| u.is_pending()).cloned().collect();
    pending.sort_by(|a, b| {
        let key = |u: &ServiceUpdate| {
            (
                !u.is_overdue(now),
                u.apply_by.is_none(),
                u.apply_by,
                std::cmp::Reverse(u.severity.as_ref().map_or(0, UpdateSeverity::rank)),
            )
        };
        key(a)
            .cmp(&key(b))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.resource.cmp(&b.resource))
    });
    UpcomingDigest {
        now,
        until,
        maintenances: ahead,
        updates: pending,
        updates_unavailable: None,
        unread_spokes: Vec::new(),
        acknowledged: None,
        alert_path_checked: None,
    }
}

/// The team's date whose daily report (the digest, the coverage audit) is due at `now`: today in
/// `zone`, once its clock has reached `hour` (0–23); before that, none (yesterday's was due
/// yesterday).
pub fn daily_report_day(now: DateTime<Utc>, zone: Zone, hour: u32) -> Option<NaiveDate> {
    let local = zone.local(now);
    (local.hour() >= hour).then(|| local.date())
}

/// Tag keys that name an environment, compared without case.
const ENVIRONMENT_KEYS: [&str; 3] = ["env", "environment", "stage"];
/// Environment names that mean production, compared without case.
const PRODUCTION_VALUES: [&str; 3] = ["prod", "production", "prd"];

/// Whether `tags` (key, value) say the resource serves production: an `env`, `environment` or
/// `stage` tag (any case) whose value is `prod`, `production` or `prd` (any case).
pub fn production_from_tags<'a>(tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> bool {
    tags.into_iter().any(|(key, value)| {
        let key = key.trim();
        let value = value.trim();
        ENVIRONMENT_KEYS.iter().any(|k| key.eq_ignore_ascii_case(k))
            && PRODUCTION_VALUES
                .iter()
                .any(|v| value.eq_ignore_ascii_case(v))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::{MaintenanceKind, MaintenanceState};
    use crate::model::event::{EventId, Window};
    use crate::model::ids::{NodeId, SourceId};
    use crate::model::kind::EventKind;
    use crate::test_support::at;

    const OURS: &str = "arn:aws:sns:eu-west-1:123456789012:cachewatch";

    #[test]
    fn the_daily_report_is_due_from_the_teams_morning_on() {
        let zone: Zone = "Asia/Tokyo".parse().unwrap();
        let date = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
        // 23:59 UTC on the 21st is 08:59 on the 22nd in Tokyo: not yet.
        assert_eq!(daily_report_day(at("2026-11-21T23:59:00Z"), zone, 9), None);
        assert_eq!(
            daily_report_day(at("2026-11-22T00:00:00Z"), zone, 9),
            Some(date("2026-11-22"))
        );
        assert_eq!(
            daily_report_day(at("2026-11-22T14:59:00Z"), zone, 9),
            Some(date("2026-11-22")),
            "23:59 in Tokyo: still the 22nd's"
        );
        assert_eq!(
            daily_report_day(at("2026-11-22T15:00:00Z"), zone, 9),
            None,
            "midnight in Tokyo: the 23rd's is not due yet"
        );
        assert_eq!(
            daily_report_day(at("2026-11-22T00:00:00Z"), Zone::Utc, 0),
            Some(date("2026-11-22"))
        );
    }
    const THEIRS: &str = "arn:aws:sns:eu-west-1:123456789012:platform-alerts";

    fn cluster(id: &str, group: Option<&str>, topic: Option<&str>, status: &str) -> ClusterTopic {
        ClusterTopic {
            cluster_id: ClusterId::parse(id).unwrap(),
            replication_group_id: group.map(|g| ReplicationGroupId::parse(g).unwrap()),
            engine: Some(if group.is_some() {
                Engine::Redis
            } else {
                Engine::Memcached
            }),
            topic_arn: topic.map(str::to_owned),
            topic_status: topic.map(|_| status.to_owned()),
        }
    }

    fn group(id: &str, members: &[&str]) -> GroupMembers {
        GroupMembers {
            replication_group_id: ReplicationGroupId::parse(id).unwrap(),
            engine: Some(Engine::Redis),
            member_clusters: members
                .iter()
                .map(|m| ClusterId::parse(m).unwrap())
                .collect(),
        }
    }

    #[test]
    fn a_topic_reads_as_ours_missing_another_or_inactive() {
        let cases = [
            (Some(OURS), Some("active"), TopicState::Ours),
            (Some(OURS), None, TopicState::Ours),
            (Some(OURS), Some("Inactive"), TopicState::Inactive),
            (None, None, TopicState::Missing),
            (Some("  "), Some("active"), TopicState::Missing),
            (
                Some(THEIRS),
                Some("inactive"),
                TopicState::Other {
                    topic_arn: THEIRS.to_owned(),
                },
            ),
        ];
        for (arn, status, expected) in cases {
            assert_eq!(
                TopicState::of(arn, status, OURS),
                expected,
                "{arn:?} {status:?}"
            );
        }
    }

    #[test]
    fn the_audit_finds_every_group_and_cluster_whose_events_do_not_reach_us() {
        // Arrange
        let fleet = Fleet {
            clusters: vec![
                cluster("orders-001", Some("orders"), Some(OURS), "active"),
                cluster("orders-002", Some("orders"), Some(OURS), "active"),
                cluster("ledger-001", Some("ledger"), Some(OURS), "active"),
                cluster("ledger-002", Some("ledger"), None, ""),
                cluster("carts-001", Some("carts"), Some(OURS), "inactive"),
                cluster("sessions", None, Some(THEIRS), "active"),
                cluster("fragments", None, None, ""),
            ],
            replication_groups: vec![
                group("orders", &["orders-001", "orders-002"]),
                group("ledger", &["ledger-001", "ledger-002"]),
                group("carts", &["carts-001"]),
                group("ghost", &["ghost-001"]),
            ],
        };

        // Act
        let audit = audit_coverage(&fleet, OURS);

        // Assert
        let found: Vec<(String, TopicState)> = audit
            .resources
            .iter()
            .map(|c| (c.resource.to_string(), c.state.clone()))
            .collect();
        assert_eq!(
            found,
            vec![
                ("replication group carts".to_owned(), TopicState::Inactive),
                ("cluster fragments".to_owned(), TopicState::Missing),
                ("replication group ghost".to_owned(), TopicState::Missing),
                ("replication group ledger".to_owned(), TopicState::Missing),
                (
                    "cluster sessions".to_owned(),
                    TopicState::Other {
                        topic_arn: THEIRS.to_owned()
                    }
                ),
                ("replication group orders".to_owned(), TopicState::Ours),
            ]
        );
        assert_eq!(audit.covered(), 1);
        assert_eq!(audit.gaps().len(), 5);
        let ledger = &audit.resources[3];
        assert_eq!(
            ledger
                .clusters
                .iter()
                .map(|m| (m.cluster_id.as_str(), m.state.clone()))
                .collect::<Vec<_>>(),
            vec![
                ("ledger-001", TopicState::Ours),
                ("ledger-002", TopicState::Missing)
            ]
        );
    }

    #[test]
    fn a_group_shows_its_most_pressing_member() {
        // Each member's topic and status, and the state the group shows.
        type Members<'a> = Vec<(Option<&'a str>, &'a str)>;
        let cases: Vec<(Members<'_>, TopicState)> = vec![
            (vec![(Some(OURS), "active")], TopicState::Ours),
            (
                vec![(Some(OURS), "active"), (Some(OURS), "inactive")],
                TopicState::Inactive,
            ),
            (
                vec![(Some(OURS), "inactive"), (None, "")],
                TopicState::Missing,
            ),
            (
                vec![(None, ""), (Some(THEIRS), "active")],
                TopicState::Other {
                    topic_arn: THEIRS.to_owned(),
                },
            ),
        ];
        for (members, expected) in cases {
            let clusters = members
                .iter()
                .enumerate()
                .map(|(i, (arn, status))| {
                    cluster(&format!("g-00{}", i + 1), Some("g"), *arn, status)
                })
                .collect();
            let audit = audit_coverage(
                &Fleet {
                    clusters,
                    replication_groups: vec![],
                },
                OURS,
            );
            assert_eq!(audit.resources[0].state, expected, "{members:?}");
        }
    }

    #[test]
    fn the_fix_plan_sets_our_topic_per_group_or_cluster_and_names_what_it_replaces() {
        // Arrange
        let fleet = Fleet {
            clusters: vec![
                cluster("orders-001", Some("orders"), Some(THEIRS), "active"),
                cluster("orders-002", Some("orders"), None, ""),
                cluster("sessions", None, None, ""),
                cluster("fine", None, Some(OURS), "active"),
            ],
            replication_groups: vec![],
        };

        // Act
        let plan = audit_coverage(&fleet, OURS).fix_plan();

        // Assert
        assert_eq!(
            plan,
            vec![
                TopicFix {
                    resource: Resource::ReplicationGroup(
                        ReplicationGroupId::parse("orders").unwrap()
                    ),
                    topic_arn: OURS.to_owned(),
                    replaces: vec![THEIRS.to_owned()],
                },
                TopicFix {
                    resource: Resource::Cluster(ClusterId::parse("sessions").unwrap()),
                    topic_arn: OURS.to_owned(),
                    replaces: vec![],
                },
            ]
        );
        assert_eq!(plan[0].operation(), "ModifyReplicationGroup");
        assert_eq!(plan[1].operation(), "ModifyCacheCluster");
    }

    #[test]
    fn an_empty_fleet_is_fully_covered() {
        let audit = audit_coverage(&Fleet::default(), OURS);
        assert!(audit.gaps().is_empty());
        assert!(audit.fix_plan().is_empty());
    }

    fn update(name: &str, status: &str, apply_by: Option<&str>, severity: &str) -> ServiceUpdate {
        ServiceUpdate {
            name: name.to_owned(),
            resource: Resource::ReplicationGroup(ReplicationGroupId::parse("orders").unwrap()),
            severity: Some(UpdateSeverity::parse(severity)),
            status: UpdateStatus::parse(status),
            release_date: Some(at("2026-05-01T00:00:00Z")),
            apply_by: apply_by.map(at),
            update_type: Some("security-update".to_owned()),
            engine: Some(Engine::Redis),
        }
    }

    const NOW: &str = "2026-06-22T09:00:00Z";

    #[test]
    fn updates_not_applied_come_overdue_first_then_by_apply_by_date() {
        // Arrange
        let updates = vec![
            update("later", "not-applied", Some("2026-08-01T00:00:00Z"), "low"),
            update("done", "complete", Some("2026-06-01T00:00:00Z"), "critical"),
            update("moot", "not-applicable", None, "critical"),
            update("no-date", "stopped", None, "critical"),
            update("soon-low", "scheduled", Some("2026-07-01T00:00:00Z"), "low"),
            update(
                "soon-critical",
                "waiting-to-start",
                Some("2026-07-01T00:00:00Z"),
                "critical",
            ),
            update(
                "overdue-a-day",
                "in-progress",
                Some("2026-06-21T09:00:00Z"),
                "low",
            ),
            update(
                "overdue-a-month",
                "not-applied",
                Some("2026-05-22T09:00:00Z"),
                "medium",
            ),
            update(
                "odd-status",
                "paused-by-aws",
                Some("2026-09-01T00:00:00Z"),
                "low",
            ),
        ];

        // Act
        let digest = upcoming_digest(&[], &updates, at(NOW), DIGEST_HORIZON);

        // Assert
        let names: Vec<&str> = digest.updates.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "overdue-a-month",
                "overdue-a-day",
                "soon-critical",
                "soon-low",
                "later",
                "odd-status",
                "no-date",
            ]
        );
        assert_eq!(digest.overdue(), 2);
    }

    fn maintenance(
        cluster: &str,
        state: MaintenanceState,
        window: Option<(&str, &str)>,
    ) -> Maintenance {
        let first = at("2026-06-15T10:00:00Z");
        let id = EventId::derive(
            &SourceId::parse(cluster).unwrap(),
            &EventKind::new(EventKind::NODE_REPLACEMENT_SCHEDULED),
            None,
            first,
        );
        Maintenance {
            id: id.clone(),
            group_key: cluster.to_owned(),
            kind: MaintenanceKind::Planned,
            state,
            cluster_id: Some(ClusterId::parse(cluster).unwrap()),
            node_id: Some(NodeId::parse("0001").unwrap()),
            replication_group_id: None,
            window: window.map(|(s, e)| Window {
                start: at(s),
                end: at(e),
            }),
            previous_windows: vec![],
            first_event_at: first,
            last_event_at: first,
            started_at: None,
            completed_at: None,
            canceled_at: None,
            failovers: vec![],
            notices: 1,
            repeat_of: None,
            event_ids: vec![id],
            region: None,
            account_id: None,
            drill: false,
        }
    }

    #[test]
    fn the_digest_lists_windows_opening_within_the_horizon_soonest_first() {
        use MaintenanceState::*;
        // Arrange
        let mut drill = maintenance(
            "drill-001",
            Scheduled,
            Some(("2026-06-23T01:00:00Z", "2026-06-23T02:00:00Z")),
        );
        drill.drill = true;
        let maintenances = vec![
            maintenance(
                "in-six-days",
                Scheduled,
                Some(("2026-06-28T09:00:00Z", "2026-06-28T10:00:00Z")),
            ),
            maintenance(
                "tomorrow",
                Rescheduled,
                Some(("2026-06-23T09:00:00Z", "2026-06-23T10:00:00Z")),
            ),
            maintenance(
                "open-now",
                InProgress,
                Some(("2026-06-22T08:30:00Z", "2026-06-22T09:30:00Z")),
            ),
            maintenance(
                "in-eight-days",
                Scheduled,
                Some(("2026-06-30T09:00:00Z", "2026-06-30T10:00:00Z")),
            ),
            maintenance(
                "passed",
                Scheduled,
                Some(("2026-06-21T09:00:00Z", "2026-06-21T10:00:00Z")),
            ),
            maintenance(
                "canceled",
                Canceled,
                Some(("2026-06-24T09:00:00Z", "2026-06-24T10:00:00Z")),
            ),
            maintenance("no-window", InProgress, None),
            maintenance(
                "edge",
                Scheduled,
                Some(("2026-06-29T09:00:00Z", "2026-06-29T10:00:00Z")),
            ),
            drill,
        ];

        // Act
        let digest = upcoming_digest(&maintenances, &[], at(NOW), DIGEST_HORIZON);

        // Assert
        let clusters: Vec<&str> = digest
            .maintenances
            .iter()
            .map(|m| m.cluster_id.as_ref().unwrap().as_str())
            .collect();
        assert_eq!(
            clusters,
            vec!["open-now", "tomorrow", "in-six-days", "edge"]
        );
        assert_eq!(digest.until, at("2026-06-29T09:00:00Z"));
        assert!(!digest.is_empty());
    }

    #[test]
    fn an_empty_digest_says_so() {
        let digest = upcoming_digest(
            &[],
            &[update("done", "complete", None, "low")],
            at(NOW),
            DIGEST_HORIZON,
        );
        assert!(digest.is_empty());
        assert_eq!(digest.overdue(), 0);
    }

    #[test]
    fn severities_and_statuses_read_in_any_case_and_keep_unknown_values() {
        assert_eq!(UpdateSeverity::parse("Critical"), UpdateSeverity::Critical);
        assert_eq!(
            UpdateSeverity::parse("urgent"),
            UpdateSeverity::Other("urgent".to_owned())
        );
        assert_eq!(UpdateStatus::parse("NOT-APPLIED"), UpdateStatus::NotApplied);
        assert!(UpdateStatus::parse("complete").is_applied());
        assert!(!UpdateStatus::parse("stopped").is_applied());
        assert!(!UpdateStatus::parse("paused").is_applied());
        for status in UpdateStatus::PENDING {
            assert_eq!(&UpdateStatus::parse(status.as_str()), status);
            assert!(!status.is_applied(), "{status}");
        }
        let json = serde_json::to_string(&update("x", "scheduled", None, "important")).unwrap();
        assert!(json.contains(r#""status":"scheduled""#), "{json}");
        assert!(json.contains(r#""severity":"important""#), "{json}");
        let back: ServiceUpdate = serde_json::from_str(&json).unwrap();
        assert_eq!(back, update("x", "scheduled", None, "important"));
    }

    #[test]
    fn production_is_read_from_common_environment_tags() {
        let cases: Vec<(Vec<(&str, &str)>, bool)> = vec![
            (vec![("env", "prod")], true),
            (vec![("Environment", "Production")], true),
            (vec![("STAGE", " prd ")], true),
            (vec![("team", "payments"), ("env", "production")], true),
            (vec![("env", "staging")], false),
            (vec![("environment", "preprod")], false),
            (vec![("Name", "prod")], false),
            (vec![], false),
        ];
        for (tags, expected) in cases {
            assert_eq!(
                production_from_tags(tags.iter().copied()),
                expected,
                "{tags:?}"
            );
        }
    }
}
