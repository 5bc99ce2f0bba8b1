//! One delivery's send and its record: marked `sending` before it is posted and `sent` after
//! (with the thread a parent starts), or failed, for now (with a backoff) or for good.

use chrono::{DateTime, Duration, Utc};

use super::{LEASE_FOR, Run, Stop};
use crate::alerting::delivery::{
    ChatSink, Delivery, DeliveryError, DeliveryState, OutboxWrite, PostedMessage, Thread,
};
use crate::alerting::slack::{MessageMetadata, SlackMessage};
use crate::cluster::source::FactsSource;
use crate::history::History;
use crate::history::store::StoreError;
use crate::model::event::EventId;

/// The thread a maintenance's parent starts, but for what the chat answers.
pub(super) struct NewThread {
    pub(super) anchor: EventId,
    pub(super) group_key: String,
    /// The thread it is posted in (a grouped message's), if not its own.
    pub(super) thread_ts: Option<String>,
    pub(super) rendered: String,
    pub(super) checklist_posted: bool,
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
pub(super) fn as_sending(delivery: &mut Delivery, thread_ts: Option<String>, now: DateTime<Utc>) {
    delivery.state = DeliveryState::Sending;
    delivery.thread_ts = thread_ts;
    delivery.attempts += 1;
    delivery.updated_at = now;
    delivery.next_attempt_at = now + LEASE_FOR;
}

/// How long to wait after the `attempts`-th passing failure: 1 minute, doubling, at most an hour.
pub fn backoff(attempts: u32, asked: Option<std::time::Duration>) -> Duration {
    let doubling = Duration::minutes(1) * 2_i32.saturating_pow(attempts.saturating_sub(1).min(6));
    let asked = asked
        .and_then(|d| Duration::from_std(d).ok())
        .unwrap_or_else(Duration::zero);
    doubling.min(Duration::hours(1)).max(asked)
}

impl<S: History, C: ChatSink, F: FactsSource> Run<'_, S, C, F> {
    /// Sends a delivery's message, recording where it goes before and that it went after; a
    /// parent's new thread is saved with the delivery sent.
    pub(super) async fn send(
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

    pub(super) async fn mark_sent(
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
    pub(super) async fn save_thread(&mut self, thread: &Thread) -> Result<(), StoreError> {
        self.forget_deferred(thread);
        self.store.save_thread(thread).await
    }

    /// Keeps a thread's write for the lease's release.
    pub(super) fn defer_thread(&mut self, thread: &Thread) {
        self.forget_deferred(thread);
        self.deferred.push(thread.clone());
    }

    fn forget_deferred(&mut self, thread: &Thread) {
        self.deferred
            .retain(|t| (&t.channel, &t.anchor) != (&thread.channel, &thread.anchor));
    }

    /// Records a failed send and says whether to stop the channel.
    pub(super) async fn failed(
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
}
