//! The maintenance lifecycle: which events belong together, and what state that leaves each
//! maintenance in.
//!
//! A *maintenance* is one episode in the life of one node: scheduled -> rescheduled -> canceled,
//! or started -> complete, with the failovers that happened during it. [`assemble`] works it out
//! from all the events of a group (a replication group, or a cluster outside any), **in any
//! order**: events are sorted by the time they happened, so a notice delivered late by the poller
//! lands where it belongs, and delivering the same events in another order gives the same
//! maintenances. A maintenance is named by the id of its first event, so every id a person has seen
//! keeps resolving to it.
//!
//! Episodes end at a completion or cancellation, or when their window has passed; a replacement
//! notice after that opens a new maintenance, flagged as a *repeat* when the node's previous
//! maintenance ended within [`REPEAT_WITHIN`] (the Memcached node replaced two days running).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::model::event::{EventId, MaintenanceEvent, Window, rfc3339};
use crate::model::ids::{ClusterId, NodeId, ReplicationGroupId};
use crate::model::kind::{Category, EventKind};

/// A replacement notice this soon after the node's previous maintenance ended is a repeat.
pub const REPEAT_WITHIN: Duration = Duration::days(30);
/// Work reported this long after its window ended still belongs to it.
const LATE_WORK: Duration = Duration::hours(12);
/// A second completion this soon after the first is the same completion seen twice.
const DUPLICATE_COMPLETION: Duration = Duration::hours(1);
/// How far before a recovery starts its failover may be reported.
const FAILOVER_LEAD: Duration = Duration::minutes(15);
/// How long a recovery with no completion is taken to last, for placing failovers.
const OPEN_RECOVERY: Duration = Duration::hours(6);
/// Failovers this close together in one group with no maintenance are one unplanned failover.
const FAILOVER_BURST: Duration = Duration::minutes(15);

/// Where a maintenance stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaintenanceState {
    /// Announced for a window.
    Scheduled,
    /// Moved to another window.
    Rescheduled,
    /// No longer scheduled.
    Canceled,
    /// Under way.
    InProgress,
    /// Done (for a failover: it happened).
    Completed,
    /// Announced, the window is over, and no completion was reported: presumably done.
    WindowPassed,
}

impl MaintenanceState {
    /// The state's name.
    pub fn as_str(self) -> &'static str {
        match self {
            MaintenanceState::Scheduled => "scheduled",
            MaintenanceState::Rescheduled => "rescheduled",
            MaintenanceState::Canceled => "canceled",
            MaintenanceState::InProgress => "in_progress",
            MaintenanceState::Completed => "completed",
            MaintenanceState::WindowPassed => "window_passed",
        }
    }

    /// Reads a state name.
    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::Scheduled,
            Self::Rescheduled,
            Self::Canceled,
            Self::InProgress,
            Self::Completed,
            Self::WindowPassed,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }
}

/// What kind of episode a maintenance is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaintenanceKind {
    /// A replacement announced for a window.
    Planned,
    /// A replacement that started without notice (a degraded host).
    Unplanned,
    /// A failover outside any known replacement.
    Failover,
    /// An AWS Health event about ElastiCache (a service update due, an engine's end of
    /// support), followed through its communications.
    #[serde(rename = "aws_health")]
    Health,
}

impl MaintenanceKind {
    /// The kind's name.
    pub fn as_str(self) -> &'static str {
        match self {
            MaintenanceKind::Planned => "planned",
            MaintenanceKind::Unplanned => "unplanned",
            MaintenanceKind::Failover => "failover",
            MaintenanceKind::Health => "aws_health",
        }
    }
}

/// A failover seen during a maintenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailoverRecord {
    /// The event that reported it.
    pub event_id: EventId,
    /// When.
    #[serde(with = "rfc3339")]
    pub at: DateTime<Utc>,
    /// The former primary, when the text names it.
    pub from: Option<String>,
    /// The new primary, when the text names it.
    pub to: Option<String>,
}

/// One maintenance episode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Maintenance {
    /// The id of its first event.
    pub id: EventId,
    /// The group whose events were assembled together.
    pub group_key: String,
    /// Planned, unplanned or failover.
    pub kind: MaintenanceKind,
    /// Where it stands as of its last event (see [`Maintenance::status`] for "as of now").
    pub state: MaintenanceState,
    /// The cluster (for a node) or `None` for a group-wide failover.
    pub cluster_id: Option<ClusterId>,
    /// The node, when known.
    pub node_id: Option<NodeId>,
    /// The replication group, when an event named it.
    pub replication_group_id: Option<ReplicationGroupId>,
    /// The current window.
    pub window: Option<Window>,
    /// Windows it was moved from, oldest first.
    pub previous_windows: Vec<Window>,
    /// Its first event.
    #[serde(with = "rfc3339")]
    pub first_event_at: DateTime<Utc>,
    /// Its latest event.
    #[serde(with = "rfc3339")]
    pub last_event_at: DateTime<Utc>,
    /// When the work was reported started.
    #[serde(default, with = "optional_time")]
    pub started_at: Option<DateTime<Utc>>,
    /// When the work was reported complete.
    #[serde(default, with = "optional_time")]
    pub completed_at: Option<DateTime<Utc>>,
    /// When it was canceled.
    #[serde(default, with = "optional_time")]
    pub canceled_at: Option<DateTime<Utc>>,
    /// Failovers during it.
    pub failovers: Vec<FailoverRecord>,
    /// How many replacement notices announced it (repeats of the same notice included).
    pub notices: u32,
    /// The node's previous maintenance, when this one is a repeat of it.
    pub repeat_of: Option<EventId>,
    /// Its events, in the order they happened.
    pub event_ids: Vec<EventId>,
    /// From the events' topic ARN.
    pub region: Option<String>,
    /// From the events' topic ARN.
    pub account_id: Option<String>,
    /// A drill's maintenance.
    pub drill: bool,
}

impl Maintenance {
    /// Where it stands at `now`: a scheduled maintenance whose window is over has presumably
    /// happened.
    pub fn status(&self, now: DateTime<Utc>) -> MaintenanceState {
        match (self.state, self.window) {
            (MaintenanceState::Scheduled | MaintenanceState::Rescheduled, Some(w))
                if w.end < now =>
            {
                MaintenanceState::WindowPassed
            }
            (state, _) => state,
        }
    }

    /// Whether people may still have something to do before or during it.
    pub fn is_upcoming(&self, now: DateTime<Utc>) -> bool {
        match self.status(now) {
            MaintenanceState::Scheduled | MaintenanceState::Rescheduled => true,
            MaintenanceState::InProgress => self.window.is_none_or(|w| w.end + LATE_WORK >= now),
            _ => false,
        }
    }

    /// The deadline: the start of the current window.
    pub fn deadline(&self) -> Option<DateTime<Utc>> {
        self.window.map(|w| w.start)
    }

    /// When it ended, if it has: completion, cancellation, or the end of a passed window.
    pub fn ended_at(&self) -> Option<DateTime<Utc>> {
        match self.state {
            MaintenanceState::Completed => self.completed_at.or(Some(self.last_event_at)),
            MaintenanceState::Canceled => self.canceled_at,
            MaintenanceState::Scheduled | MaintenanceState::Rescheduled => {
                self.window.map(|w| w.end)
            }
            MaintenanceState::InProgress | MaintenanceState::WindowPassed => None,
        }
    }

    /// The label a person would use for what it is about: `cluster/node`, or the group.
    pub fn subject_label(&self) -> String {
        match (&self.cluster_id, &self.node_id) {
            (Some(c), Some(n)) => format!("{c} node {n}"),
            (Some(c), None) => c.to_string(),
            (None, _) => self
                .replication_group_id
                .as_ref()
                .map_or_else(|| self.group_key.clone(), ToString::to_string),
        }
    }
}

mod optional_time {
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match at {
            Some(t) => s.serialize_some(&rfc3339::format(t)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|raw| {
                DateTime::parse_from_rfc3339(&raw)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(serde::de::Error::custom)
            })
            .transpose()
    }
}

/// Sorting rank of kinds that share a timestamp: the order they happen in.
fn rank(kind: &EventKind) -> u8 {
    match kind.as_str() {
        EventKind::NODE_REPLACEMENT_SCHEDULED => 0,
        EventKind::NODE_REPLACEMENT_RESCHEDULED => 1,
        EventKind::NODE_REPLACEMENT_CANCELED => 2,
        EventKind::CACHE_NODE_REPLACE_STARTED => 3,
        EventKind::FAILOVER_COMPLETE => 4,
        EventKind::CACHE_NODE_REPLACE_COMPLETE => 5,
        _ => 6,
    }
}

fn chronological(a: &&MaintenanceEvent, b: &&MaintenanceEvent) -> std::cmp::Ordering {
    (a.occurred_at, rank(&a.kind), &a.id).cmp(&(b.occurred_at, rank(&b.kind), &b.id))
}

/// An episode under construction.
struct Episode<'a> {
    events: Vec<&'a MaintenanceEvent>,
    state: MaintenanceState,
    planned: bool,
    window: Option<Window>,
    previous_windows: Vec<Window>,
    started_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    canceled_at: Option<DateTime<Utc>>,
    notices: u32,
    failovers: Vec<&'a MaintenanceEvent>,
}

impl<'a> Episode<'a> {
    fn open(first: &'a MaintenanceEvent) -> Self {
        let mut episode = Episode {
            events: Vec::new(),
            state: MaintenanceState::Scheduled,
            planned: false,
            window: None,
            previous_windows: Vec::new(),
            started_at: None,
            completed_at: None,
            canceled_at: None,
            notices: 0,
            failovers: Vec::new(),
        };
        episode.absorb(first);
        episode
    }

    fn closed(&self) -> bool {
        matches!(
            self.state,
            MaintenanceState::Canceled | MaintenanceState::Completed
        )
    }

    fn knows(&self, window: Option<Window>) -> bool {
        window.is_some_and(|w| self.window == Some(w) || self.previous_windows.contains(&w))
    }

    /// Whether `at` is no later than the current window's end plus `slack` (true without a window).
    fn before_window_end(&self, at: DateTime<Utc>, slack: Duration) -> bool {
        self.window.is_none_or(|w| at <= w.end + slack)
    }

    fn last_at(&self) -> DateTime<Utc> {
        self.events
            .last()
            .map_or(DateTime::<Utc>::MIN_UTC, |e| e.occurred_at)
    }

    /// Whether `e` (later than every event so far) belongs to this episode.
    fn continues_with(&self, e: &MaintenanceEvent) -> bool {
        let at = e.occurred_at;
        match e.kind.as_str() {
            // A notice for a window this episode already has is a repeat of the same notice; a
            // notice with another window, before this one's window ends, updates it.
            EventKind::NODE_REPLACEMENT_SCHEDULED => {
                !self.closed()
                    && (self.knows(e.window)
                        || (self.window.is_some() && self.before_window_end(at, Duration::zero())))
            }
            EventKind::NODE_REPLACEMENT_RESCHEDULED => {
                self.knows(e.previous_window)
                    || (!self.closed() && self.before_window_end(at, LATE_WORK))
            }
            EventKind::NODE_REPLACEMENT_CANCELED => {
                self.knows(e.window) || (!self.closed() && self.before_window_end(at, LATE_WORK))
            }
            EventKind::CACHE_NODE_REPLACE_COMPLETE => {
                if self.closed() {
                    self.state == MaintenanceState::Completed
                        && self
                            .completed_at
                            .is_some_and(|done| at <= done + DUPLICATE_COMPLETION)
                } else {
                    self.before_window_end(at, LATE_WORK)
                }
            }
            _ => !self.closed() && self.before_window_end(at, LATE_WORK),
        }
    }

    fn absorb(&mut self, e: &'a MaintenanceEvent) {
        let at = e.occurred_at;
        match e.kind.as_str() {
            EventKind::NODE_REPLACEMENT_SCHEDULED => {
                self.planned = true;
                self.notices += 1;
                if let Some(w) = e.window {
                    self.move_to(w);
                }
                if self.events.is_empty() {
                    self.state = MaintenanceState::Scheduled;
                }
            }
            EventKind::NODE_REPLACEMENT_RESCHEDULED => {
                self.planned = true;
                if let Some(previous) = e.previous_window
                    && !self.knows(Some(previous))
                {
                    if self.window.is_none() {
                        self.window = Some(previous);
                    } else {
                        self.previous_windows.push(previous);
                    }
                }
                if let Some(w) = e.window {
                    self.move_to(w);
                }
                self.state = MaintenanceState::Rescheduled;
                self.canceled_at = None;
            }
            EventKind::NODE_REPLACEMENT_CANCELED => {
                self.planned = true;
                if self.window.is_none() {
                    self.window = e.window;
                }
                self.state = MaintenanceState::Canceled;
                self.canceled_at = Some(at);
            }
            EventKind::CACHE_NODE_REPLACE_STARTED => {
                self.state = MaintenanceState::InProgress;
                self.started_at.get_or_insert(at);
            }
            EventKind::CACHE_NODE_REPLACE_COMPLETE => {
                self.state = MaintenanceState::Completed;
                self.completed_at.get_or_insert(at);
            }
            _ => {
                if self.events.is_empty() {
                    self.state = MaintenanceState::InProgress;
                }
            }
        }
        self.events.push(e);
    }

    /// Makes `w` the current window, keeping the one it replaces as a previous window.
    fn move_to(&mut self, w: Window) {
        match self.window {
            None => self.window = Some(w),
            Some(current) if current == w => {}
            Some(current) => {
                if !self.previous_windows.contains(&current) {
                    self.previous_windows.push(current);
                }
                self.previous_windows.retain(|p| *p != w);
                self.window = Some(w);
                if self.state == MaintenanceState::Scheduled && !self.events.is_empty() {
                    self.state = MaintenanceState::Rescheduled;
                }
            }
        }
    }

    fn ended_at(&self) -> Option<DateTime<Utc>> {
        match self.state {
            MaintenanceState::Completed => self.completed_at,
            MaintenanceState::Canceled => self.canceled_at,
            MaintenanceState::Scheduled | MaintenanceState::Rescheduled => {
                self.window.map(|w| w.end)
            }
            _ => None,
        }
    }

    /// How well a failover at `at` fits this episode: `None` when it does not, else a distance
    /// (smaller is better).
    fn failover_fit(&self, at: DateTime<Utc>) -> Option<Duration> {
        if let Some(started) = self.started_at {
            let until = self.completed_at.unwrap_or(started + OPEN_RECOVERY);
            if at >= started - FAILOVER_LEAD && at <= until + FAILOVER_LEAD {
                return Some((at - started).abs());
            }
        }
        if let Some(done) = self.completed_at
            && at >= done - OPEN_RECOVERY
            && at <= done + FAILOVER_LEAD
        {
            return Some((done - at).abs());
        }
        let w = self.window?;
        (self.state != MaintenanceState::Canceled
            && at >= w.start - Duration::hours(1)
            && at <= w.end + Duration::hours(2))
        .then(|| (at - w.start).abs())
    }
}

/// The cluster a node event is about.
fn cluster_of(e: &MaintenanceEvent) -> String {
    e.cluster_id
        .as_ref()
        .map_or_else(|| e.source_id.to_string(), ToString::to_string)
}

/// Works out the maintenances of one group's events, given in any order. Events that take no part
/// in a lifecycle (category `other`) are ignored. The events of each place (account and Region)
/// are worked out apart ([`by_place`]): two clusters of one name never share a maintenance.
pub fn assemble(events: &[MaintenanceEvent]) -> Vec<Maintenance> {
    let mut maintenances: Vec<Maintenance> = by_place(events)
        .into_values()
        .flat_map(assemble_place)
        .collect();
    maintenances.sort_by(|a, b| (a.first_event_at, &a.id).cmp(&(b.first_event_at, &b.id)));
    maintenances
}

/// An account and a Region, as far as an event knows them.
type Place<'a> = (Option<&'a str>, Option<&'a str>);

/// A group's events by the place they come from. A group is named by a cluster's name, which
/// clusters of two accounts (or of two Regions of one account) may share: each place's events
/// are its own. An event that knows no account (kept before events knew it, or ingested from a
/// file that does not say) goes with the one place of the group its Region agrees with; when
/// there are none or several, it stays with the others that know no account.
fn by_place(events: &[MaintenanceEvent]) -> BTreeMap<Place<'_>, Vec<&MaintenanceEvent>> {
    let mut places: BTreeMap<Place<'_>, Vec<&MaintenanceEvent>> = BTreeMap::new();
    let (known, unknown): (Vec<&MaintenanceEvent>, Vec<&MaintenanceEvent>) =
        events.iter().partition(|e| e.account_id.is_some());
    for e in known {
        places
            .entry((e.account_id.as_deref(), e.region.as_deref()))
            .or_default()
            .push(e);
    }
    let known_places: Vec<Place<'_>> = places.keys().copied().collect();
    for e in unknown {
        let region = e.region.as_deref();
        let mut agreeing = known_places
            .iter()
            .filter(|(_, r)| r.zip(region).is_none_or(|(a, b)| a == b));
        let place = match (agreeing.next(), agreeing.next()) {
            (Some(only), None) => *only,
            _ => (None, None),
        };
        places.entry(place).or_default().push(e);
    }
    places
}

/// The maintenances of one place's events.
fn assemble_place(events: Vec<&MaintenanceEvent>) -> Vec<Maintenance> {
    let mut node_events: Vec<&MaintenanceEvent> = Vec::new();
    let mut failovers: Vec<&MaintenanceEvent> = Vec::new();
    let mut notices: Vec<&MaintenanceEvent> = Vec::new();
    for e in events {
        match e.category {
            Category::NodeReplacement => node_events.push(e),
            Category::Failover => failovers.push(e),
            Category::Health => notices.push(e),
            Category::Other => {}
        }
    }
    node_events.sort_by(chronological);
    node_events.dedup_by(|a, b| a.id == b.id);
    failovers.sort_by(chronological);
    failovers.dedup_by(|a, b| a.id == b.id);

    let mut by_subject = episodes_by_subject(node_events);
    let loose = attach_failovers(&mut by_subject, failovers);
    let mut maintenances = replacements(&by_subject);
    for burst in loose {
        let mut episode = Episode::open(burst[0]);
        episode.state = MaintenanceState::Completed;
        episode.events.clear();
        episode.failovers = burst;
        maintenances.push(build(&episode, MaintenanceKind::Failover, None, None, None));
    }
    maintenances.extend(health::maintenances(notices));
    maintenances
}

/// A cluster and, where known, its node: what one line of episodes is about.
type Subject = (String, Option<String>);

/// The node events (chronological, each once) cut into episodes per cluster and node.
fn episodes_by_subject(node_events: Vec<&MaintenanceEvent>) -> BTreeMap<Subject, Vec<Episode<'_>>> {
    // A cluster-level event with no node belongs to the cluster's node when it has only one (a
    // Redis member cluster always does).
    let mut nodes_of: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for e in &node_events {
        if let Some(node) = &e.node_id {
            nodes_of
                .entry(cluster_of(e))
                .or_default()
                .insert(node.as_str());
        }
    }
    let subject_of = |e: &MaintenanceEvent| -> Subject {
        let cluster = cluster_of(e);
        let node = match &e.node_id {
            Some(n) => Some(n.to_string()),
            None => nodes_of
                .get(&cluster)
                .filter(|nodes| nodes.len() == 1)
                .and_then(|nodes| nodes.first().map(|n| (*n).to_owned())),
        };
        (cluster, node)
    };

    let mut by_subject: BTreeMap<Subject, Vec<Episode<'_>>> = BTreeMap::new();
    for e in node_events {
        let episodes = by_subject.entry(subject_of(e)).or_default();
        match episodes.last_mut() {
            Some(current) if current.continues_with(e) => current.absorb(e),
            _ => episodes.push(Episode::open(e)),
        }
    }
    by_subject
}

/// Failovers join the replacement they happened during; the others are unplanned failovers,
/// returned in bursts (failovers close together are one incident).
fn attach_failovers<'e>(
    by_subject: &mut BTreeMap<Subject, Vec<Episode<'e>>>,
    failovers: Vec<&'e MaintenanceEvent>,
) -> Vec<Vec<&'e MaintenanceEvent>> {
    let mut loose: Vec<Vec<&MaintenanceEvent>> = Vec::new();
    for f in failovers {
        let from = f.failover.as_ref().and_then(|n| n.from.as_deref());
        let best = by_subject
            .iter_mut()
            .filter(|((cluster, _), _)| from.is_none_or(|from| from == cluster))
            .flat_map(|(_, episodes)| episodes.iter_mut())
            .filter_map(|ep| ep.failover_fit(f.occurred_at).map(|fit| (fit, ep)))
            .min_by_key(|(fit, _)| *fit);
        match best {
            Some((_, episode)) => episode.failovers.push(f),
            None => match loose.last_mut() {
                Some(burst)
                    if f.occurred_at - burst.last().map_or(f.occurred_at, |l| l.occurred_at)
                        <= FAILOVER_BURST =>
                {
                    burst.push(f);
                }
                _ => loose.push(vec![f]),
            },
        }
    }
    loose
}

/// One maintenance per episode; an episode that opens with a notice soon after the previous one
/// ended is a repeat of it.
fn replacements(by_subject: &BTreeMap<Subject, Vec<Episode<'_>>>) -> Vec<Maintenance> {
    let mut maintenances = Vec::new();
    for ((cluster, node), episodes) in by_subject {
        let mut previous_end: Option<(EventId, DateTime<Utc>)> = None;
        for episode in episodes {
            let first = episode.events[0];
            let repeat_of = previous_end.as_ref().and_then(|(id, ended)| {
                let opens_with_notice = first.kind.is(EventKind::NODE_REPLACEMENT_SCHEDULED)
                    || first.kind.is(EventKind::NODE_REPLACEMENT_RESCHEDULED);
                (opens_with_notice && first.occurred_at - *ended <= REPEAT_WITHIN)
                    .then(|| id.clone())
            });
            let m = build(
                episode,
                if episode.planned {
                    MaintenanceKind::Planned
                } else {
                    MaintenanceKind::Unplanned
                },
                ClusterId::parse(cluster).ok(),
                node.as_deref().and_then(|n| NodeId::parse(n).ok()),
                repeat_of,
            );
            previous_end = episode.ended_at().map(|end| (m.id.clone(), end));
            maintenances.push(m);
        }
    }
    maintenances
}

fn build(
    episode: &Episode<'_>,
    kind: MaintenanceKind,
    cluster_id: Option<ClusterId>,
    node_id: Option<NodeId>,
    repeat_of: Option<EventId>,
) -> Maintenance {
    let mut all: Vec<&MaintenanceEvent> = episode
        .events
        .iter()
        .chain(&episode.failovers)
        .copied()
        .collect();
    all.sort_by(chronological);
    let first = all[0];
    let last = all[all.len() - 1];
    let find = |f: fn(&MaintenanceEvent) -> Option<String>| all.iter().find_map(|e| f(e));
    let completed_at = match kind {
        MaintenanceKind::Failover => Some(last.occurred_at),
        _ => episode.completed_at,
    };
    Maintenance {
        id: first.id.clone(),
        group_key: first
            .group_key()
            .unwrap_or_else(|| first.source_id.to_string()),
        kind,
        state: episode.state,
        cluster_id,
        node_id,
        replication_group_id: all.iter().find_map(|e| e.replication_group_id.clone()),
        window: episode.window,
        previous_windows: episode.previous_windows.clone(),
        first_event_at: first.occurred_at,
        last_event_at: last.occurred_at.max(episode.last_at()),
        started_at: episode.started_at,
        completed_at,
        canceled_at: episode.canceled_at,
        failovers: episode
            .failovers
            .iter()
            .map(|f| FailoverRecord {
                event_id: f.id.clone(),
                at: f.occurred_at,
                from: f.failover.as_ref().and_then(|n| n.from.clone()),
                to: f.failover.as_ref().and_then(|n| n.to.clone()),
            })
            .collect(),
        notices: episode.notices,
        repeat_of,
        event_ids: all.iter().map(|e| e.id.clone()).collect(),
        region: find(|e| e.region.clone()),
        account_id: find(|e| e.account_id.clone()),
        drill: first.drill,
    }
}

mod health;
#[cfg(test)]
mod tests;
