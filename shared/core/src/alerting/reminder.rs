//! Reminders until someone acts: while nobody has acknowledged a maintenance, a reply in its
//! thread mentions its owners at each configured lead before the deadline (by default 72 h, 24 h
//! and 2 h before the window opens).
//!
//! [`due_step`] decides, purely, which step (if any) is due for a maintenance at a time. A step
//! is named by the maintenance, its deadline and its lead ([`ReminderStep::key`]), so that a
//! reschedule starts the steps again for the new deadline. [`send_reminders`] sends each step
//! once whatever the runs, retries and concurrent senders: a sender first takes the step's lease
//! in the store (a conditional write), asks the chat whether an earlier send whose answer was
//! lost arrived after all, posts, and keeps the lease until long after the deadline; a send that
//! fails gives the lease back for the next run.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};

use crate::alerting::delivery::{ChatSink, DeliveryState, DeliveryStore, Thread};
use crate::alerting::notify::{LEASE_FOR, NotifyError, NotifySettings};
use crate::alerting::slack::{self, ReminderText};
use crate::config::Config;
use crate::history::response::ResponseStore;
use crate::history::store::{EventStore, StoreError};
use crate::lifecycle::{Maintenance, MaintenanceKind, MaintenanceState};
use crate::model::event::EventId;

/// How long after its deadline a step's lease is kept: past any run that could still see the
/// maintenance as ahead.
const KEEP_AFTER_DEADLINE: Duration = Duration::days(7);

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
    S: EventStore + DeliveryStore + ResponseStore,
    C: ChatSink,
{
    let mut report = ReminderReport::default();
    let leads = config.reminder_leads();
    if !sink.threads() || leads.is_empty() {
        return Ok(report);
    }
    // Leases outlive this run: a holder of its own, so that the same sender's next run does not
    // take a step it has sent as its own again.
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
    S: EventStore + DeliveryStore + ResponseStore,
    C: ChatSink,
{
    /// Sends `step` of `m` once: under its lease, unless Slack has it already.
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
        if !store
            .acquire_lease(&key, holder, now, now + LEASE_FOR)
            .await?
        {
            report.already += 1;
            return Ok(());
        }
        let keep = step.deadline + KEEP_AFTER_DEADLINE;
        let (channel, ts) = (&thread.channel_id, thread.thread_ts.as_str());
        match self
            .sink
            .find_delivery(channel, Some(ts), &key, step.due_at())
            .await
        {
            Ok(Some(_)) => {
                report.recovered += 1;
                store.acquire_lease(&key, holder, now, keep).await?;
                return Ok(());
            }
            Ok(None) => {}
            Err(e) => {
                report.waiting.push((key.clone(), e.to_string()));
                return store.release_lease(&key, holder).await;
            }
        }
        let mention = match store.event(&thread.anchor).await? {
            Some(anchor) => self.config.mention_for(&anchor),
            None => self.config.reminders.mention.as_deref(),
        };
        let text = ReminderText {
            maintenance: m,
            deadline: step.deadline,
            mention,
            key: &key,
            thread_ts: ts,
            now,
        };
        let message = slack::reminder(&text, self.settings.zone);
        match self.sink.post(channel, &message).await {
            Ok(_) => {
                store.acquire_lease(&key, holder, now, keep).await?;
                report.sent.push(key);
            }
            Err(e) => {
                let failed = (key.clone(), e.to_string());
                if e.is_retryable() {
                    report.waiting.push(failed);
                } else {
                    report.failed.push(failed);
                }
                store.release_lease(&key, holder).await?;
            }
        }
        Ok(())
    }

    /// The maintenance's thread: where its alerts went, anchored on its earliest event.
    async fn thread_of(&self, m: &Maintenance) -> Result<Option<Thread>, StoreError> {
        let channels: BTreeSet<String> = self
            .store
            .deliveries(&m.event_ids)
            .await?
            .into_iter()
            .filter(|d| d.state == DeliveryState::Sent)
            .map(|d| d.channel)
            .collect();
        let position = |t: &Thread| m.event_ids.iter().position(|id| *id == t.anchor);
        for channel in channels {
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
