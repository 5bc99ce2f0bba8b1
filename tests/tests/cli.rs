//! The `cachewatch` binary end to end on a temporary database: what a person running it sees.

use std::path::Path;
use std::process::Command;

use cachewatch_tests::{
    TempCli, assert_contains_all, fixture, output_with_input, sorted_ids, workspace_bin,
};
use chrono::{Duration, Utc};
use serde_json::Value;

/// A temporary database and the binary pointed at it, with what these tests read back.
struct Cli(TempCli);

impl std::ops::Deref for Cli {
    type Target = TempCli;

    fn deref(&self) -> &TempCli {
        &self.0
    }
}

impl Cli {
    fn new() -> Self {
        Self(TempCli::new())
    }

    fn ingest_text(&self, text: &str) -> String {
        let out = output_with_input(&mut self.command(&["ingest", "-"]), Some(text));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// The id of the stored notice that catalog-mc's node is to be replaced.
    fn catalog_replacement_id(&self) -> String {
        let scheduled = self.json(&[
            "events",
            "--cluster",
            "catalog-mc",
            "--kind",
            "node_replacement_scheduled",
            "--json",
        ]);
        scheduled[0]["id"].as_str().unwrap().to_owned()
    }

    /// Every stored event's id, for before/after comparisons.
    fn stored_ids(&self) -> Vec<String> {
        sorted_ids(&self.json(&["events", "--json", "--limit", "10000", "--drills"]))
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn kinds_of(events: &Value) -> Vec<&str> {
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect()
}

#[test]
fn ingest_summarises_and_a_second_ingest_adds_nothing() {
    let cli = Cli::new();
    let history = fixture("cli/history.json");
    assert_eq!(
        cli.ok(&["ingest", path(&history)]).trim(),
        "7 events, 7 new"
    );
    let before = cli.stored_ids();
    assert_eq!(
        cli.ok(&["ingest", path(&history)]).trim(),
        "7 events, 0 new"
    );
    assert_eq!(cli.stored_ids(), before);
    assert_eq!(before.len(), 7);
}

#[test]
fn ingest_json_prints_each_normalized_event_with_new() {
    let cli = Cli::new();
    let history = fixture("cli/history.json");
    let first = cli.json(&["ingest", path(&history), "--json"]);
    let events = first.as_array().unwrap();
    assert_eq!(events.len(), 7);
    let scheduled = &events[0];
    assert_eq!(scheduled["new"], true);
    assert_eq!(scheduled["kind"], "node_replacement_scheduled");
    assert_eq!(scheduled["category"], "node_replacement");
    assert_eq!(scheduled["actionable"], true);
    assert_eq!(scheduled["cluster_id"], "payments-0001-001");
    assert_eq!(scheduled["node_id"], "0001");
    assert_eq!(scheduled["occurred_at"], "2026-03-02T08:41:17.512Z");
    assert_eq!(scheduled["window"]["start"], "2026-03-14T18:00:00Z");
    assert_eq!(scheduled["event_name"], Value::Null);
    let again = cli.json(&["ingest", path(&history), "--json"]);
    assert!(again.as_array().unwrap().iter().all(|e| e["new"] == false));
    assert_eq!(again[0]["id"], scheduled["id"]);
}

#[test]
fn a_malformed_file_exits_2_names_the_line_and_stores_nothing() {
    let cli = Cli::new();
    cli.ok(&["ingest", path(&fixture("cli/history.json"))]);
    let before = cli.stored_ids();
    let out = cli.run(&["ingest", path(&fixture("cli/broken-third-line.jsonl"))]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_contains_all(&stderr, &["line 3", "nothing was stored"]);
    assert_eq!(
        cli.stored_ids(),
        before,
        "the two good lines before it were not stored either"
    );
}

#[test]
fn a_date_that_could_not_be_read_back_exits_2_and_stores_nothing() {
    let cli = Cli::new();
    cli.ok(&["ingest", path(&fixture("cli/history.json"))]);
    let before = cli.stored_ids();
    // The second line's window, year-less, falls in January 10000.
    let input = concat!(
        r#"{"SourceIdentifier":"fig-001","SourceType":"cache-cluster","Date":"2026-06-10T00:00:00Z","Message":"Cache node 0001 restarted"}"#,
        "\n",
        r#"{"SourceIdentifier":"fig-001","SourceType":"cache-cluster","Date":"9999-12-30T08:00:00Z","Message":"The node with Cache Cluster ID: fig-001, Node ID: 0001 is scheduled for replacement during the maintenance window from Start Time: Jan 03 01:00 UTC, End Time: Jan 03 02:00 UTC"}"#,
        "\n"
    );
    let out = output_with_input(&mut cli.command(&["ingest", "-"]), Some(input));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_contains_all(&stderr, &["line 2", "window start", "nothing was stored"]);
    assert_eq!(cli.stored_ids(), before);
    cli.ok(&["upcoming"]);
}

#[test]
fn a_pasted_email_stores_its_nodes_and_counts_the_prose() {
    let cli = Cli::new();
    let out = cli.run(&["ingest", path(&fixture("maintenance_email_whole.txt"))]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("3 events, 3 new"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(stderr.contains("7 lines skipped: not events"), "{stderr}");
    let listed = cli.ok(&["events", "--cluster", "rowan"]);
    assert!(
        listed.contains("from 2026-10-03 14:00 UTC (end not given)"),
        "{listed}"
    );
}

#[test]
fn unreadable_input_and_bad_filters_exit_2() {
    let cli = Cli::new();
    let out = cli.run(&["ingest", "/nonexistent/events.json"]);
    assert_eq!(out.status.code(), Some(2));
    for args in [
        &["events", "--since", "last tuesday"][..],
        &["events", "--category", "snapshots"],
        &["events", "--limit", "0"],
        &["show", "not-an-id"],
        &["show", "ffffffff"],
        &["--tz", "Mars/Olympus", "events"],
    ] {
        let out = cli.run(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn search_filters_narrow_the_history() {
    let cli = Cli::new();
    cli.ok(&["ingest", path(&fixture("cli/history.json"))]);
    let all = cli.json(&["events", "--json"]);
    assert_eq!(all.as_array().unwrap().len(), 7);
    assert_eq!(all[0]["kind"], "node_replacement_scheduled", "newest first");
    assert_eq!(all[0]["cluster_id"], "catalog-mc");

    // A replication group's name finds its member clusters' events and its own.
    let group = cli.json(&["events", "--cluster", "payments", "--json"]);
    assert_eq!(group.as_array().unwrap().len(), 5);
    let member = cli.json(&["events", "--cluster", "payments-0001-001", "--json"]);
    assert_eq!(member.as_array().unwrap().len(), 3);

    let failovers = cli.json(&["events", "--category", "failover", "--json"]);
    assert_eq!(kinds_of(&failovers), ["failover_complete"]);
    let reboots = cli.json(&["events", "--kind", "cache_nodes_rebooted", "--json"]);
    assert_eq!(reboots[0]["node_id"], "0003");
    let node = cli.json(&["events", "--node", "0003", "--json"]);
    assert_eq!(node.as_array().unwrap().len(), 2);

    let march = cli.json(&[
        "events",
        "--since",
        "2026-03-10",
        "--until",
        "2026-03-22",
        "--json",
    ]);
    assert_eq!(
        kinds_of(&march),
        ["cache_node_replace_complete", "failover_complete"]
    );
    let text = cli.json(&["events", "--text", "snapshot payments-daily", "--json"]);
    assert_eq!(kinds_of(&text), ["snapshot_complete"]);
    let limited = cli.json(&["events", "--limit", "2", "--json"]);
    assert_eq!(limited.as_array().unwrap().len(), 2);
    let none = cli.ok(&["events", "--cluster", "nothing-here"]);
    assert_eq!(none.trim(), "No events match.");
}

#[test]
fn csv_and_table_listings_carry_the_same_events() {
    let cli = Cli::new();
    cli.ok(&["ingest", path(&fixture("cli/history.json"))]);
    let csv = cli.ok(&["events", "--csv", "--cluster", "catalog-mc"]);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("id,event_name,kind,category,actionable,"));
    assert_eq!(lines.len(), 3);
    assert!(lines[1].contains("2026-04-20T01:00:00Z"), "{csv}");
    let table = cli.ok(&["events", "--cluster", "catalog-mc"]);
    assert!(table.starts_with("ID"), "{table}");
    assert!(table.contains("node_replacement_scheduled"));
    assert!(table.contains("2026-04-20 01:00–02:00 UTC"));
    let tokyo = cli.ok(&["--tz", "Asia/Tokyo", "events", "--cluster", "catalog-mc"]);
    assert!(tokyo.contains("2026-04-20 10:00–11:00 JST"), "{tokyo}");
}

#[test]
fn show_follows_an_event_to_its_maintenance() {
    let cli = Cli::new();
    cli.ok(&["ingest", path(&fixture("cli/history.json"))]);
    let failover = cli.json(&["events", "--category", "failover", "--json"]);
    let id = failover[0]["id"].as_str().unwrap();
    let shown = cli.json(&["show", &id[..8], "--json"]);
    assert_eq!(shown["event"]["id"], id);
    let maintenance = &shown["maintenance"];
    assert_eq!(maintenance["state"], "completed");
    assert_eq!(maintenance["cluster_id"], "payments-0001-001");
    assert_eq!(maintenance["window"]["start"], "2026-03-21T18:00:00Z");
    assert_eq!(
        maintenance["previous_windows"][0]["start"],
        "2026-03-14T18:00:00Z"
    );
    assert_eq!(maintenance["failovers"][0]["to"], "payments-0001-002");
    assert_eq!(shown["events"].as_array().unwrap().len(), 4);
    let text = cli.ok(&["show", id]);
    assert_contains_all(
        &text,
        &["planned node replacement, completed", "moved from"],
    );
}

#[test]
fn upcoming_lists_what_is_ahead_soonest_first() {
    let cli = Cli::new();
    let now = Utc::now();
    let record = |cluster: &str, node: &str, days: i64| {
        let start = now + Duration::days(days);
        let text = |t: chrono::DateTime<Utc>| t.format("%b %d %H:%M UTC").to_string();
        format!(
            r#"{{"SourceIdentifier":"{cluster}","SourceType":"cache-cluster","Date":"{}","Message":"The node with Cache Cluster ID: {cluster}, Node ID: {node} is scheduled for replacement during the maintenance window from Start Time: {}, End Time: {}"}}"#,
            (now - Duration::hours(1)).to_rfc3339(),
            text(start),
            text(start + Duration::hours(1)),
        )
    };
    let input = [
        record("later-0001-001", "0001", 9),
        record("sooner-001", "0001", 2),
        record("past-001", "0001", -3),
    ]
    .join("\n");
    let ingested = cli.ingest_text(&input);
    assert_eq!(
        ingested.lines().next(),
        Some("3 events, 3 new"),
        "{ingested}"
    );
    let upcoming = cli.json(&["upcoming", "--json"]);
    let subjects: Vec<&str> = upcoming
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["cluster_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        subjects,
        ["sooner-001", "later-0001-001"],
        "the past window is not ahead"
    );
    let table = cli.ok(&["upcoming"]);
    assert!(
        table.contains("in 1 day") || table.contains("in 2 days"),
        "{table}"
    );
}

/// A Lambda SNS event of one replacement notice of `cluster` from the topic of `account` in
/// `region`, on one line.
fn notice_from(cluster: &str, account: &str, region: &str) -> String {
    let message =
        serde_json::json!({ "ElastiCache:NodeReplacementScheduled": cluster }).to_string();
    serde_json::json!({"Records": [{"EventSource": "aws:sns", "Sns": {
        "TopicArn": format!("arn:aws:sns:{region}:{account}:cachewatch-events"),
        "Timestamp": (Utc::now() - Duration::hours(1)).to_rfc3339(),
        "Message": message,
    }}]})
    .to_string()
}

#[test]
fn events_and_upcoming_filter_by_account_and_region_and_alerts_name_the_account() {
    let cli = Cli::new();
    let config = cli.dir.path().join("cachewatch.toml");
    std::fs::write(
        &config,
        "[accounts]\n\"111122223333\" = \"payments-prod\"\n",
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let input = [
        notice_from("pay-eu-0001-001", "111122223333", "eu-west-1"),
        notice_from("pay-us-0001-001", "111122223333", "us-east-1"),
        notice_from("sandbox-0001-001", "444455556666", "eu-west-1"),
    ]
    .join("\n");
    let out = output_with_input(
        &mut cli.command(&["--config", config, "ingest", "-"]),
        Some(&input),
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_contains_all(
        &said,
        &[
            "account payments-prod (111122223333)",
            "account 444455556666",
        ],
    );

    let clusters = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["--config", config];
        all.extend_from_slice(args);
        let found = cli.json(&all);
        let mut names: Vec<String> = found
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["cluster_id"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        clusters(&["events", "--json", "--account", "111122223333"]),
        ["pay-eu-0001-001", "pay-us-0001-001"]
    );
    assert_eq!(
        clusters(&[
            "events",
            "--json",
            "--account",
            "payments-prod",
            "--region",
            "eu-west-1"
        ]),
        ["pay-eu-0001-001"]
    );
    assert_eq!(
        clusters(&["events", "--json", "--region", "eu-west-1"]),
        ["pay-eu-0001-001", "sandbox-0001-001"]
    );
    assert_eq!(
        clusters(&["upcoming", "--json", "--account", "payments-prod"]),
        ["pay-eu-0001-001", "pay-us-0001-001"]
    );
    assert_eq!(
        clusters(&["upcoming", "--json", "--region", "us-east-1"]),
        ["pay-us-0001-001"]
    );
    let csv = cli.ok(&["events", "--csv", "--account", "444455556666"]);
    assert!(
        csv.contains("sandbox-0001-001") && !csv.contains("pay-eu"),
        "{csv}"
    );
    for args in [
        &["events", "--account", "nobody"][..],
        &["events", "--region", "Europe"],
        &["upcoming", "--account", "nobody"],
        &["upcoming", "--region", "eu_west_1"],
    ] {
        let out = cli.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("{}:", args[1])), "{args:?}: {err}");
    }
}

#[test]
fn the_demo_shows_the_product_working_without_any_setup() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(workspace_bin("cachewatch"))
        .arg("demo")
        .env("HOME", dir.path())
        .env_remove("CACHEWATCH_DB")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    // The replay: alerts as they would be posted, a thread per maintenance.
    assert_contains_all(
        &text,
        &[
            "── Slack #cache-alerts, new message ──",
            "── Slack #cache-alerts, reply in the thread ──",
            "the thread's first message is updated",
            "Repeat notice",
        ],
    );
    assert!(
        text.contains("nothing to post: stored for the history"),
        "the snapshot does not alert: {text}"
    );
    // Delivered again, stored once; the history, the maintenance, what is ahead, the checklist.
    assert_contains_all(
        &text,
        &[
            "# the rescheduling, delivered again",
            "1 event, 0 new",
            "planned node replacement, completed",
            "repeat notice for this node",
            "- [ ] ",
            "failover      to shop-redis-002",
        ],
    );
}

#[test]
fn runbook_renders_a_team_checklist_for_a_stored_maintenance() {
    let cli = Cli::new();
    cli.ok(&["ingest", path(&fixture("cli/history.json"))]);
    let id = &cli.catalog_replacement_id();
    let github = cli.ok(&["runbook", id, "--format", "github"]);
    assert_contains_all(
        &github,
        &[
            "**Application team:**",
            "**Infrastructure team:**",
            "- [ ] ",
            "comes back empty",
            "catalog-mc",
        ],
    );
    let markdown = cli.ok(&["runbook", &id[..8]]);
    assert!(markdown.starts_with("# "), "{markdown}");
    let html = cli.ok(&["runbook", id, "--format", "html"]);
    assert!(html.contains("type=\"checkbox\""), "{html}");
    let out = cli.run(&["runbook", id, "--format", "pdf"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_runbook_directory_replaces_the_built_in_template_of_the_same_name() {
    let cli = Cli::new();
    cli.ok(&["ingest", path(&fixture("cli/history.json"))]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("memcached-node-replacement.md"),
        "---\ncategories: node_replacement\nengines: memcached, unknown\npriority: 99\n---\n# Our Memcached plan for {{ subject }}\n\n## Steps\n\n- [infra] Page the platform team.\n",
    )
    .unwrap();
    let id = &cli.catalog_replacement_id();
    let dir_arg = dir.path().to_str().unwrap();
    let text = cli.ok(&["--runbook-dir", dir_arg, "runbook", id, "--format", "text"]);
    assert_contains_all(
        &text,
        &[
            "Our Memcached plan for catalog-mc",
            "Page the platform team",
        ],
    );
    std::fs::write(
        dir.path().join("generic.md"),
        "---\npriority: soon\n---\n# x\n",
    )
    .unwrap();
    let out = cli.run(&["--runbook-dir", dir_arg, "runbook", id]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("generic.md"));
}

/// `n` DescribeEvents records of 40 clusters, a minute apart, as `jq -c '.Events[]'` writes them:
/// restarts, and every tenth a replacement (about 200 bytes a line, so a few thousand make an
/// input large enough to be imported in runs with its indexes built at the end).
fn records(n: usize) -> Vec<String> {
    let start = chrono::DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z").unwrap();
    (0..n)
        .map(|i| {
            let cluster = format!("pear-{:04}-001", i % 40);
            let date = (start + Duration::minutes(i as i64)).format("%Y-%m-%dT%H:%M:%SZ");
            let message = if i % 10 == 0 {
                format!(
                    "The node with Cache Cluster ID: {cluster}, Node ID: 0001 is scheduled for replacement during the maintenance window from Start Time: Feb 01 19:00 UTC, End Time: Feb 01 20:00 UTC"
                )
            } else {
                "Cache node 0001 restarted".to_owned()
            };
            format!(
                r#"{{"SourceIdentifier":"{cluster}","SourceType":"cache-cluster","Date":"{date}","Message":"{message}"}}"#
            )
        })
        .collect()
}

#[test]
fn a_large_json_lines_history_imports_whole_or_not_at_all_in_either_shape() {
    const N: usize = 10_000;
    let cli = Cli::new();
    let dir = tempfile::tempdir().unwrap();
    let lines = records(N);
    let one_per_line = dir.path().join("records.jsonl");
    std::fs::write(&one_per_line, lines.join("\n") + "\n").unwrap();
    let in_pages = dir.path().join("pages.jsonl");
    let pages: Vec<String> = lines
        .chunks(100)
        .map(|page| format!(r#"{{"Events":[{}]}}"#, page.join(",")))
        .collect();
    std::fs::write(&in_pages, pages.join("\n") + "\n").unwrap();
    let mut broken = lines.clone();
    broken.insert(
        N - 5,
        r#"{"SourceIdentifier":"pear-0001-001","Date":"2025-"#.to_owned(),
    );
    let broken_file = dir.path().join("broken.jsonl");
    std::fs::write(&broken_file, broken.join("\n") + "\n").unwrap();

    let out = cli.run(&["ingest", path(&broken_file)]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("line {}", N - 4)), "{stderr}");
    assert!(stderr.contains("nothing was stored"), "{stderr}");
    assert!(cli.stored_ids().is_empty());

    assert_eq!(
        cli.ok(&["ingest", path(&in_pages)]).trim(),
        format!("{N} events, {N} new")
    );
    assert_eq!(
        cli.ok(&["ingest", path(&one_per_line)]).trim(),
        format!("{N} events, 0 new"),
        "the same records in the other shape"
    );
    let found = |args: &[&str]| -> usize {
        let mut all = vec!["events", "--json", "--limit", "10000"];
        all.extend_from_slice(args);
        cli.json(&all).as_array().unwrap().len()
    };
    assert_eq!(found(&["--text", "replacement"]), N / 10);
    assert_eq!(found(&["--text", "restarted"]), N - N / 10);
    assert_eq!(found(&["--cluster", "pear-0003-001"]), N / 40);
    assert_eq!(
        found(&["--cluster", "pear-0000-001", "--text", "replacement"]),
        N / 40
    );
}

#[test]
fn an_aws_health_event_is_ingested_once_and_a_malformed_one_exits_2_storing_nothing() {
    let cli = Cli::new();
    let due = fixture("health/service_update_due.json");
    assert_eq!(cli.ok(&["ingest", path(&due)]).trim(), "2 events, 2 new");
    let before = cli.stored_ids();
    assert_eq!(cli.ok(&["ingest", path(&due)]).trim(), "2 events, 0 new");
    assert_eq!(cli.stored_ids(), before);

    let out = cli.run(&[
        "ingest",
        path(&fixture("health/malformed_no_event_arn.json")),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("`eventArn` is missing"), "{stderr}");
    assert_eq!(cli.stored_ids(), before);

    let shown = cli.json(&["events", "--json", "--category", "aws_health"]);
    let kinds: Vec<&str> = kinds_of(&shown);
    assert_eq!(
        kinds,
        [
            "aws_elasticache_before_update_due_notification",
            "aws_elasticache_before_update_due_notification"
        ]
    );
}
