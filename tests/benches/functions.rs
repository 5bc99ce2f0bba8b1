//! What one SNS notification costs the ingest function, run as Lambda runs it: the deployed build of
//! `cachewatch-ingest` against the local Runtime API, moto's DynamoDB and Secrets Manager, and the
//! Slack stand-in; beside it, what a Python function pays before doing anything (importing boto3
//! and making two clients).
//!
//! ```sh
//! cargo build --profile deploy -p cachewatch-ingest -p cachewatch-poller
//! cargo bench -p cachewatch-tests --bench functions      # CACHEWATCH_BENCH_RUNS=N (default 15)
//! CACHEWATCH_BENCH_ONLY=requests cargo bench -p cachewatch-tests --bench functions
//! ```
//!
//! `CACHEWATCH_BENCH_ONLY=requests` runs only the last part, which needs no deploy build (it
//! takes the deploy build, else the release one, else the debug one, and says which).
//!
//! Each cold run starts a new function process and times its first invocation from the moment the
//! process is started (the cold start: runtime, AWS configuration, reading the secret) to its
//! answer, then reads the process's peak resident memory. Warm runs are the following
//! invocations of one process. Every notification is a new replacement notice, so each run
//! stores an event, works out its maintenance and posts an alert.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use cachewatch_tests::counting::Counts;
use cachewatch_tests::ingest_cost::{
    Measured, Rig, environment, replacement_notice, snapshot_notice,
};
use cachewatch_tests::lambda::{LambdaRuntime, Outcome, peak_rss_kb};
use cachewatch_tests::moto::Moto;
use cachewatch_tests::slack::SlackStandIn;
use cachewatch_tests::{tool, workspace_root};
use serde_json::json;

fn deploy_bin(name: &str) -> PathBuf {
    deploy_bin_if_built(name)
        .unwrap_or_else(|| panic!("{name} is not built: cargo build --profile deploy -p {name}"))
}

fn answered(outcome: &Outcome) {
    match outcome {
        Outcome::Response(v) if v["new"] == json!(1) && v["alerts_sent"] == json!(1) => {}
        other => panic!("the invocation did not store and alert: {other:?}"),
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn summary(name: &str, mut values: Vec<f64>, unit: &str) {
    values.sort_by(f64::total_cmp);
    println!(
        "{name:<46} median {:>8.1} {unit}   p90 {:>8.1} {unit}   min {:>8.1} {unit}   ({} runs)",
        percentile(&values, 0.5),
        percentile(&values, 0.9),
        values[0],
        values.len()
    );
}

fn size(path: &Path) -> Option<f64> {
    std::fs::metadata(path)
        .ok()
        .map(|m| m.len() as f64 / 1_048_576.0)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken.
    let runs: usize = std::env::var("CACHEWATCH_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15);
    if std::env::var("CACHEWATCH_BENCH_ONLY").as_deref() != Ok("requests") {
        cold_and_warm(runs);
    }
    requests_per_event(runs);
}

/// AWS requests, consumed capacity and the function's own time for one notification of each
/// kind, through the counting proxy, on a warm function.
fn requests_per_event(runs: usize) {
    let binary = ["deploy", "release", "debug"]
        .into_iter()
        .map(|profile| target_dir().join(profile).join("cachewatch-ingest"))
        .find(|bin| bin.exists())
        .expect("cachewatch-ingest is built (cargo build -p cachewatch-ingest)");
    println!(
        "\n== AWS requests per notification (warm cachewatch-ingest: {})",
        binary.display()
    );
    let rig = Rig::start(&binary);
    let warm_up = rig.invoke(snapshot_notice(900_000));
    assert_eq!(warm_up.answer()["new"], json!(1), "{:?}", warm_up.answer());
    // The first alert in a new table writes the mutes in force as their one item, once.
    let first_alert = rig.invoke(replacement_notice(900_000));
    assert_eq!(first_alert.answer()["alerts_sent"], json!(1));
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    type Scenario = (&'static str, Vec<Measured>);
    let mut scenarios: [Scenario; 5] = [
        ("new replacement notice", Vec::new()),
        ("its re-delivery", Vec::new()),
        ("new snapshot notice (alerts nobody)", Vec::new()),
        ("its re-delivery", Vec::new()),
        ("new replacement notice, its cluster existing", Vec::new()),
    ];
    for run in 1..=runs {
        // A cluster of its own, that exists (its facts are found and kept).
        let existing = 100_000 + run;
        runtime.block_on(rig.create_replacement_cluster(existing));
        let measured = [
            rig.invoke(replacement_notice(run)),
            rig.invoke(replacement_notice(run)),
            rig.invoke(snapshot_notice(run)),
            rig.invoke(snapshot_notice(run)),
            rig.invoke(replacement_notice(existing)),
        ];
        for (i, m) in measured.into_iter().enumerate() {
            let new = if i % 2 == 0 { 1 } else { 0 };
            assert_eq!(m.answer()["new"], json!(new), "{:?}", m.answer());
            scenarios[i].1.push(m);
        }
    }
    for (name, measured) in scenarios {
        let counts: Vec<&Counts> = measured.iter().map(|m| &m.counts).collect();
        let steady = counts.iter().all(|c| c.requests == counts[0].requests);
        println!(
            "{name:<38} {}{}",
            counts[0],
            if steady {
                ""
            } else {
                "  (varies between runs)"
            }
        );
        summary(
            "  the function's own time per event",
            measured
                .iter()
                .map(|m| m.invocation.took.as_secs_f64() * 1000.0)
                .collect(),
            "ms",
        );
    }
}

/// The cold start, warm invocations and memory of the deployed build, and Python's start beside it.
fn cold_and_warm(runs: usize) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");

    println!("== binary sizes (stripped)");
    for function in ["cachewatch-ingest", "cachewatch-poller", "cachewatch-api"] {
        let lambda = workspace_root()
            .join("target/lambda")
            .join(function)
            .join("bootstrap");
        let native = deploy_bin_if_built(function);
        println!(
            "{function:<20} arm64 Lambda bootstrap: {:>6}   x86_64 deploy:  {:>6}",
            size(&lambda).map_or("-".to_owned(), |s| format!("{s:.1} MB")),
            native
                .as_deref()
                .and_then(size)
                .map_or("-".to_owned(), |s| format!("{s:.1} MB")),
        );
    }

    let moto = Moto::start();
    let slack = SlackStandIn::start();
    let env = runtime.block_on(environment(&moto, &slack));

    let binary = deploy_bin("cachewatch-ingest");
    let mut cold = Vec::new();
    let mut rss = Vec::new();
    let mut warm = Vec::new();
    let mut n = 0;
    for run in 0..runs {
        let mut lambda = LambdaRuntime::start();
        let started = Instant::now();
        let pid = lambda.spawn(&binary, "cachewatch-ingest", &env);
        n += 1;
        let first = lambda.invoke(replacement_notice(n), Duration::from_secs(60));
        cold.push(started.elapsed().as_secs_f64() * 1000.0);
        answered(&first.outcome);
        if run == 0 {
            for _ in 0..runs * 4 {
                n += 1;
                let next = lambda.invoke(replacement_notice(n), Duration::from_secs(60));
                answered(&next.outcome);
                warm.push(next.took.as_secs_f64() * 1000.0);
            }
        }
        rss.push(peak_rss_kb(pid).expect("the function is running") as f64 / 1024.0);
    }
    println!("\n== cachewatch-ingest, one SNS notification (store, lifecycle, Slack alert)");
    summary("cold: process start to answer", cold, "ms");
    summary("warm: invocation to answer", warm, "ms");
    summary("peak resident memory (VmHWM)", rss, "MB");

    println!("\n== Python 3 + boto3, before any work");
    let python = tool("python");
    let script = "import resource, time\n\
        t = time.perf_counter()\n\
        import boto3\n\
        boto3.client('dynamodb', region_name='eu-west-1')\n\
        boto3.client('elasticache', region_name='eu-west-1')\n\
        print((time.perf_counter() - t) * 1000, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)";
    let (mut import, mut whole, mut py_rss) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let started = Instant::now();
        let out = Command::new(&python)
            .args(["-c", script])
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .output()
            .expect("python runs");
        whole.push(started.elapsed().as_secs_f64() * 1000.0);
        let text = String::from_utf8_lossy(&out.stdout);
        let mut parts = text.split_whitespace().map(|v| v.parse::<f64>().unwrap());
        import.push(parts.next().expect("a time"));
        py_rss.push(parts.next().expect("a size"));
    }
    summary("import boto3 and create two clients", import, "ms");
    summary("the whole process (interpreter start, exit)", whole, "ms");
    summary("peak resident memory (ru_maxrss)", py_rss, "MB");
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

fn deploy_bin_if_built(name: &str) -> Option<PathBuf> {
    let bin = target_dir().join("deploy").join(name);
    bin.exists().then_some(bin)
}
