//! Every command in every rendered runbook is one the real tools accept.
//!
//! The commands come from the golden runbooks (`shared/core/tests/golden/*.md`), which the core
//! tests keep identical to what the templates render for every template and topology case.
//!
//! - Each `aws …` command runs in the real AWS CLI (the tests' venv) against a closed port on
//!   127.0.0.1, with dummy credentials and no AWS configuration read: it must fail only because
//!   it cannot connect, which the CLI gets to only after accepting the command, its options and
//!   their values (a usage, parameter or `--query` error comes first).
//! - Each `redis-cli …` command runs against real `redis-server`s started here on 127.0.0.1
//!   (plain and TLS, standalone and cluster mode), with host and port substituted, and must
//!   answer what it asks for.
//!
//! Every command must also be safe to paste: its words split as a POSIX shell splits them, with
//! no shell character (`;`, `$`, backtick, `|`, ...) outside quotes.

use std::collections::BTreeSet;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use cachewatch_tests::{tool, workspace_root};
use serde_json::{Value, json};

/// One Python process does the work that needs Python: splitting commands as a shell does,
/// running the AWS CLI in-process for every command, and making a TLS certificate.
const DRIVER: &str = r#"
import contextlib, datetime, io, ipaddress, json, shlex, sys

def unquoted_specials(cmd):
    found, quote, i = [], None, 0
    while i < len(cmd):
        c = cmd[i]
        if quote == "'":
            if c == "'":
                quote = None
        elif quote == '"':
            if c == "\\":
                i += 1
            elif c == '"':
                quote = None
            elif c in "$`":
                found.append(c)
        elif c == "\\":
            i += 1
        elif c in "'\"":
            quote = c
        elif c in ";&|<>()$`*?[]{}~\n":
            found.append(c)
        i += 1
    if quote:
        found.append("an unclosed " + quote)
    return found

def split(cmd):
    specials = unquoted_specials(cmd)
    if specials:
        return None, "shell characters outside quotes: " + " ".join(sorted(set(specials)))
    try:
        return shlex.split(cmd), None
    except ValueError as e:
        return None, "does not split into words: %s" % e

def run_aws(argv, endpoint):
    from awscli.clidriver import create_clidriver
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            rc = create_clidriver().main(argv[1:] + ["--endpoint-url", endpoint])
        except SystemExit as e:
            rc = e.code
    return rc, err.getvalue(), out.getvalue()

def make_cert(directory):
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256()))
    with open(directory + "/tls.crt", "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(directory + "/tls.key", "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))

request = json.load(sys.stdin)
if request["mode"] == "cert":
    make_cert(request["dir"])
    json.dump({}, sys.stdout)
    sys.exit(0)
results = []
for cmd in request["commands"]:
    argv, error = split(cmd)
    record = {"command": cmd, "argv": argv, "error": error}
    if argv and request["mode"] == "aws":
        record["rc"], record["stderr"], record["stdout"] = run_aws(argv, request["endpoint"])
    results.append(record)
json.dump(results, sys.stdout)
"#;

/// What the AWS CLI prints when it has accepted a command and fails to reach the endpoint.
const CONNECTION_ERROR: &str = "Could not connect to the endpoint URL";

/// The golden runbooks in Markdown (the GitHub checklists hold the same commands).
fn golden_runbooks() -> Vec<PathBuf> {
    let dir = workspace_root().join("shared/core/tests/golden");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    files.sort();
    files
}

/// The commands of the `sh` fenced blocks of a Markdown text, continuation lines joined.
fn commands_in(markdown: &str) -> Vec<String> {
    let mut commands = Vec::new();
    let mut fence: Option<(usize, bool)> = None; // (backticks, is a shell block)
    let mut current = String::new();
    for line in markdown.lines() {
        let trimmed = line.trim();
        let ticks = trimmed.chars().take_while(|&c| c == '`').count();
        match fence {
            None if ticks >= 3 => fence = Some((ticks, trimmed[ticks..].trim() == "sh")),
            None => {}
            Some((open, _)) if ticks >= open && trimmed.len() == ticks => {
                assert!(current.is_empty(), "a command ends with `\\`: {current}");
                fence = None;
            }
            Some((_, false)) => {}
            Some((_, true)) => {
                if let Some(head) = trimmed.strip_suffix('\\') {
                    current.push_str(head);
                } else {
                    current.push_str(trimmed);
                    commands.push(std::mem::take(&mut current));
                }
            }
        }
    }
    commands
}

/// Every distinct command of every golden runbook.
fn all_commands() -> Vec<String> {
    let files = golden_runbooks();
    assert!(
        files.len() >= 15,
        "expected the golden runbooks of every case, found {}",
        files.len()
    );
    let mut all = BTreeSet::new();
    for file in files {
        let markdown = std::fs::read_to_string(&file).expect("a golden runbook reads");
        all.extend(commands_in(&markdown));
    }
    all.into_iter().collect()
}

fn aws_commands() -> Vec<String> {
    all_commands()
        .into_iter()
        .filter(|c| c.starts_with("aws "))
        .collect()
}

fn redis_commands() -> Vec<String> {
    all_commands()
        .into_iter()
        .filter(|c| c.starts_with("redis-cli "))
        .collect()
}

/// Runs the driver in `mode` on `request`, with nothing from the environment but what is set
/// here: no AWS configuration, credentials or profile of the machine is read.
fn driver(mode: &str, mut request: Value, home: &Path) -> Value {
    request["mode"] = json!(mode);
    let mut child = Command::new(tool("python"))
        .args(["-c", DRIVER])
        .env_clear()
        .env("HOME", home)
        .env("PATH", "/usr/bin:/bin")
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "not-a-real-secret")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", home.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("no-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("AWS_RETRY_MODE", "standard")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the tests' Python starts");
    child
        .stdin
        .take()
        .expect("a stdin pipe")
        .write_all(request.to_string().as_bytes())
        .expect("the request is written");
    let output = child.wait_with_output().expect("the driver finishes");
    assert!(
        output.status.success(),
        "the driver failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the driver answers JSON")
}

/// A port on 127.0.0.1 that nothing listens on.
/// A loopback port nothing listens on, ever: a privileged port (the discard service's), which
/// no server of the tests binds and the kernel never hands out as an ephemeral port. A port
/// freed by a probe could be taken by another test's server before the command connects.
const CLOSED_PORT: u16 = 9;

fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("a loopback port"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("its address").port())
        .collect()
}

#[test]
fn the_runbooks_hold_every_kind_of_command_the_checks_are_for() {
    // Act
    let aws = aws_commands();
    let redis = redis_commands();

    // Assert
    let expected = [
        "aws elasticache describe-events --source-type cache-cluster",
        "aws elasticache describe-events --source-type replication-group",
        "aws elasticache create-snapshot --cache-cluster-id",
        "aws elasticache create-snapshot --replication-group-id",
        "aws elasticache test-failover --replication-group-id",
        "--primary-cluster-id",
        "--preferred-maintenance-window",
        "aws elasticache modify-cache-cluster",
        "aws elasticache increase-replica-count",
        "aws elasticache decrease-replica-count --replication-group-id",
        "--no-multi-az-enabled --no-automatic-failover-enabled",
        "describe-snapshots --snapshot-source manual",
        "aws elasticache wait replication-group-available",
        "aws cloudwatch get-metric-statistics --namespace AWS/ElastiCache --metric-name CurrItems",
        "--show-cache-node-info",
        "aws elasticache delete-snapshot",
        "aws elasticache modify-replication-group-shard-configuration --replication-group-id catalog --node-group-count 4",
        "--node-groups-to-remove 0002",
        "--replica-configuration NodeGroupId=0003,NewReplicaCount=3",
        "--num-cache-nodes 2 --cache-node-ids-to-remove 0002",
        "aws elasticache wait cache-cluster-available",
    ];
    for fragment in expected {
        assert!(
            aws.iter().any(|c| c.contains(fragment)),
            "no runbook command contains `{fragment}`"
        );
    }
    for fragment in [
        " INFO keyspace",
        " DBSIZE",
        " INFO replication",
        " CLUSTER NODES",
        "--cluster call",
        "DBSIZE --cluster-only-masters",
        " --tls",
        " --tls --askpass ",
        " --tls --user USER_NAME --askpass ",
    ] {
        assert!(
            redis.iter().any(|c| c.contains(fragment)),
            "no redis-cli command contains `{fragment}`"
        );
    }
    let others: Vec<String> = all_commands()
        .into_iter()
        .filter(|c| !c.starts_with("aws ") && !c.starts_with("redis-cli "))
        .collect();
    assert!(others.is_empty(), "commands no check covers: {others:#?}");
}

#[test]
fn every_aws_command_in_every_runbook_fails_only_to_connect() {
    // Arrange
    let home = tempfile::tempdir().expect("a temporary home");
    let commands = aws_commands();
    assert!(commands.len() >= 40, "only {} aws commands", commands.len());
    let endpoint = format!("http://127.0.0.1:{CLOSED_PORT}");

    // Act
    let results = driver(
        "aws",
        json!({ "commands": commands, "endpoint": endpoint }),
        home.path(),
    );

    // Assert
    let mut failures = Vec::new();
    for r in results.as_array().expect("a list of results") {
        let command = r["command"].as_str().unwrap_or_default();
        if let Some(error) = r["error"].as_str() {
            failures.push(format!("{command}\n  {error}"));
            continue;
        }
        let stderr = r["stderr"].as_str().unwrap_or_default();
        let connection_error_only = r["rc"] == json!(255)
            && stderr.contains(CONNECTION_ERROR)
            && !stderr.contains("usage:")
            && !stderr.contains("Parameter validation failed");
        if !connection_error_only {
            failures.push(format!("{command}\n  exit {}: {}", r["rc"], stderr.trim()));
        }
    }
    assert_eq!(
        results.as_array().map(Vec::len),
        Some(commands.len()),
        "one result per command"
    );
    assert!(
        failures.is_empty(),
        "the AWS CLI refused {} command(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A process started by this test, stopped when dropped.
struct Process {
    child: Child,
    name: String,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The redis-servers the commands run against: a standalone server (plain and TLS), one that
/// requires a password over TLS (AUTH, and an ACL user for `--user`), and two Redis Clusters
/// of three primaries with one replica each (plain and TLS).
struct Servers {
    plain: u16,
    tls: u16,
    auth_tls: u16,
    cluster_plain: u16,
    cluster_tls: u16,
    ca: PathBuf,
    _processes: Vec<Process>,
}

/// The password of the server that requires one, and of its ACL user.
const PASSWORD: &str = "cachewatch-test-password";
/// The ACL user the runbooks name as a placeholder under role-based access control.
const ACL_USER: &str = "USER_NAME";
/// The keys stored in each Redis Cluster before the commands run: a count that counts
/// replicas too would show twice as many.
const CLUSTER_KEYS: u64 = 30;
/// Primaries (and replicas, one each) of each test Redis Cluster.
const CLUSTER_PRIMARIES: usize = 3;

/// Runs a command with a time limit; kills it when the limit passes.
fn run(command: &mut Command, limit: Duration) -> Output {
    run_with_input(command, None, limit)
}

/// [`run`], with `input` written to the command's standard input (a password asked for).
fn run_with_input(command: &mut Command, input: Option<&str>, limit: Duration) -> Output {
    let mut child = command
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{command:?} does not start: {e}"));
    if let Some(text) = input {
        let mut stdin = child.stdin.take().expect("a stdin pipe");
        stdin
            .write_all(text.as_bytes())
            .expect("the input is written");
    }
    let deadline = Instant::now() + limit;
    loop {
        if child
            .try_wait()
            .expect("the child can be waited on")
            .is_some()
        {
            return child.wait_with_output().expect("its output");
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let output = child.wait_with_output().expect("its output");
            panic!(
                "{command:?} did not finish in {limit:?}: {}",
                String::from_utf8_lossy(&output.stdout)
            );
        }
        thread::sleep(Duration::from_millis(20));
    }
}

fn redis_cli(args: &[String]) -> Output {
    run(
        Command::new("redis-cli").args(args),
        Duration::from_secs(10),
    )
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Waits until `redis-cli args` answers `want` (a server starting, a cluster forming).
fn wait_for(args: &[String], want: &str, processes: &mut [Process]) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if stdout(&redis_cli(args)).contains(want) {
            return;
        }
        for p in processes.iter_mut() {
            if let Ok(Some(status)) = p.child.try_wait() {
                panic!("{} exited: {status}", p.name);
            }
        }
        assert!(
            Instant::now() < deadline,
            "no `{want}` from redis-cli {args:?}"
        );
        thread::sleep(Duration::from_millis(50));
    }
}

/// How to start the test's redis-servers: the files they share, and the ports of a server's
/// own TLS.
struct Launch<'a> {
    dir: &'a Path,
    cert: PathBuf,
    key: PathBuf,
}

impl Launch<'_> {
    fn tls_args(&self, port: u16) -> Vec<String> {
        vec![
            "--tls-port".into(),
            port.to_string(),
            "--tls-cert-file".into(),
            self.cert.display().to_string(),
            "--tls-key-file".into(),
            self.key.display().to_string(),
            "--tls-ca-cert-file".into(),
            self.cert.display().to_string(),
            "--tls-auth-clients".into(),
            "no".into(),
        ]
    }

    fn common(&self, name: &str) -> Vec<String> {
        vec![
            "--bind".into(),
            "127.0.0.1".into(),
            "--save".into(),
            String::new(),
            "--appendonly".into(),
            "no".into(),
            "--dir".into(),
            self.dir.display().to_string(),
            // A replica writes what it receives to its file: one file per server.
            "--dbfilename".into(),
            format!("{name}.rdb"),
            "--logfile".into(),
            self.dir.join(format!("{name}.log")).display().to_string(),
        ]
    }

    fn spawn(&self, name: &str, args: Vec<String>) -> Process {
        Process {
            child: Command::new("redis-server")
                .args([self.common(name), args].concat())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("{name} does not start: {e}")),
            name: name.to_owned(),
        }
    }

    /// redis-cli arguments for `command` on 127.0.0.1:`port`.
    fn client(&self, port: u16, tls: bool, command: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = Vec::new();
        if tls {
            args.extend([
                "--tls".into(),
                "--cacert".into(),
                self.cert.display().to_string(),
            ]);
        }
        args.extend([
            "-h".into(),
            "127.0.0.1".into(),
            "-p".into(),
            port.to_string(),
        ]);
        args.extend(command.iter().map(|s| (*s).to_owned()));
        args
    }

    /// A Redis Cluster of [`CLUSTER_PRIMARIES`] primaries with one replica each, made with
    /// `redis-cli --cluster create … --cluster-replicas 1`, holding [`CLUSTER_KEYS`] keys that
    /// the replicas have copied. Answers the port of its first primary.
    fn cluster(&self, tls: bool, processes: &mut Vec<Process>) -> u16 {
        let nodes = CLUSTER_PRIMARIES * 2;
        let ports = free_ports(nodes * 2);
        let (ports, buses) = ports.split_at(nodes);
        for (i, (&port, &bus)) in ports.iter().zip(buses).enumerate() {
            let name = format!("cluster-{}-{i}", if tls { "tls" } else { "plain" });
            let mut args = vec![
                "--cluster-enabled".into(),
                "yes".into(),
                "--cluster-port".into(),
                bus.to_string(),
                "--cluster-config-file".into(),
                self.dir
                    .join(format!("{name}-nodes.conf"))
                    .display()
                    .to_string(),
            ];
            if tls {
                args.extend(["--port".into(), "0".into()]);
                args.extend(self.tls_args(port));
                args.extend(["--tls-cluster".into(), "yes".into()]);
                args.extend(["--tls-replication".into(), "yes".into()]);
            } else {
                args.extend(["--port".into(), port.to_string()]);
            }
            processes.push(self.spawn(&name, args));
        }
        for &port in ports {
            wait_for(&self.client(port, tls, &["PING"]), "PONG", processes);
        }
        let mut create = self.client(ports[0], tls, &[]);
        create.truncate(create.len() - 4); // no -h/-p: --cluster create names every node
        create.extend(["--cluster".into(), "create".into()]);
        create.extend(ports.iter().map(|p| format!("127.0.0.1:{p}")));
        create.extend([
            "--cluster-replicas".into(),
            "1".into(),
            "--cluster-yes".into(),
        ]);
        let made = run(
            Command::new("redis-cli").args(&create),
            Duration::from_secs(60),
        );
        assert!(
            stdout(&made).contains("All 16384 slots covered"),
            "the cluster (TLS: {tls}) is not made: {}{}",
            stdout(&made),
            String::from_utf8_lossy(&made.stderr)
        );
        for &port in ports {
            wait_for(
                &self.client(port, tls, &["CLUSTER", "INFO"]),
                "cluster_state:ok",
                processes,
            );
        }
        // Each node learns the others' roles by gossip: wait until the first one knows them all.
        let deadline = Instant::now() + Duration::from_secs(20);
        while cluster_roles(&stdout(&redis_cli(&self.client(
            ports[0],
            tls,
            &["CLUSTER", "NODES"],
        )))) != (CLUSTER_PRIMARIES, CLUSTER_PRIMARIES)
        {
            assert!(
                Instant::now() < deadline,
                "the cluster's first node did not learn every role within 20 s"
            );
            thread::sleep(Duration::from_millis(100));
        }
        for i in 0..CLUSTER_KEYS {
            let key = format!("cachewatch:key:{i}");
            let mut set = self.client(ports[0], tls, &["SET", &key, "1"]);
            set.insert(0, "-c".into());
            assert!(stdout(&redis_cli(&set)).contains("OK"), "{key} is stored");
        }
        let all = self.client(ports[0], tls, &[]);
        let mut count_all = all[..all.len() - 4].to_vec();
        count_all.extend([
            "--cluster".into(),
            "call".into(),
            format!("127.0.0.1:{}", ports[0]),
            "DBSIZE".into(),
        ]);
        let deadline = Instant::now() + Duration::from_secs(20);
        while cluster_call_total(&stdout(&redis_cli(&count_all))) != Some(2 * CLUSTER_KEYS) {
            assert!(
                Instant::now() < deadline,
                "the replicas did not copy the {CLUSTER_KEYS} keys within 20 s"
            );
            thread::sleep(Duration::from_millis(100));
        }
        ports[0]
    }
}

/// The numbers a `redis-cli --cluster call … DBSIZE` prints, one line per node, added up; `None`
/// when a line is not a count.
fn cluster_call_total(output: &str) -> Option<u64> {
    output
        .lines()
        .filter(|l| l.starts_with("127.0.0.1:"))
        .map(|l| {
            l.rsplit(": ")
                .next()
                .and_then(|n| n.trim().parse::<u64>().ok())
        })
        .sum()
}

/// How many primaries and replicas a `CLUSTER NODES` answer lists (the third field holds the
/// flags: `myself,master`, `slave`, ...).
fn cluster_roles(output: &str) -> (usize, usize) {
    let role = |r: &str| {
        output
            .lines()
            .filter(|l| l.split(' ').nth(2).is_some_and(|flags| flags.contains(r)))
            .count()
    };
    (role("master"), role("slave"))
}

fn start_servers(dir: &Path) -> Servers {
    let present = Command::new("redis-server").arg("--version").output();
    assert!(
        present.is_ok_and(|o| o.status.success()),
        "redis-server is not installed (Debian: apt-get install -y --no-install-recommends redis-server)"
    );
    driver("cert", json!({ "dir": dir }), dir);
    let launch = Launch {
        dir,
        cert: dir.join("tls.crt"),
        key: dir.join("tls.key"),
    };
    let ports = free_ports(3);
    let [plain, tls, auth_tls] = ports[..] else {
        unreachable!("three ports were asked for")
    };
    let mut processes = vec![
        launch.spawn(
            "standalone",
            [
                vec!["--port".into(), plain.to_string()],
                launch.tls_args(tls),
            ]
            .concat(),
        ),
        launch.spawn(
            "standalone-auth",
            [
                vec!["--port".into(), "0".into()],
                launch.tls_args(auth_tls),
                vec!["--requirepass".into(), PASSWORD.into()],
                vec![
                    "--user".into(),
                    ACL_USER.into(),
                    "on".into(),
                    format!(">{PASSWORD}"),
                    "~*".into(),
                    "&*".into(),
                    "+@all".into(),
                ],
            ]
            .concat(),
        ),
    ];
    wait_for(
        &launch.client(plain, false, &["PING"]),
        "PONG",
        &mut processes,
    );
    wait_for(&launch.client(tls, true, &["PING"]), "PONG", &mut processes);
    let auth_ping = launch.client(
        auth_tls,
        true,
        &["--user", ACL_USER, "--pass", PASSWORD, "PING"],
    );
    wait_for(&auth_ping, "PONG", &mut processes);
    let cluster_plain = launch.cluster(false, &mut processes);
    let cluster_tls = launch.cluster(true, &mut processes);
    let set = redis_cli(&launch.client(plain, false, &["SET", "cachewatch:probe", "1"]));
    assert!(stdout(&set).contains("OK"), "a key is stored");
    let set = redis_cli(&launch.client(
        auth_tls,
        true,
        &["--pass", PASSWORD, "SET", "cachewatch:probe", "1"],
    ));
    assert!(stdout(&set).contains("OK"), "a key is stored behind AUTH");
    Servers {
        plain,
        tls,
        auth_tls,
        cluster_plain,
        cluster_tls,
        ca: launch.cert.clone(),
        _processes: processes,
    }
}

/// Whether `argv` is meant for a Redis Cluster: a `--cluster` or `CLUSTER` command, or one
/// aimed at a configuration endpoint (cluster mode enabled).
fn for_cluster(argv: &[String]) -> bool {
    let host = argv
        .iter()
        .position(|a| a == "-h")
        .and_then(|i| argv.get(i + 1))
        .map(String::as_str)
        .unwrap_or_default();
    host.starts_with("clustercfg.")
        || host == "CONFIGURATION_ENDPOINT"
        || argv
            .iter()
            .any(|a| a == "--cluster" || a.eq_ignore_ascii_case("CLUSTER"))
}

/// `argv` aimed at the test's servers: host and port substituted, the test's certificate
/// authority added after `--tls`. Returns the arguments after `redis-cli`.
fn aimed(argv: &[String], servers: &Servers) -> Vec<String> {
    let tls = argv.iter().any(|a| a == "--tls");
    let auth = argv.iter().any(|a| a == "--askpass");
    let cluster = for_cluster(argv);
    let port = match (cluster, tls, auth) {
        (false, true, true) => servers.auth_tls,
        (_, false, true) | (true, _, true) => {
            panic!("no test server for AUTH without TLS or in a cluster: {argv:?}")
        }
        (false, false, _) => servers.plain,
        (false, true, _) => servers.tls,
        (true, false, _) => servers.cluster_plain,
        (true, true, _) => servers.cluster_tls,
    };
    let mut out = Vec::new();
    let mut args = argv.iter().skip(1);
    while let Some(arg) = args.next() {
        out.push(arg.clone());
        match arg.as_str() {
            "-h" => {
                args.next();
                out.push("127.0.0.1".into());
            }
            "-p" => {
                args.next();
                out.push(port.to_string());
            }
            "--tls" => {
                out.push("--cacert".into());
                out.push(servers.ca.display().to_string());
            }
            "call" if out.len() >= 2 && out[out.len() - 2] == "--cluster" => {
                args.next();
                out.push(format!("127.0.0.1:{port}"));
            }
            _ => {}
        }
    }
    out
}

/// What a command's answer must show: what the runbook tells the reader to look at.
fn answers(command: &str, cluster: bool, output: &str) -> bool {
    if output.trim_start().starts_with("ERR") || output.contains("(error)") {
        return false;
    }
    let nodes = output
        .lines()
        .filter(|l| l.starts_with("127.0.0.1:"))
        .count();
    if command.contains("--cluster call") && command.contains("--cluster-only-masters") {
        // Primaries only, and their counts add up to the keys stored (each once).
        return nodes == CLUSTER_PRIMARIES && cluster_call_total(output) == Some(CLUSTER_KEYS);
    }
    if command.contains("--cluster call") {
        // A key count over every node counts each key twice (once per replica too).
        return !command.contains("DBSIZE") && nodes == CLUSTER_PRIMARIES * 2;
    }
    if command.ends_with(" CLUSTER NODES") {
        return output.contains("myself")
            && cluster_roles(output) == (CLUSTER_PRIMARIES, CLUSTER_PRIMARIES);
    }
    if command.ends_with(" DBSIZE") {
        return output.trim().parse::<u64>().is_ok();
    }
    if command.ends_with(" INFO keyspace") {
        return output.contains("# Keyspace") && output.contains("keys=");
    }
    if command.ends_with(" INFO replication") {
        return output.contains("# Replication")
            && (!cluster
                || output.contains("role:master") && output.contains("connected_slaves:1"));
    }
    false
}

#[test]
fn every_redis_cli_command_in_every_runbook_runs_against_a_real_redis_server() {
    // Arrange
    let dir = tempfile::tempdir().expect("a temporary directory");
    let commands = redis_commands();
    assert!(
        commands.len() >= 8,
        "only {} redis-cli commands",
        commands.len()
    );
    let split = driver("split", json!({ "commands": commands }), dir.path());
    let servers = start_servers(dir.path());

    // Act and assert
    let mut failures = Vec::new();
    for r in split.as_array().expect("a list of results") {
        let command = r["command"].as_str().unwrap_or_default();
        if let Some(error) = r["error"].as_str() {
            failures.push(format!("{command}\n  {error}"));
            continue;
        }
        let argv: Vec<String> = serde_json::from_value(r["argv"].clone()).expect("words");
        let args = aimed(&argv, &servers);
        let password = argv
            .iter()
            .any(|a| a == "--askpass")
            .then(|| format!("{PASSWORD}\n"));
        let output = run_with_input(
            Command::new("redis-cli").args(&args),
            password.as_deref(),
            Duration::from_secs(10),
        );
        let text = stdout(&output);
        if !output.status.success() || !answers(command, for_cluster(&argv), &text) {
            failures.push(format!(
                "{command}\n  ran as: redis-cli {}\n  exit {}: {}{}",
                args.join(" "),
                output.status,
                text.trim(),
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} redis-cli command(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
