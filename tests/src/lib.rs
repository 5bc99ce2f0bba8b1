//! What the cross-crate tests share: where the built binaries and the test tools are, and the
//! fixtures.
#![warn(missing_docs)]

pub mod browser;
pub mod burst;
pub mod conformance;
pub mod counting;
pub mod elasticache;
pub mod ingest_cost;
pub mod lambda;
pub mod moto;
pub mod operator;
pub mod redis;
pub mod server;
pub mod slack;
pub mod sns;
pub mod webhook;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;

/// The workspace's root directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// A fixture's path (`tests/fixtures/NAME`).
pub fn fixture(name: &str) -> PathBuf {
    workspace_root().join("tests/fixtures").join(name)
}

/// A binary of this workspace, built by `cargo build --workspace --bins` (as `scripts/test` does)
/// into the same target directory as the running test.
pub fn workspace_bin(name: &str) -> PathBuf {
    // The test runs from target/<profile>/deps/; binaries sit in target/<profile>/.
    let exe = std::env::current_exe().expect("the test knows where it runs");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("tests run from target/<profile>/deps");
    let bin = profile_dir.join(name);
    assert!(
        bin.exists(),
        "{} is not built: run `cargo build --workspace --bins` first (scripts/test does)",
        bin.display()
    );
    bin
}

/// The standard output of a run of `cachewatch {args}` that ended `out`, failing the test
/// unless it succeeded (saying what it wrote).
#[track_caller]
pub fn succeeded(args: &[&str], out: Output) -> String {
    assert!(
        out.status.success(),
        "cachewatch {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The `id` of every event of a JSON list of events (as `cachewatch events --json` and the API
/// give them), sorted: for comparing what was found regardless of order.
pub fn sorted_ids(events: &serde_json::Value) -> Vec<String> {
    let mut ids: Vec<String> = events
        .as_array()
        .expect("a list of events")
        .iter()
        .map(|e| e["id"].as_str().expect("each event has an id").to_owned())
        .collect();
    ids.sort();
    ids
}

/// A temporary folder with a history database in it, and the `cachewatch` binary pointed at it.
pub struct TempCli {
    /// The folder; removed when dropped.
    pub dir: tempfile::TempDir,
    /// The history database in it (made by the first command that needs it).
    pub db: PathBuf,
}

impl Default for TempCli {
    fn default() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("history.db");
        Self { dir, db }
    }
}

impl TempCli {
    /// A new folder, without a database yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// `cachewatch {args}` on the database, with nothing on its input and none of the variables
    /// of the person running the tests that change what it prints or where it sends.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(workspace_bin("cachewatch"));
        cmd.args(args)
            .env("CACHEWATCH_DB", &self.db)
            .env_remove("CACHEWATCH_TZ")
            .env_remove("CACHEWATCH_SLACK_TOKEN")
            .env_remove("CACHEWATCH_SLACK_WEBHOOK_URL")
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `cachewatch {args}` to its end.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs `cachewatch {args}` and expects success; returns standard output.
    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> String {
        succeeded(args, self.run(args))
    }

    /// Runs `cachewatch {args}` and expects success; its standard output read as JSON.
    #[track_caller]
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        serde_json::from_str(&self.ok(args)).unwrap()
    }

    /// Writes `lines` to the file `name` in the folder; returns its path.
    pub fn file(&self, name: &str, lines: &[String]) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, lines.join("\n")).unwrap();
        path.to_str().unwrap().to_owned()
    }
}

/// What the functions do first with a delivered document read at `now`: its events stored
/// (under the default alert policy); those new to the history come back.
pub async fn store_new<S: cachewatch_core::history::store::EventStore>(
    store: &S,
    doc: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<cachewatch_core::MaintenanceEvent> {
    let context = cachewatch_core::ParseContext::received_at(now);
    let events = cachewatch_core::intake::parse::parse_document(doc, &context).unwrap();
    let policy = cachewatch_core::AlertPolicy::default();
    let outcome = cachewatch_core::ingest(store, events, &policy)
        .await
        .unwrap();
    outcome.new_events()
}

/// Fails the test unless `text` contains every one of `expected`, naming the first it lacks.
#[track_caller]
pub fn assert_contains_all(text: &str, expected: &[&str]) {
    for part in expected {
        assert!(text.contains(part), "{part:?} is missing from:\n{text}");
    }
}

/// A Python tool installed by `scripts/tools` (moto_server, aws, ...): from `CACHEWATCH_TOOLS_BIN`
/// when set, else the workspace's `.venv/bin`.
pub fn tool(name: &str) -> PathBuf {
    let dir = std::env::var_os("CACHEWATCH_TOOLS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".venv/bin"));
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: run scripts/tools (scripts/test does)",
        path.display()
    );
    path
}

/// The environment an AWS SDK client in a child process needs to talk to `endpoint` (a local
/// emulator or stand-in) in `region` and nothing else: dummy credentials, no profile, no
/// instance metadata.
pub fn aws_env(endpoint: String, region: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_REGION", region.to_owned()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("AWS_SESSION_TOKEN", "testing".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        (
            "AWS_CONFIG_FILE",
            "/nonexistent/cachewatch-test-aws-config".to_owned(),
        ),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/cachewatch-test-aws-credentials".to_owned(),
        ),
    ]
}

/// An SDK configuration pointing at `endpoint` in `region`, as [`aws_env`] points a child
/// process: dummy credentials, the SDK's standard retries.
pub async fn aws_sdk_config(endpoint: String, region: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(region.to_owned()))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .load()
        .await
}

/// Runs `cmd` to its end with `input` on its standard input (an empty one when `None`), its
/// output captured.
pub fn output_with_input(cmd: &mut Command, input: Option<&str>) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command starts");
    let mut stdin = child.stdin.take().expect("a stdin pipe");
    if let Some(text) = input {
        std::io::Write::write_all(&mut stdin, text.as_bytes()).expect("the command reads stdin");
    }
    drop(stdin);
    child.wait_with_output().expect("the command ends")
}
