//! The `cachewatch` binary as command-line tools are expected to behave: exports of any size,
//! CSV a spreadsheet can open safely, quiet ends of closed pipes, errors said once, progress only
//! on a terminal, completions, a manual page, a version naming its commit, `NO_COLOR`, `--quiet`.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use cachewatch_tests::{TempCli as Cli, assert_contains_all, workspace_bin};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A DescribeEvents record.
fn record(source: &str, at: DateTime<Utc>, message: &str) -> String {
    json!({
        "SourceIdentifier": source,
        "SourceType": "cache-cluster",
        "Date": at.to_rfc3339(),
        "Message": message,
    })
    .to_string()
}

/// `count` snapshot events of four clusters, four of them in each second.
fn snapshots(count: usize) -> Vec<String> {
    let start = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    (0..count)
        .map(|i| {
            let cluster = format!("orders{}-0001-001", i % 4);
            record(
                &cluster,
                start + Duration::seconds((i / 4) as i64),
                &format!(
                    "Snapshot succeeded for snapshot with ID 'automatic.{i}' of cache cluster with ID '{cluster}'"
                ),
            )
        })
        .collect()
}

fn ids_of_json_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| {
            let event: Value = serde_json::from_str(line).unwrap();
            event["id"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[test]
fn events_all_exports_a_history_beyond_the_search_limit_once_each() {
    let cli = Cli::new();
    let input = cli.file("big.jsonl", &snapshots(10_200));
    cli.ok(&["ingest", &input]);

    let refused = cli.run(&["events", "--limit", "10200", "--jsonl"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("--all"), "{}", stderr(&refused));

    let lines = cli.ok(&["events", "--all", "--jsonl"]);
    let ids = ids_of_json_lines(&lines);
    let distinct: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!((ids.len(), distinct.len()), (10_200, 10_200));

    let csv = cli.ok(&["events", "--all", "--csv"]);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let csv_ids: Vec<String> = reader
        .records()
        .map(|r| r.unwrap().get(0).unwrap().to_owned())
        .collect();
    assert_eq!(csv_ids, ids, "CSV and JSON Lines carry the same events");

    // Filters still apply to an export.
    let one_cluster = cli.ok(&[
        "events",
        "--all",
        "--jsonl",
        "--cluster",
        "orders1-0001-001",
    ]);
    assert_eq!(one_cluster.lines().count(), 10_200 / 4);

    let table = cli.run(&["events", "--all"]);
    assert_eq!(table.status.code(), Some(2));
    assert!(
        stderr(&table).contains("--csv or --jsonl"),
        "{}",
        stderr(&table)
    );
}

#[test]
fn csv_cells_from_event_text_never_run_as_formulas_nor_carry_control_characters() {
    let cli = Cli::new();
    let at = DateTime::parse_from_rfc3339("2026-11-01T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let input = cli.file(
        "hostile.json",
        &[record(
            "=HYPERLINK(\"http://evil.example\",\"open\")",
            at,
            "Snapshot succeeded for snapshot with ID 'a\u{1b}[31mb\u{7}' of cache cluster with ID 'orders-0001-001'",
        )],
    );
    cli.ok(&["ingest", &input]);

    let csv = cli.ok(&["events", "--csv"]);
    assert!(
        !csv.contains(['\u{1b}', '\u{7}']),
        "control characters reached the CSV: {csv:?}"
    );
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().unwrap().clone();
    let row = reader.records().next().unwrap().unwrap();
    for (name, cell) in header.iter().zip(row.iter()) {
        assert!(
            !cell.starts_with(['=', '+', '-', '@']),
            "{name} would run as a formula: {cell:?}"
        );
    }
    let source = header.iter().position(|h| h == "source_id").unwrap();
    assert_eq!(
        row.get(source),
        Some("'=HYPERLINK(\"http://evil.example\",\"open\")")
    );
    let exported = cli.ok(&["events", "--all", "--csv"]);
    assert_eq!(exported, csv, "the export writes the same cells");
}

#[test]
fn a_reader_that_goes_away_ends_the_command_quietly_after_the_work_is_done() {
    let cli = Cli::new();
    let input = cli.file("big.jsonl", &snapshots(2_000));
    let mut child = cli
        .command(&["ingest", &input])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before the command writes anything, as `| head` does once satisfied.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(stderr(&out), "", "nothing said on a closed pipe");
    assert_eq!(
        out.status.code(),
        Some(141),
        "the exit of a tool stopped by SIGPIPE"
    );
    let stored = cli.ok(&["events", "--all", "--jsonl"]);
    assert_eq!(stored.lines().count(), 2_000, "the whole input was stored");

    let mut export = cli
        .command(&["events", "--all", "--csv"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(export.stdout.take());
    let out = export.wait_with_output().unwrap();
    assert_eq!((stderr(&out).as_str(), out.status.code()), ("", Some(141)));
}

#[test]
fn a_short_link_secret_is_refused_in_one_sentence() {
    let cli = Cli::new();
    let out = cli
        .command(&["serve", "--addr", "127.0.0.1:0"])
        .env("CACHEWATCH_LINK_SECRET", "short")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let said = stderr(&out);
    assert_eq!(said.lines().count(), 1, "{said}");
    assert_eq!(
        said.matches("the link secret is 5 bytes long").count(),
        1,
        "said once: {said}"
    );
    assert!(said.contains("CACHEWATCH_LINK_SECRET"), "{said}");
}

#[test]
fn a_large_ingest_shows_progress_on_a_terminal_only() {
    let cli = Cli::new();
    let input = cli.file("big.jsonl", &snapshots(1_500));
    let piped = cli.run(&["ingest", &input]);
    assert!(piped.status.success());
    assert_eq!(stderr(&piped), "", "no progress in a pipe");

    // On a terminal: `script` (util-linux) gives the command a pseudo-terminal.
    let again = Cli::new();
    let input = again.file("big.jsonl", &snapshots(1_500));
    let binary = workspace_bin("cachewatch");
    let line = format!("{} ingest {input}", binary.display());
    let on_terminal = |extra: &str| {
        let out = Command::new("script")
            .args(["-qec", &format!("{line}{extra}"), "/dev/null"])
            .env("CACHEWATCH_DB", &again.db)
            .env("TERM", "xterm")
            .stdin(Stdio::null())
            .output()
            .expect("script (util-linux) runs");
        assert!(out.status.success(), "{}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let shown = on_terminal("");
    assert!(shown.contains("storing  ["), "{shown:?}");
    // JSON Lines are read a run at a time: the progress is in bytes of the file.
    assert!(shown.contains(" KB read"), "{shown:?}");
    assert!(shown.contains("1500 events, 1500 new"), "{shown:?}");
    let quiet = on_terminal(" --quiet");
    assert!(!quiet.contains("storing"), "{quiet:?}");
    assert!(!quiet.contains("events,"), "{quiet:?}");
}

#[test]
fn quiet_keeps_summaries_and_notes_away_but_not_what_was_asked_for() {
    let cli = Cli::new();
    let input = cli.file("few.jsonl", &snapshots(3));
    let out = cli.run(&["--quiet", "ingest", &input]);
    assert!(out.status.success());
    assert_eq!(
        (out.stdout.as_slice(), out.stderr.as_slice()),
        (&b""[..], &b""[..])
    );
    assert_eq!(cli.ok(&["events", "-q", "--jsonl"]).lines().count(), 3);
    let failed = cli.run(&["-q", "show", "ffffffff"]);
    assert_eq!(failed.status.code(), Some(2));
    assert!(
        stderr(&failed).contains("no event"),
        "errors are still said"
    );
}

#[test]
fn completions_load_in_their_shells_and_name_the_subcommands() {
    let cli = Cli::new();
    let bash = cli.ok(&["completions", "bash"]);
    assert!(
        bash.contains("backfill") && bash.contains("--all"),
        "{bash}"
    );
    let script = cli.file("cachewatch.bash", &[bash]);
    let loaded = Command::new("bash")
        .args(["-c", &format!("source {script} && complete -p cachewatch")])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&loaded.stdout).contains("cachewatch"),
        "bash registers the completion: {}",
        stderr(&loaded)
    );
    let zsh = cli.ok(&["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef cachewatch"), "{zsh}");
    let fish = cli.ok(&["completions", "fish"]);
    assert_contains_all(&fish, &["complete -c cachewatch", "upcoming"]);
    let unknown = cli.run(&["completions", "powershell"]);
    assert_eq!(unknown.status.code(), Some(2));
}

#[test]
fn the_manual_page_renders_and_documents_every_subcommand() {
    let cli = Cli::new();
    let roff = cli.ok(&["man"]);
    assert!(roff.contains(".TH cachewatch 1"), "{roff}");
    let page = cli.file("cachewatch.1", &[roff]);
    let rendered = Command::new("groff")
        .args(["-man", "-Tutf8", "-P-cbou", &page])
        .output()
        .expect("groff runs (the Debian package groff-base)");
    let text = String::from_utf8_lossy(&rendered.stdout);
    for section in [
        "CACHEWATCH INGEST",
        "CACHEWATCH EVENTS",
        "CACHEWATCH BACKFILL",
        "CACHEWATCH COMPLETIONS",
    ] {
        assert!(text.contains(section), "{section} missing from {text}");
    }
    assert!(text.contains("--all"), "{text}");
}

#[test]
fn version_names_the_commit_it_was_built_from() {
    let cli = Cli::new();
    let version = cli.ok(&["--version"]);
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let commit = Command::new("git")
        .args(["log", "-1", "--format=%h"])
        .current_dir(workspace)
        .output()
        .expect("git runs");
    let commit = String::from_utf8(commit.stdout).unwrap();
    assert!(
        !commit.trim().is_empty(),
        "the tests run from a git checkout"
    );
    assert!(
        version.starts_with("cachewatch 0.") && version.contains(commit.trim()),
        "{version:?} does not name {commit:?}"
    );
}

#[test]
fn no_color_takes_the_colours_out_of_errors() {
    let cli = Cli::new();
    let coloured = cli
        .command(&["events", "--no-such-flag"])
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap();
    assert!(
        stderr(&coloured).contains('\u{1b}'),
        "forced colours are shown: {}",
        stderr(&coloured)
    );
    let plain = cli
        .command(&["events", "--no-such-flag"])
        .env("CLICOLOR_FORCE", "1")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(plain.status.code(), Some(2));
    assert!(!stderr(&plain).contains('\u{1b}'), "{}", stderr(&plain));
    assert!(stderr(&plain).contains("--no-such-flag"));
}

#[test]
fn every_input_error_is_said_once_with_what_to_do() {
    let cli = Cli::new();
    let bad_file = cli.file("bad.json", &["{\"Records\": [".to_owned()]);
    let cases: [(&[&str], &str); 7] = [
        (&["ingest", "/nonexistent/input.json"], "cannot read"),
        (&["ingest", &bad_file], "nothing was stored"),
        (&["events", "--since", "yesterday-ish"], "yesterday-ish"),
        (&["events", "--limit", "0"], "--limit"),
        (
            &["events", "--since", "1d", "--until", "2d"],
            "--until: comes before since",
        ),
        (&["show", "zz"], "not an event id"),
        (&["--tz", "Mars/Olympus", "events"], "Mars/Olympus"),
    ];
    for (args, expected) in cases {
        let out = cli.run(args);
        let said = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {said}");
        assert_eq!(said.lines().count(), 1, "{args:?} says one line: {said}");
        assert!(said.contains(expected), "{args:?}: {said}");
        let mut parts: Vec<&str> = said.trim_end().split(": ").collect();
        let before = parts.len();
        parts.dedup();
        assert_eq!(parts.len(), before, "{args:?} repeats itself: {said}");
    }
}

#[test]
fn without_aws_credentials_a_command_says_what_to_set() {
    let cli = Cli::new();
    let out = cli
        .command(&["backfill", "--hours", "1"])
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", cli.dir.path().join("no-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            cli.dir.path().join("no-credentials"),
        )
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE")
        .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let said = stderr(&out);
    assert_contains_all(
        &said,
        &[
            "no credentials found",
            "this needs AWS credentials: set AWS_PROFILE",
        ],
    );
}
