//! Saying what became of a canary: in Slack (the quiet line when it arrived, the loud alarm when
//! it was lost) and, for a lost one, on the stack's alarm topic. `cachewatch canary` and the
//! poller's scheduled canary ([`ScheduledCanary`]) say it the same way.

use cachewatch_core::alerting::canary::{
    AlarmTopic, Canary, CanaryOutcome, CanaryTopic, Scheduled, canaries_since, due, last_check,
};
use cachewatch_core::alerting::delivery::{ChatSink, DeliveryError, LeaseRequest, PostedMessage};
use cachewatch_core::alerting::slack;
use cachewatch_core::history::store::StoreError;
use cachewatch_core::model::timefmt::Zone;
use chrono::{DateTime, Duration, Utc};

use crate::Store;

/// Where a canary's outcome is said.
#[derive(Debug)]
pub struct Audience<'a, C, A> {
    /// Slack and its channel, when Slack is configured.
    pub slack: Option<(&'a C, &'a str)>,
    /// The alarm topic and its ARN, when one is configured.
    pub alarm: Option<(&'a A, &'a str)>,
    /// The zone of the times said.
    pub zone: Zone,
    /// Who a lost canary mentions in Slack (`[reminders] mention`).
    pub mention: Option<&'a str>,
}

/// What each place answered.
#[derive(Debug)]
pub struct Told {
    /// Slack's answer, when Slack is configured.
    pub slack: Option<Result<PostedMessage, DeliveryError>>,
    /// The alarm topic's answer (the message id, or why not), when the canary was lost and a
    /// topic is configured.
    pub alarm: Option<Result<String, String>>,
}

/// Says `outcome` in Slack and, when the canary was lost, on the alarm topic.
pub async fn tell<C: ChatSink, A: AlarmTopic>(
    outcome: &CanaryOutcome,
    to: Audience<'_, C, A>,
) -> Told {
    let slack = match to.slack {
        Some((chat, channel)) => {
            let message = slack::canary(outcome, to.zone, to.mention);
            Some(chat.post(channel, &message).await)
        }
        None => None,
    };
    let alarm = match (to.alarm, outcome.alarm()) {
        (Some((topic, arn)), Some((subject, message))) => Some(
            topic
                .publish_alarm(arn, &subject, &message)
                .await
                .map_err(|e| e.to_string()),
        ),
        _ => None,
    };
    Told { slack, alarm }
}

/// The lease that keeps the scheduled canary: its holder is the canary's id, held until the next
/// one is due, so that the schedule outlives the process that keeps it.
pub const SCHEDULED_LEASE: &str = "canary:scheduled";

/// A scheduled canary step (the poller's): the last canary checked, the next one published when
/// due; each said once, whatever the runs and concurrent pollers.
#[derive(Debug)]
pub struct ScheduledCanary<'a, S, C, A> {
    /// The history (the canaries that reached it) and the leases.
    pub store: &'a S,
    /// The stack's topic, which the canary is published to.
    pub topic: &'a str,
    /// Publishes to the stack's topic.
    pub publisher: &'a A,
    /// Where a lost canary is said.
    pub audience: Audience<'a, C, A>,
    /// How often a canary is published (`[canary] every`).
    pub every: Duration,
    /// How long one may take to reach the history before it is lost (`[canary] within`).
    pub within: Duration,
    /// The lease holder of this run.
    pub holder: &'a str,
    /// When the step runs.
    pub now: DateTime<Utc>,
}

/// What became of the last scheduled canary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LastCanary {
    /// None was published yet (or the lease holds no canary).
    NoneYet,
    /// It reached the history.
    Arrived(String),
    /// It has not, and may still.
    Awaited(String),
    /// It was lost, and an earlier run said so.
    LostToldBefore(String),
    /// It was lost, said now: each place with whether it took the message. When none did, the
    /// next run says it again.
    Lost {
        /// The canary's id.
        id: String,
        /// `slack` and `alarm_topic`, each that is configured, with whether it took the message.
        told: Vec<(&'static str, bool)>,
    },
}

/// What the step did about the next canary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextCanary {
    /// Not due: a canary reached the history within `every`.
    ArrivedRecently,
    /// Not due: the last one was published within `every` (by this poller or another).
    PublishedRecently,
    /// Published now, with this id.
    Published(String),
}

/// Why the canary step could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum CanaryError {
    /// The history or a lease could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The topic refused the canary; the next run tries again.
    #[error("{0}")]
    Publish(String),
}

impl<S, C, A> ScheduledCanary<'_, S, C, A>
where
    S: Store,
    C: ChatSink,
    A: AlarmTopic + CanaryTopic,
{
    /// What became of the last canary published; a lost one is said once.
    pub async fn check_last(&self) -> Result<LastCanary, CanaryError> {
        let Some((holder, _)) = self.store.lease(SCHEDULED_LEASE).await? else {
            return Ok(LastCanary::NoneYet);
        };
        let Some(canary) = Canary::from_id(&holder) else {
            return Ok(LastCanary::NoneYet);
        };
        let since = canary.published_at - Duration::minutes(5);
        let events = self.store.search(&canaries_since(since)).await?;
        let outcome = match Scheduled::of(&canary, self.topic, &events, self.now, self.within) {
            Scheduled::Arrived => return Ok(LastCanary::Arrived(canary.id)),
            Scheduled::Awaited => return Ok(LastCanary::Awaited(canary.id)),
            Scheduled::Lost(outcome) => outcome,
        };
        // Once per lost canary: the lease outlives the canary's record.
        let lease = format!("canary:lost:{}", canary.id);
        let until = self.now + self.every + Duration::days(30);
        let request = LeaseRequest::new(&lease, self.holder, self.now, until);
        if !self.store.acquire_lease(request).await? {
            return Ok(LastCanary::LostToldBefore(canary.id));
        }
        tracing::error!(canary = %canary.id, "{}", outcome.sentence());
        let told = self.tell_lost(&outcome).await;
        if told.iter().all(|(_, done)| !done) {
            // Nobody was told: the next run tries again.
            self.store.release_lease(&lease, self.holder).await?;
        }
        Ok(LastCanary::Lost {
            id: canary.id,
            told,
        })
    }

    /// Says loudly that `outcome`'s canary was lost; answers, for each place configured, whether
    /// it took the message.
    async fn tell_lost(&self, outcome: &CanaryOutcome) -> Vec<(&'static str, bool)> {
        let told = tell(outcome, self.audience).await;
        let mut said = Vec::new();
        if let Some(posted) = &told.slack {
            if let Err(e) = posted {
                tracing::error!(error = %e, "Slack refused the lost canary's alarm");
            }
            said.push(("slack", posted.is_ok()));
        }
        if let Some(published) = &told.alarm {
            if let Err(e) = published {
                tracing::error!(error = %e, "cannot publish the lost canary's alarm");
            }
            said.push(("alarm_topic", published.is_ok()));
        }
        said
    }

    /// Publishes a canary when none reached the history in the last `every` and the last one
    /// published is older than that; one poller does, whatever the number of them.
    pub async fn publish_when_due(&self) -> Result<NextCanary, CanaryError> {
        let events = self
            .store
            .search(&canaries_since(self.now - self.every))
            .await?;
        if !due(last_check(&events).as_ref(), self.now, self.every) {
            return Ok(NextCanary::ArrivedRecently);
        }
        let canary = Canary::at(self.now);
        let until = canary.published_at + self.every;
        let request = LeaseRequest::new(SCHEDULED_LEASE, &canary.id, self.now, until);
        if !self.store.acquire_lease(request).await? {
            return Ok(NextCanary::PublishedRecently);
        }
        match self.publisher.publish_canary(self.topic, &canary).await {
            Ok(_) => {
                tracing::info!(canary = %canary.id, topic = %self.topic, "canary published");
                Ok(NextCanary::Published(canary.id))
            }
            Err(e) => {
                // Not published: the next run tries again.
                let _ = self.store.release_lease(SCHEDULED_LEASE, &canary.id).await;
                Err(CanaryError::Publish(e.to_string()))
            }
        }
    }
}

impl<C, A> Clone for Audience<'_, C, A> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<C, A> Copy for Audience<'_, C, A> {}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use cachewatch_adapters::sqlite::SqliteStore;

    use super::*;
    use crate::ingest::tests::{KeptChat, World, at};

    /// The stack's topics: keeps what is published, or refuses it.
    #[derive(Default)]
    struct Topics {
        refuse: bool,
        canaries: Mutex<Vec<String>>,
        alarms: Mutex<Vec<String>>,
    }

    impl CanaryTopic for Topics {
        type Error = String;

        async fn publish_canary(&self, _: &str, canary: &Canary) -> Result<String, String> {
            if self.refuse {
                return Err("SNS Publish failed: throttled".to_owned());
            }
            self.canaries.lock().unwrap().push(canary.id.clone());
            Ok("message-1".to_owned())
        }
    }

    impl AlarmTopic for Topics {
        type Error = String;

        async fn publish_alarm(&self, _: &str, subject: &str, _: &str) -> Result<String, String> {
            self.alarms.lock().unwrap().push(subject.to_owned());
            Ok("message-2".to_owned())
        }
    }

    const TOPIC: &str = "arn:aws:sns:eu-west-1:111122223333:cachewatch";

    fn step<'a>(
        world: &'a World,
        topics: &'a Topics,
        slack: Option<&'a KeptChat>,
        holder: &'a str,
        now: DateTime<Utc>,
    ) -> ScheduledCanary<'a, SqliteStore, KeptChat, Topics> {
        ScheduledCanary {
            store: &world.store,
            topic: TOPIC,
            publisher: topics,
            audience: Audience {
                slack: slack.map(|chat| (chat, "#ops")),
                alarm: Some((topics, "arn:aws:sns:eu-west-1:111122223333:alarms")),
                zone: Zone::default(),
                mention: None,
            },
            every: Duration::days(7),
            within: Duration::minutes(15),
            holder,
            now,
        }
    }

    #[tokio::test]
    async fn one_canary_is_published_a_period_whatever_the_runs() {
        let (world, topics) = (World::new(), Topics::default());
        let now = at("2026-03-02T08:00:00Z");
        let first = step(&world, &topics, None, "run-1", now);
        assert_eq!(first.check_last().await.unwrap(), LastCanary::NoneYet);
        let NextCanary::Published(id) = first.publish_when_due().await.unwrap() else {
            panic!("the first run publishes");
        };
        let later = step(&world, &topics, None, "run-2", now + Duration::minutes(5));
        assert_eq!(
            later.publish_when_due().await.unwrap(),
            NextCanary::PublishedRecently
        );
        assert_eq!(
            later.check_last().await.unwrap(),
            LastCanary::Awaited(id.clone())
        );
        assert_eq!(*topics.canaries.lock().unwrap(), [id]);
    }

    #[tokio::test]
    async fn a_lost_canary_is_said_once_in_slack_and_on_the_alarm_topic() {
        let (world, topics, chat) = (World::new(), Topics::default(), KeptChat::default());
        let now = at("2026-03-02T08:00:00Z");
        let published = step(&world, &topics, Some(&chat), "run-1", now);
        let NextCanary::Published(id) = published.publish_when_due().await.unwrap() else {
            panic!("the first run publishes");
        };
        // Nothing reached the history 20 minutes on: lost.
        let late = now + Duration::minutes(20);
        let lost = step(&world, &topics, Some(&chat), "run-2", late)
            .check_last()
            .await;
        assert_eq!(
            lost.unwrap(),
            LastCanary::Lost {
                id: id.clone(),
                told: vec![("slack", true), ("alarm_topic", true)],
            }
        );
        let again = step(
            &world,
            &topics,
            Some(&chat),
            "run-3",
            late + Duration::minutes(15),
        );
        assert_eq!(
            again.check_last().await.unwrap(),
            LastCanary::LostToldBefore(id)
        );
        assert_eq!(chat.texts().len(), 1, "{:?}", chat.texts());
        assert_eq!(topics.alarms.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_canary_the_topic_refused_is_published_by_the_next_run() {
        let world = World::new();
        let now = at("2026-03-02T08:00:00Z");
        let refusing = Topics {
            refuse: true,
            ..Topics::default()
        };
        let refused = step(&world, &refusing, None, "run-1", now)
            .publish_when_due()
            .await;
        assert_eq!(
            refused.unwrap_err().to_string(),
            "SNS Publish failed: throttled"
        );
        let topics = Topics::default();
        let next = step(&world, &topics, None, "run-2", now + Duration::minutes(15));
        assert!(matches!(
            next.publish_when_due().await.unwrap(),
            NextCanary::Published(_)
        ));
        assert_eq!(topics.canaries.lock().unwrap().len(), 1);
    }
}
