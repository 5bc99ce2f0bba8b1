//! The conformance suite (`cachewatch_tests::conformance`) against every store, each case on an
//! empty store: the in-memory reference, SQLite on a temporary file, and DynamoDB on the local
//! emulator (moto on 127.0.0.1, a server and a fresh table per test), once with DynamoDB's own
//! pages and once reading two items per page so that every query spans pages. Then what is
//! particular to the DynamoDB table: its schema, its items, and how its errors are classified.

use cachewatch_adapters::SqliteStore;
use cachewatch_adapters::dynamo::DynamoStore;
use cachewatch_core::history::store::MemoryStore;
use cachewatch_tests::conformance;
use cachewatch_tests::moto::Moto;

/// A DynamoDB client for `endpoint` with test credentials and no retries: a test sees the first
/// answer.
fn dynamodb_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region, retry::RetryConfig};
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("eu-west-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// A store on a new table of a moto server.
async fn dynamodb_store(moto: &Moto) -> DynamoStore {
    let store = DynamoStore::new(dynamodb_client(&moto.endpoint()), "cachewatch-history");
    store.create_table().await.expect("moto creates the table");
    store
}

/// Each case as a test on a new store of the module that calls it: its `store()` gives the store
/// and what must live as long as it (the temporary folder, the moto server).
macro_rules! cases {
    ($($case:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $case() {
            let (_kept, store) = store().await;
            conformance::$case(&store).await;
        }
    )*};
}

mod memory {
    use super::*;

    async fn store() -> ((), MemoryStore) {
        ((), MemoryStore::default())
    }
    cachewatch_tests::conformance_cases!(cases);
}

mod sqlite {
    use super::*;

    async fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("history.db")).unwrap();
        (dir, store)
    }
    cachewatch_tests::conformance_cases!(cases);
}

mod dynamodb {
    use super::*;

    async fn store() -> (Moto, DynamoStore) {
        let moto = Moto::start();
        let store = dynamodb_store(&moto).await;
        (moto, store)
    }
    cachewatch_tests::conformance_cases!(cases);
}

mod dynamodb_in_small_pages {
    use super::*;

    async fn store() -> (Moto, DynamoStore) {
        let moto = Moto::start();
        let store = dynamodb_store(&moto).await.with_page_limit(2);
        (moto, store)
    }
    cachewatch_tests::conformance_cases!(cases);
}

mod dynamodb_table {
    use std::collections::BTreeSet;
    use std::error::Error as _;
    use std::net::Ipv4Addr;

    use aws_sdk_dynamodb::config::http::HttpResponse;
    use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
    use aws_sdk_dynamodb::types::AttributeValue;
    use axum::http::StatusCode;
    use cachewatch_adapters::dynamo::TABLE_SCHEMA;
    use cachewatch_core::alerting::delivery::{
        Delivery, DeliveryState, DeliveryStore, LeaseRequest,
    };
    use cachewatch_core::history::store::{EventStore, StoreError};
    use cachewatch_core::intake::parse::{ParseContext, parse_document};
    use cachewatch_core::{AlertPolicy, EventId, EventQuery, ingest};
    use chrono::{DateTime, Utc};

    use super::*;

    #[tokio::test]
    async fn the_table_is_created_with_the_declared_schema() {
        let moto = Moto::start();
        let store = dynamodb_store(&moto).await;
        let client = dynamodb_client(&moto.endpoint());
        let table = client
            .describe_table()
            .table_name(store.table())
            .send()
            .await
            .unwrap()
            .table
            .unwrap();

        let keys = |schema: &[aws_sdk_dynamodb::types::KeySchemaElement]| -> Vec<(String, String)> {
            schema
                .iter()
                .map(|k| {
                    (
                        k.attribute_name().to_owned(),
                        k.key_type().as_str().to_owned(),
                    )
                })
                .collect()
        };
        let pair = |hash: &str, range: &str| {
            vec![
                (hash.to_owned(), "HASH".to_owned()),
                (range.to_owned(), "RANGE".to_owned()),
            ]
        };
        assert_eq!(
            keys(table.key_schema()),
            pair(TABLE_SCHEMA.partition_key, TABLE_SCHEMA.sort_key)
        );
        let attributes: BTreeSet<(String, String)> = table
            .attribute_definitions()
            .iter()
            .map(|a| {
                (
                    a.attribute_name().to_owned(),
                    a.attribute_type().as_str().to_owned(),
                )
            })
            .collect();
        let declared: BTreeSet<(String, String)> = TABLE_SCHEMA
            .key_attributes()
            .into_iter()
            .map(|name| (name.to_owned(), "S".to_owned()))
            .collect();
        assert_eq!(attributes, declared);
        let indexes = table.global_secondary_indexes();
        assert_eq!(indexes.len(), TABLE_SCHEMA.indexes.len());
        for declared in TABLE_SCHEMA.indexes {
            let index = indexes
                .iter()
                .find(|i| i.index_name() == Some(declared.name))
                .unwrap_or_else(|| panic!("index {} exists", declared.name));
            assert_eq!(
                keys(index.key_schema()),
                pair(declared.partition_key, declared.sort_key),
                "{}",
                declared.name
            );
            let projection = index.projection().and_then(|p| p.projection_type());
            assert_eq!(projection.map(|p| p.as_str()), Some(declared.projection));
        }
        let billing = table
            .billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map(|b| b.as_str().to_owned());
        assert_eq!(billing.as_deref(), Some(TABLE_SCHEMA.billing_mode));
    }

    fn s(item: &std::collections::HashMap<String, AttributeValue>, name: &str) -> String {
        item.get(name)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_else(|| panic!("{name} is a string attribute of {item:#?}"))
    }

    /// The table reads as its design says, for whoever inspects it with the AWS CLI.
    #[tokio::test]
    async fn items_are_keyed_as_the_table_design_says() {
        let moto = Moto::start();
        let store = dynamodb_store(&moto).await;
        let client = dynamodb_client(&moto.endpoint());
        let record = r#"{"SourceIdentifier":"orders-0001-001","SourceType":"cache-cluster","Date":"2026-06-11T03:10:02.000Z","Message":"The node with Cache Cluster ID: orders-0001-001, Node ID: 0001 is scheduled for replacement during the maintenance window from Start Time: Jun 25 19:00 UTC, End Time: Jun 25 20:00 UTC"}"#;
        let received = DateTime::parse_from_rfc3339("2026-06-11T03:10:05Z")
            .unwrap()
            .with_timezone(&Utc);
        let events = parse_document(record, &ParseContext::received_at(received)).unwrap();
        let outcome = ingest(&store, events, &AlertPolicy::default())
            .await
            .unwrap();
        let e = &outcome.events[0].event;
        let id = e.id.as_str();

        let get = |pk: String, sk: &str| {
            let client = client.clone();
            let table = store.table().to_owned();
            let sk = sk.to_owned();
            async move {
                client
                    .get_item()
                    .table_name(table)
                    .key("PK", AttributeValue::S(pk))
                    .key("SK", AttributeValue::S(sk))
                    .consistent_read(true)
                    .send()
                    .await
                    .unwrap()
                    .item
                    .expect("the item exists")
            }
        };
        let item = get(format!("E#{id}"), "E").await;
        let sort = format!("2026-06-11T03:10:02.000Z#{id}");
        for (name, want) in [
            ("GSI1PK", "T#2026-06-11".to_owned()),
            ("GSI1SK", sort.clone()),
            ("GSI2PK", "G#orders".to_owned()),
            ("GSI2SK", sort.clone()),
            ("GSI3PK", "K#node_replacement_scheduled".to_owned()),
            ("GSI3SK", sort.clone()),
            ("GSI4PK", "L#orders".to_owned()),
            ("GSI4SK", sort),
            ("GSI5PK", format!("P#{}", &id[..2])),
            ("GSI5SK", id.to_owned()),
            ("maintenance_id", id.to_owned()),
        ] {
            assert_eq!(s(&item, name), want, "{name}");
        }
        let json: serde_json::Value = serde_json::from_str(&s(&item, "json")).unwrap();
        assert_eq!(json["kind"], "node_replacement_scheduled");
        assert_eq!(json["cluster_id"], "orders-0001-001");

        let maintenance = get("M#orders".to_owned(), &format!("M#{id}")).await;
        assert_eq!(s(&maintenance, "GSI5PK"), "OPEN");
        assert_eq!(
            s(&maintenance, "GSI5SK"),
            format!("2026-06-25T20:00:00.000Z#{id}")
        );

        // A pending delivery of the event, to `channel` (or to an output, `>output`).
        let pending_to = |channel: &str| {
            Delivery::new(
                e.id.clone(),
                channel.to_owned(),
                e.group_key(),
                DeliveryState::Pending,
                received,
            )
        };
        store
            .record_deliveries(&[pending_to("C0ALERTS")])
            .await
            .unwrap();
        let item = get(format!("D#{id}"), "D").await;
        assert_eq!(s(&item, "GSI5PK"), "D#pending");
        assert_eq!(s(&item, "GSI5SK"), format!("2026-06-11T03:10:05.000Z#{id}"));

        // An output's delivery of the same event: beside Slack's, under the output's lane.
        store
            .record_deliveries(&[pending_to(">webhook")])
            .await
            .unwrap();
        let item = get(format!("D#{id}"), "D#webhook").await;
        assert_eq!(s(&item, "GSI5PK"), "D#pending");
        assert_eq!(
            s(&item, "GSI5SK"),
            format!("2026-06-11T03:10:05.000Z#{id}#webhook")
        );
    }

    /// An alert written pending marks its channel (`H#{channel}` / `PENDING`); a claim there
    /// that finds the mark clears it (its sender reads what is pending), and a claim that finds
    /// none says that nothing else is pending, once, without a read.
    #[tokio::test]
    async fn a_channel_is_marked_while_an_alert_is_left_pending_there() {
        use cachewatch_core::alerting::delivery::{Claim, ClaimRequest, OutboxWrite};
        let moto = Moto::start();
        let store = dynamodb_store(&moto).await;
        let client = dynamodb_client(&moto.endpoint());
        let marked = |channel: &str| {
            let (client, table) = (client.clone(), store.table().to_owned());
            let pk = format!("H#{channel}");
            async move {
                let key = |v: &str| AttributeValue::S(v.to_owned());
                let out = client.get_item().table_name(table).key("PK", key(&pk));
                let out = out.key("SK", key("PENDING")).consistent_read(true);
                out.send().await.unwrap().item.is_some()
            }
        };
        let now = Utc::now();
        let alert = |hex: &str, state: DeliveryState| {
            let id = EventId::parse(hex).unwrap();
            let channel = "C0ALERTS".to_owned();
            Delivery::new(id, channel, Some("orders".into()), state, now)
        };
        let claim = |d: Delivery| {
            let store = &store;
            async move {
                let lease = LeaseRequest::new("chat:C0ALERTS", "ingest-1", now, now);
                let request = ClaimRequest {
                    lease,
                    was: None,
                    becomes: &d,
                };
                store.claim(request).await.unwrap()
            }
        };

        // An alert recorded while another sender held the lease.
        let a = alert("aaaaaaaaaaaaaaaaaaa1", DeliveryState::Pending);
        store
            .record_deliveries(std::slice::from_ref(&a))
            .await
            .unwrap();
        assert!(marked("C0ALERTS").await);
        assert!(!marked("C0OTHER").await);

        // The next claim clears the mark, and its sender reads what is pending and sends it.
        let b = alert("bbbbbbbbbbbbbbbbbbb2", DeliveryState::Sending);
        assert_eq!(claim(b.clone()).await, Claim::Taken);
        assert!(!store.nothing_else_pending("C0ALERTS"));
        assert!(!marked("C0ALERTS").await);
        let a_sent = alert("aaaaaaaaaaaaaaaaaaa1", DeliveryState::Sent);
        let b_sent = alert("bbbbbbbbbbbbbbbbbbb2", DeliveryState::Sent);
        let release = OutboxWrite::Release {
            name: "chat:C0ALERTS",
            holder: "ingest-1",
        };
        let sent = [
            OutboxWrite::Delivery(&a_sent),
            OutboxWrite::Delivery(&b_sent),
            release,
        ];
        store.save_together(&sent).await.unwrap();
        assert!(!marked("C0ALERTS").await, "nothing left pending");

        // A quiet channel: the claim says so, once.
        let c = alert("ccccccccccccccccccc3", DeliveryState::Sending);
        assert_eq!(claim(c).await, Claim::Taken);
        assert!(store.nothing_else_pending("C0ALERTS"));
        assert!(!store.nothing_else_pending("C0ALERTS"), "said once");
        let d = alert("ddddddddddddddddddd4", DeliveryState::Sending);
        assert_eq!(claim(d).await, Claim::Taken);
        assert!(!store.nothing_else_pending("C0OTHER"), "another channel's");

        // An alert saved pending again (its send failed) marks the channel again.
        let mut c_again = alert("ccccccccccccccccccc3", DeliveryState::Pending);
        c_again.next_attempt_at = now + chrono::Duration::minutes(5);
        store
            .save_together(&[OutboxWrite::Delivery(&c_again), release])
            .await
            .unwrap();
        assert!(marked("C0ALERTS").await);

        // The next claim clears it; what is pending, read after it, is not due yet: the alert
        // waiting for its next try marks the channel again, for the claim after it falls due.
        let e = alert("eeeeeeeeeeeeeeeeeee5", DeliveryState::Sending);
        assert_eq!(claim(e).await, Claim::Taken);
        assert!(!store.nothing_else_pending("C0ALERTS"));
        assert!(!marked("C0ALERTS").await);
        assert_eq!(store.pending_deliveries(now, 100).await.unwrap(), []);
        assert!(marked("C0ALERTS").await);
    }

    /// The mutes set in Slack are one item, read with a notification's events: a mute another
    /// process set a moment before the notification holds for it, and mutes kept one item each
    /// (as before that item existed) still hold, and are that item from then on.
    #[tokio::test]
    async fn mutes_set_elsewhere_a_moment_ago_or_kept_one_item_each_hold_for_a_notification() {
        use cachewatch_core::history::response::{MuteRecord, ResponseStore};
        let moto = Moto::start();
        let ingesting = dynamodb_store(&moto).await;
        let answering_slack =
            DynamoStore::new(dynamodb_client(&moto.endpoint()), ingesting.table());
        let client = dynamodb_client(&moto.endpoint());
        let now = Utc::now();
        let mute = |clusters: &str| MuteRecord {
            clusters: clusters.to_owned(),
            until: now + chrono::Duration::days(1),
            by: "U0DEV".to_owned(),
            at: now - chrono::Duration::minutes(1),
        };
        let before = mute("orders-*");
        client
            .put_item()
            .table_name(ingesting.table())
            .item("PK", AttributeValue::S("MUTES".into()))
            .item(
                "SK",
                AttributeValue::S(format!(
                    "{}#U0DEV#orders-*",
                    before.at.format("%Y-%m-%dT%H:%M:%S%.3fZ")
                )),
            )
            .item(
                "json",
                AttributeValue::S(serde_json::to_string(&before).unwrap()),
            )
            .send()
            .await
            .unwrap();

        let kept = ingesting.mutes(now).await.unwrap();
        answering_slack
            .record_mute(&mute("payments-*"))
            .await
            .unwrap();
        let record = r#"{"SourceIdentifier":"payments-0001-001","SourceType":"cache-cluster","Date":"2026-06-11T03:10:02.000Z","Message":"The node with Cache Cluster ID: payments-0001-001, Node ID: 0001 is scheduled for replacement during the maintenance window from Start Time: Jun 25 19:00 UTC, End Time: Jun 25 20:00 UTC"}"#;
        let events = parse_document(record, &ParseContext::received_at(now)).unwrap();
        assert!(events[0].actionable);
        ingest(&ingesting, events, &AlertPolicy::default())
            .await
            .unwrap();
        let with_the_notification = ingesting.mutes(now).await.unwrap();
        let later = ingesting
            .mutes(now + chrono::Duration::days(2))
            .await
            .unwrap();

        assert_eq!(kept, [before]);
        let mut patterns: Vec<&str> = with_the_notification
            .iter()
            .map(|m| m.clusters.as_str())
            .collect();
        patterns.sort();
        assert_eq!(patterns, ["orders-*", "payments-*"]);
        assert!(later.is_empty(), "{later:?}");
        let now_item = client
            .get_item()
            .table_name(ingesting.table())
            .key("PK", AttributeValue::S("MUTES".into()))
            .key("SK", AttributeValue::S("NOW".into()))
            .consistent_read(true)
            .send()
            .await
            .unwrap()
            .item
            .expect("the mutes in force are one item");
        let in_force: Vec<MuteRecord> = serde_json::from_str(&s(&now_item, "json")).unwrap();
        assert_eq!(in_force.len(), 2, "{in_force:?}");
    }

    /// The latest facts kept of a cluster are one item, read with a notification's events: a
    /// reading another process kept before the notification stands in for it, and a reading
    /// kept under its time (as before that item existed) is still found.
    #[tokio::test]
    async fn the_facts_kept_of_a_notifications_cluster_are_read_with_its_event() {
        use cachewatch_core::cluster::facts::ClusterFacts;
        use cachewatch_core::cluster::kept::{FactsRecord, FactsStore, facts_key};
        let moto = Moto::start();
        let ingesting = dynamodb_store(&moto).await;
        let poller = DynamoStore::new(dynamodb_client(&moto.endpoint()), ingesting.table());
        let client = dynamodb_client(&moto.endpoint());
        let now = Utc::now();
        let reading = |cluster: &str, version: &str| FactsRecord {
            cluster_id: cluster.to_owned(),
            read_at: now - chrono::Duration::hours(1),
            facts: ClusterFacts {
                engine_version: Some(version.to_owned()),
                ..ClusterFacts::default()
            },
        };
        let before = reading("orders-0001-001", "6.2.6");
        client
            .put_item()
            .table_name(ingesting.table())
            .item("PK", AttributeValue::S("F#orders-0001-001".into()))
            .item(
                "SK",
                AttributeValue::S(before.read_at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()),
            )
            .item(
                "json",
                AttributeValue::S(serde_json::to_string(&before).unwrap()),
            )
            .send()
            .await
            .unwrap();
        let record = r#"{"SourceIdentifier":"payments-0001-001","SourceType":"cache-cluster","Date":"2026-06-11T03:10:02.000Z","Message":"The node with Cache Cluster ID: payments-0001-001, Node ID: 0001 is scheduled for replacement during the maintenance window from Start Time: Jun 25 19:00 UTC, End Time: Jun 25 20:00 UTC"}"#;
        let events = parse_document(record, &ParseContext::received_at(now)).unwrap();
        let kept = reading(&facts_key(&events[0]), "7.1.0");
        poller.record_facts(&kept).await.unwrap();

        ingest(&ingesting, events, &AlertPolicy::default())
            .await
            .unwrap();
        let with_the_notification = ingesting.latest_facts(&kept.cluster_id).await.unwrap();
        let kept_before = ingesting.latest_facts("orders-0001-001").await.unwrap();

        assert_eq!(with_the_notification, Some(kept));
        assert_eq!(kept_before, Some(before));
    }

    /// A local server that answers every request with `status` and DynamoDB's JSON error body
    /// of `code`.
    async fn answering(status: StatusCode, code: &'static str) -> String {
        let app = axum::Router::new().fallback(move || async move {
            (
                status,
                [("content-type", "application/x-amz-json-1.0")],
                format!(
                    r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{code}","message":"answered by the test"}}"#
                ),
            )
        });
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{address}")
    }

    /// The SDK error kept as the source of a store error, and its code.
    fn sdk_code(err: &StoreError) -> Option<String> {
        type Answer = SdkError<aws_sdk_dynamodb::operation::query::QueryError, HttpResponse>;
        let source = err.source().expect("the SDK error is the source");
        let sdk = source
            .downcast_ref::<Answer>()
            .unwrap_or_else(|| panic!("the source is the SDK's own error: {source:?}"));
        sdk.code().map(str::to_owned)
    }

    #[tokio::test]
    async fn passing_answers_are_unavailable_and_refusals_failed_with_the_sdk_error_kept() {
        let cases = [
            (StatusCode::BAD_REQUEST, "ThrottlingException", true),
            (
                StatusCode::BAD_REQUEST,
                "ProvisionedThroughputExceededException",
                true,
            ),
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                true,
            ),
            (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", true),
            (StatusCode::BAD_REQUEST, "ValidationException", false),
            (StatusCode::BAD_REQUEST, "AccessDeniedException", false),
            (StatusCode::BAD_REQUEST, "ResourceNotFoundException", false),
        ];
        for (status, code, passing) in cases {
            let endpoint = answering(status, code).await;
            let store = DynamoStore::new(dynamodb_client(&endpoint), "cachewatch-history");
            let query = EventQuery {
                cluster: Some("orders".into()),
                ..EventQuery::default()
            };
            let err = store.search(&query).await.unwrap_err();
            assert_eq!(err.is_retryable(), passing, "{code}: {err:?}");
            assert!(
                matches!(
                    (&err, passing),
                    (StoreError::Unavailable { .. }, true) | (StoreError::Failed { .. }, false)
                ),
                "{code}: {err:?}"
            );
            assert_eq!(sdk_code(&err).as_deref(), Some(code));
        }
    }

    #[tokio::test]
    async fn a_missing_table_is_a_lasting_failure() {
        let moto = Moto::start();
        let store = DynamoStore::new(dynamodb_client(&moto.endpoint()), "no-such-table");
        let query = EventQuery {
            kind: Some(cachewatch_core::EventKind::new("failover_complete")),
            ..EventQuery::default()
        };
        let err = store.search(&query).await.unwrap_err();
        assert!(matches!(err, StoreError::Failed { .. }), "{err:?}");
        assert_eq!(sdk_code(&err).as_deref(), Some("ResourceNotFoundException"));
        let id = EventId::parse("0123456789abcdef0123").unwrap();
        let err = store.event(&id).await.unwrap_err();
        assert!(!err.is_retryable(), "{err:?}");
    }

    #[tokio::test]
    async fn an_endpoint_nobody_answers_is_a_passing_condition() {
        let port = cachewatch_tests::moto::free_port();
        let store = DynamoStore::new(
            dynamodb_client(&format!("http://127.0.0.1:{port}")),
            "cachewatch-history",
        );
        let err = store
            .acquire_lease(LeaseRequest::new(
                "send:C0ALERTS",
                "poller",
                Utc::now(),
                Utc::now(),
            ))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
    }
}
