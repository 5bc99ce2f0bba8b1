//! Drills measured: each run of a drill (its events, wherever they came from) with what people
//! recorded about it (alerts, acknowledgements, steps, outcomes), as one [`DrillReport`]. A drill
//! is started through [`crate::ingest`] (door [`crate::Door::Drill`]).

use std::collections::BTreeSet;

use cachewatch_core::MaintenanceEvent;
use cachewatch_core::history::query::{EventQuery, MAX_LIMIT};
use cachewatch_core::history::store::{EventStore, StoreError};
use cachewatch_core::operations::drill::DRILL_ID;
use cachewatch_core::operations::drill::report::{DrillReport, Recorded, report, run_of, runs};
use chrono::Duration;

use crate::Store;
use crate::lookup::{self, Resolved};

/// Why a drill's report cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum DrillError {
    /// The id names a real event.
    #[error("{id} is not a drill's: it is a real event of {cluster}")]
    NotADrill {
        /// The id given.
        id: String,
        /// The event's cluster.
        cluster: String,
    },
    /// No drill has that id.
    #[error("no drill has the id {0:?}")]
    NoSuchDrill(String),
    /// Neither a drill id nor an event id: what the id resolved to instead.
    #[error("{0:?} names no drill and no single event")]
    NotAnId(String, Resolved),
    /// The run has no events left.
    #[error("drill {0} has no events")]
    NoEvents(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The report of the drill run `raw` names: a drill id, or any id of one of its events.
pub async fn drill_report<S: Store>(store: &S, raw: &str) -> Result<DrillReport, DrillError> {
    let (run, events) = run_events(store, raw).await?;
    measure(store, &run, events)
        .await?
        .ok_or(DrillError::NoEvents(run))
}

/// The report of every drill run, the latest raised first.
pub async fn drill_reports<S: Store>(store: &S) -> Result<Vec<DrillReport>, StoreError> {
    let mut reports = Vec::new();
    for (run, events) in runs(&drill_events(store).await?) {
        reports.extend(measure(store, &run, events).await?);
    }
    reports.sort_by(|a, b| (b.raised_at, &b.drill_id).cmp(&(a.raised_at, &a.drill_id)));
    Ok(reports)
}

/// Every drill event in the history, newest first: the history is read page by page, since
/// drills are a small part of it and searches have a size limit.
async fn drill_events<S: EventStore>(store: &S) -> Result<Vec<MaintenanceEvent>, StoreError> {
    let mut seen: BTreeSet<cachewatch_core::EventId> = BTreeSet::new();
    let mut drills = Vec::new();
    let mut until = None;
    loop {
        let page = store
            .search(&EventQuery {
                until,
                limit: MAX_LIMIT,
                include_drills: true,
                ..EventQuery::default()
            })
            .await?;
        let full = page.len() == MAX_LIMIT;
        let Some(oldest) = page.last().map(|e| e.occurred_at) else {
            break;
        };
        let mut fresh = 0;
        for e in page {
            if seen.insert(e.id.clone()) {
                fresh += 1;
                if e.drill {
                    drills.push(e);
                }
            }
        }
        if !full || fresh == 0 {
            break;
        }
        // Events of the oldest second may continue on the next page: read it again.
        until = Some(oldest + Duration::seconds(1));
    }
    Ok(drills)
}

/// The events of the drill run `raw` names: a drill id, or any id of one of its events.
async fn run_events<S: EventStore>(
    store: &S,
    raw: &str,
) -> Result<(String, Vec<MaintenanceEvent>), DrillError> {
    let trimmed = raw.trim();
    let resolved = lookup::resolve(store, trimmed).await?;
    if let Resolved::Id(id) = &resolved
        && let Some(event) = store.event(id).await?
    {
        let Some(run) = run_of(&event) else {
            return Err(DrillError::NotADrill {
                id: trimmed.to_owned(),
                cluster: event.cluster_label().to_owned(),
            });
        };
        // A run's events share its lifecycle group.
        if let Some(key) = event.group_key() {
            let mut groups = store.group_events(&[key]).await?;
            let events: Vec<MaintenanceEvent> = groups
                .pop_first()
                .map(|(_, events)| events)
                .unwrap_or_default()
                .into_iter()
                .filter(|e| run_of(e).as_deref() == Some(run.as_str()))
                .collect();
            if !events.is_empty() {
                return Ok((run, events));
            }
        }
        return Ok((run, vec![event]));
    }
    // Another door's drill id (not an event id): look for it among the drills.
    let events: Vec<MaintenanceEvent> = drill_events(store)
        .await?
        .into_iter()
        .filter(|e| e.attributes.get(DRILL_ID).map(String::as_str) == Some(trimmed))
        .collect();
    match (events.is_empty(), resolved) {
        (false, _) => Ok((trimmed.to_owned(), events)),
        // An event's id, of no drill.
        (true, Resolved::Id(_)) => Err(DrillError::NoSuchDrill(trimmed.to_owned())),
        // Not a drill id either: why it is no event id says more (ambiguous, not hex...).
        (true, why) => Err(DrillError::NotAnId(trimmed.to_owned(), why)),
    }
}

/// Measures one run from what its events' stores recorded.
async fn measure<S: Store>(
    store: &S,
    drill_id: &str,
    mut events: Vec<MaintenanceEvent>,
) -> Result<Option<DrillReport>, StoreError> {
    // Responses may be recorded against any event of the run's maintenances.
    let mut ids: BTreeSet<cachewatch_core::EventId> = events.iter().map(|e| e.id.clone()).collect();
    let maintenance_ids: BTreeSet<_> = events
        .iter()
        .filter_map(|e| e.maintenance_id.clone())
        .collect();
    for m in maintenance_ids {
        if let Some(m) = store.maintenance(&m).await? {
            for id in m.event_ids {
                if ids.insert(id.clone())
                    && let Some(e) = store.event(&id).await?
                {
                    events.push(e);
                }
            }
        }
    }
    let ids: Vec<_> = ids.into_iter().collect();
    // The drill's Slack alerts; the outputs' deliveries of the same events are not counted again.
    let alerts: Vec<_> = store
        .deliveries(&ids)
        .await?
        .into_iter()
        .filter(|d| !cachewatch_core::alerting::outbound::is_output_channel(&d.channel))
        .collect();
    let acknowledgements = store.acknowledgements(&ids).await?;
    let steps = store.steps(&ids).await?;
    let outcomes = store.outcomes(&ids).await?;
    Ok(report(
        drill_id,
        Recorded {
            events: &events,
            alerts: &alerts,
            acknowledgements: &acknowledgements,
            steps: &steps,
            outcomes: &outcomes,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::tests::{SNS_EVENT, World};
    use crate::{Door, Input};

    #[tokio::test]
    async fn a_real_events_id_or_no_id_at_all_is_no_drill() {
        let world = World::new();
        let done = world
            .ingest(Door::Sns, Input::Document(SNS_EVENT), false)
            .await
            .unwrap();
        let real = done.outcome.events[0].event.id.to_string();

        let of_real = drill_report(&world.store, &real).await.unwrap_err();
        let of_nothing = drill_report(&world.store, "not-an-id").await.unwrap_err();

        assert!(
            matches!(&of_real, DrillError::NotADrill { id, .. } if *id == real),
            "{of_real:?}"
        );
        assert!(
            matches!(of_nothing, DrillError::NotAnId(_, Resolved::NotAnId)),
            "{of_nothing:?}"
        );
        assert!(drill_reports(&world.store).await.unwrap().is_empty());
    }
}
