//! The steps of a run of [`super::notify`]: what an interrupted ingest did not record
//! (reconcile), then channel by channel under its lease, then the parents of threads an ingest
//! changed without a new alert, then the outputs beyond Slack.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Duration;

use super::{DUE_PER_RUN, NotifyError, NotifyReport, RECONCILE_FOR, Run, Stop, known, record};
use crate::alerting::delivery::{ChatSink, sent_channels};
use crate::alerting::outbound::{self, is_output_channel};
use crate::cluster::source::FactsSource;
use crate::history::History;
use crate::history::query::{EventQuery, MAX_LIMIT};
use crate::lifecycle::{self, Maintenance};
use crate::model::event::{EventId, MaintenanceEvent};

impl<S: History, C: ChatSink, F: FactsSource> Run<'_, S, C, F> {
    /// The steps of [`super::notify`]; with `only`, in those channels alone and without step 1 (the
    /// ingest of one notification: see [`super::Reconcile::Skip`]).
    pub(super) async fn all(
        mut self,
        refresh: &[String],
        only: Option<BTreeSet<String>>,
    ) -> Result<NotifyReport, NotifyError> {
        let (store, sink, settings, now) = (self.store, self.sink, self.settings, self.now);
        let run = &mut self;
        // 1. What an interrupted ingest did not record.
        if only.is_none() {
            run.report.reconciled = run.reconcile().await?;
            // Every channel's due alerts are read and sent: none is claimed on its own.
            run.recorded.clear();
        }
        // 2. What is due: first only to learn which channels have work.
        let due_by = if settings.ignore_backoff {
            now + Duration::days(365)
        } else {
            now
        };
        let channels: BTreeSet<String> = match only {
            Some(channels) => channels,
            None => store
                .due_deliveries(due_by, DUE_PER_RUN)
                .await?
                .into_iter()
                .map(|d| d.channel)
                .filter(|c| !is_output_channel(c))
                .collect(),
        };
        // Groups an ingest changed without a new alert: their threads' parents are refreshed.
        let mut refresh_only: BTreeMap<String, Vec<Maintenance>> = BTreeMap::new();
        for group in store.group_events(refresh).await? {
            refresh_only.insert(group.0, lifecycle::assemble(&group.1));
        }

        // 3. Channel by channel, under its lease.
        for channel in channels {
            run.channel_under_lease(channel, due_by).await?;
        }
        if sink.threads() {
            for m in refresh_only.into_values().flatten() {
                run.refresh_thread_parents(&m).await?;
            }
        }
        // 4. The outputs beyond Slack, each on its own: one that is down holds up neither Slack
        // nor the others.
        outbound::send_outputs(store, sink, &settings.holder, due_by, now, &mut run.report).await?;
        Ok(self.report)
    }

    /// Records the alerts of recent actionable events that an interrupted ingest did not
    /// record. Returns how many.
    async fn reconcile(&self) -> Result<usize, NotifyError> {
        let (store, now) = (self.store, self.now);
        let recent = store
            .search(&EventQuery {
                since: Some(now - RECONCILE_FOR),
                actionable_only: true,
                include_drills: true,
                limit: MAX_LIMIT,
                ..EventQuery::default()
            })
            .await?;
        if recent.is_empty() {
            return Ok(0);
        }
        let ids: Vec<EventId> = recent.iter().map(|e| e.id.clone()).collect();
        let have: BTreeSet<EventId> = outbound::chat_delivered(&store.deliveries(&ids).await?);
        // A lifecycle event without its maintenance yet is being ingested right now: its ingest
        // records its alert.
        let missing: Vec<MaintenanceEvent> = recent
            .into_iter()
            .filter(|e| !have.contains(&e.id))
            .filter(|e| !e.category.has_lifecycle() || e.maintenance_id.is_some())
            .collect();
        let known = super::Known::default();
        let recorder = record::Recorder {
            store,
            facts: self.facts,
            known: &known,
            config: self.config,
            channel: self.settings.channel.as_deref(),
            now,
        };
        Ok(record::record_alerts_knowing(recorder, &missing)
            .await?
            .len())
    }

    /// Brings the parents of `m`'s threads up to date, in every channel its alerts went to.
    async fn refresh_thread_parents(&mut self, m: &Maintenance) -> Result<(), NotifyError> {
        let store = self.store;
        for channel in sent_channels(store, &m.event_ids).await? {
            // The thread is where the maintenance's first alert went.
            let Some(mut thread) = store
                .threads(&channel, &m.event_ids)
                .await?
                .into_iter()
                .min_by_key(|t| {
                    m.event_ids
                        .iter()
                        .position(|id| *id == t.anchor)
                        .unwrap_or(usize::MAX)
                })
                .filter(|t| !t.message_ts.is_empty())
            else {
                continue;
            };
            let Some(anchor) = store.event(&thread.anchor).await? else {
                continue;
            };
            let around = known::events_around(store, Some(m.clone()), &anchor).await?;
            // A chat that is down or refuses leaves the old state shown; the next run tries again.
            if let Err(Stop::Store(e)) = self.refresh(&around, &mut thread).await {
                return Err(e.into());
            }
        }
        Ok(())
    }
}
