//! Which deliveries an event's verdict records, before anything is sent: the chat's and the
//! outputs', one per event that alerts, is muted or is skipped for a reason worth keeping.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::Known;
use crate::alerting::delivery::{Delivery, DeliveryState};
use crate::alerting::outbound::{self, is_output_channel};
use crate::alerting::{Quiet, Surroundings, Verdict, tags_for, verdict_tagged};
use crate::cluster::source::{FactsSource, NoFacts};
use crate::config::Config;
use crate::history::History;
use crate::history::store::StoreError;
use crate::model::event::{EventId, MaintenanceEvent};

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

/// What a recording of alerts works with: the history and its outbox, the clusters' facts (their
/// tags, when a route or mute lists tags), what the caller knows already, and the rules (the
/// team's configuration and the default channel) at `now`.
pub struct Recorder<'a, S, F> {
    /// The history and its outbox.
    pub store: &'a S,
    /// The facts of the clusters, for their tags.
    pub facts: &'a F,
    /// What the caller holds already and need not be read again.
    pub known: &'a Known<'a>,
    /// The team's configuration (routes, mutes).
    pub config: &'a Config,
    /// The channel of alerts no route claims.
    pub channel: Option<&'a str>,
    /// When the alerts are recorded.
    pub now: DateTime<Utc>,
}

/// Records the alerts of `events` (new or not yet decided): one delivery per event that alerts,
/// is muted, or is skipped for a reason worth keeping. Returns how many were recorded. No
/// cluster's tags are looked up: routes and mutes by tag hold none (see
/// [`record_alerts_knowing`], which takes a facts source).
pub async fn record_alerts<S: History>(
    store: &S,
    events: &[MaintenanceEvent],
    config: &Config,
    channel: Option<&str>,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let known = Known::default();
    let recorder = Recorder {
        store,
        facts: &NoFacts,
        known: &known,
        config,
        channel,
        now,
    };
    let recorded = record_alerts_knowing(recorder, events).await?;
    Ok(recorded.len())
}

/// [`record_alerts`], taking what the recorder's `known` holds instead of reading it, and the
/// clusters' tags from its `facts` when a route or mute lists tags. Returns the chat's
/// deliveries it recorded.
pub async fn record_alerts_knowing<S: History, F: FactsSource>(
    recorder: Recorder<'_, S, F>,
    events: &[MaintenanceEvent],
) -> Result<Vec<Delivery>, StoreError> {
    let (recorded, _) = record_holding(recorder, events, false).await?;
    Ok(recorded)
}

/// [`record_alerts_knowing`]; with `hold`, the chat's pending deliveries of maintenances (or
/// lone events) all of whose events the ingest has just created are not written but returned
/// apart (the outputs' are written): their sender records each as it claims it (see
/// [`super::Run::claim_recorded`]), or records it before anything else.
pub(super) async fn record_holding<S: History, F: FactsSource>(
    recorder: Recorder<'_, S, F>,
    events: &[MaintenanceEvent],
    hold: bool,
) -> Result<(Vec<Delivery>, Vec<Delivery>), StoreError> {
    let Recorder {
        store,
        facts,
        known,
        config,
        channel,
        now,
    } = recorder;
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
