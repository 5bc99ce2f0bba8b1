use super::*;
use crate::fleet::{ClusterTopic, GroupMembers};
use crate::lifecycle::FailoverRecord;
use crate::model::event::Window;
use crate::model::ids::{ClusterId, NodeId, ReplicationGroupId};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn id(n: u32) -> EventId {
    EventId::parse(&format!("{n:020x}")).unwrap()
}

/// A completed replacement of `cluster` node 0001 that started at `started`.
fn replacement(n: u32, cluster: &str, started: &str) -> Maintenance {
    let started = at(started);
    Maintenance {
        id: id(n),
        group_key: ClusterId::parse(cluster)
            .unwrap()
            .group_guess()
            .unwrap_or(cluster)
            .to_owned(),
        kind: MaintenanceKind::Planned,
        state: MaintenanceState::Completed,
        cluster_id: Some(ClusterId::parse(cluster).unwrap()),
        node_id: Some(NodeId::parse("0001").unwrap()),
        replication_group_id: None,
        window: Some(Window {
            start: started,
            end: started + Duration::hours(1),
        }),
        previous_windows: Vec::new(),
        first_event_at: started - Duration::days(7),
        last_event_at: started + Duration::minutes(20),
        started_at: Some(started),
        completed_at: Some(started + Duration::minutes(20)),
        canceled_at: None,
        failovers: Vec::new(),
        notices: 1,
        repeat_of: None,
        event_ids: vec![id(n), id(n + 1000)],
        region: None,
        account_id: None,
        drill: false,
    }
}

fn outcome(
    event: EventId,
    handled: &str,
    site: bool,
    downtime: Option<i64>,
    note: Option<&str>,
) -> Outcome {
    Outcome {
        event_id: event,
        handled: handled.to_owned(),
        site_maintenance: site,
        downtime: downtime.map(Duration::seconds),
        note: note.map(str::to_owned),
        by: "U0ONCALL".to_owned(),
        at: at("2026-12-31T00:00:00Z"),
    }
}

fn engines(pairs: &[(&str, Engine)]) -> EngineDirectory {
    let mut directory = EngineDirectory::new();
    for (id, engine) in pairs {
        directory.insert(id, *engine);
    }
    directory
}

const NOW: &str = "2027-02-01T00:00:00Z";

fn report(
    maintenances: &[Maintenance],
    outcomes: &[Outcome],
    directory: &EngineDirectory,
) -> YearReport {
    build_report(
        2026,
        Zone::Utc,
        maintenances,
        outcomes,
        directory,
        false,
        at(NOW),
    )
}

/// A small XML reader: every tag closes in order, attributes are quoted, and text holds no bare
/// `<` or `&` that is not an entity.
fn assert_well_formed(xml: &str) {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = xml;
    while let Some(open) = rest.find('<') {
        let text = &rest[..open];
        assert_text(text);
        let close = rest[open..].find('>').expect("a tag ends") + open;
        let tag = &rest[open + 1..close];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name.trim()), "closing {name}");
        } else if let Some(body) = tag.strip_suffix('/') {
            assert_attributes(body);
        } else {
            assert_attributes(tag);
            stack.push(tag.split_whitespace().next().unwrap().to_owned());
        }
        rest = &rest[close + 1..];
    }
    assert_text(rest);
    assert!(stack.is_empty(), "unclosed: {stack:?}");
}

fn assert_text(text: &str) {
    assert!(!text.contains('>'), "a bare > in text: {text:?}");
    for (i, _) in text.match_indices('&') {
        let entity = &text[i..text[i..].find(';').map_or(text.len(), |e| i + e + 1)];
        assert!(
            ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"].contains(&entity),
            "a bare & in {text:?}"
        );
    }
}

fn assert_attributes(tag: &str) {
    let quotes = tag.matches('"').count();
    assert_eq!(quotes % 2, 0, "unbalanced quotes in <{tag}>");
    assert!(!tag.contains('<'), "a < inside <{tag}>");
    // Every `&` inside a tag is an entity.
    assert_text(&tag.replace('>', ""));
}

#[test]
fn a_row_per_maintenance_of_the_year_with_its_outcome_and_engine() {
    // Arrange
    let orders = replacement(1, "orders-0001-001", "2026-03-14T21:05:00Z");
    let sessions = replacement(2, "sessions", "2026-07-02T01:00:00Z");
    let last_year = replacement(3, "orders-0001-002", "2025-11-20T21:00:00Z");
    let outcomes = [outcome(
        id(1001),
        "manual-failover",
        false,
        Some(125),
        Some("about two minutes"),
    )];
    let directory = engines(&[("orders", Engine::Redis), ("sessions", Engine::Memcached)]);

    // Act
    let report = report(&[sessions, orders, last_year], &outcomes, &directory);

    // Assert
    let rows: Vec<(&str, Option<Engine>, Option<&str>)> = report
        .rows
        .iter()
        .map(|r| (r.cluster.as_str(), r.engine, r.handled.as_deref()))
        .collect();
    assert_eq!(
        rows,
        vec![
            (
                "orders-0001-001",
                Some(Engine::Redis),
                Some("manual-failover")
            ),
            ("sessions", Some(Engine::Memcached), None),
        ]
    );
    assert_eq!(report.rows[0].downtime, Some(Duration::seconds(125)));
    assert_eq!(report.rows[0].site_maintenance, Some(false));
    assert_eq!(report.rows[1].site_maintenance, None);
    assert_eq!(report.per_month()[2], 1);
    assert_eq!(report.per_month()[6], 1);
}

#[test]
fn a_maintenance_belongs_to_the_month_it_happened_in_the_teams_zone() {
    // Arrange: work on December 31st at 23:30 UTC is January 1st in Tokyo; the notice came in
    // December either way.
    let new_year = replacement(1, "checkout-0003-001", "2026-12-31T23:30:00Z");
    let january = replacement(2, "checkout-0001-001", "2026-01-04T23:00:00Z");
    let tokyo: Zone = "Asia/Tokyo".parse().unwrap();
    let none = EngineDirectory::new();

    // Act
    let utc_2026 = report(&[new_year.clone(), january.clone()], &[], &none);
    let tokyo_2026 = build_report(
        2026,
        tokyo,
        &[new_year.clone(), january.clone()],
        &[],
        &none,
        false,
        at(NOW),
    );
    let tokyo_2027 = build_report(
        2027,
        tokyo,
        &[new_year, january],
        &[],
        &none,
        false,
        at(NOW),
    );

    // Assert
    assert_eq!(utc_2026.per_month()[0], 1);
    assert_eq!(utc_2026.per_month()[11], 1);
    assert_eq!(tokyo_2026.rows.len(), 1);
    assert_eq!(tokyo_2026.rows[0].cluster, "checkout-0001-001");
    assert_eq!(
        tokyo_2026.rows[0].date,
        NaiveDate::from_ymd_opt(2026, 1, 5).unwrap()
    );
    assert_eq!(tokyo_2027.rows.len(), 1);
    assert_eq!(
        tokyo_2027.rows[0].date,
        NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()
    );
    assert_eq!(tokyo_2027.per_month()[0], 1);
    assert_eq!(year_start(2027, tokyo), Some(at("2026-12-31T15:00:00Z")));
    assert_eq!(year_of(at("2026-12-31T15:00:00Z"), tokyo), 2027);
}

#[test]
fn drills_and_canceled_maintenances_without_an_outcome_are_left_out() {
    // Arrange
    let mut drill = replacement(1, "orders-0001-001", "2026-05-01T10:00:00Z");
    drill.drill = true;
    drill.group_key = "drill:0123456789abcdef0123:orders".to_owned();
    drill.cluster_id = None;
    let mut canceled = replacement(2, "orders-0001-002", "2026-05-02T10:00:00Z");
    canceled.state = MaintenanceState::Canceled;
    let mut canceled_handled = replacement(3, "orders-0002-001", "2026-05-03T10:00:00Z");
    canceled_handled.state = MaintenanceState::Canceled;
    let outcomes = [outcome(id(3), "manual-failover", false, None, None)];
    let all = [drill, canceled, canceled_handled];
    let none = EngineDirectory::new();

    // Act
    let without = report(&all, &outcomes, &none);
    let with = build_report(2026, Zone::Utc, &all, &outcomes, &none, true, at(NOW));

    // Assert
    let kinds = |r: &YearReport| r.rows.iter().map(|r| r.kind.clone()).collect::<Vec<_>>();
    assert_eq!(kinds(&without), vec!["planned replacement (canceled)"]);
    assert_eq!(
        kinds(&with),
        vec![
            "drill: planned replacement",
            "planned replacement (canceled)"
        ]
    );
    assert_eq!(
        with.rows[0].cluster, "orders",
        "the drill's group, without its run"
    );
}

#[test]
fn failovers_scheduled_work_and_the_latest_outcome_are_told_apart() {
    let mut failover = replacement(1, "payments-0001-001", "2026-03-21T18:03:40Z");
    failover.kind = MaintenanceKind::Failover;
    failover.cluster_id = None;
    failover.node_id = None;
    failover.replication_group_id = Some(ReplicationGroupId::parse("payments").unwrap());
    failover.first_event_at = at("2026-03-21T18:03:40Z");
    let mut with_failover = replacement(2, "orders-0001-001", "2026-04-01T21:00:00Z");
    with_failover.failovers.push(FailoverRecord {
        event_id: id(2002),
        at: at("2026-04-01T21:02:00Z"),
        from: None,
        to: None,
    });
    with_failover.event_ids.push(id(2002));
    let mut ahead = replacement(3, "orders-0001-002", "2026-06-01T21:00:00Z");
    ahead.state = MaintenanceState::Scheduled;
    ahead.started_at = None;
    ahead.completed_at = None;
    let mut earlier = outcome(id(2), "waited", true, None, None);
    earlier.at = at("2026-04-02T00:00:00Z");
    let later = outcome(id(2002), "manual-failover", false, Some(60), None);
    let report = build_report(
        2026,
        Zone::Utc,
        &[failover, with_failover, ahead],
        &[later, earlier],
        &EngineDirectory::new(),
        false,
        at("2026-05-01T00:00:00Z"),
    );
    let kinds: Vec<&str> = report.rows.iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(
        kinds,
        vec![
            "failover",
            "planned replacement with failover",
            "planned replacement (scheduled)"
        ]
    );
    assert_eq!(report.rows[0].cluster, "payments");
    assert_eq!(report.rows[1].handled.as_deref(), Some("manual-failover"));
    assert_eq!(report.rows[1].site_maintenance, Some(false));
}

#[test]
fn markdown_escapes_pipes_and_markup_and_totals_each_engine() {
    // Arrange
    let orders = replacement(1, "orders-0001-001", "2026-03-14T21:05:00Z");
    let cache = replacement(2, "cache-0001-001", "2026-03-20T21:05:00Z");
    let sessions = replacement(3, "sessions", "2026-07-02T01:00:00Z");
    let outcomes = [
        outcome(
            id(1),
            "manual-failover",
            false,
            Some(120),
            Some("reads | writes *paused*\nthen back"),
        ),
        outcome(
            id(3),
            "waited",
            true,
            Some(600),
            Some("site maintenance <b>on</b>"),
        ),
    ];
    let directory = engines(&[
        ("orders", Engine::Redis),
        ("cache", Engine::Redis),
        ("sessions", Engine::Memcached),
    ]);

    // Act
    let md = render_markdown(&report(&[orders, cache, sessions], &outcomes, &directory));

    // Assert
    assert!(md.starts_with("# Maintenance log 2026\n"), "{md}");
    assert!(
        md.contains("| Mar 14 | redis | orders-0001-001 node 0001 | planned replacement | manual-failover | no | 2 minutes | reads \\| writes \\*paused\\* then back |"),
        "{md}"
    );
    assert!(
        md.contains("| Jul 2 | memcached | sessions node 0001 | planned replacement | waited | yes | 10 minutes | site maintenance \\<b\\>on\\</b\\> |"),
        "{md}"
    );
    // Every table row has the same number of unescaped cell separators.
    for line in md
        .lines()
        .filter(|l| l.starts_with("| ") && l.contains("node 0001"))
    {
        let bars = line.replace("\\|", "").matches('|').count();
        assert_eq!(bars, 9, "{line}");
    }
    assert!(
        md.contains("| redis | 2 | 0 | 2 minutes (1 measured) |"),
        "{md}"
    );
    assert!(
        md.contains("| memcached | 1 | 1 | 10 minutes (1 measured) |"),
        "{md}"
    );
    assert!(
        md.contains("| **All** | **3** | **1** | 12 minutes (2 measured) |"),
        "{md}"
    );
    assert!(
        md.contains("| 0 | 0 | 2 | 0 | 0 | 0 | 1 | 0 | 0 | 0 | 0 | 0 |"),
        "{md}"
    );
}

#[test]
fn csv_quotes_what_needs_it_and_guards_against_formulas() {
    let orders = replacement(1, "orders-0001-001", "2026-03-14T21:05:00Z");
    let outcomes = [outcome(
        id(1),
        "=HYPERLINK(\"http://x\")",
        false,
        Some(125),
        Some("first line, \"quoted\"\nsecond line"),
    )];
    let csv = render_csv(&report(&[orders], &outcomes, &EngineDirectory::new()));
    let mut lines = csv.split('\n');
    assert_eq!(
        lines.next(),
        Some(
            "month,date,engine,cluster,node,kind,handled,site_maintenance,downtime_seconds,note,drill,maintenance_id"
        )
    );
    assert_eq!(
        csv,
        format!(
            "month,date,engine,cluster,node,kind,handled,site_maintenance,downtime_seconds,note,drill,maintenance_id\n\
             2026-03,2026-03-14,unknown,orders-0001-001,0001,planned replacement,\"'=HYPERLINK(\"\"http://x\"\")\",no,125,\"first line, \"\"quoted\"\"\nsecond line\",false,{}\n",
            id(1)
        )
    );
}

#[test]
fn the_svg_chart_is_well_formed_escaped_and_counts_each_month() {
    // Arrange: a cluster name that is markup.
    let mut hostile = replacement(1, "orders-0001-001", "2026-03-14T21:05:00Z");
    hostile.cluster_id = Some(ClusterId::parse("<script>&x</script>").unwrap());
    let march = replacement(2, "cache-0001-001", "2026-03-20T21:05:00Z");
    let july = replacement(3, "sessions", "2026-07-02T01:00:00Z");
    let directory = engines(&[("cache", Engine::Redis), ("sessions", Engine::Memcached)]);

    // Act
    let svg = render_svg(&report(&[hostile, march, july], &[], &directory));

    // Assert
    assert_well_formed(&svg);
    assert!(!svg.contains("<script"), "{svg}");
    assert!(
        svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
        "{svg}"
    );
    assert!(
        svg.contains("Maintenances per month, 2026 (3 in all)"),
        "{svg}"
    );
    assert!(
        svg.contains("<title>Mar 2026: 1 redis (cache-0001-001)</title>"),
        "{svg}"
    );
    assert!(
        svg.contains("<title>Mar 2026: 1 unknown (&lt;script&gt;&amp;x&lt;/script&gt;)</title>"),
        "{svg}"
    );
    assert!(
        svg.contains("<title>Jul 2026: 1 memcached (sessions)</title>"),
        "{svg}"
    );
    for month in MONTHS {
        assert!(svg.contains(&format!(">{month}</text>")), "{month}");
    }
    assert_eq!(
        svg.matches("<rect").count(),
        1 + 3 + 3,
        "background, three segments, three legend keys"
    );
}

#[test]
fn an_empty_year_renders_in_every_format() {
    let report = report(&[], &[], &EngineDirectory::new());
    assert_eq!(report.per_month(), [0; 12]);
    assert!(report.totals().is_empty());
    let md = render_markdown(&report);
    assert!(md.contains("0 maintenances in 2026"), "{md}");
    assert!(md.contains("Nothing was recorded for this year."), "{md}");
    assert_eq!(render_csv(&report).lines().count(), 1);
    let svg = render_svg(&report);
    assert_well_formed(&svg);
    assert!(svg.contains("No maintenances recorded"), "{svg}");
    assert!(!svg.contains("<title>Jan"), "{svg}");
}

#[test]
fn engines_come_from_the_fleet_for_members_and_groups_alike() {
    let fleet = Fleet {
        clusters: vec![
            ClusterTopic {
                cluster_id: ClusterId::parse("sessions").unwrap(),
                replication_group_id: None,
                engine: Some(Engine::Memcached),
                topic_arn: None,
                topic_status: None,
            },
            ClusterTopic {
                cluster_id: ClusterId::parse("orders-0001-001").unwrap(),
                replication_group_id: Some(ReplicationGroupId::parse("orders").unwrap()),
                engine: Some(Engine::Valkey),
                topic_arn: None,
                topic_status: None,
            },
        ],
        replication_groups: vec![GroupMembers {
            replication_group_id: ReplicationGroupId::parse("payments").unwrap(),
            engine: Some(Engine::Redis),
            member_clusters: vec![ClusterId::parse("payments-0001-002").unwrap()],
        }],
    };
    let directory = EngineDirectory::from_fleet(&fleet);
    let member_of_orders = replacement(1, "orders-0001-002", "2026-03-14T21:05:00Z");
    let payments = replacement(2, "payments-0001-002", "2026-03-14T21:05:00Z");
    let unknown = replacement(3, "ghost", "2026-03-14T21:05:00Z");
    assert_eq!(
        directory.engine_of(&member_of_orders),
        Some(Engine::Valkey),
        "by the group its name points at"
    );
    assert_eq!(directory.engine_of(&payments), Some(Engine::Redis));
    assert_eq!(directory.engine_of(&unknown), None);
    assert_eq!(ReportFormat::parse("SVG"), Some(ReportFormat::Svg));
    assert_eq!(ReportFormat::parse("pdf"), None);
}
