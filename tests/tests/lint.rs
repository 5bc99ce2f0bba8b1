//! `cachewatch lint` through the built binary, as a team runs it locally and in CI: the exit
//! codes a CI job reads, the three formats, a team's own rules, the weekly organisation table,
//! bad input, and a generated repository of tens of thousands of files with planted findings.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use cachewatch_tests::{fixture, workspace_bin};
use serde_json::Value;

fn lint(args: &[&str]) -> Output {
    Command::new(workspace_bin("cachewatch"))
        .arg("lint")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn repo(name: &str) -> String {
    fixture("lint").join(name).display().to_string()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

#[test]
fn a_clean_repository_exits_0_and_says_so() {
    let out = lint(&[&repo("java-lettuce/clean")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("clients: Lettuce 6.3.2.RELEASE (pom.xml:"),
        "{text}"
    );
    assert!(text.trim_end().ends_with("No finding."), "{text}");
}

#[test]
fn errors_exit_1_with_the_report_on_stdout_and_the_count_on_stderr() {
    let out = lint(&[&repo("java-lettuce/risky")]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("error[lettuce-cancel-commands-on-reconnect-failure] src/main/java/com/example/cache/RedisConfig.java:17"),
        "{text}"
    );
    assert_eq!(
        stderr(&out).trim(),
        "cachewatch: 4 findings at or above --fail-on error"
    );
}

#[test]
fn fail_on_sets_the_severity_that_fails_the_run() {
    // python/risky has one warning and no error.
    assert_eq!(lint(&[&repo("python/risky")]).status.code(), Some(0));
    assert_eq!(
        lint(&["--fail-on", "warning", &repo("python/risky")])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        lint(&["--fail-on", "never", &repo("java-lettuce/risky")])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn json_and_sarif_are_machine_readable() {
    let out = lint(&["--json", &repo("go/risky")]);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["clients"][0]["client"], "go-redis");
    assert_eq!(report["findings"].as_array().unwrap().len(), 2);
    assert_eq!(report["findings"][0]["rule"], "go-redis-timeout-disabled");

    let out = lint(&["--sarif", &repo("go/risky")]);
    let log: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let result = &log["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "go-redis-timeout-disabled");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "cache.go"
    );
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"],
        8
    );
}

#[test]
fn a_jedis_release_with_a_known_failover_bug_fails_the_run_and_cites_its_release_notes() {
    let out = lint(&["--json", &repo("java-jedis/risky")]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["clients"][0]["client"], "jedis");
    assert_eq!(report["clients"][0]["version"], "7.2.0");
    let bug = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "jedis-cluster-stale-primaries")
        .expect("the version finding");
    assert_eq!(bug["severity"], "error");
    assert_eq!(bug["path"], "pom.xml");
    assert_eq!(
        bug["sources"][0],
        "https://github.com/redis/jedis/releases/tag/v8.0.1"
    );
    // A release before the bug came in is clean.
    assert_eq!(lint(&[&repo("java-jedis/clean")]).status.code(), Some(0));
}

#[test]
fn a_teams_rules_directory_replaces_a_built_in_rule() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ours.toml"),
        r#"
[[rule]]
id = "go-redis-timeout-disabled"
severity = "warning"
title = "Accepted on batch jobs"
clients = ["go-redis"]
files = ["*.go"]
pattern = '''ReadTimeout:\s*-1'''
failure = "f"
fix = "x"
sources = ["https://pkg.go.dev/github.com/redis/go-redis/v9#Options"]
"#,
    )
    .unwrap();
    let rules = dir.path().display().to_string();
    let out = lint(&["--rules", &rules, &repo("go/risky")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("warning[go-redis-timeout-disabled] cache.go:8"));
}

#[test]
fn bad_input_exits_2_with_a_clear_message() {
    let out = lint(&["/nonexistent/repository"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out).trim(),
        "cachewatch: /nonexistent/repository is not a directory"
    );
    assert!(stdout(&out).is_empty());

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.toml"), "[[rule]]\nid = 1\n").unwrap();
    let rules = dir.path().display().to_string();
    let out = lint(&["--rules", &rules, &repo("go/risky")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("bad.toml"), "{}", stderr(&out));

    let out = lint(&["--fail-on", "sometimes", &repo("go/risky")]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_organisation_report_is_one_row_per_repository() {
    let out = lint(&["--org-report", &repo("go")]);
    assert_eq!(out.status.code(), Some(1));
    let table = stdout(&out);
    let rows: Vec<&str> = table.lines().filter(|l| l.starts_with("| ")).collect();
    assert_eq!(
        rows,
        vec![
            "| repository | clients | go-redis-timeout-disabled | total |",
            "| clean | go-redis | | 0 |",
            "| risky | go-redis | 2 | 2 |",
        ]
    );
    assert!(table.contains("1 of 2 repositories have findings."));
}

/// Writes a repository of `modules` × 1,000 files: mostly harmless code, a known set of
/// findings, and ignored build output that carries findings that must not be reported.
/// Answers the planted findings (path, line) and how many files the linter should read.
fn generate(root: &Path, modules: usize) -> (Vec<(String, usize)>, usize) {
    std::fs::write(root.join(".gitignore"), "target/\nnode_modules/\n").unwrap();
    std::fs::write(
        root.join("pom.xml"),
        "<project>\n<dependencies>\n<dependency>\n<artifactId>lettuce-core</artifactId>\n<version>6.3.2.RELEASE</version>\n</dependency>\n</dependencies>\n</project>\n",
    )
    .unwrap();
    let mut planted = Vec::new();
    let mut readable = 1;
    for m in 0..modules {
        for d in 0..10 {
            let dir = root.join(format!("m{m:02}/src/p{d}"));
            std::fs::create_dir_all(&dir).unwrap();
            for f in 0..100 {
                let i = (m * 10 + d) * 100 + f;
                let (name, body) = if i % 997 == 0 {
                    planted.push((format!("m{m:02}/src/p{d}/Dns{i}.java"), 3));
                    (
                        format!("Dns{i}.java"),
                        "class Dns {\n  static {\n    java.security.Security.setProperty(\"networkaddress.cache.ttl\", \"-1\");\n  }\n}\n".to_string(),
                    )
                } else if i % 3 == 0 {
                    (
                        format!("cache{i}.py"),
                        "import redis\nr = redis.Redis(host='h', socket_timeout=2)\n".to_string(),
                    )
                } else if i % 3 == 1 {
                    (
                        format!("Svc{i}.java"),
                        "class Svc {\n  // networkaddress.cache.ttl=10\n}\n".to_string(),
                    )
                } else {
                    (
                        format!("notes{i}.md"),
                        "networkaddress.cache.ttl=-1 is what not to do\n".to_string(),
                    )
                };
                if !name.ends_with(".md") {
                    readable += 1;
                }
                std::fs::write(dir.join(name), body).unwrap();
            }
        }
        let ignored = root.join(format!("m{m:02}/target"));
        std::fs::create_dir_all(&ignored).unwrap();
        std::fs::write(ignored.join("Gen.java"), "networkaddress.cache.ttl=-1\n").unwrap();
    }
    planted.sort();
    (planted, readable)
}

#[test]
fn a_generated_repository_of_twenty_thousand_files_gets_exactly_its_planted_findings() {
    let dir = tempfile::tempdir().unwrap();
    let (planted, readable) = generate(dir.path(), 20);
    let root: PathBuf = dir.path().to_path_buf();
    let out = lint(&["--json", "--fail-on", "never", &root.display().to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let mut found: Vec<(String, usize)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert_eq!(f["rule"], "jvm-dns-cache-forever");
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap() as usize,
            )
        })
        .collect();
    found.sort();
    assert_eq!(found, planted);
    assert_eq!(planted.len(), 21);
    // Python and Java files and the manifest are read; Markdown and ignored files are not.
    assert_eq!(report["files_read"], readable);
}
