//! A scheduled run's catch-up (the poller's): the events read back from ElastiCache are stored
//! through the one ingest path, then every alert that is pending is sent whatever its backoff (the
//! schedule is backoff enough), then the reminders that are due.
//!
//! Events that cannot be stored do not hold the rest back: what is pending is sent all the same,
//! and the failure is answered for the door to report once the rest is done.

use cachewatch_core::alerting::delivery::ChatSink;
use cachewatch_core::alerting::notify::{NotifyError, NotifyReport, NotifySettings};
use cachewatch_core::alerting::reminder::ReminderReport;
use cachewatch_core::cluster::source::FactsSource;
use cachewatch_core::history::store::StoreError;
use cachewatch_core::{IngestOutcome, MaintenanceEvent};

use crate::ingest::{Alerting, Alerts, Door, IngestError, IngestRequest, Input, alert, ingest};
use crate::{Ports, Rules, Store, remind};

/// What a catch-up did.
#[derive(Debug)]
pub struct CaughtUp {
    /// How many of the events were new, or why they could not be stored.
    pub stored: Result<usize, IngestError>,
    /// The alerts sent, waiting or refused; `None` when no chat is configured.
    pub alerts: Option<NotifyReport>,
    /// The reminders, sent after the alerts; `None` when no chat is configured.
    pub reminders: Option<ReminderReport>,
}

/// Stores `events` (read back at `rules.now`) and alerts, then reminds. Fails only when the
/// alerts or reminders cannot be recorded: then the next run sends them.
pub async fn catch_up<S: Store, C: ChatSink, F: FactsSource>(
    ports: Ports<'_, S, C, F>,
    events: Vec<MaintenanceEvent>,
    rules: Rules<'_>,
) -> Result<CaughtUp, StoreError> {
    // The backfill's alerts and every pending one, whatever its backoff.
    let settings = NotifySettings {
        ignore_backoff: true,
        ..rules.settings.clone()
    };
    let rules = Rules {
        settings: &settings,
        ..rules
    };
    let request = IngestRequest {
        door: Door::Backfill,
        input: Input::Events(events),
        config: rules.config,
        settings: &settings,
        alerting: Alerting::Now,
        progress: None,
        now: rules.now,
    };
    let (stored, alerts) = match ingest(ports, request).await {
        Ok(ingested) => {
            let alerts = match ingested.alerts {
                Alerts::Sent(report) => Some(report),
                Alerts::NotSent => None,
                Alerts::Failed(e) => return Err(e),
            };
            (Ok(ingested.outcome.new_count()), alerts)
        }
        Err(e) => {
            tracing::error!(error = %e, source = ?std::error::Error::source(&e), "the backfill failed");
            // What is pending is sent all the same.
            let none = IngestOutcome::default();
            let alerts = alert(ports, &none, rules).await.map_err(store_error)?;
            (Err(e), alerts)
        }
    };
    let reminders = match alerts {
        Some(_) => Some(
            remind(ports, rules)
                .await
                .map_err(store_error)?
                .unwrap_or_default(),
        ),
        None => None,
    };
    Ok(CaughtUp {
        stored,
        alerts,
        reminders,
    })
}

/// The store's failure a sender answered.
fn store_error(NotifyError::Store(e): NotifyError) -> StoreError {
    e
}

#[cfg(test)]
mod tests {
    use cachewatch_core::intake::parse::{ParseContext, read_document};

    use super::*;
    use crate::ingest::tests::{SNS_EVENT, World, at};

    fn events_read_back(now: chrono::DateTime<chrono::Utc>) -> Vec<MaintenanceEvent> {
        let ctx = ParseContext {
            received_at: now,
            drill: false,
        };
        read_document(SNS_EVENT, &ctx).unwrap().events
    }

    #[tokio::test]
    async fn events_read_back_are_stored_and_alerted_once_whatever_the_runs() {
        let world = World::new();
        let now = at("2026-03-02T08:00:00Z");
        let first = catch_up(world.ports(true), events_read_back(now), world.rules(now))
            .await
            .unwrap();
        let new = first.stored.unwrap();
        assert!(new > 0, "the events are new");
        let sent = first.alerts.expect("a chat is configured").sent.len();
        assert!(sent > 0, "the new events alert");
        assert!(first.reminders.is_some());
        let posted = world.chat.texts().len();

        let later = now + chrono::Duration::minutes(15);
        let again = catch_up(
            world.ports(true),
            events_read_back(later),
            world.rules(later),
        )
        .await
        .unwrap();
        assert_eq!(again.stored.unwrap(), 0, "stored once");
        assert!(again.alerts.unwrap().sent.is_empty(), "alerted once");
        assert_eq!(world.chat.texts().len(), posted);
    }

    #[tokio::test]
    async fn without_a_chat_the_events_are_stored_and_nothing_is_sent() {
        let world = World::new();
        let now = at("2026-03-02T08:00:00Z");
        let caught = catch_up(world.ports(false), events_read_back(now), world.rules(now))
            .await
            .unwrap();
        assert!(caught.stored.unwrap() > 0);
        assert!(caught.alerts.is_none() && caught.reminders.is_none());
        assert!(world.chat.texts().is_empty());
    }
}
