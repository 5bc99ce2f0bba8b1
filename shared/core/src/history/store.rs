//! The history, as the domain needs it: the [`EventStore`] trait that the SQLite and DynamoDB
//! adapters implement, and the in-memory store the domain's own tests run on.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::alerting::delivery::{
    Claim, ClaimRequest, Delivery, DeliveryState, DeliveryStore, LeaseRequest, OutboxWrite, Thread,
    due_at, latest_in, unchanged,
};
use crate::cluster::kept::{FactsRecord, FactsStore};
use crate::history::query::EventQuery;
use crate::history::response::{Acknowledgement, MuteRecord, Outcome, ResponseStore, StepDone};
use crate::intake::correlate::{self, SAME_OCCURRENCE};
use crate::lifecycle::Maintenance;
use crate::model::event::{EventId, IdPrefix, MaintenanceEvent};

/// An error from a storage backend, with its cause kept.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A passing condition (busy, throttled, unreachable): trying again may work.
    #[error("the store is unavailable ({operation})")]
    Unavailable {
        /// What was being done.
        operation: &'static str,
        /// The backend's error.
        #[source]
        source: BoxError,
    },
    /// A lasting failure (bad schema, permissions, a bug): trying again will not help.
    #[error("the store failed ({operation})")]
    Failed {
        /// What was being done.
        operation: &'static str,
        /// The backend's error.
        #[source]
        source: BoxError,
    },
    /// Something stored cannot be read back.
    #[error("stored {what} cannot be read: {detail}")]
    Corrupt {
        /// What was being read.
        what: &'static str,
        /// Why.
        detail: String,
    },
}

impl StoreError {
    /// Whether the same call may succeed later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. })
    }
}

/// A stored row or item that could not be read back, and was left out of the answer that met it:
/// one damaged record never stops the reads, the alerts and the searches of all the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// What it holds (`event`, `maintenance`, `delivery`).
    pub what: &'static str,
    /// Its key in the store (an event id, a maintenance id), as stored.
    pub key: String,
    /// Why it cannot be read.
    pub detail: String,
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "stored {} {:?} cannot be read and was skipped: {}",
            self.what, self.key, self.detail
        )
    }
}

/// The unreadable records a store met, kept until a door asks for them.
#[derive(Debug, Default)]
pub struct UnreadableLog {
    met: Mutex<Vec<Unreadable>>,
}

/// At most this many unreadable records are kept between two reports: a whole damaged table is
/// reported by its first records, not held in memory.
const UNREADABLE_KEPT: usize = 100;

impl UnreadableLog {
    /// Notes a record that was skipped (once per key until the next [`UnreadableLog::take`]).
    pub fn record(&self, unreadable: Unreadable) {
        let mut met = self
            .met
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if met.len() < UNREADABLE_KEPT
            && !met
                .iter()
                .any(|u| u.what == unreadable.what && u.key == unreadable.key)
        {
            met.push(unreadable);
        }
    }

    /// The records skipped since the last call.
    pub fn take(&self) -> Vec<Unreadable> {
        std::mem::take(
            &mut *self
                .met
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}

/// What is stored that an incoming event could be.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Candidates {
    /// The event stored under the incoming event's id, or the one it was merged into.
    pub same: Option<MaintenanceEvent>,
    /// Stored events with the same source and kind within [`SAME_OCCURRENCE`] of it, of the other
    /// shape (a notice for a text, a text for a notice), and, when nothing is stored under its
    /// id, the same report stored with or without its account ([`correlate::same_report`]). A
    /// store may return more; never fewer.
    pub near: Vec<MaintenanceEvent>,
}

/// A change to the stored events.
#[derive(Debug, Clone, PartialEq)]
pub enum EventWrite {
    /// Store a new event, unless its id is stored already.
    Insert(MaintenanceEvent),
    /// Replace a stored event with its merge with another report, and remember that report's id.
    Merge {
        /// The merged event, under the stored id.
        merged: MaintenanceEvent,
        /// The id of the report merged into it.
        alias: EventId,
    },
}

/// What a write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The event was stored.
    Inserted,
    /// Another writer had stored the same id first: nothing changed.
    AlreadyStored,
    /// The merge was stored.
    Merged,
}

/// The event history and the maintenances worked out from it.
///
/// Writes of one call are atomic where the backend allows it (SQLite: one transaction). Methods
/// return `Send` futures so that handlers on a multi-threaded runtime can hold them.
pub trait EventStore: Send + Sync {
    /// For each event, what is stored that it could be.
    fn candidates(
        &self,
        events: &[MaintenanceEvent],
    ) -> impl Future<Output = Result<Vec<Candidates>, StoreError>> + Send;

    /// Applies writes; one outcome per write, in order.
    fn write(
        &self,
        writes: &[EventWrite],
    ) -> impl Future<Output = Result<Vec<WriteOutcome>, StoreError>> + Send;

    /// Begins an import that spans many calls, kept whole or not at all by [`Self::end_import`]:
    /// until then, the calls of this store see what the import wrote and other readers see
    /// the history as it was before. `false` when the store cannot hold an import back (each
    /// call's writes are kept as they come); then the caller reads all of its input first.
    ///
    /// A `large` import may leave the indexes that only searches use (not those its own writes
    /// look up) unbuilt until [`Self::build_indexes`], which builds them once, inside the
    /// import: cheaper than keeping them up to date event by event, and never seen half built.
    fn begin_import(&self, large: bool) -> Result<bool, StoreError> {
        let _ = large;
        Ok(false)
    }

    /// Builds what a large import left unindexed, before the import reads its history back by
    /// lifecycle group. Nothing to do otherwise.
    fn build_indexes(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Ends what [`Self::begin_import`] began: keeps all of its writes (and indexes), or none of
    /// them.
    fn end_import(&self, keep: bool) -> Result<(), StoreError> {
        let _ = keep;
        Ok(())
    }

    /// Every event of each lifecycle group named, keyed by group.
    fn group_events(
        &self,
        group_keys: &[String],
    ) -> impl Future<Output = Result<BTreeMap<String, Vec<MaintenanceEvent>>, StoreError>> + Send;

    /// Works out again the maintenances of each lifecycle group in `groups` with `work` (a group,
    /// its stored events in time order -> its maintenances) and saves them, as
    /// [`Self::save_maintenances`] would: each group handed whole, one at a time, in key order,
    /// its events without the maintenance they belonged to. For the end of an import, which may
    /// have changed thousands of groups: a store that can read them back in one pass holds only
    /// one group's events at a time and saves as it goes. `false` when the store has no such
    /// pass (nothing is read or saved): then the caller reads the groups with
    /// [`Self::group_events`] and saves them itself.
    fn rework_in_one_pass(
        &self,
        groups: &BTreeSet<String>,
        work: &mut dyn FnMut(&str, &[MaintenanceEvent]) -> Vec<Maintenance>,
    ) -> Result<bool, StoreError> {
        let _ = (groups, work);
        Ok(false)
    }

    /// Replaces each named group's maintenances, and points each member event at its maintenance.
    /// Atomic for the whole call where the backend allows it.
    fn save_maintenances(
        &self,
        groups: &BTreeMap<String, Vec<Maintenance>>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Lets the writes of the next [`Self::save_maintenances`] be held back, to be made with the
    /// next claim of an alert ([`crate::alerting::delivery::DeliveryStore::claim`]) in the same
    /// request, until [`Self::flush_held`]: for an ingest that alerts right after storing.
    /// Every other call of the store makes what is held first, so nothing reads the store as
    /// if they were not made; a claim that is refused makes them on its own. By default nothing
    /// is held: each save is made at once.
    fn hold_maintenances(&self) {}

    /// Makes the writes held back since [`Self::hold_maintenances`], and holds no more.
    fn flush_held(&self) -> impl Future<Output = Result<(), StoreError>> + Send {
        async { Ok(()) }
    }

    /// One event, by its id or the id of a report merged into it.
    fn event(
        &self,
        id: &EventId,
    ) -> impl Future<Output = Result<Option<MaintenanceEvent>, StoreError>> + Send;

    /// The ids starting with `prefix` (at most `limit`), for ids typed by people.
    fn resolve(
        &self,
        prefix: &IdPrefix,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<EventId>, StoreError>> + Send;

    /// The maintenance named `id`, or the one the event `id` belongs to.
    fn maintenance(
        &self,
        id: &EventId,
    ) -> impl Future<Output = Result<Option<Maintenance>, StoreError>> + Send;

    /// Events matching a query, newest first.
    fn search(
        &self,
        query: &EventQuery,
    ) -> impl Future<Output = Result<Vec<MaintenanceEvent>, StoreError>> + Send;

    /// Maintenances that may not be over at `now` (scheduled, rescheduled, in progress): a superset
    /// that [`Maintenance::is_upcoming`] narrows.
    fn open_maintenances(
        &self,
        now: DateTime<Utc>,
        include_drills: bool,
    ) -> impl Future<Output = Result<Vec<Maintenance>, StoreError>> + Send;

    /// The stored records met since the last call that could not be read. Reads skip them (an
    /// event that cannot be read is as if absent) so that one damaged record stops nothing; the
    /// door reports them.
    fn take_unreadable(&self) -> Vec<Unreadable> {
        Vec::new()
    }
}

/// An event store in memory: the reference behaviour the adapters' conformance tests compare
/// against, and the store of the domain's own tests.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Memory>,
}

#[derive(Debug, Default)]
struct Memory {
    events: BTreeMap<EventId, MaintenanceEvent>,
    aliases: BTreeMap<EventId, EventId>,
    maintenances: BTreeMap<String, Vec<Maintenance>>,
    deliveries: BTreeMap<(EventId, &'static str), Delivery>,
    threads: BTreeMap<(String, EventId), Thread>,
    leases: BTreeMap<String, (String, DateTime<Utc>)>,
    acknowledgements: Vec<Acknowledgement>,
    steps: Vec<StepDone>,
    outcomes: BTreeMap<EventId, Outcome>,
    mutes: Vec<MuteRecord>,
    facts: BTreeMap<(String, DateTime<Utc>), FactsRecord>,
    /// The channel of the last claim that found nothing else pending there.
    claimed_alone: Option<String>,
    organization: Option<crate::config::spokes::OrganizationAccounts>,
}

impl MemoryStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, Memory> {
        // A panic while holding the lock leaves plain data behind; it is still consistent.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Memory {
    fn get(&self, id: &EventId) -> Option<&MaintenanceEvent> {
        let id = self.aliases.get(id).unwrap_or(id);
        self.events.get(id)
    }
}

impl EventStore for MemoryStore {
    async fn candidates(&self, events: &[MaintenanceEvent]) -> Result<Vec<Candidates>, StoreError> {
        let m = self.lock();
        Ok(events
            .iter()
            .map(|incoming| Candidates {
                same: m.get(&incoming.id).cloned(),
                near: m
                    .events
                    .values()
                    .filter(|e| {
                        e.source_id == incoming.source_id
                            && e.kind == incoming.kind
                            && (e.occurred_at - incoming.occurred_at).abs() <= SAME_OCCURRENCE
                            && (correlate::same_occurrence(e, incoming)
                                || (e.id != incoming.id && correlate::same_report(e, incoming)))
                    })
                    .cloned()
                    .collect(),
            })
            .collect())
    }

    async fn write(&self, writes: &[EventWrite]) -> Result<Vec<WriteOutcome>, StoreError> {
        let mut m = self.lock();
        Ok(writes
            .iter()
            .map(|w| match w {
                EventWrite::Insert(e) => {
                    if m.get(&e.id).is_some() {
                        WriteOutcome::AlreadyStored
                    } else {
                        m.events.insert(e.id.clone(), e.clone());
                        WriteOutcome::Inserted
                    }
                }
                EventWrite::Merge { merged, alias } => {
                    m.events.insert(merged.id.clone(), merged.clone());
                    m.aliases.insert(alias.clone(), merged.id.clone());
                    WriteOutcome::Merged
                }
            })
            .collect())
    }

    async fn group_events(
        &self,
        group_keys: &[String],
    ) -> Result<BTreeMap<String, Vec<MaintenanceEvent>>, StoreError> {
        let m = self.lock();
        let mut groups: BTreeMap<String, Vec<MaintenanceEvent>> =
            group_keys.iter().map(|k| (k.clone(), Vec::new())).collect();
        for e in m.events.values() {
            if let Some(events) = e.group_key().and_then(|k| groups.get_mut(&k)) {
                events.push(e.clone());
            }
        }
        Ok(groups)
    }

    async fn save_maintenances(
        &self,
        groups: &BTreeMap<String, Vec<Maintenance>>,
    ) -> Result<(), StoreError> {
        let mut m = self.lock();
        for (group_key, maintenances) in groups {
            for maintenance in maintenances {
                for id in &maintenance.event_ids {
                    if let Some(e) = m.events.get_mut(id) {
                        e.maintenance_id = Some(maintenance.id.clone());
                    }
                }
            }
            m.maintenances
                .insert(group_key.clone(), maintenances.clone());
        }
        Ok(())
    }

    async fn event(&self, id: &EventId) -> Result<Option<MaintenanceEvent>, StoreError> {
        Ok(self.lock().get(id).cloned())
    }

    async fn resolve(&self, prefix: &IdPrefix, limit: usize) -> Result<Vec<EventId>, StoreError> {
        let m = self.lock();
        Ok(m.events
            .keys()
            .filter(|id| id.as_str().starts_with(prefix.as_str()))
            .take(limit)
            .cloned()
            .collect())
    }

    async fn maintenance(&self, id: &EventId) -> Result<Option<Maintenance>, StoreError> {
        let m = self.lock();
        let id = m.aliases.get(id).unwrap_or(id);
        Ok(m.maintenances
            .values()
            .flatten()
            .find(|mt| mt.id == *id || mt.event_ids.contains(id))
            .cloned())
    }

    async fn search(&self, query: &EventQuery) -> Result<Vec<MaintenanceEvent>, StoreError> {
        let m = self.lock();
        let words = query.words();
        let mut found: Vec<MaintenanceEvent> = m
            .events
            .values()
            .filter(|e| matches_query(e, query, &words))
            .cloned()
            .collect();
        found.sort_by(|a, b| (b.occurred_at, &b.id).cmp(&(a.occurred_at, &a.id)));
        found.truncate(query.limit);
        Ok(found)
    }

    async fn open_maintenances(
        &self,
        now: DateTime<Utc>,
        include_drills: bool,
    ) -> Result<Vec<Maintenance>, StoreError> {
        let m = self.lock();
        Ok(m.maintenances
            .values()
            .flatten()
            .filter(|mt| (include_drills || !mt.drill) && mt.is_upcoming(now))
            .cloned()
            .collect())
    }
}

impl DeliveryStore for MemoryStore {
    async fn record_deliveries(&self, deliveries: &[Delivery]) -> Result<Vec<bool>, StoreError> {
        let mut m = self.lock();
        Ok(deliveries
            .iter()
            .map(|d| {
                let key = (d.event_id.clone(), d.lane());
                let new = !m.deliveries.contains_key(&key);
                if new {
                    m.deliveries.insert(key, d.clone());
                }
                new
            })
            .collect())
    }

    async fn deliveries(&self, events: &[EventId]) -> Result<Vec<Delivery>, StoreError> {
        let m = self.lock();
        Ok(events
            .iter()
            .flat_map(|id| {
                m.deliveries
                    .range((id.clone(), "")..)
                    .take_while(move |((e, _), _)| e == id)
                    .map(|(_, d)| d.clone())
            })
            .collect())
    }

    async fn due_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        Ok(due_at(self.lock().deliveries.values().cloned(), now, limit))
    }

    async fn deliveries_in(
        &self,
        state: DeliveryState,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        Ok(latest_in(
            self.lock().deliveries.values().cloned(),
            state,
            limit,
        ))
    }

    async fn save_delivery(&self, delivery: &Delivery) -> Result<(), StoreError> {
        self.lock().deliveries.insert(
            (delivery.event_id.clone(), delivery.lane()),
            delivery.clone(),
        );
        Ok(())
    }

    async fn threads(&self, channel: &str, anchors: &[EventId]) -> Result<Vec<Thread>, StoreError> {
        let m = self.lock();
        Ok(anchors
            .iter()
            .filter_map(|a| m.threads.get(&(channel.to_owned(), a.clone())).cloned())
            .collect())
    }

    async fn save_thread(&self, thread: &Thread) -> Result<(), StoreError> {
        self.lock().threads.insert(
            (thread.channel.clone(), thread.anchor.clone()),
            thread.clone(),
        );
        Ok(())
    }

    async fn acquire_lease(&self, lease: LeaseRequest<'_>) -> Result<bool, StoreError> {
        let mut m = self.lock();
        let free = m.lease_free(&lease);
        if free {
            m.take(&lease);
        }
        Ok(free)
    }

    async fn lease(&self, name: &str) -> Result<Option<(String, DateTime<Utc>)>, StoreError> {
        Ok(self.lock().leases.get(name).cloned())
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        self.lock().release(name, holder);
        Ok(())
    }

    async fn claim(&self, claim: ClaimRequest<'_>) -> Result<Claim, StoreError> {
        let (lease, was, becomes) = (claim.lease, claim.was, claim.becomes);
        let mut m = self.lock();
        m.claimed_alone = None;
        if !m.lease_free(&lease) {
            return Ok(Claim::Busy);
        }
        let key = (becomes.event_id.clone(), becomes.lane());
        if !unchanged(m.deliveries.get(&key), was) {
            return Ok(Claim::Changed);
        }
        m.take(&lease);
        m.deliveries.insert(key, becomes.clone());
        let alone = !m.deliveries.values().any(|d| {
            d.channel == becomes.channel
                && d.state == DeliveryState::Pending
                && (&d.event_id, d.lane()) != (&becomes.event_id, becomes.lane())
        });
        m.claimed_alone = alone.then(|| becomes.channel.clone());
        Ok(Claim::Taken)
    }

    fn nothing_else_pending(&self, channel: &str) -> bool {
        self.lock()
            .claimed_alone
            .take()
            .is_some_and(|c| c == channel)
    }

    async fn save_together(&self, writes: &[OutboxWrite<'_>]) -> Result<(), StoreError> {
        let mut m = self.lock();
        for w in writes {
            match *w {
                OutboxWrite::Delivery(d) => {
                    m.deliveries
                        .insert((d.event_id.clone(), d.lane()), d.clone());
                }
                OutboxWrite::Thread(t) => {
                    m.threads
                        .insert((t.channel.clone(), t.anchor.clone()), t.clone());
                }
                OutboxWrite::Release { name, holder } => m.release(name, holder),
            }
        }
        Ok(())
    }
}

impl Memory {
    fn lease_free(&self, lease: &LeaseRequest<'_>) -> bool {
        self.leases
            .get(lease.name)
            .is_none_or(|(h, u)| *u <= lease.now || h == lease.holder)
    }

    fn take(&mut self, lease: &LeaseRequest<'_>) {
        self.leases.insert(
            lease.name.to_owned(),
            (lease.holder.to_owned(), lease.until),
        );
    }

    fn release(&mut self, name: &str, holder: &str) {
        if self.leases.get(name).is_some_and(|(h, _)| h == holder) {
            self.leases.remove(name);
        }
    }
}

impl ResponseStore for MemoryStore {
    async fn record_acknowledgement(&self, ack: &Acknowledgement) -> Result<(), StoreError> {
        self.lock().acknowledgements.push(ack.clone());
        Ok(())
    }

    async fn acknowledgements(
        &self,
        events: &[EventId],
    ) -> Result<Vec<Acknowledgement>, StoreError> {
        let mut found: Vec<Acknowledgement> = self
            .lock()
            .acknowledgements
            .iter()
            .filter(|a| events.contains(&a.event_id))
            .cloned()
            .collect();
        found.sort_by(|a, b| (a.at, &a.by).cmp(&(b.at, &b.by)));
        Ok(found)
    }

    async fn record_step(&self, step: &StepDone) -> Result<(), StoreError> {
        let mut m = self.lock();
        if !m
            .steps
            .iter()
            .any(|s| s.event_id == step.event_id && s.step == step.step)
        {
            m.steps.push(step.clone());
        }
        Ok(())
    }

    async fn steps(&self, events: &[EventId]) -> Result<Vec<StepDone>, StoreError> {
        let mut found: Vec<StepDone> = self
            .lock()
            .steps
            .iter()
            .filter(|s| events.contains(&s.event_id))
            .cloned()
            .collect();
        found.sort_by_key(|s| (s.at, s.step));
        Ok(found)
    }

    async fn record_outcome(&self, outcome: &Outcome) -> Result<(), StoreError> {
        self.lock()
            .outcomes
            .insert(outcome.event_id.clone(), outcome.clone());
        Ok(())
    }

    async fn outcomes(&self, events: &[EventId]) -> Result<Vec<Outcome>, StoreError> {
        let m = self.lock();
        Ok(events
            .iter()
            .filter_map(|id| m.outcomes.get(id).cloned())
            .collect())
    }

    async fn outcomes_between(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<Outcome>, StoreError> {
        let mut found: Vec<Outcome> = self
            .lock()
            .outcomes
            .values()
            .filter(|o| o.at >= start && o.at < end)
            .cloned()
            .collect();
        found.sort_by(|a, b| (a.at, &a.event_id).cmp(&(b.at, &b.event_id)));
        Ok(found)
    }

    async fn record_mute(&self, mute: &MuteRecord) -> Result<(), StoreError> {
        self.lock().mutes.push(mute.clone());
        Ok(())
    }

    async fn mutes(&self, now: DateTime<Utc>) -> Result<Vec<MuteRecord>, StoreError> {
        Ok(self
            .lock()
            .mutes
            .iter()
            .filter(|m| m.until > now)
            .cloned()
            .collect())
    }
}

impl FactsStore for MemoryStore {
    async fn record_facts(&self, record: &FactsRecord) -> Result<(), StoreError> {
        self.lock()
            .facts
            .insert((record.cluster_id.clone(), record.read_at), record.clone());
        Ok(())
    }

    async fn latest_facts(&self, cluster_id: &str) -> Result<Option<FactsRecord>, StoreError> {
        Ok(self
            .lock()
            .facts
            .values()
            .filter(|r| r.cluster_id == cluster_id)
            .max_by_key(|r| r.read_at)
            .cloned())
    }
}

impl crate::config::spokes::OrganizationStore for MemoryStore {
    async fn record_organization(
        &self,
        accounts: &crate::config::spokes::OrganizationAccounts,
    ) -> Result<(), StoreError> {
        self.lock().organization = Some(accounts.clone());
        Ok(())
    }

    async fn organization(
        &self,
    ) -> Result<Option<crate::config::spokes::OrganizationAccounts>, StoreError> {
        Ok(self.lock().organization.clone())
    }
}

/// Whether an event matches a query: the reference semantics of [`EventStore::search`].
pub fn matches_query(e: &MaintenanceEvent, q: &EventQuery, words: &[String]) -> bool {
    let cluster_ok = q
        .cluster
        .as_deref()
        .is_none_or(|c| EventQuery::matches_cluster(e, c));
    let haystack = || {
        format!(
            "{} {} {} {} {} {}",
            e.message.as_deref().unwrap_or_default(),
            e.source_id,
            e.cluster_id.as_ref().map_or("", |c| c.as_str()),
            e.replication_group_id.as_ref().map_or("", |c| c.as_str()),
            e.node_id.as_ref().map_or("", |c| c.as_str()),
            e.kind,
        )
        .to_lowercase()
    };
    cluster_ok
        && q.node
            .as_deref()
            .is_none_or(|n| e.node_id.as_ref().is_some_and(|id| id.as_str() == n))
        && q.kind.as_ref().is_none_or(|k| &e.kind == k)
        && q.category.is_none_or(|c| e.category == c)
        && q.account
            .as_deref()
            .is_none_or(|a| e.account_id.as_deref() == Some(a))
        && q.region
            .as_deref()
            .is_none_or(|r| e.region.as_deref() == Some(r))
        && q.since.is_none_or(|t| e.occurred_at >= t)
        && q.until.is_none_or(|t| e.occurred_at < t)
        && (q.include_drills || !e.drill)
        && (!q.actionable_only || e.actionable)
        && (words.is_empty() || {
            let text = haystack();
            let tokens: Vec<&str> = text.split(|c: char| !c.is_alphanumeric()).collect();
            words.iter().all(|w| tokens.contains(&w.as_str()))
        })
}
