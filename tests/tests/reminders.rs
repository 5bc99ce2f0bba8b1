//! Reminders end to end: a maintenance nobody acknowledges is reminded of in its Slack thread
//! (the local stand-in), mentioning its owners, once per step whatever the re-runs and concurrent
//! senders; acknowledging stops them, a reschedule starts them again. Against SQLite on a file and
//! DynamoDB on moto (127.0.0.1), with the same scenarios.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use cachewatch_adapters::SqliteStore;
use cachewatch_adapters::dynamo::DynamoStore;
use cachewatch_adapters::slack::SlackClient;
use cachewatch_core::alerting::notify::{Alerter, NotifySettings, notify, record_alerts};
use cachewatch_core::alerting::reminder::{ReminderReport, send_reminders};
use cachewatch_core::cluster::source::NoFacts;
use cachewatch_core::config::Config;
use cachewatch_core::history::History;
use cachewatch_core::history::response::Acknowledgement;
use cachewatch_core::model::timefmt::Zone;
use cachewatch_core::runbook::Runbooks;
use cachewatch_core::{EventId, parse_document};
use cachewatch_tests::moto::Moto;
use cachewatch_tests::slack::{Fault, SlackStandIn, StoredMessage};
use cachewatch_tests::store_new;
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde_json::json;

const CHANNEL: &str = "C0ALERTS";
const CLUSTER: &str = "orders-0001-002";
const MENTION: &str = "<!subteam^S0PLATFORM>";

/// A store the scenarios run against.
trait Store: History + 'static {}
impl<S: History + 'static> Store for S {}

/// The first reminder's run: now, to the minute, so that Slack's own timestamps (the stand-in's
/// clock) are not before the steps it is asked about.
fn start() -> DateTime<Utc> {
    Utc::now().duration_trunc(Duration::minutes(1)).unwrap()
}

fn text_time(at: DateTime<Utc>) -> String {
    at.format("%b %d %H:%M UTC").to_string()
}

fn describe(at: DateTime<Utc>, message: &str) -> String {
    json!({"SourceIdentifier": CLUSTER, "SourceType": "cache-cluster", "Date": at.to_rfc3339(), "Message": message}).to_string()
}

fn scheduled(at: DateTime<Utc>, window: DateTime<Utc>) -> String {
    describe(
        at,
        &format!(
            "The node with Cache Cluster ID: {CLUSTER}, Node ID: 0001 is scheduled for replacement during the maintenance window from Start Time: {}, End Time: {}",
            text_time(window),
            text_time(window + Duration::hours(1))
        ),
    )
}

fn rescheduled(at: DateTime<Utc>, from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    describe(
        at,
        &format!(
            "The replacement in maintenance window for node with Cache Cluster ID: {CLUSTER}, Node ID: 0001 has re-scheduled from Previous Start Time: {}, Previous End Time: {} to New Start Time: {}, New End Time: {}",
            text_time(from),
            text_time(from + Duration::hours(1)),
            text_time(to),
            text_time(to + Duration::hours(1))
        ),
    )
}

fn client(slack: &SlackStandIn) -> SlackClient {
    slack.client(StdDuration::from_secs(2), 1)
}

fn settings(holder: &str) -> NotifySettings {
    NotifySettings {
        channel: Some(CHANNEL.to_owned()),
        base_url: None,
        links: None,
        zone: Zone::Utc,
        actions: false,
        holder: holder.to_owned(),
        ignore_backoff: false,
    }
}

fn config() -> Config {
    Config::from_toml(&format!("[reminders]\nmention = \"{MENTION}\"")).unwrap()
}

/// What the SNS function does with a notification: store it, record its alert, send what is due.
async fn deliver<S: Store>(store: &S, chat: &SlackClient, doc: &str, now: DateTime<Utc>) {
    let new = store_new(store, doc, now).await;
    let (config, settings) = (config(), settings("ingest"));
    record_alerts(store, &new, &config, Some(CHANNEL), now)
        .await
        .unwrap();
    let runbooks = Runbooks::embedded();
    let alerter = Alerter {
        store,
        sink: chat,
        facts: &NoFacts,
        runbooks: &runbooks,
        config: &config,
        settings: &settings,
        now,
    };
    notify(alerter, &[]).await.unwrap();
}

/// Two pollers at the same moment, each on its own thread with its own Slack client, then the
/// first one's invocation delivered again: what each run reported.
async fn two_pollers_and_a_redelivery<S: Store>(
    store: &Arc<S>,
    slack: &SlackStandIn,
    now: DateTime<Utc>,
) -> Vec<ReminderReport> {
    let run = |holder: &'static str| {
        let (store, chat) = (Arc::clone(store), client(slack));
        tokio::spawn(async move {
            send_reminders(&*store, &chat, &config(), &settings(holder), now)
                .await
                .unwrap()
        })
    };
    let (a, b) = (run("poller-a"), run("poller-b"));
    let mut reports = vec![a.await.unwrap(), b.await.unwrap()];
    reports.push(run("poller-a").await.unwrap());
    reports
}

/// The reminders posted, by their step's key.
fn reminders(slack: &SlackStandIn) -> Vec<StoredMessage> {
    slack
        .messages(CHANNEL)
        .into_iter()
        .filter(|m| m.delivery_key().is_some_and(|k| k.starts_with("reminder:")))
        .collect()
}

fn sent(reports: &[ReminderReport]) -> usize {
    reports.iter().map(|r| r.sent.len()).sum()
}

/// The maintenance's id and its thread's parent, after its notice was delivered `heard` before
/// `deadline` and alerted.
async fn announced<S: Store>(
    store: &S,
    slack: &SlackStandIn,
    deadline: DateTime<Utc>,
    heard: DateTime<Utc>,
) -> (EventId, StoredMessage) {
    deliver(store, &client(slack), &scheduled(heard, deadline), heard).await;
    let parents = slack.parents(CHANNEL);
    assert_eq!(parents.len(), 1, "the notice is alerted in one thread");
    let event = parse_document(
        &scheduled(heard, deadline),
        &cachewatch_core::ParseContext::received_at(heard),
    )
    .unwrap()
    .remove(0);
    let m = store.maintenance(&event.id).await.unwrap().unwrap();
    (m.id, parents[0].clone())
}

async fn each_step_is_posted_once_in_the_thread_with_the_mention<S: Store>(store: S) {
    // Arrange: a notice heard 2 hours before its 72 h step; the window opens in 71 hours.
    let (store, slack) = (Arc::new(store), SlackStandIn::start());
    let t0 = start();
    let deadline = t0 + Duration::hours(71);
    let (_, parent) = announced(&*store, &slack, deadline, t0 - Duration::hours(3)).await;

    // Act: at each step, two pollers at once and a re-delivered run; and runs between the steps.
    let mut reports = Vec::new();
    for before in [71, 60, 23, 10, 2, 1] {
        let now = deadline - Duration::hours(before);
        reports.push((
            before,
            two_pollers_and_a_redelivery(&store, &slack, now).await,
        ));
    }

    // Assert: the 72 h, 24 h and 2 h steps, once each, in the thread, mentioning the owners.
    let posted = reminders(&slack);
    let keys: Vec<&str> = posted.iter().filter_map(|m| m.delivery_key()).collect();
    assert_eq!(keys.len(), 3, "{keys:?}");
    for (lead, key) in ["4320m", "1440m", "120m"].iter().zip(&keys) {
        assert!(key.ends_with(lead), "{key} is the {lead} step");
        assert!(key.contains(&deadline.timestamp().to_string()), "{key}");
    }
    for m in &posted {
        assert_eq!(m.thread_ts.as_deref(), Some(parent.ts.as_str()));
        assert!(m.text.starts_with(MENTION), "{}", m.text);
        assert!(m.text.contains(CLUSTER), "{}", m.text);
    }
    for (before, runs) in &reports {
        let want = usize::from([71, 23, 2].contains(before));
        assert_eq!(sent(runs), want, "{before} h before: {runs:?}");
        if want == 1 {
            assert_eq!(runs.iter().map(|r| r.already).sum::<usize>(), 2, "{runs:?}");
        }
    }
}

async fn acknowledging_stops_the_reminders<S: Store>(store: S) {
    // Arrange: the 72 h reminder was posted, then someone acknowledged the maintenance.
    let (store, slack) = (Arc::new(store), SlackStandIn::start());
    let t0 = start();
    let deadline = t0 + Duration::hours(71);
    let (id, _) = announced(&*store, &slack, deadline, t0 - Duration::hours(3)).await;
    let first = two_pollers_and_a_redelivery(&store, &slack, t0).await;
    store
        .record_acknowledgement(&Acknowledgement {
            event_id: id,
            by: "U0ONCALL".into(),
            at: t0 + Duration::hours(1),
        })
        .await
        .unwrap();

    // Act: the 24 h and 2 h steps' times.
    let mut later = Vec::new();
    for before in [23, 2] {
        later.extend(
            two_pollers_and_a_redelivery(&store, &slack, deadline - Duration::hours(before)).await,
        );
    }

    // Assert
    assert_eq!(sent(&first), 1);
    assert_eq!(sent(&later), 0, "{later:?}");
    assert_eq!(reminders(&slack).len(), 1);
}

async fn a_reschedule_starts_the_reminders_again<S: Store>(store: S) {
    // Arrange: the 72 h reminder was posted; an hour later the window moved five days on.
    let (store, slack) = (Arc::new(store), SlackStandIn::start());
    let t0 = start();
    let deadline = t0 + Duration::hours(71);
    let moved_to = deadline + Duration::days(5);
    let (_, parent) = announced(&*store, &slack, deadline, t0 - Duration::hours(3)).await;
    let first = two_pollers_and_a_redelivery(&store, &slack, t0).await;
    let moved_at = t0 + Duration::hours(1);
    deliver(
        &*store,
        &client(&slack),
        &rescheduled(moved_at, deadline, moved_to),
        moved_at,
    )
    .await;

    // Act: the old deadline's 24 h step time, then the new deadline's steps.
    let old_step =
        two_pollers_and_a_redelivery(&store, &slack, deadline - Duration::hours(23)).await;
    let mut new_steps = Vec::new();
    for before in [71, 23, 2] {
        new_steps.extend(
            two_pollers_and_a_redelivery(&store, &slack, moved_to - Duration::hours(before)).await,
        );
    }

    // Assert: nothing for the old deadline, three new steps for the new one, in the same thread.
    assert_eq!(sent(&first), 1);
    assert_eq!(sent(&old_step), 0, "{old_step:?}");
    assert_eq!(sent(&new_steps), 3, "{new_steps:?}");
    let posted = reminders(&slack);
    assert_eq!(posted.len(), 4);
    let new_deadline = moved_to.timestamp().to_string();
    assert_eq!(
        posted
            .iter()
            .filter(|m| m.delivery_key().unwrap().contains(&new_deadline))
            .count(),
        3
    );
    assert!(
        posted
            .iter()
            .all(|m| m.thread_ts.as_deref() == Some(parent.ts.as_str()))
    );
}

/// A client for DynamoDB on moto, without retries.
async fn dynamodb_store(moto: &Moto) -> DynamoStore {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region, retry::RetryConfig};
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(moto.endpoint())
        .region(Region::new("eu-west-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .retry_config(RetryConfig::disabled())
        .build();
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::from_conf(config),
        "cachewatch-history",
    );
    store.create_table().await.expect("moto creates the table");
    store
}

mod sqlite {
    use super::*;

    fn store(dir: &tempfile::TempDir) -> SqliteStore {
        SqliteStore::open(&dir.path().join("history.db")).unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn each_step_is_posted_once_in_the_thread_with_the_mention() {
        let dir = tempfile::tempdir().unwrap();
        super::each_step_is_posted_once_in_the_thread_with_the_mention(store(&dir)).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn acknowledging_stops_the_reminders() {
        let dir = tempfile::tempdir().unwrap();
        super::acknowledging_stops_the_reminders(store(&dir)).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_reschedule_starts_the_reminders_again() {
        let dir = tempfile::tempdir().unwrap();
        super::a_reschedule_starts_the_reminders_again(store(&dir)).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_reminder_whose_answer_was_lost_is_not_posted_again() {
        // Arrange: Slack keeps the reminder but its answer is lost on the way back.
        let dir = tempfile::tempdir().unwrap();
        let (store, slack) = (Arc::new(store(&dir)), SlackStandIn::start());
        let t0 = start();
        let deadline = t0 + Duration::hours(71);
        announced(&*store, &slack, deadline, t0 - Duration::hours(3)).await;
        slack.fail_next_to(
            cachewatch_tests::slack::Endpoint::PostMessage,
            Fault::LostAnswer,
        );
        let chat = client(&slack);

        // Act: the run that lost the answer, then the next run.
        let lost = send_reminders(&*store, &chat, &config(), &settings("poller"), t0)
            .await
            .unwrap();
        let next = send_reminders(
            &*store,
            &chat,
            &config(),
            &settings("poller"),
            t0 + Duration::minutes(15),
        )
        .await
        .unwrap();

        // Assert: Slack has it once; the next run found it rather than posting it again.
        assert_eq!(lost.waiting.len(), 1, "{lost:?}");
        assert_eq!(next.recovered, 1, "{next:?}");
        assert!(next.sent.is_empty());
        assert_eq!(reminders(&slack).len(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_maintenance_heard_of_after_a_steps_time_skips_that_step() {
        // Arrange: heard of 10 hours before its window: the 72 h and 24 h steps are long past.
        let dir = tempfile::tempdir().unwrap();
        let (store, slack) = (Arc::new(store(&dir)), SlackStandIn::start());
        let t0 = start();
        let deadline = t0 + Duration::hours(9);
        announced(&*store, &slack, deadline, t0 - Duration::hours(1)).await;

        // Act
        let now = two_pollers_and_a_redelivery(&store, &slack, t0).await;
        let at_2h =
            two_pollers_and_a_redelivery(&store, &slack, deadline - Duration::hours(2)).await;

        // Assert
        assert_eq!(sent(&now), 0, "{now:?}");
        assert_eq!(sent(&at_2h), 1, "{at_2h:?}");
        let keys: Vec<String> = reminders(&slack)
            .iter()
            .filter_map(|m| m.delivery_key().map(str::to_owned))
            .collect();
        assert_eq!(keys.len(), 1);
        assert!(keys[0].ends_with(":120m"), "{keys:?}");
    }
}

mod dynamodb {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn each_step_is_posted_once_in_the_thread_with_the_mention() {
        let moto = Moto::start();
        super::each_step_is_posted_once_in_the_thread_with_the_mention(dynamodb_store(&moto).await)
            .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn acknowledging_stops_the_reminders() {
        let moto = Moto::start();
        super::acknowledging_stops_the_reminders(dynamodb_store(&moto).await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_reschedule_starts_the_reminders_again() {
        let moto = Moto::start();
        super::a_reschedule_starts_the_reminders_again(dynamodb_store(&moto).await).await;
    }
}
