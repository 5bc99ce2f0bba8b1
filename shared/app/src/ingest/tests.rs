//! The ingest entry against a real SQLite file, with a chat that keeps what it is sent.

use std::sync::Mutex;

use cachewatch_adapters::sqlite::SqliteStore;
use cachewatch_core::alerting::delivery::{
    ChatSink, DeliveryError, DeliveryState, DeliveryStore, LeaseRequest, PostedMessage,
};
use cachewatch_core::alerting::notify::NotifySettings;
use cachewatch_core::alerting::slack::{self, SlackMessage};
use cachewatch_core::cluster::facts::{ClusterFacts, Engine, NodeRole};
use cachewatch_core::cluster::kept::{FactsRecord, FactsStore};
use cachewatch_core::config::Config;
use cachewatch_core::history::response::{MuteRecord, ResponseStore};
use cachewatch_core::runbook::Runbooks;
use chrono::{DateTime, Duration, Utc};

use crate::known_facts;

use super::*;

pub(crate) const SNS_EVENT: &str = include_str!("../../../../tests/fixtures/lambda_sns_event.json");

pub(crate) fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// A chat that keeps the text of every message posted.
#[derive(Default)]
pub(crate) struct KeptChat {
    posted: Mutex<Vec<String>>,
    updated: Mutex<Vec<(String, String)>>,
}

impl KeptChat {
    pub(crate) fn texts(&self) -> Vec<String> {
        self.posted.lock().unwrap().clone()
    }

    /// Each message updated: its ts and its new text.
    pub(crate) fn updates(&self) -> Vec<(String, String)> {
        self.updated.lock().unwrap().clone()
    }
}

impl ChatSink for KeptChat {
    fn threads(&self) -> bool {
        true
    }

    async fn post(
        &self,
        channel: &str,
        message: &SlackMessage,
    ) -> Result<PostedMessage, DeliveryError> {
        let mut posted = self.posted.lock().unwrap();
        posted.push(slack::to_text(message));
        Ok(PostedMessage {
            channel: channel.to_owned(),
            ts: format!("1700000000.{:06}", posted.len()),
        })
    }

    async fn update(&self, _: &str, ts: &str, message: &SlackMessage) -> Result<(), DeliveryError> {
        let text = slack::to_text(message);
        self.updated.lock().unwrap().push((ts.to_owned(), text));
        Ok(())
    }
}

/// Facts that know nothing about any cluster.
pub(crate) struct NoFacts;

impl FactsSource for NoFacts {
    async fn facts_for(
        &self,
        _: &MaintenanceEvent,
        _: Option<&cachewatch_core::Maintenance>,
    ) -> cachewatch_core::cluster::facts::ClusterFacts {
        cachewatch_core::cluster::facts::ClusterFacts::default()
    }
}

pub(crate) struct World {
    _dir: tempfile::TempDir,
    pub(crate) store: SqliteStore,
    pub(crate) chat: KeptChat,
    runbooks: Runbooks,
    pub(crate) config: Config,
    pub(crate) settings: NotifySettings,
}

impl World {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("history.db")).unwrap();
        World {
            _dir: dir,
            store,
            chat: KeptChat::default(),
            runbooks: Runbooks::embedded(),
            config: Config::default(),
            settings: NotifySettings {
                channel: Some("#ops".to_owned()),
                base_url: None,
                links: None,
                zone: Default::default(),
                actions: false,
                holder: "test".to_owned(),
                ignore_backoff: false,
            },
        }
    }

    pub(crate) fn ports(&self, chat: bool) -> Ports<'_, SqliteStore, KeptChat, NoFacts> {
        Ports {
            store: &self.store,
            chat: chat.then_some(&self.chat),
            facts: &NoFacts,
            runbooks: &self.runbooks,
        }
    }

    pub(crate) async fn ingest(
        &self,
        door: Door,
        input: Input<'_>,
        chat: bool,
    ) -> Result<Ingested, IngestError> {
        ingest(self.ports(chat), self.request_now(door, input)).await
    }

    /// `document` ingested through the SNS door, with the chat or without; it must succeed.
    pub(crate) async fn sns(&self, document: &str, chat: bool) -> Ingested {
        let input = Input::Document(document);
        self.ingest(Door::Sns, input, chat).await.unwrap()
    }

    /// A request to ingest `input` through `door` at `LATER`, its alerts sent by the call.
    fn request_now<'a>(&'a self, door: Door, input: Input<'a>) -> IngestRequest<'a> {
        IngestRequest {
            door,
            input,
            config: &self.config,
            settings: &self.settings,
            alerting: Alerting::Now,
            progress: None,
            now: at(LATER),
        }
    }

    /// The facts kept for the cluster of `event`, if any.
    async fn kept_facts(&self, event: &MaintenanceEvent) -> Option<FactsRecord> {
        self.store
            .latest_facts(&cachewatch_core::cluster::kept::facts_key(event))
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_notification_is_stored_and_alerted_once_however_often_it_arrives() {
    let world = World::new();

    let first = world.sns(SNS_EVENT, true).await;
    let posted = world.chat.texts().len();
    let again = world.sns(SNS_EVENT, true).await;

    assert!(first.outcome.new_count() > 0);
    assert!(matches!(&first.alerts, Alerts::Sent(r) if !r.sent.is_empty()));
    assert!(posted > 0, "the new events were alerted");
    assert_eq!(again.outcome.new_count(), 0);
    assert_eq!(world.chat.texts().len(), posted, "nothing was posted twice");
}

#[tokio::test]
async fn a_document_that_does_not_read_stores_nothing() {
    let world = World::new();
    let broken = format!("{}\n{{ not json", &SNS_EVENT[..SNS_EVENT.len() / 2]);

    let result = world
        .ingest(Door::Text, Input::Document(&broken), true)
        .await;

    assert!(matches!(result, Err(IngestError::Parse(_))));
    let stored = world
        .store
        .deliveries_in(DeliveryState::Pending, 100)
        .await
        .unwrap();
    assert!(stored.is_empty());
    assert!(world.chat.texts().is_empty());
}

#[tokio::test]
async fn without_a_chat_events_are_stored_and_no_alert_is_recorded() {
    let world = World::new();

    let done = world.sns(SNS_EVENT, false).await;

    assert!(done.outcome.new_count() > 0);
    assert!(matches!(done.alerts, Alerts::NotSent));
    for state in [DeliveryState::Pending, DeliveryState::Sent] {
        assert!(
            world
                .store
                .deliveries_in(state, 100)
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn a_mute_set_in_slack_silences_the_alert_of_a_notification() {
    let world = World::new();
    let now = at("2026-06-10T15:23:00Z");
    world
        .store
        .record_mute(&MuteRecord {
            clusters: "ledger-*".to_owned(),
            until: now + Duration::days(1),
            by: "ana".to_owned(),
            at: now,
        })
        .await
        .unwrap();

    let done = world.sns(SNS_EVENT, true).await;

    assert!(done.outcome.new_count() > 0);
    assert!(world.chat.texts().is_empty(), "{:?}", world.chat.texts());
}

#[tokio::test]
async fn a_document_through_the_drill_door_is_stored_as_a_drill() {
    let world = World::new();

    let done = world
        .ingest(Door::Drill, Input::Document(SNS_EVENT), false)
        .await
        .unwrap();

    assert!(!done.outcome.events.is_empty());
    assert!(done.outcome.events.iter().all(|e| e.event.drill));
}

#[tokio::test]
async fn a_large_input_is_stored_in_chunks_and_progress_is_heard_after_each() {
    let world = World::new();
    let of = CHUNK + 10;
    let lines: Vec<String> = (0..of)
        .map(|i| {
            format!(
                r#"{{"SourceIdentifier":"ledger-{i:04}-001","SourceType":"cache-cluster","Message":"Cache node 0001 restarted","Date":"2026-06-10T15:22:03Z"}}"#
            )
        })
        .collect();
    let document = lines.join("\n");
    let mut heard = Vec::new();
    let mut progress = |done, of| heard.push((done, of));

    let request = IngestRequest {
        door: Door::Backfill,
        input: Input::Document(&document),
        config: &world.config,
        settings: &world.settings,
        alerting: Alerting::Later,
        progress: Some(&mut progress),
        now: at("2026-06-10T15:23:00Z"),
    };
    let done = ingest(world.ports(true), request).await.unwrap();

    assert_eq!(heard, vec![(0, of), (CHUNK, of), (of, of)]);
    assert_eq!(done.outcome.events.len(), of);
    assert!(world.chat.texts().is_empty(), "alerts are left for later");
}

/// ElastiCache describing the cluster: a Valkey primary with two replicas.
struct Answers;

impl FactsSource for Answers {
    async fn facts_for(
        &self,
        _: &MaintenanceEvent,
        _: Option<&cachewatch_core::Maintenance>,
    ) -> ClusterFacts {
        ClusterFacts {
            engine: Some(Engine::Valkey),
            engine_version: Some("8.0.1".to_owned()),
            cluster_mode_enabled: Some(false),
            node_role: Some(NodeRole::Primary),
            multi_az: Some(true),
            automatic_failover: Some(true),
            replicas_per_shard: Some(2),
            ..ClusterFacts::default()
        }
    }

    fn looks_up(&self) -> bool {
        true
    }
}

/// A lookup that reuses the answer ElastiCache gave at `READ_AT`, within its reuse window.
struct Reuses;

impl FactsSource for Reuses {
    async fn facts_for(
        &self,
        event: &MaintenanceEvent,
        maintenance: Option<&cachewatch_core::Maintenance>,
    ) -> ClusterFacts {
        ClusterFacts {
            reused_from: Some(at(READ_AT)),
            ..Answers.facts_for(event, maintenance).await
        }
    }

    fn looks_up(&self) -> bool {
        true
    }
}

/// ElastiCache refusing the lookup, as it does to a role without the permission.
struct Refuses;

impl FactsSource for Refuses {
    async fn facts_for(
        &self,
        _: &MaintenanceEvent,
        _: Option<&cachewatch_core::Maintenance>,
    ) -> ClusterFacts {
        ClusterFacts {
            unavailable: Some("AccessDenied".to_owned()),
            ..ClusterFacts::default()
        }
    }

    fn looks_up(&self) -> bool {
        true
    }
}

const READ_AT: &str = "2026-06-05T08:30:00Z";
const LATER: &str = "2026-06-10T15:23:00Z";

/// Asserts that `text` says the facts were read at `READ_AT`, as seen at `LATER`, and ends
/// with `why` they are shown as they are.
fn assert_read_before_later(text: &str, why: &str) {
    assert!(
        text.starts_with("read Fri 05 Jun 2026 08:30 UTC from ElastiCache, 5 days 6 hours ago"),
        "{text}"
    );
    assert!(text.ends_with(why), "{text}");
}

impl World {
    /// The first event of the SNS notification, read but not stored.
    fn notified_event(&self) -> MaintenanceEvent {
        let (events, _) = read(Door::Sns, Input::Document(SNS_EVENT), at(LATER)).unwrap();
        events.into_iter().next().unwrap()
    }

    async fn ingest_looking_up<F: FactsSource>(&self, facts: &F) -> Ingested {
        let ports = Ports {
            store: &self.store,
            chat: Some(&self.chat),
            facts,
            runbooks: &self.runbooks,
        };
        let request = self.request_now(Door::Sns, Input::Document(SNS_EVENT));
        ingest(ports, request).await.unwrap()
    }
}

#[tokio::test]
async fn facts_elasticache_answers_with_are_kept_with_the_time_they_were_read() {
    let world = World::new();
    let event = world.notified_event();

    let known = known_facts(&world.store, &Answers, &event, None, at(READ_AT), "").await;

    let kept = world
        .kept_facts(&event)
        .await
        .expect("the facts read are kept");
    assert_eq!(kept.read_at, at(READ_AT));
    assert_eq!(kept.facts.engine, Some(Engine::Valkey));
    assert_eq!(kept.facts.replicas_per_shard, Some(2));
    assert!(known.fresh);
    assert_eq!(
        known.read_text(at(READ_AT)).unwrap(),
        "read Fri 05 Jun 2026 08:30 UTC from ElastiCache (now)"
    );
}

#[tokio::test]
async fn an_answer_reused_by_the_lookup_is_kept_with_the_time_it_was_read_and_says_so() {
    let world = World::new();
    let event = world.notified_event();

    let known = known_facts(&world.store, &Reuses, &event, None, at(LATER), "").await;

    let kept = world.kept_facts(&event).await.expect("the facts are kept");
    assert_eq!(
        kept.read_at,
        at(READ_AT),
        "kept with the time ElastiCache gave them"
    );
    assert_eq!(kept.facts.reused_from, None);
    assert_eq!(kept.facts.engine, Some(Engine::Valkey));
    assert!(known.fresh);
    assert!(known.reused);
    assert_eq!(known.read_at, Some(at(READ_AT)));
    assert_read_before_later(
        &known.read_text(at(LATER)).unwrap(),
        "(an answer reused by this lookup)",
    );
}

#[tokio::test]
async fn a_refused_lookup_stands_on_the_facts_kept_and_says_when_they_were_read_and_why() {
    let world = World::new();
    let event = world.notified_event();
    known_facts(&world.store, &Answers, &event, None, at(READ_AT), "").await;

    let known = known_facts(&world.store, &Refuses, &event, None, at(LATER), "").await;

    assert!(!known.fresh);
    assert_eq!(known.facts.engine, Some(Engine::Valkey));
    assert_eq!(known.read_at, Some(at(READ_AT)));
    assert_read_before_later(
        &known.read_text(at(LATER)).unwrap(),
        "(kept from the last lookup; looking it up again failed: AccessDenied)",
    );
    let kept = world.kept_facts(&event).await.unwrap();
    assert_eq!(kept.read_at, at(READ_AT), "a failed lookup keeps nothing");
}

#[tokio::test]
async fn a_refused_lookup_with_nothing_kept_says_only_why() {
    let world = World::new();
    let event = world.notified_event();

    let known = known_facts(&world.store, &Refuses, &event, None, at(LATER), "").await;

    assert_eq!(known.facts.engine, None);
    assert_eq!(known.read_text(at(LATER)), None);
    assert_eq!(
        known.why_not_now.as_deref(),
        Some("looking it up again failed: AccessDenied")
    );
}

#[tokio::test]
async fn the_alert_of_an_ingest_keeps_the_facts_its_lookup_read() {
    let world = World::new();

    world.ingest_looking_up(&Answers).await;

    let event = world.notified_event();
    let kept = world
        .kept_facts(&event)
        .await
        .expect("the ingest kept what it read");
    assert_eq!(kept.read_at, at(LATER));
    assert_eq!(kept.facts.engine, Some(Engine::Valkey));
}

#[tokio::test]
async fn the_alert_of_an_ingest_whose_lookup_is_refused_names_the_facts_kept_and_their_age() {
    let world = World::new();
    let event = world.notified_event();
    known_facts(&world.store, &Answers, &event, None, at(READ_AT), "").await;

    world.ingest_looking_up(&Refuses).await;

    let posted = world.chat.texts().join("\n");
    assert!(posted.contains("Valkey"), "{posted}");
    assert!(
        posted.contains("the facts shown were read Fri 05 Jun 2026 08:30 UTC from ElastiCache, 5 days 6 hours ago (kept from the last lookup; looking it up again failed: AccessDenied)"),
        "{posted}"
    );
}

#[tokio::test]
async fn the_facts_of_a_drill_are_never_kept() {
    let world = World::new();
    let mut event = world.notified_event();
    event.drill = true;

    known_facts(&world.store, &Answers, &event, None, at(READ_AT), "").await;

    let kept = world.kept_facts(&event).await;
    assert_eq!(kept, None);
}

#[tokio::test]
async fn an_alert_whose_channel_another_sender_holds_is_recorded_and_sent_once_later() {
    let world = World::new();
    let now = at("2026-06-10T15:23:00Z");
    assert!(
        world
            .store
            .acquire_lease(LeaseRequest::new(
                "chat:#ops",
                "poller",
                now,
                now + Duration::minutes(5)
            ))
            .await
            .unwrap()
    );

    let busy = world.sns(SNS_EVENT, true).await;

    let Alerts::Sent(report) = &busy.alerts else {
        panic!("{:?}", busy.alerts);
    };
    assert_eq!(report.busy, ["#ops"], "{report:?}");
    assert!(world.chat.texts().is_empty(), "{:?}", world.chat.texts());
    let waiting = world.store.due_deliveries(now, 100).await.unwrap();
    assert!(!waiting.is_empty(), "the alert is recorded, not lost");
    assert!(
        waiting.iter().all(|d| d.state == DeliveryState::Pending),
        "{waiting:?}"
    );

    let later = now + Duration::minutes(6);
    let sent = crate::send_pending(world.ports(true), world.rules(later))
        .await
        .unwrap()
        .unwrap();
    let posted = world.chat.texts().len();
    let again = crate::send_pending(world.ports(true), world.rules(later))
        .await
        .unwrap()
        .unwrap();

    assert_eq!(sent.alerts.sent.len(), waiting.len(), "{sent:?}");
    assert!(posted > 0);
    assert!(again.alerts.sent.is_empty(), "{again:?}");
    assert_eq!(world.chat.texts().len(), posted, "nothing posted twice");
}

/// An SNS notification that a node of `source` is scheduled for replacement, published at `at`.
fn scheduled_notification(message_id: &str, source: &str, at: &str) -> String {
    let name = "ElastiCache:NodeReplacementScheduled";
    let message = format!(r#"{{\"{name}\":\"{source}\"}}"#);
    format!(
        r#"{{"Records":[{{"EventSource":"aws:sns","Sns":{{"Type":"Notification","MessageId":"{message_id}","TopicArn":"arn:aws:sns:eu-central-1:482917365510:elasticache-ops","Timestamp":"{at}","Message":"{message}"}}}}]}}"#
    )
}

#[tokio::test]
async fn the_alert_of_a_notification_leaves_a_lost_answer_of_another_maintenance_to_the_scheduled_run()
 {
    let world = World::new();
    let now = at("2026-06-10T15:23:00Z");
    // Another cluster's replacement, whose send began and whose answer was lost.
    let earlier = scheduled_notification(
        "0b7c0f4e-1d2a-4c59-9d51-5b0c3a9e0001",
        "orders-0001-001",
        "2026-06-10T14:00:00.000Z",
    );
    let stored = world.sns(&earlier, false).await;
    let event = &stored.outcome.events[0].event;
    let lost = cachewatch_core::alerting::delivery::Delivery::new(
        event.id.clone(),
        "#ops".to_owned(),
        event.group_key(),
        DeliveryState::Sending,
        now - Duration::minutes(5),
    );
    world.store.record_deliveries(&[lost]).await.unwrap();
    let new = scheduled_notification(
        "0b7c0f4e-1d2a-4c59-9d51-5b0c3a9e0002",
        "ledger-0002-001",
        "2026-06-10T15:22:04.912Z",
    );

    let done = world.sns(&new, true).await;
    let after_ingest = world.chat.texts();
    let still = world
        .store
        .deliveries(std::slice::from_ref(&event.id))
        .await
        .unwrap();
    let settled = crate::send_pending(world.ports(true), world.rules(now))
        .await
        .unwrap()
        .unwrap();

    assert!(
        matches!(&done.alerts, Alerts::Sent(r) if r.sent.len() == 1),
        "{:?}",
        done.alerts
    );
    assert!(
        after_ingest[0].contains("ledger-0002-001"),
        "{after_ingest:?}"
    );
    assert!(
        !after_ingest.iter().any(|t| t.contains("orders-0001-001")),
        "{after_ingest:?}"
    );
    assert_eq!(still[0].state, DeliveryState::Sending, "{still:?}");
    assert_eq!(settled.alerts.sent.len(), 1, "{settled:?}");
    let texts = world.chat.texts();
    assert!(
        texts[after_ingest.len()..]
            .iter()
            .any(|t| t.contains("orders-0001-001")),
        "{texts:?}"
    );
    let now_sent = world
        .store
        .deliveries(std::slice::from_ref(&event.id))
        .await
        .unwrap();
    assert_eq!(now_sent[0].state, DeliveryState::Sent, "{now_sent:?}");
}
