//! `cachewatch probe` against a real `redis-server`: the server is stopped for a while and the
//! probe must measure that while; a replica is promoted and the probe must say so.

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use cachewatch_tests::moto::free_port;
use cachewatch_tests::redis::RedisServer;
use cachewatch_tests::{assert_contains_all, workspace_bin};
use serde_json::Value;

/// A probe running in the background, killed if a test ends before it does.
struct RunningProbe {
    child: Option<Child>,
    limit: Duration,
}

impl RunningProbe {
    fn start(args: &[&str], limit: Duration) -> Self {
        let child = probe_command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cachewatch starts");
        RunningProbe {
            child: Some(child),
            limit,
        }
    }

    /// Waits for the probe to end by itself (its --duration) and answers what it printed.
    fn finish(mut self) -> Output {
        let mut child = self.child.take().expect("not finished yet");
        let deadline = Instant::now() + self.limit;
        while child
            .try_wait()
            .expect("the probe can be waited on")
            .is_none()
        {
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("the probe did not end within {:?}", self.limit);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        child.wait_with_output().expect("the probe's output")
    }
}

impl Drop for RunningProbe {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn probe_command(args: &[&str]) -> Command {
    let mut cmd = Command::new(workspace_bin("cachewatch"));
    cmd.arg("probe")
        .args(args)
        .env_remove("CACHEWATCH_TZ")
        .env_remove("CACHEWATCH_CONFIG")
        .env_remove("REDISCLI_AUTH")
        .stdin(Stdio::null());
    cmd
}

/// The one JSON object a successful `--json` probe prints.
fn summary(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "the probe failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "standard output is not one JSON object ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// Waits until the probe has written its key: it is ticking.
fn wait_for_ticks(server: &RedisServer) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.command(&["KEYS", "cachewatch:probe:*"]).is_empty() {
        assert!(Instant::now() < deadline, "the probe never wrote its key");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The probe of `url` every 50 ms for `duration`, reporting in JSON, given `within` to end.
fn probe_every_50ms(url: &str, duration: &str, within: Duration) -> RunningProbe {
    let args = [
        "--url",
        url,
        "--interval",
        "50ms",
        "--duration",
        duration,
        "--json",
    ];
    RunningProbe::start(&args, within)
}

#[test]
fn a_server_stopped_for_a_while_is_measured_as_one_gap_of_that_while() {
    let mut server = RedisServer::start();
    server.seed(100);
    let url = server.url();
    let probe = probe_every_50ms(&url, "6s", Duration::from_secs(30));
    wait_for_ticks(&server);
    std::thread::sleep(Duration::from_millis(500));

    let killed = server.kill();
    std::thread::sleep(Duration::from_millis(1500));
    let answering = server.restart();
    let output = probe.finish();

    let summary = summary(&output);
    let stopped_ms = (answering - killed).as_millis() as i64;
    let longest = summary["longest_gap_ms"].as_i64().expect("longest_gap_ms");
    assert!(
        (longest - stopped_ms).abs() <= 200,
        "the server was down {stopped_ms} ms, the probe measured {longest} ms: {summary:#}"
    );
    let gaps = summary["gaps"].as_array().expect("gaps");
    assert_eq!(gaps.len(), 1, "one gap: {summary:#}");
    assert_eq!(gaps[0]["ms"], summary["longest_gap_ms"]);
    assert_eq!(gaps[0]["recovered"], true);
    for end in ["start", "end"] {
        let at = gaps[0][end].as_str().expect("a time");
        assert!(
            chrono::DateTime::parse_from_rfc3339(at).is_ok(),
            "{end} {at:?} is RFC 3339"
        );
    }
    assert!(
        summary["errors"]["connection_refused"]
            .as_u64()
            .unwrap_or(0)
            > 0,
        "a stopped server refuses connections: {summary:#}"
    );
    assert_eq!(summary["keys_before"], 100);
    assert_eq!(
        summary["keys_after"], 0,
        "a restart without persistence loses every key"
    );
    let (ticks, ok, failed) = (
        summary["ticks"].as_u64().unwrap(),
        summary["ok"].as_u64().unwrap(),
        summary["failed"].as_u64().unwrap(),
    );
    assert_eq!(ticks, ok + failed);
    assert!(ok > 0 && failed > 0, "{summary:#}");
    let status = String::from_utf8_lossy(&output.stderr);
    assert_contains_all(&status, &["down (connection_", "up again after"]);
}

#[test]
fn a_promoted_replica_is_reported_as_a_role_change_and_keeps_its_keys() {
    let primary = RedisServer::start();
    primary.seed(10);
    let replica = RedisServer::start_replica_of(&primary);
    let url = replica.url();
    let probe = probe_every_50ms(&url, "3s", Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(1000));

    assert_eq!(replica.command(&["REPLICAOF", "NO", "ONE"]), "OK");
    let output = probe.finish();

    let summary = summary(&output);
    let changes = summary["role_changes"].as_array().expect("role_changes");
    assert_eq!(changes.len(), 1, "{summary:#}");
    assert_eq!(changes[0]["from"], "replica");
    assert_eq!(changes[0]["to"], "master");
    assert_eq!(
        changes[0]["from_master"],
        format!("127.0.0.1:{}", primary.port())
    );
    assert!(
        summary["errors"]["readonly"].as_u64().unwrap_or(0) > 0,
        "writes to a replica are refused: {summary:#}"
    );
    assert_eq!(summary["gaps"][0]["first_error"], "readonly");
    assert_eq!(summary["gaps"][0]["recovered"], true);
    assert_eq!(summary["keys_before"], 10);
    assert_eq!(summary["keys_after"], 10, "a promotion loses no key");
    let status = String::from_utf8_lossy(&output.stderr);
    assert!(
        status.contains(&format!(
            "role: replica of 127.0.0.1:{} -> master",
            primary.port()
        )),
        "{status}"
    );
}

#[test]
fn a_healthy_server_gets_a_readable_summary_without_gaps() {
    let server = RedisServer::start();
    server.seed(3);

    let output = probe_command(&["--url", &server.url(), "--duration", "1s"])
        .output()
        .expect("cachewatch runs");

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert_contains_all(
        &text,
        &[
            "Longest unavailability: none",
            "Keys (DBSIZE): 3 before, 3 after",
            "Role: master throughout",
        ],
    );
    assert!(
        server.command(&["KEYS", "cachewatch:probe:*"]).is_empty(),
        "the probe removes its key"
    );
}

#[test]
fn a_bad_url_is_an_input_error() {
    let output = probe_command(&["--url", "127.0.0.1:6379", "--duration", "1s"])
        .output()
        .expect("cachewatch runs");

    assert_eq!(output.status.code(), Some(2));
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("not a Redis URL"), "{error}");
}

#[test]
fn a_server_that_cannot_be_reached_at_the_start_stops_the_probe_with_the_reason() {
    let url = format!("redis://127.0.0.1:{}", free_port());

    let output = probe_command(&["--url", &url, "--duration", "1s", "--json"])
        .output()
        .expect("cachewatch runs");

    assert_eq!(output.status.code(), Some(1));
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(
        error.contains(&format!("cannot start probing {url}/0")),
        "{error}"
    );
    assert!(error.contains("refused"), "{error}");
    assert!(output.stdout.is_empty(), "no summary of nothing");
}

#[test]
fn a_wrong_password_stops_the_probe_as_an_authentication_failure() {
    let server = RedisServer::start();
    assert_eq!(
        server.command(&["CONFIG", "SET", "requirepass", "right"]),
        "OK"
    );
    let url = format!("redis://:wrong@127.0.0.1:{}", server.port());

    let output = probe_command(&["--url", &url, "--duration", "1s"])
        .output()
        .expect("cachewatch runs");

    assert_eq!(output.status.code(), Some(1));
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("WRONGPASS"), "{error}");
    assert!(
        !error.contains("wrong@"),
        "the password is not printed: {error}"
    );

    let from_env = probe_command(&["--url", &server.url(), "--duration", "300ms", "--json"])
        .env("REDISCLI_AUTH", "right")
        .output()
        .expect("cachewatch runs");
    assert_eq!(
        summary(&from_env)["failed"],
        0,
        "REDISCLI_AUTH gives the password"
    );
}

#[test]
fn tls_is_spoken_and_the_certificate_is_checked() {
    let server = RedisServer::start_tls();
    server.seed(2);
    let url = server.tls_url();

    let trusted = probe_command(&["--url", &url, "--duration", "500ms", "--json"])
        .env("SSL_CERT_FILE", server.ca_file())
        .output()
        .expect("cachewatch runs");
    let summary = summary(&trusted);
    assert!(summary["ok"].as_u64().unwrap() > 0, "{summary:#}");
    assert_eq!(summary["failed"], 0, "{summary:#}");
    assert_eq!(summary["keys_before"], 2);
    assert!(
        summary["target"]
            .as_str()
            .unwrap()
            .starts_with("rediss://localhost:")
    );

    // Trusting only the server's own certificate, not the authority that signed it.
    let untrusted = probe_command(&["--url", &url, "--duration", "500ms"])
        .env(
            "SSL_CERT_FILE",
            server.ca_file().with_file_name("server.crt"),
        )
        .env_remove("SSL_CERT_DIR")
        .output()
        .expect("cachewatch runs");
    assert_eq!(untrusted.status.code(), Some(1));
    let error = String::from_utf8_lossy(&untrusted.stderr);
    assert_contains_all(
        &error,
        &["TLS handshake with localhost failed", "certificate"],
    );
}
