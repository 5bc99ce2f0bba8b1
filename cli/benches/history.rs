//! Bulk ingest and search at scale: 1,000,000 DescribeEvents records into SQLite, then the whole
//! `cachewatch events` process for a cluster+date query and a text query.
//!
//! `cargo bench -p cachewatch --bench history`: `CACHEWATCH_BENCH_EVENTS` for another size,
//! `CACHEWATCH_BENCH_SHAPE=records` for one record per line instead of pages of 100,
//! `CACHEWATCH_BENCH_DB=PATH` to keep the database there and, when it exists, only search it.
//! Prints a Markdown table for BENCHMARKS.md.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{DateTime, Duration as Span, TimeZone, Utc};

/// A small deterministic generator, so every run ingests the same history.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn text_time(at: DateTime<Utc>) -> String {
    at.format("%b %d %H:%M UTC").to_string()
}

/// One DescribeEvents record of a realistic mix of 2,000 replication groups, `offset_secs` after
/// `start` (within a minute).
fn record(rng: &mut Lcg, i: u64, start: DateTime<Utc>, offset_secs: u64) -> String {
    let group = rng.below(2_000);
    let shard = rng.below(3) + 1;
    let node = rng.below(3) + 1;
    let cluster = format!("svc{group:04}-{shard:04}-{node:03}");
    let at = start + Span::seconds((offset_secs + rng.below(60)) as i64);
    let window = at + Span::days(rng.below(20) as i64 + 3);
    let (source, kind, message) = match rng.below(100) {
        0..=39 => (
            cluster.clone(),
            "cache-cluster",
            format!(
                "Snapshot succeeded for snapshot with ID 'svc{group:04}-auto-{i}' of cache cluster with ID '{cluster}'"
            ),
        ),
        40..=59 => (
            cluster.clone(),
            "cache-cluster",
            "Cache node 0001 restarted".to_owned(),
        ),
        60..=71 => (
            cluster.clone(),
            "cache-cluster",
            "Service update is available for cache node 0001.".to_owned(),
        ),
        72..=81 => (
            cluster.clone(),
            "cache-cluster",
            format!(
                "The node with Cache Cluster ID: {cluster}, Node ID: 0001 is scheduled for replacement during the maintenance window from Start Time: {}, End Time: {}",
                text_time(window),
                text_time(window + Span::hours(1))
            ),
        ),
        82..=86 => (
            cluster.clone(),
            "cache-cluster",
            format!(
                "The replacement in maintenance window for node with Cache Cluster ID: {cluster}, Node ID: 0001 has re-scheduled from Previous Start Time: {}, Previous End Time: {} to New Start Time: {}, New End Time: {}",
                text_time(window),
                text_time(window + Span::hours(1)),
                text_time(window + Span::days(7)),
                text_time(window + Span::days(7) + Span::hours(1))
            ),
        ),
        87..=92 => (
            cluster.clone(),
            "cache-cluster",
            "Finished recovery for cache nodes 0001".to_owned(),
        ),
        93..=96 => (
            format!("svc{group:04}"),
            "replication-group",
            format!("Failover to replica node {cluster} completed"),
        ),
        _ => (
            cluster.clone(),
            "cache-cluster",
            "Cache cluster created".to_owned(),
        ),
    };
    let message = message.replace('"', "\\\"");
    format!(
        r#"{{"SourceIdentifier":"{source}","SourceType":"{kind}","Message":"{message}","Date":"{}"}}"#,
        at.format("%Y-%m-%dT%H:%M:%S%.3fZ")
    )
}

/// How the records are laid out, one line each or `describe-events` pages of 100 per line.
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    Pages,
    Records,
}

/// Writes `total` records over a year and a half, in `shape`.
fn write_input(path: &Path, total: u64, shape: Shape) -> u64 {
    let start = Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap();
    let span_secs = 540 * 86_400;
    let mut rng = Lcg(7);
    let mut out = BufWriter::new(File::create(path).expect("the input is created"));
    let mut page = Vec::with_capacity(100);
    for i in 0..total {
        let line = record(
            &mut rng,
            i * (1_000_000 / total.max(1)).max(1),
            start,
            i * span_secs / total,
        );
        match shape {
            Shape::Records => writeln!(out, "{line}").expect("the input is written"),
            Shape::Pages => page.push(line),
        }
        if page.len() == 100 || (i + 1 == total && !page.is_empty()) {
            writeln!(out, r#"{{"Events":[{}]}}"#, page.join(",")).expect("the input is written");
            page.clear();
        }
    }
    out.flush().expect("the input is written");
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Runs `cachewatch ingest FILE` (under GNU time when installed, for the peak resident memory):
/// the time taken, what it printed and the peak in megabytes.
fn ingest(bin: &str, file: &Path, db: &Path) -> (Duration, String, Option<u64>) {
    let timed = Path::new("/usr/bin/time").exists();
    let mut command = if timed {
        let mut c = Command::new("/usr/bin/time");
        c.args(["-f", "max-rss-kb %M", bin]);
        c
    } else {
        Command::new(bin)
    };
    let began = Instant::now();
    let out = command
        .arg("ingest")
        .arg(file)
        .env("CACHEWATCH_DB", db)
        .output()
        .expect("cachewatch runs");
    let took = began.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let peak = stderr
        .lines()
        .find_map(|l| l.strip_prefix("max-rss-kb "))
        .and_then(|kb| kb.trim().parse::<u64>().ok())
        .map(|kb| kb / 1024);
    let summary = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    (took, summary, peak)
}

fn main() {
    let total: u64 = std::env::var("CACHEWATCH_BENCH_EVENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let shape = match std::env::var("CACHEWATCH_BENCH_SHAPE").as_deref() {
        Ok("records") => Shape::Records,
        _ => Shape::Pages,
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    // A database kept from an earlier run (CACHEWATCH_BENCH_DB) is searched without importing
    // again: ten million events take minutes to generate and import.
    let kept = std::env::var_os("CACHEWATCH_BENCH_DB").map(PathBuf::from);
    let db = kept.clone().unwrap_or_else(|| dir.path().join("bench.db"));
    let bin = env!("CARGO_BIN_EXE_cachewatch");
    let count = total as usize;
    let groups = "2,000 replication groups";

    println!("| measure | result |");
    println!("|---|---|");
    if db.exists() {
        println!("| database | {} (kept from an earlier run) |", db.display());
    } else {
        // The real thing: `cachewatch ingest FILE`, a whole process, as a person runs it.
        let file = dir.path().join("events.jsonl");
        let bytes = write_input(&file, total, shape);
        let (ingested, summary, peak) = ingest(bin, &file, &db);
        let rate = count as f64 / ingested.as_secs_f64();
        let laid_out = match shape {
            Shape::Pages => "pages of 100 records per line",
            Shape::Records => "one record per line",
        };
        println!(
            "| records | {count} ({} MB of JSON Lines, {laid_out}) |",
            bytes / 1_000_000
        );
        println!(
            "| `cachewatch ingest events.jsonl` (whole process: parse, store, lifecycle of {groups}) | {:.2} s, printed `{summary}` |",
            ingested.as_secs_f64()
        );
        println!("| **ingest rate** | **{rate:.0} events/s** |");
        if let Some(peak) = peak {
            println!("| peak resident memory of the ingest | {peak} MB |");
        }
    }

    let run = |args: &[&str]| -> Duration {
        let began = Instant::now();
        let out = Command::new(bin)
            .args(args)
            .env("CACHEWATCH_DB", &db)
            .output()
            .expect("cachewatch runs");
        let took = began.elapsed();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stdout.is_empty());
        took
    };
    let measure = |args: &[&str]| -> (Duration, Duration, Duration) {
        run(args); // warm the page cache once, as a person's second search would be
        let mut times: Vec<Duration> = (0..21).map(|_| run(args)).collect();
        times.sort();
        (times[0], times[10], times[19])
    };
    let cluster_query = [
        "events",
        "--cluster",
        "svc0042",
        "--since",
        "2026-01-01",
        "--until",
        "2026-04-01",
    ];
    let text_query = ["events", "--text", "failover svc0042"];
    let common_text = ["events", "--text", "scheduled replacement"];
    let (c_min, c_med, c_p95) = measure(&cluster_query);
    let (t_min, t_med, t_p95) = measure(&text_query);
    let (w_min, w_med, w_p95) = measure(&common_text);
    let db_size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(db.with_extension("db-wal"))
            .map(|m| m.len())
            .unwrap_or(0);

    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
    println!("| database size | {} MB |", db_size / 1_000_000);
    println!(
        "| `cachewatch {}` (whole process) | min {}, median **{}**, p95 {} |",
        cluster_query.join(" "),
        ms(c_min),
        ms(c_med),
        ms(c_p95)
    );
    println!(
        "| `cachewatch {}` (whole process) | min {}, median **{}**, p95 {} |",
        text_query.join(" "),
        ms(t_min),
        ms(t_med),
        ms(t_p95)
    );
    println!(
        "| `cachewatch {}` (whole process, a common phrase) | min {}, median **{}**, p95 {} |",
        common_text.join(" "),
        ms(w_min),
        ms(w_med),
        ms(w_p95)
    );
}
