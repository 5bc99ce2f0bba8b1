//! `cachewatch serve`, the built binary, on 127.0.0.1 over a SQLite file, with Slack played by
//! its stand-in and SNS's certificate host by [`SnsHost`] (an HTTPS proxy the server reaches
//! through `HTTPS_PROXY`, trusted through `SSL_CERT_FILE`): the server runs exactly as it would
//! on a team's machine.
//!
//! The morning of the issue: SNS delivers a replacement notice to `/sns`; the alert lands in the
//! channel; on-call presses Acknowledge, records the outcome in the modal, and later finds the
//! event with `/cachewatch search`. And nothing forged gets in.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use cachewatch_adapters::SqliteStore;
use cachewatch_core::EventId;
use cachewatch_core::alerting::slack::{ACTION_ACKNOWLEDGE, ACTION_OUTCOME};
use cachewatch_core::history::response::ResponseStore;
use cachewatch_core::history::store::EventStore;
use cachewatch_tests::slack::{ALERTS, SlackRequest, SlackStandIn, StoredMessage};
use cachewatch_tests::sns::{self, SnsHost, TOPIC};
use cachewatch_tests::workspace_bin;
use chrono::{Duration, Utc};
use serde_json::{Value, json};

const ONCALL: &str = "U0ONCALL";

/// `cachewatch serve` on a free port of the loopback, with nothing on its input and its output
/// and log piped to the test.
fn serve_command() -> Command {
    let mut command = Command::new(workspace_bin("cachewatch"));
    command
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// A `cachewatch serve` process; killed when dropped.
struct Server {
    child: Child,
    base: String,
    /// What it wrote to standard error (its log), also passed on to the test's.
    log: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `cachewatch serve --addr 127.0.0.1:0` on `db`, with Slack at the stand-in, and
    /// waits until it answers.
    fn start(db: &std::path::Path, slack: &SlackStandIn, host: &SnsHost) -> Self {
        let mut child = serve_command()
            .env("CACHEWATCH_DB", db)
            .env("SLACK_API_BASE_URL", slack.api_base())
            .env("SLACK_BOT_TOKEN", slack.token())
            .env("SLACK_CHANNEL", ALERTS)
            .env("SLACK_SIGNING_SECRET", slack.signing_secret())
            .env("SLACK_MIN_INTERVAL_MS", "0")
            .env("SLACK_RETRY_ATTEMPTS", "2")
            .env("SLACK_RETRY_DELAY_MS", "5")
            .env("CACHEWATCH_TOPIC_ARNS", TOPIC)
            .env("HTTPS_PROXY", host.proxy_url())
            .env("SSL_CERT_FILE", host.ca_file())
            .env_remove("NO_PROXY")
            .env_remove("no_proxy")
            .env_remove("CACHEWATCH_BASE_URL")
            .env_remove("CACHEWATCH_LINK_SECRET")
            .env_remove("CACHEWATCH_PUBLIC_PAGES")
            .env_remove("CACHEWATCH_CONFIG")
            .spawn()
            .expect("cachewatch serve starts");
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("its log");
        let written = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("serve: {line}");
                let mut log = written.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        // The first line says where it listens: `cachewatch serve: listening on http://…`.
        let stdout = child.stdout.take().expect("its output");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(first)) = lines.next() {
                let _ = tx.send(first);
            }
            // Keep reading so the server never blocks on a full pipe.
            for _ in lines {}
        });
        let first = rx
            .recv_timeout(StdDuration::from_secs(30))
            .expect("serve says where it listens");
        let base = first
            .rsplit_once("listening on ")
            .map(|(_, url)| url.trim().to_owned())
            .unwrap_or_else(|| panic!("unexpected first line: {first}"));
        let server = Self { child, base, log };
        let deadline = Instant::now() + StdDuration::from_secs(30);
        while !answers(&format!("{}/healthz", server.base)) {
            assert!(Instant::now() < deadline, "serve never answered /healthz");
            std::thread::sleep(StdDuration::from_millis(50));
        }
        server
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `host:port` it listens on.
    fn authority(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    /// Its log so far.
    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Its log once it says `what` (it is written a moment after the answer), or as it is after
    /// five seconds.
    fn log_saying(&self, what: &str) -> String {
        let deadline = Instant::now() + StdDuration::from_secs(5);
        loop {
            let log = self.log();
            if log.contains(what) || Instant::now() > deadline {
                return log;
            }
            std::thread::sleep(StdDuration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server over a fresh history, with Slack and SNS's certificate host played on 127.0.0.1.
struct Setup {
    server: Server,
    slack: SlackStandIn,
    db: std::path::PathBuf,
    host: SnsHost,
    dir: tempfile::TempDir,
}

impl Setup {
    /// Starts them all (blocking).
    fn start() -> Self {
        let slack = SlackStandIn::start();
        let host = SnsHost::start(&sns::key().pem);
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("history.db");
        let server = Server::start(&db, &slack, &host);
        Self {
            server,
            slack,
            db,
            host,
            dir,
        }
    }
}

/// Whether `url` answers 2xx (blocking: for waiting on the server before it is used).
fn answers(url: &str) -> bool {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return false;
    };
    runtime.block_on(async {
        reqwest::get(url)
            .await
            .is_ok_and(|a| a.status().is_success())
    })
}

async fn post_sns(server: &Server, message: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(server.url("/sns"))
        .header("content-type", "text/plain; charset=UTF-8")
        .header(
            "x-amz-sns-message-type",
            message["Type"].as_str().unwrap_or(""),
        )
        .body(message.to_string())
        .send()
        .await
        .expect("the server answers")
}

async fn post_slack(server: &Server, request: &SlackRequest) -> (u16, String) {
    let mut builder = reqwest::Client::new().post(server.url(&request.path));
    for (name, value) in request.headers() {
        builder = builder.header(name, value);
    }
    let answer = builder
        .body(request.body.clone())
        .send()
        .await
        .expect("the server answers");
    let status = answer.status().as_u16();
    (status, answer.text().await.unwrap_or_default())
}

/// The value of the element with `action_id` in a message's blocks.
fn element_value(message: &StoredMessage, action_id: &str) -> Option<String> {
    fn find(value: &Value, action_id: &str) -> Option<String> {
        match value {
            Value::Object(map) => {
                if map.get("action_id").and_then(Value::as_str) == Some(action_id) {
                    return map.get("value").and_then(Value::as_str).map(str::to_owned);
                }
                map.values().find_map(|v| find(v, action_id))
            }
            Value::Array(items) => items.iter().find_map(|v| find(v, action_id)),
            _ => None,
        }
    }
    find(&Value::Array(message.blocks.clone()), action_id)
}

fn replacement_notice() -> Value {
    json!({
        "ElastiCache:NodeReplacementScheduled": "payments-0001-001",
        "Replication Group ID": "payments",
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sns_notice_on_serve_becomes_an_alert_that_is_acknowledged_recorded_and_found() {
    // Arrange
    let Setup {
        server,
        slack,
        db,
        host,
        dir: _dir,
    } = tokio::task::block_in_place(Setup::start);

    // SNS delivers the notice: the certificate is fetched from SNS's host, the alert posted.
    let notice = sns::notification(
        &replacement_notice(),
        Utc::now() - Duration::minutes(1),
        "2",
    );
    let answer = post_sns(&server, &notice).await;
    assert_eq!(answer.status(), 200, "{:?}", answer.text().await);
    assert_eq!(host.fetched(), vec![sns::CERT_URL.to_owned()]);
    let parents = slack.parents(ALERTS);
    assert_eq!(parents.len(), 1, "one alert: {parents:#?}");
    let alert = &parents[0];
    assert!(alert.text.contains("payments-0001-001"), "{}", alert.text);
    let shown = serde_json::to_string(&alert.blocks).unwrap();
    assert!(
        shown.contains(&format!("{}/runbooks/", server.base)),
        "the alert links to this server's runbook page: {shown}"
    );

    // SNS delivers it again (it does): nothing is posted twice.
    assert_eq!(post_sns(&server, &notice).await.status(), 200);
    assert_eq!(slack.parents(ALERTS).len(), 1);

    // Acknowledge: who is recorded, and the alert says so in place.
    let value = element_value(alert, ACTION_ACKNOWLEDGE).expect("an Acknowledge button");
    let id = EventId::parse(&value).expect("the button carries the event id");
    let press = slack.block_action(ACTION_ACKNOWLEDGE, &value, ONCALL, ALERTS, &alert.ts);
    let (status, body) = post_slack(&server, &press).await;
    assert_eq!(status, 200, "{body}");
    let versions = slack.versions(ALERTS, &alert.ts);
    assert_eq!(versions.len(), 2, "the alert was updated once");
    let now_shown = serde_json::to_string(&versions[1].blocks).unwrap();
    assert!(now_shown.contains("Acknowledged by"), "{now_shown}");

    // Record outcome: the modal opens; what is submitted is stored.
    let outcome_value = element_value(alert, ACTION_OUTCOME).expect("a Record outcome button");
    let press = slack.block_action(ACTION_OUTCOME, &outcome_value, ONCALL, ALERTS, &alert.ts);
    assert_eq!(post_slack(&server, &press).await.0, 200);
    let views = slack.views();
    assert_eq!(views.len(), 1, "the modal opened");
    let values = json!({
        "handled": {"handled": {"type": "static_select", "selected_option": {"text": {"type": "plain_text", "text": "Failed over by hand"}, "value": "manual-failover"}}},
        "site_maintenance": {"site_maintenance": {"type": "radio_buttons", "selected_option": {"text": {"type": "plain_text", "text": "No"}, "value": "no"}}},
        "downtime": {"downtime": {"type": "plain_text_input", "value": "1m30s"}},
        "note": {"note": {"type": "plain_text_input", "value": "failed over at 04:50"}},
    });
    let submit = slack.view_submission(&views[0].view, values, ONCALL);
    let (status, body) = post_slack(&server, &submit).await;
    assert_eq!((status, body.as_str()), (200, ""));

    // What the server recorded is in the history file, for the CLI and the yearly log.
    let store = SqliteStore::open(&db).unwrap();
    assert!(store.event(&id).await.unwrap().is_some());
    let acks = store
        .acknowledgements(std::slice::from_ref(&id))
        .await
        .unwrap();
    assert_eq!(acks.len(), 1);
    assert_eq!(acks[0].by, ONCALL);
    let outcomes = store.outcomes(std::slice::from_ref(&id)).await.unwrap();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].handled, "manual-failover");
    assert!(!outcomes[0].site_maintenance);
    assert_eq!(outcomes[0].downtime, Some(Duration::seconds(90)));

    // /cachewatch search finds it.
    let search = slack.slash_command("search cluster:payments since:7d", ONCALL, ALERTS);
    let (status, body) = post_slack(&server, &search).await;
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["response_type"], "ephemeral");
    let found = answer["blocks"].to_string();
    assert!(found.contains(id.short()), "{found}");
    assert!(found.contains("payments-0001-001"), "{found}");

    // On loopback the pages open without a signed link.
    let page = reqwest::get(server.url(&format!("/runbooks/{}", id.as_str())))
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("payments-0001-001"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_lets_nothing_forged_in_and_stops_cleanly_on_sigterm() {
    let Setup {
        mut server,
        slack,
        db,
        host: _host,
        dir: _dir,
    } = tokio::task::block_in_place(Setup::start);

    // A notice whose text was changed after SNS signed it.
    let mut tampered = sns::notification(&replacement_notice(), Utc::now(), "2");
    tampered["Message"] =
        json!(json!({"ElastiCache:NodeReplacementScheduled": "billing-0001-001"}).to_string());
    let answer = post_sns(&server, &tampered).await;
    assert_eq!(answer.status(), 403);
    // A command Slack did not sign.
    let mut forged = slack.slash_command("mute * 30d", ONCALL, ALERTS);
    forged.signature = format!("v0={}", "0".repeat(64));
    assert_eq!(post_slack(&server, &forged).await.0, 401);

    // Nothing was stored, posted or muted.
    let store = SqliteStore::open(&db).unwrap();
    let stored = store
        .search(&cachewatch_core::EventQuery::default())
        .await
        .unwrap();
    assert!(stored.is_empty(), "{stored:#?}");
    assert!(slack.parents(ALERTS).is_empty());
    assert!(store.mutes(Utc::now()).await.unwrap().is_empty());

    // SIGTERM: it finishes and exits 0.
    let pid = server.child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + StdDuration::from_secs(10);
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        std::thread::sleep(StdDuration::from_millis(20));
    };
    assert!(status.success(), "{status}");
}

/// Everything stored in `db`.
async fn stored(db: &std::path::Path) -> Vec<cachewatch_core::MaintenanceEvent> {
    SqliteStore::open(db)
        .unwrap()
        .search(&cachewatch_core::EventQuery::default())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_notification_brings_in_only_what_sns_signed_and_only_once() {
    let Setup {
        server,
        slack: _slack,
        db,
        host: _host,
        dir: _dir,
    } = tokio::task::block_in_place(Setup::start);

    // A genuine notification with a Lambda-shaped `Records` array added: the array is not signed,
    // and once carried a forged replacement of another account's cluster into the history.
    let genuine = sns::notification(&replacement_notice(), Utc::now(), "2");
    let mut smuggled = genuine.clone();
    smuggled["Records"] = json!([{
        "EventSource": "aws:sns",
        "Sns": {
            "Type": "Notification",
            "MessageId": "forged-1",
            "TopicArn": "arn:aws:sns:us-east-1:999999999999:elsewhere",
            "Timestamp": Utc::now().to_rfc3339(),
            "Message": json!({"ElastiCache:NodeReplacementScheduled": "billing-0001-001"}).to_string(),
        }
    }]);
    let answer = post_sns(&server, &smuggled).await;
    assert_eq!(answer.status(), 400);
    assert!(stored(&db).await.is_empty());

    // A genuine notification published two hours ago, replayed: SNS stops retrying within one.
    let old = sns::notification(&replacement_notice(), Utc::now() - Duration::hours(2), "2");
    assert_eq!(post_sns(&server, &old).await.status(), 403);
    assert!(stored(&db).await.is_empty());

    // The genuine notification: stored, with the signed topic's account and Region only.
    assert_eq!(post_sns(&server, &genuine).await.status(), 200);
    let events = stored(&db).await;
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(
        events[0].cluster_id.as_ref().map(|c| c.as_str()),
        Some("payments-0001-001")
    );
    assert_eq!(events[0].account_id.as_deref(), Some("111122223333"));
    // SNS's retry of it changes nothing; the same id carrying other (unsigned) fields is refused.
    assert_eq!(post_sns(&server, &genuine).await.status(), 200);
    let mut same_id = genuine.clone();
    same_id["MessageAttributes"] = json!({"cluster": {"Type": "String", "Value": "billing"}});
    let same_id = sns::sign(same_id);
    assert_eq!(post_sns(&server, &same_id).await.status(), 403);
    assert_eq!(stored(&db).await.len(), 1);

    // Each refusal is in the server's log, with its reason.
    for reason in [
        "`Records` is not a field",
        "outside the hour",
        "was delivered before",
    ] {
        let log = server.log_saying(reason);
        assert!(log.contains(reason), "{reason:?} not in the log:\n{log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_rebound_to_the_servers_address_reaches_nothing() {
    let Setup {
        server,
        slack: _slack,
        db: _db,
        host: _host,
        dir: _dir,
    } = tokio::task::block_in_place(Setup::start);
    let port = server.authority().rsplit_once(':').unwrap().1.to_owned();
    let http = reqwest::Client::new();

    // The pages are open on loopback, under the server's own names.
    for name in [server.authority().to_owned(), format!("localhost:{port}")] {
        let answer = http
            .get(server.url("/api/events"))
            .header("host", &name)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{name}");
    }
    // A page of another site whose name now resolves to 127.0.0.1 reads and records nothing.
    let rebound = format!("rebound.example:{port}");
    let read = http
        .get(server.url("/api/events"))
        .header("host", &rebound)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 421);
    let step = http
        .post(server.url("/runbooks/0123456789abcdef/steps"))
        .header("host", &rebound)
        .header("origin", format!("http://{rebound}"))
        .header("content-type", "application/json")
        .body(r#"{"step":1,"by":"mallory"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(step.status(), 421);
    // Its own name with another site's origin cannot record a step either.
    let cross = http
        .post(server.url("/runbooks/0123456789abcdef/steps"))
        .header("origin", format!("http://{rebound}"))
        .header("content-type", "application/json")
        .body(r#"{"step":1,"by":"mallory"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    let log = server.log_saying("rebound.example");
    assert!(log.contains("rebound.example"), "{log}");
}

/// Reads what the server sends on `stream` until it closes or `wait` passes.
async fn read_until_closed(
    stream: &mut tokio::net::TcpStream,
    wait: StdDuration,
) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    let mut buffer = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(String::from_utf8_lossy(&got).into_owned()),
            Ok(Ok(n)) => got.extend_from_slice(&buffer[..n]),
            Err(_) => return None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_slow_and_oversized_clients_do_not_starve_the_server() {
    use tokio::io::AsyncWriteExt;
    let Setup {
        server,
        slack: _slack,
        db,
        host: _host,
        dir: _dir,
    } = tokio::task::block_in_place(Setup::start);
    let authority = server.authority().to_owned();

    // 300 connections that never send a byte.
    let mut idle = Vec::new();
    for _ in 0..300 {
        idle.push(tokio::net::TcpStream::connect(&authority).await.unwrap());
    }
    // The server still answers.
    let health = reqwest::Client::builder()
        .timeout(StdDuration::from_secs(5))
        .build()
        .unwrap()
        .get(server.url("/healthz"))
        .send()
        .await
        .expect("/healthz answers beside 300 idle connections");
    assert_eq!(health.status(), 200);

    // A body announced at 10 GB is refused at once, without waiting for it.
    let mut huge = tokio::net::TcpStream::connect(&authority).await.unwrap();
    huge.write_all(
        format!("POST /sns HTTP/1.1\r\nHost: {authority}\r\nContent-Type: text/plain\r\nContent-Length: 10000000000\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    // A body that stops arriving half-way.
    let mut slow = tokio::net::TcpStream::connect(&authority).await.unwrap();
    slow.write_all(
        format!("POST /sns HTTP/1.1\r\nHost: {authority}\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n{{\"Type\":").as_bytes(),
    )
    .await
    .unwrap();
    let huge_answer = read_until_closed(&mut huge, StdDuration::from_secs(5))
        .await
        .expect("the oversized request is answered and closed at once");
    assert!(huge_answer.starts_with("HTTP/1.1 413"), "{huge_answer}");
    let slow_answer = read_until_closed(&mut slow, StdDuration::from_secs(20))
        .await
        .expect("the stalled body is given up on");
    assert!(slow_answer.starts_with("HTTP/1.1 408"), "{slow_answer}");
    // The idle connections were closed (their headers never came).
    let closed = read_until_closed(&mut idle[0], StdDuration::from_secs(20)).await;
    assert_eq!(closed.as_deref(), Some(""), "an idle connection is closed");
    assert!(stored(&db).await.is_empty());
}

#[test]
fn a_link_lifetime_that_cannot_be_written_stops_the_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = serve_command()
        .env("CACHEWATCH_DB", dir.path().join("history.db"))
        .env("CACHEWATCH_LINK_SECRET", "0123456789abcdef0123456789abcdef")
        .env("CACHEWATCH_LINK_TTL", "9999999999d")
        .env_remove("CACHEWATCH_CONFIG")
        .env_remove("SLACK_BOT_TOKEN")
        .env_remove("SLACK_WEBHOOK_URL")
        .spawn()
        .expect("cachewatch serve runs");
    let deadline = Instant::now() + StdDuration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("serve started with a link lifetime it cannot write");
        }
        std::thread::sleep(StdDuration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("CACHEWATCH_LINK_TTL"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        String::from_utf8_lossy(&output.stdout).is_empty(),
        "it never said it listens"
    );
}
