//! Ingest and alert: a document or events from any door, read, stored once, and alerted.
//!
//! [`ingest`] is the one entry. It reads a document whole (nothing is stored if any of it is
//! wrong), stores every occurrence once and works out the maintenances it touched (in chunks for
//! a large input, reporting progress between them), then records and sends the alerts of what
//! is new with the team's configuration at that moment (the mutes set in Slack included) and
//! the facts a drill's scenario takes for granted. [`alert`] and [`preview`] are its last step
//! alone, for a door that stores in steps and alerts once (a failover being followed) or that
//! shows what would be posted when no chat is configured.

use cachewatch_core::alerting::delivery::ChatSink;
use cachewatch_core::alerting::notify::{
    self, Alerter, NotifyError, NotifyReport, NotifySettings, Preview, Reconcile,
};
use cachewatch_core::cluster::source::FactsSource;
use cachewatch_core::config::Config;
use cachewatch_core::history::store::StoreError;
use cachewatch_core::intake::parse::{ParseContext, ParseError, read_document};
use cachewatch_core::operations::drill::DrillFacts;
use cachewatch_core::{IngestOutcome, MaintenanceEvent, intake::pipeline};
use chrono::{DateTime, Utc};

use crate::{AlertFacts, Ports, Rules, Store, chat_and_config, config_at};

/// How many events one store call takes: progress is reported between them.
pub const CHUNK: usize = 500;

/// Which door an input came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Door {
    /// An SNS notification (the SNS function, `POST /sns`).
    Sns,
    /// A text or file a person gave (`cachewatch ingest`, the demo).
    Text,
    /// DescribeEvents, read back over a time range (the poller, `cachewatch backfill`).
    Backfill,
    /// A drill's made-up events.
    Drill,
    /// The events of a failover being rehearsed.
    Failover,
}

impl Door {
    /// Whether what comes through this door is a drill, whatever it says.
    pub fn is_drill(self) -> bool {
        matches!(self, Door::Drill | Door::Failover)
    }
}

/// What is ingested.
#[derive(Debug)]
pub enum Input<'a> {
    /// A document of any shape cachewatch reads, read whole.
    Document(&'a str),
    /// Events a door has read already (DescribeEvents records, a drill's events).
    Events(Vec<MaintenanceEvent>),
}

/// When the alerts of an ingest are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alerting {
    /// Now, when a chat is configured.
    Now,
    /// Not by this call: the door calls [`alert`] once it has stored everything.
    Later,
}

/// One ingest.
pub struct IngestRequest<'a> {
    /// The door it came through.
    pub door: Door,
    /// What to ingest.
    pub input: Input<'a>,
    /// The team's configuration; the mutes set in Slack are added to it.
    pub config: &'a Config,
    /// How alerts are sent.
    pub settings: &'a NotifySettings,
    /// Whether the alerts are sent by this call.
    pub alerting: Alerting,
    /// Hears `(stored, of)` before the first chunk and after each.
    pub progress: Option<&'a mut (dyn FnMut(usize, usize) + Send)>,
    /// The time of the ingest.
    pub now: DateTime<Utc>,
}

/// What an ingest did.
#[derive(Debug)]
pub struct Ingested {
    /// Each input event as stored, and the maintenances changed.
    pub outcome: IngestOutcome,
    /// The lines of a pasted text that were clearly not events.
    pub skipped_lines: usize,
    /// What became of the alerts.
    pub alerts: Alerts,
}

/// What became of the alerts of an ingest.
#[derive(Debug)]
pub enum Alerts {
    /// Not sent by this call: no chat is configured, the door sends them later, or an SNS
    /// notification added nothing that alerts (see [`ingest`]).
    NotSent,
    /// Recorded, and sent as far as the chat took them.
    Sent(NotifyReport),
    /// The events are stored, but their alerts could not be recorded or sent: the store failed.
    /// The next run that sends what is pending picks them up.
    Failed(StoreError),
}

impl From<Result<Option<NotifyReport>, NotifyError>> for Alerts {
    /// What became of the alerts, from what [`alert`] answered.
    fn from(answer: Result<Option<NotifyReport>, NotifyError>) -> Self {
        match answer {
            Ok(Some(report)) => Alerts::Sent(report),
            Ok(None) => Alerts::NotSent,
            Err(NotifyError::Store(e)) => Alerts::Failed(e),
        }
    }
}

/// Why nothing (or not everything) was stored.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The document does not read: nothing was stored.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The store failed. What earlier chunks stored stays stored.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Ingests one input and alerts: the one entry of every door.
///
/// An SNS notification that stores no new actionable event and changes no maintenance (a
/// re-delivery, a snapshot notice) ends there: the store is not asked anything more, and what is
/// pending from earlier (an alert a failed run did not record or send) is the poller's to make
/// good at its next run, as it is for every door.
pub async fn ingest<S, C, F>(
    ports: Ports<'_, S, C, F>,
    request: IngestRequest<'_>,
) -> Result<Ingested, IngestError>
where
    S: Store,
    C: ChatSink,
    F: FactsSource,
{
    let IngestRequest {
        door,
        input,
        config,
        settings,
        alerting,
        mut progress,
        now,
    } = request;
    let (events, skipped_lines) = read(door, input, now)?;
    // A notification's maintenance is saved with the claim of its alert, in one request, when
    // its alert is the one sent (see `EventStore::hold_maintenances`); else as the store's next
    // call, or at the end of this one.
    let hold = door == Door::Sns && alerting == Alerting::Now;
    if hold {
        ports.store.hold_maintenances();
    }
    let stored = store(ports.store, events, config, &mut progress).await;
    let alerts = match (&stored, alerting) {
        (Err(_), _) | (_, Alerting::Later) => Alerts::NotSent,
        (Ok(outcome), Alerting::Now) if door == Door::Sns && !alerts_anyone(outcome) => {
            Alerts::NotSent
        }
        (Ok(outcome), Alerting::Now) => {
            let rules = Rules {
                config,
                settings,
                now,
            };
            alert_after(ports, outcome, rules, door).await.into()
        }
    };
    let flushed = match hold {
        true => ports.store.flush_held().await,
        false => Ok(()),
    };
    let outcome = stored?;
    flushed?;
    Ok(Ingested {
        outcome,
        skipped_lines,
        alerts,
    })
}

/// Whether what an ingest stored may alert or change a message: a new actionable event, or a
/// maintenance that changed (its thread's parent shows it). A notification that adds neither (a
/// re-delivery, a snapshot notice) leaves the alerts as they are: what is pending from earlier is
/// the poller's to send, at its next run.
fn alerts_anyone(outcome: &IngestOutcome) -> bool {
    !outcome.maintenances.is_empty() || outcome.events.iter().any(|e| e.new && e.event.actionable)
}

/// Records the alerts of what `outcome` stored as new and sends what is due, refreshing the
/// threads of the groups it changed; `None` when no chat is configured.
pub async fn alert<S, C, F>(
    ports: Ports<'_, S, C, F>,
    outcome: &IngestOutcome,
    rules: Rules<'_>,
) -> Result<Option<NotifyReport>, NotifyError>
where
    S: Store,
    C: ChatSink,
    F: FactsSource,
{
    alert_after(ports, outcome, rules, Door::Backfill).await
}

/// [`alert`] after an ingest through `door`. The ingest of one SNS notification does not look
/// for what an interrupted ingest left unrecorded (a week of actionable events read back): the
/// poller's scheduled run does, and records it within one poll.
async fn alert_after<S, C, F>(
    ports: Ports<'_, S, C, F>,
    outcome: &IngestOutcome,
    rules: Rules<'_>,
    door: Door,
) -> Result<Option<NotifyReport>, NotifyError>
where
    S: Store,
    C: ChatSink,
    F: FactsSource,
{
    let Some((chat, config)) = chat_and_config(ports, rules.config, rules.now).await else {
        return Ok(None);
    };
    let rules = Rules {
        config: &config,
        ..rules
    };
    alert_muted(ports, chat, outcome, rules, door)
        .await
        .map(Some)
}

/// [`alert_after`] through `chat`, with `config` the team's configuration at `now` already (see
/// [`config_at`]): the mutes set in Slack are not read again.
pub(crate) async fn alert_muted<S, C, F>(
    ports: Ports<'_, S, C, F>,
    chat: &C,
    outcome: &IngestOutcome,
    rules: Rules<'_>,
    door: Door,
) -> Result<NotifyReport, NotifyError>
where
    S: Store,
    C: ChatSink,
    F: FactsSource,
{
    let reconcile = match door {
        Door::Sns => Reconcile::Skip,
        _ => Reconcile::First,
    };
    let Rules {
        config,
        settings,
        now,
    } = rules;
    let facts = AlertFacts::new(ports.store, ports.facts, now);
    let alerter = Alerter {
        store: ports.store,
        sink: chat,
        facts: &facts,
        runbooks: ports.runbooks,
        config,
        settings,
        now,
    };
    notify::after_ingest(alerter, outcome, reconcile).await
}

/// What the alerts of `outcome`'s new events would be, recording and sending nothing (the
/// facts looked up are not kept either).
pub async fn preview<S, C, F>(
    ports: Ports<'_, S, C, F>,
    outcome: &IngestOutcome,
    rules: Rules<'_>,
) -> Result<Vec<Preview>, StoreError>
where
    S: Store,
    F: FactsSource,
{
    let Rules {
        config,
        settings,
        now,
    } = rules;
    let new = outcome.new_events();
    let config = config_at(ports.store, config, now).await;
    let facts = DrillFacts {
        source: ports.facts,
    };
    notify::preview(ports.store, &facts, &new, &config, settings, now).await
}

/// The events of `input`, and how many pasted lines were not events.
fn read(
    door: Door,
    input: Input<'_>,
    now: DateTime<Utc>,
) -> Result<(Vec<MaintenanceEvent>, usize), ParseError> {
    match input {
        Input::Events(events) => Ok((events, 0)),
        Input::Document(text) => {
            let ctx = ParseContext {
                received_at: now,
                drill: door.is_drill(),
            };
            let document = read_document(text, &ctx)?;
            Ok((document.events, document.skipped_lines))
        }
    }
}

/// Stores `events` [`CHUNK`] at a time, in input order. What one chunk stores, the next one's
/// candidates see, so an occurrence is still stored once.
async fn store<S: Store>(
    store: &S,
    events: Vec<MaintenanceEvent>,
    config: &Config,
    progress: &mut Option<&mut (dyn FnMut(usize, usize) + Send)>,
) -> Result<IngestOutcome, StoreError> {
    let of = events.len();
    let mut heard = |done: usize| {
        if let Some(progress) = progress.as_mut() {
            progress(done, of);
        }
    };
    let mut outcome = IngestOutcome::default();
    let mut done = 0;
    heard(done);
    let mut rest = events.into_iter().peekable();
    while rest.peek().is_some() {
        let chunk: Vec<_> = rest.by_ref().take(CHUNK).collect();
        done += chunk.len();
        let stored = pipeline::ingest(store, chunk, &config.alerts).await?;
        outcome.events.extend(stored.events);
        outcome.maintenances.extend(stored.maintenances);
        heard(done);
    }
    Ok(outcome)
}

#[cfg(test)]
pub(crate) mod tests;
