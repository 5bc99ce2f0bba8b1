//! The outputs beyond Slack, through the `cachewatch` binary: the signed webhook against a local
//! receiver that fails on purpose, and the Amazon Q Developer custom notification on a moto SNS
//! topic, read back from an SQS queue subscribed to it.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use cachewatch_tests::moto::Moto;
use cachewatch_tests::slack::SlackStandIn;
use cachewatch_tests::webhook::{Received, WebhookReceiver};
use cachewatch_tests::{output_with_input, workspace_bin};
use chrono::{DateTime, Duration, DurationRound, Utc};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

const CHANNEL: &str = "C0ALERTS";
const KEY: &str = "a-shared-signing-key-for-the-test";

fn now() -> DateTime<Utc> {
    Utc::now().duration_trunc(Duration::minutes(1)).unwrap()
}

fn text_time(at: DateTime<Utc>) -> String {
    at.format("%b %d %H:%M UTC").to_string()
}

/// A node replacement of `cluster` announced an hour ago for a window `days` ahead.
fn scheduled(cluster: &str, now: DateTime<Utc>, days: i64) -> String {
    let window = now + Duration::days(days);
    json!({
        "SourceIdentifier": cluster,
        "SourceType": "cache-cluster",
        "Date": (now - Duration::hours(1)).to_rfc3339(),
        "Message": format!(
            "The node with Cache Cluster ID: {cluster}, Node ID: 0001 is scheduled for replacement during the maintenance window from Start Time: {}, End Time: {}",
            text_time(window),
            text_time(window + Duration::hours(1))
        ),
    })
    .to_string()
}

/// The same node's window moved `days` later.
fn rescheduled(cluster: &str, now: DateTime<Utc>, from_days: i64, to_days: i64) -> String {
    let (from, to) = (
        now + Duration::days(from_days),
        now + Duration::days(to_days),
    );
    let hour = Duration::hours(1);
    json!({
        "SourceIdentifier": cluster,
        "SourceType": "cache-cluster",
        "Date": (now - Duration::minutes(10)).to_rfc3339(),
        "Message": format!(
            "The replacement in maintenance window for node with Cache Cluster ID: {cluster}, Node ID: 0001 has re-scheduled from Previous Start Time: {}, Previous End Time: {} to New Start Time: {}, New End Time: {}",
            text_time(from),
            text_time(from + hour),
            text_time(to),
            text_time(to + hour)
        ),
    })
    .to_string()
}

/// `cachewatch` with Slack on the stand-in, the configuration `config`, and `env`.
fn cachewatch(
    slack: &SlackStandIn,
    dir: &Path,
    args: &[&str],
    input: Option<&str>,
    env: &[(&str, String)],
) -> Output {
    let mut cmd = Command::new(workspace_bin("cachewatch"));
    cmd.args(args)
        .env("CACHEWATCH_DB", dir.join("history.db"))
        .env("CACHEWATCH_CONFIG", dir.join("cachewatch.toml"))
        .env("SLACK_API_BASE_URL", slack.api_base())
        .env("SLACK_BOT_TOKEN", slack.token())
        .env("SLACK_CHANNEL", CHANNEL)
        .env("SLACK_MIN_INTERVAL_MS", "0")
        .env("SLACK_RETRY_ATTEMPTS", "2")
        .env("SLACK_RETRY_DELAY_MS", "5")
        .env_remove("CACHEWATCH_BASE_URL")
        .env_remove("SLACK_WEBHOOK_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    output_with_input(&mut cmd, input)
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// What a receiver does with a request: the signature is the hex HMAC-SHA256 of
/// `{timestamp}.{body}` under the shared key, and the timestamp is recent.
fn verifies(r: &Received, key: &str) -> bool {
    let (Some(timestamp), Some(signature)) = (
        r.header("cachewatch-timestamp"),
        r.header("cachewatch-signature"),
    ) else {
        return false;
    };
    let Ok(sent) = timestamp.parse::<i64>() else {
        return false;
    };
    if (Utc::now().timestamp() - sent).abs() > 300 {
        return false;
    }
    let Some(hex) = signature.strip_prefix("v1=") else {
        return false;
    };
    let Ok(given) = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<Vec<u8>, _>>()
    else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(&r.body);
    mac.verify_slice(&given).is_ok()
}

fn webhook_config(dir: &Path, url: &str) {
    std::fs::write(
        dir.join("cachewatch.toml"),
        format!("[webhook]\nurl = \"{url}\"\nsecret = \"TEST_WEBHOOK_KEY\"\n"),
    )
    .unwrap();
}

fn webhook_env(attempts: u32) -> Vec<(&'static str, String)> {
    vec![
        ("TEST_WEBHOOK_KEY", KEY.to_owned()),
        ("CACHEWATCH_WEBHOOK_RETRY_ATTEMPTS", attempts.to_string()),
        ("CACHEWATCH_WEBHOOK_RETRY_DELAY_MS", "10".to_owned()),
    ]
}

/// The delivered (2xx) requests, by delivery id.
fn delivered(receiver: &WebhookReceiver) -> BTreeMap<String, Vec<Received>> {
    let mut by_id: BTreeMap<String, Vec<Received>> = BTreeMap::new();
    for r in receiver.received() {
        if (200..300).contains(&r.answered) {
            by_id
                .entry(
                    r.header("cachewatch-delivery")
                        .unwrap_or_default()
                        .to_owned(),
                )
                .or_default()
                .push(r);
        }
    }
    by_id
}

#[test]
fn the_webhook_gets_each_alert_once_signed_after_failing_first() {
    let now = now();
    let slack = SlackStandIn::start();
    let receiver = WebhookReceiver::start();
    let dir = tempfile::tempdir().unwrap();
    webhook_config(dir.path(), &receiver.url());
    // `cachewatch ingest` of `document`, the webhook tried up to `attempts` times.
    let ingest = |document: &str, attempts: u32| {
        let env = webhook_env(attempts);
        cachewatch(&slack, dir.path(), &["ingest", "-"], Some(document), &env)
    };

    // The receiver fails the first request on purpose: the send is retried within the ingest.
    receiver.answer_next(&[503]);
    let out = ingest(&scheduled("cart-0001-001", now, 6), 3);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("1 to webhook"), "{}", text(&out));
    let received = receiver.received();
    assert_eq!(
        received.iter().map(|r| r.answered).collect::<Vec<_>>(),
        [503, 200]
    );
    assert_eq!(slack.parents(CHANNEL).len(), 1, "Slack has its alert too");
    let ok = &received[1];
    assert!(verifies(ok, KEY), "the signature verifies");
    assert!(!verifies(ok, "another key"), "and only with the key");
    let mut tampered = ok.clone();
    tampered.body.push(b' ');
    assert!(!verifies(&tampered, KEY), "a changed body does not verify");
    let body = ok.json();
    assert_eq!(body["schema"], json!("cachewatch.alert.v1"));
    assert_eq!(body["kind"], json!("node_replacement_scheduled"));
    assert_eq!(body["cluster"], json!("cart-0001-001"));
    assert_eq!(body["action"], json!("trigger"));
    // The maintenance's id is its first event's: the dedup key of every alert it will have.
    assert_eq!(body["dedup_key"], body["event_id"]);
    assert_eq!(
        ok.header("cachewatch-delivery"),
        body["event_id"].as_str(),
        "the delivery id is the event's"
    );
    assert_eq!(
        ok.header("cachewatch-dedup-key"),
        body["dedup_key"].as_str()
    );
    assert_eq!(ok.header("content-type"), Some("application/json"));
    let first_key = body["dedup_key"].clone();

    // Sending what is pending again sends nothing twice.
    let out = cachewatch(&slack, dir.path(), &["notify"], None, &webhook_env(3));
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(receiver.received().len(), 2, "{}", text(&out));

    // The same notice again (an SNS re-delivery): nothing is sent.
    let out = ingest(&scheduled("cart-0001-001", now, 6), 3);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(receiver.received().len(), 2);

    // The receiver is down for a whole ingest: the reschedule waits, and the exit says so.
    receiver.answer_otherwise(503);
    let out = ingest(&rescheduled("cart-0001-001", now, 6, 9), 2);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("still pending for an output"),
        "{}",
        text(&out)
    );
    assert_eq!(receiver.received().len(), 4, "two tries, both refused");
    assert_eq!(delivered(&receiver).len(), 1);

    // Back up: `notify` sends it, once, and again sends nothing.
    receiver.answer_otherwise(200);
    for _ in 0..2 {
        let out = cachewatch(&slack, dir.path(), &["notify"], None, &webhook_env(2));
        assert!(out.status.success(), "{}", text(&out));
    }
    let delivered = delivered(&receiver);
    assert_eq!(delivered.len(), 2, "two alerts");
    assert!(
        delivered.values().all(|d| d.len() == 1),
        "each delivered once"
    );
    let reschedule = delivered
        .values()
        .flatten()
        .map(Received::json)
        .find(|b| b["kind"] == json!("node_replacement_rescheduled"))
        .expect("the reschedule was delivered");
    assert_eq!(
        reschedule["dedup_key"], first_key,
        "one maintenance, one dedup key"
    );
    assert_ne!(reschedule["event_id"], first_key);
    assert!(
        delivered.values().flatten().all(|r| verifies(r, KEY)),
        "every delivery is signed"
    );
}

/// A team paged without Slack: with only the webhook configured, each alert of a maintenance goes
/// to it once, under the maintenance's key, and nothing is shown as "would be posted to Slack".
#[test]
fn without_slack_the_webhook_alone_gets_each_alert_once() {
    let now = now();
    let slack = SlackStandIn::start();
    let receiver = WebhookReceiver::start();
    let dir = tempfile::tempdir().unwrap();
    webhook_config(dir.path(), &receiver.url());
    let mut env = webhook_env(2);
    env.extend([
        ("SLACK_BOT_TOKEN", String::new()),
        ("SLACK_CHANNEL", String::new()),
    ]);

    for input in [
        scheduled("cart-0002-001", now, 6),
        scheduled("cart-0002-001", now, 6),
        rescheduled("cart-0002-001", now, 6, 9),
    ] {
        let out = cachewatch(&slack, dir.path(), &["ingest", "-"], Some(&input), &env);
        assert!(out.status.success(), "{}", text(&out));
        assert!(!text(&out).contains("would post"), "{}", text(&out));
    }
    let out = cachewatch(&slack, dir.path(), &["notify"], None, &env);
    assert!(out.status.success(), "{}", text(&out));

    let delivered = delivered(&receiver);
    assert_eq!(delivered.len(), 2, "the notice and its reschedule");
    assert!(delivered.values().all(|d| d.len() == 1), "each once");
    let bodies: Vec<Value> = delivered.values().flatten().map(Received::json).collect();
    assert_eq!(
        bodies[0]["dedup_key"], bodies[1]["dedup_key"],
        "one maintenance"
    );
    assert!(delivered.values().flatten().all(|r| verifies(r, KEY)));
    assert!(slack.parents(CHANNEL).is_empty(), "Slack was never called");

    // With neither Slack nor an output, `notify` says what to configure.
    std::fs::write(dir.path().join("cachewatch.toml"), "").unwrap();
    let out = cachewatch(&slack, dir.path(), &["notify"], None, &env);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("[webhook]"), "{}", text(&out));
}

#[test]
fn a_webhook_without_its_key_or_over_plain_http_elsewhere_is_refused_at_start() {
    let slack = SlackStandIn::start();
    let dir = tempfile::tempdir().unwrap();
    webhook_config(dir.path(), "http://127.0.0.1:9/hook");
    let out = cachewatch(&slack, dir.path(), &["notify"], None, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("TEST_WEBHOOK_KEY"), "{}", text(&out));
    assert!(!text(&out).contains(KEY));

    webhook_config(dir.path(), "http://hooks.example.com/hook");
    let out = cachewatch(&slack, dir.path(), &["notify"], None, &webhook_env(1));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("webhook.url"), "{}", text(&out));
}

/// An SQS query-protocol call to moto (Region eu-west-1); the XML answer.
async fn sqs(moto: &Moto, params: &[(&str, &str)]) -> String {
    let mut form: Vec<(&str, &str)> = vec![("Version", "2012-11-05")];
    form.extend_from_slice(params);
    let mut encoded = reqwest::Url::parse("http://form.invalid/").unwrap();
    encoded.query_pairs_mut().extend_pairs(&form);
    let answer = reqwest::Client::new()
        .post(format!("{}/", moto.endpoint()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        // moto tells services apart by the credential scope; it checks no signature.
        .header(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=testing/20260101/eu-west-1/sqs/aws4_request, SignedHeaders=host, Signature=00",
        )
        .body(encoded.query().unwrap_or_default().to_owned())
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{answer:?}");
    answer.text().await.unwrap()
}

/// The text of each `<tag>…</tag>` in `xml`, unescaped.
fn elements(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut found = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(&close) else { break };
        found.push(
            after[..end]
                .replace("&quot;", "\"")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&#39;", "'")
                .replace("&amp;", "&"),
        );
        rest = &after[end + close.len()..];
    }
    found
}

#[tokio::test(flavor = "current_thread")]
async fn q_developer_gets_custom_notifications_threaded_by_maintenance() {
    let now = now();
    let moto = Moto::start();
    let slack = SlackStandIn::start();
    let dir = tempfile::tempdir().unwrap();
    let env: Vec<(&str, String)> = moto.env();

    let sdk = moto.sdk_config().await;
    let sns = aws_sdk_sns::Client::new(&sdk);
    let topic = sns
        .create_topic()
        .name("cache-alerts")
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let created = sqs(&moto, &[("Action", "CreateQueue"), ("QueueName", "chat")]).await;
    let queue_url = elements(&created, "QueueUrl").remove(0);
    let attributes = sqs(
        &moto,
        &[
            ("Action", "GetQueueAttributes"),
            ("QueueUrl", &queue_url),
            ("AttributeName.1", "QueueArn"),
        ],
    )
    .await;
    let queue_arn = elements(&attributes, "Value").remove(0);
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(&queue_arn)
        .attributes("RawMessageDelivery", "true")
        .send()
        .await
        .unwrap();

    std::fs::write(
        dir.path().join("cachewatch.toml"),
        format!("[q_developer]\ntopic_arn = \"{topic}\"\n"),
    )
    .unwrap();
    let doc = format!(
        "{}\n{}",
        scheduled("<!channel>-cart", now, 6),
        rescheduled("<!channel>-cart", now, 6, 9)
    );
    let out = cachewatch(&slack, dir.path(), &["ingest", "-"], Some(&doc), &env);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("2 to q-developer"), "{}", text(&out));
    // Again: nothing more is published.
    let out = cachewatch(&slack, dir.path(), &["notify"], None, &env);
    assert!(out.status.success(), "{}", text(&out));

    let mut bodies: Vec<Value> = Vec::new();
    for _ in 0..5 {
        let answer = sqs(
            &moto,
            &[
                ("Action", "ReceiveMessage"),
                ("QueueUrl", &queue_url),
                ("MaxNumberOfMessages", "10"),
            ],
        )
        .await;
        for body in elements(&answer, "Body") {
            bodies.push(serde_json::from_str(&body).expect("the message is JSON"));
        }
    }
    assert_eq!(bodies.len(), 2, "{bodies:#?}");
    for b in &bodies {
        assert_eq!(b["version"], json!("1.0"));
        assert_eq!(b["source"], json!("custom"));
        assert_eq!(b["content"]["textType"], json!("client-markdown"));
        let shown = serde_json::to_string(&b["content"]).unwrap();
        assert!(!shown.contains("<!channel>"), "escaped: {shown}");
    }
    let scheduled = bodies
        .iter()
        .find(|b| b["metadata"]["eventType"] == json!("node_replacement_scheduled"))
        .unwrap();
    let moved = bodies
        .iter()
        .find(|b| b["metadata"]["eventType"] == json!("node_replacement_rescheduled"))
        .unwrap();
    // The maintenance's id is its first event's: both alerts thread under it.
    assert_eq!(scheduled["metadata"]["threadId"], scheduled["id"]);
    assert_eq!(moved["metadata"]["threadId"], scheduled["id"]);
    assert_ne!(moved["id"], scheduled["id"]);
}
