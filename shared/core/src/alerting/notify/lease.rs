//! A channel's lease: taken before anything is sent there and given back with the writes kept
//! for it; the one alert of a maintenance the ingest has just created is recorded as it is taken
//! ([`crate::alerting::delivery::DeliveryStore::claim`]).

use chrono::{DateTime, Utc};

use super::due::{Reading, due_in, with_own};
use super::send::as_sending;
use super::{LEASE_FOR, NotifyError, Run, Work};
use crate::alerting::delivery::{
    ChatSink, Claim, ClaimRequest, Delivery, DeliveryState, LeaseRequest, OutboxWrite,
};
use crate::cluster::source::FactsSource;
use crate::history::History;
use crate::history::store::StoreError;

/// What [`Run::claim_recorded`] did.
enum Claimed {
    /// The lease is held and the alert marked `sending`: what to send.
    Works(Vec<Work>),
    /// Another sender holds the lease.
    Busy,
    /// Nothing was claimed: what is due is read under the lease.
    Not,
}

impl<S: History, C: ChatSink, F: FactsSource> Run<'_, S, C, F> {
    /// Sends what is due in `channel` under its lease, or reports it busy. What is due is read
    /// once the lease is held (another sender may have sent some of it in the meantime); the
    /// lease may be taken with the one alert this run's ingest recorded there (see
    /// [`Run::claim_recorded`]), which then goes with it.
    pub(super) async fn channel_under_lease(
        &mut self,
        channel: String,
        due_by: DateTime<Utc>,
    ) -> Result<(), NotifyError> {
        let (store, now) = (self.store, self.now);
        let lease = format!("chat:{channel}");
        let due = match self.claim_recorded(&channel, &lease).await? {
            // Nothing else is pending there, by the claim's own condition: nothing to read.
            Claimed::Works(mine) if store.nothing_else_pending(&channel) => {
                Ok(with_own(Vec::new(), mine))
            }
            // What else is pending there (alerts recorded while another sender held the lease,
            // a burst) goes with it, grouped as a burst is. A send of another maintenance whose
            // answer was lost is the scheduled run's to settle (it reads them all): one query.
            Claimed::Works(mine) => {
                due_in(store, self.known, &channel, due_by, Reading::Pending, now)
                    .await
                    .map(|due| with_own(due, mine))
            }
            Claimed::Busy => {
                self.report.busy.push(channel);
                return Ok(());
            }
            Claimed::Not => {
                let holder = &self.settings.holder;
                if !store
                    .acquire_lease(LeaseRequest::new(&lease, holder, now, now + LEASE_FOR))
                    .await?
                {
                    self.report.busy.push(channel);
                    return Ok(());
                }
                due_in(store, self.known, &channel, due_by, Reading::All, now).await
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
            .claim(ClaimRequest {
                lease: LeaseRequest::new(lease, holder, now, now + LEASE_FOR),
                was,
                becomes: &sending,
            })
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
}
