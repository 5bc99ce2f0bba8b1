//! The day's report in Slack: the upcoming digest (maintenance windows of the coming days,
//! service updates not applied) and, when a link of the alert path is broken, its audit. Each is
//! posted once a day under a lease, whatever the runs and concurrent pollers; one that could not
//! be made or posted is tried again by the next run.

use std::collections::BTreeSet;
use std::fmt;
use std::future::Future;

use cachewatch_core::alerting::canary::{LastCheck, canaries_since, last_check};
use cachewatch_core::alerting::delivery::{ChatSink, LeaseRequest};
use cachewatch_core::alerting::slack::{self, SlackMessage};
use cachewatch_core::fleet::{DIGEST_HORIZON, ServiceUpdate, upcoming_digest};
use cachewatch_core::history::store::StoreError;
use cachewatch_core::model::timefmt::Zone;
use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::Store;

/// How long a daily lease is held: past the end of the team's day, whatever its zone.
pub const DAILY_LEASE: Duration = Duration::hours(36);

/// The day's report being posted by one run.
#[derive(Debug)]
pub struct Today<'a, S, C> {
    /// The leases.
    pub store: &'a S,
    /// Where the report is posted.
    pub chat: &'a C,
    /// The channel.
    pub channel: &'a str,
    /// The team's day the report is for.
    pub day: NaiveDate,
    /// The lease holder of this run: the next run of the same process must not take the day's
    /// lease again.
    pub holder: &'a str,
    /// When the run posts.
    pub now: DateTime<Utc>,
}

/// What became of one of the day's messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Daily {
    /// An earlier run posted it today.
    DoneAlready,
    /// There was nothing to say (an alert path with no broken link).
    NothingToSay,
    /// It could not be made (why); the next run tries again.
    NotMade(String),
    /// Posted now.
    Posted,
    /// The chat refused it (why); the next run tries again.
    NotPosted(String),
}

impl fmt::Display for Daily {
    /// As the poller answers it: `posted`, `done already`, `not posted: why`…
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Daily::DoneAlready => f.write_str("done already"),
            Daily::NothingToSay => f.write_str("nothing to say"),
            Daily::NotMade(why) => write!(f, "not made: {why}"),
            Daily::Posted => f.write_str("posted"),
            Daily::NotPosted(why) => write!(f, "not posted: {why}"),
        }
    }
}

impl<S: Store, C: ChatSink> Today<'_, S, C> {
    /// Posts what `make` makes (nothing: nothing to say), once today for `what`: under a lease
    /// that is kept when done and given back when the message could not be made or posted.
    pub async fn once(
        &self,
        what: &str,
        make: impl Future<Output = Result<Option<SlackMessage>, String>>,
    ) -> Result<Daily, StoreError> {
        let lease = format!("daily:{what}:{}", self.day);
        let until = self.now + DAILY_LEASE;
        let request = LeaseRequest::new(&lease, self.holder, self.now, until);
        if !self.store.acquire_lease(request).await? {
            return Ok(Daily::DoneAlready);
        }
        let message = match make.await {
            Ok(Some(message)) => message,
            Ok(None) => return Ok(Daily::NothingToSay),
            Err(why) => {
                tracing::error!(what, %why, "the daily message cannot be made; next run tries again");
                self.store.release_lease(&lease, self.holder).await?;
                return Ok(Daily::NotMade(why));
            }
        };
        match self.chat.post(self.channel, &message).await {
            Ok(_) => Ok(Daily::Posted),
            Err(e) => {
                tracing::warn!(error = %e, what, "the daily message could not be posted; next run tries again");
                self.store.release_lease(&lease, self.holder).await?;
                Ok(Daily::NotPosted(e.to_string()))
            }
        }
    }
}

/// What the day's digest is made of besides the history.
#[derive(Debug)]
pub struct DigestInputs<'a> {
    /// The service updates not applied yet, or why they could not be read.
    pub updates: Result<Vec<ServiceUpdate>, String>,
    /// A line for each account and Region that could not be read this run.
    pub unread_spokes: &'a [String],
    /// The zone of the times said.
    pub zone: Zone,
    /// When it is made.
    pub now: DateTime<Utc>,
}

/// The upcoming digest: the open maintenances of the next days (those acknowledged marked), the
/// service updates, the accounts not read and the last canary that proved the alert path.
pub async fn digest<S: Store>(
    store: &S,
    inputs: DigestInputs<'_>,
) -> Result<Option<SlackMessage>, String> {
    let now = inputs.now;
    let open = store
        .open_maintenances(now, false)
        .await
        .map_err(|e| format!("cannot read the open maintenances: {e}"))?;
    let (updates, unavailable) = match inputs.updates {
        Ok(updates) => (updates, None),
        Err(why) => (Vec::new(), Some(why)),
    };
    let mut digest = upcoming_digest(&open, &updates, now, DIGEST_HORIZON);
    let mut acknowledged = BTreeSet::new();
    for m in &digest.maintenances {
        let acks = store
            .acknowledgements(&m.event_ids)
            .await
            .map_err(|e| format!("cannot read the acknowledgements: {e}"))?;
        if !acks.is_empty() {
            acknowledged.insert(m.id.clone());
        }
    }
    digest = digest.with_acknowledged(acknowledged);
    digest.updates_unavailable = unavailable;
    digest.unread_spokes = inputs.unread_spokes.to_vec();
    digest.alert_path_checked = last_canary(store, now).await;
    Ok(Some(slack::digest(&digest, inputs.zone)))
}

/// The last canary of the past 30 days that reached the history, for the digest's line; none
/// when the history cannot be read (the digest goes out without the line).
async fn last_canary<S: Store>(store: &S, now: DateTime<Utc>) -> Option<LastCheck> {
    match store
        .search(&canaries_since(now - Duration::days(30)))
        .await
    {
        Ok(events) => last_check(&events),
        Err(e) => {
            tracing::error!(error = %e, "cannot read the last canary");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use cachewatch_core::alerting::delivery::{DeliveryError, PostedMessage};

    use cachewatch_adapters::sqlite::SqliteStore;

    use super::*;
    use crate::ingest::tests::{World, at};

    /// A chat that refuses every message, as Slack does during an outage.
    struct RefusingChat;

    impl ChatSink for RefusingChat {
        fn threads(&self) -> bool {
            true
        }

        async fn post(&self, _: &str, _: &SlackMessage) -> Result<PostedMessage, DeliveryError> {
            Err(DeliveryError::Retryable {
                reason: "503 from the chat".to_owned(),
                retry_after: None,
            })
        }

        async fn update(&self, _: &str, _: &str, _: &SlackMessage) -> Result<(), DeliveryError> {
            Ok(())
        }
    }

    /// What the chat was given, one message a line.
    fn posted(world: &World) -> Vec<String> {
        world
            .chat
            .texts()
            .iter()
            .map(|t| t.trim().to_owned())
            .collect()
    }

    fn today<'a, C>(world: &'a World, chat: &'a C, holder: &'a str) -> Today<'a, SqliteStore, C> {
        let now = at("2026-03-02T08:00:00Z");
        Today {
            store: &world.store,
            chat,
            channel: "#ops",
            day: now.date_naive(),
            holder,
            now,
        }
    }

    async fn message(text: &str) -> Result<Option<SlackMessage>, String> {
        Ok(Some(SlackMessage {
            text: text.to_owned(),
            blocks: Vec::new(),
            thread_ts: None,
            metadata: None,
        }))
    }

    #[tokio::test]
    async fn a_days_message_is_posted_once_whatever_the_runs() {
        let world = World::new();
        let first = today(&world, &world.chat, "run-1");
        assert_eq!(
            first.once("digest", message("the digest")).await.unwrap(),
            Daily::Posted
        );
        let second = today(&world, &world.chat, "run-2");
        let again = second.once("digest", message("the digest")).await.unwrap();
        assert_eq!(again, Daily::DoneAlready);
        assert_eq!(again.to_string(), "done already");
        // Another message of the same day is its own.
        let coverage = second.once("coverage", message("the audit")).await.unwrap();
        assert_eq!(coverage, Daily::Posted);
        assert_eq!(posted(&world), ["the digest", "the audit"]);
    }

    #[tokio::test]
    async fn a_message_the_chat_refused_is_posted_by_the_next_run() {
        let world = World::new();
        let refused = today(&world, &RefusingChat, "run-1")
            .once("digest", message("the digest"))
            .await
            .unwrap();
        assert_eq!(
            refused.to_string(),
            "not posted: the chat is unavailable: 503 from the chat"
        );
        let next = today(&world, &world.chat, "run-2");
        assert_eq!(
            next.once("digest", message("the digest")).await.unwrap(),
            Daily::Posted
        );
        assert_eq!(posted(&world), ["the digest"]);
    }

    #[tokio::test]
    async fn a_message_that_cannot_be_made_is_tried_by_the_next_run_and_nothing_to_say_is_kept() {
        let world = World::new();
        let failed = today(&world, &world.chat, "run-1")
            .once("digest", async {
                Err("cannot read the open maintenances: locked".to_owned())
            })
            .await
            .unwrap();
        assert_eq!(
            failed,
            Daily::NotMade("cannot read the open maintenances: locked".to_owned())
        );
        let next = today(&world, &world.chat, "run-2");
        assert_eq!(
            next.once("digest", message("the digest")).await.unwrap(),
            Daily::Posted
        );
        // Nothing to say is the day's answer: a later run does not ask again.
        assert_eq!(
            next.once("coverage", async { Ok(None) }).await.unwrap(),
            Daily::NothingToSay
        );
        let third = today(&world, &world.chat, "run-3");
        assert_eq!(
            third.once("coverage", message("the audit")).await.unwrap(),
            Daily::DoneAlready
        );
        assert_eq!(posted(&world), ["the digest"]);
    }

    #[tokio::test]
    async fn the_digest_says_what_could_not_be_read() {
        let world = World::new();
        let inputs = DigestInputs {
            updates: Err("DescribeUpdateActions failed: throttled".to_owned()),
            unread_spokes: &["account 111122223333 in eu-west-1: AccessDenied".to_owned()],
            zone: Zone::default(),
            now: at("2026-03-02T08:00:00Z"),
        };
        let digest = digest(&world.store, inputs)
            .await
            .unwrap()
            .expect("a digest");
        let text = slack::to_text(&digest);
        assert!(text.contains("throttled"), "{text}");
        assert!(text.contains("111122223333"), "{text}");
    }
}
