//! A large JSON Lines input (a history exported with `jq -c '.Events[]'`, or `describe-events`
//! pages one per line), imported a run of lines at a time in bounded memory.
//!
//! Where the store can hold an import back ([`EventStore::begin_import`]), the whole input is one
//! write: an input that fails on its millionth line stores nothing, and readers see the history
//! before or after the import, never half of it. The maintenances of each group it changed are
//! worked out once, at its end. The outcome keeps only what the alerts need (the new actionable
//! events that may still page, one event per group whose events were already stored) and counts
//! the rest.

use std::collections::{BTreeSet, HashSet};
use std::fmt;

use cachewatch_core::alerting::FRESH_FOR;
use cachewatch_core::alerting::delivery::ChatSink;
use cachewatch_core::alerting::notify::NotifySettings;
use cachewatch_core::cluster::source::FactsSource;
use cachewatch_core::config::Config;
use cachewatch_core::history::store::{EventStore, StoreError};
use cachewatch_core::intake::parse::{ParseContext, ParseError, read_json_lines};
use cachewatch_core::intake::pipeline::{
    IngestedEvent, rework_groups, rework_in_one_pass, store_events,
};
use cachewatch_core::lifecycle::Maintenance;
use cachewatch_core::model::event::EventId;
use cachewatch_core::{IngestOutcome, MaintenanceEvent};
use chrono::{DateTime, Utc};

use crate::ingest::{Alerting, Alerts, Door, alert};
use crate::{Ports, Rules, Store};

/// Where the lines of an import come from: runs of whole lines, in input order.
pub trait LineRuns: Send {
    /// The next run of whole lines and the 1-based number of its first line in the input; `None`
    /// at the end of the input.
    fn next_run(&mut self) -> std::io::Result<Option<(usize, String)>>;
}

/// One import.
pub struct ImportRequest<'a> {
    /// The door it came through.
    pub door: Door,
    /// The team's configuration.
    pub config: &'a Config,
    /// How alerts are sent.
    pub settings: &'a NotifySettings,
    /// Whether the alerts are sent by this call.
    pub alerting: Alerting,
    /// The time of the import.
    pub now: DateTime<Utc>,
}

/// What an import did.
#[derive(Debug)]
pub struct Imported {
    /// The events read.
    pub events: usize,
    /// How many of them were new occurrences.
    pub new: usize,
    /// What the alerts need: the new actionable events that may still page, one event of each
    /// group whose events were already stored, and the maintenances still ahead.
    pub outcome: IngestOutcome,
    /// What became of the alerts.
    pub alerts: Alerts,
}

/// Why nothing was imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The input could not be read.
    #[error("cannot read the input")]
    Read(#[source] std::io::Error),
    /// A line does not read.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl fmt::Debug for dyn LineRuns + '_ {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LineRuns")
    }
}

/// Imports JSON Lines run by run, whole or not at all where the store allows it, then alerts.
pub async fn import_lines<S, C, F>(
    ports: Ports<'_, S, C, F>,
    request: ImportRequest<'_>,
    runs: &mut dyn LineRuns,
) -> Result<Imported, ImportError>
where
    S: Store,
    C: ChatSink,
    F: FactsSource,
{
    let ctx = ParseContext {
        received_at: request.now,
        drill: request.door.is_drill(),
    };
    let mut kept = Kept::new(request.now);
    let first = runs.next_run().map_err(ImportError::Read)?;
    let large = first
        .as_ref()
        .is_some_and(|(_, text)| text.len() >= LARGE_BYTES);
    if ports.store.begin_import(large)? {
        let stored = store_runs(ports.store, first, runs, &ctx, request.config, &mut kept).await;
        ports.store.end_import(stored.is_ok())?;
        stored?;
    } else {
        // Each write is kept as it comes: read the whole input first, so that a bad line
        // still stores nothing.
        let mut events = Vec::new();
        let mut next = first;
        while let Some((first, text)) = next {
            events.extend(read_json_lines(&text, first, &ctx)?);
            next = runs.next_run().map_err(ImportError::Read)?;
        }
        for chunk in chunks(events) {
            kept.add(store_events(ports.store, chunk, &request.config.alerts).await?);
        }
        kept.rework(ports.store).await?;
    }
    let (events, new) = (kept.events, kept.new);
    let outcome = kept.finish(ports.store).await?;
    let alerts = match request.alerting {
        Alerting::Later => Alerts::NotSent,
        Alerting::Now => {
            let rules = Rules {
                config: request.config,
                settings: request.settings,
                now: request.now,
            };
            alert(ports, &outcome, rules).await.into()
        }
    };
    Ok(Imported {
        events,
        new,
        outcome,
        alerts,
    })
}

/// From this much text in the first run on, an import is large: the store may build its
/// search indexes once at the end rather than row by row (about 5,000 `describe-events` records).
const LARGE_BYTES: usize = 1024 * 1024;

/// A run being read on threads of its own while the one before it is stored.
type Reading = std::thread::JoinHandle<Result<Vec<MaintenanceEvent>, ParseError>>;

fn read_apart(run: Option<(usize, String)>, ctx: ParseContext) -> Option<Reading> {
    run.map(|(first, text)| std::thread::spawn(move || read_json_lines(&text, first, &ctx)))
}

fn read_result(reading: Reading) -> Result<Vec<MaintenanceEvent>, ParseError> {
    reading
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Stores each run in turn while the next one is read on the other cores, then builds what the
/// store left unindexed and works out the maintenances of the groups changed. At most two runs
/// are in memory: the one being stored and the one being read.
async fn store_runs<S: EventStore>(
    store: &S,
    first: Option<(usize, String)>,
    runs: &mut dyn LineRuns,
    ctx: &ParseContext,
    config: &Config,
    kept: &mut Kept,
) -> Result<(), ImportError> {
    let mut reading = read_apart(first, *ctx);
    while let Some(current) = reading.take() {
        let next = runs.next_run();
        // A bad line is reported before an unreadable input after it.
        let events = read_result(current)?;
        reading = read_apart(next.map_err(ImportError::Read)?, *ctx);
        kept.add(store_events(store, events, &config.alerts).await?);
    }
    store.build_indexes()?;
    kept.rework(store).await?;
    Ok(())
}

/// Splits events into the chunks one store call takes.
fn chunks(events: Vec<MaintenanceEvent>) -> Vec<Vec<MaintenanceEvent>> {
    let mut chunks = Vec::new();
    let mut rest = events.into_iter().peekable();
    while rest.peek().is_some() {
        chunks.push(rest.by_ref().take(crate::ingest::CHUNK).collect());
    }
    chunks
}

/// At most how many groups' events are read back at once to work out their maintenances.
const GROUPS_AT_ONCE: usize = 64;

/// About how many stored events are read back at once to work out maintenances: fewer groups are
/// read together when theirs are many, so that the memory this takes does not grow with the
/// history (one group's events are always read whole).
const EVENTS_AT_ONCE: usize = 16_384;

/// What an import keeps of each run's outcome: counts, and what its alerts need.
struct Kept {
    now: DateTime<Utc>,
    events: usize,
    new: usize,
    /// New actionable events recent enough to page.
    fresh: Vec<EventId>,
    /// One event of each group whose events were already stored (its thread is refreshed).
    known: Vec<IngestedEvent>,
    known_groups: HashSet<String>,
    /// The groups that gained or changed an event.
    changed: BTreeSet<String>,
    /// New actionable events whose maintenance is still ahead.
    ahead: Vec<EventId>,
    /// The maintenances still ahead, of the groups changed.
    outcome: IngestOutcome,
}

impl Kept {
    fn new(now: DateTime<Utc>) -> Self {
        Self {
            now,
            events: 0,
            new: 0,
            fresh: Vec::new(),
            known: Vec::new(),
            known_groups: HashSet::new(),
            changed: BTreeSet::new(),
            ahead: Vec::new(),
            outcome: IngestOutcome::default(),
        }
    }

    fn add(&mut self, (stored, changed): (IngestOutcome, BTreeSet<String>)) {
        self.events += stored.events.len();
        self.changed.extend(changed);
        for e in stored.events {
            if e.new {
                self.new += 1;
                if e.event.actionable && !self.too_old(&e.event) {
                    self.fresh.push(e.event.id);
                }
            } else if let Some(group) = e.event.group_key()
                && self.known_groups.insert(group)
            {
                self.known.push(e);
            }
        }
    }

    /// Whether an event happened too long ago to page, unless its maintenance is still ahead.
    fn too_old(&self, event: &MaintenanceEvent) -> bool {
        event.occurred_at < self.now - FRESH_FOR
    }

    /// Whether this import stored `event`: every event it stores is received at its time, which
    /// stores keep to the millisecond. Nothing is remembered per event while the input is read,
    /// so the memory an import takes does not grow with its size.
    fn stored_here(&self, event: &MaintenanceEvent) -> bool {
        event.received_at.timestamp_millis() == self.now.timestamp_millis()
    }

    /// Works out the maintenances of the groups changed, in the store's one pass over them or
    /// else a few groups at a time, keeping those still ahead and the new actionable events too
    /// old to page otherwise that belong to them.
    async fn rework<S: EventStore>(&mut self, store: &S) -> Result<(), StoreError> {
        let changed = std::mem::take(&mut self.changed);
        let mut keep = |group: &str, maintenances: &[Maintenance], events: &[MaintenanceEvent]| {
            self.keep_ahead(group, maintenances, events)
        };
        if rework_in_one_pass(store, &changed, &mut keep)? {
            return Ok(());
        }
        let changed: Vec<String> = changed.into_iter().collect();
        let mut rest = changed.as_slice();
        // One group first: how many events it has says how many groups the next read can take,
        // so that a history of large groups is never read 64 groups at once.
        let mut at_once = 1;
        while !rest.is_empty() {
            let (groups, after) = rest.split_at(at_once.min(rest.len()));
            rest = after;
            let reworked = rework_groups(store, groups).await?;
            let read: usize = reworked.events.values().map(Vec::len).sum();
            at_once = (EVENTS_AT_ONCE * groups.len() / read.max(1)).clamp(1, GROUPS_AT_ONCE);
            for (group, maintenances) in &reworked.maintenances {
                let events = reworked.events.get(group).map_or(&[][..], Vec::as_slice);
                self.keep_ahead(group, maintenances, events);
            }
        }
        Ok(())
    }

    /// Keeps the maintenances of `group` still ahead, and the new actionable events among
    /// `events` (the group's, as stored) too old to page otherwise that belong to them.
    fn keep_ahead(
        &mut self,
        group: &str,
        maintenances: &[Maintenance],
        events: &[MaintenanceEvent],
    ) {
        let mut ahead: Vec<Maintenance> = maintenances
            .iter()
            .filter(|m| m.is_upcoming(self.now))
            .cloned()
            .collect();
        if ahead.is_empty() {
            return;
        }
        // Collected from a filter, the list may keep room for more maintenances than it holds.
        ahead.shrink_to_fit();
        for id in ahead.iter().flat_map(|m| &m.event_ids) {
            if events
                .iter()
                .any(|e| &e.id == id && e.actionable && self.too_old(e) && self.stored_here(e))
            {
                self.ahead.push(id.clone());
            }
        }
        self.outcome.maintenances.insert(group.to_owned(), ahead);
    }

    /// The outcome, with the new events that may page read back as stored (with their
    /// maintenance).
    async fn finish<S: EventStore>(mut self, store: &S) -> Result<IngestOutcome, StoreError> {
        let mut events = Vec::with_capacity(self.fresh.len() + self.ahead.len());
        for id in self.fresh.iter().chain(&self.ahead) {
            if let Some(event) = store.event(id).await? {
                events.push(IngestedEvent { event, new: true });
            }
        }
        events.extend(self.known);
        self.outcome.events = events;
        Ok(self.outcome)
    }
}

#[cfg(test)]
mod tests;
