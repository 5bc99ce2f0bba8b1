//! The history page and the runbook page in headless Chromium, served from a local axum server
//! over a SQLite store that holds a realistic, ingested history: the pages load with no console
//! error, filters narrow the results and stay in the form, ticking a step records it, the
//! timeline has one row per cluster, hostile names run nothing, and the harness itself sees
//! errors when there are some. Screenshots of both pages are taken; with
//! `CACHEWATCH_UPDATE_SCREENSHOTS=1` they replace those of `docs/screenshots/`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cachewatch_adapters::SqliteStore;
use cachewatch_core::cluster::facts::{ClusterFacts, Engine, NodeRole};
use cachewatch_core::history::query::{EventQuery, MAX_LIMIT, parse_when};
use cachewatch_core::history::response::{
    Acknowledgement, ResponseStore, StepDone, first_acknowledgement,
};
use cachewatch_core::history::store::EventStore;
use cachewatch_core::intake::parse::{ParseContext, parse_document};
use cachewatch_core::lifecycle;
use cachewatch_core::model::event::EventId;
use cachewatch_core::model::kind::Category;
use cachewatch_core::model::timefmt::Zone;
use cachewatch_core::runbook::{Owners, RunbookInput, Runbooks};
use cachewatch_core::{AlertPolicy, EventKind, MaintenanceEvent, ingest};
use cachewatch_http::pages::{self, HistoryPage, RunbookPage};
use cachewatch_tests::browser::{Browser, Page, png_size};
use cachewatch_tests::workspace_root;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use tempfile::TempDir;

/// The moment the pages are shown at: the history below is dated around it.
fn now() -> DateTime<Utc> {
    at("2026-11-20T12:00:00Z")
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn text_time(t: DateTime<Utc>) -> String {
    t.format("%b %d %H:%M UTC").to_string()
}

fn record(t: &str, source: &str, source_type: &str, message: &str) -> Value {
    json!({"SourceIdentifier": source, "SourceType": source_type, "Date": at(t).to_rfc3339(), "Message": message})
}

fn scheduled(t: &str, cluster: &str, node: &str, window: &str) -> Value {
    let start = at(window);
    record(
        t,
        cluster,
        "cache-cluster",
        &format!(
            "The node with Cache Cluster ID: {cluster}, Node ID: {node} is scheduled for replacement during the maintenance window from Start Time: {}, End Time: {}",
            text_time(start),
            text_time(start + Duration::hours(1))
        ),
    )
}

fn sns(t: &str, id: &str, body: Value) -> String {
    json!({
        "Type": "Notification", "MessageId": id,
        "TopicArn": "arn:aws:sns:eu-west-1:111122223333:cachewatch-events",
        "Timestamp": at(t).to_rfc3339(), "Message": body.to_string()
    })
    .to_string()
}

/// The team's history, as it arrived: `describe-events` output read by the poller, SNS
/// notifications, rows copied from the console and a maintenance e-mail. Each is `(when it
/// arrived, the document)`.
fn history() -> Vec<(DateTime<Utc>, String)> {
    let orders_moved = format!(
        "The replacement in maintenance window for node with Cache Cluster ID: orders-0001-001, Node ID: 0001 has re-scheduled from Previous Start Time: {}, Previous End Time: {} to New Start Time: {}, New End Time: {}",
        text_time(at("2026-11-12T19:00:00Z")),
        text_time(at("2026-11-12T20:00:00Z")),
        text_time(at("2026-11-15T19:00:00Z")),
        text_time(at("2026-11-15T20:00:00Z")),
    );
    let billing_canceled = "The replacement for Cache Cluster ID: billing-0002-001, Node ID: 0001 scheduled during the maintenance window from Start Time: Nov 09 21:00 UTC, End Time: Nov 09 22:00 UTC has been canceled";
    let poller = json!({"Events": [
        scheduled("2026-10-22T08:30:00Z", "cart-0001-002", "0001", "2026-10-28T02:00:00Z"),
        record("2026-10-28T02:03:00Z", "cart-0001-002", "cache-cluster", "Recovering cache nodes 0001"),
        record("2026-10-28T02:14:00Z", "cart-0001-002", "cache-cluster", "Finished recovery for cache nodes 0001"),
        scheduled("2026-10-30T16:00:00Z", "billing-0002-001", "0001", "2026-11-09T21:00:00Z"),
        record("2026-11-06T09:12:00Z", "billing-0002-001", "cache-cluster", billing_canceled),
        scheduled("2026-11-05T10:00:00Z", "orders-0001-001", "0001", "2026-11-12T19:00:00Z"),
        record("2026-11-08T10:00:00Z", "orders-0001-001", "cache-cluster", &orders_moved),
        record("2026-11-15T19:02:00Z", "orders-0001-001", "cache-cluster", "Recovering cache nodes 0001"),
        record("2026-11-15T19:04:00Z", "orders", "replication-group", "Failover from master node orders-0001-001 to replica node orders-0001-002 completed"),
        record("2026-11-15T19:11:00Z", "orders-0001-001", "cache-cluster", "Finished recovery for cache nodes 0001"),
        record("2026-11-17T10:00:12Z", "ledger", "replication-group", "Test Failover API called for node group 0001"),
        record("2026-11-17T10:00:58Z", "ledger", "replication-group", "Failover from master node ledger-0001-001 to replica node ledger-0001-002 completed"),
        record("2026-11-18T01:10:09Z", "analytics-0001-001", "cache-cluster", "Snapshot succeeded for snapshot with ID 'automatic.analytics-0001-001-2026-11-18-01-00' of cache cluster with ID 'analytics-0001-001'"),
        record("2026-11-19T01:10:44Z", "analytics-0001-001", "cache-cluster", "Snapshot failed for snapshot with ID 'automatic.analytics-0001-001-2026-11-19-01-00' of cache cluster with ID 'analytics-0001-001'"),
        scheduled("2026-11-18T09:00:00Z", "payments-0001-001", "0001", "2026-11-24T19:00:00Z"),
    ]})
    .to_string();
    let console = "Source | Type | Date | Message\n\
        sessions-mc | cache-cluster | November 3, 2026, 17:00:00 (UTC+09:00) | The node with Cache Cluster ID: sessions-mc, Node ID: 0002 is scheduled for replacement during the maintenance window from Start Time: Nov 10 03:00 UTC, End Time: Nov 10 04:00 UTC\n\
        sessions-mc | cache-cluster | November 10, 2026, 12:20:00 (UTC+09:00) | Finished recovery for cache nodes 0002\n\
        sessions-mc | cache-cluster | November 11, 2026, 18:00:00 (UTC+09:00) | The node with Cache Cluster ID: sessions-mc, Node ID: 0002 is scheduled for replacement during the maintenance window from Start Time: Nov 24 03:00 UTC, End Time: Nov 24 04:00 UTC\n"
        .to_owned();
    let email = "Region: eu-west-1, Cluster Name: search-valkey, Node Name: search-valkey-0001-001, Replacement Time: 06:00 UTC, Nov 27, 2026\n".to_owned();
    vec![
        (
            at("2026-11-05T10:00:01Z"),
            sns(
                "2026-11-05T10:00:01Z",
                "6a0f3c1e-0001",
                json!({"ElastiCache:NodeReplacementScheduled": "orders-0001-001"}),
            ),
        ),
        (at("2026-11-19T12:00:00Z"), poller),
        (at("2026-11-19T12:05:00Z"), console),
        (at("2026-11-19T12:10:00Z"), email),
    ]
}

/// Cluster names chosen to break out of HTML: as a text, in an attribute, in a link.
fn hostile_history() -> Vec<(DateTime<Utc>, String)> {
    let poller = json!({"Events": [
        scheduled("2026-11-18T09:00:00Z", "<script>alert(1)</script>", "0001", "2026-11-26T19:00:00Z"),
        record("2026-11-19T09:00:00Z", "\"><img src=x onerror=alert(2)>", "replication-group", "Failover to replica node x-0001-002 completed"),
        scheduled("2026-11-19T10:00:00Z", "javascript:alert(3)//", "0001", "2026-11-27T19:00:00Z"),
    ]})
    .to_string();
    vec![(at("2026-11-19T12:00:00Z"), poller)]
}

/// What the runbooks know of each cluster (what enrichment would read from ElastiCache).
fn facts_for(event: &MaintenanceEvent) -> ClusterFacts {
    let group = event.cluster_group().to_owned();
    if group == "sessions-mc" {
        return ClusterFacts {
            engine: Some(Engine::Memcached),
            engine_version: Some("1.6.22".into()),
            port: Some(11211),
            ..ClusterFacts::default()
        };
    }
    if !["orders", "payments", "cart", "billing", "ledger"].contains(&group.as_str()) {
        return ClusterFacts::default();
    }
    ClusterFacts {
        engine: Some(Engine::Redis),
        engine_version: Some("7.1.0".into()),
        replication_group_id: Some(group.clone()),
        cluster_mode_enabled: Some(false),
        node_role: Some(NodeRole::Primary),
        multi_az: Some(true),
        automatic_failover: Some(true),
        replicas_per_shard: Some(1),
        node_group_id: Some("0001".into()),
        replica_cluster_ids: Some(vec![format!("{group}-0001-002")]),
        primary_endpoint: Some(format!("master.{group}.x7q2ab.euw1.cache.amazonaws.com")),
        reader_endpoint: Some(format!("replica.{group}.x7q2ab.euw1.cache.amazonaws.com")),
        port: Some(6379),
        tls_in_transit: Some(true),
        snapshot_retention_days: Some(7),
        latest_snapshot_at: Some(now() - Duration::hours(20)),
        production: Some(true),
        ..ClusterFacts::default()
    }
}

/// What the test server shares with its routes.
struct Site {
    store: SqliteStore,
    runbooks: Runbooks,
    /// Every step posted by a page: (the page's event id, the form body).
    posted: Mutex<Vec<(String, BTreeMap<String, String>)>>,
}

/// A page, with the headers the pages ask for.
fn html(body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                pages::content_security_policy(),
            ),
        ],
        body,
    )
        .into_response()
}

fn failed(status: StatusCode, what: impl std::fmt::Display) -> Response {
    (status, what.to_string()).into_response()
}

/// The filters of a history request as a query, or why they do not read.
fn read_filters(filters: &BTreeMap<String, String>) -> Result<EventQuery, String> {
    let given = |name: &str| {
        filters
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    };
    let mut problems = Vec::new();
    let mut query = EventQuery {
        cluster: given("cluster").map(str::to_owned),
        node: given("node").map(str::to_owned),
        kind: given("kind").and_then(EventKind::from_event_name),
        text: given("text").map(str::to_owned),
        ..EventQuery::default()
    };
    if let Some(raw) = given("category") {
        match Category::parse(raw) {
            Some(category) => query.category = Some(category),
            None => problems.push(format!(
                "{raw:?} is not a category: node_replacement, failover or other"
            )),
        }
    }
    for (name, slot) in [("since", &mut query.since), ("until", &mut query.until)] {
        if let Some(raw) = given(name) {
            match parse_when(raw, now()) {
                Ok(t) => *slot = Some(t),
                Err(e) => problems.push(format!("{name}: {e}")),
            }
        }
    }
    if let Some(raw) = given("limit") {
        match raw.parse::<usize>() {
            Ok(n) if n > 0 => query.limit = n.min(MAX_LIMIT),
            _ => problems.push(format!("limit: {raw:?} is not a number of events")),
        }
    }
    if problems.is_empty() {
        Ok(query)
    } else {
        Err(problems.join("; "))
    }
}

async fn history_page(
    State(site): State<Arc<Site>>,
    Query(filters): Query<BTreeMap<String, String>>,
) -> Response {
    let (query, error) = match read_filters(&filters) {
        Ok(query) => (query, None),
        Err(problem) => (EventQuery::default(), Some(problem)),
    };
    let events = match &error {
        Some(_) => Vec::new(),
        None => match site.store.search(&query).await {
            Ok(events) => events,
            Err(e) => return failed(StatusCode::INTERNAL_SERVER_ERROR, e),
        },
    };
    let groups: Vec<String> = events
        .iter()
        .filter_map(MaintenanceEvent::group_key)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let maintenances = match site.store.group_events(&groups).await {
        Ok(by_group) => by_group
            .values()
            .flat_map(|events| lifecycle::assemble(events))
            .collect(),
        Err(e) => return failed(StatusCode::INTERNAL_SERVER_ERROR, e),
    };
    let runbook_links = events
        .iter()
        .map(|e| (e.id.clone(), format!("/runbooks/{}", e.id)))
        .collect();
    html(pages::history(&HistoryPage {
        filters,
        query,
        events,
        maintenances,
        runbook_links,
        error,
        zone: Zone::Utc,
        now: now(),
    }))
}

async fn runbook_page(State(site): State<Arc<Site>>, Path(id): Path<String>) -> Response {
    let Some(id) = EventId::parse(&id) else {
        return failed(StatusCode::NOT_FOUND, "no such event");
    };
    let store = &site.store;
    let (event, maintenance) = match (store.event(&id).await, store.maintenance(&id).await) {
        (Ok(Some(event)), Ok(maintenance)) => (event, maintenance),
        (Ok(None), _) => return failed(StatusCode::NOT_FOUND, "no such event"),
        (Err(e), _) | (_, Err(e)) => return failed(StatusCode::INTERNAL_SERVER_ERROR, e),
    };
    let ids: Vec<EventId> = maintenance
        .as_ref()
        .map_or_else(|| vec![id.clone()], |m| m.event_ids.clone());
    let mut members = Vec::new();
    for member in &ids {
        if let Ok(Some(e)) = store.event(member).await {
            members.push(e);
        }
    }
    let facts = facts_for(&event);
    let owners = Owners::default();
    let mut input = RunbookInput::new(&event, &facts, &owners, now());
    if let Some(m) = &maintenance {
        input = input.with_maintenance(m, &members);
    }
    let runbook = match site.runbooks.render(&input) {
        Ok(runbook) => runbook,
        Err(e) => return failed(StatusCode::INTERNAL_SERVER_ERROR, e),
    };
    let (acks, steps, outcomes) = match (
        store.acknowledgements(&ids).await,
        store.steps(&ids).await,
        store.outcomes(&ids).await,
    ) {
        (Ok(a), Ok(s), Ok(o)) => (a, s, o),
        _ => return failed(StatusCode::INTERNAL_SERVER_ERROR, "responses"),
    };
    html(pages::runbook(&RunbookPage {
        runbook,
        acknowledged: first_acknowledgement(&acks).cloned(),
        steps_done: steps,
        outcome: outcomes.into_iter().max_by_key(|o| o.at),
        step_url: Some(format!("/runbooks/{id}/steps")),
        event,
        maintenance,
        zone: Zone::Utc,
        now: now(),
    }))
}

/// `POST /runbooks/{id}/steps` with `step=N`: the contract of the runbook page.
async fn record_step(
    State(site): State<Arc<Site>>,
    Path(id): Path<String>,
    Form(body): Form<BTreeMap<String, String>>,
) -> Response {
    site.posted.lock().unwrap().push((id.clone(), body.clone()));
    let (Some(event_id), Some(step)) = (
        EventId::parse(&id),
        body.get("step").and_then(|s| s.parse::<u32>().ok()),
    ) else {
        return failed(StatusCode::BAD_REQUEST, "step=N");
    };
    let done = StepDone {
        event_id,
        step,
        by: "browser".into(),
        at: now(),
    };
    match site.store.record_step(&done).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => failed(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

/// Pages with the faults the harness must see: a console error, a missing image, a request that
/// leaves the machine.
async fn faulty_page(Path(which): Path<String>) -> Response {
    let body = match which.as_str() {
        "console" => "<!DOCTYPE html><title>x</title><script>console.error('boom')</script>",
        "missing" => "<!DOCTYPE html><title>x</title><img src=\"/missing.png\" alt=\"\">",
        _ => "<!DOCTYPE html><title>x</title><img src=\"http://192.0.2.1/pixel.png\" alt=\"\">",
    };
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

/// The store, the server on 127.0.0.1 and the runtime they run on; all stop when dropped.
struct TestSite {
    site: Arc<Site>,
    base: String,
    runtime: tokio::runtime::Runtime,
    _dir: TempDir,
}

impl TestSite {
    fn start(history: Vec<(DateTime<Utc>, String)>) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("cachewatch.db")).unwrap();
        runtime.block_on(async {
            for (received, document) in history {
                let events = parse_document(&document, &ParseContext::received_at(received))
                    .unwrap_or_else(|e| panic!("{e}: {document}"));
                ingest(&store, events, &AlertPolicy::default())
                    .await
                    .unwrap();
            }
        });
        let site = Arc::new(Site {
            store,
            runbooks: Runbooks::embedded(),
            posted: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/events", get(history_page))
            .route("/runbooks/{id}", get(runbook_page))
            .route("/runbooks/{id}/steps", axum::routing::post(record_step))
            .route("/faulty/{which}", get(faulty_page))
            .with_state(site.clone());
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        runtime.spawn(async move { axum::serve(listener, app).await });
        TestSite {
            site,
            base,
            runtime,
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The stored events matching `query`.
    fn search(&self, query: EventQuery) -> Vec<MaintenanceEvent> {
        self.runtime
            .block_on(self.site.store.search(&query))
            .unwrap()
    }

    /// The event of `cluster` of `kind` (the latest, if several).
    fn event_of(&self, cluster: &str, kind: &str) -> MaintenanceEvent {
        self.search(EventQuery {
            cluster: Some(cluster.into()),
            kind: Some(EventKind::new(kind)),
            ..EventQuery::default()
        })
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no {kind} event of {cluster}"))
    }
}

/// Fails with every problem the page had.
fn assert_no_problems(page: &Page<'_>, what: &str) {
    let problems = page.problems().unwrap();
    assert!(problems.is_empty(), "{what}:\n{}", problems.join("\n"));
}

fn strings(page: &Page<'_>, expression: &str) -> Vec<String> {
    serde_json::from_value(page.eval(expression).unwrap()).unwrap()
}

const TABLE_CLUSTERS: &str = "[...document.querySelectorAll('table.events td.cluster')].map(td => td.firstChild.textContent)";
const TABLE_KINDS: &str =
    "[...document.querySelectorAll('table.events td.kind')].map(td => td.textContent)";
const TIMELINE_ROWS: &str =
    "[...document.querySelectorAll('svg.timeline g.row')].map(g => g.getAttribute('data-cluster'))";

#[test]
fn the_history_page_loads_without_errors_and_draws_one_row_per_cluster() {
    // Arrange
    let site = TestSite::start(history());
    let browser = Browser::launch().unwrap();

    // Act
    let page = browser.open(&site.url("/events")).unwrap();

    // Assert
    assert_no_problems(&page, "the history page");
    let stored = site.search(EventQuery::default());
    assert_eq!(strings(&page, TABLE_CLUSTERS).len(), stored.len());
    let rows: BTreeSet<String> = strings(&page, TIMELINE_ROWS).into_iter().collect();
    let expected: BTreeSet<String> = [
        "billing-0002-001",
        "cart-0001-002",
        "ledger",
        "orders-0001-001",
        "payments-0001-001",
        "search-valkey-0001-001",
        "sessions-mc",
    ]
    .map(String::from)
    .into();
    assert_eq!(rows, expected);
    assert_eq!(
        strings(&page, TIMELINE_ROWS).len(),
        expected.len(),
        "one row each"
    );
    let states = strings(
        &page,
        "[...document.querySelectorAll('svg.timeline g.m')].map(g => g.getAttribute('data-state'))",
    );
    for state in ["completed", "canceled", "scheduled"] {
        assert!(states.iter().any(|s| s == state), "{state} in {states:?}");
    }
    let failovers = page
        .eval("document.querySelectorAll('svg.timeline path.fo').length")
        .unwrap();
    assert!(
        failovers.as_u64().unwrap() >= 1,
        "the orders failover is marked"
    );
    let repeats = page
        .eval("document.querySelectorAll('svg.timeline .repeat').length")
        .unwrap();
    assert_eq!(
        repeats,
        json!(1),
        "the Memcached node's second notice is a repeat"
    );
}

#[test]
fn submitting_a_filter_narrows_the_results_and_keeps_it_in_the_form() {
    // Arrange
    let site = TestSite::start(history());
    let browser = Browser::launch().unwrap();
    let page = browser.open(&site.url("/events")).unwrap();
    let everything = strings(&page, TABLE_CLUSTERS).len();

    // Act: a cluster, as a person types it.
    page.fill("input[name=cluster]", "orders").unwrap();
    page.click_and_wait_for_load("form.filters button[type=submit]")
        .unwrap();

    // Assert
    assert_no_problems(&page, "the history of orders");
    assert!(page.url().unwrap().contains("cluster=orders"));
    let clusters = strings(&page, TABLE_CLUSTERS);
    assert!(
        !clusters.is_empty() && clusters.len() < everything,
        "{clusters:?}"
    );
    assert!(
        clusters.iter().all(|c| c.starts_with("orders")),
        "{clusters:?}"
    );
    assert_eq!(
        page.eval("document.querySelector('input[name=cluster]').value")
            .unwrap(),
        json!("orders")
    );
    assert_eq!(strings(&page, TIMELINE_ROWS), ["orders-0001-001"]);

    // Act: a kind too, from the select.
    page.select("select[name=kind]", "failover_complete")
        .unwrap();
    page.click_and_wait_for_load("form.filters button[type=submit]")
        .unwrap();

    // Assert
    assert_eq!(strings(&page, TABLE_KINDS), ["failover complete"]);
    assert_eq!(
        page.eval("document.querySelector('select[name=kind]').value")
            .unwrap(),
        json!("failover_complete")
    );

    // Act: dates and words instead.
    page.fill("input[name=cluster]", "").unwrap();
    page.select("select[name=kind]", "").unwrap();
    page.fill("input[name=since]", "2026-11-17").unwrap();
    page.fill("input[name=text]", "snapshot").unwrap();
    page.click_and_wait_for_load("form.filters button[type=submit]")
        .unwrap();

    // Assert
    assert_eq!(
        strings(&page, TABLE_KINDS),
        ["snapshot failed", "snapshot complete"]
    );
    assert_eq!(
        page.eval("document.querySelector('input[name=since]').value")
            .unwrap(),
        json!("2026-11-17")
    );

    // Act: a date that does not read.
    page.fill("input[name=since]", "last tuesday").unwrap();
    page.click_and_wait_for_load("form.filters button[type=submit]")
        .unwrap();

    // Assert
    assert_no_problems(&page, "the history with a bad date");
    let error = page
        .eval("document.querySelector('p.error').textContent")
        .unwrap();
    assert!(
        error
            .as_str()
            .unwrap()
            .contains("\"last tuesday\" is not a date"),
        "{error}"
    );
    assert_eq!(
        page.eval("document.querySelector('input[name=since]').value")
            .unwrap(),
        json!("last tuesday")
    );
    assert!(strings(&page, TABLE_CLUSTERS).is_empty());
}

#[test]
fn ticking_a_step_on_a_runbook_page_posts_it_and_it_stays_ticked() {
    // Arrange: the runbook of the upcoming payments replacement, reached from the history.
    let site = TestSite::start(history());
    let event = site.event_of("payments-0001-001", EventKind::NODE_REPLACEMENT_SCHEDULED);
    let browser = Browser::launch().unwrap();
    let page = browser.open(&site.url("/events")).unwrap();
    page.click_and_wait_for_load(&format!("tr[data-event-id='{}'] td.runbook a", event.id))
        .unwrap();
    assert_no_problems(&page, "the runbook page");
    assert!(
        page.url()
            .unwrap()
            .ends_with(&format!("/runbooks/{}", event.id))
    );
    let boxes = page
        .eval("document.querySelectorAll('input[type=checkbox][data-step]').length")
        .unwrap();
    assert!(boxes.as_u64().unwrap() >= 3, "{boxes}");

    // Act
    page.click("#step-1-box").unwrap();
    page.wait_until("document.getElementById('status').textContent.includes('recorded as done')")
        .unwrap();

    // Assert
    assert_no_problems(&page, "ticking a step");
    let posted = site.site.posted.lock().unwrap().clone();
    assert_eq!(
        posted,
        [(
            event.id.to_string(),
            BTreeMap::from([("step".to_owned(), "1".to_owned())])
        )]
    );
    page.goto(&page.url().unwrap()).unwrap();
    let ticked = page
        .eval("[...document.querySelectorAll('input[data-step]:checked')].map(b => b.getAttribute('data-step'))")
        .unwrap();
    assert_eq!(
        ticked,
        json!(["1"]),
        "the step is recorded, not only ticked"
    );
    assert!(
        page.eval("document.getElementById('step-1').textContent")
            .unwrap()
            .as_str()
            .unwrap()
            .contains("Done by browser")
    );
    assert_no_problems(&page, "the runbook page again");
}

#[test]
fn the_runbook_page_prints_its_checkboxes_without_the_screen_chrome() {
    // Arrange
    let site = TestSite::start(history());
    let event = site.event_of("payments-0001-001", EventKind::NODE_REPLACEMENT_SCHEDULED);
    let browser = Browser::launch().unwrap();
    let page = browser
        .open(&site.url(&format!("/runbooks/{}", event.id)))
        .unwrap();
    let display = |selector: &str| {
        page.eval(&format!(
            "getComputedStyle(document.querySelector('{selector}')).display"
        ))
        .unwrap()
    };
    assert_eq!(
        display(".cmd button"),
        json!("block"),
        "copy buttons on screen"
    );

    // Act
    page.emulate_media("print").unwrap();

    // Assert
    assert_eq!(display("header.bar"), json!("none"));
    assert_eq!(display("#status"), json!("none"));
    assert_eq!(display(".cmd button"), json!("none"));
    assert_ne!(display("input[type=checkbox]"), json!("none"));
    assert_ne!(display(".cmd pre"), json!("none"));
    assert_no_problems(&page, "the printed runbook");
}

#[test]
fn hostile_cluster_names_run_nothing_in_the_browser() {
    // Arrange
    let site = TestSite::start(hostile_history());
    let browser = Browser::launch().unwrap();
    let event = site.event_of(
        "<script>alert(1)</script>",
        EventKind::NODE_REPLACEMENT_SCHEDULED,
    );
    site.runtime
        .block_on(site.site.store.record_acknowledgement(&Acknowledgement {
            event_id: event.id.clone(),
            by: "<img src=x onerror=alert(4)>".into(),
            at: now(),
        }))
        .unwrap();

    // Act
    let history = browser.open(&site.url("/events")).unwrap();
    let runbook = browser
        .open(&site.url(&format!("/runbooks/{}", event.id)))
        .unwrap();

    // Assert: every name shows as itself, and nothing ran, loaded or was refused.
    assert_no_problems(&history, "the history of hostile clusters");
    assert_no_problems(&runbook, "the runbook of a hostile cluster");
    let text = history.eval("document.body.innerText").unwrap();
    for name in [
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(2)>",
        "javascript:alert(3)//",
    ] {
        assert!(text.as_str().unwrap().contains(name), "{name} in {text}");
    }
    let images = history.eval("document.images.length").unwrap();
    assert_eq!(images, json!(0));
    let scripts = runbook.eval("document.scripts.length").unwrap();
    assert_eq!(scripts, json!(1), "the page's own script only");
    let ack = runbook
        .eval("document.querySelector('dl.facts').innerText")
        .unwrap();
    assert!(
        ack.as_str()
            .unwrap()
            .contains("<img src=x onerror=alert(4)>"),
        "{ack}"
    );
}

#[test]
fn the_harness_reports_console_errors_missing_resources_and_outside_requests() {
    // Arrange
    let site = TestSite::start(Vec::new());
    let browser = Browser::launch().unwrap();

    // Act
    let console = browser.open(&site.url("/faulty/console")).unwrap();
    let missing = browser.open(&site.url("/faulty/missing")).unwrap();
    let outside = browser.open(&site.url("/faulty/outside")).unwrap();

    // Assert
    let joined = |page: &Page<'_>| page.problems().unwrap().join("\n");
    assert!(
        joined(&console).contains("console.error: boom"),
        "{}",
        joined(&console)
    );
    assert!(
        joined(&missing).contains("HTTP 404 for"),
        "{}",
        joined(&missing)
    );
    assert!(
        joined(&outside).contains("request outside http://127.0.0.1:"),
        "{}",
        joined(&outside)
    );
}

#[test]
fn screenshots_of_both_pages_are_taken() {
    // Arrange
    let site = TestSite::start(history());
    let event = site.event_of("payments-0001-001", EventKind::NODE_REPLACEMENT_SCHEDULED);
    site.runtime.block_on(async {
        let store = &site.site.store;
        store
            .record_acknowledgement(&Acknowledgement {
                event_id: event.id.clone(),
                by: "U04ONCALL".into(),
                at: at("2026-11-18T09:12:00Z"),
            })
            .await
            .unwrap();
        store
            .record_step(&StepDone {
                event_id: event.id.clone(),
                step: 1,
                by: "U04ONCALL".into(),
                at: at("2026-11-19T10:30:00Z"),
            })
            .await
            .unwrap();
    });
    let update = std::env::var_os("CACHEWATCH_UPDATE_SCREENSHOTS").is_some_and(|v| v == "1");
    let scratch = tempfile::tempdir().unwrap();
    let dir: PathBuf = if update {
        workspace_root().join("docs/screenshots")
    } else {
        scratch.path().to_owned()
    };
    let browser = Browser::launch().unwrap();

    // Act
    let history = browser.open(&site.url("/events")).unwrap();
    let history_size = history.screenshot(&dir.join("history.png")).unwrap();
    let runbook = browser
        .open(&site.url(&format!("/runbooks/{}", event.id)))
        .unwrap();
    let runbook_size = runbook.screenshot(&dir.join("runbook.png")).unwrap();

    // Assert
    assert_no_problems(&history, "the history page");
    assert_no_problems(&runbook, "the runbook page");
    for (name, size) in [("history.png", history_size), ("runbook.png", runbook_size)] {
        let png = std::fs::read(dir.join(name)).unwrap();
        assert_eq!(png_size(&png), Some(size), "{name}");
        assert_eq!(size.0, 1280, "{name} is as wide as the window");
        assert!(size.1 >= 600, "{name} holds the whole page: {size:?}");
    }
}
