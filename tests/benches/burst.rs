//! A region-wide burst at Slack's pace: 300 replacement notices for 300 clusters in one delivery,
//! sent to the Slack stand-in by the Slack client as deployed (one message a second per channel,
//! 4 attempts per call), while the stand-in fails 30% of requests (HTTP 500, 429 with
//! `Retry-After: 1`, and answers lost after the message was stored).
//!
//! ```sh
//! cargo build -p cachewatch-tests --bench burst        # or: cargo bench -p cachewatch-tests --bench burst
//! $(ls -t target/debug/deps/burst-* | grep -v '\.d$' | head -1)
//! ```
//!
//! `CACHEWATCH_BENCH_NOTICES` (300), `CACHEWATCH_BENCH_KINDS` (kinds of node, 1 to 4: 4),
//! `CACHEWATCH_BENCH_FAILURES` (0.3), `CACHEWATCH_BENCH_SEED` (2026) and `SLACK_MIN_INTERVAL_MS`
//! (1000) change the run. The clock starts when the delivery is handed over (parse, store, record
//! the alerts, send: what the ingest function does) and each message's time is when the stand-in
//! stored it. If the run after the delivery leaves alerts pending (Slack still failing after the
//! client's retries), the poller's later runs are played too, and counted apart: they come
//! minutes later in production.

use std::collections::BTreeMap;
use std::time::{Duration as StdDuration, Instant};

use cachewatch_adapters::SqliteStore;
use cachewatch_adapters::slack::{SlackClient, SlackSettings};
use cachewatch_core::alerting::delivery::DeliveryStore;
use cachewatch_core::alerting::notify::{Alerter, NotifySettings, notify, record_alerts};
use cachewatch_core::config::Config;
use cachewatch_core::intake::parse::{ParseContext, parse_document};
use cachewatch_core::model::timefmt::Zone;
use cachewatch_core::runbook::Runbooks;
use cachewatch_core::{AlertPolicy, ingest};
use cachewatch_tests::burst::{FleetFacts, fleet, notices};
use cachewatch_tests::slack::{ALERTS, Fault, RandomFailures, SlackStandIn, StoredMessage};
use chrono::{DateTime, Duration, DurationRound, Utc};
use secrecy::SecretString;

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Every delivery a message carries: its own key, and those an announcement names.
fn carried(m: &StoredMessage) -> Vec<String> {
    let payload = m.metadata.as_ref().and_then(|v| v.get("event_payload"));
    let field = |k: &str| payload.and_then(|p| p.get(k)).and_then(|v| v.as_str());
    let mut keys: Vec<String> = field("delivery").into_iter().map(str::to_owned).collect();
    if let Some(more) = field("deliveries") {
        keys.extend(more.split(' ').filter(|k| !k.is_empty()).map(str::to_owned));
    }
    keys
}

fn secs(d: StdDuration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

#[allow(clippy::too_many_lines)]
/// The poller's sender over the bench's store, Slack and fleet at `now`.
fn alerter<'a>(
    store: &'a SqliteStore,
    chat: &'a SlackClient,
    runbooks: &'a Runbooks,
    config: &'a Config,
    settings: &'a NotifySettings,
    now: DateTime<Utc>,
) -> Alerter<'a, SqliteStore, SlackClient, FleetFacts> {
    Alerter {
        store,
        sink: chat,
        facts: &FleetFacts,
        runbooks,
        config,
        settings,
        now,
    }
}

fn main() {
    let n: usize = env("CACHEWATCH_BENCH_NOTICES", 300);
    let kinds: usize = env("CACHEWATCH_BENCH_KINDS", 4);
    let rate: f64 = env("CACHEWATCH_BENCH_FAILURES", 0.3);
    let seed: u64 = env("CACHEWATCH_BENCH_SEED", 2026);
    let interval = StdDuration::from_millis(env("SLACK_MIN_INTERVAL_MS", 1000));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    let slack = SlackStandIn::start();
    slack.fail_randomly(RandomFailures {
        rate,
        seed,
        faults: vec![
            Fault::HttpStatus(500),
            Fault::RateLimited {
                retry_after_secs: 1,
            },
            Fault::LostAnswer,
        ],
        only: None,
    });
    let settings = SlackSettings {
        min_interval: interval,
        ..SlackSettings::default()
    }
    .with_api_base(&slack.api_base())
    .unwrap();
    let chat = SlackClient::new(settings, SecretString::from(slack.token().to_owned())).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("history.db")).unwrap();
    let config = Config::default();
    let notify_settings = NotifySettings {
        channel: Some(ALERTS.to_owned()),
        base_url: None,
        links: None,
        zone: Zone::Utc,
        actions: true,
        holder: "bench".to_owned(),
        ignore_backoff: false,
    };
    let now = Utc::now().duration_trunc(Duration::minutes(1)).unwrap();
    let clusters = fleet(n, kinds);
    let doc = notices(&clusters, now + Duration::days(5), now);
    let runbooks = Runbooks::embedded();

    // The delivery, as the ingest function handles it.
    let start = Instant::now();
    let ids: Vec<String> = runtime.block_on(async {
        let events = parse_document(&doc, &ParseContext::received_at(now)).unwrap();
        let outcome = ingest(&store, events, &AlertPolicy::default())
            .await
            .unwrap();
        let new: Vec<_> = outcome.events.iter().map(|e| e.event.clone()).collect();
        record_alerts(&store, &new, &config, Some(ALERTS), now)
            .await
            .unwrap();
        notify(
            alerter(&store, &chat, &runbooks, &config, &notify_settings, now),
            &[],
        )
        .await
        .unwrap();
        new.iter().map(|e| e.id.to_string()).collect()
    });
    let first_run = start.elapsed();
    let after_first_run = slack.messages(ALERTS).len();

    // The poller's later runs, if anything is left.
    let mut later_runs = 0;
    runtime.block_on(async {
        while later_runs < 30
            && !store
                .due_deliveries(now + Duration::days(1), 1)
                .await
                .unwrap()
                .is_empty()
        {
            later_runs += 1;
            let at = now + Duration::hours(2 * later_runs);
            notify(
                alerter(&store, &chat, &runbooks, &config, &notify_settings, at),
                &[],
            )
            .await
            .unwrap();
        }
    });

    let messages = slack.messages(ALERTS);
    let mut carried_by: BTreeMap<String, usize> = BTreeMap::new();
    let mut announced_at: BTreeMap<String, Instant> = BTreeMap::new();
    for m in &messages {
        let at = m.versions.first().map_or(start, |v| v.at);
        for key in carried(m) {
            *carried_by.entry(key.clone()).or_insert(0) += 1;
            let first = announced_at.entry(key).or_insert(at);
            *first = (*first).min(at);
        }
    }
    let lost = ids
        .iter()
        .filter(|id| !carried_by.contains_key(*id))
        .count();
    let doubled = ids
        .iter()
        .filter(|id| carried_by.get(*id).is_some_and(|c| *c > 1))
        .count();
    let last_announced = ids
        .iter()
        .filter_map(|id| announced_at.get(id))
        .max()
        .map(|at| at.saturating_duration_since(start));
    let first_post = messages
        .iter()
        .filter_map(|m| m.versions.first().map(|v| v.at))
        .min()
        .map(|at| at.saturating_duration_since(start));
    let last_post = messages
        .iter()
        .filter_map(|m| m.versions.first().map(|v| v.at))
        .max()
        .map(|at| at.saturating_duration_since(start));
    let requests = slack.requests();
    let failed = requests.iter().filter(|r| r.fault.is_some()).count();
    let parents = slack.parents(ALERTS).len();

    println!(
        "burst: {n} notices for {} clusters ({kinds} kinds of node), one delivery; Slack at one message per {} ms per channel, failing {:.0}% of requests (seed {seed})",
        clusters.len(),
        interval.as_millis(),
        rate * 100.0
    );
    println!("| measure | result |");
    println!("|---|---|");
    println!(
        "| posts in the channel | {} ({parents} top-level) |",
        messages.len()
    );
    println!("| posts by the run after the delivery | {after_first_run} |");
    println!(
        "| requests to Slack | {} ({failed} failed on purpose) |",
        requests.len()
    );
    println!(
        "| first post, after the delivery | {} |",
        first_post.map_or("-".into(), secs)
    );
    println!(
        "| **last maintenance announced, after the delivery** | **{}** |",
        last_announced.map_or("-".into(), secs)
    );
    println!(
        "| last post (checklists included) | {} |",
        last_post.map_or("-".into(), secs)
    );
    println!("| the run after the delivery took | {} |", secs(first_run));
    println!("| later poller runs needed | {later_runs} |");
    println!("| maintenances announced twice | {doubled} |");
    println!("| maintenances never announced | {lost} |");
}
