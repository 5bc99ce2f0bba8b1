//! The one ingest pipeline: every door (the CLI, the SNS function, the poller, the HTTP endpoint,
//! drills) hands parsed events to [`ingest`], which stores each occurrence once and keeps the
//! maintenances of the groups it touched up to date.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::alerting::policy::AlertPolicy;
use crate::history::store::{Candidates, EventStore, EventWrite, StoreError, WriteOutcome};
use crate::intake::correlate::{self, Disposition};
use crate::lifecycle::{self, Maintenance};
use crate::model::event::{EventId, MaintenanceEvent};

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

    /// The input events that were new occurrences, as stored: those whose alerts are recorded.
    pub fn new_events(&self) -> Vec<MaintenanceEvent> {
        self.events
            .iter()
            .filter(|e| e.new)
            .map(|e| e.event.clone())
            .collect()
    }
}

/// Stores `events` (as parsed from one input) and updates the maintenances they touch.
///
/// Idempotent: ingesting the same input again changes nothing and reports every event as not new.
/// Events repeated within the input, and the SNS notice and DescribeEvents text of one occurrence,
/// are stored once.
pub async fn ingest<S: EventStore>(
    store: &S,
    events: Vec<MaintenanceEvent>,
    policy: &AlertPolicy,
) -> Result<IngestOutcome, StoreError> {
    let (mut outcome, groups) = store_events(store, events, policy).await?;
    let groups: Vec<String> = groups.into_iter().collect();
    let maintenances = rework_groups(store, &groups).await?.maintenances;
    let mut maintenance_of: HashMap<&EventId, &EventId> = HashMap::new();
    for m in maintenances.values().flatten() {
        for id in &m.event_ids {
            maintenance_of.insert(id, &m.id);
        }
    }
    for e in &mut outcome.events {
        if let Some(m) = maintenance_of.get(&e.event.id) {
            e.event.maintenance_id = Some((*m).clone());
        }
    }
    outcome.maintenances = maintenances;
    Ok(outcome)
}

/// The maintenances of some groups worked out again, beside the stored events they were worked
/// out from.
#[derive(Debug, Default)]
pub struct Reworked {
    /// Each group's stored events.
    pub events: BTreeMap<String, Vec<MaintenanceEvent>>,
    /// Each group's maintenances, as saved.
    pub maintenances: BTreeMap<String, Vec<Maintenance>>,
}

/// Works out again the maintenances of `groups` from their stored events, and saves them.
pub async fn rework_groups<S: EventStore>(
    store: &S,
    groups: &[String],
) -> Result<Reworked, StoreError> {
    let events = store.group_events(groups).await?;
    let maintenances = events
        .iter()
        .map(|(group, group_events)| (group.clone(), lifecycle::assemble(group_events)))
        .collect();
    store.save_maintenances(&maintenances).await?;
    Ok(Reworked {
        events,
        maintenances,
    })
}

/// What [`rework_in_one_pass`] hands each group to: the group, its maintenances and the stored
/// events they were worked out from.
pub type KeepGroup<'a> = dyn FnMut(&str, &[Maintenance], &[MaintenanceEvent]) + 'a;

/// Works out again the maintenances of `groups` in the store's one pass over them
/// ([`EventStore::rework_in_one_pass`]), which saves them, and hands `keep` each group's
/// maintenances beside the stored events they were worked out from. `false` when the store has
/// no such pass: then [`rework_groups`] does the same a few groups at a time.
pub fn rework_in_one_pass<S: EventStore>(
    store: &S,
    groups: &BTreeSet<String>,
    keep: &mut KeepGroup<'_>,
) -> Result<bool, StoreError> {
    store.rework_in_one_pass(groups, &mut |group, events| {
        let maintenances = lifecycle::assemble(events);
        keep(group, &maintenances, events);
        maintenances
    })
}

/// The first step of [`ingest`]: stores `events` once, and says which lifecycle groups gained or
/// changed an event, without working out their maintenances again (the events reported carry
/// the maintenance they were stored with, if any). An import of many runs reworks each group
/// once, at its end, with [`rework_groups`].
pub async fn store_events<S: EventStore>(
    store: &S,
    mut events: Vec<MaintenanceEvent>,
    policy: &AlertPolicy,
) -> Result<(IngestOutcome, BTreeSet<String>), StoreError> {
    for e in &mut events {
        // A canary never pages, whatever the policy says of its kind.
        e.actionable = !crate::alerting::canary::is_canary(e) && policy.is_actionable(&e.kind);
    }
    let candidates = store.candidates(&events).await?;

    // Within one input, a notice and a text of the same occurrence are one event too. Most inputs
    // hold only one of the two shapes, and then there is nothing to match.
    let has_notices = events.iter().any(correlate::is_notice);
    let has_texts = events.iter().any(correlate::is_text);
    let match_within = has_notices && has_texts;

    let (writes, resolved) = plan_writes(events, candidates, match_within);
    let outcomes = store.write(&writes).await?;

    // The groups that gained or changed an event.
    let groups: BTreeSet<String> = writes
        .iter()
        .zip(&outcomes)
        .filter(|(_, o)| **o != WriteOutcome::AlreadyStored)
        .filter_map(|(w, _)| written_event(w).group_key())
        .collect();

    let report = report_in_input_order(store, writes, &outcomes, resolved).await?;
    let outcome = IngestOutcome {
        events: report,
        maintenances: BTreeMap::new(),
    };
    Ok((outcome, groups))
}

/// The writes `events` need, given what the store holds near each (`candidates`), and where
/// each input event ends up. With `match_within`, a notice and a text of the same occurrence in
/// this input become one write.
fn plan_writes(
    events: Vec<MaintenanceEvent>,
    candidates: Vec<Candidates>,
    match_within: bool,
) -> (Vec<EventWrite>, Vec<Resolved>) {
    let mut writes: Vec<EventWrite> = Vec::new();
    // An id (or an alias merged into one) -> its write.
    let mut pending: HashMap<EventId, usize> = HashMap::new();
    let mut pending_by_source: HashMap<(String, String), Vec<usize>> = HashMap::new();
    let mut resolved: Vec<Resolved> = Vec::with_capacity(events.len());
    for (incoming, found) in events.into_iter().zip(candidates) {
        if let Some(&w) = pending.get(&incoming.id) {
            resolved.push(Resolved::Written {
                write: w,
                new: false,
            });
            continue;
        }
        let correlatable =
            match_within && (correlate::is_notice(&incoming) || correlate::is_text(&incoming));
        if found.same.is_none() && correlatable {
            let key = (incoming.source_id.to_string(), incoming.kind.to_string());
            let earlier = pending_by_source
                .get(&key)
                .into_iter()
                .flatten()
                .copied()
                .find(|&w| correlate::same_occurrence(written_event(&writes[w]), &incoming));
            match earlier {
                Some(w) => {
                    let merged = correlate::merge(written_event(&writes[w]), &incoming);
                    match &mut writes[w] {
                        EventWrite::Insert(e) | EventWrite::Merge { merged: e, .. } => *e = merged,
                    }
                    pending.insert(incoming.id.clone(), w);
                    resolved.push(Resolved::Written {
                        write: w,
                        new: false,
                    });
                    continue;
                }
                None => pending_by_source.entry(key).or_default().push(writes.len()),
            }
        }
        match correlate::decide(&incoming, found.same.as_ref(), &found.near) {
            Disposition::Duplicate(stored) => resolved.push(Resolved::Stored(Box::new(stored))),
            Disposition::Merge(merged) => {
                pending.insert(incoming.id.clone(), writes.len());
                pending.insert(merged.id.clone(), writes.len());
                resolved.push(Resolved::Written {
                    write: writes.len(),
                    new: false,
                });
                writes.push(EventWrite::Merge {
                    merged,
                    alias: incoming.id,
                });
            }
            Disposition::New => {
                pending.insert(incoming.id.clone(), writes.len());
                resolved.push(Resolved::Written {
                    write: writes.len(),
                    new: true,
                });
                writes.push(EventWrite::Insert(incoming));
            }
        }
    }

    (writes, resolved)
}

/// Each input event as stored, in input order. A write another writer beat us to is reported as
/// the store has it.
async fn report_in_input_order<S: EventStore>(
    store: &S,
    writes: Vec<EventWrite>,
    outcomes: &[WriteOutcome],
    resolved: Vec<Resolved>,
) -> Result<Vec<IngestedEvent>, StoreError> {
    let mut written: Vec<Option<MaintenanceEvent>> = Vec::with_capacity(writes.len());
    let mut lost: Vec<bool> = Vec::with_capacity(writes.len());
    for (w, outcome) in writes.into_iter().zip(outcomes) {
        lost.push(*outcome == WriteOutcome::AlreadyStored);
        written.push(Some(match w {
            EventWrite::Insert(e) | EventWrite::Merge { merged: e, .. } => e,
        }));
    }
    let mut reported_at: HashMap<usize, usize> = HashMap::new();
    let mut report: Vec<IngestedEvent> = Vec::with_capacity(resolved.len());
    for entry in resolved {
        let (event, new) = match entry {
            Resolved::Stored(e) => (*e, false),
            Resolved::Written { write, .. } if lost[write] => {
                let id = written[write].as_ref().map(|e| e.id.clone());
                let stored = match id {
                    Some(id) => store.event(&id).await?,
                    None => report.get(reported_at[&write]).map(|r| r.event.clone()),
                };
                let Some(stored) = stored else {
                    return Err(StoreError::Corrupt {
                        what: "event",
                        detail: "an event reported stored by another writer cannot be read".into(),
                    });
                };
                (stored, false)
            }
            Resolved::Written { write, new } => match written[write].take() {
                Some(e) => {
                    reported_at.insert(write, report.len());
                    (e, new)
                }
                None => (report[reported_at[&write]].event.clone(), false),
            },
        };
        report.push(IngestedEvent { event, new });
    }
    Ok(report)
}

/// Where an input event ended up.
enum Resolved {
    /// Already stored: the store's copy.
    Stored(Box<MaintenanceEvent>),
    /// One of this call's writes; `new` when this input event created it.
    Written { write: usize, new: bool },
}

fn written_event(w: &EventWrite) -> &MaintenanceEvent {
    match w {
        EventWrite::Insert(e) | EventWrite::Merge { merged: e, .. } => e,
    }
}

#[cfg(test)]
mod tests;
