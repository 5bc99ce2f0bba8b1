//! A local stand-in for the ElastiCache operations moto lacks, in front of a moto server, so that
//! the real SDK client talks to one endpoint and every request uses ElastiCache's real wire
//! protocol.
//!
//! [`ElastiCacheStandIn`] binds `127.0.0.1` on an ephemeral port, runs on its own thread, and
//! stops when dropped (with the moto server it started, if it started one). It speaks the
//! **Query protocol**: form-encoded `Action=…&Version=2015-02-02` requests, XML answers in the
//! `http://elasticache.amazonaws.com/doc/2015-02-02/` namespace with
//! `ResponseMetadata/RequestId` (and an `x-amzn-RequestId` header), and refusals as AWS XML error
//! documents (`ErrorResponse/Error/{Type,Code,Message}`, `RequestId`).
//!
//! | operation | who answers | what it does |
//! | --- | --- | --- |
//! | `DescribeEvents` | the stand-in | the programmed events ([`ElastiCacheStandIn::add_event`]; those of one Region, [`ElastiCacheStandIn::add_event_in`], only to requests signed for it), newest first, within `StartTime`/`EndTime` (or `Duration` minutes back from now, or the last hour), never older than 14 days, filtered by `SourceType`/`SourceIdentifier`; pages of `MaxRecords` (20–100, default 100) chained by `Marker` |
//! | `DescribeUpdateActions` | the stand-in | the programmed update actions ([`ElastiCacheStandIn::add_update_action`]), filtered by `ServiceUpdateName`, `ReplicationGroupIds`, `CacheClusterIds`, `Engine`, `ServiceUpdateStatus`, `UpdateActionStatus` and `ServiceUpdateTimeRange`; paged like DescribeEvents (`MaxRecords` 1–100) |
//! | `TestFailover` | the stand-in, reading the group from moto | appends the documented events (below), swaps the shard's primary and replica in later `DescribeReplicationGroups` answers, answers the group; refuses like AWS (below) |
//! | `ModifyCacheCluster` | the stand-in, reading the cluster from moto | sets the cluster's notification topic (`NotificationTopicArn`, `NotificationTopicStatus`); other changes are not played |
//! | `DescribeCacheParameters` | the stand-in | the parameters of a group it knows (`default.*`, one a cluster or group was created with, one set by [`ElastiCacheStandIn::set_cache_parameter`]): a default group's values (`reserved-memory-percent` 25, `reserved-memory` 0, ...) with those set; pages of `MaxRecords` (20–100) chained by `Marker`; any other group is `CacheParameterGroupNotFound` (404) |
//! | everything else | **moto**, forwarded unchanged | answers are patched on the way back (below) |
//!
//! `TestFailover` appends, in this order: `Test Failover API called for node group N`
//! (replication group), `Failover from master node P to replica node R completed` (cluster P,
//! then the replication group), `Recovering cache nodes 0001` and `Finished recovery for cache
//! nodes 0001` (cluster P). It refuses an unknown group (moto's `ReplicationGroupNotFoundFault`),
//! an unknown node group (`NodeGroupNotFoundFault`, 404), a group without automatic failover or
//! without a replica (`InvalidReplicationGroupState`), missing parameters
//! (`InvalidParameterValue`), and a sixteenth node group within 24 hours
//! (`APICallRateForCustomerExceeded`, 400).
//!
//! # What is patched in moto's answers
//!
//! moto keeps no notification topic, parameter-group status, node list or snapshot time, and
//! ignores `NotificationTopicArn` in `ModifyReplicationGroup`. The stand-in keeps those itself,
//! from the requests it forwards (`CreateCacheCluster`, `CreateReplicationGroup`,
//! `ModifyReplicationGroup`, `CreateSnapshot`) and from [`ElastiCacheStandIn::set_parameter_apply_status`],
//! [`ElastiCacheStandIn::set_pending_modification`] and [`ElastiCacheStandIn::set_snapshot_time`],
//! and writes them into the answers moto gives:
//!
//! - every `CacheCluster` (DescribeCacheClusters, CreateCacheCluster, ModifyCacheCluster) gets
//!   its `NotificationConfiguration` (the cluster's own topic, else its group's), its
//!   `CacheParameterGroup` (name, the default group of its engine and version when created
//!   without one, and `ParameterApplyStatus`, `in-sync` unless set), its
//!   `PendingModifiedValues`; a cluster outside any group gets `CacheNodes` (with
//!   `ShowCacheNodeInfo=true`; ids `0001`…, endpoints `{cluster}.{node}.stand-in.cache.amazonaws.com`)
//!   and, for Memcached, a `ConfigurationEndpoint`;
//! - every `NodeGroupMember` (DescribeReplicationGroups, ModifyReplicationGroup) gets the
//!   `CurrentRole` a test failover left it in;
//! - every `Snapshot` (DescribeSnapshots, CreateSnapshot) gets `NodeSnapshots` with the
//!   `SnapshotCreateTime` of the `CreateSnapshot` that went through (or the time set).
//!
//! moto's `CreateReplicationGroup` makes no `CacheCluster` of the members: create them with
//! `CreateCacheCluster` (with `ReplicationGroupId` and `Engine=redis`) to describe them.
//!
//! # Faults and records
//!
//! [`ElastiCacheStandIn::fail_next`] makes the next request of an operation fail (throttled, a
//! 500, any AWS error) or answer late. Every request is recorded with its parameters, who
//! answered it, its status and the `Marker` it answered ([`ElastiCacheStandIn::requests`]).
//!
//! ```no_run
//! use cachewatch_tests::elasticache::ElastiCacheStandIn;
//!
//! # async fn example() {
//! let stand_in = ElastiCacheStandIn::start();
//! let client = aws_sdk_elasticache::Client::new(&stand_in.sdk_config().await);
//! stand_in.add_event("cache-cluster", "orders-001", "Cache cluster created", chrono::Utc::now());
//! let answer = client.describe_events().send().await.unwrap();
//! assert_eq!(answer.events().len(), 1);
//! # }
//! ```

use crate::server::{LocalServer, Received, Threads};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::ops::Range;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration as StdDuration, SystemTime, UNIX_EPOCH};

use aws_config::SdkConfig;
use aws_sdk_elasticache::Client;
use aws_sdk_elasticache::operation::create_cache_cluster::builders::CreateCacheClusterFluentBuilder;
use aws_sdk_elasticache::operation::create_replication_group::builders::CreateReplicationGroupFluentBuilder;
use aws_sdk_elasticache::primitives::DateTime as AwsDateTime;
use aws_sdk_elasticache::types::UpdateAction;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, SecondsFormat, Utc};

use crate::moto::Moto;

/// The API version every request names.
pub const API_VERSION: &str = "2015-02-02";
/// The XML namespace of every answer.
pub const XMLNS: &str = "http://elasticache.amazonaws.com/doc/2015-02-02/";
/// The region [`ElastiCacheStandIn::sdk_config`] and [`ElastiCacheStandIn::env`] use.
pub const REGION: &str = "eu-west-1";
/// How many node groups TestFailover accepts in any rolling 24 hours.
pub const TEST_FAILOVER_LIMIT: usize = 15;

/// The request that creates replication group `id` ("`{id}` cache"): Redis OSS 7.1 on
/// `cache.t4g.small`, one shard of a primary and a replica, automatic failover, Multi-AZ. A test
/// adds what it needs, then sends it.
pub fn redis_group(client: &Client, id: &str) -> CreateReplicationGroupFluentBuilder {
    plain_redis_group(client, id)
        .engine_version("7.1")
        .automatic_failover_enabled(true)
        .multi_az_enabled(true)
}

/// The request that creates replication group `id` ("`{id}` cache") with no more than it must
/// say: Redis OSS on `cache.t4g.small`, one shard of a primary and a replica, the rest left to
/// moto's defaults.
pub fn plain_redis_group(client: &Client, id: &str) -> CreateReplicationGroupFluentBuilder {
    client
        .create_replication_group()
        .replication_group_id(id)
        .replication_group_description(format!("{id} cache"))
        .engine("redis")
        .cache_node_type("cache.t4g.small")
        .replicas_per_node_group(1)
}

/// The request that creates cluster `id`, a member of the [`redis_group`] `group` (moto does not
/// make members by itself): one Redis OSS 7.1 node on `cache.t4g.small`.
pub fn redis_member(client: &Client, id: &str, group: &str) -> CreateCacheClusterFluentBuilder {
    client
        .create_cache_cluster()
        .cache_cluster_id(id)
        .replication_group_id(group)
        .engine("redis")
        .engine_version("7.1")
        .cache_node_type("cache.t4g.small")
        .num_cache_nodes(1)
}

/// How long ElastiCache keeps events.
const RETENTION: Duration = Duration::days(14);
/// The most minutes `Duration` may ask for (14 days).
const MAX_DURATION_MINUTES: i64 = 20_160;

/// Operations the stand-in answers itself.
const PLAYED: [&str; 5] = [
    "DescribeEvents",
    "DescribeUpdateActions",
    "TestFailover",
    "ModifyCacheCluster",
    "DescribeCacheParameters",
];

/// The parameters every Valkey and Redis OSS parameter group starts with, as ElastiCache's
/// default groups set them (`reserved-memory-percent` 25: the default AWS documents).
const DEFAULT_PARAMETERS: [(&str, &str); 6] = [
    ("appendonly", "no"),
    ("maxmemory-policy", "volatile-lru"),
    ("reserved-memory", "0"),
    ("reserved-memory-percent", "25"),
    ("timeout", "0"),
    ("tcp-keepalive", "300"),
];

/// `SourceType` values DescribeEvents accepts.
const SOURCE_TYPES: [&str; 9] = [
    "cache-cluster",
    "cache-parameter-group",
    "cache-security-group",
    "cache-subnet-group",
    "replication-group",
    "serverless-cache",
    "serverless-cache-snapshot",
    "user",
    "user-group",
];

/// How the next request of an operation goes wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// `400 Throttling: Rate exceeded`, as AWS throttles a Query API.
    Throttled,
    /// `500 InternalFailure`.
    ServerError,
    /// The request is answered as usual, after this long.
    Slow(StdDuration),
    /// Any AWS error document.
    Error {
        /// The HTTP status.
        status: u16,
        /// The error code (`TestFailoverNotAvailableFault`).
        code: String,
        /// The message.
        message: String,
    },
}

/// One request the stand-in received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// `Action`.
    pub action: String,
    /// Every form parameter, in order.
    pub params: Vec<(String, String)>,
    /// Whether the stand-in plays the operation itself (rather than forwarding it to moto).
    pub played: bool,
    /// The HTTP status answered (0 while unanswered).
    pub status: u16,
    /// The `Marker` the answer carried, if any.
    pub answered_marker: Option<String>,
    /// The Region the request was signed for (its SigV4 credential scope).
    pub region: Option<String>,
    /// The access key id it was signed with.
    pub access_key: Option<String>,
}

impl RecordedRequest {
    /// The value of parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        param(&self.params, name)
    }

    /// The members of list parameter `name` (`Name.member.1`, `Name.member.2`, ...), in order.
    pub fn list(&self, name: &str) -> Vec<&str> {
        list(&self.params, name)
    }
}

/// A notification topic and its status.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Topic {
    arn: String,
    status: String,
}

#[derive(Debug, Default)]
struct StandInState {
    requests: Vec<RecordedRequest>,
    events: Vec<StoredEvent>,
    update_actions: Vec<UpdateAction>,
    faults: VecDeque<(String, Fault)>,
    cluster_topics: HashMap<String, Topic>,
    group_topics: HashMap<String, Topic>,
    cluster_parameter_groups: HashMap<String, String>,
    group_parameter_groups: HashMap<String, String>,
    apply_status: HashMap<String, String>,
    pending: HashMap<String, BTreeMap<String, String>>,
    snapshot_times: HashMap<String, DateTime<Utc>>,
    roles: HashMap<String, String>,
    parameters: HashMap<String, BTreeMap<String, String>>,
    failovers: Vec<DateTime<Utc>>,
    /// Every request signed for one of these Regions is refused so.
    refused_regions: HashMap<String, Fault>,
    sequence: u64,
}

#[derive(Debug, Clone)]
struct StoredEvent {
    source_type: String,
    source_identifier: String,
    message: String,
    date: DateTime<Utc>,
    /// Insertion order, newest last: the tie-break among events of the same time.
    order: u64,
    /// The Region whose DescribeEvents lists it; every Region's when `None`.
    region: Option<String>,
}

#[derive(Debug)]
struct Shared {
    backend: String,
    http: reqwest::Client,
    /// Makes this stand-in's markers its own.
    marker_salt: u32,
    state: Mutex<StandInState>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, StandInState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The stand-in (see the module's documentation). Stops when dropped.
pub struct ElastiCacheStandIn {
    server: LocalServer,
    shared: Arc<Shared>,
    // Declared last: dropped after the server has stopped.
    moto: Option<Moto>,
}

impl std::fmt::Debug for ElastiCacheStandIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ElastiCacheStandIn")
            .field("address", &self.server.address())
            .field("backend", &self.shared.backend)
            .finish_non_exhaustive()
    }
}

impl ElastiCacheStandIn {
    /// Starts a moto server and the stand-in in front of it.
    pub fn start() -> Self {
        let moto = Moto::start();
        let mut stand_in = Self::forwarding_to(&moto.endpoint());
        stand_in.moto = Some(moto);
        stand_in
    }

    /// Starts the stand-in in front of the server at `backend` (`http://127.0.0.1:PORT`).
    pub fn forwarding_to(backend: &str) -> Self {
        let salt = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let shared = Arc::new(Shared {
            backend: backend.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .timeout(StdDuration::from_secs(30))
                .build()
                .expect("the stand-in's HTTP client builds"),
            marker_salt: salt,
            state: Mutex::new(StandInState::default()),
        });
        let server = LocalServer::start(
            "elasticache-stand-in",
            Threads::One,
            Router::new()
                .fallback(handle)
                .with_state(Arc::clone(&shared)),
        );
        Self {
            server,
            shared,
            moto: None,
        }
    }

    /// Where it listens.
    pub fn address(&self) -> SocketAddr {
        self.server.address()
    }

    /// `http://127.0.0.1:PORT`: the endpoint override (`AWS_ENDPOINT_URL`) for SDK clients.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.server.address())
    }

    /// The environment an AWS SDK client in a child process needs to talk to the stand-in and
    /// nothing else: the endpoint, a region, dummy credentials, no profile.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        crate::aws_env(self.endpoint(), REGION)
    }

    /// An SDK configuration pointing at the stand-in, as `AWS_ENDPOINT_URL` would: its
    /// endpoint, [`REGION`], dummy credentials, the SDK's standard retries.
    pub async fn sdk_config(&self) -> SdkConfig {
        crate::aws_sdk_config(self.endpoint(), REGION).await
    }

    /// Adds an event DescribeEvents will list, in every Region.
    pub fn add_event(
        &self,
        source_type: &str,
        source_identifier: &str,
        message: &str,
        date: DateTime<Utc>,
    ) {
        self.add_event_for(None, source_type, source_identifier, message, date);
    }

    /// Adds an event DescribeEvents will list only to requests signed for `region`, as each
    /// Region's ElastiCache keeps its own events.
    pub fn add_event_in(
        &self,
        region: &str,
        source_type: &str,
        source_identifier: &str,
        message: &str,
        date: DateTime<Utc>,
    ) {
        self.add_event_for(Some(region), source_type, source_identifier, message, date);
    }

    /// Refuses every later request signed for `region` as `fault`.
    pub fn refuse_region(&self, region: &str, fault: Fault) {
        self.shared
            .lock()
            .refused_regions
            .insert(region.to_owned(), fault);
    }

    fn add_event_for(
        &self,
        region: Option<&str>,
        source_type: &str,
        source_identifier: &str,
        message: &str,
        date: DateTime<Utc>,
    ) {
        let mut state = self.shared.lock();
        state.sequence += 1;
        let order = state.sequence;
        state.events.push(StoredEvent {
            source_type: source_type.to_owned(),
            source_identifier: source_identifier.to_owned(),
            message: message.to_owned(),
            date,
            order,
            region: region.map(str::to_owned),
        });
    }

    /// Adds an update action DescribeUpdateActions will list (the SDK's own type, written out
    /// field by field).
    pub fn add_update_action(&self, action: UpdateAction) {
        self.shared.lock().update_actions.push(action);
    }

    /// Sets the `ParameterApplyStatus` (`pending-reboot`, `applying`, `in-sync`) later answers
    /// give `cluster`.
    pub fn set_parameter_apply_status(&self, cluster: &str, status: &str) {
        self.shared
            .lock()
            .apply_status
            .insert(cluster.to_owned(), status.to_owned());
    }

    /// Adds a `PendingModifiedValues` member (`EngineVersion`, `CacheNodeType`, ...) to later
    /// answers about `cluster`.
    pub fn set_pending_modification(&self, cluster: &str, field: &str, value: &str) {
        self.shared
            .lock()
            .pending
            .entry(cluster.to_owned())
            .or_default()
            .insert(field.to_owned(), value.to_owned());
    }

    /// Sets parameter `name` of cache parameter group `group` to `value` in later
    /// DescribeCacheParameters answers (the group's other parameters keep their defaults).
    pub fn set_cache_parameter(&self, group: &str, name: &str, value: &str) {
        self.shared
            .lock()
            .parameters
            .entry(group.to_owned())
            .or_default()
            .insert(name.to_owned(), value.to_owned());
    }

    /// Sets when snapshot `name` was taken.
    pub fn set_snapshot_time(&self, name: &str, at: DateTime<Utc>) {
        self.shared
            .lock()
            .snapshot_times
            .insert(name.to_owned(), at);
    }

    /// Makes the next request of `action` go wrong as `fault`; faults queue in order.
    pub fn fail_next(&self, action: &str, fault: Fault) {
        self.shared
            .lock()
            .faults
            .push_back((action.to_owned(), fault));
    }

    /// Refuses the next `times` requests of `action` as AWS refuses credentials without the
    /// right to it: `403 AccessDenied`.
    pub fn refuse(&self, action: &str, times: usize) {
        for _ in 0..times {
            self.fail_next(
                action,
                Fault::Error {
                    status: 403,
                    code: "AccessDenied".into(),
                    message: format!("not authorized to perform elasticache:{action}"),
                },
            );
        }
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// The requests of `action` so far, in arrival order.
    pub fn requests_for(&self, action: &str) -> Vec<RecordedRequest> {
        self.shared
            .lock()
            .requests
            .iter()
            .filter(|r| r.action == action)
            .cloned()
            .collect()
    }
}

/// An answer on its way back, with the marker the record notes.
struct Answer {
    status: StatusCode,
    body: String,
    content_type: String,
    request_id: String,
    marker: Option<String>,
}

impl Answer {
    fn xml(action: &str, request_id: String, result: &str, marker: Option<String>) -> Self {
        Answer {
            status: StatusCode::OK,
            body: format!(
                "<{action}Response xmlns=\"{XMLNS}\"><{action}Result>{result}</{action}Result><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"
            ),
            content_type: "text/xml".to_owned(),
            request_id,
            marker,
        }
    }

    fn error(request_id: String, status: u16, code: &str, message: &str) -> Self {
        let kind = if status >= 500 { "Receiver" } else { "Sender" };
        Answer {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            body: format!(
                "<ErrorResponse xmlns=\"{XMLNS}\"><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
                escape(code),
                escape(message)
            ),
            content_type: "text/xml".to_owned(),
            request_id,
            marker: None,
        }
    }

    fn invalid(request_id: String, message: &str) -> Self {
        Answer::error(request_id, 400, "InvalidParameterValue", message)
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        (
            self.status,
            [
                (header::CONTENT_TYPE, self.content_type),
                (
                    header::HeaderName::from_static("x-amzn-requestid"),
                    self.request_id,
                ),
            ],
            self.body,
        )
            .into_response()
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    Received(method, uri, headers, body): Received,
) -> Response {
    let mut params = form(uri.query().unwrap_or_default());
    params.extend(form(&String::from_utf8_lossy(&body)));
    let action = param(&params, "Action").unwrap_or_default().to_owned();
    let (access_key, region) = signed_by(&headers);
    let (index, request_id, fault) = {
        let mut state = shared.lock();
        state.sequence += 1;
        let request_id = request_id(state.sequence, shared.marker_salt);
        state.requests.push(RecordedRequest {
            action: action.clone(),
            params: params.clone(),
            played: PLAYED.contains(&action.as_str()),
            status: 0,
            answered_marker: None,
            region: region.clone(),
            access_key,
        });
        let refused = region
            .as_ref()
            .and_then(|r| state.refused_regions.get(r))
            .cloned();
        let fault = refused.or_else(|| {
            state
                .faults
                .iter()
                .position(|(a, _)| *a == action)
                .and_then(|i| state.faults.remove(i))
                .map(|(_, f)| f)
        });
        (state.requests.len() - 1, request_id, fault)
    };
    let answer = match fault {
        Some(Fault::Throttled) => Some(Answer::error(
            request_id.clone(),
            400,
            "Throttling",
            "Rate exceeded",
        )),
        Some(Fault::ServerError) => Some(Answer::error(
            request_id.clone(),
            500,
            "InternalFailure",
            "An internal error has occurred. Please try your query again at a later time.",
        )),
        Some(Fault::Error {
            status,
            code,
            message,
        }) => Some(Answer::error(request_id.clone(), status, &code, &message)),
        Some(Fault::Slow(delay)) => {
            tokio::time::sleep(delay).await;
            None
        }
        None => None,
    };
    let answer = match answer {
        Some(answer) => answer,
        None if action.is_empty() => Answer::error(
            request_id,
            400,
            "MissingAction",
            "The request must contain the parameter Action.",
        ),
        None => match action.as_str() {
            "DescribeEvents" => describe_events(&shared, &params, region.as_deref(), request_id),
            "DescribeUpdateActions" => describe_update_actions(&shared, &params, request_id),
            "TestFailover" => test_failover(&shared, &uri, &headers, &params, request_id).await,
            "ModifyCacheCluster" => {
                modify_cache_cluster(&shared, &uri, &headers, &params, request_id).await
            }
            "DescribeCacheParameters" => describe_cache_parameters(&shared, &params, request_id),
            _ => {
                forward(
                    &shared, method, &uri, &headers, body, &action, &params, request_id,
                )
                .await
            }
        },
    };
    {
        let mut state = shared.lock();
        if let Some(record) = state.requests.get_mut(index) {
            record.status = answer.status.as_u16();
            record.answered_marker = answer.marker.clone();
        }
    }
    answer.into_response()
}

// ---------------------------------------------------------------------------------------------
// DescribeEvents and DescribeUpdateActions

/// The access key id and Region of a SigV4 `Authorization` header
/// (`Credential=KEY/DATE/REGION/SERVICE/aws4_request`).
fn signed_by(headers: &HeaderMap) -> (Option<String>, Option<String>) {
    let scope = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split("Credential=").nth(1))
        .and_then(|v| v.split([',', ' ']).next())
        .unwrap_or_default();
    let mut parts = scope.split('/');
    let key = parts.next().filter(|k| !k.is_empty()).map(str::to_owned);
    let region = parts.nth(1).map(str::to_owned);
    (key, region)
}

fn describe_events(
    shared: &Shared,
    params: &[(String, String)],
    region: Option<&str>,
    request_id: String,
) -> Answer {
    let max_records = match page_size(params, 20) {
        Ok(n) => n,
        Err(message) => return Answer::invalid(request_id, &message),
    };
    let time = |name: &str| -> Result<Option<DateTime<Utc>>, String> {
        param(params, name)
            .map(|raw| {
                DateTime::parse_from_rfc3339(raw)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| {
                        format!("The parameter {name} is not a valid ISO 8601 time: {raw}")
                    })
            })
            .transpose()
    };
    let (start, end) = match (time("StartTime"), time("EndTime")) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(m), _) | (_, Err(m)) => return Answer::invalid(request_id, &m),
    };
    let duration = match param(params, "Duration").map(str::parse::<i64>) {
        None => None,
        Some(Ok(d)) if (1..=MAX_DURATION_MINUTES).contains(&d) => Some(Duration::minutes(d)),
        Some(_) => {
            return Answer::invalid(
                request_id,
                &format!("The parameter Duration must be between 1 and {MAX_DURATION_MINUTES}."),
            );
        }
    };
    let source_type = param(params, "SourceType");
    if let Some(t) = source_type
        && !SOURCE_TYPES.contains(&t)
    {
        return Answer::invalid(request_id, &format!("Invalid source type: {t}"));
    }
    let source_identifier = param(params, "SourceIdentifier");
    let now = Utc::now();
    // Duration counts only when neither StartTime nor EndTime is given; an EndTime alone means
    // the hour before it.
    let (from, to) = match (start, end) {
        (Some(s), Some(e)) => (s, e),
        (Some(s), None) => (s, now),
        (None, Some(e)) => (e - Duration::hours(1), e),
        (None, None) => (now - duration.unwrap_or(Duration::hours(1)), now),
    };
    if from > to {
        return Answer::error(
            request_id,
            400,
            "InvalidParameterCombination",
            "StartTime must be before EndTime.",
        );
    }
    let from = from.max(now - RETENTION);
    let mut found: Vec<StoredEvent> = shared
        .lock()
        .events
        .iter()
        .filter(|e| e.date >= from && e.date <= to)
        .filter(|e| e.region.is_none() || e.region.as_deref() == region)
        .filter(|e| source_type.is_none_or(|t| e.source_type == t))
        .filter(|e| source_identifier.is_none_or(|id| e.source_identifier == id))
        .cloned()
        .collect();
    found.sort_by_key(|e| std::cmp::Reverse((e.date, e.order)));
    let (page, marker) = match paginate(shared, params, "events", &found, max_records) {
        Ok(paged) => paged,
        Err(message) => return Answer::invalid(request_id, &message),
    };
    let mut result = String::new();
    if let Some(m) = &marker {
        result.push_str(&element("Marker", m));
    }
    result.push_str("<Events>");
    for e in page {
        result.push_str("<Event>");
        result.push_str(&element("SourceIdentifier", &e.source_identifier));
        result.push_str(&element("SourceType", &e.source_type));
        result.push_str(&element("Message", &e.message));
        result.push_str(&element("Date", &iso(e.date)));
        result.push_str("</Event>");
    }
    result.push_str("</Events>");
    Answer::xml("DescribeEvents", request_id, &result, marker)
}

fn describe_update_actions(
    shared: &Shared,
    params: &[(String, String)],
    request_id: String,
) -> Answer {
    let max_records = match page_size(params, 1) {
        Ok(n) => n,
        Err(message) => return Answer::invalid(request_id, &message),
    };
    let name = param(params, "ServiceUpdateName");
    let groups = list(params, "ReplicationGroupIds");
    let clusters = list(params, "CacheClusterIds");
    let engine = param(params, "Engine");
    let update_statuses = list(params, "ServiceUpdateStatus");
    let action_statuses = list(params, "UpdateActionStatus");
    let range =
        |name: &str| param(params, name).and_then(|raw| DateTime::parse_from_rfc3339(raw).ok());
    let (released_after, released_before) = (
        range("ServiceUpdateTimeRange.StartTime"),
        range("ServiceUpdateTimeRange.EndTime"),
    );
    let released = |a: &UpdateAction| {
        let at = a.service_update_release_date().map(AwsDateTime::secs);
        released_after.is_none_or(|after| at.is_some_and(|t| t >= after.timestamp()))
            && released_before.is_none_or(|before| at.is_some_and(|t| t <= before.timestamp()))
    };
    let found: Vec<UpdateAction> = shared
        .lock()
        .update_actions
        .iter()
        .filter(|a| name.is_none_or(|n| a.service_update_name() == Some(n)))
        .filter(|a| {
            (groups.is_empty() && clusters.is_empty())
                || a.replication_group_id()
                    .is_some_and(|g| groups.contains(&g))
                || a.cache_cluster_id().is_some_and(|c| clusters.contains(&c))
        })
        .filter(|a| engine.is_none_or(|e| a.engine().is_some_and(|x| x.eq_ignore_ascii_case(e))))
        .filter(|a| {
            update_statuses.is_empty()
                || a.service_update_status()
                    .is_some_and(|s| update_statuses.contains(&s.as_str()))
        })
        .filter(|a| {
            action_statuses.is_empty()
                || a.update_action_status()
                    .is_some_and(|s| action_statuses.contains(&s.as_str()))
        })
        .filter(|a| released(a))
        .cloned()
        .collect();
    let (page, marker) = match paginate(shared, params, "actions", &found, max_records) {
        Ok(paged) => paged,
        Err(message) => return Answer::invalid(request_id, &message),
    };
    let mut result = String::new();
    if let Some(m) = &marker {
        result.push_str(&element("Marker", m));
    }
    result.push_str("<UpdateActions>");
    for a in page {
        result.push_str(&update_action_xml(a));
    }
    result.push_str("</UpdateActions>");
    Answer::xml("DescribeUpdateActions", request_id, &result, marker)
}

/// An `UpdateAction` element with the members the action has, in AWS's documented order (the
/// node-level statuses, asked for with `ShowNodeLevelUpdateStatus`, are not played).
fn update_action_xml(a: &UpdateAction) -> String {
    let date = |d: Option<&AwsDateTime>| {
        d.and_then(|d| DateTime::from_timestamp(d.secs(), d.subsec_nanos()))
            .map(iso)
    };
    let fields: [(&str, Option<String>); 15] = [
        (
            "ReplicationGroupId",
            a.replication_group_id().map(str::to_owned),
        ),
        ("CacheClusterId", a.cache_cluster_id().map(str::to_owned)),
        (
            "ServiceUpdateName",
            a.service_update_name().map(str::to_owned),
        ),
        (
            "ServiceUpdateReleaseDate",
            date(a.service_update_release_date()),
        ),
        (
            "ServiceUpdateSeverity",
            a.service_update_severity().map(|s| s.as_str().to_owned()),
        ),
        (
            "ServiceUpdateStatus",
            a.service_update_status().map(|s| s.as_str().to_owned()),
        ),
        (
            "ServiceUpdateRecommendedApplyByDate",
            date(a.service_update_recommended_apply_by_date()),
        ),
        (
            "ServiceUpdateType",
            a.service_update_type().map(|t| t.as_str().to_owned()),
        ),
        (
            "UpdateActionAvailableDate",
            date(a.update_action_available_date()),
        ),
        (
            "UpdateActionStatus",
            a.update_action_status().map(|s| s.as_str().to_owned()),
        ),
        ("NodesUpdated", a.nodes_updated().map(str::to_owned)),
        (
            "UpdateActionStatusModifiedDate",
            date(a.update_action_status_modified_date()),
        ),
        ("SlaMet", a.sla_met().map(|s| s.as_str().to_owned())),
        (
            "EstimatedUpdateTime",
            a.estimated_update_time().map(str::to_owned),
        ),
        ("Engine", a.engine().map(str::to_owned)),
    ];
    let mut out = String::from("<UpdateAction>");
    for (tag, value) in fields {
        if let Some(v) = value {
            out.push_str(&element(tag, &v));
        }
    }
    out.push_str("</UpdateAction>");
    out
}

/// `MaxRecords`, between `min` and 100 (default 100).
fn page_size(params: &[(String, String)], min: usize) -> Result<usize, String> {
    match param(params, "MaxRecords") {
        None => Ok(100),
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (min..=100).contains(n))
            .ok_or_else(|| format!("The parameter MaxRecords must be between {min} and 100.")),
    }
}

/// The page of `items` the request's `Marker` asks for, and the marker of the next page.
fn paginate<'a, T>(
    shared: &Shared,
    params: &[(String, String)],
    kind: &str,
    items: &'a [T],
    max_records: usize,
) -> Result<(&'a [T], Option<String>), String> {
    let offset = match param(params, "Marker") {
        None => 0,
        Some(marker) => marker
            .strip_prefix(&format!("{kind}-{:08x}-", shared.marker_salt))
            .and_then(|o| o.parse::<usize>().ok())
            .filter(|o| *o <= items.len())
            .ok_or_else(|| format!("Invalid marker: {marker}"))?,
    };
    let end = (offset + max_records).min(items.len());
    let next = (end < items.len()).then(|| format!("{kind}-{:08x}-{end}", shared.marker_salt));
    Ok((&items[offset..end], next))
}

// ---------------------------------------------------------------------------------------------
// DescribeCacheParameters

/// The parameters of a group the stand-in knows (an ElastiCache default group, one a cluster or
/// replication group names, or one with parameters set), by name; `None` for any other.
fn known_parameters(state: &StandInState, group: &str) -> Option<BTreeMap<String, String>> {
    let named = group.starts_with("default.")
        || state.parameters.contains_key(group)
        || state.cluster_parameter_groups.values().any(|g| g == group)
        || state.group_parameter_groups.values().any(|g| g == group);
    if !named {
        return None;
    }
    let mut all: BTreeMap<String, String> = DEFAULT_PARAMETERS
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    if let Some(set) = state.parameters.get(group) {
        all.extend(set.clone());
    }
    Some(all)
}

fn describe_cache_parameters(
    shared: &Shared,
    params: &[(String, String)],
    request_id: String,
) -> Answer {
    let Some(group) = param(params, "CacheParameterGroupName") else {
        return Answer::invalid(
            request_id,
            "The parameter CacheParameterGroupName must be provided.",
        );
    };
    let max_records = match page_size(params, 20) {
        Ok(n) => n,
        Err(message) => return Answer::invalid(request_id, &message),
    };
    let Some(all) = known_parameters(&shared.lock(), group) else {
        return Answer::error(
            request_id,
            404,
            "CacheParameterGroupNotFound",
            &format!("CacheParameterGroup {group} not found."),
        );
    };
    let all: Vec<(String, String)> = all.into_iter().collect();
    let (page, marker) = match paginate(shared, params, "parameters", &all, max_records) {
        Ok(found) => found,
        Err(message) => return Answer::invalid(request_id, &message),
    };
    let members: String = page
        .iter()
        .map(|(name, value)| {
            format!(
                "<Parameter>{}{}{}{}</Parameter>",
                element("ParameterName", name),
                element("ParameterValue", value),
                element("Source", "system"),
                element("ChangeType", "immediate"),
            )
        })
        .collect();
    let mut result = format!("<Parameters>{members}</Parameters>");
    if let Some(m) = &marker {
        result.push_str(&element("Marker", m));
    }
    Answer::xml("DescribeCacheParameters", request_id, &result, marker)
}

// ---------------------------------------------------------------------------------------------
// TestFailover and ModifyCacheCluster

async fn test_failover(
    shared: &Shared,
    uri: &Uri,
    headers: &HeaderMap,
    params: &[(String, String)],
    request_id: String,
) -> Answer {
    let (Some(group_id), Some(node_group)) = (
        param(params, "ReplicationGroupId"),
        param(params, "NodeGroupId"),
    ) else {
        return Answer::invalid(
            request_id,
            "The parameters ReplicationGroupId and NodeGroupId must be provided.",
        );
    };
    let now = Utc::now();
    {
        let state = shared.lock();
        let recent = state
            .failovers
            .iter()
            .filter(|t| now - **t < Duration::hours(24))
            .count();
        if recent >= TEST_FAILOVER_LIMIT {
            return Answer::error(
                request_id,
                400,
                "APICallRateForCustomerExceeded",
                &format!(
                    "Test failover can be called on at most {TEST_FAILOVER_LIMIT} node groups in a rolling 24-hour period."
                ),
            );
        }
    }
    let asked = [
        ("Action", "DescribeReplicationGroups"),
        ("ReplicationGroupId", group_id),
    ];
    let described = match ask_moto(shared, uri, headers, &asked, &request_id).await {
        Ok(described) => described,
        Err(answer) => return answer,
    };
    let body = patch_roles(shared, &described.body);
    let Some(group) = first_element(&body, "ReplicationGroup") else {
        return Answer::error(
            request_id,
            404,
            "ReplicationGroupNotFoundFault",
            &format!("Replication group {group_id} not found."),
        );
    };
    if child_text(&group, "AutomaticFailover").as_deref() != Some("enabled") {
        return Answer::error(
            request_id,
            400,
            "InvalidReplicationGroupState",
            &format!("Automatic failover is not enabled for replication group {group_id}."),
        );
    }
    let shard = element_spans(&group, "NodeGroup")
        .into_iter()
        .map(|span| group[span].to_owned())
        .find(|ng| child_text(ng, "NodeGroupId").as_deref() == Some(node_group));
    let Some(shard) = shard else {
        return Answer::error(
            request_id,
            404,
            "NodeGroupNotFoundFault",
            &format!("The node group {node_group} was not found in replication group {group_id}."),
        );
    };
    let members: Vec<(String, String, Option<String>)> = element_spans(&shard, "NodeGroupMember")
        .into_iter()
        .filter_map(|span| {
            let m = &shard[span];
            Some((
                child_text(m, "CacheClusterId")?,
                child_text(m, "CacheNodeId").unwrap_or_else(|| "0001".to_owned()),
                child_text(m, "CurrentRole"),
            ))
        })
        .collect();
    let primary = members
        .iter()
        .find(|m| m.2.as_deref() == Some("primary"))
        .or(members.first());
    let replica = primary.and_then(|p| {
        members
            .iter()
            .find(|m| m.0 != p.0 && m.2.as_deref() != Some("primary"))
    });
    let (Some(primary), Some(replica)) = (primary.cloned(), replica.cloned()) else {
        return Answer::error(
            request_id,
            400,
            "InvalidReplicationGroupState",
            &format!("Node group {node_group} of {group_id} has no replica to fail over to."),
        );
    };
    {
        let mut state = shared.lock();
        state.failovers.push(now);
        let failover = format!(
            "Failover from master node {} to replica node {} completed",
            primary.0, replica.0
        );
        let sequence = [
            (
                "replication-group",
                group_id.to_owned(),
                format!("Test Failover API called for node group {node_group}"),
            ),
            ("cache-cluster", primary.0.clone(), failover.clone()),
            ("replication-group", group_id.to_owned(), failover),
            (
                "cache-cluster",
                primary.0.clone(),
                format!("Recovering cache nodes {}", primary.1),
            ),
            (
                "cache-cluster",
                primary.0.clone(),
                format!("Finished recovery for cache nodes {}", primary.1),
            ),
        ];
        for (i, (source_type, source, message)) in sequence.into_iter().enumerate() {
            state.sequence += 1;
            let order = state.sequence;
            state.events.push(StoredEvent {
                source_type: source_type.to_owned(),
                source_identifier: source,
                message,
                date: now + Duration::milliseconds(i64::try_from(i).unwrap_or(0)),
                order,
                region: None,
            });
        }
        state.roles.insert(primary.0.clone(), "replica".to_owned());
        state.roles.insert(replica.0.clone(), "primary".to_owned());
    }
    let group = patch_roles(shared, &group);
    Answer::xml("TestFailover", request_id, &group, None)
}

async fn modify_cache_cluster(
    shared: &Shared,
    uri: &Uri,
    headers: &HeaderMap,
    params: &[(String, String)],
    request_id: String,
) -> Answer {
    let Some(cluster_id) = param(params, "CacheClusterId") else {
        return Answer::invalid(request_id, "The parameter CacheClusterId must be provided.");
    };
    let status = param(params, "NotificationTopicStatus");
    if let Some(s) = status
        && s != "active"
        && s != "inactive"
    {
        return Answer::invalid(
            request_id,
            &format!("Invalid notification topic status: {s}. Valid values: active, inactive."),
        );
    }
    let asked = [
        ("Action", "DescribeCacheClusters"),
        ("CacheClusterId", cluster_id),
    ];
    let described = match ask_moto(shared, uri, headers, &asked, &request_id).await {
        Ok(described) => described,
        Err(answer) => return answer,
    };
    {
        let mut state = shared.lock();
        let current = resolved_topic(&state, cluster_id, None);
        let arn = param(params, "NotificationTopicArn")
            .map(str::to_owned)
            .or(current.as_ref().map(|t| t.arn.clone()));
        if let Some(arn) = arn
            && (param(params, "NotificationTopicArn").is_some() || status.is_some())
        {
            state.cluster_topics.insert(
                cluster_id.to_owned(),
                Topic {
                    arn,
                    status: status.unwrap_or("active").to_owned(),
                },
            );
        }
    }
    let Some(cluster) = first_element(&described.body, "CacheCluster") else {
        return Answer::error(
            request_id,
            404,
            "CacheClusterNotFound",
            &format!("Cache cluster {cluster_id} not found."),
        );
    };
    let cluster = patch_cluster(&shared.lock(), &cluster, false);
    Answer::xml("ModifyCacheCluster", request_id, &cluster, None)
}

// ---------------------------------------------------------------------------------------------
// Forwarding to moto, and what is kept and patched on the way

#[allow(clippy::too_many_arguments)]
async fn forward(
    shared: &Shared,
    method: Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
    action: &str,
    params: &[(String, String)],
    request_id: String,
) -> Answer {
    let answer = match send_to_moto(shared, method, uri, headers, body).await {
        Ok(answer) => answer,
        Err(failed) => return Answer::error(request_id, 503, "ServiceUnavailable", &failed),
    };
    if !answer.status.is_success() {
        return answer;
    }
    remember(shared, action, params, &answer.body);
    let marker = child_text(&answer.body, "Marker").filter(|m| !m.is_empty());
    let show_nodes = param(params, "ShowCacheNodeInfo") == Some("true");
    let body = match action {
        "DescribeCacheClusters" | "CreateCacheCluster" => {
            let state = shared.lock();
            replace_elements(&answer.body, "CacheCluster", |c| {
                patch_cluster(&state, c, show_nodes)
            })
        }
        "DescribeReplicationGroups" | "ModifyReplicationGroup" | "CreateReplicationGroup" => {
            patch_roles(shared, &answer.body)
        }
        "DescribeSnapshots" | "CreateSnapshot" => {
            let state = shared.lock();
            replace_elements(&answer.body, "Snapshot", |s| patch_snapshot(&state, s))
        }
        _ => answer.body,
    };
    Answer {
        body,
        marker,
        ..answer
    }
}

/// Keeps what moto does not, from a request moto accepted.
fn remember(shared: &Shared, action: &str, params: &[(String, String)], answer: &str) {
    let mut state = shared.lock();
    let topic = || {
        param(params, "NotificationTopicArn").map(|arn| Topic {
            arn: arn.to_owned(),
            status: "active".to_owned(),
        })
    };
    match action {
        "CreateCacheCluster" | "CreateReplicationGroup" => {
            let state = &mut *state;
            let (id, topics, parameter_groups) = if action == "CreateCacheCluster" {
                let id = param(params, "CacheClusterId");
                (
                    id,
                    &mut state.cluster_topics,
                    &mut state.cluster_parameter_groups,
                )
            } else {
                let id = param(params, "ReplicationGroupId");
                (
                    id,
                    &mut state.group_topics,
                    &mut state.group_parameter_groups,
                )
            };
            let Some(id) = id else {
                return;
            };
            if let Some(t) = topic() {
                topics.insert(id.to_owned(), t);
            }
            if let Some(pg) = param(params, "CacheParameterGroupName") {
                parameter_groups.insert(id.to_owned(), pg.to_owned());
            }
        }
        "ModifyReplicationGroup" => {
            let Some(id) = param(params, "ReplicationGroupId") else {
                return;
            };
            let status = param(params, "NotificationTopicStatus");
            let arn = param(params, "NotificationTopicArn")
                .map(str::to_owned)
                .or_else(|| state.group_topics.get(id).map(|t| t.arn.clone()));
            if let Some(arn) = arn
                && (param(params, "NotificationTopicArn").is_some() || status.is_some())
            {
                state.group_topics.insert(
                    id.to_owned(),
                    Topic {
                        arn,
                        status: status.unwrap_or("active").to_owned(),
                    },
                );
                // The group's topic is set on every member.
                for span in element_spans(answer, "ClusterId") {
                    if let Some(member) = child_text(&answer[span], "ClusterId") {
                        state.cluster_topics.remove(&member);
                    }
                }
            }
        }
        "CreateSnapshot" => {
            if let Some(name) = param(params, "SnapshotName") {
                state
                    .snapshot_times
                    .entry(name.to_owned())
                    .or_insert_with(Utc::now);
            }
        }
        _ => {}
    }
}

/// The topic of `cluster`: its own, else its group's.
fn resolved_topic(state: &StandInState, cluster: &str, group: Option<&str>) -> Option<Topic> {
    state
        .cluster_topics
        .get(cluster)
        .or_else(|| group.and_then(|g| state.group_topics.get(g)))
        .cloned()
}

/// A `CacheCluster` element with what the stand-in keeps about it.
fn patch_cluster(state: &StandInState, cluster: &str, show_nodes: bool) -> String {
    let Some(id) = child_text(cluster, "CacheClusterId") else {
        return cluster.to_owned();
    };
    let group = child_text(cluster, "ReplicationGroupId");
    let mut out = cluster.to_owned();
    if let Some(topic) = resolved_topic(state, &id, group.as_deref()) {
        out = set_child(
            &out,
            "NotificationConfiguration",
            &format!(
                "<NotificationConfiguration>{}{}</NotificationConfiguration>",
                element("TopicArn", &topic.arn),
                element("TopicStatus", &topic.status)
            ),
        );
    }
    let parameter_group = state
        .cluster_parameter_groups
        .get(&id)
        .or_else(|| {
            group
                .as_ref()
                .and_then(|g| state.group_parameter_groups.get(g))
        })
        .cloned()
        .or_else(|| default_parameter_group(cluster));
    let apply_status = state.apply_status.get(&id);
    if parameter_group.is_some() || apply_status.is_some() {
        let mut pg = String::from("<CacheParameterGroup>");
        if let Some(name) = parameter_group {
            pg.push_str(&element("CacheParameterGroupName", &name));
        }
        pg.push_str(&element(
            "ParameterApplyStatus",
            apply_status.map_or("in-sync", String::as_str),
        ));
        pg.push_str("<CacheNodeIdsToReboot/></CacheParameterGroup>");
        out = set_child(&out, "CacheParameterGroup", &pg);
    }
    if let Some(pending) = state.pending.get(&id) {
        let values: String = pending.iter().map(|(k, v)| element(k, v)).collect();
        out = set_child(
            &out,
            "PendingModifiedValues",
            &format!("<PendingModifiedValues>{values}</PendingModifiedValues>"),
        );
    }
    if group.is_none() {
        let memcached = child_text(cluster, "Engine").as_deref() == Some("memcached");
        let port = if memcached { 11211 } else { 6379 };
        if memcached {
            out = set_child(
                &out,
                "ConfigurationEndpoint",
                &format!(
                    "<ConfigurationEndpoint>{}{}</ConfigurationEndpoint>",
                    element("Address", &format!("{id}.cfg.stand-in.cache.amazonaws.com")),
                    element("Port", &port.to_string())
                ),
            );
        }
        if show_nodes {
            let count = child_text(cluster, "NumCacheNodes")
                .and_then(|n| n.parse::<u32>().ok())
                .unwrap_or(1);
            let nodes: String = (1..=count)
                .map(|n| {
                    format!(
                        "<CacheNode>{}{}<Endpoint>{}{}</Endpoint>{}</CacheNode>",
                        element("CacheNodeId", &format!("{n:04}")),
                        element("CacheNodeStatus", "available"),
                        element(
                            "Address",
                            &format!("{id}.{n:04}.stand-in.cache.amazonaws.com")
                        ),
                        element("Port", &port.to_string()),
                        element("ParameterGroupStatus", "in-sync"),
                    )
                })
                .collect();
            out = set_child(
                &out,
                "CacheNodes",
                &format!("<CacheNodes>{nodes}</CacheNodes>"),
            );
        }
    }
    out
}

/// The default parameter group ElastiCache gives a cluster created without one, by engine and
/// version family (`default.redis7`, `default.redis6.x`, `default.redis5.0`,
/// `default.valkey8`, `default.memcached1.6`).
fn default_parameter_group(cluster: &str) -> Option<String> {
    let engine = child_text(cluster, "Engine")?;
    let version = child_text(cluster, "EngineVersion")?;
    let mut parts = version.split('.');
    let major: u32 = parts.next()?.parse().ok()?;
    let minor = parts.next().unwrap_or("0");
    let family = match (engine.as_str(), major) {
        ("redis", 6) => "6.x".to_owned(),
        ("redis", m) if m >= 7 => m.to_string(),
        ("valkey", m) => m.to_string(),
        _ => format!("{major}.{minor}"),
    };
    Some(format!("default.{engine}{family}"))
}

/// `xml` with every `NodeGroupMember`'s `CurrentRole` as test failovers left it.
fn patch_roles(shared: &Shared, xml: &str) -> String {
    let state = shared.lock();
    if state.roles.is_empty() {
        return xml.to_owned();
    }
    replace_elements(xml, "NodeGroupMember", |m| {
        match child_text(m, "CacheClusterId").and_then(|id| state.roles.get(&id)) {
            Some(role) => set_child(m, "CurrentRole", &element("CurrentRole", role)),
            None => m.to_owned(),
        }
    })
}

/// A `Snapshot` element with its `NodeSnapshots` and their `SnapshotCreateTime`.
fn patch_snapshot(state: &StandInState, snapshot: &str) -> String {
    let Some(at) = child_text(snapshot, "SnapshotName").and_then(|n| state.snapshot_times.get(&n))
    else {
        return snapshot.to_owned();
    };
    let mut node = String::from("<NodeSnapshot>");
    if let Some(c) = child_text(snapshot, "CacheClusterId") {
        node.push_str(&element("CacheClusterId", &c));
    }
    node.push_str(&element("NodeGroupId", "0001"));
    node.push_str(&element("CacheNodeId", "0001"));
    node.push_str(&element("SnapshotCreateTime", &iso(*at)));
    node.push_str("</NodeSnapshot>");
    set_child(
        snapshot,
        "NodeSnapshots",
        &format!("<NodeSnapshots>{node}</NodeSnapshots>"),
    )
}

/// A request of the stand-in's own to moto (`DescribeReplicationGroups` for TestFailover,
/// `DescribeCacheClusters` for ModifyCacheCluster), signed like the request it serves: moto's
/// answer when it succeeds, otherwise the answer to give back to the request served (moto's
/// refusal, or `ServiceUnavailable` when moto could not be asked).
async fn ask_moto(
    shared: &Shared,
    uri: &Uri,
    headers: &HeaderMap,
    params: &[(&str, &str)],
    request_id: &str,
) -> Result<Answer, Answer> {
    let mut body = format!("Version={API_VERSION}");
    for (k, v) in params {
        body.push('&');
        body.push_str(&form_encode(k));
        body.push('=');
        body.push_str(&form_encode(v));
    }
    let path = Uri::builder()
        .path_and_query(uri.path())
        .build()
        .unwrap_or_default();
    match send_to_moto(shared, Method::POST, &path, headers, Bytes::from(body)).await {
        Ok(described) if described.status.is_success() => Ok(described),
        Ok(refused) => Err(refused),
        Err(failed) => Err(Answer::error(
            request_id.to_owned(),
            503,
            "ServiceUnavailable",
            &failed,
        )),
    }
}

async fn send_to_moto(
    shared: &Shared,
    method: Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Answer, String> {
    let url = format!(
        "{}{}",
        shared.backend,
        uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let mut request = shared.http.request(method, url).body(body);
    for (name, value) in headers {
        if name == header::HOST
            || name == header::CONTENT_LENGTH
            || name == header::CONNECTION
            || name == header::TRANSFER_ENCODING
        {
            continue;
        }
        request = request.header(name, value);
    }
    let answer = request
        .send()
        .await
        .map_err(|e| format!("moto did not answer: {e}"))?;
    let status = answer.status();
    let content_type = answer
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("text/xml")
        .to_owned();
    let request_id = answer
        .headers()
        .get("x-amzn-requestid")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = answer
        .text()
        .await
        .map_err(|e| format!("moto's answer did not read: {e}"))?;
    Ok(Answer {
        status,
        body,
        content_type,
        request_id,
        marker: None,
    })
}

// ---------------------------------------------------------------------------------------------
// Query parameters and XML

/// The parameters of a form-encoded text (a body or a query string).
fn form(encoded: &str) -> Vec<(String, String)> {
    if encoded.trim().is_empty() {
        return Vec::new();
    }
    format!("/?{encoded}")
        .parse::<Uri>()
        .ok()
        .and_then(|uri| Query::<Vec<(String, String)>>::try_from_uri(&uri).ok())
        .map(|Query(params)| params)
        .unwrap_or_default()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// `Name.member.N` (or `Name.<anything>.N`) values, by `N`.
fn list<'a>(params: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    let prefix = format!("{name}.");
    let mut found: Vec<(u32, &str)> = params
        .iter()
        .filter_map(|(k, v)| {
            let rest = k.strip_prefix(&prefix)?;
            let (_, n) = rest.rsplit_once('.')?;
            Some((n.parse().ok()?, v.as_str()))
        })
        .collect();
    found.sort_by_key(|(n, _)| *n);
    found.into_iter().map(|(_, v)| v).collect()
}

fn form_encode(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b));
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn request_id(sequence: u64, salt: u32) -> String {
    format!(
        "{salt:08x}-{:04x}-4{:03x}-8000-{sequence:012x}",
        (sequence >> 16) & 0xffff,
        sequence & 0xfff
    )
}

fn iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn escape(raw: &str) -> String {
    raw.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn unescape(raw: &str) -> String {
    raw.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn element(tag: &str, text: &str) -> String {
    format!("<{tag}>{}</{tag}>", escape(text))
}

/// The first `<tag>` element of `xml`, whole, if there is one.
fn first_element(xml: &str, tag: &str) -> Option<String> {
    element_spans(xml, tag)
        .first()
        .map(|span| xml[span.clone()].to_owned())
}

/// The spans of the `<tag>…</tag>` and `<tag/>` elements of `xml`, in order. The elements
/// looked for never contain one of their own kind.
fn element_spans(xml: &str, tag: &str) -> Vec<Range<usize>> {
    let open = format!("<{tag}>");
    let empty = format!("<{tag}/>");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut at = 0;
    loop {
        let next_open = xml[at..].find(&open).map(|p| p + at);
        let next_empty = xml[at..].find(&empty).map(|p| p + at);
        let span = match (next_open, next_empty) {
            (None, None) => break,
            (Some(o), Some(e)) if e < o => e..e + empty.len(),
            (None, Some(e)) => e..e + empty.len(),
            (Some(o), _) => {
                let Some(end) = xml[o..].find(&close).map(|p| p + o + close.len()) else {
                    break;
                };
                o..end
            }
        };
        at = span.end;
        out.push(span);
    }
    out
}

/// The text of the first `<tag>` in `xml`.
fn child_text(xml: &str, tag: &str) -> Option<String> {
    let span = element_spans(xml, tag).into_iter().next()?;
    let inner = &xml[span];
    let inner = inner
        .strip_prefix(&format!("<{tag}>"))?
        .strip_suffix(&format!("</{tag}>"))?;
    Some(unescape(inner))
}

/// `parent` with its first `<tag>` replaced by `child`, or `child` added as its last child.
fn set_child(parent: &str, tag: &str, child: &str) -> String {
    if let Some(span) = element_spans(parent, tag).into_iter().next() {
        return format!("{}{child}{}", &parent[..span.start], &parent[span.end..]);
    }
    match parent.rfind("</") {
        Some(close) => format!("{}{child}{}", &parent[..close], &parent[close..]),
        None => parent.to_owned(),
    }
}

/// `xml` with every `<tag>` element replaced by what `patch` makes of it.
fn replace_elements(xml: &str, tag: &str, mut patch: impl FnMut(&str) -> String) -> String {
    let mut out = String::with_capacity(xml.len() + 256);
    let mut at = 0;
    for span in element_spans(xml, tag) {
        out.push_str(&xml[at..span.start]);
        out.push_str(&patch(&xml[span.clone()]));
        at = span.end;
    }
    out.push_str(&xml[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_are_found_by_their_exact_tag() {
        let xml = "<CacheClusters><CacheCluster><CacheClusterId>a&amp;b</CacheClusterId></CacheCluster><CacheCluster/></CacheClusters>";
        let spans = element_spans(xml, "CacheCluster");
        assert_eq!(spans.len(), 2);
        assert_eq!(
            child_text(&xml[spans[0].clone()], "CacheClusterId").as_deref(),
            Some("a&b")
        );
        let patched = replace_elements(xml, "CacheCluster", |c| {
            set_child(c, "Engine", "<Engine>redis</Engine>")
        });
        assert_eq!(
            patched,
            "<CacheClusters><CacheCluster><CacheClusterId>a&amp;b</CacheClusterId><Engine>redis</Engine></CacheCluster><CacheCluster/></CacheClusters>"
        );
        assert_eq!(
            set_child(
                "<M><CurrentRole>primary</CurrentRole></M>",
                "CurrentRole",
                "<CurrentRole>replica</CurrentRole>"
            ),
            "<M><CurrentRole>replica</CurrentRole></M>"
        );
    }

    #[test]
    fn list_parameters_read_in_member_order() {
        let params = form(
            "UpdateActionStatus.member.2=stopped&UpdateActionStatus.member.1=not-applied&Other=x%20y",
        );
        assert_eq!(
            list(&params, "UpdateActionStatus"),
            vec!["not-applied", "stopped"]
        );
        assert_eq!(param(&params, "Other"), Some("x y"));
        assert_eq!(form_encode("arn:aws:sns:x"), "arn%3Aaws%3Asns%3Ax");
    }
}
