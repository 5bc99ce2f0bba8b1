//! The linter on the fixture repositories of `tests/fixtures/lint/`: one directory per
//! ecosystem, a `risky` repository written from each client's documentation with the settings
//! the rules are about, and a `clean` one configured as the documentation recommends.
//!
//! Golden files under `tests/fixtures/lint/expected/` pin the whole text, JSON and SARIF
//! reports; `CACHEWATCH_UPDATE_GOLDEN=1` rewrites them. Every SARIF log is validated against
//! the SARIF 2.1.0 JSON schema vendored in `tests/fixtures/lint/sarif/`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use cachewatch_lint::{
    Client, Format, LintError, Request, RuleSet, Severity, Target, Threshold, lint_repository,
    render,
};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/lint")
}

fn repo(name: &str) -> PathBuf {
    fixtures().join(name)
}

fn rules_found(name: &str) -> Vec<String> {
    let report = lint_repository(&repo(name), &RuleSet::embedded().unwrap()).unwrap();
    report.findings.iter().map(|f| f.rule.clone()).collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

#[test]
fn each_risky_repository_is_found_out_for_what_its_documentation_warns_about() {
    let cases: &[(&str, &[&str])] = &[
        (
            "java-lettuce/risky",
            &[
                "lettuce-below-6-2-2",
                "hardcoded-node-endpoint",
                "suppression-without-reason",
                "jvm-dns-cache-forever",
                "lettuce-cluster-topology-refresh-off",
                "lettuce-cancel-commands-on-reconnect-failure",
            ],
        ),
        (
            "spring-boot/risky",
            &[
                "hardcoded-node-endpoint",
                "spring-lettuce-cluster-refresh-off",
                "spring-redis-health-on-cluster",
                "spring-redis-health-in-liveness",
            ],
        ),
        ("python/risky", &["hardcoded-node-endpoint"]),
        ("go/risky", &["go-redis-timeout-disabled"]),
        (
            "node-ioredis/risky",
            &[
                "ioredis-below-4",
                "ioredis-cluster-tls-without-dnslookup",
                "ioredis-commands-wait-forever",
            ],
        ),
        ("dotnet/risky", &["stackexchange-abort-connect"]),
        (
            "java-jedis/risky",
            &[
                "jedis-timeout-infinite",
                "jedis-cluster-single-attempt",
                "jedis-cluster-stale-primaries",
            ],
        ),
        (
            "python-redis-py/risky",
            &[
                "redis-py-timeout-disabled",
                "redis-py-no-socket-timeout",
                "redis-py-retries-disabled",
            ],
        ),
        (
            "node-redis/risky",
            &[
                "node-redis-reconnect-disabled",
                "node-redis-command-timeout-disabled",
            ],
        ),
        (
            "rust/risky",
            &[
                "redis-rs-timeout-disabled",
                "redis-rs-connection-without-timeout",
                "redis-rs-cluster-without-response-timeout",
                "redis-rs-cluster-retries-disabled",
            ],
        ),
    ];
    for (name, expected) in cases {
        let found: BTreeSet<String> = rules_found(name).into_iter().collect();
        assert_eq!(found, set(expected), "{name}");
    }
}

#[test]
fn clean_repositories_have_no_finding() {
    for name in [
        "java-lettuce/clean",
        "spring-boot/clean",
        "python/clean",
        "go/clean",
        "node-ioredis/clean",
        "node-redis/clean",
        "dotnet/clean",
        "rust/clean",
        "java-jedis/clean",
        "python-redis-py/clean",
    ] {
        assert_eq!(rules_found(name), Vec::<String>::new(), "{name}");
    }
}

/// A client and the version its manifest gives.
type Named<'a> = (Client, Option<&'a str>);

#[test]
fn clients_and_versions_come_from_manifests_and_lock_files() {
    let rules = RuleSet::embedded().unwrap();
    let cases: &[(&str, &[Named])] = &[
        (
            "java-lettuce/risky",
            &[(Client::Lettuce, Some("6.1.5.RELEASE"))],
        ),
        ("spring-boot/clean", &[(Client::SpringDataRedis, None)]),
        (
            "python/clean",
            &[
                (Client::RedisPy, Some("5.0.1")),
                (Client::RedisPy, Some("^5.0")),
            ],
        ),
        ("go/risky", &[(Client::GoRedis, Some("v9.5.1"))]),
        (
            "node-ioredis/clean",
            &[
                (Client::Ioredis, Some("5.3.2")),
                (Client::Ioredis, Some("^5.3.2")),
            ],
        ),
        ("node-redis/clean", &[(Client::NodeRedis, Some("^4.6.13"))]),
        (
            "dotnet/clean",
            &[
                (Client::StackexchangeRedis, Some("2.7.33")),
                (Client::StackexchangeRedis, Some("2.7.33")),
            ],
        ),
        ("rust/clean", &[(Client::RedisRs, Some("0.25"))]),
        ("java-jedis/risky", &[(Client::Jedis, Some("7.2.0"))]),
        ("java-jedis/clean", &[(Client::Jedis, Some("6.1.0"))]),
        (
            "python-redis-py/risky",
            &[(Client::RedisPy, Some("==7.4.0"))],
        ),
        (
            "python-redis-py/clean",
            &[(Client::RedisPy, Some(">=5.0.1"))],
        ),
        ("node-redis/risky", &[(Client::NodeRedis, Some("^4.7.0"))]),
        ("rust/risky", &[(Client::RedisRs, Some("0.27"))]),
    ];
    for (name, expected) in cases {
        let report = lint_repository(&repo(name), &rules).unwrap();
        let found: Vec<Named> = report
            .clients
            .iter()
            .map(|d| (d.client, d.version.as_deref()))
            .collect();
        assert_eq!(&found, expected, "{name}");
    }
}

#[test]
fn a_suppression_with_a_reason_silences_and_one_without_is_a_finding() {
    let report =
        lint_repository(&repo("java-lettuce/risky"), &RuleSet::embedded().unwrap()).unwrap();
    assert_eq!(report.suppressed, 1);
    let endpoints: Vec<(usize, &str)> = report
        .findings
        .iter()
        .filter(|f| f.path.ends_with("Endpoints.java"))
        .map(|f| (f.line, f.rule.as_str()))
        .collect();
    // Line 7 is silenced (its suppression gives a reason); line 9's suppression has none, so
    // the endpoint under it is still reported, and so is the suppression.
    assert_eq!(
        endpoints,
        vec![
            (5, "hardcoded-node-endpoint"),
            (8, "suppression-without-reason"),
            (9, "hardcoded-node-endpoint"),
        ]
    );
}

/// The findings of a repository as (path, line, rule).
fn located(name: &str) -> Vec<(String, usize, String)> {
    let report = lint_repository(&repo(name), &RuleSet::embedded().unwrap()).unwrap();
    report
        .findings
        .into_iter()
        .map(|f| (f.path, f.line, f.rule))
        .collect()
}

fn at(path: &str, line: usize, rule: &str) -> (String, usize, String) {
    (path.to_string(), line, rule.to_string())
}

#[test]
fn client_rules_point_at_the_risky_line_and_pass_its_safe_neighbour() {
    let jedis = "src/main/java/com/example/cache/JedisConfig.java";
    // Line 19 passes a database of 0 after a 2000 ms timeout: not a finding.
    assert_eq!(
        located("java-jedis/risky"),
        vec![
            at("pom.xml", 10, "jedis-cluster-stale-primaries"),
            at(jedis, 14, "jedis-timeout-infinite"),
            at(jedis, 25, "jedis-timeout-infinite"),
            at(jedis, 30, "jedis-cluster-single-attempt"),
        ]
    );
    // jobs.py sets a (disabled) socket timeout, so only sessions.py lacks one.
    assert_eq!(
        located("python-redis-py/risky"),
        vec![
            at("app/jobs.py", 9, "redis-py-timeout-disabled"),
            at("app/sessions.py", 6, "redis-py-no-socket-timeout"),
            at("app/sessions.py", 10, "redis-py-retries-disabled"),
        ]
    );
    assert_eq!(
        located("node-redis/risky"),
        vec![
            at("src/cache.js", 5, "node-redis-reconnect-disabled"),
            at("src/cache.js", 10, "node-redis-command-timeout-disabled"),
        ]
    );
    assert_eq!(
        located("rust/risky"),
        vec![
            at("src/main.rs", 6, "redis-rs-connection-without-timeout"),
            at("src/main.rs", 9, "redis-rs-timeout-disabled"),
            at("src/main.rs", 12, "redis-rs-cluster-retries-disabled"),
            at(
                "src/main.rs",
                12,
                "redis-rs-cluster-without-response-timeout"
            ),
        ]
    );
}

#[test]
fn a_version_rule_with_a_range_flags_only_the_releases_inside_it() {
    let rules = RuleSet::embedded().unwrap();
    let flagged: Vec<&str> = ["6.1.0", "6.2.0", "7.5.3", "8.0.0", "8.0.1", "8.1.0"]
        .into_iter()
        .filter(|version| {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(
                dir.path().join("build.gradle"),
                format!("dependencies {{\n  implementation 'redis.clients:jedis:{version}'\n}}\n"),
            )
            .unwrap();
            let report = lint_repository(dir.path(), &rules).unwrap();
            report
                .findings
                .iter()
                .any(|f| f.rule == "jedis-cluster-stale-primaries")
        })
        .collect();
    assert_eq!(flagged, vec!["6.2.0", "7.5.3", "8.0.0"]);
}

#[test]
fn the_version_rule_from_a_changelog_cites_the_release_that_fixed_it() {
    let rules = RuleSet::embedded().unwrap();
    let rule = rules.get("jedis-cluster-stale-primaries").unwrap();
    assert_eq!(
        rule.sources[0],
        "https://github.com/redis/jedis/releases/tag/v8.0.1"
    );
    assert!(rule.failure.contains("from 6.2.0"), "{}", rule.failure);
}

fn golden(name: &str, actual: &str) {
    let path = fixtures().join("expected").join(name);
    if std::env::var_os("CACHEWATCH_UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (CACHEWATCH_UPDATE_GOLDEN=1 writes it)",
            path.display()
        )
    });
    assert_eq!(actual, expected, "{name} differs from its golden file");
}

fn output(name: &str, format: Format) -> String {
    cachewatch_lint::run(&Request {
        target: Target::Repository(repo(name)),
        rules_dir: None,
        format,
        fail_on: Threshold::AtLeast(Severity::Error),
    })
    .unwrap()
    .output
}

#[test]
fn the_text_report_matches_its_golden_file() {
    golden(
        "java-lettuce-risky.txt",
        &output("java-lettuce/risky", Format::Text),
    );
    golden(
        "spring-boot-risky.txt",
        &output("spring-boot/risky", Format::Text),
    );
    golden("go-clean.txt", &output("go/clean", Format::Text));
}

#[test]
fn the_json_report_matches_its_golden_file() {
    golden(
        "java-lettuce-risky.json",
        &output("java-lettuce/risky", Format::Json),
    );
    golden(
        "node-ioredis-risky.json",
        &output("node-ioredis/risky", Format::Json),
    );
}

#[test]
fn the_sarif_log_matches_its_golden_file() {
    golden(
        "java-lettuce-risky.sarif",
        &output("java-lettuce/risky", Format::Sarif),
    );
}

#[test]
fn every_sarif_log_is_valid_sarif_2_1_0() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("sarif/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft4::new(&schema).expect("the SARIF schema compiles");
    for name in [
        "java-lettuce/risky",
        "spring-boot/risky",
        "python/risky",
        "go/risky",
        "node-ioredis/risky",
        "dotnet/risky",
        "go/clean",
        "java-jedis/risky",
        "python-redis-py/risky",
        "node-redis/risky",
        "rust/risky",
    ] {
        let log: serde_json::Value = serde_json::from_str(&output(name, Format::Sarif)).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&log)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}");
        let results = log["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), rules_found(name).len(), "{name}");
    }
}

#[test]
fn the_schema_check_rejects_a_log_that_breaks_sarif() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("sarif/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft4::new(&schema).unwrap();
    let mut log: serde_json::Value =
        serde_json::from_str(&output("go/risky", Format::Sarif)).unwrap();
    log["runs"][0]["results"][0]["level"] = serde_json::json!("fatal");
    assert!(!validator.is_valid(&log));
}

fn write_rules(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn a_rules_directory_replaces_a_rule_by_id_and_adds_new_ones() {
    let dir = tempfile::tempdir().unwrap();
    write_rules(
        dir.path(),
        "team.toml",
        r#"
[[rule]]
id = "go-redis-timeout-disabled"
severity = "note"
title = "Our platform allows it"
clients = ["go-redis"]
files = ["*.go"]
pattern = '''ReadTimeout:\s*-1'''
failure = "f"
fix = "x"
sources = ["https://pkg.go.dev/github.com/redis/go-redis/v9#Options"]

[[rule]]
id = "team-go-redis-cluster-addrs"
severity = "warning"
title = "A cluster client"
clients = ["go-redis"]
files = ["*.go"]
pattern = '''NewClusterClient'''
failure = "f"
fix = "x"
sources = ["https://pkg.go.dev/github.com/redis/go-redis/v9#ClusterOptions"]
"#,
    );
    let rules = RuleSet::embedded()
        .unwrap()
        .with_directory(dir.path())
        .unwrap();
    let report = lint_repository(&repo("go/risky"), &rules).unwrap();
    let found: Vec<(&str, Severity, usize)> = report
        .findings
        .iter()
        .map(|f| (f.rule.as_str(), f.severity, f.line))
        .collect();
    assert_eq!(
        found,
        vec![
            ("team-go-redis-cluster-addrs", Severity::Warning, 6),
            ("go-redis-timeout-disabled", Severity::Note, 8),
        ]
    );
    assert_eq!(report.failing(Threshold::AtLeast(Severity::Error)), 0);
    assert_eq!(report.failing(Threshold::AtLeast(Severity::Warning)), 1);
}

#[test]
fn a_broken_rules_directory_is_bad_input_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write_rules(dir.path(), "broken.toml", "[[rule]]\nid = \"x\"\n");
    let err = cachewatch_lint::run(&Request {
        target: Target::Repository(repo("go/risky")),
        rules_dir: Some(dir.path().to_path_buf()),
        format: Format::Text,
        fail_on: Threshold::AtLeast(Severity::Error),
    })
    .unwrap_err();
    assert!(matches!(err, LintError::Rules(_)));
    assert!(err.to_string().contains("broken.toml"), "{err}");
}

#[test]
fn gitignored_and_hidden_files_are_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join(".gitignore"), "build/\n").unwrap();
    for (path, text) in [
        (
            "src/A.java",
            "class A { String ttl = \"networkaddress.cache.ttl=-1\"; }\n",
        ),
        (
            "build/B.java",
            "class B { String ttl = \"networkaddress.cache.ttl=-1\"; }\n",
        ),
        (
            ".hidden/C.java",
            "class C { String ttl = \"networkaddress.cache.ttl=-1\"; }\n",
        ),
    ] {
        let file = root.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    let report = lint_repository(root, &RuleSet::embedded().unwrap()).unwrap();
    let paths: Vec<&str> = report.findings.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, vec!["src/A.java"]);
}

#[test]
fn a_hostile_line_cannot_drive_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Evil.java"),
        "String s = \"\u{1b}]0;pwned\u{7}\u{1b}[2J networkaddress.cache.ttl=-1\";\n",
    )
    .unwrap();
    let report = lint_repository(dir.path(), &RuleSet::embedded().unwrap()).unwrap();
    let text = render::text(&report);
    assert!(!text.contains('\u{1b}'), "{text}");
    assert!(text.contains("\\u{1b}]0;pwned\\u{7}"), "{text}");
}

#[test]
fn the_organisation_report_is_a_repository_by_rule_table() {
    let out = cachewatch_lint::run(&Request {
        target: Target::Organisation(fixtures().join("java-lettuce")),
        rules_dir: None,
        format: Format::Text,
        fail_on: Threshold::AtLeast(Severity::Error),
    })
    .unwrap();
    golden("org-java-lettuce.md", &out.output);
    assert_eq!(out.failing, 4);
}

#[test]
fn a_path_that_is_not_a_directory_is_bad_input() {
    let err = lint_repository(&repo("does-not-exist"), &RuleSet::embedded().unwrap()).unwrap_err();
    assert!(matches!(err, LintError::NotADirectory(_)));
}
