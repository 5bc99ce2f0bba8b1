//! What is due in a channel, by maintenance (a lone event is one), urgent alerts first: read
//! from the outbox ([`due_in`]), with the alert a run's claim took ([`with_own`]).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::{DUE_PER_RUN, Known, Work};
use crate::alerting::delivery::DeliveryState;
use crate::history::History;
use crate::history::store::StoreError;
use crate::model::event::EventId;

/// `due` with the claimed `own` works: an own delivery read as due too (sent at once by a person's
/// run that ignores backoff) is taken once, and a maintenance is one work.
pub(super) fn with_own(due: Vec<Work>, own: Vec<Work>) -> Vec<Work> {
    let key = |w: &Work| {
        w.around
            .maintenance
            .as_ref()
            .map_or_else(|| w.due[0].0.id.clone(), |m| m.id.clone())
    };
    let ids: BTreeSet<EventId> = own
        .iter()
        .flat_map(|w| w.due.iter().map(|(e, _)| e.id.clone()))
        .collect();
    let mut works: Vec<Work> = due
        .into_iter()
        .map(|mut w| {
            w.due.retain(|(e, _)| !ids.contains(&e.id));
            w
        })
        .filter(|w| !w.due.is_empty())
        .collect();
    for w in own {
        match works.iter_mut().find(|d| key(d) == key(&w)) {
            Some(d) => d.due.extend(w.due),
            None => works.push(w),
        }
    }
    for w in &mut works {
        w.due
            .sort_by(|a, b| (a.0.occurred_at, &a.0.id).cmp(&(b.0.occurred_at, &b.0.id)));
    }
    sort_works(&mut works);
    works
}

/// Urgent alerts first, whatever was pending before them; then in the order they happened.
fn sort_works(works: &mut [Work]) {
    works.sort_by(|a, b| {
        (!a.urgent(), a.due[0].0.occurred_at, &a.due[0].0.id).cmp(&(
            !b.urgent(),
            b.due[0].0.occurred_at,
            &b.due[0].0.id,
        ))
    });
}

/// Which of the due deliveries [`due_in`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reading {
    /// `pending` and `sending`: a run that settles what it finds.
    All,
    /// `pending` alone (with the `sending` ones of the maintenances it reads): beside an alert
    /// claimed by an ingest, a send whose answer was lost in another maintenance is left to the
    /// scheduled run, which reads [`Reading::All`].
    Pending,
}

/// What is due in `channel`, by maintenance, in the order it happened. A lifecycle event whose
/// maintenance is not saved yet is being ingested right now: it is left for the next run.
pub(super) async fn due_in<S: History>(
    store: &S,
    known: &Known<'_>,
    channel: &str,
    due_by: DateTime<Utc>,
    reading: Reading,
    now: DateTime<Utc>,
) -> Result<Vec<Work>, StoreError> {
    let mut by_key: BTreeMap<EventId, Work> = BTreeMap::new();
    let due = match reading {
        Reading::All => store.due_deliveries(due_by, DUE_PER_RUN).await?,
        Reading::Pending => store.pending_deliveries(due_by, DUE_PER_RUN).await?,
    };
    for delivery in due {
        if delivery.channel != channel {
            continue;
        }
        let Some(event) = known.event(store, &delivery.event_id).await? else {
            let mut d = delivery;
            d.state = DeliveryState::Failed;
            d.reason = Some("the event is no longer stored".into());
            d.updated_at = now;
            store.save_delivery(&d).await?;
            continue;
        };
        let around = known.around_of(store, &event).await?;
        if event.category.has_lifecycle() && around.maintenance.is_none() {
            continue;
        }
        let key = around
            .maintenance
            .as_ref()
            .map_or_else(|| event.id.clone(), |m| m.id.clone());
        by_key
            .entry(key)
            .or_insert_with(|| Work {
                around,
                due: Vec::new(),
            })
            .due
            .push((event, delivery));
    }
    let mut works: Vec<Work> = by_key.into_values().collect();
    for w in &mut works {
        // A send of this maintenance whose answer was lost is settled now, even if its next try
        // is later: it may be the maintenance's thread, and a new one must not be started beside it.
        let due_ids: BTreeSet<EventId> = w.due.iter().map(|(e, _)| e.id.clone()).collect();
        for d in store.deliveries(&w.ids()).await? {
            if d.state == DeliveryState::Sending
                && d.channel == channel
                && !due_ids.contains(&d.event_id)
                && let Some(e) = w.around.events.iter().find(|e| e.id == d.event_id).cloned()
            {
                w.due.push((e, d));
            }
        }
        w.due
            .sort_by(|a, b| (a.0.occurred_at, &a.0.id).cmp(&(b.0.occurred_at, &b.0.id)));
    }
    sort_works(&mut works);
    Ok(works)
}
