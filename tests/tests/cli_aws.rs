//! The `cachewatch` commands that read an AWS account (`backfill`, `audit`, `upcoming
//! --service-updates`), run as an operator runs them: the binary, the standard AWS variables
//! pointing at the ElastiCache stand-in (in front of moto), a temporary SQLite history.

use aws_sdk_elasticache::Client;
use aws_sdk_elasticache::primitives::DateTime as AwsDateTime;
use aws_sdk_elasticache::types::{
    ServiceUpdateSeverity, ServiceUpdateStatus, ServiceUpdateType, UpdateAction, UpdateActionStatus,
};
use cachewatch_tests::assert_contains_all;
use cachewatch_tests::elasticache::ElastiCacheStandIn;
use cachewatch_tests::moto::Moto;
use cachewatch_tests::operator::{Operator, Run};
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

const OURS: &str = "arn:aws:sns:eu-west-1:123456789012:cachewatch";
const THEIRS: &str = "arn:aws:sns:eu-west-1:123456789012:platform-alerts";

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(Utc::now().timestamp(), 0).expect("now is a time")
}

fn scheduled_text(cluster: &str, start: DateTime<Utc>) -> String {
    let t = |at: DateTime<Utc>| at.format("%b %-d %H:%M UTC").to_string();
    format!(
        "The node with Cache Cluster ID: {cluster}, Node ID: 0001 is scheduled for replacement during the maintenance window from Start Time: {}, End Time: {}",
        t(start),
        t(start + Duration::hours(1))
    )
}

async fn client(stand_in: &ElastiCacheStandIn) -> Client {
    Client::new(&stand_in.sdk_config().await)
}

async fn create_cluster(client: &Client, id: &str, engine: &str, topic: Option<&str>) {
    client
        .create_cache_cluster()
        .cache_cluster_id(id)
        .engine(engine)
        .cache_node_type("cache.t4g.small")
        .num_cache_nodes(1)
        .set_notification_topic_arn(topic.map(str::to_owned))
        .send()
        .await
        .expect("moto creates the cache cluster");
}

/// Creates the stack's topic, [`OURS`], in moto with `attributes` (moto gives it the policy new
/// topics used to get, with `AWS:SourceOwner`).
async fn create_topic(stand_in: &ElastiCacheStandIn, attributes: &[(&str, &str)]) {
    let sns = aws_sdk_sns::Client::new(&stand_in.sdk_config().await);
    let created = sns
        .create_topic()
        .name("cachewatch")
        .set_attributes(Some(
            attributes
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        ))
        .send()
        .await
        .expect("moto creates the topic");
    assert_eq!(created.topic_arn(), Some(OURS));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_stores_what_describe_events_keeps_once_and_shows_its_progress() {
    // Arrange: three days of events, 150 of them, so that DescribeEvents answers in two pages.
    let stand_in = ElastiCacheStandIn::start();
    let now = now();
    let window = now + Duration::days(2);
    stand_in.add_event(
        "cache-cluster",
        "orders-0001-001",
        &scheduled_text("orders-0001-001", window),
        now - Duration::hours(30),
    );
    for i in 0..149 {
        stand_in.add_event(
            "cache-cluster",
            "analytics-0001-001",
            &format!(
                "Snapshot succeeded for snapshot with ID 'automatic.analytics-{i:03}' of cache cluster with ID 'analytics-0001-001'"
            ),
            now - Duration::hours(70) + Duration::minutes(i),
        );
    }
    stand_in.add_event(
        "cache-cluster",
        "old-cache",
        "Cache cluster created",
        now - Duration::days(20),
    );
    let operator = Operator::new(stand_in.env());

    // Act
    let Run {
        stdout: first,
        stderr: progress,
        ..
    } = operator.ok(&["backfill", "--hours", "72", "--progress"]);
    let again = operator.ok(&["backfill", "--since", "30d"]).stdout;

    // Assert: every record of the range once, with the progress of both phases...
    assert!(
        first.starts_with("Read 150 records from DescribeEvents")
            && first.contains(": 150 new, 0 already in the history, 0 not readable"),
        "{first}"
    );
    assert!(progress.contains("reading  ["), "{progress}");
    assert!(
        progress.contains(&format!(
            "storing  [{}] 100%  150 of 150 events",
            "#".repeat(30)
        )),
        "{progress}"
    );
    // ...what would be posted for the one event that needs people...
    assert_contains_all(&first, &["Slack is not configured", "orders-0001-001"]);
    // ...and a second, longer backfill (cut to the 14 days kept) adds nothing.
    assert!(
        again.contains(": 0 new, 150 already in the history"),
        "{again}"
    );
    let listed = operator.ok(&["events", "--json", "--limit", "1000"]).stdout;
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 150);
    let pages = stand_in.requests_for("DescribeEvents");
    assert!(
        pages.iter().any(|r| r.param("Marker").is_some()),
        "the second page was asked for with its marker"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_names_the_clusters_that_do_not_publish_and_fix_sets_our_topic_only_when_told() {
    // Arrange: one cluster on our topic, one with none, one on another team's topic.
    let stand_in = ElastiCacheStandIn::start();
    let client = client(&stand_in).await;
    create_topic(&stand_in, &[]).await;
    create_cluster(&client, "orders", "redis", Some(OURS)).await;
    create_cluster(&client, "sessions", "memcached", None).await;
    create_cluster(&client, "search", "redis", Some(THEIRS)).await;
    let operator = Operator::new(stand_in.env());

    // Act 1: the audit.
    let audit = operator.ok(&["audit", "--topic", OURS]).stdout;

    // Assert 1: the gaps first, each with where its events go now.
    let lines: Vec<&str> = audit.lines().collect();
    let row = |id: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(&format!("cluster {id} ")))
            .unwrap_or_else(|| panic!("no row for {id}:\n{audit}"))
    };
    assert!(
        row("search") < row("orders") && row("sessions") < row("orders"),
        "{audit}"
    );
    assert!(
        lines[row("sessions")].contains("nowhere: no topic"),
        "{audit}"
    );
    assert!(lines[row("search")].contains(THEIRS), "{audit}");
    assert!(lines[row("orders")].ends_with("cachewatch"), "{audit}");
    assert!(
        audit.contains("1 of 3 send their events to cachewatch."),
        "{audit}"
    );
    assert!(stand_in.requests_for("ModifyCacheCluster").is_empty());

    // Act 2: --fix with nobody to confirm.
    let refused = operator.run(&["audit", "--topic", OURS, "--fix"]);

    // Assert 2: the plan is shown, nothing is changed.
    assert_eq!(refused.code, Some(2));
    let shown = &refused.stdout;
    assert!(
        shown.contains("ModifyCacheCluster cluster search (replaces ")
            && shown.contains("ModifyCacheCluster cluster sessions"),
        "{shown}"
    );
    assert!(refused.stderr.contains("nothing was changed"));
    assert!(stand_in.requests_for("ModifyCacheCluster").is_empty());

    // Act 3: --fix --yes.
    let fixed = operator
        .ok(&["audit", "--topic", OURS, "--fix", "--yes"])
        .stdout;

    // Assert 3: both gaps set, and the account audits clean.
    assert!(
        fixed.contains("Now 3 of 3 send their events to cachewatch."),
        "{fixed}"
    );
    let modified: Vec<String> = stand_in
        .requests_for("ModifyCacheCluster")
        .iter()
        .map(|r| {
            format!(
                "{} {} {}",
                r.param("CacheClusterId").unwrap_or_default(),
                r.param("NotificationTopicArn").unwrap_or_default(),
                r.param("NotificationTopicStatus").unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(
        modified,
        [
            format!("search {OURS} active"),
            format!("sessions {OURS} active")
        ]
    );
    let after = operator.ok(&["audit", "--topic", OURS, "--json"]).stdout;
    let after: Value = serde_json::from_str(&after).unwrap();
    assert!(
        after["resources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["state"]["state"] == "ours"),
        "{after}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upcoming_lists_service_updates_not_applied_overdue_first() {
    // Arrange
    let stand_in = ElastiCacheStandIn::start();
    let now = now();
    let action = |name: &str, group: &str, status: &str, apply_by: DateTime<Utc>| {
        let at = |t: DateTime<Utc>| AwsDateTime::from_secs(t.timestamp());
        UpdateAction::builder()
            .replication_group_id(group)
            .engine("redis")
            .service_update_name(name)
            .service_update_release_date(at(apply_by - Duration::days(60)))
            .service_update_recommended_apply_by_date(at(apply_by))
            .service_update_severity(ServiceUpdateSeverity::Important)
            .service_update_status(ServiceUpdateStatus::Available)
            .service_update_type(ServiceUpdateType::SecurityUpdate)
            .update_action_status(UpdateActionStatus::from(status))
            .build()
    };
    stand_in.add_update_action(action(
        "elasticache-20261201-001",
        "orders",
        "not-applied",
        now + Duration::days(9),
    ));
    stand_in.add_update_action(action(
        "elasticache-20261001-002",
        "ledger",
        "not-applied",
        now - Duration::days(3),
    ));
    stand_in.add_update_action(action(
        "elasticache-20260901-001",
        "orders",
        "complete",
        now - Duration::days(40),
    ));
    let operator = Operator::new(stand_in.env());

    // Act
    let table = operator.ok(&["upcoming", "--service-updates"]).stdout;
    let plain = operator.ok(&["upcoming"]).stdout;

    // Assert: overdue first, applied ones left out; without the flag, no AWS call.
    let overdue = table
        .find("elasticache-20261001-002")
        .expect("the overdue update");
    let later = table
        .find("elasticache-20261201-001")
        .expect("the next update");
    assert!(overdue < later, "{table}");
    assert!(!table.contains("elasticache-20260901-001"), "{table}");
    assert_contains_all(
        &table,
        &["OVERDUE (3 days ago)", "replication group ledger"],
    );
    assert_eq!(plain.trim(), "No maintenance ahead.");
    assert_eq!(stand_in.requests_for("DescribeUpdateActions").len(), 1);
}

/// Stores a scheduled notice for each cluster through `backfill`; the id of each, in order.
fn notices_for(
    stand_in: &ElastiCacheStandIn,
    operator: &Operator,
    clusters: &[&str],
) -> Vec<String> {
    let now = now();
    for cluster in clusters {
        stand_in.add_event(
            "cache-cluster",
            cluster,
            &scheduled_text(cluster, now + Duration::days(3)),
            now - Duration::hours(2),
        );
    }
    operator.ok(&["backfill", "--hours", "24"]);
    clusters
        .iter()
        .map(|cluster| {
            let listed = operator
                .ok(&["events", "--cluster", cluster, "--json"])
                .stdout;
            let events: Value = serde_json::from_str(&listed).unwrap();
            events[0]["id"]
                .as_str()
                .expect("the notice is stored")
                .to_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runbook_looks_the_cluster_up_with_credentials_and_keeps_what_it_read_for_offline_use() {
    // Arrange: a Redis OSS cluster in the account, and a notice for it in the history.
    let stand_in = ElastiCacheStandIn::start();
    create_cluster(&client(&stand_in).await, "ledger-001", "redis", None).await;
    let operator = Operator::new(stand_in.env());
    let id = notices_for(&stand_in, &operator, &["ledger-001"]).remove(0);

    // Act
    let before_any_lookup = operator.ok(&["runbook", &id, "--offline"]).stdout;
    let looked_up = operator.ok(&["runbook", &id]).stdout;
    let lookups = stand_in.requests_for("DescribeCacheClusters").len();
    let offline = operator.ok(&["runbook", &id, "--offline"]).stdout;

    // Assert: with nothing kept, offline says what is not known and how to find it out...
    assert_contains_all(
        &before_any_lookup,
        &[
            "Nothing is known of the cluster beyond the notice",
            "Find out what is not known yet",
        ],
    );
    // ...with credentials, the runbook is the one for what ElastiCache says, read now...
    assert!(lookups >= 1, "no lookup was made");
    assert!(
        looked_up.contains("read from ElastiCache at"),
        "{looked_up}"
    );
    assert!(
        !looked_up.contains("kept from the last lookup"),
        "{looked_up}"
    );
    assert!(looked_up.contains("Engine: Redis OSS"), "{looked_up}");
    // ...and offline nothing is asked, and the facts kept are used, saying when they were read.
    assert_eq!(
        stand_in.requests_for("DescribeCacheClusters").len(),
        lookups,
        "--offline looked something up"
    );
    assert_contains_all(
        &offline,
        &[
            "Engine: Redis OSS",
            "kept from the last lookup; not looked up now: --offline",
        ],
    );
    assert!(
        !offline.contains("Nothing is known of the cluster"),
        "{offline}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_lookup_falls_back_on_the_facts_kept_and_says_why() {
    // Arrange: the cluster was looked up once, then the credentials lose the right to ask.
    let stand_in = ElastiCacheStandIn::start();
    create_cluster(&client(&stand_in).await, "ledger-001", "redis", None).await;
    let operator = Operator::new(stand_in.env());
    let id = notices_for(&stand_in, &operator, &["ledger-001"]).remove(0);
    operator.ok(&["show", &id]);
    stand_in.refuse("DescribeCacheClusters", 10);

    // Act
    let runbook = operator.ok(&["runbook", &id]).stdout;
    let shown = operator.ok(&["show", &id]).stdout;

    // Assert: the facts read by `show` stand in, with why they were not read again.
    assert_contains_all(
        &runbook,
        &[
            "Engine: Redis OSS",
            "AccessDenied",
            "kept from the last lookup; looking it up again failed:",
            "ledger-001",
        ],
    );
    assert_contains_all(
        &shown,
        &[
            "Redis OSS",
            "(kept from the last lookup; looking it up again failed:",
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_gives_the_facts_that_decide_the_impact_and_the_impact_aws_documents() {
    // Arrange
    let stand_in = ElastiCacheStandIn::start();
    create_cluster(&client(&stand_in).await, "ledger-001", "redis", None).await;
    let operator = Operator::new(stand_in.env());
    let id = notices_for(&stand_in, &operator, &["ledger-001"]).remove(0);

    // Act
    let offline = operator.ok(&["show", &id, "--offline"]).stdout;
    let shown = operator.ok(&["show", &id]).stdout;
    let json = operator.ok(&["show", &id, "--json"]).stdout;

    // Assert: offline with nothing kept, it says so; looked up, the facts and the impact with
    // its AWS page.
    assert!(
        offline.contains("facts         not looked up: --offline"),
        "{offline}"
    );
    assert!(!offline.contains("impact"), "{offline}");
    assert_contains_all(
        &shown,
        &[
            "facts         Redis OSS",
            "cluster mode",
            "automatic failover",
            "from ElastiCache (now)",
        ],
    );
    assert!(
        shown.contains("impact        ") && shown.contains("(https://docs.aws.amazon.com/"),
        "{shown}"
    );
    let json: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["facts"]["cluster"], "ledger-001");
    assert_eq!(json["facts"]["facts"]["engine"], "redis");
    assert_eq!(json["facts"]["fresh"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upcoming_looks_each_cluster_up_once_and_one_failed_lookup_stops_nothing() {
    // Arrange: notices for two clusters of the account and one it does not have.
    let stand_in = ElastiCacheStandIn::start();
    create_cluster(&client(&stand_in).await, "ledger-001", "redis", None).await;
    create_cluster(&client(&stand_in).await, "sessions-001", "valkey", None).await;
    let operator = Operator::new(stand_in.env());
    notices_for(
        &stand_in,
        &operator,
        &["ledger-001", "sessions-001", "ghost-001"],
    );
    let before = stand_in.requests_for("DescribeCacheClusters").len();

    // Act
    let table = operator.ok(&["upcoming"]).stdout;
    let asked: Vec<String> = stand_in.requests_for("DescribeCacheClusters")[before..]
        .iter()
        .map(|r| format!("{r:?}"))
        .collect();
    let offline = operator.ok(&["upcoming", "--offline"]).stdout;

    // Assert: each cluster asked about once, the failure named, the others shown.
    for cluster in ["ledger-001", "sessions-001", "ghost-001"] {
        let times = asked.iter().filter(|r| r.contains(cluster)).count();
        assert_eq!(times, 1, "{cluster} asked {times} times: {asked:#?}");
    }
    assert_contains_all(
        &table,
        &[
            "What is known of each cluster:",
            "facts         Redis OSS",
            "facts         Valkey",
            "facts         not looked up: looking it up again failed:",
            "ghost-001",
        ],
    );
    assert!(
        offline.contains("kept from the last lookup; not looked up now: --offline"),
        "{offline}"
    );
    assert_eq!(
        stand_in.requests_for("DescribeCacheClusters").len(),
        before + asked.len(),
        "--offline looked something up"
    );
}

/// A topic policy as new topics get it now: publishing allowed with `aws:SourceAccount` only.
fn source_account_policy() -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "TeamPublish",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "SNS:Publish",
            "Resource": OURS,
            "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}
        }]
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_finds_each_broken_link_of_the_alert_path_and_fix_repairs_the_policy_and_the_subscription()
 {
    // Arrange: an encrypted topic whose policy has aws:SourceAccount only, nothing subscribed,
    // two notifications in the dead-letter queue, a cluster whose topic ElastiCache made inactive.
    // SQS speaks JSON, which the ElastiCache stand-in does not forward: it goes to moto directly.
    let moto = Moto::start();
    let stand_in = ElastiCacheStandIn::forwarding_to(&moto.endpoint());
    let sdk = stand_in.sdk_config().await;
    let sqs_sdk = sdk.to_builder().endpoint_url(moto.endpoint()).build();
    let (sns, sqs) = (
        aws_sdk_sns::Client::new(&sdk),
        aws_sdk_sqs::Client::new(&sqs_sdk),
    );
    create_topic(
        &stand_in,
        &[
            ("KmsMasterKeyId", "alias/aws/sns"),
            ("Policy", &source_account_policy()),
        ],
    )
    .await;
    let queue = sqs
        .create_queue()
        .queue_name("cachewatch-dead-letters")
        .send()
        .await
        .expect("moto creates the queue")
        .queue_url()
        .expect("a queue URL")
        .to_owned();
    for body in ["one", "two"] {
        sqs.send_message()
            .queue_url(&queue)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }
    let client = client(&stand_in).await;
    create_cluster(&client, "orders", "redis", Some(OURS)).await;
    client
        .modify_cache_cluster()
        .cache_cluster_id("orders")
        .notification_topic_status("inactive")
        .send()
        .await
        .expect("the stand-in sets the topic status");
    let mut operator = Operator::new(stand_in.env());
    operator.aws.push(("AWS_ENDPOINT_URL_SQS", moto.endpoint()));
    const INGEST: &str = "arn:aws:lambda:eu-west-1:123456789012:function:cachewatch-ingest";
    let path = [
        "audit",
        "--topic",
        OURS,
        "--ingest",
        INGEST,
        "--dead-letter-queue",
        queue.as_str(),
    ];

    // Act 1: the audit.
    let audit = operator.ok(&path).stdout;

    // Assert 1: every broken link, the claims about ElastiCache with AWS's page.
    for expected in [
        "cachewatch's topic, but inactive",
        "only with aws:SourceAccount",
        "encrypted with the KMS key alias/aws/sns",
        &format!("the ingest function {INGEST} is not subscribed"),
        "2 notifications could not be processed and wait in the dead-letter queue",
        "(AWS: https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/ElastiCacheSNS.html)",
        "`cachewatch audit --fix` makes 3 changes.",
    ] {
        assert!(audit.contains(expected), "{expected:?} not in:\n{audit}");
    }
    let json = operator.ok(&[&path[..], &["--json"]].concat()).stdout;
    let json: Value = serde_json::from_str(&json).unwrap();
    let problems: Vec<&str> = json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["problem"].as_str())
        .collect();
    assert_eq!(
        problems,
        [
            "policy_source_account_only",
            "topic_encrypted",
            "ingest_not_subscribed",
            "dead_letters"
        ]
    );

    // Act 2: --fix --yes.
    let fixed = operator
        .ok(&[&path[..], &["--fix", "--yes"]].concat())
        .stdout;

    // Assert 2: it said what it changes, and changed it: the policy keeps the team's statement
    // and gains ElastiCache's; the function is subscribed; the cluster's topic is active again.
    assert!(
        fixed.contains(&format!(
            "SetTopicAttributes Policy on {OURS}: adds the statement"
        )) && fixed.contains(r#""AWS:SourceOwner":"123456789012""#)
            && fixed.contains(&format!("Subscribe lambda {INGEST} to {OURS}")),
        "{fixed}"
    );
    let attributes = sns
        .get_topic_attributes()
        .topic_arn(OURS)
        .send()
        .await
        .unwrap();
    let policy: Value = serde_json::from_str(&attributes.attributes().unwrap()["Policy"]).unwrap();
    let sids: Vec<&str> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["Sid"].as_str())
        .collect();
    assert_eq!(sids, ["TeamPublish", "CachewatchElastiCachePublish"]);
    let subscriptions = sns
        .list_subscriptions_by_topic()
        .topic_arn(OURS)
        .send()
        .await
        .unwrap();
    let endpoints: Vec<(&str, &str)> = subscriptions
        .subscriptions()
        .iter()
        .map(|s| (s.protocol().unwrap(), s.endpoint().unwrap()))
        .collect();
    assert_eq!(endpoints, [("lambda", INGEST)]);
    assert!(
        fixed.contains("Still broken (not repaired by --fix):")
            && fixed.contains("encrypted with the KMS key")
            && fixed.contains("2 notifications"),
        "what --fix does not repair is said: {fixed}"
    );

    // Act 3: the operator removes the key and empties the queue as told; a second audit.
    sns.set_topic_attributes()
        .topic_arn(OURS)
        .attribute_name("KmsMasterKeyId")
        .attribute_value("")
        .send()
        .await
        .unwrap();
    sqs.purge_queue().queue_url(&queue).send().await.unwrap();
    let clean = operator.ok(&path).stdout;

    // Assert 3: every link is sound.
    assert!(
        clean.contains("1 of 1 send their events to cachewatch.")
            && clean.contains("Past the clusters: no broken link.")
            && !clean.contains("Not checked"),
        "{clean}"
    );
}

/// An SNS notification of ElastiCache's, as a Lambda receives it, from a topic of `account` in
/// the stand-in's Region: the event names that account and Region.
fn notice_from(account: &str, cluster: &str, message_id: &str) -> String {
    let region = cachewatch_tests::elasticache::REGION;
    let topic = format!("arn:aws:sns:{region}:{account}:elasticache-ops");
    let body = serde_json::json!({ "ElastiCache:NodeReplacementScheduled": cluster });
    cachewatch_tests::sns::lambda_event(&topic, message_id, &body, now()).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_of_another_account_is_never_shown_the_facts_of_a_namesake_where_the_caller_reads()
 {
    // Arrange: the caller's account (moto's 123456789012) has a Redis OSS cluster `ledger-001`;
    // the history holds a notice for `ledger-001` of the caller's account and one for a cluster
    // of the same name in another account, with no spokes configured.
    let stand_in = ElastiCacheStandIn::start();
    create_cluster(&client(&stand_in).await, "ledger-001", "redis", None).await;
    let operator = Operator::new(stand_in.env());
    operator.ingest(&notice_from(
        "123456789012",
        "ledger-001",
        "0b6c1a2e-0000-4000-8000-000000000001",
    ));
    operator.ingest(&notice_from(
        "444455556666",
        "ledger-001",
        "0b6c1a2e-0000-4000-8000-000000000002",
    ));
    let listed = operator
        .ok(&["events", "--cluster", "ledger-001", "--json"])
        .stdout;
    let events: Value = serde_json::from_str(&listed).unwrap();
    let id_of = |account: &str| {
        events
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["account_id"] == account)
            .and_then(|e| e["id"].as_str())
            .unwrap_or_else(|| panic!("no event of {account}: {events}"))
            .to_owned()
    };
    let (ours, theirs) = (id_of("123456789012"), id_of("444455556666"));

    // Act
    let before = stand_in.requests_for("DescribeCacheClusters").len();
    let their_runbook = operator.ok(&["runbook", &theirs]).stdout;
    let their_lookups = stand_in.requests_for("DescribeCacheClusters").len() - before;
    let our_runbook = operator.ok(&["runbook", &ours]).stdout;

    // Assert: the other account's cluster is not looked up where the caller reads, and says why;
    // the caller's own is, as ever.
    assert_eq!(their_lookups, 0, "{their_runbook}");
    assert!(
        !their_runbook.contains("Engine: Redis OSS"),
        "{their_runbook}"
    );
    assert_contains_all(
        &their_runbook,
        &[
            "account 444455556666 in eu-west-1 is not where these credentials read",
            "account 123456789012 in eu-west-1",
        ],
    );
    assert_contains_all(
        &our_runbook,
        &["Engine: Redis OSS", "read from ElastiCache at"],
    );
}
