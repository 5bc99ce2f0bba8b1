//! Alerts, sent once and never lost: the outbox and the one sender per channel.
//!
//! 1. After an ingest, [`record_alerts`] decides for each new event whether it alerts (see
//!    [`crate::alerting`]) and records a [`Delivery`] *before* anything is sent.
//! 2. [`notify`] first records what an interrupted ingest may have missed (recent actionable events
//!    with no delivery), then sends what is due, channel by channel, under a lease so that two
//!    senders never post to one channel at once:
//!    - the first alert of a maintenance is its thread's parent (or, when many maintenances hit
//!      one channel at once, a reply under one grouped message); later events of the maintenance
//!      are replies, and the parent is updated to show the maintenance's current state;
//!    - without a runbook link (no base URL), the runbook checklist follows in the thread;
//!    - a delivery is marked `sending` before it is sent and `sent` after; if the answer was lost,
//!      the chat is asked whether the message arrived before it is ever sent again;
//!    - a passing failure leaves the delivery pending with a later attempt time and stops the
//!      channel for this run; a permanent one marks it failed with the chat's reason.
//!
//!    After the ingest of one SNS notification ([`after_ingest`] with [`Reconcile::Skip`]), the
//!    run records the new events' alerts with the maintenances and events the ingest has in hand,
//!    skips the first step (the poller's scheduled run does it) and sends only in the channels it
//!    recorded alerts for: a notification costs a few requests, not a sweep of the history.
//!    The one alert of a maintenance it has just created is recorded as the channel's lease is
//!    taken ([`DeliveryStore::claim`]), and that maintenance's deliveries are not read (no other
//!    sender can have touched them); what else is due there is read and sent with it. The
//!    alert sent, its thread and the lease's release are written together at the end
//!    ([`DeliveryStore::save_together`]).
//! 3. Then the outputs beyond Slack (a signed webhook, Amazon Q Developer), whose deliveries
//!    were recorded with Slack's, each under its own lease and with the same backoff (see
//!    [`crate::alerting::outbound`]).
//!
//! What each part owns: `known` what an ingest has in hand and the surroundings of an event;
//! `record` which deliveries an event's verdict records; `due` what is due in a channel, by
//! maintenance; `run` the steps of a run (reconcile, channels, refreshes, outputs); `lease` a
//! channel's lease, claimed with an ingest's own alert; `channel` sending in one channel; `send`
//! one delivery's send and its record; `render` a message's rendering; `burst` many
//! maintenances at once; `preview` messages rendered without sending.
//!
//! [`DeliveryStore::claim`]: crate::alerting::delivery::DeliveryStore::claim
//! [`DeliveryStore::save_together`]: crate::alerting::delivery::DeliveryStore::save_together

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};

use crate::alerting::delivery::{ChatSink, Delivery, DeliveryState, Thread};
use crate::alerting::outbound::{Output, is_output_channel};
use crate::cluster::facts::ClusterFacts;
use crate::cluster::source::FactsSource;
use crate::config::Config;
use crate::history::History;
use crate::history::store::StoreError;
use crate::lifecycle::Maintenance;
use crate::links::LinkSigner;
use crate::model::event::{EventId, MaintenanceEvent};
use crate::model::timefmt::Zone;
use crate::runbook::{Owners, RunbookInput, Runbooks};

mod burst;
mod channel;
mod due;
mod known;
mod lease;
mod preview;
mod record;
mod render;
mod run;
mod send;

pub use known::Known;
pub use preview::{Preview, parent_message, preview};
pub use record::{Recorder, record_alerts, record_alerts_knowing};
pub use send::backoff;

/// How far back [`notify`] looks for actionable events that have no delivery.
pub const RECONCILE_FOR: Duration = Duration::days(7);
/// How long a sender holds a channel before another may take it over.
pub const LEASE_FOR: Duration = Duration::minutes(5);
/// The most deliveries one run sends.
pub const DUE_PER_RUN: usize = 1_000;

/// What a sender needs to know besides the configuration file.
#[derive(Debug, Clone)]
pub struct NotifySettings {
    /// The channel for alerts no route claims (`SLACK_CHANNEL`); a webhook's own channel when
    /// posting through one.
    pub channel: Option<String>,
    /// The base URL of runbook pages (`CACHEWATCH_BASE_URL`): alerts link to
    /// `{base}/runbooks/{id}`; without one, the checklist is posted in the thread.
    pub base_url: Option<String>,
    /// Signs the runbook links of alerts (`CACHEWATCH_LINK_SECRET`), which then read
    /// `{base}/runbooks/{id}?expires=…&sig=…`: the pages are not public.
    pub links: Option<LinkSigner>,
    /// The zone of fallback texts.
    pub zone: Zone,
    /// Whether alerts carry buttons (the HTTP door is deployed).
    pub actions: bool,
    /// This sender's name, unique among concurrent senders.
    pub holder: String,
    /// Send every pending alert now, whatever its backoff says (a person asked for it).
    pub ignore_backoff: bool,
}

/// What a run of [`notify`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotifyReport {
    /// Deliveries recorded for events an ingest had not recorded.
    pub reconciled: usize,
    /// Alerts and updates posted.
    pub sent: Vec<EventId>,
    /// Grouped messages posted.
    pub grouped: usize,
    /// Thread parents updated to a new state.
    pub updated: usize,
    /// Checklists posted.
    pub checklists: usize,
    /// Sends whose lost answer turned out to have arrived.
    pub recovered: usize,
    /// Deliveries left pending because the chat is unavailable.
    pub waiting: usize,
    /// Deliveries the chat refused for good, with its reason.
    pub failed: Vec<(EventId, String)>,
    /// Channels (and outputs) another sender is working on.
    pub busy: Vec<String>,
    /// Alerts delivered to outputs beyond Slack (a webhook, Amazon Q Developer).
    pub outputs_sent: Vec<(Output, EventId)>,
    /// Alerts left pending because an output beyond Slack is unavailable.
    pub outputs_waiting: usize,
}

/// Why a run stopped early.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The events of a maintenance, and the maintenance, as the store has them now.
struct Around {
    maintenance: Option<Maintenance>,
    events: Vec<MaintenanceEvent>,
}

impl Around {
    /// The input of `event`'s runbook: with this maintenance and its events when there is one,
    /// the event alone when not.
    fn runbook_input<'a>(
        &'a self,
        event: &'a MaintenanceEvent,
        facts: &'a ClusterFacts,
        owners: &'a Owners,
        now: DateTime<Utc>,
    ) -> RunbookInput<'a> {
        let input = RunbookInput::new(event, facts, owners, now);
        match &self.maintenance {
            Some(m) => input.with_maintenance(m, &self.events),
            None => input,
        }
    }
}

/// What every message of a run shares.
struct Run<'a, S, C, F> {
    store: &'a S,
    sink: &'a C,
    facts: &'a F,
    runbooks: &'a Runbooks,
    config: &'a Config,
    settings: &'a NotifySettings,
    now: DateTime<Utc>,
    report: NotifyReport,
    /// What the ingest this run follows has in hand.
    known: &'a Known<'a>,
    /// The chat's deliveries the ingest this run follows has just recorded.
    recorded: Vec<Delivery>,
    /// The chat's deliveries it has not written yet: each is recorded by the claim of its
    /// channel's lease, or before what is due there is read.
    held: Vec<Delivery>,
    /// The delivery a claim wrote as `sending` (see [`DeliveryStore::claim`]): its send
    /// need not write it again.
    ///
    /// [`DeliveryStore::claim`]: crate::alerting::delivery::DeliveryStore::claim
    claimed: Option<Delivery>,
    /// The event whose alert the lease held was claimed with.
    claimed_own: Option<EventId>,
    /// Thread writes that go with the lease's release: what a checklist posted last changes.
    deferred: Vec<Thread>,
    /// Deliveries sent whose write goes with the lease's release (see [`Run::mark_sent_with`]).
    deferred_sent: Vec<Delivery>,
}

/// What a run of alerts works with: the history, the chat, the facts of clusters and the
/// runbooks, and the rules it follows (the team's configuration and the notify settings) at `now`.
pub struct Alerter<'a, S, C, F> {
    /// The history and its outbox.
    pub store: &'a S,
    /// The chat.
    pub sink: &'a C,
    /// The facts of the clusters.
    pub facts: &'a F,
    /// The runbooks alerts link to or carry.
    pub runbooks: &'a Runbooks,
    /// The team's configuration (routes, mutes, reminders).
    pub config: &'a Config,
    /// How alerts are sent and drawn.
    pub settings: &'a NotifySettings,
    /// When the run happens.
    pub now: DateTime<Utc>,
}

impl<'a, S, C, F> Run<'a, S, C, F> {
    /// A run with nothing reported yet.
    fn new(a: Alerter<'a, S, C, F>, known: &'a Known<'a>) -> Self {
        Self {
            store: a.store,
            sink: a.sink,
            facts: a.facts,
            runbooks: a.runbooks,
            config: a.config,
            settings: a.settings,
            now: a.now,
            report: NotifyReport::default(),
            known,
            recorded: Vec::new(),
            held: Vec::new(),
            claimed: None,
            claimed_own: None,
            deferred: Vec::new(),
            deferred_sent: Vec::new(),
        }
    }
}

/// One maintenance (or a lone event) with its due deliveries.
struct Work {
    around: Around,
    due: Vec<(MaintenanceEvent, Delivery)>,
}

impl Work {
    fn ids(&self) -> Vec<EventId> {
        self.around.events.iter().map(|e| e.id.clone()).collect()
    }

    fn urgent(&self) -> bool {
        self.due.iter().any(|(e, _)| is_urgent(e))
    }
}

/// Whether an event's alert goes before every scheduled notice: what happens now (a failover, a
/// replacement under way or done, a failure) is urgent; what is announced ahead (a replacement
/// scheduled, rescheduled or canceled, an AWS Health notice) is not.
pub fn is_urgent(event: &MaintenanceEvent) -> bool {
    use crate::model::kind::{Category, EventKind};
    let ahead = event.category == Category::Health
        || matches!(
            event.kind.as_str(),
            EventKind::NODE_REPLACEMENT_SCHEDULED
                | EventKind::NODE_REPLACEMENT_RESCHEDULED
                | EventKind::NODE_REPLACEMENT_CANCELED
        );
    !ahead
}

/// Why a send did not go out.
enum Stop {
    /// The chat is unavailable: leave the channel for later.
    Channel,
    /// This delivery failed for good: go on with the others.
    Delivery,
    /// The store failed.
    Store(StoreError),
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Self {
        Stop::Store(e)
    }
}

/// Sends what is due. `refresh` names lifecycle groups an ingest changed without a new alert (a
/// notice merged with its text, say), whose thread parents are brought up to date too.
pub async fn notify<S, C, F>(
    alerter: Alerter<'_, S, C, F>,
    refresh: &[String],
) -> Result<NotifyReport, NotifyError>
where
    S: History,
    C: ChatSink,
    F: FactsSource,
{
    let known = Known::default();
    let run = Run::new(alerter, &known);
    run.all(refresh, None).await
}

/// Whether a run of [`notify`] first records what an interrupted ingest did not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reconcile {
    /// It does (every scheduled run, every person's run).
    First,
    /// It does not: the ingest of one notification, which leaves that to the scheduled run, and
    /// sends only in the channels it recorded alerts for (what else is due there goes too).
    Skip,
}

/// What every door does after an ingest: records the alerts of the new events (with the
/// maintenances and events the ingest has in hand, not read again) and sends what is due,
/// refreshing the threads of groups the ingest changed without a new event (a notice merged
/// with its text); `reconcile` says whether the run first records what an interrupted ingest
/// did not.
pub async fn after_ingest<S, C, F>(
    alerter: Alerter<'_, S, C, F>,
    outcome: &crate::intake::pipeline::IngestOutcome,
    reconcile: Reconcile,
) -> Result<NotifyReport, NotifyError>
where
    S: History,
    C: ChatSink,
    F: FactsSource,
{
    let Alerter {
        store,
        facts,
        config,
        settings,
        now,
        ..
    } = alerter;
    let new = outcome.new_events();
    let known = Known::of(outcome);
    let recorder = Recorder {
        store,
        facts,
        known: &known,
        config,
        channel: settings.channel.as_deref(),
        now,
    };
    let (recorded, held) =
        record::record_holding(recorder, &new, reconcile == Reconcile::Skip).await?;
    // One notification's ingest sends in the channels it recorded alerts for; the others' due
    // alerts are the scheduled run's.
    let channels = (reconcile == Reconcile::Skip).then(|| {
        recorded
            .iter()
            .chain(&held)
            .filter(|d| d.state == DeliveryState::Pending && !is_output_channel(&d.channel))
            .map(|d| d.channel.clone())
            .collect()
    });
    let refresh: Vec<String> = outcome
        .events
        .iter()
        .filter(|e| !e.new)
        .filter_map(|e| e.event.group_key())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut run = Run::new(alerter, &known);
    run.recorded = recorded;
    run.held = held;
    run.all(&refresh, channels).await
}
