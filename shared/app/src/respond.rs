//! People's responses: an acknowledgement recorded once for the whole maintenance, and the
//! alert's thread parent drawn again to show who took it on. `cachewatch ack`, `cachewatch
//! outcome` and the Acknowledge button do both the same way.

use cachewatch_core::MaintenanceEvent;
use cachewatch_core::alerting::notify::{self, NotifySettings};
use cachewatch_core::alerting::slack::{self, SlackMessage};
use cachewatch_core::cluster::source::FactsSource;
use cachewatch_core::config::Config;
use cachewatch_core::history::response::{Acknowledgement, first_acknowledgement};
use cachewatch_core::history::store::StoreError;
use chrono::{DateTime, Utc};

use crate::lookup::Subject;
use crate::{AlertFacts, Ports, Store, config_at};

/// What an acknowledgement recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledged {
    /// The acknowledgement recorded now.
    pub recorded: Acknowledgement,
    /// Who took the maintenance on first, when that was someone earlier.
    pub earlier: Option<Acknowledgement>,
}

impl Acknowledged {
    /// Who took the maintenance on: the first to acknowledge it.
    pub fn first(&self) -> &Acknowledgement {
        self.earlier.as_ref().unwrap_or(&self.recorded)
    }
}

/// Records that `by` acknowledged `subject` at `now`, against the id its links and buttons
/// use, and answers who had taken it on before.
pub async fn acknowledge<S: Store>(
    store: &S,
    subject: &Subject,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Acknowledged, StoreError> {
    let before = store.acknowledgements(&subject.event_ids()).await?;
    let recorded = Acknowledgement {
        event_id: subject.link_id().clone(),
        by: by.to_owned(),
        at: now,
    };
    store.record_acknowledgement(&recorded).await?;
    Ok(Acknowledged {
        earlier: first_acknowledgement(&before).cloned(),
        recorded,
    })
}

/// The parent message of `anchor`'s thread as it is now, showing `shown` as who acknowledged
/// it: drawn with the team's configuration at `now` and the facts an alert is drawn with.
pub async fn redrawn_parent<S, C, F>(
    ports: Ports<'_, S, C, F>,
    config: &Config,
    settings: &NotifySettings,
    anchor: &MaintenanceEvent,
    shown: slack::Acknowledgement,
    now: DateTime<Utc>,
) -> Result<SlackMessage, StoreError>
where
    S: Store,
    F: FactsSource,
{
    let config = config_at(ports.store, config, now).await;
    let facts = AlertFacts::new(ports.store, ports.facts, now);
    notify::parent_message(
        ports.store,
        &facts,
        &config,
        settings,
        anchor,
        Some(shown),
        now,
    )
    .await
}

#[cfg(test)]
mod tests {
    use cachewatch_core::history::response::ResponseStore as _;

    use super::*;
    use crate::ingest::tests::{SNS_EVENT, World, at};
    use crate::{Door, Input, lookup};

    #[tokio::test]
    async fn the_first_to_acknowledge_is_who_took_it_on_whoever_comes_later() {
        let world = World::new();
        let done = world
            .ingest(Door::Sns, Input::Document(SNS_EVENT), false)
            .await
            .unwrap();
        let id = &done.outcome.events[0].event.id;
        let subject = lookup::subject(&world.store, id).await.unwrap().unwrap();
        let (first_at, later_at) = (at("2026-06-10T15:30:00Z"), at("2026-06-10T15:40:00Z"));

        let first = acknowledge(&world.store, &subject, "ana", first_at)
            .await
            .unwrap();
        let later = acknowledge(&world.store, &subject, "bo", later_at)
            .await
            .unwrap();

        assert_eq!(first.earlier, None);
        assert_eq!(first.first().by, "ana");
        assert_eq!(later.recorded.by, "bo");
        assert_eq!(later.first().by, "ana", "{later:?}");
        assert_eq!(later.first().at, first_at);
        assert_eq!(&later.recorded.event_id, subject.link_id());
        let kept = world
            .store
            .acknowledgements(&subject.event_ids())
            .await
            .unwrap();
        assert_eq!(kept.len(), 2);
    }
}
