//! Finding what a person or a link names: an event or a maintenance, by its id or the start of
//! it, with the maintenance's events; and what people recorded about it.

use crate::{NOT_LOOKED_UP, known_facts};
use cachewatch_core::cluster::facts::ClusterFacts;
use cachewatch_core::cluster::kept::{FactsStore, Rehearsal, last_rehearsal};
use cachewatch_core::cluster::source::FactsSource;
use cachewatch_core::history::query::EventQuery;
use cachewatch_core::history::response::{Acknowledgement, Outcome, ResponseStore, StepDone};
use cachewatch_core::history::store::{EventStore, StoreError};
use cachewatch_core::lifecycle::Maintenance;
use cachewatch_core::model::event::{EventId, MaintenanceEvent};
use cachewatch_core::operations::drill::DrillFacts;
use cachewatch_core::runbook::{Owners, Runbook, RunbookError, RunbookInput, Runbooks};
use chrono::{DateTime, Utc};

/// Where a runbook's facts come from: `source`, and, when it looks nothing up, why not (said
/// beside the facts kept from an earlier lookup).
#[derive(Debug)]
pub struct FactsFrom<'a, F> {
    /// The source.
    pub source: &'a F,
    /// Why the facts are not read now, when `source` cannot read them.
    pub why_not: &'a str,
}

impl<F> Clone for FactsFrom<'_, F> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<F> Copy for FactsFrom<'_, F> {}

impl<'a, F> FactsFrom<'a, F> {
    /// The facts `source` gives, with no more to say when it reads none.
    pub fn source(source: &'a F) -> Self {
        Self {
            source,
            why_not: NOT_LOOKED_UP,
        }
    }
}

/// Why a runbook cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum RunbookFailure {
    /// The history could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The template does not render.
    #[error(transparent)]
    Render(#[from] RunbookError),
}

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

    /// Its runbook, the one every door shows: with what `facts` knows of the cluster (facts read
    /// are kept in `store`; when a lookup fails, or `facts.why_not` says none was made, the
    /// runbook names the facts kept and when they were read), the team's latest measured
    /// rehearsal of the cluster, and, for a drill, the facts its scenario takes for granted (as
    /// its alert did).
    pub async fn runbook<S, F>(
        &self,
        store: &S,
        runbooks: &Runbooks,
        facts: FactsFrom<'_, F>,
        owners: &Owners,
        now: DateTime<Utc>,
    ) -> Result<Runbook, RunbookFailure>
    where
        S: EventStore + FactsStore + ResponseStore,
        F: FactsSource,
    {
        let maintenance = self.maintenance.as_ref();
        // A drill's facts are never kept nor read back: its scenario says what they are.
        let known = match self.event.drill {
            true => None,
            false => Some(
                known_facts(
                    store,
                    facts.source,
                    &self.event,
                    maintenance,
                    now,
                    facts.why_not,
                )
                .await,
            ),
        };
        let cluster_facts = match &known {
            Some(known) => known.facts.clone(),
            None => {
                DrillFacts {
                    source: facts.source,
                }
                .facts_for(&self.event, maintenance)
                .await
            }
        };
        let rehearsal = match self.event.drill {
            true => None,
            false => rehearsal_of(store, &self.event, &cluster_facts).await?,
        };
        let mut input = RunbookInput::new(&self.event, &cluster_facts, owners, now);
        match known
            .as_ref()
            .map(|k| (k.read_at, k.fresh, k.why_not_now.as_deref()))
        {
            Some((Some(at), true, _)) => input = input.with_facts_read_at(at),
            Some((Some(at), false, Some(why))) => input = input.with_kept_facts(at, why),
            _ => {}
        }
        if let Some(rehearsal) = &rehearsal {
            input = input.with_rehearsal(rehearsal);
        }
        if let Some(m) = maintenance {
            input = input.with_maintenance(m, &self.events);
        }
        Ok(runbooks.render(&input)?)
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

/// How many of a cluster's latest events are read for its rehearsals.
const REHEARSALS_READ: usize = 500;

/// The team's latest measured rehearsal of the event's replication group (or cluster).
async fn rehearsal_of<S: EventStore + ResponseStore>(
    store: &S,
    event: &MaintenanceEvent,
    facts: &ClusterFacts,
) -> Result<Option<Rehearsal>, StoreError> {
    let subject = facts
        .replication_group_id
        .clone()
        .or_else(|| event.replication_group_id.as_ref().map(ToString::to_string))
        .unwrap_or_else(|| event.source_id.to_string());
    let query = EventQuery {
        cluster: Some(subject),
        include_drills: true,
        limit: REHEARSALS_READ,
        ..EventQuery::default()
    };
    let drills: Vec<MaintenanceEvent> = store
        .search(&query)
        .await?
        .into_iter()
        .filter(|e| e.drill)
        .collect();
    if drills.is_empty() {
        return Ok(None);
    }
    let ids: Vec<EventId> = drills.iter().map(|e| e.id.clone()).collect();
    let outcomes = store.outcomes(&ids).await?;
    Ok(last_rehearsal(&drills, &outcomes))
}

#[cfg(test)]
mod tests;
