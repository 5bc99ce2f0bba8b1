//! People's responses: an acknowledgement recorded once for the whole maintenance, a checklist
//! step done, how the maintenance went, and the alert's thread parents drawn again to show who
//! took it on. `cachewatch ack`, `step` and `outcome`, the runbook page and Slack's buttons and
//! form do each the same way.

use cachewatch_core::MaintenanceEvent;
use cachewatch_core::alerting::notify;
use cachewatch_core::alerting::slack::{self, SlackMessage};
use cachewatch_core::cluster::source::FactsSource;
use cachewatch_core::history::response::{Acknowledgement, first_acknowledgement};
use cachewatch_core::history::store::StoreError;
use chrono::{DateTime, Utc};

use crate::lookup::Subject;
use crate::{AlertFacts, Ports, Rules, Store, config_at};

mod record;
mod threads;
mod who;

pub use record::{
    MAX_NOTE, OutcomeRecorded, OutcomeRequest, StepRecorded, StepRequest, record_outcome,
    record_step,
};
pub use threads::{Redrawn, redraw_threads};
pub use who::{MAX_NAME, MAX_TYPED, UNVERIFIED, Who};

/// Why a response is refused: nothing was recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// No name was given.
    #[error("the name is empty")]
    NoName,
    /// The name is longer than [`MAX_NAME`].
    #[error("the name is longer than {MAX_NAME} characters")]
    NameTooLong,
    /// The name holds a control character (a new line, a tab).
    #[error("the name contains a control character")]
    ControlInName,
    /// The name holds a character that shows nothing or reorders what follows.
    #[error("the name contains an invisible or bidirectional character")]
    InvisibleInName,
    /// The note is longer than [`MAX_NOTE`].
    #[error("the note is longer than {MAX_NOTE} characters")]
    NoteTooLong,
    /// Not a way a maintenance is handled.
    #[error("{0:?} is not a way a maintenance is handled")]
    Handled(String),
    /// A downtime below zero.
    #[error("a downtime cannot be negative")]
    NegativeDowntime,
    /// The runbook has no such step.
    #[error("the runbook has {count} step{}, not {step}", if *count == 1 { "" } else { "s" })]
    NoSuchStep {
        /// The number given.
        step: u32,
        /// How many steps the runbook has.
        count: usize,
    },
}

/// Why a response was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum RespondError {
    /// What was given is refused.
    #[error(transparent)]
    Refused(#[from] Refused),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The runbook (whose steps a step is checked against) does not render.
    #[error(transparent)]
    Runbook(#[from] cachewatch_core::runbook::RunbookError),
}

impl From<crate::lookup::RunbookFailure> for RespondError {
    fn from(failure: crate::lookup::RunbookFailure) -> Self {
        match failure {
            crate::lookup::RunbookFailure::Store(e) => Self::Store(e),
            crate::lookup::RunbookFailure::Render(e) => Self::Runbook(e),
        }
    }
}

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
pub async fn redrawn_parent<S: Store, C, F: FactsSource>(
    ports: Ports<'_, S, C, F>,
    rules: Rules<'_>,
    anchor: &MaintenanceEvent,
    shown: slack::Acknowledgement,
) -> Result<SlackMessage, StoreError> {
    let Rules {
        config,
        settings,
        now,
    } = rules;
    let config = config_at(ports.store, config, now).await;
    let facts = AlertFacts::new(ports.store, ports.facts, now);
    let shown = Some(shown);
    notify::parent_message(ports.store, &facts, &config, settings, anchor, shown, now).await
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

    /// A maintenance alerted in the chat, and what `id` names.
    async fn alerted(world: &World) -> Subject {
        let done = world
            .ingest(Door::Sns, Input::Document(SNS_EVENT), true)
            .await
            .unwrap();
        let id = &done.outcome.events[0].event.id;
        lookup::subject(&world.store, id).await.unwrap().unwrap()
    }

    /// When the outcomes of these tests are told.
    fn outcome_at() -> chrono::DateTime<chrono::Utc> {
        at("2026-06-10T16:00:00Z")
    }

    fn outcome<'a>(subject: &'a Subject, by: Who, note: Option<String>) -> OutcomeRequest<'a> {
        OutcomeRequest {
            subject,
            handled: "manual-failover".to_owned(),
            site_maintenance: false,
            downtime: Some(chrono::Duration::seconds(125)),
            note,
            by,
        }
    }

    #[tokio::test]
    async fn a_step_is_checked_against_the_runbook_and_recorded_against_the_maintenance() {
        let world = World::new();
        let subject = alerted(&world).await;
        let ports = world.ports(true);
        let step = |n: u32| StepRequest {
            subject: &subject,
            step: n,
            by: Who::named("bo").unwrap(),
        };
        let rules = world.rules(at("2026-06-10T15:45:00Z"));

        let done = record_step(ports, rules, step(1)).await.unwrap();
        let refused = record_step(ports, rules, step(999)).await.unwrap_err();

        assert_eq!(done.step.number, 1);
        assert_eq!(&done.recorded.event_id, subject.link_id());
        assert!(
            matches!(refused, RespondError::Refused(Refused::NoSuchStep { step: 999, count }) if count > 1),
            "{refused:?}"
        );
        let kept = world.store.steps(&subject.event_ids()).await.unwrap();
        assert_eq!(kept.len(), 1, "{kept:?}");
        assert_eq!((kept[0].step, kept[0].by.as_str()), (1, "bo"));
    }

    #[tokio::test]
    async fn an_outcome_out_of_bounds_is_refused_and_nothing_is_recorded() {
        let world = World::new();
        let subject = alerted(&world).await;
        let ports = world.ports(true);
        let mut unknown = outcome(&subject, Who::named("ana").unwrap(), None);
        unknown.handled = "shrugged".to_owned();
        let mut negative = outcome(&subject, Who::named("ana").unwrap(), None);
        negative.downtime = Some(chrono::Duration::seconds(-1));
        let long = outcome(
            &subject,
            Who::named("ana").unwrap(),
            Some("x".repeat(MAX_NOTE + 1)),
        );

        for (request, why) in [
            (unknown, Refused::Handled("shrugged".into())),
            (negative, Refused::NegativeDowntime),
            (long, Refused::NoteTooLong),
        ] {
            let refused = record_outcome(ports, world.rules(outcome_at()), request)
                .await
                .unwrap_err();
            assert!(
                matches!(&refused, RespondError::Refused(r) if *r == why),
                "{refused:?}"
            );
        }
        let kept = world.store.outcomes(&subject.event_ids()).await.unwrap();
        assert!(kept.is_empty(), "{kept:?}");
    }

    #[tokio::test]
    async fn an_outcome_redraws_every_thread_parent_once_someone_took_it_on() {
        let world = World::new();
        let subject = alerted(&world).await;
        let ports = world.ports(true);
        let note = Some("  failed over by hand  ".to_owned());

        let before = record_outcome(
            ports,
            world.rules(outcome_at()),
            outcome(&subject, Who::named("ana").unwrap(), note.clone()),
        )
        .await
        .unwrap();
        acknowledge(&world.store, &subject, "U0ANA", at("2026-06-10T15:30:00Z"))
            .await
            .unwrap();
        let after = record_outcome(
            ports,
            world.rules(outcome_at()),
            outcome(
                &subject,
                Who::slack_user("U0ANA", Some("ana")).unwrap(),
                note,
            ),
        )
        .await
        .unwrap();

        assert_eq!(before.threads, Redrawn::default(), "nobody took it on yet");
        assert_eq!(before.recorded.note.as_deref(), Some("failed over by hand"));
        assert_eq!(&after.recorded.event_id, subject.link_id());
        assert_eq!(after.recorded.by, "U0ANA");
        assert!(after.threads.updated >= 1, "{:?}", after.threads);
        let updates = world.chat.updates();
        assert_eq!(updates.len(), after.threads.updated);
        assert!(
            updates
                .iter()
                .all(|(_, text)| text.contains("Acknowledged by ana ") && !text.contains("U0ANA")),
            "shown by name: {updates:?}"
        );
    }
}
