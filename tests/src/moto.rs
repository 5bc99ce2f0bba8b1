//! The moto AWS emulator (`moto_server` from PyPI, installed by `scripts/tools`), started on a
//! loopback port for a test and stopped when dropped. Each test gets its own server, so tests run
//! in parallel without sharing state.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use cachewatch_adapters::dynamo::DynamoStore;
use serde_json::json;

use crate::tool;

/// `moto_server`, answering one request at a time. moto checks a write's condition and then
/// writes, in whichever of its threads the request came to, with nothing between the two; DynamoDB
/// does both at once for an item. Run side by side, two conditional writes of one item could
/// both succeed on moto, which DynamoDB never lets happen. Connections stay concurrent (an SDK
/// client keeps several open); the answers are made one after the other.
const ONE_REQUEST_AT_A_TIME: &str = r#"
import sys, threading
import moto.server as server

run_simple = server.run_simple
lock = threading.Lock()

def one_at_a_time(host, port, app, **options):
    def serialised(environ, start_response):
        with lock:
            return list(app(environ, start_response))
    return run_simple(host, port, serialised, **options)

server.run_simple = one_at_a_time
server.main(sys.argv[1:])
"#;

/// A running moto server.
pub struct Moto {
    child: Child,
    port: u16,
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl Moto {
    /// Starts moto on 127.0.0.1 and waits until it answers (a few hundred milliseconds).
    pub fn start() -> Self {
        let port = free_port();
        let child = Command::new(tool("python3"))
            .args([
                "-c",
                ONE_REQUEST_AT_A_TIME,
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let moto = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto_server did not listen on port {port} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        moto
    }

    /// `http://127.0.0.1:PORT`: the endpoint override for SDK clients.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// An SDK configuration pointing at this server, as [`Moto::env`] points a child process:
    /// the endpoint, `eu-west-1`, dummy credentials.
    pub async fn sdk_config(&self) -> SdkConfig {
        crate::aws_sdk_config(self.endpoint(), "eu-west-1").await
    }

    /// What the stack makes before a function runs: the history table `table` and the secret
    /// `cachewatch/slack` holding the Slack bot token `slack_token`; the secret's ARN.
    pub async fn create_table_and_secret(&self, table: &str, slack_token: &str) -> String {
        let sdk = self.sdk_config().await;
        DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), table)
            .create_table()
            .await
            .expect("moto creates the table");
        let secret = aws_sdk_secretsmanager::Client::new(&sdk)
            .create_secret()
            .name("cachewatch/slack")
            .secret_string(json!({ "SLACK_BOT_TOKEN": slack_token }).to_string())
            .send()
            .await
            .expect("moto keeps the secret");
        secret.arn().expect("an ARN").to_owned()
    }

    /// The environment an AWS SDK client (or a child process) needs to talk to this server and
    /// nothing else: the endpoint, a region, and dummy credentials; no profile is read.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        crate::aws_env(self.endpoint(), "eu-west-1")
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
