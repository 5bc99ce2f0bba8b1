//! Sending what is due: the alerts the outbox holds (recorded by an ingest, waiting after an
//! outage, or asked for again), then the reminders of maintenances nobody has acknowledged.
//!
//! [`send_pending`] is the one entry for a door that sends without ingesting (`cachewatch
//! notify`, `cachewatch serve`'s resend loop); [`remind`] is its second half, for a door whose
//! ingest sent the alerts already (the poller). Both apply the same rules as an ingest's alerts:
//! the team's configuration at that moment (the mutes set in Slack included) and the facts kept
//! from ElastiCache, with those a drill's scenario takes for granted.

use cachewatch_core::IngestOutcome;
use cachewatch_core::alerting::delivery::ChatSink;
use cachewatch_core::alerting::notify::{NotifyError, NotifyReport};
use cachewatch_core::alerting::reminder::{ReminderReport, send_reminders};
use cachewatch_core::cluster::source::FactsSource;

use crate::ingest::alert_muted;
use crate::{Door, Ports, Rules, Store, chat_and_config};

/// Sends every alert that is due, then the reminders that are; `None` when no chat is
/// configured.
pub async fn send_pending<S: Store, C: ChatSink, F: FactsSource>(
    ports: Ports<'_, S, C, F>,
    rules: Rules<'_>,
) -> Result<Option<Sent>, NotifyError> {
    let Rules {
        config,
        settings,
        now,
    } = rules;
    // The mutes set in Slack, read once for the alerts and the reminders.
    let Some((chat, config)) = chat_and_config(ports, config, now).await else {
        return Ok(None);
    };
    let outcome = IngestOutcome::default();
    let door = Door::Backfill;
    let alerts = alert_muted(ports, chat, &outcome, &config, settings, door, now).await?;
    let reminders = send_reminders(ports.store, chat, &config, settings, now).await?;
    Ok(Some(Sent { alerts, reminders }))
}

/// Posts the reminders that are due in the threads of maintenances nobody has acknowledged;
/// `None` when no chat is configured.
pub async fn remind<S: Store, C: ChatSink, F>(
    ports: Ports<'_, S, C, F>,
    rules: Rules<'_>,
) -> Result<Option<ReminderReport>, NotifyError> {
    let Some((chat, config)) = chat_and_config(ports, rules.config, rules.now).await else {
        return Ok(None);
    };
    send_reminders(ports.store, chat, &config, rules.settings, rules.now)
        .await
        .map(Some)
}

/// What a run of [`send_pending`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sent {
    /// The alerts sent, updated, waiting or refused.
    pub alerts: NotifyReport,
    /// The reminders posted in maintenances' threads.
    pub reminders: ReminderReport,
}

#[cfg(test)]
mod tests {
    use cachewatch_core::history::response::{MuteRecord, ResponseStore};
    use chrono::{DateTime, Duration, Utc};

    use super::*;
    use crate::ingest::tests::{SNS_EVENT, World, at};
    use crate::{Alerting, Door, IngestRequest, Input, ingest};

    impl World {
        /// The world's configuration and settings at `now`.
        pub(crate) fn rules(&self, now: DateTime<Utc>) -> Rules<'_> {
            Rules {
                config: &self.config,
                settings: &self.settings,
                now,
            }
        }
    }

    /// Stores the notification without alerting it: what an ingest interrupted before its
    /// alerts leaves.
    async fn stored_unalerted(world: &World) {
        let request = IngestRequest {
            door: Door::Sns,
            input: Input::Document(SNS_EVENT),
            config: &world.config,
            settings: &world.settings,
            alerting: Alerting::Later,
            progress: None,
            now: at("2026-06-10T15:23:00Z"),
        };
        let done = ingest(world.ports(true), request).await.unwrap();
        assert!(done.outcome.new_count() > 0);
    }

    #[tokio::test]
    async fn what_an_ingest_left_unsent_is_sent_once() {
        let world = World::new();
        stored_unalerted(&world).await;
        let now = at("2026-06-10T15:30:00Z");

        let first = send_pending(world.ports(true), world.rules(now))
            .await
            .unwrap()
            .unwrap();
        let posted = world.chat.texts().len();
        let again = send_pending(world.ports(true), world.rules(now))
            .await
            .unwrap()
            .unwrap();

        assert!(first.alerts.reconciled > 0, "{first:?}");
        assert!(!first.alerts.sent.is_empty(), "{first:?}");
        assert!(posted > 0);
        assert!(again.alerts.sent.is_empty(), "{again:?}");
        assert_eq!(world.chat.texts().len(), posted, "nothing posted twice");
        assert!(
            send_pending(world.ports(false), world.rules(now))
                .await
                .unwrap()
                .is_none(),
            "without a chat nothing is sent"
        );
    }

    #[tokio::test]
    async fn a_mute_set_in_slack_holds_for_what_is_sent_later() {
        let world = World::new();
        stored_unalerted(&world).await;
        let now = at("2026-06-10T15:30:00Z");
        world
            .store
            .record_mute(&MuteRecord {
                clusters: "ledger-*".to_owned(),
                until: now + Duration::days(1),
                by: "ana".to_owned(),
                at: now,
            })
            .await
            .unwrap();

        let sent = send_pending(world.ports(true), world.rules(now))
            .await
            .unwrap()
            .unwrap();

        assert!(sent.alerts.sent.is_empty(), "{sent:?}");
        assert!(world.chat.texts().is_empty(), "{:?}", world.chat.texts());
    }
}
