//! Imports in runs of lines against a real SQLite file: whole or not at all, and the same as
//! one ingest of the same lines.

use std::collections::BTreeMap;
use std::path::PathBuf;

use cachewatch_adapters::sqlite::SqliteStore;
use cachewatch_core::history::query::EventQuery;
use cachewatch_core::runbook::Runbooks;

use super::*;
use crate::ingest::Input;
use crate::ingest::tests::{KeptChat, NoFacts, World, at};

/// A DescribeEvents record on one line, as `jq -c '.Events[]'` writes it.
fn record(cluster: &str, date: &str, message: &str) -> String {
    format!(
        r#"{{"SourceIdentifier":"{cluster}","SourceType":"cache-cluster","Date":"{date}","Message":"{message}"}}"#
    )
}

fn replacement(cluster: &str, date: &str, window: &str) -> String {
    record(
        cluster,
        date,
        &format!(
            "The node with Cache Cluster ID: {cluster}, Node ID: 0001 is scheduled for replacement during the maintenance window from Start Time: {window} 19:00 UTC, End Time: {window} 20:00 UTC"
        ),
    )
}

/// Lines of a history: a replacement announced today, one announced in May for a window still
/// ahead, one long over, restarts and snapshots, and a line repeated further on.
fn history() -> Vec<String> {
    let mut lines = vec![
        replacement("kiwi-0001-001", "2026-03-01T10:00:00Z", "Mar 10"),
        replacement("kiwi-0002-001", "2026-05-02T10:00:00Z", "Jun 25"),
    ];
    for day in 1..=9 {
        let date = format!("2026-06-0{day}T08:00:00Z");
        lines.push(record("kiwi-0003-001", &date, "Cache node 0001 restarted"));
        lines.push(record(
            "kiwi-0003-001",
            &date.replace("08:", "09:"),
            "Snapshot succeeded for snapshot with ID 'nightly' of cache cluster with ID 'kiwi-0003-001'",
        ));
    }
    lines.push(replacement(
        "kiwi-0004-001",
        "2026-06-10T10:00:00Z",
        "Jun 20",
    ));
    lines.push(lines[3].clone());
    lines
}

/// Runs of lines handed out one at a time, the way a file is read; optionally failing to read
/// one, and asking another reader of the database what it sees before each run.
struct Runs {
    runs: Vec<(usize, String)>,
    handed: usize,
    unreadable: Option<usize>,
    reader: Option<SqliteStore>,
    seen: Vec<usize>,
}

impl Runs {
    /// `lines` in runs of `per_run` lines.
    fn of(lines: &[String], per_run: usize) -> Self {
        let runs = lines
            .chunks(per_run)
            .enumerate()
            .map(|(i, run)| (i * per_run + 1, run.join("\n") + "\n"))
            .collect();
        Self {
            runs,
            handed: 0,
            unreadable: None,
            reader: None,
            seen: Vec::new(),
        }
    }
}

impl LineRuns for Runs {
    fn next_run(&mut self) -> std::io::Result<Option<(usize, String)>> {
        if let Some(reader) = &self.reader {
            self.seen.push(stored(reader).len());
        }
        if self.unreadable == Some(self.handed) {
            return Err(std::io::Error::other("the disk went away"));
        }
        self.handed += 1;
        Ok(self.runs.get(self.handed - 1).cloned())
    }
}

/// Every stored event's id, read without waiting on anything but the database.
fn stored(store: &SqliteStore) -> Vec<String> {
    let query = EventQuery {
        limit: 100_000,
        ..EventQuery::default()
    };
    let mut ids: Vec<String> = block_on(store.search(&query))
        .unwrap()
        .into_iter()
        .map(|e| e.id.to_string())
        .collect();
    ids.sort();
    ids
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        // SQLite calls never wait on anything but the database itself.
        if let Poll::Ready(out) = f.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

impl World {
    fn path(&self) -> PathBuf {
        self.store.path().to_owned()
    }

    async fn import(&self, runs: &mut Runs, chat: bool) -> Result<Imported, ImportError> {
        let request = ImportRequest {
            door: Door::Text,
            config: &self.config,
            settings: &self.settings,
            alerting: Alerting::Now,
            now: at("2026-06-10T15:23:00Z"),
        };
        import_lines(self.ports(chat), request, runs).await
    }
}

#[tokio::test]
async fn an_import_that_fails_on_a_later_run_stores_nothing_and_the_history_still_reads() {
    let world = World::new();
    let earlier = record(
        "fig-001",
        "2026-01-05T00:00:00Z",
        "Cache node 0001 restarted",
    );
    world
        .ingest(Door::Text, Input::Document(&earlier), false)
        .await
        .unwrap();
    let before = stored(&world.store);
    let mut lines = history();
    lines.push("{not json".to_owned());
    let mut runs = Runs::of(&lines, 5);

    let err = world.import(&mut runs, true).await.unwrap_err();

    let ImportError::Parse(err) = err else {
        panic!("{err}")
    };
    assert_eq!(err.location.line, Some(lines.len()), "{err}");
    assert!(
        runs.handed > 2,
        "earlier runs were stored before the bad line was read"
    );
    assert_eq!(stored(&world.store), before);
    assert!(world.chat.texts().is_empty());
    let again = Runs::of(&history(), 5);
    let done = world.import(&mut { again }, false).await.unwrap();
    assert_eq!(
        done.new,
        history().len() - 1,
        "the store still takes writes"
    );
}

#[tokio::test]
async fn an_input_that_cannot_be_read_to_its_end_stores_nothing() {
    let world = World::new();
    let mut runs = Runs::of(&history(), 4);
    runs.unreadable = Some(3);

    let err = world.import(&mut runs, false).await.unwrap_err();

    assert!(matches!(err, ImportError::Read(_)), "{err}");
    assert!(stored(&world.store).is_empty());
}

#[tokio::test]
async fn another_reader_sees_the_history_before_the_import_until_it_ends() {
    let world = World::new();
    let mut runs = Runs::of(&history(), 4);
    runs.reader = Some(SqliteStore::open(&world.path()).unwrap());

    let done = world.import(&mut runs, false).await.unwrap();

    assert!(runs.seen.len() > 3);
    assert!(runs.seen.iter().all(|&n| n == 0), "{:?}", runs.seen);
    let reader = runs.reader.as_ref().unwrap();
    assert_eq!(stored(reader).len(), done.new);
}

#[tokio::test]
async fn an_import_in_runs_stores_and_alerts_as_one_ingest_of_the_same_lines() {
    let (whole, in_runs) = (World::new(), World::new());
    let text = history().join("\n");
    let ingested = whole
        .ingest(Door::Text, Input::Document(&text), true)
        .await
        .unwrap();

    let imported = in_runs
        .import(&mut Runs::of(&history(), 3), true)
        .await
        .unwrap();

    assert_eq!(imported.events, ingested.outcome.events.len());
    assert_eq!(imported.new, ingested.outcome.new_count());
    assert_eq!(imported.new, history().len() - 1, "the repeated line once");
    assert_eq!(stored(&in_runs.store), stored(&whole.store));
    let posted = in_runs.chat.texts();
    assert_eq!(posted, whole.chat.texts());
    for (cluster, alerted) in [
        ("kiwi-0004-001", true),
        ("kiwi-0002-001", true),
        ("kiwi-0001-001", false),
    ] {
        let said = posted.iter().any(|t| t.contains(cluster));
        assert_eq!(said, alerted, "{cluster}: {posted:#?}");
    }

    let again = in_runs
        .import(&mut Runs::of(&history(), 3), true)
        .await
        .unwrap();
    assert_eq!((again.events, again.new), (history().len(), 0));
    assert_eq!(in_runs.chat.texts(), posted, "nothing is posted twice");
}

#[tokio::test]
async fn a_store_that_keeps_each_write_reads_the_whole_input_before_storing() {
    let store = cachewatch_core::history::store::MemoryStore::default();
    let runbooks = Runbooks::embedded();
    let world = World::new();
    let ports: Ports<'_, _, KeptChat, _> = Ports {
        store: &store,
        chat: None,
        facts: &NoFacts,
        runbooks: &runbooks,
    };
    let request = ImportRequest {
        door: Door::Text,
        config: &world.config,
        settings: &world.settings,
        alerting: Alerting::Now,
        now: at("2026-06-10T15:23:00Z"),
    };
    let mut lines = history();
    lines.push("{not json".to_owned());

    let err = import_lines(ports, request, &mut Runs::of(&lines, 3)).await;

    assert!(matches!(err, Err(ImportError::Parse(_))));
    let found = store.search(&EventQuery::default()).await.unwrap();
    assert!(found.is_empty(), "{found:?}");
}

/// `n` records of 60 clusters in one-minute steps from January 2026: restarts, snapshots and,
/// every 25th, a replacement long over. Each line is about 150 bytes, so 8,000 of them make a
/// large run.
fn many(n: usize) -> Vec<String> {
    let start = at("2026-01-01T00:00:00Z");
    (0..n)
        .map(|i| {
            let cluster = format!("plum-{:04}-001", i % 60);
            let date = (start + chrono::Duration::minutes(i as i64))
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string();
            match i % 25 {
                0 => replacement(&cluster, &date, "Feb 01"),
                n if n % 2 == 0 => record(&cluster, &date, "Cache node 0001 restarted"),
                _ => record(
                    &cluster,
                    &date,
                    &format!(
                        "Snapshot succeeded for snapshot with ID 'nightly-{i}' of cache cluster with ID '{cluster}'"
                    ),
                ),
            }
        })
        .collect()
}

/// The same records as `describe-events` pages of 100 per line.
fn pages(records: &[String]) -> Vec<String> {
    records
        .chunks(100)
        .map(|page| format!(r#"{{"Events":[{}]}}"#, page.join(",")))
        .collect()
}

fn found(store: &SqliteStore, cluster: Option<&str>, text: Option<&str>) -> usize {
    let query = EventQuery {
        cluster: cluster.map(str::to_owned),
        text: text.map(str::to_owned),
        limit: 100_000,
        ..EventQuery::default()
    };
    block_on(store.search(&query)).unwrap().len()
}

const LARGE: usize = 24_000;

#[tokio::test]
async fn a_large_import_of_either_shape_is_searchable_and_importing_it_again_adds_nothing() {
    let records = many(LARGE);
    let (one_per_line, in_pages) = (World::new(), World::new());

    let a = one_per_line
        .import(&mut Runs::of(&records, 8_000), false)
        .await
        .unwrap();
    let b = in_pages
        .import(&mut Runs::of(&pages(&records), 80), false)
        .await
        .unwrap();

    assert!(
        records[..8_000].join("\n").len() >= LARGE_BYTES,
        "large runs"
    );
    assert_eq!((a.events, a.new), (LARGE, LARGE));
    assert_eq!((b.events, b.new), (LARGE, LARGE));
    assert_eq!(stored(&one_per_line.store), stored(&in_pages.store));
    for world in [&one_per_line, &in_pages] {
        assert_eq!(found(&world.store, None, Some("replacement")), LARGE / 25);
        assert_eq!(
            found(&world.store, None, Some("restarted")),
            LARGE / 25 * 12
        );
        assert_eq!(found(&world.store, Some("plum-0007-001"), None), LARGE / 60);
        assert_eq!(
            found(&world.store, Some("plum-0000-001"), Some("replacement")),
            LARGE / 300
        );
    }

    let again = one_per_line
        .import(&mut Runs::of(&pages(&records), 80), false)
        .await
        .unwrap();
    assert_eq!((again.events, again.new), (LARGE, 0));
    assert_eq!(stored(&one_per_line.store), stored(&in_pages.store));
    assert_eq!(
        found(&one_per_line.store, None, Some("replacement")),
        LARGE / 25,
        "each event's words indexed once"
    );
}

#[tokio::test]
async fn a_large_import_with_a_bad_line_in_its_last_run_stores_nothing_and_searches_still_work() {
    let world = World::new();
    let earlier = record(
        "fig-001",
        "2025-12-05T00:00:00Z",
        "Cache node 0001 restarted",
    );
    world
        .ingest(Door::Text, Input::Document(&earlier), false)
        .await
        .unwrap();
    let before = stored(&world.store);
    let mut lines = many(LARGE);
    lines.insert(
        LARGE - 10,
        r#"{"SourceIdentifier": "plum-0001-001", "Date": "#.to_owned(),
    );
    let mut runs = Runs::of(&lines, 8_000);

    let err = world.import(&mut runs, false).await.unwrap_err();

    let ImportError::Parse(err) = err else {
        panic!("{err}")
    };
    assert_eq!(err.location.line, Some(LARGE - 9), "{err}");
    assert_eq!(runs.handed, 4, "the runs before it were stored first");
    assert_eq!(stored(&world.store), before);
    assert_eq!(found(&world.store, Some("fig-001"), Some("restarted")), 1);
    assert_eq!(found(&world.store, None, Some("restarted")), 1);

    let done = world
        .import(&mut Runs::of(&many(LARGE), 8_000), false)
        .await
        .unwrap();
    assert_eq!(done.new, LARGE);
    assert_eq!(found(&world.store, None, Some("replacement")), LARGE / 25);
}

/// An SNS notice as one line, as the topic delivers it.
fn notice(cluster: &str, timestamp: &str, event: &str) -> String {
    format!(
        r#"{{"Type":"Notification","MessageId":"m-{cluster}","TopicArn":"arn:aws:sns:eu-west-1:123456789012:cachewatch","Timestamp":"{timestamp}","Message":"{{\"ElastiCache:{event}\":\"{cluster}\"}}"}}"#
    )
}

#[tokio::test]
async fn an_import_into_an_empty_history_matches_a_notice_with_the_text_of_an_earlier_run() {
    let (whole, in_runs) = (World::new(), World::new());
    let mut lines = history();
    lines.push(notice(
        "kiwi-0004-001",
        "2026-06-10T10:00:03.500Z",
        "NodeReplacementScheduled",
    ));
    let text = lines.join("\n");
    let ingested = whole
        .ingest(Door::Text, Input::Document(&text), false)
        .await
        .unwrap();

    let imported = in_runs
        .import(&mut Runs::of(&lines, 3), false)
        .await
        .unwrap();

    assert_eq!(
        ingested.outcome.new_count(),
        history().len() - 1,
        "the notice is the replacement's text, already stored"
    );
    assert_eq!(imported.new, ingested.outcome.new_count());
    assert_eq!(stored(&in_runs.store), stored(&whole.store));
}

/// The time of the imports and ingests compared.
fn now() -> DateTime<Utc> {
    at("2026-06-10T15:23:00Z")
}

/// A failover of the replication group `group` onto `cluster`, as DescribeEvents reports it.
fn failover(group: &str, cluster: &str, date: &str) -> String {
    format!(
        r#"{{"SourceIdentifier":"{group}","SourceType":"replication-group","Date":"{date}","Message":"Failover to replica node {cluster} completed"}}"#
    )
}

/// Lines of `groups` replication groups whose lifecycles run through the whole input, so that
/// each group's events fall in many runs: every node of each group is announced for
/// replacement, rescheduled, fails over and is replaced, again and again over the months, between
/// restarts and snapshots (of long names, so that a run of every line is large), all in time
/// order. The last announcements, of windows still ahead [`now`], end the input.
fn lifecycles(groups: usize) -> Vec<String> {
    let start = at("2026-01-08T00:00:00Z");
    let long = "x".repeat(800);
    let mut lines = Vec::new();
    for step in 0..=120 {
        for g in 0..groups {
            let node = step % 3 + 1;
            let cluster = format!("pear{g:03}-0001-{node:03}");
            let now = start + chrono::Duration::hours(step as i64 * 30 + g as i64);
            let date = now.format("%Y-%m-%dT%H:%M:%SZ").to_string();
            let day = |days: i64| {
                (now + chrono::Duration::days(days))
                    .format("%b %d")
                    .to_string()
            };
            lines.push(match step % 6 {
                0 => replacement(&cluster, &date, &day(4)),
                1 => record(
                    &cluster,
                    &date,
                    &format!(
                        "The replacement in maintenance window for node with Cache Cluster ID: {cluster}, Node ID: 0001 has re-scheduled from Previous Start Time: {} 19:00 UTC, Previous End Time: {} 20:00 UTC to New Start Time: {} 19:00 UTC, New End Time: {} 20:00 UTC",
                        day(3),
                        day(3),
                        day(5),
                        day(5)
                    ),
                ),
                2 => failover(&format!("pear{g:03}"), &cluster, &date),
                3 => record(&cluster, &date, "Finished recovery for cache nodes 0001"),
                4 => record(&cluster, &date, "Cache node 0001 restarted"),
                _ => record(
                    &cluster,
                    &date,
                    &format!(
                        "Snapshot succeeded for snapshot with ID 'pear-{step}-{long}' of cache cluster with ID '{cluster}'"
                    ),
                ),
            });
        }
    }
    lines
}

/// Each stored event's id beside the maintenance it belongs to, and the maintenances still
/// open, as the store has them.
fn maintenances(store: &SqliteStore) -> (Vec<(String, Option<Maintenance>)>, Vec<Maintenance>) {
    let of_each = stored(store)
        .into_iter()
        .map(|id| {
            let maintenance = block_on(store.maintenance(&EventId::parse(&id).unwrap())).unwrap();
            (id, maintenance)
        })
        .collect();
    let open = block_on(store.open_maintenances(now(), true)).unwrap();
    (of_each, open)
}

#[tokio::test]
async fn an_import_works_out_the_same_maintenances_as_one_ingest_of_its_lines() {
    let lines = lifecycles(40);
    let text = lines.join("\n");
    assert!(text.len() >= LARGE_BYTES, "one run of every line is large");
    let whole = World::new();
    let ingested = whole
        .ingest(Door::Text, Input::Document(&text), false)
        .await
        .unwrap();
    let (of_each, open) = maintenances(&whole.store);
    let belonging = of_each.iter().filter(|(_, m)| m.is_some()).count();
    assert!(
        belonging > lines.len() / 2,
        "{belonging} of {}",
        lines.len()
    );
    assert!(!open.is_empty());
    let groups: BTreeSet<&str> = open.iter().map(|m| m.group_key.as_str()).collect();
    assert_eq!(groups.len(), 40, "{groups:?}");

    // Runs of 7 lines: each group's events are stored by many runs; then runs of a large first
    // run, whose indexes are built at the end.
    for per_run in [7, lines.len()] {
        let in_runs = World::new();
        let imported = in_runs
            .import(&mut Runs::of(&lines, per_run), false)
            .await
            .unwrap();
        assert_eq!(imported.new, ingested.outcome.new_count());
        assert_eq!(
            maintenances(&in_runs.store),
            (of_each.clone(), open.clone())
        );
        let ahead: BTreeMap<&String, Vec<&Maintenance>> = ingested
            .outcome
            .maintenances
            .iter()
            .map(|(group, all)| (group, all.iter().filter(|m| m.is_upcoming(now())).collect()))
            .filter(|(_, ahead): &(_, Vec<_>)| !ahead.is_empty())
            .collect();
        assert!(!ahead.is_empty());
        let kept: BTreeMap<&String, Vec<&Maintenance>> = imported
            .outcome
            .maintenances
            .iter()
            .map(|(group, ahead)| (group, ahead.iter().collect()))
            .collect();
        assert_eq!(kept, ahead);
    }
}
