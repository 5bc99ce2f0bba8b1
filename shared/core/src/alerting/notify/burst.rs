//! A region-wide burst at Slack's pace: hundreds of new maintenances in one channel are announced
//! in a few messages under their grouped message, not one thread each.
//!
//! The maintenances that are the same (engine, node role, runbook, window, drill or not) form a
//! set. Each set is announced in one message (more past [`slack::ANNOUNCED_PER_MESSAGE`]) naming
//! each maintenance, whose metadata carries every delivery it announces: the deliveries are
//! marked `sending` before it is posted and `sent` after, and a send whose answer was lost is
//! looked up by any of them. Once every set is announced, each set's one checklist follows
//! (without runbook pages); each maintenance's own is posted on demand (the picker on the
//! announcement, `/cachewatch runbook ID`). A maintenance's later events are replies in the
//! grouped message's thread, the first of them its own message.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{Around, Run, Stop, Work};
use crate::alerting::delivery::{ChatSink, Delivery, DeliveryError, DeliveryState, Thread};
use crate::alerting::slack::{self, AlertContext, MessageMetadata};
use crate::cluster::facts::ClusterFacts;
use crate::cluster::source::FactsSource;
use crate::history::History;
use crate::history::store::StoreError;
use crate::lifecycle::Maintenance;
use crate::model::event::MaintenanceEvent;
use crate::runbook::{Owners, RunbookInput};

/// A maintenance of a burst: its first alert to announce, and what else is due.
pub(super) struct Member {
    around: Around,
    thread: Thread,
    announce: (MaintenanceEvent, Delivery),
    rest: Vec<(MaintenanceEvent, Delivery)>,
    announced: bool,
    facts: ClusterFacts,
    previous: Option<Maintenance>,
}

impl Member {
    /// The input of the runbook of the alert it announces.
    fn runbook_input<'a>(&'a self, owners: &'a Owners, now: DateTime<Utc>) -> RunbookInput<'a> {
        self.around
            .runbook_input(&self.announce.0, &self.facts, owners, now)
    }
}

/// The members of `set` that `keep` keeps, in its order.
fn members_where(members: &[Member], set: &[usize], keep: impl Fn(&Member) -> bool) -> Vec<usize> {
    set.iter().copied().filter(|&i| keep(&members[i])).collect()
}

/// Whether `work` is a member of a burst whose announcement is still due: its thread is the
/// grouped message's, without a message of its own, and anchored on an event still due.
pub(super) fn awaits_announcement(work: &Work, thread: &Thread) -> bool {
    thread.message_ts.is_empty() && work.due.iter().any(|(e, _)| e.id == thread.anchor)
}

/// The thread of a burst member in the grouped message `ts` of `channel_id`.
pub(super) fn member_thread(channel: &str, channel_id: &str, ts: &str, work: &Work) -> Thread {
    let anchor = &work.due[0].0;
    Thread {
        channel: channel.to_owned(),
        channel_id: channel_id.to_owned(),
        anchor: anchor.id.clone(),
        group_key: anchor.group_key().unwrap_or_default(),
        thread_ts: ts.to_owned(),
        message_ts: String::new(),
        rendered: None,
        checklist_posted: false,
    }
}

impl<S: History, C: ChatSink, F: FactsSource> Run<'_, S, C, F> {
    /// Announces the members of one grouped message set by set, then each set's checklist, then
    /// whatever else is due for them, one by one.
    pub(super) async fn burst(
        &mut self,
        channel: &str,
        members: Vec<(Work, Thread)>,
    ) -> Result<(), Stop> {
        let (mut members, mut others) = self.members(channel, members).await?;
        let sets = self.sets(&members);
        for set in &sets {
            match self.announce(channel, &mut members, set).await {
                Ok(()) | Err(Stop::Delivery) => {}
                Err(stop) => return Err(stop),
            }
        }
        if self.settings.base_url.is_none() {
            for set in &sets {
                self.shared_checklist(channel, &mut members, set).await?;
            }
        }
        for m in members.into_iter().filter(|m| m.announced) {
            others.push((
                Work {
                    around: m.around,
                    due: m.rest,
                },
                m.thread,
            ));
        }
        for (work, thread) in others.into_iter().filter(|(w, _)| !w.due.is_empty()) {
            match self.maintenance(channel, work, Some(thread)).await {
                Ok(()) | Err(Stop::Delivery) => {}
                Err(stop) => return Err(stop),
            }
        }
        Ok(())
    }

    /// What is still to announce: repeats are dropped and lost answers settled first (an
    /// announcement that arrived is recorded as sent). The others go one by one.
    async fn members(
        &mut self,
        channel: &str,
        works: Vec<(Work, Thread)>,
    ) -> Result<(Vec<Member>, Vec<(Work, Thread)>), Stop> {
        let mut members = Vec::new();
        let mut others = Vec::new();
        for (work, thread) in works {
            let Work { around, due } = work;
            let due = self.still_worth_sending(&around, due).await?;
            let anchor = due.iter().find(|(e, _)| e.id == thread.anchor).cloned();
            let mut settled = Some(thread);
            let mut due = self
                .settle_uncertain(channel, &around, due, &mut settled)
                .await?;
            let (Some(thread), Some(anchor)) = (settled, anchor) else {
                continue;
            };
            if !thread.message_ts.is_empty() {
                others.push((Work { around, due }, thread));
                continue;
            }
            let (announce, announced) = match due.iter().position(|(e, _)| e.id == thread.anchor) {
                Some(i) => (due.remove(i), false),
                // Its announcement had arrived: it still gets its set's checklist.
                None if self.anchor_sent(&anchor.1).await? => (anchor, true),
                None => {
                    others.push((Work { around, due }, thread));
                    continue;
                }
            };
            let (facts, previous) = self.context_parts(&announce.0, &around).await?;
            members.push(Member {
                around,
                thread,
                announce,
                rest: due,
                announced,
                facts,
                previous,
            });
        }
        Ok((members, others))
    }

    /// Whether `delivery` is recorded as sent now (its lost answer settled).
    async fn anchor_sent(&self, delivery: &Delivery) -> Result<bool, StoreError> {
        let now = self
            .store
            .deliveries(std::slice::from_ref(&delivery.event_id))
            .await?;
        Ok(now
            .iter()
            .any(|d| d.channel == delivery.channel && d.state == DeliveryState::Sent))
    }

    /// The members in sets of identical maintenances, soonest window first.
    fn sets(&self, members: &[Member]) -> Vec<Vec<usize>> {
        let owners = self.config.owners();
        let mut sets: BTreeMap<_, Vec<usize>> = BTreeMap::new();
        for (i, m) in members.iter().enumerate() {
            let event = &m.announce.0;
            let input = m.runbook_input(&owners, self.now);
            let template = self.runbooks.select(&input).ok().map(|t| t.name.clone());
            let window = m
                .around
                .maintenance
                .as_ref()
                .and_then(|x| x.window)
                .or(event.window);
            let key = (
                window.map(|w| (w.start, w.end)),
                m.facts.engine.map(|e| e.as_str()),
                m.facts.node_role.map(|r| r.as_str()),
                template,
                input.drill(),
            );
            sets.entry(key).or_default().push(i);
        }
        sets.into_values().collect()
    }

    fn contexts<'m>(
        &self,
        members: &'m [Member],
        set: &[usize],
        owners: &'m crate::runbook::Owners,
    ) -> Vec<AlertContext<'m>> {
        set.iter()
            .map(|&i| {
                let m = &members[i];
                AlertContext {
                    event: &m.announce.0,
                    maintenance: m.around.maintenance.as_ref(),
                    events: &m.around.events,
                    previous: m.previous.as_ref(),
                    facts: &m.facts,
                    runbook_url: self.runbook_url(&m.around, &m.announce.0),
                    owners,
                    now: self.now,
                    zone: self.settings.zone,
                    actions: self.settings.actions,
                    acknowledged: None,
                    accounts: &crate::alerting::slack::NO_ACCOUNT_NAMES,
                }
            })
            .collect()
    }

    /// Posts the announcements of one set, each carrying the deliveries of those it names.
    async fn announce(
        &mut self,
        channel: &str,
        members: &mut [Member],
        set: &[usize],
    ) -> Result<(), Stop> {
        let set = members_where(members, set, |m| !m.announced);
        if set.is_empty() {
            return Ok(());
        }
        let owners = self.config.owners();
        let messages = {
            let ctxs = self.contexts(members, &set, &owners);
            let input = members[set[0]].runbook_input(&owners, self.now);
            let template = self.runbooks.select(&input).ok().map(|t| t.name.clone());
            let shared = self.settings.base_url.is_none() && template.is_some();
            slack::announcements(&ctxs, template.as_deref(), shared)
        };
        let mut outcome = Ok(());
        for (mut message, range) in messages {
            let named: Vec<usize> = set[range].to_vec();
            match self
                .post_announcement(channel, members, &named, &mut message)
                .await
            {
                Ok(()) => {}
                Err(Stop::Delivery) => outcome = Err(Stop::Delivery),
                Err(stop) => return Err(stop),
            }
        }
        outcome
    }

    /// Posts one announcement: its deliveries are marked `sending` (in the grouped message's
    /// thread) before, `sent` after.
    async fn post_announcement(
        &mut self,
        channel: &str,
        members: &mut [Member],
        named: &[usize],
        message: &mut slack::SlackMessage,
    ) -> Result<(), Stop> {
        let group_ts = members[named[0]].thread.thread_ts.clone();
        let keys: Vec<String> = named
            .iter()
            .map(|&i| members[i].announce.1.key().to_owned())
            .collect();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        message.thread_ts = Some(group_ts.clone());
        message.metadata = Some(MessageMetadata::for_deliveries(
            &format!("announce:{}", keys[0]),
            &refs,
        ));
        for &i in named {
            let d = &mut members[i].announce.1;
            d.state = DeliveryState::Sending;
            d.thread_ts = Some(group_ts.clone());
            d.attempts += 1;
            d.updated_at = self.now;
            d.next_attempt_at = self.now + super::LEASE_FOR;
            self.store.save_delivery(d).await?;
        }
        match self.sink.post(channel, message).await {
            Ok(posted) => {
                for &i in named {
                    let m = &mut members[i];
                    self.mark_sent(&mut m.announce.1, &posted, Some(group_ts.clone()))
                        .await?;
                    m.announced = true;
                }
                Ok(())
            }
            Err(e) => Err(self.announcement_failed(members, named, e).await?),
        }
    }

    /// Records a failed announcement for each delivery it carried.
    async fn announcement_failed(
        &mut self,
        members: &mut [Member],
        named: &[usize],
        error: DeliveryError,
    ) -> Result<Stop, StoreError> {
        let mut stop = Stop::Delivery;
        for &i in named {
            stop = self
                .failed(&mut members[i].announce.1, error.clone())
                .await?;
        }
        Ok(stop)
    }

    /// Posts the checklist a set shares, once, in the grouped message's thread, naming the
    /// maintenances it covers; they are then marked as having theirs.
    async fn shared_checklist(
        &mut self,
        channel: &str,
        members: &mut [Member],
        set: &[usize],
    ) -> Result<(), Stop> {
        let set = members_where(members, set, |m| m.announced && !m.thread.checklist_posted);
        let Some(&first) = set.first() else {
            return Ok(());
        };
        let owners = self.config.owners();
        let (messages, key) = {
            let ctxs = self.contexts(members, &set, &owners);
            let m = &members[first];
            let input = m.runbook_input(&owners, self.now);
            let Ok(runbook) = self.runbooks.render(&input) else {
                // A broken override never blocks an alert: the set simply has no checklist.
                return Ok(());
            };
            let intro = slack::shared_checklist_intro(&ctxs);
            (
                slack::shared_checklist(&runbook, &intro),
                m.thread.anchor.clone(),
            )
        };
        let thread_ts = members[first].thread.thread_ts.clone();
        for (i, mut message) in messages.into_iter().enumerate() {
            message.thread_ts = Some(thread_ts.clone());
            message.metadata = Some(MessageMetadata::for_delivery(&format!(
                "checklist:{key}:{i}"
            )));
            if let Err(e) = self.sink.post(channel, &message).await {
                return Err(if e.is_retryable() {
                    Stop::Channel
                } else {
                    Stop::Delivery
                });
            }
        }
        for &i in &set {
            let t = &mut members[i].thread;
            t.checklist_posted = true;
            self.save_thread(t).await?;
        }
        self.report.checklists += 1;
        Ok(())
    }
}
