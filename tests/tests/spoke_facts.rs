//! The built `cachewatch-ingest` binary, run the way Lambda runs it, as a hub with one spoke:
//! the facts and tags of a spoke's cluster are read in the spoke's account and Region, through
//! its reader role, never those of a hub cluster of the same name.
//!
//! moto plays both accounts: it maps the credentials of an assumed role to the role's account,
//! so the hub (account 123456789012, eu-west-1) and the spoke (111111111111, us-east-1) each
//! hold a cluster `sessions-cache`, tagged differently and on different engine versions.

use std::time::Duration as StdDuration;

use aws_sdk_elasticache::Client as ElastiCacheClient;
use aws_sdk_elasticache::types::Tag;
use cachewatch_adapters::spokes::{config_in, role_of};
use cachewatch_core::config::spokes::SpokeRegion;
use cachewatch_tests::elasticache::{ElastiCacheStandIn, Fault};
use cachewatch_tests::lambda::{LambdaRuntime, OURS, Outcome, scheduled_event, stack_environment};
use cachewatch_tests::moto::Moto;
use cachewatch_tests::slack::{ALERTS, Fault as SlackFault, SlackStandIn, StoredMessage};
use chrono::{Duration, Utc};
use serde_json::{Value, json};

const SPOKE_TOPIC: &str = "arn:aws:sns:us-east-1:111111111111:cachewatch-spoke-events";
const SPOKE_ROLE: &str = "arn:aws:iam::111111111111:role/cachewatch-spoke-reader";
const EXTERNAL_ID: &str = "cachewatch-hub-0123456789";
const PAYMENTS: &str = "C0PAYMENTS";
const CLUSTER: &str = "sessions-cache";
const WITHIN: StdDuration = StdDuration::from_secs(60);

/// One spoke, and the payments team's clusters to their own channel.
const CONFIG: &str = r#"
[[spokes]]
account = "111111111111"
regions = ["us-east-1"]

[[routes]]
tags = { team = "payments" }
channel = "C0PAYMENTS"
"#;

fn spoke() -> SpokeRegion {
    SpokeRegion {
        account: "111111111111".to_owned(),
        region: "us-east-1".to_owned(),
        role: SPOKE_ROLE.to_owned(),
    }
}

/// ElastiCache of the spoke's account and Region, through the stand-in, with its role's
/// credentials.
async fn spoke_elasticache(stand_in: &ElastiCacheStandIn) -> ElastiCacheClient {
    let base = stand_in.sdk_config().await;
    let role = role_of(&base, &spoke(), Some(EXTERNAL_ID), "tests").await;
    ElastiCacheClient::new(&config_in(&base, "us-east-1", role))
}

/// Creates Redis OSS cluster [`CLUSTER`] on `version`, tagged team=`team`.
async fn create_cluster(client: &ElastiCacheClient, version: &str, team: &str) {
    client
        .create_cache_cluster()
        .cache_cluster_id(CLUSTER)
        .engine("redis")
        .engine_version(version)
        .cache_node_type("cache.t4g.small")
        .num_cache_nodes(1)
        .tags(Tag::builder().key("team").value(team).build())
        .send()
        .await
        .expect("moto creates the cache cluster");
}

/// The hub's variables, as the stack sets them.
/// moto behind the ElastiCache stand-in with `sessions-cache` in the hub (Redis OSS 7.1,
/// team=platform) and in the spoke (Redis OSS 6.2, team=payments), and Slack with the payments
/// channel.
async fn both_clusters() -> (Moto, ElastiCacheStandIn, SlackStandIn) {
    let (moto, stand_in, slack) = with_hub_cluster("platform").await;
    create_cluster(&spoke_elasticache(&stand_in).await, "6.2", "payments").await;
    (moto, stand_in, slack)
}

/// moto behind the ElastiCache stand-in with the hub's `sessions-cache` (Redis OSS 7.1, tagged
/// team=`team`), and Slack with the payments channel.
async fn with_hub_cluster(team: &str) -> (Moto, ElastiCacheStandIn, SlackStandIn) {
    let moto = Moto::start();
    let stand_in = ElastiCacheStandIn::forwarding_to(&moto.endpoint());
    let slack = SlackStandIn::builder()
        .channel(PAYMENTS, "payments")
        .start();
    let hub = ElastiCacheClient::new(&stand_in.sdk_config().await);
    create_cluster(&hub, "7.1", team).await;
    (moto, stand_in, slack)
}

async fn environment(
    moto: &Moto,
    stand_in: &ElastiCacheStandIn,
    slack: &SlackStandIn,
) -> Vec<(&'static str, String)> {
    let mut env = stack_environment(moto, stand_in, slack).await;
    env.extend([
        ("CACHEWATCH_CONFIG_TOML", CONFIG.to_owned()),
        ("CACHEWATCH_SPOKE_EXTERNAL_ID", EXTERNAL_ID.to_owned()),
    ]);
    env
}

/// A Lambda SNS event of one replacement notice for [`CLUSTER`], published to `topic`.
fn notice(topic: &str, message_id: &str) -> Value {
    let body = json!({ "ElastiCache:NodeReplacementScheduled": CLUSTER });
    cachewatch_tests::sns::lambda_event(topic, message_id, &body, Utc::now() - Duration::minutes(5))
}

fn sent(outcome: &Outcome) -> u64 {
    outcome.answer()["alerts_sent"].as_u64().unwrap_or(0)
}

fn any_mentions(messages: &[StoredMessage], what: &str) -> bool {
    messages.iter().any(|m| m.mentions(what))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spokes_notice_is_routed_by_its_own_clusters_tags_and_shows_its_facts_not_the_hubs() {
    // Arrange: `sessions-cache` in the hub (Redis OSS 7.1, team=platform) and in the spoke
    // (Redis OSS 6.2, team=payments).
    let (moto, stand_in, slack) = both_clusters().await;
    let env = environment(&moto, &stand_in, &slack).await;
    let ingest = LambdaRuntime::running("cachewatch-ingest", &env);

    // Act: the spoke's notice, then the hub's of the same name.
    let from_spoke = ingest.invoke(
        notice(SPOKE_TOPIC, "0f1b2c3d-0000-4000-8000-000000000201"),
        WITHIN,
    );
    let from_hub = ingest.invoke(notice(OURS, "0f1b2c3d-0000-4000-8000-000000000202"), WITHIN);

    // Assert: the spoke's cluster is the payments team's, on 6.2; the hub's is nobody's by tag,
    // on 7.1. Neither lends the other its facts.
    assert_eq!(sent(&from_spoke.outcome), 1);
    assert_eq!(sent(&from_hub.outcome), 1);
    let payments = slack.messages(PAYMENTS);
    let alerts = slack.messages(ALERTS);
    assert!(
        any_mentions(&payments, "account 111111111111")
            && any_mentions(&payments, "Redis OSS 6.2")
            && !any_mentions(&payments, "Redis OSS 7.1"),
        "the spoke's alert, with its facts: {payments:#?}"
    );
    assert!(
        any_mentions(&alerts, CLUSTER)
            && any_mentions(&alerts, "Redis OSS 7.1")
            && !any_mentions(&alerts, "Redis OSS 6.2")
            && !any_mentions(&alerts, "account 111111111111"),
        "the hub's alert, with its facts: {alerts:#?}"
    );
    // The spoke's cluster was described and its tags read in its Region, with its role's
    // credentials; the hub's with the hub's own.
    let tags = stand_in.requests_for("ListTagsForResource");
    let signed = |region: &str| {
        tags.iter()
            .filter(|r| r.region.as_deref() == Some(region))
            .filter_map(|r| r.access_key.clone())
            .collect::<Vec<_>>()
    };
    let (spoke_keys, hub_keys) = (signed("us-east-1"), signed("eu-west-1"));
    assert!(
        !spoke_keys.is_empty() && spoke_keys.iter().all(|k| k != "testing"),
        "{tags:#?}"
    );
    assert!(
        !hub_keys.is_empty() && hub_keys.iter().all(|k| k == "testing"),
        "{tags:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spoke_whose_role_cannot_be_assumed_has_facts_not_known_and_its_alert_goes_out() {
    // Arrange: only the hub has a `sessions-cache`, tagged team=payments; STS refuses the
    // spoke's role.
    let (moto, stand_in, slack) = with_hub_cluster("payments").await;
    let mut env = environment(&moto, &stand_in, &slack).await;
    env.push(("AWS_ENDPOINT_URL_STS", stand_in.endpoint()));
    for _ in 0..3 {
        stand_in.fail_next(
            "AssumeRole",
            Fault::Error {
                status: 403,
                code: "AccessDenied".to_owned(),
                message: format!(
                    "User: arn:aws:sts::123456789012:assumed-role/cachewatch-ingest/x is not authorized to perform: sts:AssumeRole on resource: {SPOKE_ROLE}"
                ),
            },
        );
    }
    let ingest = LambdaRuntime::running("cachewatch-ingest", &env);

    // Act
    let from_spoke = ingest.invoke(
        notice(SPOKE_TOPIC, "0f1b2c3d-0000-4000-8000-000000000301"),
        WITHIN,
    );

    // Assert: the alert goes out, to the default channel (tags not known claim no route), saying
    // why the facts are not known; the hub's cluster of the same name lends nothing.
    assert_eq!(sent(&from_spoke.outcome), 1);
    assert!(slack.messages(PAYMENTS).is_empty(), "not the hub's route");
    let alerts = slack.messages(ALERTS);
    assert!(
        any_mentions(&alerts, CLUSTER)
            && any_mentions(&alerts, "account 111111111111 in us-east-1")
            && any_mentions(&alerts, "could not be assumed")
            && any_mentions(&alerts, "AccessDenied")
            && !any_mentions(&alerts, "Redis OSS 7.1"),
        "{alerts:#?}"
    );
    assert!(
        stand_in
            .requests_for("AssumeRole")
            .iter()
            .any(|r| r.param("RoleArn") == Some(SPOKE_ROLE)),
        "the spoke's role was asked for"
    );
    assert!(
        stand_in
            .requests_for("DescribeCacheClusters")
            .iter()
            .all(|r| r.region.as_deref() != Some("eu-west-1")),
        "the hub's ElastiCache was not asked about the spoke's cluster"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_poller_sends_a_spokes_waiting_alert_with_the_spoke_clusters_facts() {
    // Arrange: both clusters, as above; Slack is down when the spoke's notice arrives.
    let (moto, stand_in, slack) = both_clusters().await;
    aws_sdk_sns::Client::new(&moto.sdk_config().await)
        .create_topic()
        .name("cachewatch")
        .send()
        .await
        .expect("moto creates the topic");
    let env = environment(&moto, &stand_in, &slack).await;
    let ingest = LambdaRuntime::running("cachewatch-ingest", &env);
    let poller = LambdaRuntime::running("cachewatch-poller", &env);
    slack.fail_next_n(50, SlackFault::HttpStatus(503));
    let waiting = ingest.invoke(
        notice(SPOKE_TOPIC, "0f1b2c3d-0000-4000-8000-000000000401"),
        WITHIN,
    );
    slack.stop_failing();
    assert_eq!(sent(&waiting.outcome), 0, "Slack was down");
    assert!(slack.messages(PAYMENTS).is_empty());

    // Act
    let run = poller.invoke(scheduled_event(Utc::now()), WITHIN);

    // Assert: the waiting alert went out from the poller, drawn with the spoke's facts.
    let run = run.outcome.answer();
    assert_eq!(run["alerts"]["sent"].as_u64(), Some(1), "{run}");
    let payments = slack.messages(PAYMENTS);
    assert!(
        any_mentions(&payments, CLUSTER)
            && any_mentions(&payments, "Redis OSS 6.2")
            && !any_mentions(&payments, "Redis OSS 7.1"),
        "{payments:#?}"
    );
}
