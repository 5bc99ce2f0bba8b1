//! What one SNS notification costs the ingest function in AWS requests: the built function under
//! the Runtime API stand-in, talking to moto (DynamoDB, Secrets Manager) through a
//! [`CountingProxy`], and to ElastiCache through another, in front of the ElastiCache stand-in
//! (which answers what moto lacks, and passes the rest to the same moto), alerting the Slack
//! stand-in. Shared by the request-budget test and the `functions` benchmark.

use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use serde_json::{Value, json};

use crate::counting::{CountingProxy, Counts};
use crate::elasticache::{ElastiCacheStandIn, redis_group, redis_member};
use crate::lambda::{Invocation, LambdaRuntime};
use crate::moto::Moto;
use crate::slack::{ALERTS, SlackStandIn};

/// The table the function is given.
pub const TABLE: &str = "cachewatch-history";
/// How long one invocation may take.
const WITHIN: Duration = Duration::from_secs(60);

/// An SNS notification of ElastiCache event `name` about `source`, delivered as `message_id`.
pub fn notice(message_id: &str, name: &str, source: &str, at: DateTime<Utc>) -> Value {
    json!({ "Records": [{
        "EventSource": "aws:sns",
        "Sns": {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": "arn:aws:sns:eu-west-1:123456789012:cachewatch",
            "Timestamp": at.to_rfc3339(),
            "Message": json!({ name: source }).to_string(),
        }
    }]})
}

/// When the `n`th notification of this process was published: the same for each delivery of it.
fn published(n: usize) -> DateTime<Utc> {
    static START: OnceLock<DateTime<Utc>> = OnceLock::new();
    *START.get_or_init(|| Utc::now() - ChronoDuration::minutes(10))
        + ChronoDuration::milliseconds(i64::try_from(n).unwrap_or(i64::MAX) % 600_000)
}

/// The cluster the `n`th replacement notice is about: the first member of replication group
/// [`replacement_group`].
pub fn replacement_cluster(n: usize) -> String {
    format!("bench{n:04}-0001-001")
}

/// The replication group of [`replacement_cluster`].
pub fn replacement_group(n: usize) -> String {
    format!("bench{n:04}-0001")
}

/// The `n`th new replacement notice (a cluster of its own, so that each starts a maintenance).
pub fn replacement_notice(n: usize) -> Value {
    notice(
        &format!("0f1b2c3d-0000-4000-8000-{n:012}"),
        "ElastiCache:NodeReplacementScheduled",
        &replacement_cluster(n),
        published(n),
    )
}

/// The `n`th snapshot notice: stored, alerting nobody.
pub fn snapshot_notice(n: usize) -> Value {
    notice(
        &format!("5a0e1b2c-0000-4000-8000-{n:012}"),
        "ElastiCache:SnapshotComplete",
        &format!("bench{n:04}-0002-001"),
        published(n),
    )
}

/// One invocation and the requests it made.
#[derive(Debug)]
pub struct Measured {
    /// What the function answered, and how long it took.
    pub invocation: Invocation,
    /// The AWS requests it made.
    pub counts: Counts,
}

impl Measured {
    /// The function's answer; panics on an error.
    pub fn answer(&self) -> &Value {
        self.invocation.outcome.answer()
    }
}

/// moto, the proxy, Slack and one running ingest function.
pub struct Rig {
    /// The Slack stand-in the alerts go to.
    pub slack: SlackStandIn,
    proxy: CountingProxy,
    elasticache_proxy: CountingProxy,
    elasticache: ElastiCacheStandIn,
    lambda: LambdaRuntime,
    moto: Moto,
}

impl Rig {
    /// Starts everything, the function `binary` last; its start-up requests are not counted.
    pub fn start(binary: &Path) -> Self {
        let moto = Moto::start();
        let slack = SlackStandIn::start();
        let proxy = CountingProxy::start(&moto.endpoint());
        let elasticache = ElastiCacheStandIn::forwarding_to(&moto.endpoint());
        let elasticache_proxy = CountingProxy::start(&elasticache.endpoint());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let mut env = runtime.block_on(environment(&moto, &slack));
        env.retain(|(k, _)| *k != "AWS_ENDPOINT_URL");
        env.push(("AWS_ENDPOINT_URL", proxy.endpoint()));
        env.push(("AWS_ENDPOINT_URL_ELASTICACHE", elasticache_proxy.endpoint()));
        let mut lambda = LambdaRuntime::start();
        lambda.spawn(binary, "cachewatch-ingest", &env);
        Self {
            slack,
            proxy,
            elasticache_proxy,
            elasticache,
            lambda,
            moto,
        }
    }

    /// Makes the cluster of the `n`th replacement notice exist, as a real notice's does: its
    /// replication group (Redis OSS, a primary and a replica, automatic failover) and the
    /// member the notice names. Not counted.
    pub async fn create_replacement_cluster(&self, n: usize) {
        let client = aws_sdk_elasticache::Client::new(&self.elasticache.sdk_config().await);
        let group = replacement_group(n);
        redis_group(&client, &group)
            .send()
            .await
            .expect("the replication group is created");
        redis_member(&client, &replacement_cluster(n), &group)
            .send()
            .await
            .expect("the member cluster is created");
    }

    /// The emulator, reached directly (not counted).
    pub fn moto(&self) -> &Moto {
        &self.moto
    }

    /// Invokes the function once with `event`, counting its requests (and nothing before it).
    pub fn invoke(&self, event: Value) -> Measured {
        let _before = (self.proxy.take(), self.elasticache_proxy.take());
        let invocation = self.lambda.invoke(event, WITHIN);
        let mut counts = self.proxy.take();
        for (operation, n) in self.elasticache_proxy.take().requests {
            *counts.requests.entry(operation).or_default() += n;
        }
        Measured { invocation, counts }
    }
}

/// The ingest function's variables against `moto` and `slack`, after making what the stack makes
/// (the table and the Slack token's secret) straight in moto.
pub async fn environment(moto: &Moto, slack: &SlackStandIn) -> Vec<(&'static str, String)> {
    let secret = moto.create_table_and_secret(TABLE, slack.token()).await;
    let mut env = moto.env();
    env.extend([
        ("CACHEWATCH_TABLE", TABLE.to_owned()),
        ("CACHEWATCH_SECRET_ARN", secret),
        ("SLACK_CHANNEL", ALERTS.to_owned()),
        ("SLACK_API_BASE_URL", slack.api_base()),
        ("SLACK_MIN_INTERVAL_MS", "0".to_owned()),
        // A cluster that does not exist is answered at once, not waited for.
        ("RUST_LOG", "warn".to_owned()),
    ]);
    env
}
