//! Finding what a person or a link names: an event or a maintenance, by its id or the start of
//! it, with the maintenance's events; and what people recorded about it.

use crate::{NOT_LOOKED_UP, known_facts};
use cachewatch_core::cluster::kept::FactsStore;
use cachewatch_core::cluster::source::FactsSource;
use cachewatch_core::history::response::{Acknowledgement, Outcome, ResponseStore, StepDone};
use cachewatch_core::history::store::{EventStore, StoreError};
use cachewatch_core::lifecycle::Maintenance;
use cachewatch_core::model::event::{EventId, MaintenanceEvent};
use cachewatch_core::runbook::{Owners, Runbook, RunbookError, RunbookInput, Runbooks};
use chrono::{DateTime, Utc};

/// An event, or a maintenance and its events.
#[derive(Debug, Clone)]
pub struct Subject {
    /// The id as found (a whole id).
    pub id: EventId,
    /// The event a runbook is rendered for: the maintenance's latest event, or the event named.
    pub event: MaintenanceEvent,
    /// The maintenance, when the event belongs to one.
    pub maintenance: Option<Maintenance>,
    /// The maintenance's events in the order they happened (or the event alone).
    pub events: Vec<MaintenanceEvent>,
}

/// What an id typed or linked names.
#[derive(Debug)]
pub enum Found {
    /// The event, with its maintenance and events.
    One(Box<Subject>),
    /// Not an id (4 to 20 hex digits).
    NotAnId,
    /// No event has an id that starts with it.
    Nothing,
    /// These ids (at most 5 shown) start with it.
    Ambiguous(Vec<EventId>),
}

impl Subject {
    /// The ids responses are recorded against: every event of the maintenance.
    pub fn event_ids(&self) -> Vec<EventId> {
        match &self.maintenance {
            Some(m) => m.event_ids.clone(),
            None => vec![self.event.id.clone()],
        }
    }

    /// The id links and buttons use: the maintenance's, else the event's.
    pub fn link_id(&self) -> &EventId {
        self.maintenance.as_ref().map_or(&self.event.id, |m| &m.id)
    }

    /// What it is about, for people: `orders-0001-001 node 0001`.
    pub fn label(&self) -> String {
        match &self.maintenance {
            Some(m) => m.subject_label(),
            None => match &self.event.node_id {
                Some(node) => format!("{} node {node}", self.event.cluster_label()),
                None => self.event.cluster_label().to_owned(),
            },
        }
    }

    /// Its runbook, with what `facts` knows of the cluster: facts read are kept in `store`, and
    /// when a lookup fails the runbook names the facts kept and when they were read.
    pub async fn runbook<S: FactsStore, F: FactsSource>(
        &self,
        store: &S,
        runbooks: &Runbooks,
        facts: &F,
        owners: &Owners,
        now: DateTime<Utc>,
    ) -> Result<Runbook, RunbookError> {
        let known = known_facts(
            store,
            facts,
            &self.event,
            self.maintenance.as_ref(),
            now,
            NOT_LOOKED_UP,
        )
        .await;
        let mut input = RunbookInput::new(&self.event, &known.facts, owners, now);
        match (known.read_at, known.fresh, known.why_not_now.as_deref()) {
            (Some(at), true, _) => input = input.with_facts_read_at(at),
            (Some(at), false, Some(why)) => input = input.with_kept_facts(at, why),
            _ => {}
        }
        if let Some(m) = &self.maintenance {
            input = input.with_maintenance(m, &self.events);
        }
        runbooks.render(&input)
    }

    /// What people recorded about it: who acknowledged first, the steps done, the latest outcome.
    pub async fn responses<S: ResponseStore>(&self, store: &S) -> Result<Responses, StoreError> {
        let ids = self.event_ids();
        let acknowledgements = store.acknowledgements(&ids).await?;
        let steps = store.steps(&ids).await?;
        let outcome = store.outcomes(&ids).await?.into_iter().max_by_key(|o| o.at);
        Ok(Responses {
            acknowledged: cachewatch_core::history::response::first_acknowledgement(
                &acknowledgements,
            )
            .cloned(),
            steps,
            outcome,
        })
    }
}

/// What people recorded about a subject.
#[derive(Debug, Clone)]
pub struct Responses {
    /// The first acknowledgement.
    pub acknowledged: Option<Acknowledgement>,
    /// The steps ticked, in the order they were.
    pub steps: Vec<StepDone>,
    /// The latest outcome recorded.
    pub outcome: Option<Outcome>,
}

/// What an id typed or linked names, before its event is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// Exactly one event: a whole id, or the start of one id only.
    Id(EventId),
    /// Not an id (4 to 20 hex digits).
    NotAnId,
    /// No event has an id that starts with it.
    Nothing,
    /// Several ids start with it: up to six of them, so that a sixth says there are more.
    Ambiguous(Vec<EventId>),
}

/// The event `raw` (a whole id, or the first digits of exactly one) names.
pub async fn resolve<S: EventStore>(store: &S, raw: &str) -> Result<Resolved, StoreError> {
    let Some(prefix) = EventId::parse_prefix(raw) else {
        return Ok(Resolved::NotAnId);
    };
    if let Some(id) = prefix.as_full()
        && store.event(&id).await?.is_some()
    {
        return Ok(Resolved::Id(id));
    }
    let ids = store.resolve(&prefix, 6).await?;
    Ok(match ids.as_slice() {
        [] => Resolved::Nothing,
        [one] => Resolved::Id(one.clone()),
        many => Resolved::Ambiguous(many.to_vec()),
    })
}

/// Finds what `raw` (an id, or the start of one) names, with its maintenance and events.
pub async fn find<S: EventStore>(store: &S, raw: &str) -> Result<Found, StoreError> {
    let id = match resolve(store, raw).await? {
        Resolved::Id(id) => id,
        Resolved::NotAnId => return Ok(Found::NotAnId),
        Resolved::Nothing => return Ok(Found::Nothing),
        Resolved::Ambiguous(ids) => return Ok(Found::Ambiguous(ids.into_iter().take(5).collect())),
    };
    Ok(match subject(store, &id).await? {
        Some(subject) => Found::One(Box::new(subject)),
        None => Found::Nothing,
    })
}

/// The event or maintenance `id` names.
pub async fn subject<S: EventStore>(
    store: &S,
    id: &EventId,
) -> Result<Option<Subject>, StoreError> {
    let Some(named) = store.event(id).await? else {
        return Ok(None);
    };
    let maintenance = match named.category.has_lifecycle() {
        true => store.maintenance(&named.id).await?,
        false => None,
    };
    let mut events = Vec::new();
    for member in maintenance.iter().flat_map(|m| m.event_ids.iter()) {
        events.extend(store.event(member).await?);
    }
    if events.is_empty() {
        events.push(named.clone());
    }
    // A maintenance's runbook follows its latest event; an event asked for by id is that event.
    let event = match &maintenance {
        Some(m) if m.id == named.id => events.last().cloned().unwrap_or(named),
        _ => named,
    };
    Ok(Some(Subject {
        id: id.clone(),
        event,
        maintenance,
        events,
    }))
}
