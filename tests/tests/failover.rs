//! `cachewatch failover` run as an operator runs it: the binary, the standard AWS variables
//! pointing at the ElastiCache stand-in (TestFailover and DescribeEvents played, everything else
//! answered by moto), a temporary SQLite history. The guard rails must hold before anything is
//! called, and a rehearsal that goes through must land in the history as a drill.

use std::net::{Ipv4Addr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration as StdDuration, Instant};

use aws_sdk_elasticache::Client;
use aws_sdk_elasticache::types::Tag;
use cachewatch_tests::assert_contains_all;
use cachewatch_tests::elasticache::{ElastiCacheStandIn, redis_group, redis_member};
use cachewatch_tests::moto::free_port;
use cachewatch_tests::operator::Operator;
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

/// The stored events, drills included when `drills`.
fn events(operator: &Operator, drills: bool) -> Vec<Value> {
    let mut args = vec!["events", "--json", "--limit", "10000"];
    if drills {
        args.push("--drills");
    }
    let run = operator.ok(&args);
    serde_json::from_str::<Value>(&run.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

async fn client(stand_in: &ElastiCacheStandIn) -> Client {
    Client::new(&stand_in.sdk_config().await)
}

/// Replication group `id` (one shard of a primary and a replica, automatic failover on) tagged
/// `tag`, and its two member clusters `{id}-001` and `{id}-002`.
async fn create_group(client: &Client, id: &str, tag: (&str, &str)) {
    redis_group(client, id)
        .tags(Tag::builder().key(tag.0).value(tag.1).build())
        .send()
        .await
        .expect("moto creates the replication group");
    for member in [format!("{id}-001"), format!("{id}-002")] {
        redis_member(client, &member, id)
            .send()
            .await
            .expect("moto creates the member cluster");
    }
}

/// An ElastiCache stand-in holding replication group `orders` tagged `env=staging`, and an
/// operator whose AWS variables point at it.
async fn staging_orders() -> (ElastiCacheStandIn, Operator) {
    let stand_in = ElastiCacheStandIn::start();
    create_group(&client(&stand_in).await, "orders", ("env", "staging")).await;
    let operator = Operator::new(stand_in.env());
    (stand_in, operator)
}

/// `cachewatch failover` of node group `node_group` of `group`, then `more`.
fn failover<'a>(group: &'a str, node_group: &'a str, more: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "failover",
        "--replication-group",
        group,
        "--node-group",
        node_group,
    ];
    args.extend_from_slice(more);
    args
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(Utc::now().timestamp(), 0).expect("now is a time")
}

/// `n` rehearsals of other groups in the last 24 hours, as DescribeEvents output: the call and
/// the group's failover text, an hour apart.
fn earlier_failovers(n: usize) -> String {
    let now = now();
    let mut records = Vec::new();
    for i in 0..n {
        let at = now - Duration::hours(1) - Duration::hours(i as i64);
        let group = format!("batch{i:02}");
        records.push(serde_json::json!({
            "SourceIdentifier": group,
            "SourceType": "replication-group",
            "Message": "Test Failover API called for node group 0001",
            "Date": at.to_rfc3339(),
        }));
        records.push(serde_json::json!({
            "SourceIdentifier": group,
            "SourceType": "replication-group",
            "Message": format!("Failover from master node {group}-001 to replica node {group}-002 completed"),
            "Date": (at + Duration::seconds(40)).to_rfc3339(),
        }));
    }
    serde_json::json!({ "Events": records }).to_string()
}

const FAILOVER: &str = "Failover from master node orders-001 to replica node orders-002 completed";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_yes_it_says_what_it_would_do_and_calls_nothing() {
    // Arrange
    let (stand_in, operator) = staging_orders().await;

    // Act
    let run = operator.run(&failover("orders", "0001", &[]));

    // Assert
    assert_eq!(run.code, Some(2), "{}\n{}", run.stdout, run.stderr);
    assert_contains_all(
        &run.stdout,
        &[
            "TestFailover on node group 0001 of replication group orders:",
            "orders-001 (primary) fails over to orders-002",
        ],
    );
    assert!(
        run.stderr
            .contains("the failover was not started: add --yes to start it"),
        "{}",
        run.stderr
    );
    assert!(stand_in.requests_for("TestFailover").is_empty());
    assert!(events(&operator, true).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_production_group_is_refused_unless_production_is_allowed() {
    // Arrange
    let stand_in = ElastiCacheStandIn::start();
    create_group(
        &client(&stand_in).await,
        "ledger",
        ("Environment", "Production"),
    )
    .await;
    let operator = Operator::new(stand_in.env());
    let args = failover("ledger", "0001", &["--yes"]);

    // Act
    let refused = operator.run(&args);
    let calls_after_refusal = stand_in.requests_for("TestFailover").len();
    let allowed = operator.run(&[&args[..], &["--allow-production", "--timeout", "1m"]].concat());

    // Assert
    assert_eq!(refused.code, Some(2), "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("replication group ledger is tagged as production (Environment=Production): add --allow-production"),
        "{}",
        refused.stderr
    );
    assert_eq!(calls_after_refusal, 0);
    assert_eq!(
        allowed.code,
        Some(0),
        "{}\n{}",
        allowed.stdout,
        allowed.stderr
    );
    assert!(
        allowed.stderr.contains("ledger is tagged as production"),
        "{}",
        allowed.stderr
    );
    assert_eq!(stand_in.requests_for("TestFailover").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_node_group_or_replication_group_is_a_clear_error() {
    // Arrange
    let (stand_in, operator) = staging_orders().await;

    // Act
    let no_shard = operator.run(&failover("orders", "0009", &["--yes"]));
    let no_group = operator.run(&failover("ghost", "0001", &["--yes"]));

    // Assert
    assert_eq!(no_shard.code, Some(2));
    assert!(
        no_shard
            .stderr
            .contains("replication group orders has no node group 0009 (it has 0001)"),
        "{}",
        no_shard.stderr
    );
    assert_eq!(no_group.code, Some(2));
    assert!(
        no_group
            .stderr
            .contains("ElastiCache describes no replication group ghost"),
        "{}",
        no_group.stderr
    );
    assert!(stand_in.requests_for("TestFailover").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rehearsal_is_followed_to_the_end_and_recorded_as_a_drill() {
    // Arrange
    let (stand_in, operator) = staging_orders().await;

    // Act
    let run = operator.ok(&failover("orders", "0001", &["--yes"]));

    // Assert: what the operator saw.
    let calls = stand_in.requests_for("TestFailover");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].param("ReplicationGroupId"), Some("orders"));
    assert_eq!(calls[0].param("NodeGroupId"), Some("0001"));
    for line in [
        "replication-group orders  Test Failover API called for node group 0001",
        &format!("cache-cluster orders-001  {FAILOVER}"),
        &format!("replication-group orders  {FAILOVER}"),
        "cache-cluster orders-001  Recovering cache nodes 0001",
        "cache-cluster orders-001  Finished recovery for cache nodes 0001",
        "Failover complete: orders-001 -> orders-002",
    ] {
        assert!(run.stdout.contains(line), "{line:?} in\n{}", run.stdout);
    }
    // What the history holds: the five events, as one drill, out of normal searches.
    assert!(events(&operator, false).is_empty());
    let drills = events(&operator, true);
    assert_eq!(drills.len(), 5, "{drills:#?}");
    let drill_id = drills[0]["attributes"]["drill_id"].as_str().unwrap();
    for e in &drills {
        assert_eq!(e["drill"], true);
        assert_eq!(e["origin"], "drill");
        assert_eq!(e["attributes"]["drill_scenario"], "test-failover");
        assert_eq!(e["attributes"]["drill_id"], drill_id);
    }
    assert!(
        run.stdout
            .contains(&format!("Recorded as drill {drill_id}")),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn near_the_daily_limit_it_warns_and_at_the_limit_it_refuses() {
    // Arrange: 13 rehearsals of other groups in the last 24 hours.
    let (stand_in, operator) = staging_orders().await;
    operator.ingest(&earlier_failovers(13));
    let args = failover("orders", "0001", &["--yes"]);

    // Act: the 14th, the 15th, then one too many.
    let fourteenth = operator.ok(&args);
    let fifteenth = operator.ok(&args);
    let sixteenth = operator.run(&args);

    // Assert
    assert!(
        fourteenth.stderr.contains(
            "warning: 13 failovers in the last 24 hours: ElastiCache allows TestFailover on 15 node groups per rolling 24 hours, so after this one 1 is left"
        ),
        "{}",
        fourteenth.stderr
    );
    assert!(
        fifteenth
            .stderr
            .contains("14 failovers in the last 24 hours")
            && fifteenth.stderr.contains("after this one none is left"),
        "{}",
        fifteenth.stderr
    );
    assert_eq!(sixteenth.code, Some(2), "{}", sixteenth.stdout);
    assert!(
        sixteenth
            .stderr
            .contains("15 failovers in the last 24 hours"),
        "{}",
        sixteenth.stderr
    );
    assert_eq!(stand_in.requests_for("TestFailover").len(), 2);
}

/// A `redis-server` on a loopback port, stopped when dropped.
struct RedisServer {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl RedisServer {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts (the Debian package)");
        let started = Instant::now();
        while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
            assert!(
                started.elapsed() < StdDuration::from_secs(10),
                "redis-server does not listen on {port}"
            );
            std::thread::sleep(StdDuration::from_millis(20));
        }
        Self {
            child,
            port,
            _dir: dir,
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_probe_beside_it_is_recorded_as_the_drills_outcome() {
    // Arrange
    let (_stand_in, operator) = staging_orders().await;
    let redis = RedisServer::start();
    let url = format!("redis://127.0.0.1:{}", redis.port);

    // Act
    let run = operator.ok(&failover("orders", "0001", &["--yes", "--probe-url", &url]));
    let year = Utc::now().format("%Y").to_string();
    let log = operator.ok(&["report", "--year", &year, "--format", "csv", "--drills"]);
    let without_drills = operator.ok(&["report", "--year", &year, "--format", "csv"]);

    // Assert: nothing interrupted this Redis, and the log says so for the drill.
    assert!(
        run.stdout
            .contains("Measured by the probe: longest unavailability 0 ms"),
        "{}",
        run.stdout
    );
    let rows: Vec<&str> = log.stdout.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{}", log.stdout);
    assert!(rows[0].contains(",test-failover,no,0,"), "{}", rows[0]);
    assert!(
        rows[0].contains(&format!("probe of redis://127.0.0.1:{}", redis.port)),
        "{}",
        rows[0]
    );
    assert!(rows[0].contains(",true,"), "a drill: {}", rows[0]);
    assert_eq!(
        without_drills.stdout.lines().count(),
        1,
        "{}",
        without_drills.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_probe_that_cannot_connect_keeps_the_failover_from_starting() {
    // Arrange: nothing listens on this port.
    let (stand_in, operator) = staging_orders().await;
    let url = format!("redis://127.0.0.1:{}", free_port());

    // Act
    let run = operator.run(&failover("orders", "0001", &["--yes", "--probe-url", &url]));

    // Assert
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("the failover was not started: the probe could not start"),
        "{}",
        run.stderr
    );
    assert!(stand_in.requests_for("TestFailover").is_empty());
}
