//! What a run knows of an event's surroundings: the events of its maintenance as the store has
//! them ([`around_of`]), or as the ingest the run follows has them in hand ([`Known`]), which
//! need not be read again.

use std::collections::{BTreeMap, BTreeSet};

use super::Around;
use crate::alerting::delivery::DeliveryStore;
use crate::history::store::{EventStore, StoreError};
use crate::lifecycle::Maintenance;
use crate::model::event::{EventId, MaintenanceEvent};

pub(super) async fn around_of<S: EventStore>(
    store: &S,
    event: &MaintenanceEvent,
) -> Result<Around, StoreError> {
    let maintenance = match event.category.has_lifecycle() {
        true => store.maintenance(&event.id).await?,
        false => None,
    };
    events_around(store, maintenance, event).await
}

pub(super) async fn events_around<S: EventStore>(
    store: &S,
    maintenance: Option<Maintenance>,
    event: &MaintenanceEvent,
) -> Result<Around, StoreError> {
    let mut events = Vec::new();
    match &maintenance {
        Some(m) => {
            for id in &m.event_ids {
                if let Some(e) = store.event(id).await? {
                    events.push(e);
                }
            }
        }
        None => events.push(event.clone()),
    }
    Ok(Around {
        maintenance,
        events,
    })
}

/// What an ingest knows already when it records the alerts of its new events: the maintenances
/// it has just saved and the events it has just stored, which need not be read again.
#[derive(Debug, Default)]
pub struct Known<'a> {
    maintenance_of: BTreeMap<&'a EventId, &'a Maintenance>,
    events: BTreeMap<&'a EventId, &'a MaintenanceEvent>,
    new: BTreeSet<&'a EventId>,
}

impl<'a> Known<'a> {
    /// What `outcome` stored and worked out.
    pub fn of(outcome: &'a crate::intake::pipeline::IngestOutcome) -> Self {
        let mut known = Known::default();
        for m in outcome.maintenances.values().flatten() {
            for id in &m.event_ids {
                known.maintenance_of.insert(id, m);
            }
        }
        for e in &outcome.events {
            known.events.insert(&e.event.id, &e.event);
            if e.new {
                known.new.insert(&e.event.id);
            }
        }
        known
    }

    /// `event`'s maintenance: as just saved, else as stored.
    pub(super) async fn maintenance<S: EventStore>(
        &self,
        store: &S,
        event: &MaintenanceEvent,
    ) -> Result<Option<Maintenance>, StoreError> {
        match self.maintenance_of.get(&event.id) {
            Some(m) => Ok(Some((*m).clone())),
            None => store.maintenance(&event.id).await,
        }
    }

    /// The events of `maintenance` (or `event` alone): as just stored, else as stored.
    pub(super) async fn around<S: EventStore>(
        &self,
        store: &S,
        maintenance: Option<Maintenance>,
        event: &MaintenanceEvent,
    ) -> Result<Around, StoreError> {
        let Some(m) = &maintenance else {
            return events_around(store, maintenance, event).await;
        };
        let mut events = Vec::with_capacity(m.event_ids.len());
        for id in &m.event_ids {
            match self.events.get(id) {
                Some(e) => events.push((*e).clone()),
                None => events.extend(store.event(id).await?),
            }
        }
        Ok(Around {
            maintenance,
            events,
        })
    }

    /// The event `id`: as just stored, else as stored.
    pub(super) async fn event<S: EventStore>(
        &self,
        store: &S,
        id: &EventId,
    ) -> Result<Option<MaintenanceEvent>, StoreError> {
        match self.events.get(id) {
            Some(e) => Ok(Some((*e).clone())),
            None => store.event(id).await,
        }
    }

    /// [`around_of`], taking what is known.
    pub(super) async fn around_of<S: EventStore>(
        &self,
        store: &S,
        event: &MaintenanceEvent,
    ) -> Result<Around, StoreError> {
        let maintenance = match event.category.has_lifecycle() {
            true => self.maintenance(store, event).await?,
            false => None,
        };
        self.around(store, maintenance, event).await
    }

    /// The event `id` this ingest has just created, and its maintenance as just saved, when all
    /// of the maintenance's events (or the lone event) are such events.
    pub(super) fn all_new_around(
        &self,
        id: &EventId,
    ) -> Option<(MaintenanceEvent, Option<Maintenance>)> {
        let event = (*self.events.get(id)?).clone();
        let maintenance = self.maintenance_of.get(id).map(|m| (*m).clone());
        if event.category.has_lifecycle() && maintenance.is_none() {
            return None;
        }
        let ids = maintenance
            .as_ref()
            .map_or_else(|| vec![event.id.clone()], |m| m.event_ids.clone());
        self.all_new(&ids).then_some((event, maintenance))
    }

    /// Whether every one of `ids` is an event this ingest has just created. Such events have no
    /// delivery but those the ingest records itself, and, while those are still due, no message,
    /// thread or acknowledgement: nothing is read for them.
    pub(super) fn all_new(&self, ids: &[EventId]) -> bool {
        !ids.is_empty() && ids.iter().all(|id| self.new.contains(id))
    }

    /// Which of `ids` an alert announced already (none, of events this ingest has just created).
    pub(super) async fn announced<S: DeliveryStore>(
        &self,
        store: &S,
        ids: &[EventId],
    ) -> Result<BTreeSet<EventId>, StoreError> {
        if self.all_new(ids) {
            return Ok(BTreeSet::new());
        }
        Ok(store
            .deliveries(ids)
            .await?
            .into_iter()
            .filter(|d| d.state.announces())
            .map(|d| d.event_id)
            .collect())
    }
}
