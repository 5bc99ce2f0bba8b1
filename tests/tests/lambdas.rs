//! The built `cachewatch-ingest` and `cachewatch-poller` binaries, run the way Lambda runs them
//! (against a local Runtime API), on the emulator's DynamoDB table and Secrets Manager secret,
//! ElastiCache played by moto and the stand-in, and Slack played by its stand-in.
//!
//! One team's morning: SNS delivers a replacement notice, then delivers it again; Slack is down
//! when the next notice (a failover) arrives; a Memcached cluster that has no topic is scheduled
//! for replacement, so SNS never tells. The poller's run finds that event in DescribeEvents, sends
//! what Slack could not take, posts the day's digest and says which cluster is not covered; its
//! next run changes nothing.

use std::time::Duration as StdDuration;

use aws_sdk_elasticache::Client as ElastiCacheClient;
use aws_sdk_elasticache::types::Tag;
use cachewatch_adapters::dynamo::DynamoStore;
use cachewatch_core::EventQuery;
use cachewatch_core::alerting::delivery::{DeliveryState, DeliveryStore};
use cachewatch_core::history::store::EventStore;
use cachewatch_tests::elasticache::{
    ElastiCacheStandIn, Fault as ElastiCacheFault, redis_group, redis_member,
};
use cachewatch_tests::lambda::{
    LambdaRuntime, OURS, Outcome, TABLE, scheduled_event, stack_environment,
};
use cachewatch_tests::moto::Moto;
use cachewatch_tests::slack::{ALERTS, Endpoint, Fault, SlackStandIn, StoredMessage};
use cachewatch_tests::webhook::WebhookReceiver;
use cachewatch_tests::{assert_contains_all, workspace_bin};
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde_json::{Value, json};

const INGEST_ARN: &str = "arn:aws:lambda:eu-west-1:123456789012:function:cachewatch-ingest";
const WITHIN: StdDuration = StdDuration::from_secs(60);

/// Now, to the second.
fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(Utc::now().timestamp(), 0).expect("now is a time")
}

/// `Jun 24 21:00 UTC`, as ElastiCache writes window times.
fn text_time(at: DateTime<Utc>) -> String {
    at.format("%b %-d %H:%M UTC").to_string()
}

fn scheduled_text(cluster: &str, start: DateTime<Utc>) -> String {
    format!(
        "The node with Cache Cluster ID: {cluster}, Node ID: 0001 is scheduled for replacement during the maintenance window from Start Time: {}, End Time: {}",
        text_time(start),
        text_time(start + Duration::hours(1))
    )
}

/// A Lambda SNS event of one notification of our topic with `body` as its message.
fn sns_event(at: DateTime<Utc>, message_id: &str, body: &Value) -> Value {
    cachewatch_tests::sns::lambda_event(OURS, message_id, body, at)
}

/// The team's account: replication group `orders` (one primary, one replica) publishing to our
/// topic, and Memcached cluster `sessions`, created before cachewatch, publishing nowhere.
async fn create_fleet(stand_in: &ElastiCacheStandIn) {
    let client = ElastiCacheClient::new(&stand_in.sdk_config().await);
    redis_group(&client, "orders")
        .snapshot_retention_limit(5)
        .notification_topic_arn(OURS)
        .send()
        .await
        .expect("moto creates the replication group");
    for (id, group, engine) in [
        ("orders-001", Some("orders"), "redis"),
        ("orders-002", Some("orders"), "redis"),
        ("sessions", None, "memcached"),
    ] {
        client
            .create_cache_cluster()
            .cache_cluster_id(id)
            .set_replication_group_id(group.map(str::to_owned))
            .engine(engine)
            .cache_node_type("cache.t4g.small")
            .num_cache_nodes(1)
            .send()
            .await
            .expect("moto creates the cache cluster");
    }
}

/// The services the stack talks to, played locally: moto, the ElastiCache stand-in in front of
/// it, and Slack's stand-in.
fn stack() -> (Moto, ElastiCacheStandIn, SlackStandIn) {
    let moto = Moto::start();
    let stand_in = ElastiCacheStandIn::forwarding_to(&moto.endpoint());
    (moto, stand_in, SlackStandIn::start())
}

/// The deployment's variables, as the stack sets them (and what points them here).
async fn environment(
    moto: &Moto,
    stand_in: &ElastiCacheStandIn,
    slack: &SlackStandIn,
) -> Vec<(&'static str, String)> {
    let mut env = stack_environment(moto, stand_in, slack).await;
    env.extend(alert_path(&moto.sdk_config().await).await);
    env.push(("CACHEWATCH_DIGEST_HOUR", "0".to_owned()));
    env
}

/// The stack's topic, as a team that created it by hand may have it: its policy lets the account
/// publish with `aws:SourceAccount` only, which ElastiCache cannot publish with. The ingest
/// function is subscribed and the dead-letter queue is empty. Returns the variables that name them.
async fn alert_path(sdk: &aws_config::SdkConfig) -> Vec<(&'static str, String)> {
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "SNS:Publish",
            "Resource": OURS,
            "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}
        }]
    });
    let sns = aws_sdk_sns::Client::new(sdk);
    sns.create_topic()
        .name("cachewatch")
        .attributes("Policy", policy.to_string())
        .send()
        .await
        .expect("moto creates the topic");
    sns.subscribe()
        .topic_arn(OURS)
        .protocol("lambda")
        .endpoint(INGEST_ARN)
        .send()
        .await
        .expect("moto subscribes the function");
    let queue = aws_sdk_sqs::Client::new(sdk)
        .create_queue()
        .queue_name("cachewatch-dead-letters")
        .send()
        .await
        .expect("moto creates the queue");
    vec![
        ("CACHEWATCH_INGEST_ARN", INGEST_ARN.to_owned()),
        (
            "CACHEWATCH_DEAD_LETTER_QUEUE_URL",
            queue.queue_url().expect("a URL").to_owned(),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sns_deliveries_a_lost_event_and_a_slack_outage_end_as_one_alert_each() {
    // Arrange: the account, the stack's table and secret, the two functions.
    let (moto, stand_in, slack) = stack();
    create_fleet(&stand_in).await;
    let env = environment(&moto, &stand_in, &slack).await;
    let ingest = LambdaRuntime::running("cachewatch-ingest", &env);
    let poller = LambdaRuntime::running("cachewatch-poller", &env);

    let now = now();
    let notice_at = now - Duration::minutes(40);
    // Windows are written to the minute.
    let window = (now + Duration::days(3))
        .duration_trunc(Duration::minutes(1))
        .unwrap();
    let failover_at = now - Duration::minutes(20);
    let replacement = sns_event(
        notice_at,
        "0f1b2c3d-0000-4000-8000-000000000001",
        &json!({ "ElastiCache:NodeReplacementScheduled": "orders-001" }),
    );
    let failover = sns_event(
        failover_at,
        "0f1b2c3d-0000-4000-8000-000000000002",
        &json!({
            "ElastiCache:FailoverComplete": "orders",
            "Cache Cluster ID": "orders-002",
            "Replication Group ID": "orders",
        }),
    );
    // What DescribeEvents keeps: the texts of both notices (stamped a little earlier than SNS's),
    // and the replacement of `sessions`, which publishes to no topic.
    stand_in.add_event(
        "cache-cluster",
        "orders-001",
        &scheduled_text("orders-001", window),
        notice_at - Duration::seconds(2),
    );
    stand_in.add_event(
        "replication-group",
        "orders",
        "Failover from master node orders-001 to replica node orders-002 completed",
        failover_at - Duration::seconds(1),
    );
    let sessions_window = now + Duration::days(2);
    stand_in.add_event(
        "cache-cluster",
        "sessions",
        &scheduled_text("sessions", sessions_window),
        now - Duration::minutes(30),
    );

    // Act 1: SNS delivers the replacement notice, then delivers it again.
    let first = ingest.invoke(replacement.clone(), WITHIN);
    let again = ingest.invoke(replacement, WITHIN);

    // Assert 1: one event, one alert.
    let first = first.outcome.answer();
    assert_eq!(
        (first["new"].as_u64(), first["alerts_sent"].as_u64()),
        (Some(1), Some(1)),
        "{first}"
    );
    let again = again.outcome.answer();
    assert_eq!(
        (again["new"].as_u64(), again["alerts_sent"].as_u64()),
        (Some(0), Some(0)),
        "{again}"
    );
    let parents = slack.parents(ALERTS);
    assert_eq!(parents.len(), 1, "{parents:#?}");
    assert!(parents[0].mentions("orders-001"), "{:?}", parents[0].text);

    // Act 2: Slack is down when the failover notice arrives.
    slack.fail_next_n(50, Fault::HttpStatus(503));
    let during_outage = ingest.invoke(failover, WITHIN);
    slack.stop_failing();

    // Assert 2: the event is kept, its alert waits; Slack shows nothing new.
    let during_outage = during_outage.outcome.answer();
    assert_eq!(during_outage["new"].as_u64(), Some(1), "{during_outage}");
    assert_eq!(
        during_outage["alerts_waiting"].as_u64(),
        Some(1),
        "{during_outage}"
    );
    assert_eq!(slack.parents(ALERTS).len(), 1);

    // Act 3: the poller's scheduled run.
    let run = poller.invoke(scheduled_event(now), WITHIN);

    // Assert 3: DescribeEvents gave three records, of which one occurrence was new (the texts
    // of the two notices are the events SNS delivered); the waiting failover alert and the
    // `sessions` alert went out; the digest and the coverage gap were posted.
    let run = run.outcome.answer();
    assert_eq!(
        run["backfill"],
        json!({ "records": 3, "new": 1, "rejected": 0 }),
        "{run}"
    );
    assert_eq!(run["alerts"]["sent"].as_u64(), Some(2), "{run}");
    assert_eq!(run["alerts"]["waiting"].as_u64(), Some(0), "{run}");
    assert_eq!(run["daily"]["digest"], json!("posted"), "{run}");
    assert_eq!(run["daily"]["coverage"], json!("posted"), "{run}");

    let parents = slack.parents(ALERTS);
    let alerts: Vec<&StoredMessage> = parents
        .iter()
        .filter(|m| m.delivery_key().is_some())
        .collect();
    let others: Vec<&StoredMessage> = parents
        .iter()
        .filter(|m| m.delivery_key().is_none())
        .collect();
    assert_eq!(alerts.len(), 3, "one alert per occurrence: {alerts:#?}");
    let keys: std::collections::BTreeSet<&str> =
        alerts.iter().filter_map(|m| m.delivery_key()).collect();
    assert_eq!(keys.len(), 3, "no alert twice");
    assert!(
        alerts.iter().any(|m| m.mentions("orders-002")),
        "{alerts:#?}"
    );
    assert!(alerts.iter().any(|m| m.mentions("sessions")), "{alerts:#?}");
    assert_eq!(
        others.len(),
        2,
        "the digest and the coverage audit: {others:#?}"
    );
    let digest = others
        .iter()
        .find(|m| m.text.starts_with("Coming up"))
        .expect("the digest");
    assert!(
        digest.mentions("orders-001") && digest.mentions("sessions"),
        "{:?}",
        digest.blocks
    );
    let coverage = others
        .iter()
        .find(|m| !m.text.starts_with("Coming up"))
        .expect("the audit");
    assert!(
        coverage.mentions("sessions") && !coverage.mentions("orders-001"),
        "{:?}",
        coverage.text
    );
    // The same audit as `cachewatch audit`: the policy ElastiCache cannot publish with, said
    // with AWS's page; the subscription and the empty queue are not mentioned.
    assert!(
        coverage
            .text
            .starts_with("The alert path is broken: 1 problem")
            && coverage.mentions("only with aws:SourceAccount")
            && coverage.mentions(
                "<https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/ElastiCacheSNS.html|AWS>"
            )
            && !coverage.mentions("subscribed")
            && !coverage.mentions("dead-letter"),
        "{:?}",
        coverage.blocks
    );

    // The table: three events, each alerted once.
    let sdk = moto.sdk_config().await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), TABLE);
    let events = store.search(&EventQuery::default()).await.unwrap();
    let mut kinds: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e.source_id.as_str(), e.kind.as_str()))
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            ("orders", "failover_complete"),
            ("orders-001", "node_replacement_scheduled"),
            ("sessions", "node_replacement_scheduled"),
        ],
        "{events:#?}"
    );
    let replacement = events
        .iter()
        .find(|e| e.source_id.as_str() == "orders-001")
        .unwrap();
    assert_eq!(
        replacement.window.map(|w| w.start),
        Some(window),
        "the text's window joined the notice"
    );
    let ids: Vec<_> = events.iter().map(|e| e.id.clone()).collect();
    let deliveries = store.deliveries(&ids).await.unwrap();
    assert_eq!(deliveries.len(), 3);
    assert!(
        deliveries.iter().all(|d| d.state == DeliveryState::Sent),
        "{deliveries:#?}"
    );

    // Act 4: the next run, with nothing new.
    let posts_before = slack.count(Endpoint::PostMessage);
    let next = poller.invoke(scheduled_event(now + Duration::minutes(15)), WITHIN);

    // Assert 4: nothing new, nothing posted.
    let next = next.outcome.answer();
    assert_eq!(next["backfill"]["new"].as_u64(), Some(0), "{next}");
    assert_eq!(next["alerts"]["sent"].as_u64(), Some(0), "{next}");
    assert_eq!(next["daily"]["digest"], json!("done already"), "{next}");
    assert_eq!(next["daily"]["coverage"], json!("done already"), "{next}");
    assert_eq!(slack.count(Endpoint::PostMessage), posts_before);
    assert_eq!(store.search(&EventQuery::default()).await.unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_record_fails_the_invocation_for_the_dead_letter_queue_and_costs_the_others_nothing()
 {
    // Arrange: the function without Slack (a team that only keeps the history).
    let moto = Moto::start();
    let (store, env) = history_only(&moto).await;
    let ingest = LambdaRuntime::running("cachewatch-ingest", &env);
    let now = now();
    let good = sns_event(
        now - Duration::minutes(1),
        "0f1b2c3d-0000-4000-8000-000000000003",
        &json!({ "ElastiCache:FailoverComplete": "payments", "Cache Cluster ID": "payments-0001-002" }),
    );
    let mut poison = sns_event(now, "0f1b2c3d-0000-4000-8000-000000000004", &json!({}));
    poison["Records"][0]["Sns"]["Message"] = json!("<html>Service Unavailable</html>");
    let both = json!({ "Records": [poison["Records"][0].clone(), good["Records"][0].clone()] });

    // Act
    let invocation = ingest.invoke(both, WITHIN);

    // Assert: the invocation fails with a type that says retrying will not help...
    let message = poison_record(
        &invocation.outcome,
        "a poison record must fail the invocation",
    );
    assert!(message.contains("1 of 2 records"), "{message}");
    // ...and the good record is stored all the same.
    let events = store.search(&EventQuery::default()).await.unwrap();
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0].source_id.as_str(), "payments");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ingest_function_keeps_the_facts_it_reads_and_alerts_them_with_their_age_when_elasticache_refuses()
 {
    // Arrange: the stack, and a replacement notice for `orders-001` whose lookup succeeds.
    let (moto, stand_in, slack) = stack();
    create_fleet(&stand_in).await;
    let env = environment(&moto, &stand_in, &slack).await;
    let ingest = LambdaRuntime::running("cachewatch-ingest", &env);
    let now = now();
    let scheduled = sns_event(
        now - Duration::minutes(30),
        "0f1b2c3d-0000-4000-8000-000000000011",
        &json!({ "ElastiCache:NodeReplacementScheduled": "orders-001" }),
    );
    let started = sns_event(
        now - Duration::minutes(5),
        "0f1b2c3d-0000-4000-8000-000000000012",
        &json!({ "ElastiCache:CacheNodeReplaceStarted": "orders-001" }),
    );
    let first = ingest.invoke(scheduled, WITHIN);
    assert_eq!(first.outcome.answer()["alerts_sent"].as_u64(), Some(1));
    let read_first: Vec<_> = slack.messages(ALERTS);

    // Act: the function's role loses the right to describe the cluster; the next notice comes.
    stand_in.refuse("DescribeCacheClusters", 10);
    // A new instance of the function: nothing of the first lookup is left in its memory.
    let cold = LambdaRuntime::running("cachewatch-ingest", &env);
    let second = cold.invoke(started, WITHIN);

    // Assert: the first alert had the facts read now; the second names the facts kept in the
    // table, when they were read and why they were not read again.
    assert_eq!(second.outcome.answer()["new"].as_u64(), Some(1));
    assert!(
        read_first.iter().any(|m| m.mentions("Redis OSS")),
        "{read_first:?}"
    );
    // The alert of the group is refreshed in place: its text now is what a person reads.
    let later = slack.messages(ALERTS);
    assert!(
        later.iter().any(
            |m| m.mentions("kept from the last lookup; looking it up again failed:")
                && m.mentions("AccessDenied")
        ),
        "{later:?}"
    );
    assert!(later.iter().any(|m| m.mentions("Redis OSS")), "{later:?}");
}

/// Routes and mutes by tag, as a team writes them: the payments team's clusters (tagged on their
/// replication group) to its own channel, staging muted.
const BY_TAGS: &str = r#"
[[routes]]
tags = { team = "payments" }
channel = "C0PAYMENTS"

[[mutes]]
tags = { env = "stag*" }
until = "2099-01-01"
reason = "staging is rebuilt in December"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ingest_function_routes_by_the_clusters_tags_and_mutes_by_them() {
    // Arrange: the fleet, plus group `payments` tagged team=payments (its member clusters carry
    // no tag of their own) and cluster `staging-cache` tagged env=staging; the stack with
    // routes and mutes by tag, and the payments channel in Slack.
    let moto = Moto::start();
    let stand_in = ElastiCacheStandIn::forwarding_to(&moto.endpoint());
    let slack = SlackStandIn::builder()
        .channel("C0PAYMENTS", "payments")
        .start();
    create_fleet(&stand_in).await;
    let client = ElastiCacheClient::new(&stand_in.sdk_config().await);
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build();
    redis_group(&client, "payments")
        .tags(tag("team", "payments"))
        .send()
        .await
        .expect("moto creates the replication group");
    redis_member(&client, "payments-001", "payments")
        .send()
        .await
        .expect("moto creates the cache cluster");
    client
        .create_cache_cluster()
        .cache_cluster_id("staging-cache")
        .engine("redis")
        .cache_node_type("cache.t4g.small")
        .num_cache_nodes(1)
        .tags(tag("env", "staging"))
        .tags(tag("team", "payments"))
        .send()
        .await
        .expect("moto creates the cache cluster");
    let mut env = environment(&moto, &stand_in, &slack).await;
    env.push(("CACHEWATCH_CONFIG_TOML", BY_TAGS.to_owned()));
    let mut ingest = LambdaRuntime::start();
    ingest.spawn(
        &workspace_bin("cachewatch-ingest"),
        "cachewatch-ingest",
        &env,
    );
    let now = now();
    let notice = |n: u32, cluster: &str| {
        sns_event(
            now - Duration::minutes(10),
            &format!("0f1b2c3d-0000-4000-8000-0000000001{n:02}"),
            &json!({ "ElastiCache:NodeReplacementScheduled": cluster }),
        )
    };

    // Act
    let answers: Vec<Value> = [(1, "payments-001"), (2, "staging-cache"), (3, "orders-001")]
        .into_iter()
        .map(|(n, cluster)| {
            ingest
                .invoke(notice(n, cluster), WITHIN)
                .outcome
                .answer()
                .clone()
        })
        .collect();

    // Assert: payments' replacement went to its channel, orders' (no tag) to the default one,
    // staging's (tagged team=payments too, but muted by tag) nowhere.
    let sent: Vec<u64> = answers
        .iter()
        .map(|a| a["alerts_sent"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(sent, vec![1, 0, 1], "{answers:?}");
    let payments = slack.parents("C0PAYMENTS");
    let alerts = slack.parents(ALERTS);
    assert!(
        payments.len() == 1 && payments[0].mentions("payments-001"),
        "{payments:#?}"
    );
    assert!(
        alerts.len() == 1 && alerts[0].mentions("orders-001"),
        "{alerts:#?}"
    );
    assert!(
        !payments
            .iter()
            .chain(&alerts)
            .any(|m| m.mentions("staging-cache")),
        "the staging cluster is muted"
    );
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&moto.sdk_config().await),
        TABLE,
    );
    let staging: Vec<_> = store
        .search(&EventQuery::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.source_id.as_str() == "staging-cache")
        .map(|e| e.id)
        .collect();
    let deliveries = store.deliveries(&staging).await.unwrap();
    let [muted] = deliveries.as_slice() else {
        panic!("one delivery of the staging notice: {deliveries:#?}")
    };
    assert_eq!(muted.state, DeliveryState::Muted);
    assert_eq!(muted.channel, "C0PAYMENTS", "where it would have gone");
    assert!(
        muted
            .reason
            .as_deref()
            .is_some_and(|r| r.starts_with("muted by * tagged env=stag* until 2099-01-01")),
        "{muted:?}"
    );
}

/// `cachewatch` against the stack's table on the emulator, with the AWS variables of `moto`.
fn cli(moto: &Moto, args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(workspace_bin("cachewatch"));
    command
        .args(["--store", "dynamodb", "--table", TABLE])
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(moto.env())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    command
}

/// Plays SNS invoking the ingest function: takes what the topic delivered to `queue` (the SNS
/// envelope, as an SQS subscription receives it) and hands it to the function as the Lambda SNS
/// event of that notification. Returns how many notifications it delivered.
async fn deliver_to_ingest(
    sqs: &aws_sdk_sqs::Client,
    queue: &str,
    ingest: &LambdaRuntime,
    within: StdDuration,
) -> usize {
    let deadline = std::time::Instant::now() + within;
    while std::time::Instant::now() < deadline {
        let received = sqs
            .receive_message()
            .queue_url(queue)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("moto answers");
        let messages = received.messages();
        if messages.is_empty() {
            continue;
        }
        for message in messages {
            let envelope: Value = serde_json::from_str(message.body().unwrap()).unwrap();
            let mut sns = envelope.clone();
            let fields = sns.as_object_mut().unwrap();
            for (http, lambda) in [
                ("SigningCertURL", "SigningCertUrl"),
                ("UnsubscribeURL", "UnsubscribeUrl"),
            ] {
                if let Some(v) = fields.remove(http) {
                    fields.insert(lambda.to_owned(), v);
                }
            }
            let event = json!({"Records": [{
                "EventVersion": "1.0",
                "EventSubscriptionArn": format!("{OURS}:5c1d7e02-93a4-4f6b-b8e2-0d6a41c9f735"),
                "EventSource": "aws:sns",
                "Sns": sns,
            }]});
            ingest.invoke(event, WITHIN).outcome.answer();
        }
        return messages.len();
    }
    0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canary_travels_from_the_topic_to_the_history_is_never_alerted_and_a_lost_one_fails() {
    // Arrange: the stack, with its topic delivering to the ingest function (through a queue
    // the test reads, playing SNS's Lambda invocation); Slack ready to receive alerts.
    let (moto, stand_in, slack) = stack();
    let env = environment(&moto, &stand_in, &slack).await;
    let ingest = LambdaRuntime::running("cachewatch-ingest", &env);
    let sdk = moto.sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let delivery = topic_to_queue(&sdk).await;
    // The alarm topic of the stack, read through a queue.
    let (alarms, alarm_queue) = alarm_topic(&sdk).await;
    let with_slack = |command: &mut std::process::Command| {
        command.envs([
            ("SLACK_BOT_TOKEN", slack.token().to_owned()),
            ("SLACK_CHANNEL", ALERTS.to_owned()),
            ("SLACK_API_BASE_URL", slack.api_base()),
            ("SLACK_MIN_INTERVAL_MS", "0".to_owned()),
        ]);
    };

    // Act 1: the canary, while the notification is carried to the function.
    let mut command = cli(&moto, &["canary", "--topic", OURS, "--wait", "30"]);
    with_slack(&mut command);
    let canary = command.spawn().unwrap();
    let delivered = deliver_to_ingest(&sqs, &delivery, &ingest, StdDuration::from_secs(30)).await;
    let canary = canary.wait_with_output().unwrap();

    // Assert 1: it arrived, with its time end to end; nobody was paged, Slack has the one quiet
    // line the command posted and confirmed; searches do not show it.
    let said = String::from_utf8_lossy(&canary.stdout);
    assert!(
        canary.status.success(),
        "{said}\n{}",
        String::from_utf8_lossy(&canary.stderr)
    );
    assert_eq!(delivered, 1);
    assert!(
        said.starts_with("Canary canary-") && said.contains(" s end to end"),
        "{said}"
    );
    let posted = slack.messages(ALERTS);
    let [check] = posted.as_slice() else {
        panic!("a canary never alerts, and its check is one line: {posted:?}")
    };
    assert!(check.mentions("Alert path checked"), "{check:?}");
    assert!(
        said.contains(&format!("Slack confirmed the post (message {})", check.ts)),
        "{said}"
    );
    let events = cli(&moto, &["events", "--json"]).output().unwrap();
    let events: Value = serde_json::from_slice(&events.stdout).unwrap();
    assert_eq!(events, json!([]), "normal searches leave the canary out");
    let kept = cli(&moto, &["events", "--json", "--drills"])
        .output()
        .unwrap();
    let kept: Value = serde_json::from_slice(&kept.stdout).unwrap();
    assert_eq!(
        kept[0]["event_name"], "ElastiCache:CachewatchCanary",
        "{kept}"
    );
    assert_eq!(kept[0]["actionable"], false, "{kept}");

    // Act 2: a canary nobody carries to the function.
    let mut command = cli(
        &moto,
        &[
            "canary",
            "--topic",
            OURS,
            "--alarm-topic",
            &alarms,
            "--wait",
            "2",
        ],
    );
    with_slack(&mut command);
    let lost = command.output().unwrap();

    // Assert 2: it fails, saying so, and alerts loudly: in Slack and on the alarm topic.
    assert_eq!(lost.status.code(), Some(1));
    let why = String::from_utf8_lossy(&lost.stderr);
    assert!(
        why.contains("did not arrive within 2.0 s")
            && why.contains("cachewatch audit")
            && why.contains("alerted in Slack")
            && why.contains("alarm published to"),
        "{why}"
    );
    let loud = slack.messages(ALERTS);
    assert_eq!(loud.len(), 2, "{loud:?}");
    assert!(
        loud[1].mentions("lost a canary") && loud[1].mentions("🚨"),
        "{:?}",
        loud[1]
    );
    let alarm = sqs
        .receive_message()
        .queue_url(&alarm_queue)
        .wait_time_seconds(5)
        .send()
        .await
        .expect("moto answers");
    let [alarm] = alarm.messages() else {
        panic!("one alarm: {alarm:?}")
    };
    let alarm: Value = serde_json::from_str(alarm.body().unwrap()).unwrap();
    assert_eq!(
        alarm["Subject"], "cachewatch: the alert path lost a canary",
        "{alarm}"
    );
    assert!(
        alarm["Message"]
            .as_str()
            .is_some_and(|m| m.starts_with("ALARM:") && m.contains(OURS)),
        "{alarm}"
    );

    // Act 3: the poller's run that posts the day's digest.
    let poller = LambdaRuntime::running("cachewatch-poller", &env);
    polled(&poller);

    // Assert 3: the digest says when the path was last checked, and how long the canary took.
    let posted = slack.messages(ALERTS);
    let digest = digest_in(&posted);
    let took = said
        .split("arrived: ")
        .nth(1)
        .and_then(|rest| rest.split(" end to end").next())
        .expect("the command said how long it took");
    assert!(
        digest.mentions("Alert path checked") && digest.mentions(&format!(", {took} end to end")),
        "{took}: {:?}",
        digest.blocks
    );
}

/// AWS Health events about ElastiCache, as EventBridge delivers them (written from AWS Health's
/// EventBridge schema: `tests/fixtures/health/README.md`).
const HEALTH_DUE: &str = include_str!("../fixtures/health/service_update_due.json");
const HEALTH_DUE_OPEN: &str = include_str!("../fixtures/health/service_update_due_open.json");
const HEALTH_NO_ARN: &str = include_str!("../fixtures/health/malformed_no_event_arn.json");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aws_health_event_from_eventbridge_is_stored_once_per_communication_and_a_malformed_one_not_at_all()
 {
    // Arrange: the function as the stack's EventBridge rule invokes it, without Slack.
    let moto = Moto::start();
    let (store, env) = history_only(&moto).await;
    let ingest = LambdaRuntime::running("cachewatch-ingest", &env);
    let due: Value = serde_json::from_str(HEALTH_DUE).unwrap();
    let due_open: Value = serde_json::from_str(HEALTH_DUE_OPEN).unwrap();
    let no_arn: Value = serde_json::from_str(HEALTH_NO_ARN).unwrap();
    // The fixtures are dated months ago: search the kind, which reads its whole partition.
    let due_query = || EventQuery {
        kind: Some(cachewatch_core::EventKind::new(
            "aws_elasticache_before_update_due_notification",
        )),
        ..EventQuery::default()
    };

    // Act: the communication, delivered twice (EventBridge delivers at least once)...
    let first = ingest.invoke(due.clone(), WITHIN);
    let again = ingest.invoke(due, WITHIN);

    // Assert: one event per affected entity, stored once.
    assert_eq!(first.outcome.answer()["new"], 2, "{:?}", first.outcome);
    assert_eq!(again.outcome.answer()["events"], 2);
    assert_eq!(again.outcome.answer()["new"], 0);
    let stored = store.search(&due_query()).await.unwrap();
    assert_eq!(stored.len(), 2, "{stored:#?}");
    let orders = stored
        .iter()
        .find(|e| e.source_id.as_str() == "orders")
        .expect("the replication group's event");
    assert_eq!(
        orders.kind.as_str(),
        "aws_elasticache_before_update_due_notification"
    );
    assert_eq!(orders.origin.as_str(), "aws_health");

    // Act: the next communication of the same AWS Health event.
    let next = ingest.invoke(due_open, WITHIN);

    // Assert: a new record, in the same maintenance.
    assert_eq!(next.outcome.answer()["new"], 1);
    let stored = store.search(&due_query()).await.unwrap();
    assert_eq!(stored.len(), 3);
    let of_orders: Vec<_> = stored
        .iter()
        .filter(|e| e.source_id.as_str() == "orders")
        .collect();
    assert_eq!(of_orders.len(), 2);
    assert!(of_orders[0].maintenance_id.is_some(), "{of_orders:#?}");
    assert_eq!(of_orders[0].maintenance_id, of_orders[1].maintenance_id);

    // Act: an AWS Health event without its ARN.
    let refused = ingest.invoke(no_arn, WITHIN);

    // Assert: a clear error that retrying will not help, and nothing stored.
    let message = poison_record(&refused.outcome, "a malformed Health event must fail");
    assert!(message.contains("`eventArn` is missing"), "{message}");
    assert_eq!(store.search(&due_query()).await.unwrap().len(), 3);
}

/// The message of an invocation that failed as one whose retries would not help (a poison
/// record); `why` says what the test expected when it did not fail.
fn poison_record<'a>(outcome: &'a Outcome, why: &str) -> &'a str {
    match outcome {
        Outcome::Error {
            error_type,
            message,
        } => {
            assert_eq!(error_type, "Cachewatch.PoisonRecord");
            message
        }
        Outcome::Response(v) => panic!("{why}: {v}"),
    }
}

/// The history's table, created in moto, and the variables of a function that keeps only the
/// history there (no Slack).
async fn history_only(moto: &Moto) -> (DynamoStore, Vec<(&'static str, String)>) {
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&moto.sdk_config().await),
        TABLE,
    );
    store.create_table().await.expect("moto creates the table");
    let mut env = moto.env();
    env.push(("CACHEWATCH_TABLE", TABLE.to_owned()));
    (store, env)
}

/// Creates queue `name` in moto; returns its URL.
async fn new_queue(sqs: &aws_sdk_sqs::Client, name: &str) -> String {
    sqs.create_queue()
        .queue_name(name)
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned()
}

/// The stack's topic delivering to a queue the test reads, in place of the ingest function's
/// subscription (moto would invoke it in its own Lambda). Returns the queue's URL.
async fn topic_to_queue(sdk: &aws_config::SdkConfig) -> String {
    let (sns, sqs) = (aws_sdk_sns::Client::new(sdk), aws_sdk_sqs::Client::new(sdk));
    let queue = new_queue(&sqs, "sns-to-ingest").await;
    let listed = sns
        .list_subscriptions_by_topic()
        .topic_arn(OURS)
        .send()
        .await
        .unwrap();
    for lambda in listed
        .subscriptions()
        .iter()
        .filter(|s| s.protocol() == Some("lambda"))
    {
        sns.unsubscribe()
            .subscription_arn(lambda.subscription_arn().unwrap())
            .send()
            .await
            .unwrap();
    }
    sns.subscribe()
        .topic_arn(OURS)
        .protocol("sqs")
        .endpoint("arn:aws:sqs:eu-west-1:123456789012:sns-to-ingest")
        .send()
        .await
        .expect("moto subscribes the queue");
    queue
}

/// The stack's alarm topic, read through a queue: its ARN and the queue's URL.
async fn alarm_topic(sdk: &aws_config::SdkConfig) -> (String, String) {
    let (sns, sqs) = (aws_sdk_sns::Client::new(sdk), aws_sdk_sqs::Client::new(sdk));
    let topic = sns
        .create_topic()
        .name("cachewatch-alarms")
        .send()
        .await
        .unwrap()
        .topic_arn()
        .unwrap()
        .to_owned();
    let queue = new_queue(&sqs, "alarms").await;
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint("arn:aws:sqs:eu-west-1:123456789012:alarms")
        .send()
        .await
        .expect("moto subscribes the queue");
    (topic, queue)
}

/// The bodies waiting in `queue` (each an SNS envelope), taken from it.
async fn drain(sqs: &aws_sdk_sqs::Client, queue: &str) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let received = sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("moto answers");
        if received.messages().is_empty() {
            return out;
        }
        for message in received.messages() {
            out.push(serde_json::from_str(message.body().unwrap()).unwrap());
            sqs.delete_message()
                .queue_url(queue)
                .receipt_handle(message.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
}

/// Asserts that the poller's answer `run` says canary `id` was last seen `state`, and what the
/// next run does (`next`).
fn assert_canary(run: &Value, id: &str, state: &str, next: &str) {
    assert_eq!(
        run["canary"]["last"],
        json!({ "id": id, "state": state }),
        "{run}"
    );
    assert_eq!(run["canary"]["next"], next, "{run}");
}

/// The digest ("Coming up …") among `posted`; fails, showing them, if there is none.
fn digest_in(posted: &[StoredMessage]) -> &StoredMessage {
    posted
        .iter()
        .find(|m| m.text.contains("oming up"))
        .unwrap_or_else(|| panic!("the digest: {posted:#?}"))
}

/// What `poller` answers to a scheduled run now.
fn polled(poller: &LambdaRuntime) -> Value {
    poller
        .invoke(scheduled_event(now()), WITHIN)
        .outcome
        .answer()
        .clone()
}

/// The canary the poller's answer says it published.
fn published(run: &Value) -> String {
    run["canary"]["next"]["published"]
        .as_str()
        .unwrap_or_else(|| panic!("a canary published: {run}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_poller_sends_a_canary_when_none_is_recent_and_not_when_one_is() {
    // Arrange: the stack, its topic read through a queue; a weekly canary (the default).
    let (moto, stand_in, slack) = stack();
    let env = environment(&moto, &stand_in, &slack).await;
    let sdk = moto.sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let delivery = topic_to_queue(&sdk).await;
    let ingest = LambdaRuntime::running("cachewatch-ingest", &env);
    let poller = LambdaRuntime::running("cachewatch-poller", &env);

    // Act 1: a run with no canary in the history.
    let first = polled(&poller);

    // Assert 1: it published one, in ElastiCache's shape, to the stack's topic.
    let id = published(&first);
    assert_eq!(first["canary"]["last"], "none yet", "{first}");
    let on_topic = drain(&sqs, &delivery).await;
    let [envelope] = on_topic.as_slice() else {
        panic!("one canary on the topic: {on_topic:?}")
    };
    let body: Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
    assert_eq!(body["ElastiCache:CachewatchCanary"], "cachewatch-canary");
    assert_eq!(body["Canary ID"], id.as_str());

    // Act 2: SNS carries it to the ingest function; the poller runs again, then a cold one
    // (a restarted function remembers nothing).
    let carried = sqs_redeliver(&sqs, &delivery, envelope, &ingest).await;
    let second = polled(&poller);
    drop(poller);
    let cold = LambdaRuntime::running("cachewatch-poller", &env);
    let third = polled(&cold);

    // Assert 2: it arrived, so none is due: nothing more on the topic, nothing loud in Slack.
    assert_eq!(carried, 1);
    for run in [&second, &third] {
        assert_canary(run, &id, "arrived", "not due: one arrived recently");
    }
    assert_eq!(drain(&sqs, &delivery).await, Vec::<Value>::new());
    let posted = slack.messages(ALERTS);
    assert!(
        !posted.iter().any(|m| m.mentions("lost a canary")),
        "{posted:#?}"
    );
}

/// Hands an envelope already taken from the queue to the ingest function, as SNS's Lambda
/// invocation would. Returns how many it delivered.
async fn sqs_redeliver(
    sqs: &aws_sdk_sqs::Client,
    queue: &str,
    envelope: &Value,
    ingest: &LambdaRuntime,
) -> usize {
    sqs.send_message()
        .queue_url(queue)
        .message_body(envelope.to_string())
        .send()
        .await
        .unwrap();
    deliver_to_ingest(sqs, queue, ingest, StdDuration::from_secs(10)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_canary_that_never_arrives_is_said_once_in_slack_and_on_the_alarm_topic() {
    // Arrange: the stack with its alarm topic; canaries awaited 3 seconds. The topic delivers
    // to a queue nobody carries to the ingest function: the alert path is broken.
    let (moto, stand_in, slack) = stack();
    let mut env = environment(&moto, &stand_in, &slack).await;
    let sdk = moto.sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let delivery = topic_to_queue(&sdk).await;
    let (alarms, alarm_queue) = alarm_topic(&sdk).await;
    env.extend([
        (
            "CACHEWATCH_CONFIG_TOML",
            "[canary]\nevery = \"1h\"\nwithin = \"3s\"\n".to_owned(),
        ),
        ("CACHEWATCH_ALARM_TOPIC_ARN", alarms.clone()),
    ]);
    let pollers: Vec<LambdaRuntime> = (0..2)
        .map(|_| LambdaRuntime::running("cachewatch-poller", &env))
        .collect();

    // Act 1: the first run publishes; the next, at once, still waits for it.
    let first = polled(&pollers[0]);
    let id = published(&first);
    let soon = polled(&pollers[1]);
    assert_canary(&soon, &id, "awaited", "not due: the last one is recent");

    // Act 2: past the bound, two pollers run at once, then one runs again.
    std::thread::sleep(StdDuration::from_secs(4));
    let both: Vec<Value> = std::thread::scope(|s| {
        let runs: Vec<_> = pollers.iter().map(|p| s.spawn(move || polled(p))).collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let again = polled(&pollers[0]);

    // Assert: the lost canary was said once, by one of them, to Slack and to the alarm topic.
    let told: Vec<&Value> = both
        .iter()
        .chain([&again])
        .map(|run| &run["canary"]["last"]["told"])
        .collect();
    assert_eq!(
        told.iter()
            .filter(|t| **t == &json!({ "slack": true, "alarm_topic": true }))
            .count(),
        1,
        "{both:?} {again}"
    );
    assert_eq!(
        told.iter().filter(|t| **t == &json!("already")).count(),
        2,
        "{both:?} {again}"
    );
    assert_eq!(again["canary"]["last"]["id"], id.as_str());
    let loud: Vec<StoredMessage> = slack
        .messages(ALERTS)
        .into_iter()
        .filter(|m| m.mentions("lost a canary"))
        .collect();
    let [loud] = loud.as_slice() else {
        panic!("one loud message: {loud:#?}")
    };
    assert!(loud.mentions(&id), "{loud:?}");
    let raised = drain(&sqs, &alarm_queue).await;
    let [alarm] = raised.as_slice() else {
        panic!("one alarm: {raised:?}")
    };
    assert_eq!(alarm["Subject"], "cachewatch: the alert path lost a canary");
    assert!(
        alarm["Message"]
            .as_str()
            .is_some_and(|m| m.starts_with("ALARM:") && m.contains(&id) && m.contains(OURS)),
        "{alarm}"
    );
    // The one canary of the hour is all the topic carried.
    assert_eq!(drain(&sqs, &delivery).await.len(), 1);
}

/// A team that pages (or reads Amazon Q Developer) and has no Slack: the ingest function alone,
/// with only a signed webhook configured, sends each alert to it once, and a re-delivery nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_slack_the_ingest_function_sends_each_alert_to_the_webhook_once() {
    // Arrange: the stack with neither a Slack token nor a channel, and a webhook.
    let (moto, stand_in, slack) = stack();
    let receiver = WebhookReceiver::start();
    create_fleet(&stand_in).await;
    let mut env: Vec<(&str, String)> = environment(&moto, &stand_in, &slack)
        .await
        .into_iter()
        .filter(|(name, _)| !matches!(*name, "CACHEWATCH_SECRET_ARN" | "SLACK_CHANNEL"))
        .collect();
    env.extend([
        (
            "CACHEWATCH_CONFIG_TOML",
            format!(
                "[webhook]\nurl = \"{}\"\nsecret = \"PAGER_KEY\"\n",
                receiver.url()
            ),
        ),
        ("PAGER_KEY", "a-key-shared-with-the-pager".to_owned()),
    ]);
    let ingest = LambdaRuntime::running("cachewatch-ingest", &env);
    let notice = sns_event(
        now() - Duration::minutes(5),
        "0f1b2c3d-0000-4000-8000-000000000031",
        &json!({ "ElastiCache:NodeReplacementScheduled": "orders-001" }),
    );

    // Act: SNS delivers the notice, then delivers it again.
    let first = ingest.invoke(notice.clone(), WITHIN);
    let again = ingest.invoke(notice, WITHIN);

    // Assert: one signed alert reached the pager, keyed by its maintenance; Slack heard nothing.
    assert_eq!(first.outcome.answer()["new"].as_u64(), Some(1));
    assert_eq!(again.outcome.answer()["new"].as_u64(), Some(0));
    let received = receiver.received();
    assert_eq!(received.len(), 1, "{received:?}");
    let body = received[0].json();
    assert_eq!(body["kind"], json!("node_replacement_scheduled"));
    assert_eq!(body["cluster"], json!("orders-001"));
    assert_eq!(body["action"], json!("trigger"));
    assert_eq!(body["dedup_key"], body["event_id"]);
    assert!(
        received[0]
            .header("cachewatch-signature")
            .is_some_and(|s| s.starts_with("v1=")),
        "signed"
    );
    assert!(slack.messages(ALERTS).is_empty());
}

/// A hub's spokes: two accounts, three Regions. The role of each is assumed in moto, which maps
/// the credentials to the role's account; each Region's ElastiCache (the stand-in) lists only
/// its own events; one Region refuses the role.
const SPOKES: &str = r#"
[accounts]
"111111111111" = "payments-prod"

[[spokes]]
account = "111111111111"
regions = ["us-east-1", "us-west-2"]

[[spokes]]
account = "222222222222"
regions = ["ap-southeast-2"]
role = "arn:aws:iam::222222222222:role/team/cachewatch-reader"
"#;
const EXTERNAL_ID: &str = "cachewatch-hub-0123456789";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_poller_reads_every_spoke_through_its_role_and_one_that_fails_stops_none() {
    let (moto, stand_in, slack) = stack();
    let mut env = environment(&moto, &stand_in, &slack).await;
    env.extend([
        ("CACHEWATCH_CONFIG_TOML", SPOKES.to_owned()),
        ("CACHEWATCH_SPOKE_EXTERNAL_ID", EXTERNAL_ID.to_owned()),
    ]);
    let start = now() + Duration::days(3);
    let at = now() - Duration::minutes(20);
    stand_in.add_event_in(
        "us-east-1",
        "cache-cluster",
        "pay-use1-0001-001",
        &scheduled_text("pay-use1-0001-001", start),
        at,
    );
    stand_in.add_event_in(
        "us-west-2",
        "cache-cluster",
        "pay-usw2-0001-001",
        &scheduled_text("pay-usw2-0001-001", start),
        at,
    );
    stand_in.add_event_in(
        "ap-southeast-2",
        "cache-cluster",
        "web-apse2-0001-001",
        &scheduled_text("web-apse2-0001-001", start),
        at,
    );
    stand_in.add_event_in(
        "eu-west-1",
        "cache-cluster",
        "hub-0001-001",
        &scheduled_text("hub-0001-001", start),
        at,
    );
    stand_in.refuse_region(
        "us-west-2",
        ElastiCacheFault::Error {
            status: 403,
            code: "AccessDenied".to_owned(),
            message: "not authorized to perform: elasticache:DescribeEvents".to_owned(),
        },
    );
    let poller = LambdaRuntime::running("cachewatch-poller", &env);

    let run = polled(&poller);
    let next = polled(&poller);

    // Every spoke was read but the refused one, which is reported, and the run went on.
    let spokes = run["spokes"].as_array().unwrap_or_else(|| panic!("{run}"));
    assert_eq!(spokes.len(), 3, "{run}");
    assert_eq!(spokes[0]["records"], 1, "{run}");
    assert!(
        spokes[1]["error"]
            .as_str()
            .is_some_and(|e| e.contains("AccessDenied")),
        "{run}"
    );
    assert_eq!(spokes[2]["records"], 1, "{run}");
    assert_eq!(
        run["backfill"]["new"], 3,
        "the hub's own and two spokes': {run}"
    );

    // Each spoke's DescribeEvents went to its Region with its role's credentials, not the hub's.
    let reads = stand_in.requests_for("DescribeEvents");
    let key_of = |region: &str| {
        reads
            .iter()
            .find(|r| r.region.as_deref() == Some(region))
            .and_then(|r| r.access_key.clone())
            .unwrap_or_else(|| panic!("no DescribeEvents in {region}"))
    };
    assert_eq!(key_of("eu-west-1"), "testing");
    for region in ["us-east-1", "ap-southeast-2"] {
        assert_ne!(
            key_of(region),
            "testing",
            "{region} was read with the hub's own credentials"
        );
    }
    assert_ne!(key_of("us-east-1"), key_of("ap-southeast-2"));

    // The history knows where each event came from, and searches by it.
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&moto.sdk_config().await),
        TABLE,
    );
    let of = |account: &str, region: Option<&str>| EventQuery {
        account: Some(account.to_owned()),
        region: region.map(str::to_owned),
        ..EventQuery::default()
    };
    let payments = store.search(&of("111111111111", None)).await.unwrap();
    assert_eq!(payments.len(), 1, "{payments:?}");
    assert_eq!(
        payments[0].cluster_id.as_ref().unwrap().as_str(),
        "pay-use1-0001-001"
    );
    assert_eq!(payments[0].region.as_deref(), Some("us-east-1"));
    let sydney = store
        .search(&of("222222222222", Some("ap-southeast-2")))
        .await
        .unwrap();
    assert_eq!(sydney.len(), 1, "{sydney:?}");
    assert!(
        store
            .search(&of("222222222222", Some("us-east-1")))
            .await
            .unwrap()
            .is_empty()
    );

    // Alerts name the account; the digest names the spoke that could not be read.
    let posted = slack.messages(ALERTS);
    assert!(
        posted
            .iter()
            .any(|m| m.mentions("account payments-prod (111111111111)")),
        "{posted:#?}"
    );
    assert!(
        posted.iter().any(|m| m.mentions("account 222222222222")),
        "{posted:#?}"
    );
    let digest = digest_in(&posted);
    assert!(
        digest.mentions("Spokes not read") && digest.mentions("account 111111111111 in us-west-2"),
        "{:?}",
        digest.blocks
    );

    // The next run of the same function reads every spoke again with the credentials of the
    // roles it assumed (moto gives each AssumeRole new keys): none is assumed again while its
    // credentials last.
    for region in ["us-east-1", "ap-southeast-2"] {
        let keys: Vec<_> = stand_in
            .requests_for("DescribeEvents")
            .into_iter()
            .filter(|r| r.region.as_deref() == Some(region))
            .map(|r| r.access_key)
            .collect();
        assert_eq!(keys.len(), 2, "one read a run in {region}");
        assert_eq!(keys[0], keys[1], "the role of {region} was assumed again");
    }
    let again = next["spokes"]
        .as_array()
        .unwrap_or_else(|| panic!("{next}"));
    assert_eq!(again[0]["records"], 1, "{next}");
    assert_eq!(again[2]["records"], 1, "{next}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_reads_notifications_of_its_own_topics_and_its_spokes_only() {
    let moto = Moto::start();
    let (store, mut env) = history_only(&moto).await;
    env.extend([
        ("CACHEWATCH_TOPIC_ARN", OURS.to_owned()),
        ("CACHEWATCH_CONFIG_TOML", SPOKES.to_owned()),
    ]);
    let ingest = LambdaRuntime::running("cachewatch-ingest", &env);
    let from = |topic: &str, cluster: &str, id: &str| {
        let mut event = sns_event(
            now() - Duration::minutes(1),
            id,
            &json!({ "ElastiCache:NodeReplacementScheduled": cluster }),
        );
        event["Records"][0]["Sns"]["TopicArn"] = json!(topic);
        event["Records"][0].clone()
    };
    let records = json!({ "Records": [
        from(OURS, "hub-0001-001", "0f1b2c3d-0000-4000-8000-000000000011"),
        from("arn:aws:sns:us-east-1:111111111111:cachewatch-spoke-events", "pay-0001-001", "0f1b2c3d-0000-4000-8000-000000000012"),
        from("arn:aws:sns:eu-west-1:111111111111:cachewatch-spoke-events", "pay-eu-0001-001", "0f1b2c3d-0000-4000-8000-000000000013"),
        from("arn:aws:sns:us-east-1:333333333333:cachewatch-spoke-events", "stranger-0001-001", "0f1b2c3d-0000-4000-8000-000000000014"),
    ]});

    let invocation = ingest.invoke(records, WITHIN);

    let message = poison_record(
        &invocation.outcome,
        "notifications of strangers must be refused",
    );
    assert_contains_all(message, &["2 of 4 records", "[[spokes]]"]);
    let mut stored: Vec<(String, Option<String>)> = store
        .search(&EventQuery::default())
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.source_id.as_str().to_owned(), e.account_id))
        .collect();
    stored.sort();
    assert_eq!(
        stored,
        [
            ("hub-0001-001".to_owned(), Some("123456789012".to_owned())),
            ("pay-0001-001".to_owned(), Some("111111111111".to_owned())),
        ]
    );
}

/// The topic of another account of the same organisation, in the hub's Region.
const STAGING: &str = "arn:aws:sns:eu-west-1:444455556666:cachewatch";

/// `sessions-redis` runs in the hub's account and in staging's, and ElastiCache schedules both
/// for replacement in the same second: each is its own event, maintenance and Slack thread,
/// naming its account. The poller then reads the hub's own DescribeEvents text of the same
/// occurrence: it joins the hub's notice, and staging's is left alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_cluster_name_in_two_accounts_is_two_maintenances_and_the_pollers_text_joins_its_own() {
    let (moto, stand_in, slack) = stack();
    let env = environment(&moto, &stand_in, &slack).await;
    let at = now() - Duration::minutes(10);
    let body = json!({ "ElastiCache:NodeReplacementScheduled": "sessions-redis" });
    let mut notices = sns_event(at, "7a1e0c55-0000-4000-8000-000000000021", &body);
    let mut staging =
        sns_event(at, "7a1e0c55-0000-4000-8000-000000000022", &body)["Records"][0].clone();
    staging["Sns"]["TopicArn"] = json!(STAGING);
    notices["Records"]
        .as_array_mut()
        .expect("records")
        .push(staging);
    let ingest = LambdaRuntime::running("cachewatch-ingest", &env);

    let delivered = ingest.invoke(notices, WITHIN).outcome.answer().clone();

    assert_eq!(delivered["new"], json!(2), "{delivered}");
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&moto.sdk_config().await),
        TABLE,
    );
    let sessions = || async {
        let query = EventQuery {
            cluster: Some("sessions-redis".to_owned()),
            ..EventQuery::default()
        };
        let mut found = store.search(&query).await.expect("the table answers");
        found.sort_by(|a, b| a.account_id.cmp(&b.account_id));
        found
    };
    let events = sessions().await;
    let accounts: Vec<Option<&str>> = events.iter().map(|e| e.account_id.as_deref()).collect();
    assert_eq!(accounts, [Some("123456789012"), Some("444455556666")]);
    assert_ne!(events[0].id, events[1].id);
    let mut maintenances = Vec::new();
    for e in &events {
        let m = store
            .maintenance(&e.id)
            .await
            .unwrap()
            .expect("its maintenance");
        assert_eq!(
            (&m.event_ids, &m.account_id),
            (&vec![e.id.clone()], &e.account_id)
        );
        maintenances.push(m.id);
    }
    assert_ne!(maintenances[0], maintenances[1]);
    let threads: Vec<StoredMessage> = slack
        .parents(ALERTS)
        .into_iter()
        .filter(|m| m.mentions("sessions-redis"))
        .collect();
    assert_eq!(threads.len(), 2, "one thread each: {threads:#?}");
    for account in ["account 123456789012", "account 444455556666"] {
        assert_eq!(
            threads.iter().filter(|m| m.mentions(account)).count(),
            1,
            "{account}: {threads:#?}"
        );
    }

    // The poller reads the hub's own DescribeEvents: the text of the hub's occurrence.
    stand_in.add_event_in(
        "eu-west-1",
        "cache-cluster",
        "sessions-redis",
        &scheduled_text("sessions-redis", now() + Duration::days(3)),
        at + Duration::seconds(2),
    );
    let poller = LambdaRuntime::running("cachewatch-poller", &env);
    let run = polled(&poller);

    assert_eq!(run["backfill"]["records"], json!(1), "{run}");
    assert_eq!(
        run["backfill"]["new"],
        json!(0),
        "the text is the hub's notice: {run}"
    );
    let after = sessions().await;
    assert_eq!(
        after.iter().map(|e| &e.id).collect::<Vec<_>>(),
        events.iter().map(|e| &e.id).collect::<Vec<_>>()
    );
    assert!(
        after[0].message.is_some() && after[0].window.is_some(),
        "{:#?}",
        after[0]
    );
    assert!(
        after[1].message.is_none(),
        "staging's notice took no text: {:#?}",
        after[1]
    );
    let threads_after: Vec<String> = slack
        .parents(ALERTS)
        .into_iter()
        .filter(|m| m.mentions("sessions-redis") && !m.text.contains("oming up"))
        .map(|m| m.text)
        .collect();
    assert_eq!(threads_after.len(), 2, "no new thread: {threads_after:#?}");
}

/// The organisation of the hub's account (moto makes the caller, 123456789012, its management
/// account) with `names` as member accounts; their ids, in the order given.
async fn organisation(sdk: &aws_config::SdkConfig, names: &[&str]) -> Vec<String> {
    let org = aws_sdk_organizations::Client::new(sdk);
    org.create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .expect("moto creates the organisation");
    let mut ids = Vec::new();
    for name in names {
        let created = org
            .create_account()
            .account_name(*name)
            .email(format!("{name}@example.com"))
            .send()
            .await
            .expect("moto creates the account");
        let id = created
            .create_account_status()
            .and_then(|s| s.account_id())
            .expect("the new account's id");
        ids.push(id.to_owned());
    }
    ids
}

/// The accounts a poll's answer says it read, sorted.
fn accounts_read(run: &Value) -> Vec<String> {
    let mut read: Vec<String> = run["spokes"]
        .as_array()
        .unwrap_or_else(|| panic!("{run}"))
        .iter()
        .map(|s| s["account"].as_str().expect("an account").to_owned())
        .collect();
    read.sort();
    read
}

const ORGANISATION: &str = r#"
[spokes_from_organization]
regions = ["us-east-1"]
"#;

/// The organisation has two active member accounts, one closed (SUSPENDED) and one removed: the
/// poller lists its accounts (two at a time, to turn pages), reads the active ones and the
/// management account in us-east-1 through their roles, and keeps the list; the ingest function
/// then admits the notices of the active accounts' topics and refuses the others'.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_poller_reads_the_organisations_active_accounts_and_ingest_admits_their_topics() {
    let (moto, stand_in, slack) = stack();
    let sdk = moto.sdk_config().await;
    let mut env = environment(&moto, &stand_in, &slack).await;
    env.extend([
        ("CACHEWATCH_CONFIG_TOML", ORGANISATION.to_owned()),
        ("CACHEWATCH_SPOKE_EXTERNAL_ID", EXTERNAL_ID.to_owned()),
    ]);
    let ids = organisation(&sdk, &["payments", "search", "closed", "gone"]).await;
    let (payments, search, closed, gone) = (&ids[0], &ids[1], &ids[2], &ids[3]);
    let org = aws_sdk_organizations::Client::new(&sdk);
    org.close_account().account_id(closed).send().await.unwrap();
    org.remove_account_from_organization()
        .account_id(gone)
        .send()
        .await
        .unwrap();
    let mut active = vec!["123456789012".to_owned(), payments.clone(), search.clone()];
    active.sort();
    // Every page is read: two accounts a page.
    assert_eq!(
        cachewatch_adapters::spokes::organization_accounts(&sdk, 2)
            .await
            .unwrap(),
        active
    );
    let start = now() + Duration::days(3);
    stand_in.add_event_in(
        "us-east-1",
        "cache-cluster",
        "org-0001-001",
        &scheduled_text("org-0001-001", start),
        now() - Duration::minutes(20),
    );
    let poller = LambdaRuntime::running("cachewatch-poller", &env);

    let run = polled(&poller);

    assert_eq!(run["organization"]["accounts"], 3, "{run}");
    assert_eq!(accounts_read(&run), active, "{run}");
    assert!(
        run["spokes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["region"] == "us-east-1" && s["records"] == 1),
        "{run}"
    );
    let keys: std::collections::BTreeSet<Option<String>> = stand_in
        .requests_for("DescribeEvents")
        .into_iter()
        .filter(|r| r.region.as_deref() == Some("us-east-1"))
        .map(|r| r.access_key)
        .collect();
    assert_eq!(
        keys.len(),
        3,
        "each account read with its own role: {keys:?}"
    );
    assert!(!keys.contains(&Some("testing".to_owned())), "{keys:?}");
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), TABLE);
    let mut stamped: Vec<String> = store
        .search(&EventQuery::default())
        .await
        .unwrap()
        .into_iter()
        .filter_map(|e| e.account_id)
        .collect();
    stamped.sort();
    assert_eq!(stamped, active, "one event per account read");

    // The ingest function admits the topics of the accounts the poller kept, and only those.
    let ingest = LambdaRuntime::running("cachewatch-ingest", &env);
    let from = |account: &str, cluster: &str, id: &str| {
        let mut event = sns_event(
            now() - Duration::minutes(1),
            id,
            &json!({ "ElastiCache:NodeReplacementScheduled": cluster }),
        );
        event["Records"][0]["Sns"]["TopicArn"] = json!(format!(
            "arn:aws:sns:us-east-1:{account}:cachewatch-spoke-events"
        ));
        event["Records"][0].clone()
    };
    let records = json!({ "Records": [
        from(search, "search-0001-001", "0f1b2c3d-0000-4000-8000-000000000031"),
        from(closed, "closed-0001-001", "0f1b2c3d-0000-4000-8000-000000000032"),
        from(gone, "gone-0001-001", "0f1b2c3d-0000-4000-8000-000000000033"),
    ]});
    let invocation = ingest.invoke(records, WITHIN);
    let message = poison_record(
        &invocation.outcome,
        "topics of accounts not in the organisation",
    );
    assert_contains_all(message, &["2 of 3 records", "[spokes_from_organization]"]);
    let search_events = store
        .search(&EventQuery {
            cluster: Some("search-0001-001".to_owned()),
            ..EventQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(search_events.len(), 1, "{search_events:?}");
    assert_eq!(
        search_events[0].account_id.as_deref(),
        Some(search.as_str())
    );
    for cluster in ["closed-0001-001", "gone-0001-001"] {
        let query = EventQuery {
            cluster: Some(cluster.to_owned()),
            ..EventQuery::default()
        };
        assert!(store.search(&query).await.unwrap().is_empty(), "{cluster}");
    }
}

/// AWS Organizations cannot be reached (nothing listens where its endpoint points), so
/// ListAccounts fails: the failure is reported and named in the digest, the listed spoke is read
/// all the same, and so are the accounts the last listing kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_listing_of_the_organisation_is_reported_and_stops_no_spoke() {
    use cachewatch_core::config::spokes::{OrganizationAccounts, OrganizationStore as _};
    let (moto, stand_in, slack) = stack();
    let sdk = moto.sdk_config().await;
    let mut env = environment(&moto, &stand_in, &slack).await;
    let config = format!(
        "[[spokes]]\naccount = \"111111111111\"\nregions = [\"ap-southeast-2\"]\n{ORGANISATION}"
    );
    let nowhere = format!("http://127.0.0.1:{}", cachewatch_tests::moto::free_port());
    env.extend([
        ("CACHEWATCH_CONFIG_TOML", config),
        ("CACHEWATCH_SPOKE_EXTERNAL_ID", EXTERNAL_ID.to_owned()),
        ("AWS_ENDPOINT_URL_ORGANIZATIONS", nowhere),
    ]);
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), TABLE);
    let kept_at = now() - Duration::hours(1);
    store
        .record_organization(&OrganizationAccounts {
            accounts: vec!["555555555555".to_owned()],
            read_at: kept_at,
        })
        .await
        .unwrap();
    let at = now() - Duration::minutes(20);
    let start = now() + Duration::days(3);
    stand_in.add_event_in(
        "ap-southeast-2",
        "cache-cluster",
        "web-0001-001",
        &scheduled_text("web-0001-001", start),
        at,
    );
    let poller = LambdaRuntime::running("cachewatch-poller", &env);

    let run = polled(&poller);

    let error = run["organization"]["error"].as_str().unwrap_or_default();
    assert!(error.contains("ListAccounts failed"), "{run}");
    assert_eq!(
        run["organization"]["kept_from"],
        json!(kept_at.to_rfc3339()),
        "{run}"
    );
    assert_eq!(
        accounts_read(&run),
        ["111111111111", "555555555555"],
        "{run}"
    );
    assert_eq!(run["spokes"][0]["records"], 1, "the listed spoke: {run}");
    assert_eq!(run["backfill"]["new"], 1, "{run}");
    let posted = slack.messages(ALERTS);
    let digest = digest_in(&posted);
    assert!(
        digest.mentions("Spokes not read") && digest.mentions("the organisation's accounts"),
        "{:?}",
        digest.blocks
    );
}
