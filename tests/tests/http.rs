//! The HTTP door in process (`tower::ServiceExt::oneshot` on the router), over SQLite on a temp
//! file and the local server that plays Slack: SNS notifications become alerts, subscriptions are
//! confirmed (against a plain-HTTP stub on 127.0.0.1 standing for SNS), Slack's commands and
//! buttons work, the API filters, signed links open the pages; and nothing unsigned or forged
//! changes anything.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use cachewatch_adapters::SqliteStore;
use cachewatch_adapters::elasticache::ElastiCache;
use cachewatch_adapters::slack::SlackClient;
use cachewatch_core::alerting::notify::{NotifySettings, record_alerts};
use cachewatch_core::alerting::slack::{
    ACTION_ACKNOWLEDGE, ACTION_CHECKLIST, ACTION_OUTCOME, ACTION_RUNBOOK, Block, SlackMessage,
    limits,
};
use cachewatch_core::cluster::source::{FactsSource, NoFacts};
use cachewatch_core::config::Config;
use cachewatch_core::history::response::ResponseStore;
use cachewatch_core::history::store::EventStore;
use cachewatch_core::intake::parse::{ParseContext, parse_document};
use cachewatch_core::links::LinkSigner;
use cachewatch_core::model::timefmt::Zone;
use cachewatch_core::runbook::Runbooks;
use cachewatch_core::{AlertPolicy, EventId, ingest};
use cachewatch_http::sns::{FetchError, SnsFetcher};
use cachewatch_http::{Door, HttpSettings, router};
use cachewatch_tests::browser::Browser;
use cachewatch_tests::elasticache::{ElastiCacheStandIn, redis_group, redis_member};
use cachewatch_tests::slack::{ALERTS, Endpoint, OPS, SlackRequest, SlackStandIn, StoredMessage};
use cachewatch_tests::sns::{self, CERT_URL, TOPIC};
use cachewatch_tests::{assert_contains_all, sorted_ids};
use chrono::{DateTime, Duration, Utc};
use reqwest::Url;
use secrecy::SecretString;
use serde_json::{Value, json};
use tower::ServiceExt;

const BASE: &str = "https://cachewatch.example.com";
const LINK_SECRET: &str = "http-test-link-secret-0123456789abcdef";
const ONCALL: &str = "U0ONCALL";

// --- SNS played by the test ------------------------------------------------------------------

fn sns_confirmation() -> Value {
    sns::sign(json!({
        "Type": "SubscriptionConfirmation",
        "MessageId": "a5544098-f8c9-4589-81b2-d8b719f21e3c",
        "Token": "2336412f37fb687f5d51e6e2425a8a58",
        "TopicArn": TOPIC,
        "Message": format!("You have chosen to subscribe to the topic {TOPIC}.\nTo confirm the subscription, visit the SubscribeURL included in this message."),
        "SubscribeURL": format!("https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=2336412f37fb687f5d51e6e2425a8a58"),
        "Timestamp": Utc::now().to_rfc3339(),
        "SignatureVersion": "1",
        "SigningCertURL": CERT_URL,
    }))
}

/// The fetcher of the test: serves the test's certificate at [`CERT_URL`], and confirms
/// subscriptions on a plain-HTTP stub on 127.0.0.1 that plays SNS's endpoint (same path and
/// query).
#[derive(Clone)]
struct LocalSns {
    stub: String,
    http: reqwest::Client,
    certificates_fetched: Arc<Mutex<usize>>,
}

impl SnsFetcher for LocalSns {
    async fn certificate(&self, url: &Url) -> Result<String, FetchError> {
        *self.certificates_fetched.lock().unwrap() += 1;
        if url.as_str() == CERT_URL {
            Ok(sns::key().pem.clone())
        } else {
            Err(FetchError::Status {
                what: "the signing certificate",
                status: 404,
            })
        }
    }

    async fn confirm_subscription(&self, url: &Url) -> Result<(), FetchError> {
        let local = format!("{}{}?{}", self.stub, url.path(), url.query().unwrap_or(""));
        let answer = self
            .http
            .get(local)
            .send()
            .await
            .map_err(|e| FetchError::Transport {
                what: "the subscription confirmation",
                source: Box::new(e),
            })?;
        if answer.status().is_success() {
            Ok(())
        } else {
            Err(FetchError::Status {
                what: "the subscription confirmation",
                status: answer.status().as_u16(),
            })
        }
    }
}

/// Starts the stub on 127.0.0.1 (it stops with the test's runtime); returns its base URL and
/// the queries it received.
async fn sns_stub() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorded = Arc::clone(&seen);
    let app = Router::new().fallback(move |uri: axum::http::Uri| {
        let recorded = Arc::clone(&recorded);
        async move {
            recorded
                .lock()
                .unwrap()
                .push(uri.query().unwrap_or_default().to_owned());
            "<ConfirmSubscriptionResponse><ConfirmSubscriptionResult><SubscriptionArn>arn:aws:sns:eu-west-1:111122223333:cachewatch:1</SubscriptionArn></ConfirmSubscriptionResult></ConfirmSubscriptionResponse>"
        }
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}"), seen)
}

// --- The door under test ---------------------------------------------------------------------

struct TestDoor {
    router: Router,
    slack: SlackStandIn,
    /// A second connection to the door's database, to look at what it stored.
    store: SqliteStore,
    signer: LinkSigner,
    /// The door's database.
    db: std::path::PathBuf,
    sns_fetcher: LocalSns,
    links_required: bool,
    confirmations: Arc<Mutex<Vec<String>>>,
    certificates_fetched: Arc<Mutex<usize>>,
    _dir: tempfile::TempDir,
}

fn client(slack: &SlackStandIn) -> SlackClient {
    slack.client(StdDuration::from_secs(5), 2)
}

async fn door(links_required: bool) -> TestDoor {
    door_on(links_required, NoFacts).await
}

/// A door whose alerts and runbooks take their facts from `facts`.
async fn door_on<F: FactsSource + 'static>(links_required: bool, facts: F) -> TestDoor {
    door_with(links_required, facts, Config::default()).await
}

/// A door with the team's configuration `config`.
async fn door_with<F: FactsSource + 'static>(
    links_required: bool,
    facts: F,
    config: Config,
) -> TestDoor {
    let slack = SlackStandIn::start();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("history.db");
    let signer = LinkSigner::new(LINK_SECRET, Duration::days(30)).unwrap();
    let (stub, confirmations) = sns_stub().await;
    let certificates_fetched = Arc::new(Mutex::new(0));
    let sns_fetcher = LocalSns {
        stub,
        http: reqwest::Client::new(),
        certificates_fetched: Arc::clone(&certificates_fetched),
    };
    let mut door = TestDoor {
        router: Router::new(),
        store: SqliteStore::open(&db).unwrap(),
        db,
        slack,
        signer,
        sns_fetcher,
        links_required,
        confirmations,
        certificates_fetched,
        _dir: dir,
    };
    door.restart_with(facts, config);
    door
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

impl TestDoor {
    /// The door (re)started over the same history, Slack and SNS, with its facts from `facts`
    /// and the team's configuration `config`.
    fn restart_with<F: FactsSource + 'static>(&mut self, facts: F, config: Config) {
        let door = Door {
            store: SqliteStore::open(&self.db).unwrap(),
            chat: Some(client(&self.slack)),
            facts,
            sns_fetcher: self.sns_fetcher.clone(),
            runbooks: Runbooks::embedded(),
            config,
            notify: NotifySettings {
                channel: Some(ALERTS.to_owned()),
                base_url: Some(BASE.to_owned()),
                links: Some(self.signer.clone()),
                zone: Zone::Utc,
                actions: true,
                holder: "http-test".to_owned(),
                ignore_backoff: false,
            },
            settings: HttpSettings {
                signing_secret: Some(SecretString::from(self.slack.signing_secret().to_owned())),
                links: Some(self.signer.clone()),
                links_required: self.links_required,
                topic_arns: vec![TOPIC.to_owned()],
                base_url: Some(BASE.to_owned()),
                ..HttpSettings::default()
            },
        };
        self.router = router(door);
    }

    async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn get(&self, path_and_query: &str) -> Answer {
        self.send(Request::get(path_and_query).body(Body::empty()).unwrap())
            .await
    }

    async fn post_sns(&self, message: &Value) -> Answer {
        self.send(
            Request::post("/sns")
                .header(header::CONTENT_TYPE, "text/plain; charset=UTF-8")
                .header(
                    "x-amz-sns-message-type",
                    message["Type"].as_str().unwrap_or(""),
                )
                .body(Body::from(message.to_string()))
                .unwrap(),
        )
        .await
    }

    async fn slack_request(&self, request: &SlackRequest) -> Answer {
        self.send(request.to_request()).await
    }

    /// `/cachewatch {text}`, signed; the answer as a message, checked against Slack's limits.
    async fn command(&self, text: &str) -> (Value, SlackMessage) {
        let answer = self
            .slack_request(&self.slack.slash_command(text, ONCALL, ALERTS))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{text}: {}", answer.body);
        let json = answer.json();
        let message = SlackMessage {
            text: json["text"].as_str().unwrap().to_owned(),
            blocks: serde_json::from_value(json["blocks"].clone()).unwrap(),
            thread_ts: None,
            metadata: None,
        };
        assert!(
            limits::check(&message).is_empty(),
            "{text}: {:?}",
            limits::check(&message)
        );
        (json, message)
    }

    /// [`ONCALL`] pressing the button `action_id` on `parent`, in [`ALERTS`], as Slack posts it.
    fn press(&self, parent: &StoredMessage, action_id: &str) -> SlackRequest {
        let value = button_value(parent, action_id);
        self.slack
            .block_action(action_id, &value, ONCALL, ALERTS, &parent.ts)
    }

    /// [`ONCALL`] pressing the button `action_id` on `parent`, answered with 200; the press as
    /// Slack posted it.
    async fn pressed(&self, parent: &StoredMessage, action_id: &str) -> SlackRequest {
        let press = self.press(parent, action_id);
        let answer = self.slack_request(&press).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "{action_id}: {}",
            answer.body
        );
        press
    }

    /// The path and query of a link the door wrote under [`BASE`].
    fn local(url: &str) -> String {
        url.strip_prefix(BASE)
            .unwrap_or_else(|| panic!("{url} is not under {BASE}"))
            .to_owned()
    }

    fn signed(&self, path: &str) -> String {
        self.signer.sign(path, Utc::now()).to_url(None)
    }
}

/// The value or URL of the element with `action_id` in a message's blocks.
fn element(message: &StoredMessage, action_id: &str) -> Option<Value> {
    fn find(value: &Value, action_id: &str) -> Option<Value> {
        match value {
            Value::Object(map) => {
                if map.get("action_id").and_then(Value::as_str) == Some(action_id) {
                    return Some(value.clone());
                }
                map.values().find_map(|v| find(v, action_id))
            }
            Value::Array(items) => items.iter().find_map(|v| find(v, action_id)),
            _ => None,
        }
    }
    find(&Value::Array(message.blocks.clone()), action_id)
}

/// The value of the button `action_id` in a message.
fn button_value(message: &StoredMessage, action_id: &str) -> String {
    let button = element(message, action_id).unwrap_or_else(|| panic!("no {action_id}"));
    button["value"].as_str().unwrap().to_owned()
}

/// The URL of the link button `action_id` in a message.
fn button_url(message: &StoredMessage, action_id: &str) -> String {
    let button = element(message, action_id).unwrap_or_else(|| panic!("no {action_id}"));
    button["url"].as_str().unwrap().to_owned()
}

/// That `shown` gives the facts kept from a lookup between `before` and `after`, because
/// looking them up again was refused.
fn assert_says_facts_kept_after_a_refusal(
    shown: &str,
    before: DateTime<Utc>,
    after: DateTime<Utc>,
) {
    assert_contains_all(
        shown,
        &[
            "kept from the last lookup; looking it up again failed",
            "AccessDenied",
        ],
    );
    assert!(
        read_times(before, after).iter().any(|t| shown.contains(t)),
        "the time of the first lookup is missing: {shown}"
    );
}

fn text_time(at: DateTime<Utc>) -> String {
    at.format("%b %d %H:%M UTC").to_string()
}

/// A node replacement of `cluster` node 0001, announced an hour ago for a window in three days,
/// stored directly (as the poller would).
async fn scheduled(store: &SqliteStore, cluster: &str) -> EventId {
    let now = Utc::now();
    let start = now + Duration::days(3);
    let doc = json!({
        "SourceIdentifier": cluster, "SourceType": "cache-cluster",
        "Date": (now - Duration::hours(1)).to_rfc3339(),
        "Message": format!("The node with Cache Cluster ID: {cluster}, Node ID: 0001 is scheduled for replacement during the maintenance window from Start Time: {}, End Time: {}", text_time(start), text_time(start + Duration::hours(1))),
    })
    .to_string();
    stored_first(store, &doc, now).await
}

/// Stores what `doc`, received at `now`, says; returns the id of its first event.
async fn stored_first(store: &SqliteStore, doc: &str, now: DateTime<Utc>) -> EventId {
    let events = parse_document(doc, &ParseContext::received_at(now)).unwrap();
    let outcome = ingest(store, events, &AlertPolicy::default())
        .await
        .unwrap();
    outcome.events[0].event.id.clone()
}

/// As [`scheduled`], from the topic of `account` in `region`.
async fn scheduled_in(store: &SqliteStore, cluster: &str, account: &str, region: &str) -> EventId {
    let now = Utc::now();
    let doc = json!({"Records": [{"EventSource": "aws:sns", "Sns": {
        "TopicArn": format!("arn:aws:sns:{region}:{account}:cachewatch-events"),
        "Timestamp": (now - Duration::hours(1)).to_rfc3339(),
        "Message": json!({"ElastiCache:NodeReplacementScheduled": cluster}).to_string(),
    }}]})
    .to_string();
    stored_first(store, &doc, now).await
}

/// SNS's notice, a minute old, that a node of `member` (of replication group `payments`) is
/// scheduled for replacement, taken by the door.
async fn replacement_notified(door: &TestDoor, member: &str) {
    let body =
        json!({"ElastiCache:NodeReplacementScheduled": member, "Replication Group ID": "payments"});
    let answer = door
        .post_sns(&sns::notification(
            &body,
            Utc::now() - Duration::minutes(1),
            "2",
        ))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
}

/// SNS's notice, just published, that the replacement of `payments-0001-001` is rescheduled,
/// taken by the door.
async fn replacement_rescheduled(door: &TestDoor) {
    let body = json!({"ElastiCache:NodeReplacementRescheduled": "payments-0001-001", "Replication Group ID": "payments"});
    let answer = door
        .post_sns(&sns::notification(&body, Utc::now(), "2"))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
}

/// An SNS notice of a replacement of `payments-0001-001` posted to `/sns`; returns the alert.
async fn alerted(door: &TestDoor) -> StoredMessage {
    replacement_notified(door, "payments-0001-001").await;
    let parents = door.slack.parents(ALERTS);
    assert_eq!(parents.len(), 1, "one alert: {parents:#?}");
    parents.into_iter().next().unwrap()
}

// --- Facts kept, where people see them -------------------------------------------------------

/// A door whose facts come from the ElastiCache stand-in, asked anew at every lookup, where
/// `payments-0001-001` is the primary of `payments` (Redis OSS 7.1, Multi-AZ, one replica).
async fn door_on_elasticache() -> (TestDoor, ElastiCacheStandIn) {
    let stand_in = tokio::task::block_in_place(ElastiCacheStandIn::start);
    let client = aws_sdk_elasticache::Client::new(&stand_in.sdk_config().await);
    redis_group(&client, "payments")
        .send()
        .await
        .expect("moto creates the replication group");
    for member in ["payments-0001-001", "payments-0001-002"] {
        redis_member(&client, member, "payments")
            .send()
            .await
            .expect("moto creates the member cluster");
    }
    let facts = ElastiCache::new(client).with_facts_ttl(StdDuration::ZERO);
    (door_on(true, facts).await, stand_in)
}

/// From now on ElastiCache refuses to describe the cluster, as it does once the credentials
/// lose the right to.
fn refuse_lookups(stand_in: &ElastiCacheStandIn) {
    stand_in.refuse("DescribeCacheClusters", 10);
}

/// How runbooks and alerts write the time facts were read, for any minute of `from..=to`.
fn read_times(from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<String> {
    let mut at = from;
    let mut out = Vec::new();
    while at <= to + Duration::minutes(1) {
        out.push(at.format("%a %d %b %Y %H:%M UTC").to_string());
        at += Duration::minutes(1);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_after_a_refused_lookup_gives_the_facts_kept_and_when_they_were_read() {
    // Arrange: a first alert about the cluster read its facts.
    let (door, stand_in) = door_on_elasticache().await;
    let before = Utc::now();
    let first = alerted(&door).await;
    let after = Utc::now();
    let first_text = serde_json::to_string(&first.blocks).unwrap();
    assert!(first_text.contains("Redis OSS 7.1"), "{first_text}");
    refuse_lookups(&stand_in);

    // Act: a failover of the same cluster arrives while ElastiCache refuses.
    let answer = door
        .post_sns(&sns::notification(
            &json!({"ElastiCache:FailoverComplete": "payments-0001-001"}),
            Utc::now(),
            "2",
        ))
        .await;

    // Assert: its alert gives the facts read for the first, when they were read, and why
    // they were not read now.
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let refused = stand_in.requests_for("DescribeCacheClusters");
    assert_eq!(refused.last().map(|r| r.status), Some(403), "{refused:?}");
    let later: Vec<StoredMessage> = door
        .slack
        .messages(ALERTS)
        .into_iter()
        .filter(|m| m.ts != first.ts)
        .collect();
    let alert = later
        .iter()
        .map(|m| format!("{}\n{}", m.text, serde_json::to_string(&m.blocks).unwrap()))
        .find(|t| t.to_lowercase().contains("failover"))
        .unwrap_or_else(|| panic!("no alert of the failover: {later:#?}"));
    assert!(alert.contains("Redis OSS 7.1"), "{alert}");
    assert_says_facts_kept_after_a_refusal(&alert, before, after);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runbook_page_in_a_browser_names_the_facts_kept_when_the_lookup_is_refused() {
    // Arrange: an alert read the facts; then ElastiCache refuses; the door listens on
    // 127.0.0.1 for the browser.
    let (door, stand_in) = door_on_elasticache().await;
    let before = Utc::now();
    let parent = alerted(&door).await;
    let after = Utc::now();
    let link = button_url(&parent, ACTION_RUNBOOK);
    refuse_lookups(&stand_in);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let address = listener.local_addr().unwrap();
    let router = door.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let url = format!("http://{address}{}", TestDoor::local(&link));

    // Act
    let (text, problems) = tokio::task::block_in_place(|| {
        let browser = Browser::launch().unwrap();
        let page = browser.open(&url).unwrap();
        let text = page.eval("document.body.innerText").unwrap();
        (
            text.as_str().unwrap_or_default().to_owned(),
            page.problems().unwrap(),
        )
    });

    // Assert: the page asked ElastiCache, was refused, and shows the facts kept, when they
    // were read and why they were not read now.
    assert!(problems.is_empty(), "{problems:#?}");
    let refused = stand_in.requests_for("DescribeCacheClusters");
    assert_eq!(refused.last().map(|r| r.status), Some(403), "{refused:?}");
    assert_contains_all(
        &text,
        &[
            "Engine: Redis OSS 7.1",
            "Multi-AZ on",
            "the default parameter group default.redis7 sets aside 25% of maxmemory",
        ],
    );
    assert_says_facts_kept_after_a_refusal(&text, before, after);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_parameter_lookup_leaves_the_other_facts_and_the_runbook_says_so() {
    // Arrange: ElastiCache describes the cluster but refuses its parameter group.
    let (door, stand_in) = door_on_elasticache().await;
    stand_in.refuse("DescribeCacheParameters", 10);
    let parent = alerted(&door).await;
    let link = button_url(&parent, ACTION_RUNBOOK);

    // Act
    let page = door.get(&TestDoor::local(&link)).await;

    // Assert
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_contains_all(
        &page.body,
        &[
            "Engine: Redis OSS 7.1",
            "Multi-AZ on",
            "Reserved memory: not read.",
            "describe-cache-parameters",
            "ElastiCache DescribeCacheParameters failed (refused): AccessDenied",
        ],
    );
}

// --- SNS -------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_sns_notification_becomes_an_alert_whose_signed_link_opens_the_runbook() {
    // Arrange
    let door = door(true).await;

    // Act
    let parent = alerted(&door).await;

    // Assert: stored once, alerted once, with buttons and a signed runbook link that opens.
    let events = door
        .store
        .search(&cachewatch_core::EventQuery::default())
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    let value = button_value(&parent, ACTION_ACKNOWLEDGE);
    assert_eq!(value, events[0].maintenance_id.clone().unwrap().as_str());
    let url = button_url(&parent, ACTION_RUNBOOK);
    assert!(
        url.starts_with(&format!("{BASE}/runbooks/{value}?expires=")) && url.contains("&sig="),
        "{url}"
    );
    let page = door.get(&TestDoor::local(&url)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(page.headers[header::REFERRER_POLICY], "no-referrer");

    // A retry of the same delivery (SNS reuses the message) stores and posts nothing more.
    let again = door
        .post_sns(&sns::notification(
            &json!({"ElastiCache:NodeReplacementScheduled": "payments-0001-001", "Replication Group ID": "payments"}),
            events[0].occurred_at,
            "1",
        ))
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.json()["new"], 0);
    assert_eq!(door.slack.count(Endpoint::PostMessage), 1);
    assert_eq!(*door.certificates_fetched.lock().unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_is_confirmed_only_once_its_confirmation_is_verified() {
    let door = door(true).await;

    // A forged confirmation: its SubscribeURL changed after SNS signed it.
    let mut forged = sns_confirmation();
    forged["SubscribeURL"] = json!(format!(
        "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=forged"
    ));
    let answer = door.post_sns(&forged).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
    assert!(door.confirmations.lock().unwrap().is_empty());

    // The genuine one is confirmed by visiting its SubscribeURL.
    let answer = door.post_sns(&sns_confirmation()).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let seen = door.confirmations.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(
        seen[0].starts_with("Action=ConfirmSubscription&TopicArn="),
        "{seen:?}"
    );
    assert!(
        seen[0].ends_with("&Token=2336412f37fb687f5d51e6e2425a8a58"),
        "{seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_forged_and_foreign_sns_messages_store_nothing() {
    let door = door(true).await;
    let body = json!({"ElastiCache:FailoverComplete": "payments-0001-002"});
    let genuine = sns::notification(&body, Utc::now(), "2");
    let mut tampered = genuine.clone();
    tampered["Message"] =
        json!(json!({"ElastiCache:FailoverComplete": "orders-0001-002"}).to_string());
    let mut unsigned = genuine.clone();
    unsigned.as_object_mut().unwrap().remove("Signature");
    let mut foreign = genuine.clone();
    foreign["TopicArn"] = json!("arn:aws:sns:eu-west-1:999999999999:elsewhere");
    let foreign = sns::sign(foreign);
    let mut elsewhere = genuine.clone();
    elsewhere["SigningCertURL"] = json!("https://attacker.example/SimpleNotificationService-x.pem");
    let elsewhere = sns::sign(elsewhere);
    let cases = [
        ("tampered", tampered, StatusCode::FORBIDDEN),
        ("unsigned", unsigned, StatusCode::BAD_REQUEST),
        ("foreign topic", foreign, StatusCode::FORBIDDEN),
        ("certificate elsewhere", elsewhere, StatusCode::FORBIDDEN),
        (
            "not SNS at all",
            json!({"ElastiCache:FailoverComplete": "x"}),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (name, message, status) in cases {
        let answer = door.post_sns(&message).await;
        assert_eq!(answer.status, status, "{name}: {}", answer.body);
    }
    assert!(
        door.store
            .search(&cachewatch_core::EventQuery::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(door.slack.requests().len(), 0);
    assert_eq!(*door.certificates_fetched.lock().unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_limit_are_refused_before_anything_reads_them() {
    let door = door(true).await;
    let big = "x".repeat(cachewatch_http::settings::DEFAULT_BODY_LIMIT + 1);
    let answer = door
        .send(Request::post("/sns").body(Body::from(big.clone())).unwrap())
        .await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    let request = door.slack.slash_command(&big, ONCALL, ALERTS);
    let answer = door.slack_request(&request).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(door.get("/healthz").await.body, "ok");
}

// --- Slack -----------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slash_commands_search_show_runbooks_list_what_is_ahead_and_mute() {
    // Arrange: a replacement scheduled in three days.
    let door = door(true).await;
    let id = scheduled(&door.store, "orders-0001-001").await;

    // search finds it, with a signed link to its runbook and to the history page.
    let (json, message) = door.command("search cluster:orders since:7d").await;
    assert_eq!(json["response_type"], "ephemeral");
    let blocks = serde_json::to_string(&message.blocks).unwrap();
    assert!(blocks.contains(id.short()), "{blocks}");
    assert!(blocks.contains(&format!("{BASE}/runbooks/")), "{blocks}");
    assert!(blocks.contains(&format!("{BASE}/events?")), "{blocks}");
    let (_, none) = door.command("search cluster:payments").await;
    assert!(none.text.contains("No event"), "{none:?}");
    let (_, bad) = door.command("search since:yesterday").await;
    assert!(bad.text.contains("since"), "{bad:?}");

    // runbook shows the checklist of an id prefix, with a link to the page.
    let (json, message) = door.command(&format!("runbook {}", id.short())).await;
    assert_eq!(json["response_type"], "ephemeral");
    let blocks = serde_json::to_string(&message.blocks).unwrap();
    assert!(blocks.contains("Open runbook"), "{blocks}");
    let (_, unknown) = door.command("runbook ffffffff").await;
    assert!(unknown.text.contains("No event"), "{unknown:?}");

    // upcoming lists it.
    let (_, message) = door.command("upcoming").await;
    assert!(
        serde_json::to_string(&message.blocks)
            .unwrap()
            .contains("orders-0001-001"),
        "{message:?}"
    );

    // mute is said in the channel and recorded for the alerts to come.
    let (json, message) = door.command("mute staging-* 3d").await;
    assert_eq!(json["response_type"], "in_channel");
    assert!(message.text.contains("staging-*"), "{message:?}");
    let mutes = door.store.mutes(Utc::now()).await.unwrap();
    assert_eq!(mutes.len(), 1);
    assert_eq!(
        (mutes[0].clusters.as_str(), mutes[0].by.as_str()),
        ("staging-*", ONCALL)
    );
    assert!(mutes[0].until > Utc::now() + Duration::days(2));
    for everything in ["mute * 3d", "mute *-* 90d", "mute a* 1d"] {
        let (_, refused) = door.command(everything).await;
        assert!(refused.text.contains("⚠️"), "{everything}: {refused:?}");
    }
    assert_eq!(door.store.mutes(Utc::now()).await.unwrap().len(), 1);
    // Without a duration, a pattern shows what it would mute, and mutes nothing.
    let (json, preview) = door.command("mute orders-*").await;
    assert_eq!(json["response_type"], "ephemeral");
    assert!(
        preview.text.contains("reaches 1 of the 1 clusters"),
        "{preview:?}"
    );
    assert!(
        serde_json::to_string(&preview.blocks)
            .unwrap()
            .contains("`orders`"),
        "{preview:?}"
    );
    assert_eq!(door.store.mutes(Utc::now()).await.unwrap().len(), 1);

    // A search that finds many long events still answers within Slack's limits (checked by
    // `command`), showing as many as fit.
    let now = Utc::now();
    let records: Vec<Value> = (0..25)
        .map(|i| {
            json!({
                "SourceIdentifier": "noisy-0001-001", "SourceType": "cache-cluster",
                "Date": (now - Duration::minutes(i)).to_rfc3339(),
                "Message": format!("Cache node 0001 restarted <!channel> {}", "and a long story about it ".repeat(40)),
            })
        })
        .collect();
    let doc = json!({"Events": records}).to_string();
    let events = parse_document(&doc, &ParseContext::received_at(now)).unwrap();
    ingest(&door.store, events, &AlertPolicy::default())
        .await
        .unwrap();
    // Now that the history knows two groups, a pattern reaching both of them is refused.
    let (_, both) = door.command("mute *-0001-001 1d").await;
    assert!(both.text.contains("reaches every cluster seen"), "{both:?}");
    assert_eq!(door.store.mutes(Utc::now()).await.unwrap().len(), 1);
    let (_, many) = door.command("search cluster:noisy limit:20").await;
    let shown = many
        .blocks
        .iter()
        .filter(|b| matches!(b, Block::Section(s) if s.accessory.is_some()))
        .count();
    assert!((5..20).contains(&shown), "{shown} shown");
    assert!(
        !serde_json::to_string(&many.blocks)
            .unwrap()
            .contains("<!channel>")
    );

    // help, and an unknown command, answer with the commands.
    for text in ["help", "", "reboot everything"] {
        let (json, message) = door.command(text).await;
        assert_eq!(json["response_type"], "ephemeral");
        assert!(
            serde_json::to_string(&message.blocks)
                .unwrap()
                .contains("/cachewatch upcoming"),
            "{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledge_records_who_and_updates_the_alert_in_place() {
    let door = door(true).await;
    let parent = alerted(&door).await;
    let value = button_value(&parent, ACTION_ACKNOWLEDGE);

    // Act
    door.pressed(&parent, ACTION_ACKNOWLEDGE).await;

    // Assert
    let acks = door
        .store
        .acknowledgements(&[EventId::parse(&value).unwrap()])
        .await
        .unwrap();
    assert_eq!(acks.len(), 1);
    assert_eq!(acks[0].by, ONCALL);
    let versions = door.slack.versions(ALERTS, &parent.ts);
    assert_eq!(versions.len(), 2, "the alert was updated once");
    let now_shown = serde_json::to_string(&versions[1].blocks).unwrap();
    assert!(now_shown.contains("Acknowledged by"), "{now_shown}");
    assert!(
        now_shown.contains(&ONCALL.to_ascii_lowercase()),
        "{now_shown}"
    );
    assert!(!now_shown.contains(ACTION_ACKNOWLEDGE), "{now_shown}");
    assert!(now_shown.contains(ACTION_OUTCOME), "{now_shown}");
    let updated = door.slack.message(ALERTS, &parent.ts).unwrap();
    assert_eq!(updated.delivery_key(), parent.delivery_key());
    assert!(
        limits::check(&SlackMessage {
            text: updated.text.clone(),
            blocks: serde_json::from_value(Value::Array(updated.blocks.clone())).unwrap(),
            thread_ts: None,
            metadata: None,
        })
        .is_empty()
    );
}

/// A maintenance whose members' alerts went to two channels has a thread parent in each:
/// Acknowledge pressed in one draws both again, not only the message pressed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledge_updates_the_maintenances_parents_in_every_channel() {
    // Arrange: the replacement is announced in the alerts channel; then the team routes the
    // group's alerts to the ops channel, and the replacement is rescheduled.
    let mut door = door(true).await;
    replacement_notified(&door, "payments-0001-001").await;
    let route = format!("[[routes]]\nclusters = \"payments\"\nchannel = \"{OPS}\"\n");
    door.restart_with(NoFacts, Config::from_toml(&route).unwrap());
    replacement_rescheduled(&door).await;
    let (alerts, ops) = (door.slack.parents(ALERTS), door.slack.parents(OPS));
    assert_eq!((alerts.len(), ops.len()), (1, 1), "{alerts:#?} {ops:#?}");
    assert_eq!(
        button_value(&alerts[0], ACTION_ACKNOWLEDGE),
        button_value(&ops[0], ACTION_ACKNOWLEDGE),
        "one maintenance"
    );

    let parents = [(ALERTS, &alerts[0]), (OPS, &ops[0])];
    let drawn = parents.map(|(channel, parent)| door.slack.versions(channel, &parent.ts).len());

    // Act: Acknowledge pressed in the alerts channel.
    door.pressed(&alerts[0], ACTION_ACKNOWLEDGE).await;

    // Assert: both parents say who took it on, and neither offers the button any more.
    for ((channel, parent), before) in parents.into_iter().zip(drawn) {
        let versions = door.slack.versions(channel, &parent.ts);
        assert_eq!(
            versions.len(),
            before + 1,
            "{channel}: updated once: {versions:#?}"
        );
        let now_shown = serde_json::to_string(&versions.last().unwrap().blocks).unwrap();
        assert!(
            now_shown.contains("Acknowledged by"),
            "{channel}: {now_shown}"
        );
        assert!(
            !now_shown.contains(ACTION_ACKNOWLEDGE),
            "{channel}: {now_shown}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outcome_modal_opens_and_what_is_submitted_is_stored() {
    let door = door(true).await;
    let parent = alerted(&door).await;
    let value = button_value(&parent, ACTION_OUTCOME);
    let id = EventId::parse(&value).unwrap();

    // The button opens the modal with the interaction's trigger.
    let press = door.pressed(&parent, ACTION_OUTCOME).await;
    let views = door.slack.views();
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].trigger_id, press.trigger_id);
    let view = &views[0].view;
    assert_eq!(view["callback_id"], "cachewatch_outcome");

    // A downtime that does not read is sent back on its field, and nothing is stored.
    let values = |downtime: &str| {
        json!({
            "handled": {"handled": {"type": "static_select", "selected_option": {"text": {"type": "plain_text", "text": "Failed over by hand"}, "value": "manual-failover"}}},
            "site_maintenance": {"site_maintenance": {"type": "radio_buttons", "selected_option": {"text": {"type": "plain_text", "text": "Yes"}, "value": "yes"}}},
            "downtime": {"downtime": {"type": "plain_text_input", "value": downtime}},
            "note": {"note": {"type": "plain_text_input", "value": "failed over at 04:50 <!channel>"}},
        })
    };
    let wrong = door
        .slack_request(&door.slack.view_submission(view, values("a while"), ONCALL))
        .await;
    assert_eq!(wrong.status, StatusCode::OK);
    assert_eq!(wrong.json()["response_action"], "errors");
    assert!(wrong.json()["errors"]["downtime"].is_string());
    assert!(
        door.store
            .outcomes(std::slice::from_ref(&id))
            .await
            .unwrap()
            .is_empty()
    );

    // A good submission closes the modal and is stored.
    let submitted = door
        .slack_request(&door.slack.view_submission(view, values("2m5s"), ONCALL))
        .await;
    assert_eq!(submitted.status, StatusCode::OK);
    assert_eq!(submitted.body, "");
    let outcomes = door.store.outcomes(&[id]).await.unwrap();
    assert_eq!(outcomes.len(), 1);
    let outcome = &outcomes[0];
    assert_eq!(outcome.handled, "manual-failover");
    assert!(outcome.site_maintenance);
    assert_eq!(outcome.downtime, Some(Duration::seconds(125)));
    assert_eq!(
        outcome.note.as_deref(),
        Some("failed over at 04:50 <!channel>")
    );
    assert_eq!(outcome.by, ONCALL);
}

/// The form once stored the outcome and left the alert as it was, while `cachewatch outcome`
/// drew the maintenance's threads again: both draw them now, showing who took it on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outcome_submitted_draws_the_acknowledged_alert_again() {
    let door = door(true).await;
    let parent = alerted(&door).await;
    door.pressed(&parent, ACTION_ACKNOWLEDGE).await;
    let acknowledged = door.slack.versions(ALERTS, &parent.ts).len();
    door.pressed(&parent, ACTION_OUTCOME).await;
    let view = door.slack.views()[0].view.clone();
    let values = json!({
        "handled": {"handled": {"type": "static_select", "selected_option": {"value": "waited"}}},
        "site_maintenance": {"site_maintenance": {"type": "radio_buttons", "selected_option": {"value": "no"}}},
    });

    let submitted = door
        .slack_request(&door.slack.view_submission(&view, values, ONCALL))
        .await;

    assert_eq!(submitted.status, StatusCode::OK);
    assert_eq!(submitted.body, "");
    let versions = door.slack.versions(ALERTS, &parent.ts);
    assert_eq!(versions.len(), acknowledged + 1, "{versions:#?}");
    let latest = serde_json::to_string(&versions.last().unwrap().blocks).unwrap();
    assert!(latest.contains("Acknowledged by"), "{latest}");
    assert!(!latest.contains(ACTION_ACKNOWLEDGE), "{latest}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_checklist_puts_the_runbook_in_the_alerts_thread() {
    let door = door(true).await;
    let parent = alerted(&door).await;
    let before = door.slack.replies(ALERTS, &parent.ts).len();

    door.pressed(&parent, ACTION_CHECKLIST).await;

    let replies = door.slack.replies(ALERTS, &parent.ts);
    assert!(replies.len() > before, "{replies:#?}");
    assert!(
        replies
            .iter()
            .skip(before)
            .all(|r| r.delivery_key().is_some())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clusters_own_checklist_comes_on_demand_from_a_bursts_announcement() {
    // Arrange: six replacements stored with their alerts recorded but not yet sent (what
    // deliveries whose sending was cut short leave), then a notice over SNS: the door sends all
    // seven due in the channel at once, a burst announced under one grouped message.
    let door = door(true).await;
    let mut pending = Vec::new();
    for i in 0..6 {
        let id = scheduled(&door.store, &format!("fleet{i}-0001-001")).await;
        pending.push(door.store.event(&id).await.unwrap().unwrap());
    }
    let recorded = record_alerts(
        &door.store,
        &pending,
        &Config::default(),
        Some(ALERTS),
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(recorded, 6);
    replacement_notified(&door, "payments-0001-001").await;
    let parents = door.slack.parents(ALERTS);
    assert_eq!(parents.len(), 1, "one grouped message: {parents:#?}");
    let replies = door.slack.replies(ALERTS, &parents[0].ts);
    let picked = |o: &&Value| o["text"]["text"].as_str() == Some("fleet3-0001-001 node 0001");
    let (announcement, option) = replies
        .iter()
        .find_map(|m| {
            let picker = element(m, ACTION_CHECKLIST)?;
            let option = picker["options"].as_array()?.iter().find(picked)?.clone();
            Some((m.clone(), option))
        })
        .expect("an announcement whose picker offers fleet3-0001-001");
    let value = option["value"].as_str().unwrap().to_owned();
    assert!(
        announcement.text.contains("6 node replacements"),
        "{}",
        announcement.text
    );

    // Act: someone picks fleet3-0001-001 in the picker.
    let pick = door
        .slack
        .select_action(ACTION_CHECKLIST, &value, ONCALL, ALERTS, &announcement.ts);
    assert_eq!(door.slack_request(&pick).await.status, StatusCode::OK);

    // Assert: its own checklist follows in the grouped message's thread, and the command gives
    // the same runbook by the id the announcement shows.
    let after = door.slack.replies(ALERTS, &parents[0].ts);
    assert!(after.len() > replies.len(), "{after:#?}");
    let checklist = &after[replies.len()];
    assert!(
        checklist.text.starts_with("Checklist: ") && checklist.text.contains("fleet3-0001-001"),
        "{}",
        checklist.text
    );
    let short = &value[..8];
    assert!(
        serde_json::to_string(&announcement.blocks)
            .unwrap()
            .contains(short)
    );
    let (_, message) = door.command(&format!("runbook {short}")).await;
    assert!(
        serde_json::to_string(&message.blocks)
            .unwrap()
            .contains("fleet3-0001-001"),
        "{}",
        message.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_slack_did_not_sign_change_nothing() {
    let door = door(true).await;
    let parent = alerted(&door).await;
    let value = button_value(&parent, ACTION_ACKNOWLEDGE);
    let requests_before = door.slack.requests().len();
    let secret = door.slack.signing_secret().to_owned();
    let now = Utc::now().timestamp();

    let ack = door
        .slack
        .block_action(ACTION_ACKNOWLEDGE, &value, ONCALL, ALERTS, &parent.ts);
    let mute = door
        .slack
        .slash_command("mute payments-* 90d", ONCALL, ALERTS);
    let wrong_secret = mute.signed_at("another-signing-secret", now);
    let mut altered = mute.clone();
    altered.body = altered.body.replace("payments", "orders");
    let stale = mute.signed_at(&secret, now - 6 * 60);
    let future = mute.signed_at(&secret, now + 6 * 60);
    let stale_ack = ack.signed_at(&secret, now - 3600);
    for (name, request) in [
        ("wrong secret", wrong_secret.to_request()),
        ("body altered", altered.to_request()),
        ("stale", stale.to_request()),
        ("future", future.to_request()),
        ("replayed acknowledgement", stale_ack.to_request()),
        (
            "no signature",
            Request::post("/slack/commands")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(mute.body.clone()))
                .unwrap(),
        ),
        (
            "no timestamp",
            Request::post("/slack/interactions")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header("x-slack-signature", ack.signature.clone())
                .body(Body::from(ack.body.clone()))
                .unwrap(),
        ),
    ] {
        let answer = door.send(request).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{name}");
    }

    assert!(door.store.mutes(Utc::now()).await.unwrap().is_empty());
    let ids = [EventId::parse(&value).unwrap()];
    assert!(door.store.acknowledgements(&ids).await.unwrap().is_empty());
    assert_eq!(door.slack.requests().len(), requests_before);
    assert_eq!(door.slack.versions(ALERTS, &parent.ts).len(), 1);
}

// --- The API and the pages -------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_events_api_filters_and_names_the_filter_it_cannot_read() {
    let door = door(true).await;
    let orders = scheduled(&door.store, "orders-0001-001").await;
    scheduled(&door.store, "billing-0001-001").await;
    let api = door.signed("/api/events");

    let all = door.get(&api).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    assert_eq!(all.json().as_array().unwrap().len(), 2);
    let one = door
        .get(&format!(
            "{api}&cluster=orders&category=node_replacement&since=2d"
        ))
        .await;
    let found = one.json();
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found[0]["id"], orders.as_str());
    assert_eq!(found[0]["kind"], "node_replacement_scheduled");
    let none = door.get(&format!("{api}&category=failover")).await;
    assert_eq!(none.json(), json!([]));

    for (query, parameter) in [
        ("since=yesterday", "since"),
        ("category=maintenance", "category"),
        ("limit=0", "limit"),
        ("colour=blue", "colour"),
        ("since=1d&until=2d", "until"),
    ] {
        let answer = door.get(&format!("{api}&{query}")).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(answer.json()["parameter"], parameter, "{query}");
        assert!(
            answer.json()["error"]
                .as_str()
                .unwrap()
                .starts_with(parameter)
        );
    }
    let unsigned = door.get("/api/events?cluster=orders").await;
    assert_eq!(unsigned.status, StatusCode::FORBIDDEN);
    assert!(unsigned.json()["error"].is_string());
}

/// `cachewatch events --account` took an account's name from `[accounts]`, while the API, the
/// page and `/cachewatch search` refused it as not 12 digits: every door takes it now.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_events_api_and_the_history_page_find_an_account_by_its_name() {
    let mut config = Config::default();
    config
        .accounts
        .insert("111122223333".to_owned(), "orders-prod".to_owned());
    let door = door_with(true, NoFacts, config).await;
    let named = scheduled_in(
        &door.store,
        "orders-eu-0001-001",
        "111122223333",
        "eu-west-1",
    )
    .await;
    scheduled_in(&door.store, "sandbox-0001-001", "444455556666", "eu-west-1").await;

    let api = door
        .get(&format!(
            "{}&account=orders-prod",
            door.signed("/api/events")
        ))
        .await;
    let page = door
        .get(&format!("{}&account=orders-prod", door.signed("/events")))
        .await;

    assert_eq!(api.status, StatusCode::OK, "{}", api.body);
    let found = api.json();
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found[0]["id"], named.as_str());
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("orders-eu-0001-001"), "{}", page.body);
    assert!(!page.body.contains("sandbox-0001-001"), "{}", page.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_events_api_and_the_history_page_filter_by_account_and_region() {
    let door = door(true).await;
    let eu = scheduled_in(
        &door.store,
        "orders-eu-0001-001",
        "111122223333",
        "eu-west-1",
    )
    .await;
    let us = scheduled_in(
        &door.store,
        "orders-us-0001-001",
        "111122223333",
        "us-east-1",
    )
    .await;
    let other = scheduled_in(&door.store, "sandbox-0001-001", "444455556666", "eu-west-1").await;
    let api = door.signed("/api/events");
    let ids = |answer: &Answer| -> Vec<String> {
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        sorted_ids(&answer.json())
    };
    let sorted = |mut v: Vec<&EventId>| {
        v.sort();
        v.into_iter()
            .map(|id| id.as_str().to_owned())
            .collect::<Vec<_>>()
    };
    let account = door.get(&format!("{api}&account=111122223333")).await;
    assert_eq!(ids(&account), sorted(vec![&eu, &us]));
    let region = door.get(&format!("{api}&region=eu-west-1")).await;
    assert_eq!(ids(&region), sorted(vec![&eu, &other]));
    let both = door
        .get(&format!("{api}&account=111122223333&region=eu-west-1"))
        .await;
    assert_eq!(ids(&both), sorted(vec![&eu]));
    assert_eq!(both.json()[0]["account_id"], "111122223333");
    assert_eq!(both.json()[0]["region"], "eu-west-1");
    for (query, parameter) in [
        ("account=payments-prod", "account"),
        ("region=EU-WEST-1", "region"),
        ("region=eu-west-1%27%20OR%201%3D1", "region"),
    ] {
        let answer = door.get(&format!("{api}&{query}")).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(answer.json()["parameter"], parameter, "{query}");
    }
    let page = door
        .get(&format!(
            "{}&account=444455556666&region=eu-west-1",
            door.signed("/events")
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(&other.as_str()[..8]), "{}", page.body);
    assert!(!page.body.contains(&eu.as_str()[..8]));
    assert!(page.body.contains(r#"name="account" value="444455556666""#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_links_open_the_pages_until_they_expire_and_only_where_they_point() {
    let door = door(true).await;
    let id = scheduled(&door.store, "orders-0001-001").await;
    let other = scheduled(&door.store, "billing-0001-001").await;
    let path = format!("/runbooks/{id}");
    let now = Utc::now();

    let valid = door.signer.sign(&path, now);
    let expired = door.signer.sign_until(&path, now - Duration::minutes(1));
    let elsewhere = door.signer.sign(&format!("/runbooks/{other}"), now);
    let cases = [
        ("valid", valid.to_url(None), StatusCode::OK),
        ("expired", expired.to_url(None), StatusCode::FORBIDDEN),
        (
            "another page's signature",
            format!("{path}?{}", elsewhere.query()),
            StatusCode::FORBIDDEN,
        ),
        (
            "expiry pushed back",
            valid.to_url(None).replace(
                &valid.expires.timestamp().to_string(),
                &(valid.expires.timestamp() + 3600).to_string(),
            ),
            StatusCode::FORBIDDEN,
        ),
        ("unsigned", path.clone(), StatusCode::FORBIDDEN),
        (
            "unknown id",
            door.signed("/runbooks/ffffffffffffffffffff"),
            StatusCode::NOT_FOUND,
        ),
        (
            "not an id",
            door.signed("/runbooks/%3Cscript%3E"),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (name, url, status) in cases {
        let answer = door.get(&url).await;
        assert_eq!(answer.status, status, "{name}: {}", answer.body);
        if status != StatusCode::OK {
            // What the request said is shown escaped, never as markup.
            assert!(!answer.body.contains("<script>"), "{name}: {}", answer.body);
        }
    }

    // The history page: a signed link, and its form's next search, which carries the link's
    // signature back; the page is sent with the policy its views are written for.
    let link = door.signed("/events");
    let history = door.get(&format!("{link}&cluster=orders")).await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.body);
    assert_eq!(
        history.headers[header::CONTENT_SECURITY_POLICY],
        cachewatch_http::pages::content_security_policy()
    );
    let signature = link.split_once('?').unwrap().1;
    let form = door
        .get(&format!(
            "/events?cluster=billing&node=&kind=&category=&since=&until=&text=&{signature}"
        ))
        .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert_eq!(
        door.get("/events?cluster=orders").await.status,
        StatusCode::FORBIDDEN
    );
    let bad = door.get(&format!("{link}&since=yesterday")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // A door whose pages are public (serve on loopback) needs no signature.
    let public = self::door(false).await;
    let id = scheduled(&public.store, "orders-0001-001").await;
    assert_eq!(
        public.get(&format!("/runbooks/{id}")).await.status,
        StatusCode::OK
    );
    assert_eq!(public.get("/events").await.status, StatusCode::OK);
    assert_eq!(public.get("/api/events").await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_ticked_on_the_runbook_page_is_recorded() {
    let door = door(true).await;
    let id = scheduled(&door.store, "orders-0001-001").await;
    let steps = door.signed(&format!("/runbooks/{id}/steps"));
    let post = |uri: &str, content_type: &str, body: &str, origin: Option<&str>| {
        let mut request = Request::post(uri).header(header::CONTENT_TYPE, content_type);
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        request.body(Body::from(body.to_owned())).unwrap()
    };

    let json_tick = door
        .send(post(
            &steps,
            "application/json",
            r#"{"step": 2, "by": "A\u200bna\u202e"}"#,
            Some(BASE),
        ))
        .await;
    assert_eq!(json_tick.status, StatusCode::OK, "{}", json_tick.body);
    let form_tick = door
        .send(post(
            &steps,
            "application/x-www-form-urlencoded",
            "step=3",
            None,
        ))
        .await;
    assert_eq!(form_tick.status, StatusCode::OK, "{}", form_tick.body);
    let refused = [
        (
            "another site",
            post(
                &steps,
                "application/json",
                r#"{"step": 4}"#,
                Some("https://evil.example"),
            ),
        ),
        (
            "unsigned",
            post(
                &format!("/runbooks/{id}/steps"),
                "application/json",
                r#"{"step": 5}"#,
                None,
            ),
        ),
        (
            "not a step",
            post(&steps, "application/json", r#"{"step": 0}"#, None),
        ),
        // The page once took any number up to 999: the runbook's own steps are the bound now,
        // as on the command line.
        (
            "a step the runbook does not have",
            post(&steps, "application/json", r#"{"step": 999}"#, None),
        ),
        ("not JSON", post(&steps, "application/json", "step=6", None)),
        ("plain text", post(&steps, "text/plain", "6", None)),
    ];
    for (name, request) in refused {
        let answer = door.send(request).await;
        assert!(answer.status.is_client_error(), "{name}: {}", answer.status);
    }

    let done: BTreeMap<u32, String> = door
        .store
        .steps(&[id])
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.step, s.by))
        .collect();
    assert_eq!(
        done,
        BTreeMap::from([
            (2, "Ana (unverified: typed on the runbook page)".to_owned()),
            (
                3,
                "someone (unverified: typed on the runbook page)".to_owned()
            )
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acknowledged_alert_keeps_saying_so_when_its_maintenance_changes() {
    let door = door(true).await;
    let parent = alerted(&door).await;
    door.pressed(&parent, ACTION_ACKNOWLEDGE).await;

    // Act: the replacement is rescheduled; the parent is brought up to date.
    replacement_rescheduled(&door).await;

    // Assert
    assert_eq!(
        door.slack.replies(ALERTS, &parent.ts).len(),
        1,
        "the reschedule is a reply in the thread"
    );
    let versions = door.slack.versions(ALERTS, &parent.ts);
    assert!(
        versions.len() >= 3,
        "the parent was updated again: {versions:#?}"
    );
    let latest = serde_json::to_string(&versions.last().unwrap().blocks).unwrap();
    assert!(latest.contains("Acknowledged by"), "{latest}");
    assert!(!latest.contains(ACTION_ACKNOWLEDGE), "{latest}");
}
