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

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use crate::alerting::delivery::{
    ChatSink, Claim, Delivery, DeliveryError, DeliveryState, DeliveryStore, OutboxWrite,
    PostedMessage, Thread, sent_channels,
};
use crate::alerting::outbound::{self, Output, is_output_channel};
use crate::alerting::slack::{self, AlertContext, MessageMetadata, SlackMessage};
use crate::alerting::{Quiet, Surroundings, Verdict, tags_for, verdict, verdict_tagged};
use crate::cluster::source::{FactsSource, NoFacts};
use crate::config::Config;
use crate::history::query::{EventQuery, MAX_LIMIT};
use crate::history::response::{ResponseStore, first_acknowledgement};
use crate::history::store::{EventStore, StoreError};
use crate::lifecycle::{self, Maintenance};
use crate::links::{self, LinkSigner};
use crate::model::event::{EventId, MaintenanceEvent};
use crate::model::timefmt::Zone;
use crate::runbook::{RunbookInput, Runbooks};

mod burst;

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

async fn around_of<S: EventStore>(
    store: &S,
    event: &MaintenanceEvent,
) -> Result<Around, StoreError> {
    let maintenance = match event.category.has_lifecycle() {
        true => store.maintenance(&event.id).await?,
        false => None,
    };
    events_around(store, maintenance, event).await
}

/// The deliveries `verdict` records for `event`, the outputs' first: a run that stops between
/// them leaves the event without Slack's, and the next run records it again (what is recorded
/// already stays as it is), so no output's alert is lost. With no Slack channel for the event,
/// the outputs alone announce it (a team paged, or on Amazon Q Developer, without Slack).
fn deliveries_for(
    event: &MaintenanceEvent,
    verdict: Verdict,
    config: &Config,
    (channel, tags): (Option<&str>, Option<&crate::config::tags::Tags>),
    now: DateTime<Utc>,
) -> Vec<Delivery> {
    let target = || {
        config
            .channel_for_tagged(event, tags, channel)
            .unwrap_or(channel.unwrap_or("-"))
            .to_owned()
    };
    let (state, target, reason) = match verdict {
        Verdict::NotActionable | Verdict::Quiet(Quiet::Stale) => return Vec::new(),
        Verdict::Quiet(Quiet::NoChannel) => {
            let group = event.group_key();
            return outbound::to_outputs(&event.id, group.as_deref(), &config.outputs(), now);
        }
        Verdict::Announce { channel } => (DeliveryState::Pending, channel, None),
        Verdict::Muted { pattern, until } => (
            DeliveryState::Muted,
            target(),
            Some(format!(
                "muted by {pattern} until {}",
                crate::model::event::rfc3339::format(&until)
            )),
        ),
        Verdict::Quiet(quiet) => (
            DeliveryState::Skipped,
            target(),
            Some(quiet.describe().to_owned()),
        ),
    };
    let mut delivery = Delivery::new(event.id.clone(), target, event.group_key(), state, now);
    delivery.reason = reason;
    let mut deliveries = outbound::with_outputs(&delivery, &config.outputs());
    deliveries.push(delivery);
    deliveries
}

async fn events_around<S: EventStore>(
    store: &S,
    maintenance: Option<Maintenance>,
    event: &MaintenanceEvent,
) -> Result<Around, StoreError> {
    let mut events = Vec::new();
    match &maintenance {
        Some(m) => {
            for id in &m.event_ids {
                if let Some(e) = store.event(id).await? {
                    events.push(e);
                }
            }
        }
        None => events.push(event.clone()),
    }
    Ok(Around {
        maintenance,
        events,
    })
}

/// What an ingest knows already when it records the alerts of its new events: the maintenances
/// it has just saved and the events it has just stored, which need not be read again.
#[derive(Debug, Default)]
pub struct Known<'a> {
    maintenance_of: BTreeMap<&'a EventId, &'a Maintenance>,
    events: BTreeMap<&'a EventId, &'a MaintenanceEvent>,
    new: BTreeSet<&'a EventId>,
}

impl<'a> Known<'a> {
    /// What `outcome` stored and worked out.
    pub fn of(outcome: &'a crate::intake::pipeline::IngestOutcome) -> Self {
        let mut known = Known::default();
        for m in outcome.maintenances.values().flatten() {
            for id in &m.event_ids {
                known.maintenance_of.insert(id, m);
            }
        }
        for e in &outcome.events {
            known.events.insert(&e.event.id, &e.event);
            if e.new {
                known.new.insert(&e.event.id);
            }
        }
        known
    }

    /// `event`'s maintenance: as just saved, else as stored.
    async fn maintenance<S: EventStore>(
        &self,
        store: &S,
        event: &MaintenanceEvent,
    ) -> Result<Option<Maintenance>, StoreError> {
        match self.maintenance_of.get(&event.id) {
            Some(m) => Ok(Some((*m).clone())),
            None => store.maintenance(&event.id).await,
        }
    }

    /// The events of `maintenance` (or `event` alone): as just stored, else as stored.
    async fn around<S: EventStore>(
        &self,
        store: &S,
        maintenance: Option<Maintenance>,
        event: &MaintenanceEvent,
    ) -> Result<Around, StoreError> {
        let Some(m) = &maintenance else {
            return events_around(store, maintenance, event).await;
        };
        let mut events = Vec::with_capacity(m.event_ids.len());
        for id in &m.event_ids {
            match self.events.get(id) {
                Some(e) => events.push((*e).clone()),
                None => events.extend(store.event(id).await?),
            }
        }
        Ok(Around {
            maintenance,
            events,
        })
    }

    /// The event `id`: as just stored, else as stored.
    async fn event<S: EventStore>(
        &self,
        store: &S,
        id: &EventId,
    ) -> Result<Option<MaintenanceEvent>, StoreError> {
        match self.events.get(id) {
            Some(e) => Ok(Some((*e).clone())),
            None => store.event(id).await,
        }
    }

    /// [`around_of`], taking what is known.
    async fn around_of<S: EventStore>(
        &self,
        store: &S,
        event: &MaintenanceEvent,
    ) -> Result<Around, StoreError> {
        let maintenance = match event.category.has_lifecycle() {
            true => self.maintenance(store, event).await?,
            false => None,
        };
        self.around(store, maintenance, event).await
    }

    /// The event `id` this ingest has just created, and its maintenance as just saved, when all
    /// of the maintenance's events (or the lone event) are such events.
    fn all_new_around(&self, id: &EventId) -> Option<(MaintenanceEvent, Option<Maintenance>)> {
        let event = (*self.events.get(id)?).clone();
        let maintenance = self.maintenance_of.get(id).map(|m| (*m).clone());
        if event.category.has_lifecycle() && maintenance.is_none() {
            return None;
        }
        let ids = maintenance
            .as_ref()
            .map_or_else(|| vec![event.id.clone()], |m| m.event_ids.clone());
        self.all_new(&ids).then_some((event, maintenance))
    }

    /// Whether every one of `ids` is an event this ingest has just created. Such events have no
    /// delivery but those the ingest records itself, and, while those are still due, no message,
    /// thread or acknowledgement: nothing is read for them.
    fn all_new(&self, ids: &[EventId]) -> bool {
        !ids.is_empty() && ids.iter().all(|id| self.new.contains(id))
    }

    /// Which of `ids` an alert announced already (none, of events this ingest has just created).
    async fn announced<S: DeliveryStore>(
        &self,
        store: &S,
        ids: &[EventId],
    ) -> Result<BTreeSet<EventId>, StoreError> {
        if self.all_new(ids) {
            return Ok(BTreeSet::new());
        }
        Ok(store
            .deliveries(ids)
            .await?
            .into_iter()
            .filter(|d| d.state.announces())
            .map(|d| d.event_id)
            .collect())
    }
}

/// Records the alerts of `events` (new or not yet decided): one delivery per event that alerts,
/// is muted, or is skipped for a reason worth keeping. Returns how many were recorded. No
/// cluster's tags are looked up: routes and mutes by tag hold none (see
/// [`record_alerts_knowing`], which takes a facts source).
pub async fn record_alerts<S: EventStore + DeliveryStore + ResponseStore>(
    store: &S,
    events: &[MaintenanceEvent],
    config: &Config,
    channel: Option<&str>,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let known = Known::default();
    let recorded =
        record_alerts_knowing(store, &NoFacts, events, &known, config, channel, now).await?;
    Ok(recorded.len())
}

/// [`record_alerts`], taking what `known` holds instead of reading it, and the clusters' tags
/// from `facts` when a route or mute lists tags. Returns the chat's deliveries it recorded.
pub async fn record_alerts_knowing<
    S: EventStore + DeliveryStore + ResponseStore,
    F: FactsSource,
>(
    store: &S,
    facts: &F,
    events: &[MaintenanceEvent],
    known: &Known<'_>,
    config: &Config,
    channel: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Vec<Delivery>, StoreError> {
    let (recorded, _) =
        record_holding(store, facts, events, known, config, channel, now, false).await?;
    Ok(recorded)
}

/// [`record_alerts_knowing`]; with `hold`, the chat's pending deliveries of maintenances (or
/// lone events) all of whose events the ingest has just created are not written but returned
/// apart (the outputs' are written): their sender records each as it claims it (see
/// [`Run::claim_recorded`]), or records it before anything else.
#[allow(clippy::too_many_arguments)]
async fn record_holding<S: EventStore + DeliveryStore + ResponseStore, F: FactsSource>(
    store: &S,
    facts: &F,
    events: &[MaintenanceEvent],
    known: &Known<'_>,
    config: &Config,
    channel: Option<&str>,
    now: DateTime<Utc>,
    hold: bool,
) -> Result<(Vec<Delivery>, Vec<Delivery>), StoreError> {
    let mut held = Vec::new();
    let mut candidates: Vec<&MaintenanceEvent> = events.iter().filter(|e| e.actionable).collect();
    // In the order they happened, so that the first notice of a window is the one announced.
    candidates.sort_by(|a, b| (a.occurred_at, &a.id).cmp(&(b.occurred_at, &b.id)));
    let mut recorded = Vec::new();
    let mut announced_here: BTreeSet<EventId> = BTreeSet::new();
    for event in candidates {
        // History is dropped with one lookup: an old event whose maintenance is over.
        let maintenance = match event.category.has_lifecycle() {
            true => known.maintenance(store, event).await?,
            false => None,
        };
        let ahead = maintenance.as_ref().is_some_and(|m| m.is_upcoming(now));
        if event.occurred_at < now - crate::alerting::FRESH_FOR && !ahead {
            continue;
        }
        let around = known.around(store, maintenance, event).await?;
        let ids: Vec<EventId> = around.events.iter().map(|e| e.id.clone()).collect();
        let mut announced = known.announced(store, &ids).await?;
        announced.extend(ids.iter().filter(|id| announced_here.contains(id)).cloned());
        let surroundings = Surroundings {
            maintenance: around.maintenance.as_ref(),
            events: &around.events,
            announced: &announced,
        };
        let tags = tags_for(config, facts, event, around.maintenance.as_ref()).await;
        let verdict = verdict_tagged(event, surroundings, config, channel, tags.as_ref(), now);
        let mut deliveries = deliveries_for(event, verdict, config, (channel, tags.as_ref()), now);
        if deliveries.is_empty() {
            continue;
        }
        let pending = deliveries.iter().any(|d| d.state == DeliveryState::Pending);
        let chats = deliveries.last().filter(|d| !is_output_channel(&d.channel));
        if hold && chats.is_some_and(|d| d.state == DeliveryState::Pending) && known.all_new(&ids) {
            let chats = deliveries.pop();
            store.record_deliveries(&deliveries).await?;
            announced_here.insert(event.id.clone());
            held.extend(chats);
            continue;
        }
        let recorded_now = store.record_deliveries(&deliveries).await?;
        if recorded_now.last().copied().unwrap_or(false) {
            if pending {
                announced_here.insert(event.id.clone());
            }
            recorded.extend(deliveries.pop());
        }
    }
    Ok((recorded, held))
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
    claimed: Option<Delivery>,
    /// The event whose alert the lease held was claimed with.
    claimed_own: Option<EventId>,
    /// Thread writes that go with the lease's release: what a checklist posted last changes.
    deferred: Vec<Thread>,
    /// Deliveries sent whose write goes with the lease's release (see [`Run::mark_sent_with`]).
    deferred_sent: Vec<Delivery>,
}

impl<'a, S, C, F> Run<'a, S, C, F> {
    /// A run with nothing reported yet.
    #[allow(clippy::too_many_arguments)]
    fn new(
        store: &'a S,
        sink: &'a C,
        facts: &'a F,
        runbooks: &'a Runbooks,
        config: &'a Config,
        settings: &'a NotifySettings,
        known: &'a Known<'a>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            store,
            sink,
            facts,
            runbooks,
            config,
            settings,
            now,
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

/// What [`Run::claim_recorded`] did.
enum Claimed {
    /// The lease is held and the alert marked `sending`: what to send.
    Works(Vec<Work>),
    /// Another sender holds the lease.
    Busy,
    /// Nothing was claimed: what is due is read under the lease.
    Not,
}

/// The thread a maintenance's parent starts, but for what the chat answers.
struct NewThread {
    anchor: EventId,
    group_key: String,
    /// The thread it is posted in (a grouped message's), if not its own.
    thread_ts: Option<String>,
    rendered: String,
    checklist_posted: bool,
}

impl NewThread {
    fn at(self, channel: &str, posted: &PostedMessage) -> Thread {
        Thread {
            channel: channel.to_owned(),
            channel_id: posted.channel.clone(),
            anchor: self.anchor,
            group_key: self.group_key,
            thread_ts: self.thread_ts.unwrap_or_else(|| posted.ts.clone()),
            message_ts: posted.ts.clone(),
            rendered: Some(self.rendered),
            checklist_posted: self.checklist_posted,
        }
    }
}

/// A delivery as it is recorded before its message is posted (to `thread_ts`, if a reply): a
/// lost answer is looked for there.
fn as_sending(delivery: &mut Delivery, thread_ts: Option<String>, now: DateTime<Utc>) {
    delivery.state = DeliveryState::Sending;
    delivery.thread_ts = thread_ts;
    delivery.attempts += 1;
    delivery.updated_at = now;
    delivery.next_attempt_at = now + LEASE_FOR;
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

/// Whether to go on in the channel after a send: yes unless the chat is unavailable.
fn carry_on(outcome: Result<(), Stop>) -> Result<bool, StoreError> {
    match outcome {
        Ok(()) | Err(Stop::Delivery) => Ok(true),
        Err(Stop::Channel) => Ok(false),
        Err(Stop::Store(e)) => Err(e),
    }
}

/// What a maintenance's message shows, as far as it changes: its state, windows, failovers and
/// events, and what is known of its cluster. Not the rendered text, which also says how far away
/// the deadline is and would change at every run.
fn fingerprint(around: &Around, facts: &crate::cluster::facts::ClusterFacts) -> String {
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

/// How long to wait after the `attempts`-th passing failure: 1 minute, doubling, at most an hour.
pub fn backoff(attempts: u32, asked: Option<std::time::Duration>) -> Duration {
    let doubling = Duration::minutes(1) * 2_i32.saturating_pow(attempts.saturating_sub(1).min(6));
    let asked = asked
        .and_then(|d| Duration::from_std(d).ok())
        .unwrap_or_else(Duration::zero);
    doubling.min(Duration::hours(1)).max(asked)
}

impl<S, C, F> Run<'_, S, C, F>
where
    S: EventStore + DeliveryStore + ResponseStore,
    C: ChatSink,
    F: FactsSource,
{
    async fn context_parts(
        &self,
        event: &MaintenanceEvent,
        around: &Around,
    ) -> Result<(crate::cluster::facts::ClusterFacts, Option<Maintenance>), StoreError> {
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

    fn runbook_url(&self, around: &Around, event: &MaintenanceEvent) -> Option<String> {
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
    async fn render(
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
    async fn render_acknowledged(
        &self,
        event: &MaintenanceEvent,
        around: &Around,
        how: fn(&AlertContext<'_>) -> SlackMessage,
        acknowledged: Option<slack::Acknowledgement>,
    ) -> Result<SlackMessage, StoreError> {
        let (facts, previous) = self.context_parts(event, around).await?;
        let owners = self.config.owners();
        let ctx = AlertContext {
            event,
            maintenance: around.maintenance.as_ref(),
            events: &around.events,
            previous: previous.as_ref(),
            facts: &facts,
            runbook_url: self.runbook_url(around, event),
            owners: &owners,
            now: self.now,
            zone: self.settings.zone,
            actions: self.settings.actions,
            acknowledged,
            accounts: &self.config.accounts,
        };
        Ok(how(&ctx))
    }

    /// Sends a delivery's message, recording where it goes before and that it went after; a
    /// parent's new thread is saved with the delivery sent.
    async fn send(
        &mut self,
        channel: &str,
        delivery: &mut Delivery,
        mut message: SlackMessage,
        new_thread: Option<NewThread>,
    ) -> Result<(PostedMessage, Option<Thread>), Stop> {
        message.metadata = Some(MessageMetadata::for_delivery(delivery.key()));
        // Where it is about to go is recorded first: if the answer is lost, that is where the next
        // run looks for it. A claim may have written just that already.
        as_sending(delivery, message.thread_ts.clone(), self.now);
        if self.claimed.take().as_ref() != Some(&*delivery) {
            self.store.save_delivery(delivery).await?;
        }
        match self.sink.post(channel, &message).await {
            Ok(posted) => {
                let thread = new_thread.map(|t| t.at(channel, &posted));
                self.mark_sent_with(
                    delivery,
                    &posted,
                    message.thread_ts.clone(),
                    thread.as_ref(),
                )
                .await?;
                Ok((posted, thread))
            }
            Err(e) => Err(self.failed(delivery, e).await?),
        }
    }

    async fn mark_sent(
        &mut self,
        delivery: &mut Delivery,
        posted: &PostedMessage,
        thread_ts: Option<String>,
    ) -> Result<(), StoreError> {
        self.mark_sent_with(delivery, posted, thread_ts, None).await
    }

    /// Records a delivery sent, and with it (in one write) the thread its message started. Under
    /// a lease claimed with this delivery (the one alert of a maintenance the ingest has just
    /// created), both are written with the lease's release, after the checklist: until then
    /// the delivery is `sending`, and a run that stops first leaves it to be looked for in the
    /// chat (found there, it is recorded sent and its message becomes the thread), never sent
    /// twice.
    async fn mark_sent_with(
        &mut self,
        delivery: &mut Delivery,
        posted: &PostedMessage,
        thread_ts: Option<String>,
        thread: Option<&Thread>,
    ) -> Result<(), StoreError> {
        delivery.state = DeliveryState::Sent;
        delivery.ts = Some(posted.ts.clone()).filter(|ts| !ts.is_empty());
        delivery.thread_ts = thread_ts;
        delivery.reason = None;
        delivery.updated_at = self.now;
        match thread {
            Some(t) if self.claimed_own.as_ref() == Some(&delivery.event_id) => {
                self.defer_thread(t);
                self.deferred_sent.push(delivery.clone());
            }
            Some(t) => {
                self.forget_deferred(t);
                let writes = [OutboxWrite::Delivery(delivery), OutboxWrite::Thread(t)];
                self.store.save_together(&writes).await?;
            }
            None => self.store.save_delivery(delivery).await?,
        }
        self.report.sent.push(delivery.event_id.clone());
        Ok(())
    }

    /// Writes a thread now (a deferred write of it is dropped: this one is newer).
    async fn save_thread(&mut self, thread: &Thread) -> Result<(), StoreError> {
        self.forget_deferred(thread);
        self.store.save_thread(thread).await
    }

    /// Keeps a thread's write for the lease's release.
    fn defer_thread(&mut self, thread: &Thread) {
        self.forget_deferred(thread);
        self.deferred.push(thread.clone());
    }

    fn forget_deferred(&mut self, thread: &Thread) {
        self.deferred
            .retain(|t| (&t.channel, &t.anchor) != (&thread.channel, &thread.anchor));
    }

    /// Records a failed send and says whether to stop the channel.
    async fn failed(
        &mut self,
        delivery: &mut Delivery,
        error: DeliveryError,
    ) -> Result<Stop, StoreError> {
        delivery.updated_at = self.now;
        delivery.reason = Some(error.to_string());
        let stop = match &error {
            DeliveryError::Retryable { retry_after, .. } => {
                // The message may have arrived with its answer lost: the next attempt asks first.
                delivery.state = DeliveryState::Sending;
                delivery.next_attempt_at =
                    self.now + backoff(delivery.attempts.max(1), *retry_after);
                self.report.waiting += 1;
                Stop::Channel
            }
            DeliveryError::Permanent { .. } => {
                delivery.state = DeliveryState::Failed;
                self.report
                    .failed
                    .push((delivery.event_id.clone(), error.to_string()));
                Stop::Delivery
            }
        };
        self.store.save_delivery(delivery).await?;
        Ok(stop)
    }

    /// The thread a maintenance already has in `channel`: the one anchored earliest in it.
    async fn thread_of(&self, channel: &str, work: &Work) -> Result<Option<Thread>, StoreError> {
        if !self.sink.threads() {
            return Ok(None);
        }
        let ids = work.ids();
        // A maintenance whose events this ingest has just created, still due, has no thread.
        if self.known.all_new(&ids) {
            return Ok(None);
        }
        let threads = self.store.threads(channel, &ids).await?;
        Ok(threads.into_iter().min_by_key(|t| {
            ids.iter()
                .position(|id| *id == t.anchor)
                .unwrap_or(usize::MAX)
        }))
    }

    /// Sends everything due in one channel: urgent alerts first, one by one; then replies in
    /// threads; then what is still to announce of a burst; then new maintenances, grouped when
    /// they are many (see [`burst`]).
    async fn channel(&mut self, channel: &str, works: Vec<Work>) -> Result<(), StoreError> {
        let mut urgent = Vec::new();
        let mut with_thread = Vec::new();
        let mut bursts: BTreeMap<String, Vec<(Work, Thread)>> = BTreeMap::new();
        let mut without = Vec::new();
        for work in works {
            let thread = self.thread_of(channel, &work).await?;
            match thread {
                _ if work.urgent() => urgent.push((work, thread)),
                Some(t) if burst::awaits_announcement(&work, &t) => {
                    bursts
                        .entry(t.thread_ts.clone())
                        .or_default()
                        .push((work, t));
                }
                Some(t) => with_thread.push((work, Some(t))),
                None => without.push(work),
            }
        }
        if !self.one_by_one(channel, urgent).await?
            || !self.one_by_one(channel, with_thread).await?
        {
            return Ok(());
        }
        for members in bursts.into_values() {
            if !carry_on(self.burst(channel, members).await)? {
                return Ok(());
            }
        }
        if without.len() < self.config.slack.group_threshold {
            let plan = without.into_iter().map(|w| (w, None)).collect();
            self.one_by_one(channel, plan).await?;
            return Ok(());
        }
        let group = match self.grouped(channel, &without).await {
            Ok(Some(group)) => group,
            Ok(None) | Err(Stop::Delivery) | Err(Stop::Channel) => return Ok(()),
            Err(Stop::Store(e)) => return Err(e),
        };
        let mut members = Vec::with_capacity(without.len());
        for w in without {
            let thread = burst::member_thread(channel, &group.0, &group.1, &w);
            // Saved before anything is announced: a run that stops now finds its members in
            // this thread, and announces them there.
            self.save_thread(&thread).await?;
            members.push((w, thread));
        }
        carry_on(self.burst(channel, members).await)?;
        Ok(())
    }

    /// Sends each maintenance's due deliveries in turn; `false` when the channel must wait.
    async fn one_by_one(
        &mut self,
        channel: &str,
        plan: Vec<(Work, Option<Thread>)>,
    ) -> Result<bool, StoreError> {
        for (work, thread) in plan {
            if !carry_on(self.maintenance(channel, work, thread).await)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Posts one message for many new maintenances; returns the thread their alerts go to (none
    /// for a sink without threads, where the grouped message is all that is posted).
    async fn grouped(
        &mut self,
        channel: &str,
        works: &[Work],
    ) -> Result<Option<(String, String)>, Stop> {
        let mut parts = Vec::new();
        for w in works {
            let (event, _) = &w.due[0];
            parts.push((event.clone(), self.context_parts(event, &w.around).await?));
        }
        let owners = self.config.owners();
        let contexts: Vec<AlertContext<'_>> = works
            .iter()
            .zip(&parts)
            .map(|(w, (event, (facts, previous)))| AlertContext {
                event,
                maintenance: w.around.maintenance.as_ref(),
                events: &w.around.events,
                previous: previous.as_ref(),
                facts,
                runbook_url: self.runbook_url(&w.around, event),
                owners: &owners,
                now: self.now,
                zone: self.settings.zone,
                actions: self.settings.actions,
                acknowledged: None,
                accounts: &self.config.accounts,
            })
            .collect();
        let mut message = slack::grouped(&contexts);
        let key: String = format!("group:{}", works[0].due[0].0.id);
        message.metadata = Some(MessageMetadata::for_delivery(&key));
        match self.sink.post(channel, &message).await {
            Ok(posted) => {
                self.report.grouped += 1;
                if self.sink.threads() {
                    Ok(Some((posted.channel, posted.ts)))
                } else {
                    // Without threads the grouped message says it all.
                    for w in works {
                        for (_, d) in &w.due {
                            let mut d = d.clone();
                            self.mark_sent(&mut d, &posted, None).await?;
                        }
                    }
                    Ok(None)
                }
            }
            Err(DeliveryError::Retryable {
                retry_after,
                reason,
            }) => {
                for w in works {
                    for (_, d) in &w.due {
                        let mut d = d.clone();
                        d.reason = Some(reason.clone());
                        d.attempts += 1;
                        d.next_attempt_at = self.now + backoff(d.attempts, retry_after);
                        d.updated_at = self.now;
                        self.store.save_delivery(&d).await?;
                        self.report.waiting += 1;
                    }
                }
                Err(Stop::Channel)
            }
            Err(e) => {
                for w in works {
                    for (_, d) in &w.due {
                        let mut d = d.clone();
                        self.failed(&mut d, e.clone()).await?;
                    }
                }
                Err(Stop::Delivery)
            }
        }
    }

    /// Sends a maintenance's due deliveries: its parent if it has none, replies, the checklist,
    /// and the parent's new state.
    async fn maintenance(
        &mut self,
        channel: &str,
        work: Work,
        thread: Option<Thread>,
    ) -> Result<(), Stop> {
        let Work { around, due } = work;
        let due = self.still_worth_sending(&around, due).await?;
        let mut thread = thread;
        let due = self
            .settle_uncertain(channel, &around, due, &mut thread)
            .await?;
        let mut due = due.into_iter();
        let threads = self.sink.threads();
        let needs_parent = thread.as_ref().is_none_or(|t| t.message_ts.is_empty());
        // A member of a burst may have its set's checklist already.
        let has_checklist = thread.as_ref().is_some_and(|t| t.checklist_posted);
        if needs_parent && let Some((event, mut delivery)) = due.next() {
            let mut message = self.render(&event, &around, slack::alert).await?;
            message.thread_ts = thread.as_ref().map(|t| t.thread_ts.clone());
            let rendered = fingerprint(
                &around,
                &self
                    .facts
                    .facts_for(&event, around.maintenance.as_ref())
                    .await,
            );
            let new_thread = threads.then(|| NewThread {
                anchor: event.id.clone(),
                group_key: event.group_key().unwrap_or_default(),
                thread_ts: thread.as_ref().map(|t| t.thread_ts.clone()),
                rendered,
                checklist_posted: has_checklist,
            });
            let (_, started) = self
                .send(channel, &mut delivery, message, new_thread)
                .await?;
            if let Some(mut t) = started {
                if self.settings.base_url.is_none() && !has_checklist {
                    self.checklist(channel, &event, &around, &mut t).await?;
                }
                thread = Some(t);
            }
        }
        for (event, mut delivery) in due {
            let how: fn(&AlertContext<'_>) -> SlackMessage =
                if threads { slack::update } else { slack::alert };
            let mut message = self.render(&event, &around, how).await?;
            message.thread_ts = thread.as_ref().map(|t| t.thread_ts.clone());
            self.send(channel, &mut delivery, message, None).await?;
        }
        if let Some(t) = thread.as_mut() {
            self.refresh(&around, t).await?;
        }
        Ok(())
    }

    /// Asks the chat about each delivery whose last send's answer was lost, where that send went
    /// (its recorded thread, or the channel for a parent). One that arrived is recorded as sent
    /// (and, posted as a parent, becomes the maintenance's thread); the others are sent again.
    async fn settle_uncertain(
        &mut self,
        channel: &str,
        around: &Around,
        due: Vec<(MaintenanceEvent, Delivery)>,
        thread: &mut Option<Thread>,
    ) -> Result<Vec<(MaintenanceEvent, Delivery)>, Stop> {
        let mut unsent = Vec::with_capacity(due.len());
        for (event, mut delivery) in due {
            if delivery.state != DeliveryState::Sending {
                unsent.push((event, delivery));
                continue;
            }
            // Any attempt since the delivery was recorded may have arrived.
            let since = delivery.created_at - Duration::minutes(1);
            let lookup = thread
                .as_ref()
                .map_or(channel, |t| t.channel_id.as_str())
                .to_owned();
            let at = delivery.thread_ts.clone();
            match self
                .sink
                .find_delivery(&lookup, at.as_deref(), delivery.key(), since)
                .await
            {
                Ok(Some(posted)) => {
                    self.report.recovered += 1;
                    self.mark_sent(&mut delivery, &posted, at.clone()).await?;
                    if at.is_none()
                        && self.sink.threads()
                        && thread.as_ref().is_none_or(|t| t.message_ts.is_empty())
                    {
                        let facts = self
                            .facts
                            .facts_for(&event, around.maintenance.as_ref())
                            .await;
                        let t = Thread {
                            channel: channel.to_owned(),
                            channel_id: posted.channel.clone(),
                            anchor: event.id.clone(),
                            group_key: event.group_key().unwrap_or_default(),
                            thread_ts: posted.ts.clone(),
                            message_ts: posted.ts.clone(),
                            rendered: Some(fingerprint(around, &facts)),
                            checklist_posted: false,
                        };
                        self.save_thread(&t).await?;
                        *thread = Some(t);
                    }
                }
                Err(e) if e.is_retryable() => return Err(self.failed(&mut delivery, e).await?),
                // Not there, or the chat cannot tell (a webhook): send it again. A duplicate is
                // possible only where the chat cannot be asked.
                Ok(None) | Err(_) => {
                    delivery.state = DeliveryState::Pending;
                    unsent.push((event, delivery));
                }
            }
        }
        Ok(unsent)
    }

    /// The due deliveries that are still worth a message, now that the lease is held: a notice
    /// repeating a window, or a second report of a failover, recorded by two senders at once,
    /// each before seeing the other's, is skipped once the first is sent.
    async fn still_worth_sending(
        &mut self,
        around: &Around,
        due: Vec<(MaintenanceEvent, Delivery)>,
    ) -> Result<Vec<(MaintenanceEvent, Delivery)>, StoreError> {
        let ids: Vec<EventId> = around.events.iter().map(|e| e.id.clone()).collect();
        // Under a lease claimed with the alert of a maintenance this ingest has just created (see
        // [`Run::claim_recorded`]), none of its events is sent but by this run.
        let own = self.claimed_own.as_ref().is_some_and(|id| ids.contains(id));
        let mut announced: BTreeSet<EventId> = match own && self.known.all_new(&ids) {
            true => BTreeSet::new(),
            false => self
                .store
                .deliveries(&ids)
                .await?
                .into_iter()
                .filter(|d| d.state == DeliveryState::Sent)
                .map(|d| d.event_id)
                .collect(),
        };
        let mut keep = Vec::with_capacity(due.len());
        for (event, mut delivery) in due {
            let surroundings = Surroundings {
                maintenance: around.maintenance.as_ref(),
                events: &around.events,
                announced: &announced,
            };
            match verdict(
                &event,
                surroundings,
                self.config,
                Some(delivery.channel.as_str()),
                self.now,
            ) {
                Verdict::Quiet(quiet @ (Quiet::RepeatNotice | Quiet::SameFailover)) => {
                    delivery.state = DeliveryState::Skipped;
                    delivery.reason = Some(quiet.describe().to_owned());
                    delivery.updated_at = self.now;
                    self.store.save_delivery(&delivery).await?;
                }
                _ => {
                    announced.insert(event.id.clone());
                    keep.push((event, delivery));
                }
            }
        }
        Ok(keep)
    }

    /// Posts the runbook checklist in a new thread.
    async fn checklist(
        &mut self,
        channel: &str,
        event: &MaintenanceEvent,
        around: &Around,
        thread: &mut Thread,
    ) -> Result<(), Stop> {
        let (facts, _) = self.context_parts(event, around).await?;
        let owners = self.config.owners();
        let mut input = RunbookInput::new(event, &facts, &owners, self.now);
        if let Some(m) = around.maintenance.as_ref() {
            input = input.with_maintenance(m, &around.events);
        }
        let Ok(runbook) = self.runbooks.render(&input) else {
            // A broken override never blocks an alert: the thread simply has no checklist.
            return Ok(());
        };
        for (i, mut message) in slack::checklist(&runbook).into_iter().enumerate() {
            message.thread_ts = Some(thread.thread_ts.clone());
            message.metadata = Some(MessageMetadata::for_delivery(&format!(
                "checklist:{}:{i}",
                thread.anchor
            )));
            if let Err(e) = self.sink.post(channel, &message).await {
                return Err(if e.is_retryable() {
                    Stop::Channel
                } else {
                    Stop::Delivery
                });
            }
        }
        thread.checklist_posted = true;
        // Kept for the lease's release: nothing in this run reads it before, and a run that
        // stops first has posted the parent, whose thread is saved, and no other parent.
        self.defer_thread(thread);
        self.report.checklists += 1;
        Ok(())
    }

    /// Updates a thread's maintenance message if what it should show has changed.
    async fn refresh(&mut self, around: &Around, thread: &mut Thread) -> Result<(), Stop> {
        // A member of a burst announced with others has no message of its own to update yet.
        if thread.message_ts.is_empty() {
            return Ok(());
        }
        let Some(anchor) = around
            .events
            .iter()
            .find(|e| e.id == thread.anchor)
            .cloned()
        else {
            return Ok(());
        };
        let facts = self
            .facts
            .facts_for(&anchor, around.maintenance.as_ref())
            .await;
        let rendered = fingerprint(around, &facts);
        if thread.rendered.as_deref() == Some(rendered.as_str()) {
            return Ok(());
        }
        let mut message = self.render(&anchor, around, slack::alert).await?;
        message.thread_ts =
            (thread.thread_ts != thread.message_ts).then(|| thread.thread_ts.clone());
        message.metadata = Some(MessageMetadata::for_delivery(thread.anchor.as_str()));
        match self
            .sink
            .update(&thread.channel_id, &thread.message_ts, &message)
            .await
        {
            Ok(()) => {
                thread.rendered = Some(rendered);
                self.save_thread(thread).await?;
                self.report.updated += 1;
                Ok(())
            }
            Err(e) if e.is_retryable() => Err(Stop::Channel),
            Err(_) => Err(Stop::Delivery),
        }
    }
}

/// `due` with the claimed `own` works: an own delivery read as due too (sent at once by a person's
/// run that ignores backoff) is taken once, and a maintenance is one work.
fn with_own(due: Vec<Work>, own: Vec<Work>) -> Vec<Work> {
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

/// What is due in `channel`, by maintenance, in the order it happened. A lifecycle event whose
/// maintenance is not saved yet is being ingested right now: it is left for the next run.
async fn due_in<S: EventStore + DeliveryStore + ResponseStore>(
    store: &S,
    known: &Known<'_>,
    channel: &str,
    due_by: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<Work>, StoreError> {
    let mut by_key: BTreeMap<EventId, Work> = BTreeMap::new();
    for delivery in store.due_deliveries(due_by, DUE_PER_RUN).await? {
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

/// Sends what is due. `refresh` names lifecycle groups an ingest changed without a new alert (a
/// notice merged with its text, say), whose thread parents are brought up to date too.
#[allow(clippy::too_many_arguments)]
pub async fn notify<S, C, F>(
    store: &S,
    sink: &C,
    facts: &F,
    runbooks: &Runbooks,
    config: &Config,
    settings: &NotifySettings,
    refresh: &[String],
    now: DateTime<Utc>,
) -> Result<NotifyReport, NotifyError>
where
    S: EventStore + DeliveryStore + ResponseStore,
    C: ChatSink,
    F: FactsSource,
{
    let known = Known::default();
    let run = Run::new(store, sink, facts, runbooks, config, settings, &known, now);
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

impl<S, C, F> Run<'_, S, C, F>
where
    S: EventStore + DeliveryStore + ResponseStore,
    C: ChatSink,
    F: FactsSource,
{
    /// The steps of [`notify`]; with `only`, in those channels alone and without step 1 (the
    /// ingest of one notification: see [`Reconcile::Skip`]).
    async fn all(
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
}

impl<S, C, F> Run<'_, S, C, F>
where
    S: EventStore + DeliveryStore + ResponseStore,
    C: ChatSink,
    F: FactsSource,
{
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
        Ok(record_alerts_knowing(
            store,
            self.facts,
            &missing,
            &Known::default(),
            self.config,
            self.settings.channel.as_deref(),
            now,
        )
        .await?
        .len())
    }

    /// Sends what is due in `channel` under its lease, or reports it busy. What is due is read
    /// once the lease is held (another sender may have sent some of it in the meantime); the
    /// lease may be taken with the one alert this run's ingest recorded there (see
    /// [`Run::claim_recorded`]), which then goes with it.
    async fn channel_under_lease(
        &mut self,
        channel: String,
        due_by: DateTime<Utc>,
    ) -> Result<(), NotifyError> {
        let (store, now) = (self.store, self.now);
        let lease = format!("chat:{channel}");
        let due = match self.claim_recorded(&channel, &lease).await? {
            // What else is due there (alerts recorded while another sender held the lease, a
            // burst) goes with it, grouped as a burst is.
            Claimed::Works(mine) => due_in(store, self.known, &channel, due_by, now)
                .await
                .map(|due| with_own(due, mine)),
            Claimed::Busy => {
                self.report.busy.push(channel);
                return Ok(());
            }
            Claimed::Not => {
                let holder = &self.settings.holder;
                if !store
                    .acquire_lease(&lease, holder, now, now + LEASE_FOR)
                    .await?
                {
                    self.report.busy.push(channel);
                    return Ok(());
                }
                due_in(store, self.known, &channel, due_by, now).await
            }
        };
        let outcome = match due {
            // Boxed: nested in every door's future, a channel's would make their types too deep.
            Ok(works) => Box::pin(self.channel(&channel, works)).await,
            Err(e) => Err(e),
        };
        self.release(&lease).await?;
        Ok(outcome?)
    }

    /// Takes `channel`'s lease with the one alert this run's ingest recorded there and marks it
    /// `sending`, in one step conditional on the alert being still as recorded (a sender that
    /// took it in the meantime changed it): its maintenance's deliveries need not be read.
    /// Only for a maintenance (or lone event) all of whose events the ingest has just created,
    /// which has no thread yet: the alert is its parent, sent where the claim says.
    async fn claim_recorded(&mut self, channel: &str, lease: &str) -> Result<Claimed, StoreError> {
        let (store, now) = (self.store, self.now);
        let held: Vec<Delivery> = self
            .held
            .iter()
            .filter(|d| d.channel == channel)
            .cloned()
            .collect();
        self.held.retain(|d| d.channel != channel);
        let mut mine = self
            .recorded
            .iter()
            .filter(|d| d.channel == channel && d.state == DeliveryState::Pending)
            .chain(&held);
        let (Some(delivery), None) = (mine.next().cloned(), mine.next()) else {
            store.record_deliveries(&held).await?;
            return Ok(Claimed::Not);
        };
        let Some((event, maintenance)) = self.known.all_new_around(&delivery.event_id) else {
            store.record_deliveries(&held).await?;
            return Ok(Claimed::Not);
        };
        let mut sending = delivery.clone();
        as_sending(&mut sending, None, now);
        let holder = &self.settings.holder;
        let was = held.is_empty().then_some(&delivery);
        let claim = store
            .claim(lease, holder, now, now + LEASE_FOR, was, &sending)
            .await?;
        match claim {
            Claim::Taken => {
                self.claimed = Some(sending);
                self.claimed_own = Some(event.id.clone());
                let around = self.known.around(store, maintenance, &event).await?;
                Ok(Claimed::Works(vec![Work {
                    around,
                    due: vec![(event, delivery)],
                }]))
            }
            Claim::Busy => {
                store.record_deliveries(&held).await?;
                Ok(Claimed::Busy)
            }
            // Recorded (or taken) by another sender meanwhile: it is read under the lease.
            Claim::Changed => Ok(Claimed::Not),
        }
    }

    /// Gives `lease` back, with the thread writes kept for it.
    async fn release(&mut self, lease: &str) -> Result<(), StoreError> {
        let deferred = std::mem::take(&mut self.deferred);
        let sent = std::mem::take(&mut self.deferred_sent);
        self.claimed = None;
        self.claimed_own = None;
        let mut writes: Vec<OutboxWrite<'_>> = sent.iter().map(OutboxWrite::Delivery).collect();
        writes.extend(deferred.iter().map(OutboxWrite::Thread));
        writes.push(OutboxWrite::Release {
            name: lease,
            holder: &self.settings.holder,
        });
        self.store.save_together(&writes).await
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
            let around = events_around(store, Some(m.clone()), &anchor).await?;
            // A chat that is down or refuses leaves the old state shown; the next run tries again.
            if let Err(Stop::Store(e)) = self.refresh(&around, &mut thread).await {
                return Err(e.into());
            }
        }
        Ok(())
    }
}

/// A message that would be posted, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    /// The channel it would go to.
    pub channel: String,
    /// Whether it would be a reply in its maintenance's thread.
    pub reply: bool,
    /// The message.
    pub message: SlackMessage,
}

/// What [`record_alerts`] and [`notify`] would post for `events`, without recording or sending
/// anything: the alerts a person sees when Slack is not configured.
pub async fn preview<S: EventStore + DeliveryStore + ResponseStore, F: FactsSource>(
    store: &S,
    facts: &F,
    events: &[MaintenanceEvent],
    config: &Config,
    settings: &NotifySettings,
    now: DateTime<Utc>,
) -> Result<Vec<Preview>, StoreError> {
    let (runbooks, known) = (Runbooks::embedded(), Known::default());
    let run = Run::new(
        store, &NoSink, facts, &runbooks, config, settings, &known, now,
    );
    let mut candidates: Vec<&MaintenanceEvent> = events.iter().filter(|e| e.actionable).collect();
    candidates.sort_by(|a, b| (a.occurred_at, &a.id).cmp(&(b.occurred_at, &b.id)));
    let mut announced: BTreeSet<EventId> = BTreeSet::new();
    let mut with_thread: BTreeSet<EventId> = BTreeSet::new();
    let mut previews = Vec::new();
    for event in candidates {
        let around = around_of(store, event).await?;
        let surroundings = Surroundings {
            maintenance: around.maintenance.as_ref(),
            events: &around.events,
            announced: &announced,
        };
        let tags = tags_for(config, facts, event, around.maintenance.as_ref()).await;
        let Verdict::Announce { channel } = verdict_tagged(
            event,
            surroundings,
            config,
            settings.channel.as_deref(),
            tags.as_ref(),
            now,
        ) else {
            continue;
        };
        announced.insert(event.id.clone());
        let key = around
            .maintenance
            .as_ref()
            .map_or_else(|| event.id.clone(), |m| m.id.clone());
        let reply = !with_thread.insert(key);
        let how: fn(&AlertContext<'_>) -> SlackMessage =
            if reply { slack::update } else { slack::alert };
        previews.push(Preview {
            channel,
            reply,
            message: run.render(event, &around, how).await?,
        });
    }
    Ok(previews)
}

/// The thread parent of the maintenance `anchor` belongs to (`anchor`'s alert is the parent), as
/// it stands now and showing who acknowledged it: what replaces the parent when someone presses
/// Acknowledge. The message carries `anchor`'s delivery key, as the parent does.
pub async fn parent_message<S: EventStore + DeliveryStore + ResponseStore, F: FactsSource>(
    store: &S,
    facts: &F,
    config: &Config,
    settings: &NotifySettings,
    anchor: &MaintenanceEvent,
    acknowledged: Option<slack::Acknowledgement>,
    now: DateTime<Utc>,
) -> Result<SlackMessage, StoreError> {
    let (runbooks, known) = (Runbooks::embedded(), Known::default());
    let run = Run::new(
        store, &NoSink, facts, &runbooks, config, settings, &known, now,
    );
    let around = around_of(store, anchor).await?;
    let mut message = run
        .render_acknowledged(anchor, &around, slack::alert, acknowledged)
        .await?;
    message.metadata = Some(MessageMetadata::for_delivery(anchor.id.as_str()));
    Ok(message)
}

/// The sink of a preview or of a message rendered to be put in place elsewhere: never called.
struct NoSink;

impl ChatSink for NoSink {
    fn threads(&self) -> bool {
        true
    }

    async fn post(
        &self,
        _channel: &str,
        _message: &SlackMessage,
    ) -> Result<PostedMessage, DeliveryError> {
        Err(DeliveryError::Permanent {
            code: "preview".into(),
            detail: "a preview sends nothing".into(),
        })
    }
}

/// What every door does after an ingest: records the alerts of the new events (with the
/// maintenances and events the ingest has in hand, not read again) and sends what is due,
/// refreshing the threads of groups the ingest changed without a new event (a notice merged
/// with its text); `reconcile` says whether the run first records what an interrupted ingest
/// did not.
#[allow(clippy::too_many_arguments)]
pub async fn after_ingest<S, C, F>(
    store: &S,
    sink: &C,
    facts: &F,
    runbooks: &Runbooks,
    config: &Config,
    settings: &NotifySettings,
    outcome: &crate::intake::pipeline::IngestOutcome,
    reconcile: Reconcile,
    now: DateTime<Utc>,
) -> Result<NotifyReport, NotifyError>
where
    S: EventStore + DeliveryStore + ResponseStore,
    C: ChatSink,
    F: FactsSource,
{
    let new: Vec<MaintenanceEvent> = outcome
        .events
        .iter()
        .filter(|e| e.new)
        .map(|e| e.event.clone())
        .collect();
    let known = Known::of(outcome);
    let (recorded, held) = record_holding(
        store,
        facts,
        &new,
        &known,
        config,
        settings.channel.as_deref(),
        now,
        reconcile == Reconcile::Skip,
    )
    .await?;
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
    let mut run = Run::new(store, sink, facts, runbooks, config, settings, &known, now);
    run.recorded = recorded;
    run.held = held;
    run.all(&refresh, channels).await
}
