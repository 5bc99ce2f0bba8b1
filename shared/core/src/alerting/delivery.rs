//! Sending messages to a chat: the [`ChatSink`] trait the Slack adapter implements, what a send
//! can come back with, and the modals of [`SlackViews`].

use std::collections::BTreeSet;
use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::alerting::outbound::{OutboundEvent, Output, is_output_channel};
use crate::alerting::slack::SlackMessage;
use crate::alerting::slack::blockkit::View;
use crate::history::store::StoreError;
use crate::model::event::EventId;

/// A message the chat accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedMessage {
    /// The channel it went to (Slack's id when the API says it).
    pub channel: String,
    /// Its timestamp, which names it in `chat.update` and as a thread. Empty for sinks without
    /// threads (an incoming webhook).
    pub ts: String,
}

/// Why a send did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// A passing condition (rate limited, server error, timeout) that survived the sink's own
    /// retries: try again later.
    #[error("the chat is unavailable: {reason}")]
    Retryable {
        /// What happened.
        reason: String,
        /// How long the chat asked us to wait (Slack's `Retry-After`).
        retry_after: Option<Duration>,
    },
    /// The chat refused for good (`channel_not_found`, `invalid_auth`, ...): trying again will not
    /// help until someone changes the configuration.
    #[error("the chat refused: {code}{}", if detail.is_empty() { String::new() } else { format!(" ({detail})") })]
    Permanent {
        /// Slack's error code.
        code: String,
        /// More about it.
        detail: String,
    },
}

impl DeliveryError {
    /// Whether trying again later may work.
    pub fn is_retryable(&self) -> bool {
        matches!(self, DeliveryError::Retryable { .. })
    }
}

/// A chat to post to: Slack's Web API (threads, updates) or an incoming webhook (neither).
///
/// Implementations retry passing failures themselves (honouring `Retry-After`, with a bounded
/// backoff), keep to Slack's pace of one message a second per channel, and return an error only
/// once that is spent.
pub trait ChatSink: Send + Sync {
    /// Whether messages can be threaded and updated (`false` for a webhook).
    fn threads(&self) -> bool;

    /// Posts a message (in `message.thread_ts`'s thread if set) to `channel`.
    fn post(
        &self,
        channel: &str,
        message: &SlackMessage,
    ) -> impl Future<Output = Result<PostedMessage, DeliveryError>> + Send;

    /// Replaces the message `ts` of `channel` with `message`. By default nothing is sent: what a
    /// sink without threads (a webhook, a preview) posted cannot be changed.
    fn update(
        &self,
        channel: &str,
        ts: &str,
        message: &SlackMessage,
    ) -> impl Future<Output = Result<(), DeliveryError>> + Send {
        let _ = (channel, ts, message);
        std::future::ready(Ok(()))
    }

    /// A message cachewatch posted to `channel` (in the thread `thread_ts`, when given) since
    /// `since` for the delivery `key` (see [`crate::alerting::slack::MessageMetadata::for_delivery`]), if
    /// Slack has it: how a send whose answer was lost is told apart from one that never arrived.
    /// `Ok(None)` when the sink cannot tell (a webhook, a preview): the default.
    fn find_delivery(
        &self,
        channel: &str,
        thread_ts: Option<&str>,
        key: &str,
        since: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<PostedMessage>, DeliveryError>> + Send {
        let _ = (channel, thread_ts, key, since);
        std::future::ready(Ok(None))
    }

    /// The outputs beyond Slack this sink also delivers to (see [`crate::alerting::outbound`]):
    /// none unless configured.
    fn outputs(&self) -> Vec<Output> {
        Vec::new()
    }

    /// Delivers one alert to `output`. Like [`ChatSink::post`], passing failures are retried
    /// within the call and an error returned only once that is spent.
    fn deliver(
        &self,
        output: Output,
        event: &OutboundEvent,
    ) -> impl Future<Output = Result<(), DeliveryError>> + Send {
        let _ = event;
        std::future::ready(Err(DeliveryError::Permanent {
            code: "output_not_configured".into(),
            detail: output.name().into(),
        }))
    }
}

/// Slack's modals: the forms a person fills in after pressing a button (the outcome of a
/// maintenance). Only the Web API opens them; a webhook cannot.
pub trait SlackViews: Send + Sync {
    /// Opens `view` (built by the caller) for the person whose
    /// interaction carried `trigger_id`. Slack accepts a trigger once, within 3 seconds of the
    /// interaction, so implementations retry little and fast.
    fn open_view(
        &self,
        trigger_id: &str,
        view: &View,
    ) -> impl Future<Output = Result<(), DeliveryError>> + Send;
}

/// Where an alert stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// To send.
    Pending,
    /// A send began and its answer is not recorded: if it is due again, Slack is asked whether
    /// the message arrived before it is sent again.
    Sending,
    /// Sent.
    Sent,
    /// The chat refused for good; `reason` says why.
    Failed,
    /// Held back by a mute.
    Muted,
    /// Actionable but not worth a message; `reason` says why.
    Skipped,
}

impl DeliveryState {
    /// The state's name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Sending => "sending",
            DeliveryState::Sent => "sent",
            DeliveryState::Failed => "failed",
            DeliveryState::Muted => "muted",
            DeliveryState::Skipped => "skipped",
        }
    }

    /// Reads a state name.
    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Sending,
            Self::Sent,
            Self::Failed,
            Self::Muted,
            Self::Skipped,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }

    /// Whether the alert is still to be sent.
    pub fn is_due_kind(self) -> bool {
        matches!(self, DeliveryState::Pending | DeliveryState::Sending)
    }

    /// Whether the event counts as announced (sent, or about to be).
    pub fn announces(self) -> bool {
        matches!(
            self,
            DeliveryState::Pending | DeliveryState::Sending | DeliveryState::Sent
        )
    }
}

/// The alert of one event, recorded before it is sent: the outbox.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Delivery {
    /// The event announced; also the delivery's key in message metadata.
    pub event_id: EventId,
    /// The channel.
    pub channel: String,
    /// The event's lifecycle group, if any.
    pub group_key: Option<String>,
    /// Where it stands.
    pub state: DeliveryState,
    /// Why it was skipped, muted or failed, or the last passing error.
    pub reason: Option<String>,
    /// Sends tried.
    pub attempts: u32,
    /// When it may be tried next.
    #[serde(with = "crate::model::event::rfc3339")]
    pub next_attempt_at: DateTime<Utc>,
    /// When it was recorded.
    #[serde(with = "crate::model::event::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(with = "crate::model::event::rfc3339")]
    pub updated_at: DateTime<Utc>,
    /// The message's timestamp, once sent.
    pub ts: Option<String>,
    /// The thread it went to.
    pub thread_ts: Option<String>,
}

impl Delivery {
    /// A new delivery of `event_id` recorded at `now`.
    pub fn new(
        event_id: EventId,
        channel: String,
        group_key: Option<String>,
        state: DeliveryState,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            event_id,
            channel,
            group_key,
            state,
            reason: None,
            attempts: 0,
            next_attempt_at: now,
            created_at: now,
            updated_at: now,
            ts: None,
            thread_ts: None,
        }
    }

    /// The key its message's metadata carries.
    pub fn key(&self) -> &str {
        self.event_id.as_str()
    }

    /// Which of an event's deliveries this is: `""` for Slack's, else the output's name. An
    /// event has at most one delivery per lane.
    pub fn lane(&self) -> &'static str {
        Output::of_channel(&self.channel).map_or("", Output::name)
    }
}

/// A maintenance's Slack thread in one channel.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Thread {
    /// The channel, as configured (a name or an id).
    pub channel: String,
    /// The channel's id as Slack answered it: updates and lookups need the id, not a name.
    pub channel_id: String,
    /// The event whose alert is the maintenance's own message: the thread belongs to whichever
    /// maintenance holds this event (maintenance ids can change; event ids do not).
    pub anchor: EventId,
    /// The lifecycle group.
    pub group_key: String,
    /// The thread replies go to (the maintenance's message, or a grouped message it replies in).
    pub thread_ts: String,
    /// The maintenance's own message, which is updated to show its current state.
    pub message_ts: String,
    /// A fingerprint of what the message shows now.
    pub rendered: Option<String>,
    /// Whether the runbook checklist was posted in the thread.
    pub checklist_posted: bool,
}

/// The outbox of alerts and the threads they went to.
pub trait DeliveryStore: Send + Sync {
    /// Records deliveries whose event has none yet in their [`Delivery::lane`]; returns, per
    /// delivery, whether it was recorded.
    fn record_deliveries(
        &self,
        deliveries: &[Delivery],
    ) -> impl Future<Output = Result<Vec<bool>, StoreError>> + Send;

    /// The deliveries of these events (those that have one), Slack's and the outputs'.
    fn deliveries(
        &self,
        events: &[EventId],
    ) -> impl Future<Output = Result<Vec<Delivery>, StoreError>> + Send;

    /// Deliveries to send now (`pending` or `sending`, due by `now`), oldest first, at most `limit`.
    fn due_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Delivery>, StoreError>> + Send;

    /// The `pending` deliveries due by `now`, oldest first, at most `limit`: those of
    /// [`Self::due_deliveries`] without the `sending` ones (sends whose answer was lost, which
    /// the scheduled run settles). By default all of [`Self::due_deliveries`], narrowed: a store
    /// that can read the pending ones alone does.
    fn pending_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Delivery>, StoreError>> + Send {
        async move {
            let mut due = self.due_deliveries(now, usize::MAX).await?;
            due.retain(|d| d.state == DeliveryState::Pending);
            due.truncate(limit);
            Ok(due)
        }
    }

    /// Deliveries in a state (e.g. `failed`), newest first, at most `limit`.
    fn deliveries_in(
        &self,
        state: DeliveryState,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Delivery>, StoreError>> + Send;

    /// Writes a delivery's new state.
    fn save_delivery(
        &self,
        delivery: &Delivery,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The threads of `channel` anchored on any of `anchors`.
    fn threads(
        &self,
        channel: &str,
        anchors: &[EventId],
    ) -> impl Future<Output = Result<Vec<Thread>, StoreError>> + Send;

    /// Writes a thread.
    fn save_thread(&self, thread: &Thread) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Takes the lease `lease.name` for `lease.holder` until `lease.until`, if it is free (or
    /// already this holder's) at `lease.now`. Only the holder of a channel's lease sends to it.
    fn acquire_lease(
        &self,
        lease: LeaseRequest<'_>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Who holds (or last held, when it has expired) the lease `name`, and until when; `None`
    /// when it was never taken or was given back.
    fn lease(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<(String, DateTime<Utc>)>, StoreError>> + Send;

    /// Gives the lease back, if `holder` has it.
    fn release_lease(
        &self,
        name: &str,
        holder: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Takes `claim.lease` (as [`Self::acquire_lease`]) and, in the same atomic step, writes the
    /// delivery `claim.becomes`, if both hold: the lease is free (or already this holder's) at
    /// its `now`, and the delivery is stored as `claim.was` (the same state, attempts and last
    /// change), or, with `was` `None`, is not recorded at all. Nothing is written otherwise. A
    /// sender that records a delivery itself starts sending it this way, without reading again
    /// what is due: another sender that took it has changed it.
    fn claim(
        &self,
        claim: ClaimRequest<'_>,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send;

    /// Whether nothing besides its own alert is pending in `channel` after this store's last
    /// [`Self::claim`] there, taken a moment ago: the store marks a channel when it writes an
    /// alert pending there, a claim that finds the mark clears it (its caller then reads what
    /// is pending), and a claim that finds none says so here, once. `false` when the store
    /// cannot tell (the default): what is pending is read.
    fn nothing_else_pending(&self, channel: &str) -> bool {
        let _ = channel;
        false
    }

    /// Applies `writes` together (in one transaction where the backend has them). A
    /// [`OutboxWrite::Release`] gives the lease back only if its holder has it; the other writes
    /// are kept either way.
    fn save_together(
        &self,
        writes: &[OutboxWrite<'_>],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// A lease asked for: `name` for `holder` from `now` until `until` (see
/// [`DeliveryStore::acquire_lease`] and [`DeliveryStore::claim`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseRequest<'a> {
    /// The lease (`chat:#ops`, a canary's, a daily job's).
    pub name: &'a str,
    /// Who asks for it.
    pub holder: &'a str,
    /// When it is asked for: the lease is free if it ran out by then.
    pub now: DateTime<Utc>,
    /// Until when it is held.
    pub until: DateTime<Utc>,
}

impl<'a> LeaseRequest<'a> {
    /// `name` for `holder` from `now` until `until`.
    pub fn new(name: &'a str, holder: &'a str, now: DateTime<Utc>, until: DateTime<Utc>) -> Self {
        Self {
            name,
            holder,
            now,
            until,
        }
    }
}

/// A claim asked for: a lease, and the delivery written with it (see [`DeliveryStore::claim`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimRequest<'a> {
    /// The lease taken.
    pub lease: LeaseRequest<'a>,
    /// The delivery as it must be stored (`None`: not recorded at all).
    pub was: Option<&'a Delivery>,
    /// What it becomes.
    pub becomes: &'a Delivery,
}

/// What [`DeliveryStore::claim`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// The lease is taken and the delivery written.
    Taken,
    /// Another holder has the lease: nothing was written.
    Busy,
    /// The lease is free but the delivery is not stored as it was (or, not recorded before, is
    /// now): nothing was written.
    Changed,
}

/// One write of [`DeliveryStore::save_together`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxWrite<'a> {
    /// Writes a delivery's new state.
    Delivery(&'a Delivery),
    /// Writes a thread.
    Thread(&'a Thread),
    /// Gives the lease `name` back, if `holder` has it.
    Release {
        /// The lease.
        name: &'a str,
        /// Who gives it back.
        holder: &'a str,
    },
}

/// What [`DeliveryStore::due_deliveries`] answers from the deliveries a store `found`: those due
/// at `now`, oldest first, at most `limit`.
pub fn due_at(
    found: impl IntoIterator<Item = Delivery>,
    now: DateTime<Utc>,
    limit: usize,
) -> Vec<Delivery> {
    let mut due: Vec<Delivery> = found
        .into_iter()
        .filter(|d| d.state.is_due_kind() && d.next_attempt_at <= now)
        .collect();
    due.sort_by(|a, b| (a.created_at, &a.event_id).cmp(&(b.created_at, &b.event_id)));
    due.truncate(limit);
    due
}

/// What [`DeliveryStore::deliveries_in`] answers from the deliveries a store `found`: those in
/// `state`, last changed first, at most `limit`.
pub fn latest_in(
    found: impl IntoIterator<Item = Delivery>,
    state: DeliveryState,
    limit: usize,
) -> Vec<Delivery> {
    let mut latest: Vec<Delivery> = found.into_iter().filter(|d| d.state == state).collect();
    latest.sort_by(|a, b| (b.updated_at, &b.event_id).cmp(&(a.updated_at, &a.event_id)));
    latest.truncate(limit);
    latest
}

/// Whether the delivery stored is `was` as far as [`DeliveryStore::claim`] compares them: the
/// same state, attempts and last change (to the millisecond, as every store keeps times).
pub fn unchanged(stored: Option<&Delivery>, was: Option<&Delivery>) -> bool {
    match (stored, was) {
        (None, None) => true,
        (Some(stored), Some(was)) => {
            stored.state == was.state
                && stored.attempts == was.attempts
                && stored.updated_at.timestamp_millis() == was.updated_at.timestamp_millis()
        }
        _ => false,
    }
}

/// The chat channels the alerts of `events` were sent to (the outputs beside Slack left out):
/// where their threads are.
pub async fn sent_channels<S: DeliveryStore>(
    store: &S,
    events: &[EventId],
) -> Result<BTreeSet<String>, StoreError> {
    Ok(store
        .deliveries(events)
        .await?
        .into_iter()
        .filter(|d| d.state == DeliveryState::Sent && !is_output_channel(&d.channel))
        .map(|d| d.channel)
        .collect())
}
