//! Drills end to end, through the `cachewatch` binary, a SQLite file and the local server that
//! plays Slack: a drill raises an alert marked DRILL through the real pipeline, the responses
//! recorded from the command line show on it, and the drill report measures them; drill events
//! stay out of normal searches; the failure menu is a plan naming the nodes to stop.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::thread::sleep;
use std::time::Duration as StdDuration;

use cachewatch_adapters::SqliteStore;
use cachewatch_core::EventId;
use cachewatch_core::history::response::ResponseStore;
use cachewatch_tests::slack::{ALERTS, SlackStandIn, StoredMessage};
use cachewatch_tests::{assert_contains_all, succeeded, workspace_bin};
use chrono::{DateTime, Utc};
use serde_json::Value;

/// The `cachewatch` binary on the history `db`, with Slack's Web API pointed at the stand-in.
fn cachewatch(slack: &SlackStandIn, db: &Path, args: &[&str]) -> Output {
    Command::new(workspace_bin("cachewatch"))
        .args(args)
        .env("CACHEWATCH_DB", db)
        .env("SLACK_API_BASE_URL", slack.api_base())
        .env("SLACK_BOT_TOKEN", slack.token())
        .env("SLACK_CHANNEL", ALERTS)
        .env("SLACK_MIN_INTERVAL_MS", "0")
        .env("SLACK_RETRY_ATTEMPTS", "2")
        .env("SLACK_RETRY_DELAY_MS", "5")
        .env("CACHEWATCH_TZ", "UTC")
        .env_remove("CACHEWATCH_BASE_URL")
        .env_remove("SLACK_WEBHOOK_URL")
        .env_remove("CACHEWATCH_CONFIG")
        .env_remove("CACHEWATCH_STORE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

/// Slack's stand-in, and a history file in a temporary directory (kept while it lives).
fn slack_and_history() -> (SlackStandIn, tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("history.db");
    (SlackStandIn::start(), dir, db)
}

/// `drill start --scenario {scenario} --cluster {cluster}`, then `more`.
fn drill_start<'a>(scenario: &'a str, cluster: &'a str, more: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "drill",
        "start",
        "--scenario",
        scenario,
        "--cluster",
        cluster,
    ];
    args.extend_from_slice(more);
    args
}

/// Runs `cachewatch` and returns its standard output, failing the test if it failed.
fn ok(slack: &SlackStandIn, db: &Path, args: &[&str]) -> String {
    succeeded(args, cachewatch(slack, db, args))
}

fn json(slack: &SlackStandIn, db: &Path, args: &[&str]) -> Value {
    let text = ok(slack, db, args);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: {e}\n{text}"))
}

/// `cachewatch drill start --scenario {scenario} --cluster {cluster} --json`: the drill started.
fn start(slack: &SlackStandIn, db: &Path, scenario: &str, cluster: &str) -> Value {
    json(slack, db, &drill_start(scenario, cluster, &["--json"]))
}

fn time(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

/// Everything a message shows: its text and its blocks.
fn shown(m: &StoredMessage) -> String {
    format!("{}\n{}", m.text, serde_json::to_string(&m.blocks).unwrap())
}

fn the_alert(slack: &SlackStandIn) -> StoredMessage {
    let parents = slack.parents(ALERTS);
    assert_eq!(parents.len(), 1, "one alert: {parents:#?}");
    parents.into_iter().next().unwrap()
}

#[test]
fn a_drill_runs_through_slack_and_its_report_measures_the_responses() {
    let (slack, _dir, db) = slack_and_history();

    let started = start(&slack, &db, "primary-replacement", "orders-0001-001");
    let id = started["drill_id"].as_str().unwrap().to_owned();
    assert_eq!(started["scenario"], "primary-replacement");
    assert_eq!(started["events"][0]["drill"], true);
    assert_eq!(started["events"][0]["origin"], "drill");
    assert_eq!(started["events"][0]["attributes"]["drill_id"], id.as_str());

    // The alert went out through the real path, marked as a drill first thing.
    let alert = the_alert(&slack);
    assert!(alert.text.starts_with("DRILL: "), "{}", alert.text);
    let header = alert.blocks[0]["text"]["text"].as_str().unwrap();
    assert!(header.starts_with("🧪 DRILL"), "{header}");
    assert!(shown(&alert).contains("Nothing is happening to a real cluster"));
    assert!(shown(&alert).contains("orders-0001-001"));

    // The responses, a moment apart, from the command line (a prefix works as for other commands).
    let ack = ok(&slack, &db, &["ack", &id[..8], "--by", "alice"]);
    assert!(ack.contains("acknowledged by alice"), "{ack}");
    let acknowledged = the_alert(&slack);
    assert!(acknowledged.versions.len() >= 2, "the alert was updated");
    assert!(
        shown(&acknowledged).contains("Acknowledged by *alice*"),
        "{}",
        shown(&acknowledged)
    );
    assert!(shown(&acknowledged).contains("DRILL"), "still marked");
    sleep(StdDuration::from_millis(1100));
    let step = ok(&slack, &db, &["step", &id, "1", "--by", "bob"]);
    assert!(step.contains("step 1 done by bob"), "{step}");
    sleep(StdDuration::from_millis(1100));
    ok(
        &slack,
        &db,
        &[
            "outcome",
            &id,
            "--handled",
            "manual-failover",
            "--site-maintenance",
            "no",
            "--downtime",
            "2m5s",
            "--note",
            "failed over by hand, keys matched",
            "--by",
            "alice",
        ],
    );

    let report = json(&slack, &db, &["drill", "report", &id, "--json"]);
    assert_eq!(report["drill_id"], id.as_str());
    assert_eq!(report["scenario"], "primary-replacement");
    assert_eq!(report["acknowledged"]["by"], "alice");
    assert_eq!(report["first_step"]["step"], 1);
    assert_eq!(report["first_step"]["by"], "bob");
    assert_eq!(report["done"]["handled"], "manual-failover");
    assert_eq!(report["done"]["site_maintenance"], false);
    assert_eq!(report["downtime"], 125);
    let seconds = |k: &str| {
        report[k]
            .as_i64()
            .unwrap_or_else(|| panic!("{k}: {report}"))
    };
    let (to_ack, to_step, to_done) = (
        seconds("time_to_acknowledge"),
        seconds("time_to_first_step"),
        seconds("time_to_done"),
    );
    assert!(to_ack >= 0, "{report}");
    assert!(to_ack < to_step && to_step < to_done, "{report}");

    // The times are those recorded in the history, measured from when the drill was raised.
    let raised = time(&report["raised_at"]);
    let alerted = time(&report["alerted_at"]);
    assert!(raised <= alerted, "{report}");
    let store = SqliteStore::open(&db).unwrap();
    let event = EventId::parse(&id).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (acks, steps, outcomes) = runtime.block_on(async {
        let ids = [event];
        (
            store.acknowledgements(&ids).await.unwrap(),
            store.steps(&ids).await.unwrap(),
            store.outcomes(&ids).await.unwrap(),
        )
    });
    assert_eq!(acks.len(), 1);
    assert_eq!(time(&report["acknowledged"]["at"]), acks[0].at);
    assert_eq!((acks[0].at - raised).num_seconds(), to_ack);
    assert_eq!((steps[0].at - raised).num_seconds(), to_step);
    assert_eq!((outcomes[0].at - raised).num_seconds(), to_done);

    // Every drill, newest first, holds this one.
    let all = json(&slack, &db, &["drill", "report", "--json"]);
    assert_eq!(all.as_array().unwrap().len(), 1);
    assert_eq!(all[0]["drill_id"], id.as_str());

    // A drill is not history: searches leave it out unless asked.
    assert_eq!(
        json(&slack, &db, &["events", "--json"]),
        serde_json::json!([])
    );
    let with_drills = json(&slack, &db, &["events", "--json", "--drills"]);
    assert_eq!(with_drills.as_array().unwrap().len(), 1);
    assert_eq!(with_drills[0]["id"], id.as_str());
}

#[test]
fn a_name_given_to_ack_is_shown_on_the_alert_as_text_not_markup() {
    let (slack, _dir, db) = slack_and_history();
    let started = start(&slack, &db, "memcached-replacement", "sessions-mc");
    let id = started["drill_id"].as_str().unwrap();
    ok(&slack, &db, &["ack", id, "--by", "<!channel> *eve*"]);
    let alert = shown(&the_alert(&slack));
    assert!(alert.contains("&lt;!channel&gt;"), "{alert}");
    assert!(!alert.contains("<!channel>"), "{alert}");
    assert!(
        alert.contains("Memcached"),
        "the scenario's engine: {alert}"
    );
}

/// The command line took any printable name and any step number its runbook check let through;
/// it now applies the rules every door does: a name holding a character that hides or reorders
/// text is refused, as a step the runbook does not have is, with exit code 2 and nothing stored.
#[test]
fn a_look_alike_name_or_a_step_the_runbook_lacks_is_refused_and_nothing_is_stored() {
    let (slack, _dir, db) = slack_and_history();
    let started = start(&slack, &db, "primary-replacement", "orders-0001-001");
    let id = started["drill_id"].as_str().unwrap();

    let refused = [
        vec!["step", id, "1", "--by", "b\u{202e}ob"],
        vec!["ack", id, "--by", "a\u{200b}lice"],
        vec!["step", id, "999", "--by", "bob"],
        vec![
            "outcome",
            id,
            "--handled",
            "waited",
            "--site-maintenance",
            "no",
            "--by",
            "eve\u{2066}",
        ],
    ];
    for args in &refused {
        let out = cachewatch(&slack, &db, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        assert!(!String::from_utf8_lossy(&out.stderr).is_empty(), "{args:?}");
    }
    let ok_step = ok(&slack, &db, &["step", id, "1", "--by", "bob"]);

    let store = SqliteStore::open(&db).unwrap();
    let ids = [EventId::parse(id).unwrap()];
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (acks, steps, outcomes) = runtime.block_on(async {
        (
            store.acknowledgements(&ids).await.unwrap(),
            store.steps(&ids).await.unwrap(),
            store.outcomes(&ids).await.unwrap(),
        )
    });
    assert!(acks.is_empty(), "{acks:?}");
    assert!(outcomes.is_empty(), "{outcomes:?}");
    let steps: Vec<(u32, &str)> = steps.iter().map(|s| (s.step, s.by.as_str())).collect();
    assert_eq!(steps, [(1, "bob")], "{ok_step}");
}

#[test]
fn drill_list_names_the_six_scenarios() {
    let (slack, _dir, db) = slack_and_history();
    let list = json(&slack, &db, &["drill", "list", "--json"]);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "primary-replacement",
            "replica-replacement",
            "unplanned-failover",
            "memcached-replacement",
            "repeat-notice",
            "failure-menu"
        ]
    );
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|s| !s["description"].as_str().unwrap().is_empty())
    );
    let unknown = cachewatch(&slack, &db, &drill_start("meteor", "x", &[]));
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("repeat-notice"));
}

#[test]
fn a_repeat_notice_drill_is_flagged_as_a_repeat_and_alerts_once() {
    let (slack, _dir, db) = slack_and_history();
    let started = json(
        &slack,
        &db,
        &drill_start(
            "repeat-notice",
            "sessions-mc",
            &["--node", "0002", "--json"],
        ),
    );
    let maintenances = started["maintenances"].as_array().unwrap();
    assert_eq!(maintenances.len(), 2, "{started}");
    let repeat = maintenances
        .iter()
        .find(|m| !m["repeat_of"].is_null())
        .unwrap_or_else(|| panic!("no repeat: {started}"));
    assert_eq!(repeat["id"], started["drill_id"]);
    assert_eq!(repeat["state"], "scheduled");
    assert_eq!(repeat["drill"], true);

    // Only today's notice pages (the replacement two days ago is history), and it says "again".
    let alert = the_alert(&slack);
    assert!(alert.text.starts_with("DRILL: "), "{}", alert.text);
    assert!(shown(&alert).contains("again"), "{}", shown(&alert));
    assert!(shown(&alert).contains("Repeat notice"), "{}", shown(&alert));
}

#[test]
fn the_failure_menu_plans_which_nodes_to_stop_and_injects_nothing() {
    let (slack, _dir, db) = slack_and_history();
    let plan = ok(
        &slack,
        &db,
        &drill_start(
            "failure-menu",
            "orders",
            &["--shards", "3", "--replicas", "2"],
        ),
    );
    for shard in 1..=3 {
        for node in 1..=3 {
            let name = format!("orders-{shard:04}-{node:03}");
            assert!(plan.contains(&name), "{name} missing:\n{plan}");
        }
    }
    assert_contains_all(
        &plan,
        &["## 1. One replica down", "Stop: `orders-0001-002`\n"],
    );
    assert!(
        plan.contains(
            "Stop: `orders-0001-001`, `orders-0002-001`\n\nExpect: The cluster loses quorum"
        ),
        "{plan}"
    );
    assert!(plan.contains("## 7. Every node down"), "{plan}");
    assert!(slack.parents(ALERTS).is_empty(), "a plan posts nothing");
    assert_eq!(
        json(&slack, &db, &["events", "--json", "--drills"]),
        serde_json::json!([])
    );

    let without = cachewatch(&slack, &db, &drill_start("failure-menu", "orders", &[]));
    assert_eq!(without.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&without.stderr).contains("--shards N --replicas N"));
}

#[test]
fn a_runbook_shows_the_teams_last_measured_rehearsal_of_the_cluster_beside_aws_impact() {
    // Arrange: a rehearsal of orders-0001-001 whose outcome measured 4 seconds, and real notices
    // for that cluster and for one never rehearsed.
    let (slack, dir, db) = slack_and_history();
    let started = start(&slack, &db, "primary-replacement", "orders-0001-001");
    let drill = started["drill_id"].as_str().unwrap().to_owned();
    ok(
        &slack,
        &db,
        &[
            "outcome",
            &drill,
            "--handled",
            "test-failover",
            "--site-maintenance",
            "no",
            "--downtime",
            "4s",
            "--by",
            "alice",
        ],
    );
    let start = Utc::now() + chrono::Duration::days(5);
    let notice = |cluster: &str| {
        serde_json::json!({
            "SourceIdentifier": cluster,
            "SourceType": "cache-cluster",
            // An hour before the drill's own notice, so that it is a separate occurrence.
            "Date": (Utc::now() - chrono::Duration::hours(1)).to_rfc3339(),
            "Message": format!(
                "The node with Cache Cluster ID: {cluster}, Node ID: 0001 is scheduled for replacement during the maintenance window from Start Time: {}, End Time: {}",
                start.format("%b %-d %H:%M UTC"),
                (start + chrono::Duration::hours(1)).format("%b %-d %H:%M UTC"),
            ),
        })
    };
    let file = dir.path().join("events.json");
    std::fs::write(
        &file,
        serde_json::json!({ "Events": [notice("orders-0001-001"), notice("billing-0001-001")] })
            .to_string(),
    )
    .unwrap();
    ok(&slack, &db, &["ingest", file.to_str().unwrap()]);
    let id_of = |cluster: &str| {
        json(&slack, &db, &["events", "--cluster", cluster, "--json"])[0]["id"]
            .as_str()
            .expect("the notice is stored")
            .to_owned()
    };
    let (rehearsed, never) = (id_of("orders-0001-001"), id_of("billing-0001-001"));

    // Act
    let with = ok(&slack, &db, &["runbook", &rehearsed, "--offline"]);
    let without = ok(&slack, &db, &["runbook", &never, "--offline"]);

    // Assert: the team's number beside AWS's documented impact, and nothing where nothing
    // was measured.
    let impact = &with[with.find("## Impact").expect("an impact section")..];
    let impact = &impact[..impact[3..]
        .find("\n## ")
        .map_or(impact.len(), |end| end + 3)];
    assert_contains_all(
        impact,
        &[
            "Your team's last measured rehearsal of this cluster",
            "unavailable for 4 seconds at the longest",
            "Rehearsed with ElastiCache's TestFailover",
            "https://docs.aws.amazon.com/",
        ],
    );
    assert!(!without.contains("measured rehearsal"), "{without}");
}
