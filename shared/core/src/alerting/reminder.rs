//! Reminders until someone acts: while nobody has acknowledged a maintenance, a reply in its
//! thread mentions its owners at each configured lead before the deadline (by default 72 h, 24 h
//! and 2 h before the window opens).
//!
//! [`due_step`] decides, purely, which step (if any) is due for a maintenance at a time. A step
//! is named by the maintenance, its deadline and its lead ([`ReminderStep::key`]), so that a
//! reschedule starts the steps again for the new deadline. [`send_reminders`] sends each step
//! once whatever the runs, retries and concurrent senders, with the store's leases (conditional
//! writes in SQLite and DynamoDB): a step marked sent is left alone; otherwise a sender claims it
//! for a few minutes, asks the chat whether an earlier send whose answer was lost arrived after
//! all, posts, and marks it sent until long after the deadline (a lease held by no sender). A
//! send that fails leaves it unmarked for the next run; a sender that dies holding the claim
//! leaves it to the next run once the claim expires.

use chrono::{DateTime, Duration, Utc};

use crate::alerting::delivery::{ChatSink, DeliveryError, LeaseRequest, Thread, sent_channels};
use crate::alerting::notify::{LEASE_FOR, NotifyError, NotifySettings};
use crate::alerting::slack::{self, ReminderText};
use crate::config::Config;
use crate::history::History;
use crate::history::store::StoreError;
use crate::lifecycle::{Maintenance, MaintenanceKind, MaintenanceState};
use crate::model::event::EventId;

/// How long after its deadline a step's lease is kept: past any run that could still see the
/// maintenance as ahead.
const KEEP_AFTER_DEADLINE: Duration = Duration::days(7);
/// The holder of the lease that marks a step sent: no sender's name (theirs hold a `/`).
const SENT: &str = "sent";

/// One reminder of one maintenance for one deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderStep {
    /// The maintenance.
    pub maintenance: EventId,
    /// The deadline it reminds of (the window's start).
    pub deadline: DateTime<Utc>,
    /// How long before the deadline it is due.
    pub lead: Duration,
}

impl ReminderStep {
    /// When it is due.
    pub fn due_at(&self) -> DateTime<Utc> {
        self.deadline - self.lead
    }

    /// Its name in the store and in the message's metadata: the maintenance, the deadline and
    /// the lead, so that a new deadline has new steps.
    pub fn key(&self) -> String {
        format!(
            "reminder:{}:{}:{}m",
            self.maintenance,
            self.deadline.timestamp(),
            self.lead.num_minutes()
        )
    }
}

/// Since when the maintenance's current deadline has been known: its first notice, or for a
/// rescheduled one its latest event (the notice that moved it, or later).
pub fn known_since(m: &Maintenance) -> DateTime<Utc> {
    if m.previous_windows.is_empty() {
        m.first_event_at
    } else {
        m.last_event_at
    }
}

/// The step due for `m` at `now`, if any. `leads` are longest first ([`Config::reminder_leads`]).
///
/// Only a planned maintenance still ahead (scheduled or rescheduled, not a drill) that nobody has
/// acknowledged is reminded of. A step is due from its time until the next step's time (or the
/// deadline): a run that comes late sends the current step, never a passed one. A step whose
/// time came before the deadline was known is not sent at all: the alert itself told people.
pub fn due_step(
    m: &Maintenance,
    acknowledged: bool,
    leads: &[Duration],
    now: DateTime<Utc>,
) -> Option<ReminderStep> {
    let ahead = matches!(
        m.status(now),
        MaintenanceState::Scheduled | MaintenanceState::Rescheduled
    );
    if acknowledged || m.drill || m.kind != MaintenanceKind::Planned || !ahead {
        return None;
    }
    let deadline = m.deadline()?;
    if now >= deadline {
        return None;
    }
    let known = known_since(m);
    leads.iter().enumerate().find_map(|(i, &lead)| {
        let due = deadline - lead;
        let until = leads.get(i + 1).map_or(deadline, |&next| deadline - next);
        (due <= now && now < until && known <= due).then(|| ReminderStep {
            maintenance: m.id.clone(),
            deadline,
            lead,
        })
    })
}

/// What a run of [`send_reminders`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReminderReport {
    /// Steps posted, by key.
    pub sent: Vec<String>,
    /// Steps whose earlier send turned out to have arrived.
    pub recovered: usize,
    /// Due steps another sender has sent or is sending.
    pub already: usize,
    /// Due steps with no thread to post in yet (the alert is not sent).
    pub no_thread: usize,
    /// Due steps left for the next run because the chat is unavailable, with what it said.
    pub waiting: Vec<(String, String)>,
    /// Steps the chat refused, with its reason (tried again next run: the fix is often the
    /// configuration).
    pub failed: Vec<(String, String)>,
}

/// Posts the reminders due at `now` in the threads of the maintenances they are about. Nothing
/// is sent through a chat without threads (a webhook).
pub async fn send_reminders<S, C>(
    store: &S,
    sink: &C,
    config: &Config,
    settings: &NotifySettings,
    now: DateTime<Utc>,
) -> Result<ReminderReport, NotifyError>
where
    S: History,
    C: ChatSink,
{
    let mut report = ReminderReport::default();
    let leads = config.reminder_leads();
    if !sink.threads() || leads.is_empty() {
        return Ok(report);
    }
    // A claim can outlive a run that dies: a holder per run, so that the same sender's next run
    // does not take it as its own while it may still be posting.
    let holder = format!(
        "{}/reminders/{}",
        settings.holder,
        now.timestamp_nanos_opt().unwrap_or_default()
    );
    let sender = Sender {
        store,
        sink,
        config,
        settings,
        holder: &holder,
        now,
    };
    for m in store.open_maintenances(now, false).await? {
        let Some(step) = due_step(&m, false, &leads, now) else {
            continue;
        };
        if !store.acknowledgements(&m.event_ids).await?.is_empty() {
            continue;
        }
        sender.send(&m, &step, &mut report).await?;
    }
    Ok(report)
}

/// Whether a step's reminder is in Slack.
enum Posted {
    /// Posted by this run.
    Now,
    /// Found there: an earlier send whose answer was lost.
    Before,
}

/// One run sending reminders.
struct Sender<'a, S, C> {
    store: &'a S,
    sink: &'a C,
    config: &'a Config,
    settings: &'a NotifySettings,
    holder: &'a str,
    now: DateTime<Utc>,
}

impl<S, C> Sender<'_, S, C>
where
    S: History,
    C: ChatSink,
{
    /// Sends `step` of `m` once: unless it is marked sent, under its claim, unless Slack has it
    /// already; then marks it sent.
    async fn send(
        &self,
        m: &Maintenance,
        step: &ReminderStep,
        report: &mut ReminderReport,
    ) -> Result<(), StoreError> {
        let Some(thread) = self.thread_of(m).await? else {
            report.no_thread += 1;
            return Ok(());
        };
        let key = step.key();
        let (store, holder, now) = (self.store, self.holder, self.now);
        let marker = format!("{key}:{SENT}");
        // Taking the marker for no time at all succeeds only while nobody has marked the step.
        let unmarked = || store.acquire_lease(LeaseRequest::new(&marker, holder, now, now));
        if !unmarked().await?
            || !store
                .acquire_lease(LeaseRequest::new(&key, holder, now, now + LEASE_FOR))
                .await?
        {
            report.already += 1;
            return Ok(());
        }
        // Looked again under the claim: a sender that marked the step and let its claim go
        // between the first look and the claim has sent it.
        if !unmarked().await? {
            report.already += 1;
            return store.release_lease(&key, holder).await;
        }
        let mention = match store.event(&thread.anchor).await? {
            Some(anchor) => self.config.mention_for(&anchor),
            None => self.config.reminders.mention.as_deref(),
        };
        let sent = match self.post(m, step, &thread, &key, mention).await {
            Ok(Posted::Now) => {
                report.sent.push(key.clone());
                true
            }
            Ok(Posted::Before) => {
                report.recovered += 1;
                true
            }
            Err(e) => {
                let failed = (key.clone(), e.to_string());
                if e.is_retryable() {
                    report.waiting.push(failed);
                } else {
                    report.failed.push(failed);
                }
                false
            }
        };
        if sent {
            let keep = step.deadline + KEEP_AFTER_DEADLINE;
            store
                .acquire_lease(LeaseRequest::new(&marker, SENT, now, keep))
                .await?;
        }
        store.release_lease(&key, holder).await
    }

    /// Posts the reminder of `step` in `thread`, unless a send whose answer was lost arrived.
    async fn post(
        &self,
        m: &Maintenance,
        step: &ReminderStep,
        thread: &Thread,
        key: &str,
        mention: Option<&str>,
    ) -> Result<Posted, DeliveryError> {
        let (channel, ts) = (&thread.channel_id, thread.thread_ts.as_str());
        if self
            .sink
            .find_delivery(channel, Some(ts), key, step.due_at())
            .await?
            .is_some()
        {
            return Ok(Posted::Before);
        }
        let text = ReminderText {
            maintenance: m,
            deadline: step.deadline,
            mention,
            key,
            thread_ts: ts,
            now: self.now,
        };
        let message = slack::reminder(&text, self.settings.zone);
        self.sink.post(channel, &message).await?;
        Ok(Posted::Now)
    }

    /// The maintenance's thread: where its alerts went, anchored on its earliest event.
    async fn thread_of(&self, m: &Maintenance) -> Result<Option<Thread>, StoreError> {
        let position = |t: &Thread| m.event_ids.iter().position(|id| *id == t.anchor);
        for channel in sent_channels(self.store, &m.event_ids).await? {
            let thread = self
                .store
                .threads(&channel, &m.event_ids)
                .await?
                .into_iter()
                .filter(|t| !t.thread_ts.is_empty())
                .min_by_key(|t| position(t).unwrap_or(usize::MAX));
            if thread.is_some() {
                return Ok(thread);
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests;
