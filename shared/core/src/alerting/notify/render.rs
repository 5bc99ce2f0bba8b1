//! A message's rendering: an event in its surroundings, with what is known of its cluster, the
//! maintenance it repeats, its runbook link and who acknowledged it; and the fingerprint of what
//! a maintenance's message shows, to tell when its parent needs updating.

use sha2::{Digest, Sha256};

use super::{Around, Run};
use crate::alerting::delivery::ChatSink;
use crate::alerting::slack::{self, AlertContext, SlackMessage};
use crate::cluster::facts::ClusterFacts;
use crate::cluster::source::FactsSource;
use crate::history::History;
use crate::history::response::first_acknowledgement;
use crate::history::store::StoreError;
use crate::lifecycle::Maintenance;
use crate::links;
use crate::model::event::{EventId, MaintenanceEvent};
use crate::runbook::Owners;

/// What a maintenance's message shows, as far as it changes: its state, windows, failovers and
/// events, and what is known of its cluster. Not the rendered text, which also says how far away
/// the deadline is and would change at every run.
pub(super) fn fingerprint(around: &Around, facts: &ClusterFacts) -> String {
    let mut hasher = Sha256::new();
    match &around.maintenance {
        Some(m) => {
            hasher.update(m.state.as_str().as_bytes());
            hasher.update(
                serde_json::to_string(&(
                    &m.window,
                    &m.previous_windows,
                    &m.failovers,
                    &m.repeat_of,
                ))
                .unwrap_or_default(),
            );
            for id in &m.event_ids {
                hasher.update(id.as_str().as_bytes());
            }
        }
        None => {
            for e in &around.events {
                hasher.update(e.id.as_str().as_bytes());
            }
        }
    }
    hasher.update(serde_json::to_string(facts).unwrap_or_default());
    hasher
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl<S: History, C: ChatSink, F: FactsSource> Run<'_, S, C, F> {
    pub(super) async fn context_parts(
        &self,
        event: &MaintenanceEvent,
        around: &Around,
    ) -> Result<(ClusterFacts, Option<Maintenance>), StoreError> {
        let facts = self
            .facts
            .facts_for(event, around.maintenance.as_ref())
            .await;
        let previous = match around
            .maintenance
            .as_ref()
            .and_then(|m| m.repeat_of.as_ref())
        {
            Some(id) => self.store.maintenance(id).await?,
            None => None,
        };
        Ok((facts, previous))
    }

    pub(super) fn runbook_url(&self, around: &Around, event: &MaintenanceEvent) -> Option<String> {
        let base = self.settings.base_url.as_deref()?;
        let id = around.maintenance.as_ref().map_or(&event.id, |m| &m.id);
        Some(links::link(
            Some(base),
            &format!("/runbooks/{id}"),
            self.settings.links.as_ref(),
            self.now,
        ))
    }

    /// Renders one message about `event` in its surroundings.
    pub(super) async fn render(
        &self,
        event: &MaintenanceEvent,
        around: &Around,
        how: fn(&AlertContext<'_>) -> SlackMessage,
    ) -> Result<SlackMessage, StoreError> {
        let acknowledged = self.acknowledged(event, around).await;
        self.render_acknowledged(event, around, how, acknowledged)
            .await
    }

    /// Who acknowledged the maintenance first (on any of its events), so that a refreshed parent
    /// or a reply keeps saying so. When acknowledgements cannot be read, the message goes without:
    /// an alert is worth more than the line.
    async fn acknowledged(
        &self,
        event: &MaintenanceEvent,
        around: &Around,
    ) -> Option<slack::Acknowledgement> {
        let mut ids: Vec<EventId> = around.events.iter().map(|e| e.id.clone()).collect();
        if !ids.contains(&event.id) {
            ids.push(event.id.clone());
        }
        // Nobody has acknowledged what this ingest has just created: no message showed it yet.
        if self.known.all_new(&ids) {
            return None;
        }
        let acks = self.store.acknowledgements(&ids).await.ok()?;
        first_acknowledgement(&acks).map(|ack| slack::Acknowledgement {
            by: ack.by.clone(),
            at: ack.at,
        })
    }

    /// Renders one message about `event` in its surroundings, showing who acknowledged it.
    pub(super) async fn render_acknowledged(
        &self,
        event: &MaintenanceEvent,
        around: &Around,
        how: fn(&AlertContext<'_>) -> SlackMessage,
        acknowledged: Option<slack::Acknowledgement>,
    ) -> Result<SlackMessage, StoreError> {
        let parts = self.context_parts(event, around).await?;
        let owners = self.config.owners();
        let ctx = self.context(event, around, &parts, &owners, acknowledged);
        Ok(how(&ctx))
    }

    /// The context of a message about `event` in its surroundings, with what
    /// [`Run::context_parts`] looked up for it.
    pub(super) fn context<'c>(
        &'c self,
        event: &'c MaintenanceEvent,
        around: &'c Around,
        (facts, previous): &'c (ClusterFacts, Option<Maintenance>),
        owners: &'c Owners,
        acknowledged: Option<slack::Acknowledgement>,
    ) -> AlertContext<'c> {
        AlertContext {
            event,
            maintenance: around.maintenance.as_ref(),
            events: &around.events,
            previous: previous.as_ref(),
            facts,
            runbook_url: self.runbook_url(around, event),
            owners,
            now: self.now,
            zone: self.settings.zone,
            actions: self.settings.actions,
            acknowledged,
            accounts: &self.config.accounts,
        }
    }
}
