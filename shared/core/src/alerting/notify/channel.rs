//! Sending in one channel, its lease held: urgent alerts first, then replies in threads, then
//! bursts, then new maintenances (grouped when they are many); for each maintenance, what is
//! still worth a message, the sends whose answer was lost settled first, the checklist of a new
//! thread, and its parent brought up to date.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Duration;

use super::render::fingerprint;
use super::send::{NewThread, backoff};
use super::{Around, Run, Stop, Work, burst};
use crate::alerting::delivery::{ChatSink, Delivery, DeliveryError, DeliveryState, Thread};
use crate::alerting::slack::{self, AlertContext, MessageMetadata, SlackMessage};
use crate::alerting::{Quiet, Surroundings, Verdict, verdict};
use crate::cluster::source::FactsSource;
use crate::history::History;
use crate::history::store::StoreError;
use crate::model::event::{EventId, MaintenanceEvent};

/// Whether to go on in the channel after a send: yes unless the chat is unavailable.
fn carry_on(outcome: Result<(), Stop>) -> Result<bool, StoreError> {
    match outcome {
        Ok(()) | Err(Stop::Delivery) => Ok(true),
        Err(Stop::Channel) => Ok(false),
        Err(Stop::Store(e)) => Err(e),
    }
}

impl<S: History, C: ChatSink, F: FactsSource> Run<'_, S, C, F> {
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
    pub(super) async fn channel(
        &mut self,
        channel: &str,
        works: Vec<Work>,
    ) -> Result<(), StoreError> {
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
            .map(|(w, (event, parts))| self.context(event, &w.around, parts, &owners, None))
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
    pub(super) async fn maintenance(
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
    pub(super) async fn settle_uncertain(
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
    pub(super) async fn still_worth_sending(
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
        let input = around.runbook_input(event, &facts, &owners, self.now);
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
    pub(super) async fn refresh(
        &mut self,
        around: &Around,
        thread: &mut Thread,
    ) -> Result<(), Stop> {
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
