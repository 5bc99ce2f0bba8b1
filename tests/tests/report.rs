//! `cachewatch report`, the yearly maintenance log, read as a team reads it: a year of
//! maintenances ingested from DescribeEvents output into a temporary SQLite history, outcomes
//! recorded against them, then the log as Markdown, CSV and an SVG chart. Engines come from
//! ElastiCache (the stand-in in front of moto) when asked.

use aws_sdk_elasticache::Client;
use cachewatch_adapters::SqliteStore;
use cachewatch_core::history::response::{Outcome, ResponseStore};
use cachewatch_core::model::event::EventId;
use cachewatch_tests::elasticache::{ElastiCacheStandIn, plain_redis_group};
use cachewatch_tests::operator::Operator;
use cachewatch_tests::{assert_contains_all, fixture};
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

/// The year of maintenances, ingested into a team's history (no AWS configuration).
fn with_a_year() -> Operator {
    let team = Operator::new(Vec::new());
    let path = fixture("report_year_2025.json");
    team.ok(&["ingest", path.to_str().unwrap()]);
    team
}

/// The maintenance of the first stored event about `cluster` of `kind`.
fn maintenance_of(team: &Operator, cluster: &str, kind: &str) -> EventId {
    let listed = team
        .ok(&[
            "events",
            "--json",
            "--limit",
            "1000",
            "--cluster",
            cluster,
            "--kind",
            kind,
        ])
        .stdout;
    let events: Value = serde_json::from_str(&listed).unwrap();
    let id = events[0]["maintenance_id"]
        .as_str()
        .unwrap_or_else(|| panic!("a {kind} event of {cluster} in a maintenance: {events:#}"));
    EventId::parse(id).unwrap()
}

/// Records an outcome through the store, as `cachewatch outcome` or Slack's modal would.
async fn record(team: &Operator, outcome: Outcome) {
    let store = SqliteStore::open(&team.db).unwrap();
    store.record_outcome(&outcome).await.unwrap();
}

fn outcome(
    event_id: EventId,
    handled: &str,
    site_maintenance: bool,
    downtime: Option<Duration>,
    note: &str,
) -> Outcome {
    Outcome {
        event_id,
        handled: handled.to_owned(),
        site_maintenance,
        downtime,
        note: Some(note.to_owned()),
        by: "oncall".to_owned(),
        at: DateTime::parse_from_rfc3339("2025-12-31T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc),
    }
}

/// The team's log for 2025: the orders replacement handled by a manual failover, the first
/// Memcached replacement with a site maintenance.
async fn team_with_outcomes() -> Operator {
    let team = with_a_year();
    let orders = maintenance_of(&team, "orders-0001-001", "node_replacement_scheduled");
    let sessions = maintenance_of(&team, "sessions", "cache_node_replace_complete");
    record(
        &team,
        outcome(
            orders,
            "manual-failover",
            false,
            Some(Duration::seconds(125)),
            "batch jobs stopped | keys counted, 1,204 before and after",
        ),
    )
    .await;
    record(
        &team,
        outcome(
            sessions,
            "waited",
            true,
            Some(Duration::minutes(10)),
            "dumped and restored the \"catalog\" keys",
        ),
    )
    .await;
    team
}

#[tokio::test]
async fn the_markdown_log_has_a_row_per_maintenance_totals_and_months() {
    // Arrange
    let team = team_with_outcomes().await;

    // Act
    let md = team.ok(&["report", "--year", "2025"]).stdout;

    // Assert
    assert!(md.starts_with("# Maintenance log 2025\n"), "{md}");
    assert!(
        md.contains("6 maintenances in 2025 (dates in UTC)."),
        "{md}"
    );
    let rows: Vec<&str> = md
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| Date"))
        .filter(|l| l.split(" | ").count() == 8)
        .collect();
    let expected_starts = [
        "| Jan 6 | unknown | checkout-0002-001 node 0001 | planned replacement |",
        "| Jan 14 | unknown | orders-0001-001 node 0001 | planned replacement with failover | manual-failover | no | 2 minutes 5 seconds | batch jobs stopped \\| keys counted, 1,204 before and after |",
        "| Mar 10 | unknown | sessions node 0002 | planned replacement | waited | yes | 10 minutes | dumped and restored the \"catalog\" keys |",
        "| Mar 18 | unknown | sessions node 0002 | planned replacement |",
        "| Jul 21 | unknown | payments | failover |",
        "| Dec 31 | unknown | checkout-0003-001 node 0001 | planned replacement |",
    ];
    assert_eq!(rows.len(), expected_starts.len(), "{md}");
    for (row, start) in rows.iter().zip(expected_starts) {
        assert!(row.starts_with(start), "{row}\nshould start with\n{start}");
    }
    assert!(
        !md.contains("checkout-0001-001"),
        "its window is in 2026: {md}"
    );
    assert_contains_all(
        &md,
        &[
            "| unknown | 6 | 1 | 12 minutes 5 seconds (2 measured) |",
            "| 2 | 0 | 2 | 0 | 0 | 0 | 1 | 0 | 0 | 0 | 0 | 1 |",
        ],
    );
}

#[tokio::test]
async fn the_csv_log_reads_back_as_one_record_per_maintenance() {
    // Arrange
    let team = team_with_outcomes().await;

    // Act
    let csv = team
        .ok(&["report", "--year", "2025", "--format", "csv"])
        .stdout;

    // Assert
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        header,
        [
            "month",
            "date",
            "engine",
            "cluster",
            "node",
            "kind",
            "handled",
            "site_maintenance",
            "downtime_seconds",
            "note",
            "drill",
            "maintenance_id"
        ]
    );
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let months: Vec<&str> = records.iter().map(|r| &r[0]).collect();
    assert_eq!(
        months,
        [
            "2025-01", "2025-01", "2025-03", "2025-03", "2025-07", "2025-12"
        ]
    );
    let orders = &records[1];
    assert_eq!(&orders[3], "orders-0001-001");
    assert_eq!(&orders[6], "manual-failover");
    assert_eq!(&orders[7], "no");
    assert_eq!(&orders[8], "125");
    assert_eq!(
        &orders[9],
        "batch jobs stopped | keys counted, 1,204 before and after"
    );
    assert_eq!(&records[2][9], "dumped and restored the \"catalog\" keys");
    assert_eq!(&records[2][7], "yes");
    assert!(records.iter().all(|r| &r[10] == "false"));
}

#[tokio::test]
async fn the_svg_chart_counts_maintenances_per_month() {
    // Arrange
    let team = team_with_outcomes().await;

    // Act
    let svg = team
        .ok(&["report", "--year", "2025", "--format", "svg"])
        .stdout;

    // Assert
    assert!(
        svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
        "{svg}"
    );
    assert!(svg.trim_end().ends_with("</svg>"), "{svg}");
    assert_contains_all(
        &svg,
        &[
            "Maintenances per month, 2025 (6 in all)",
            "<title>Jan 2025: 2 unknown (checkout-0002-001, orders-0001-001)</title>",
            "<title>Mar 2025: 2 unknown (sessions, sessions)</title>",
            "<title>Jul 2025: 1 unknown (payments)</title>",
            "<title>Dec 2025: 1 unknown (checkout-0003-001)</title>",
        ],
    );
    assert!(!svg.contains("<title>Feb"), "{svg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engines_come_from_elasticache_when_asked() {
    // Arrange: orders (Redis OSS) and sessions (Memcached) still exist; the others were deleted.
    let stand_in = ElastiCacheStandIn::start();
    let client = Client::new(&stand_in.sdk_config().await);
    plain_redis_group(&client, "orders")
        .send()
        .await
        .expect("moto creates the replication group");
    client
        .create_cache_cluster()
        .cache_cluster_id("sessions")
        .engine("memcached")
        .cache_node_type("cache.t4g.small")
        .num_cache_nodes(2)
        .send()
        .await
        .expect("moto creates the cluster");
    let mut team = team_with_outcomes().await;
    team.aws = stand_in.env();

    // Act
    let md = team
        .ok(&["report", "--year", "2025", "--elasticache"])
        .stdout;

    // Assert
    assert_contains_all(
        &md,
        &[
            "| Jan 14 | redis | orders-0001-001 node 0001 |",
            "| Mar 10 | memcached | sessions node 0002 |",
            "| Jul 21 | unknown | payments |",
            "| redis | 1 | 0 | 2 minutes 5 seconds (1 measured) |",
            "| memcached | 2 | 1 | 10 minutes (1 measured) |",
            "| unknown | 3 | 0 | — |",
        ],
    );
    assert!(
        !stand_in.requests_for("DescribeCacheClusters").is_empty(),
        "the clusters were listed"
    );
}

#[test]
fn an_empty_year_and_a_bad_year_say_so() {
    let team = with_a_year();
    let empty = team.ok(&["report", "--year", "2019"]).stdout;
    assert_contains_all(
        &empty,
        &[
            "0 maintenances in 2019",
            "Nothing was recorded for this year.",
        ],
    );
    let this_year = team.ok(&["report"]).stdout;
    let year = Utc::now().format("%Y").to_string();
    assert!(
        this_year.starts_with(&format!("# Maintenance log {year}\n")),
        "{this_year}"
    );
    let bad = team.run(&["report", "--year", "20000"]);
    assert_eq!(bad.code, Some(2));
    assert!(
        bad.stderr.contains("--year 20000 is not a year"),
        "{}",
        bad.stderr
    );
}
