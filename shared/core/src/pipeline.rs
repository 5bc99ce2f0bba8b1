//! The one ingest pipeline: every door (the CLI, the SNS function, the poller, the HTTP endpoint,
//! drills) hands parsed events to [`ingest`], which stores each occurrence once and keeps the
//! maintenances of the groups it touched up to date.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::correlate::{self, Disposition};
use crate::event::{EventId, MaintenanceEvent};
use crate::lifecycle::{self, Maintenance};
use crate::policy::AlertPolicy;
use crate::store::{EventStore, EventWrite, StoreError, WriteOutcome};

/// An input event as the store now has it.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestedEvent {
    /// The stored event (for a repeat or a second report: the event stored first).
    pub event: MaintenanceEvent,
    /// Whether this input added an occurrence to the history.
    pub new: bool,
}

/// What an ingest did.
#[derive(Debug, Clone, Default)]
pub struct IngestOutcome {
    /// One entry per input event, in input order.
    pub events: Vec<IngestedEvent>,
    /// The maintenances of every group the input changed, after the change.
    pub maintenances: BTreeMap<String, Vec<Maintenance>>,
}

impl IngestOutcome {
    /// How many input events were new occurrences.
    pub fn new_count(&self) -> usize {
        self.events.iter().filter(|e| e.new).count()
    }
}

/// Stores `events` (as parsed from one input) and updates the maintenances they touch.
///
/// Idempotent: ingesting the same input again changes nothing and reports every event as not new.
/// Events repeated within the input, and the SNS notice and DescribeEvents text of one occurrence,
/// are stored once.
pub async fn ingest<S: EventStore>(
    store: &S,
    mut events: Vec<MaintenanceEvent>,
    policy: &AlertPolicy,
) -> Result<IngestOutcome, StoreError> {
    for e in &mut events {
        e.actionable = policy.is_actionable(&e.kind);
    }
    let candidates = store.candidates(&events).await?;

    // Decide each event against the store and against the events before it in this input.
    let mut writes: Vec<EventWrite> = Vec::new();
    let mut pending: HashMap<EventId, usize> = HashMap::new(); // id (or alias) -> index in `writes`
    let mut near_pending: HashMap<(String, String), Vec<usize>> = HashMap::new();
    let mut resolved: Vec<(EventId, bool)> = Vec::with_capacity(events.len());
    for (incoming, found) in events.iter().zip(candidates) {
        if let Some(&w) = pending.get(&incoming.id) {
            resolved.push((written_id(&writes[w]).clone(), false));
            continue;
        }
        let correlatable = correlate::is_notice(incoming) || correlate::is_text(incoming);
        let key = (incoming.source_id.to_string(), incoming.kind.to_string());
        if found.same.is_none() && correlatable {
            let earlier = near_pending
                .get(&key)
                .into_iter()
                .flatten()
                .copied()
                .find(|&w| correlate::same_occurrence(written_event(&writes[w]), incoming));
            if let Some(w) = earlier {
                let merged = correlate::merge(written_event(&writes[w]), incoming);
                let id = merged.id.clone();
                match &mut writes[w] {
                    EventWrite::Insert(e) | EventWrite::Merge { merged: e, .. } => *e = merged,
                }
                pending.insert(incoming.id.clone(), w);
                resolved.push((id, false));
                continue;
            }
        }
        match correlate::decide(incoming, found.same.as_ref(), &found.near) {
            Disposition::Duplicate(stored) => resolved.push((stored.id, false)),
            Disposition::Merge(merged) => {
                let id = merged.id.clone();
                pending.insert(incoming.id.clone(), writes.len());
                pending.insert(id.clone(), writes.len());
                writes.push(EventWrite::Merge {
                    merged,
                    alias: incoming.id.clone(),
                });
                resolved.push((id, false));
            }
            Disposition::New => {
                pending.insert(incoming.id.clone(), writes.len());
                if correlatable {
                    near_pending.entry(key).or_default().push(writes.len());
                }
                writes.push(EventWrite::Insert(incoming.clone()));
                resolved.push((incoming.id.clone(), true));
            }
        }
    }

    let outcomes = store.write(&writes).await?;
    let lost_races: BTreeSet<&EventId> = writes
        .iter()
        .zip(&outcomes)
        .filter(|(_, o)| **o == WriteOutcome::AlreadyStored)
        .map(|(w, _)| written_id(w))
        .collect();

    // Work out again the maintenances of every group that gained or changed an event.
    let groups: BTreeSet<String> = writes
        .iter()
        .zip(&outcomes)
        .filter(|(_, o)| **o != WriteOutcome::AlreadyStored)
        .filter_map(|(w, _)| written_event(w).group_key())
        .collect();
    let mut maintenances = BTreeMap::new();
    let mut maintenance_of: HashMap<EventId, EventId> = HashMap::new();
    for group in groups {
        let group_events = store.group_events(&group).await?;
        let assembled = lifecycle::assemble(&group_events);
        store.save_maintenances(&group, &assembled).await?;
        for m in &assembled {
            for id in &m.event_ids {
                maintenance_of.insert(id.clone(), m.id.clone());
            }
        }
        maintenances.insert(group, assembled);
    }

    // Report each input event as stored.
    let mut stored: HashMap<EventId, MaintenanceEvent> = HashMap::new();
    for w in &writes {
        let e = written_event(w);
        stored.insert(e.id.clone(), e.clone());
    }
    let mut report = Vec::with_capacity(resolved.len());
    for (id, new) in resolved {
        let new = new && !lost_races.contains(&id);
        let mut event = match stored.get(&id) {
            Some(e) if !lost_races.contains(&id) => e.clone(),
            _ => match store.event(&id).await? {
                Some(e) => e,
                None => {
                    return Err(StoreError::Corrupt {
                        what: "event",
                        detail: format!("{id} was reported stored but cannot be read"),
                    });
                }
            },
        };
        if let Some(m) = maintenance_of.get(&event.id) {
            event.maintenance_id = Some(m.clone());
        }
        report.push(IngestedEvent { event, new });
    }
    Ok(IngestOutcome {
        events: report,
        maintenances,
    })
}

fn written_event(w: &EventWrite) -> &MaintenanceEvent {
    match w {
        EventWrite::Insert(e) | EventWrite::Merge { merged: e, .. } => e,
    }
}

fn written_id(w: &EventWrite) -> &EventId {
    &written_event(w).id
}

#[cfg(test)]
mod tests;
