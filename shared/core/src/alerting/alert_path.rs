//! The alert path, link by link: from each cluster to the topic, through the topic's policy and
//! encryption, to the ingest function's subscription, and the dead-letter queue where what could
//! not be delivered waits.
//!
//! The adapters read each link into [`PathFacts`]; [`audit_path`] decides, with no I/O, what is
//! broken ([`PathProblem`]) and what `--fix` would change ([`PathFix`]). What the rules say about
//! ElastiCache comes from AWS's [Event Notifications and Amazon SNS][sns] page: the topic
//! cannot be encrypted (the cluster then shows it `inactive`), and its access policy must use
//! the `aws:SourceOwner` condition key, not `aws:SourceAccount`.
//!
//! [sns]: https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/ElastiCacheSNS.html

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::fleet::CoverageAudit;

/// AWS's page on ElastiCache's requirements for its notification topic.
pub const ELASTICACHE_SNS_DOC: &str =
    "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/ElastiCacheSNS.html";

/// The `Sid` of the statement `--fix` adds to the topic's policy.
pub const PUBLISH_STATEMENT_SID: &str = "CachewatchElastiCachePublish";

/// A subscription of the topic, as SNS lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicSubscription {
    /// `lambda`, `https`, `sqs`...
    pub protocol: String,
    /// The function ARN, URL or queue it delivers to.
    pub endpoint: String,
    /// Its ARN, or `PendingConfirmation` while the endpoint has not confirmed it.
    pub subscription_arn: String,
}

impl TopicSubscription {
    /// Whether the endpoint confirmed it (SNS delivers only to confirmed subscriptions).
    pub fn is_confirmed(&self) -> bool {
        self.subscription_arn.starts_with("arn:")
    }
}

/// What the adapters read of the path.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PathFacts {
    /// The topic's access policy (its `Policy` attribute), when it has one.
    pub policy: Option<String>,
    /// The topic's `KmsMasterKeyId` attribute, when set.
    pub kms_master_key_id: Option<String>,
    /// Every subscription of the topic.
    pub subscriptions: Vec<TopicSubscription>,
    /// Where the ingest function is (its ARN, or the URL of an HTTP endpoint), when known.
    pub ingest_endpoint: Option<String>,
    /// The dead-letter queue and how many messages wait in it, when it was read.
    pub dead_letters: Option<DeadLetters>,
}

/// The dead-letter queue's depth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetters {
    /// The queue (its URL).
    pub queue: String,
    /// Messages waiting, visible or in flight.
    pub messages: u64,
}

/// A broken link past the clusters (theirs are in the coverage audit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum PathProblem {
    /// The policy lets ElastiCache publish only with `aws:SourceAccount`.
    PolicySourceAccountOnly,
    /// No statement of the policy lets ElastiCache publish with `aws:SourceOwner`.
    PolicyNoSourceOwner,
    /// The policy is not a JSON policy document.
    PolicyUnreadable {
        /// Why it does not read.
        reason: String,
    },
    /// The topic is encrypted with a KMS key.
    TopicEncrypted {
        /// The key.
        kms_master_key_id: String,
    },
    /// The ingest function is not subscribed.
    IngestNotSubscribed {
        /// The function or URL, when known.
        endpoint: Option<String>,
    },
    /// The ingest subscription waits for a confirmation.
    IngestPendingConfirmation {
        /// The function or URL.
        endpoint: String,
    },
    /// Notifications wait in the dead-letter queue.
    DeadLetters {
        /// The queue.
        queue: String,
        /// How many.
        messages: u64,
    },
}

impl PathProblem {
    /// What is wrong and why it matters, in one sentence.
    pub fn describe(&self) -> String {
        match self {
            Self::PolicySourceAccountOnly => "the topic policy lets ElastiCache publish only with aws:SourceAccount: ElastiCache needs the aws:SourceOwner condition key and cannot publish to the topic".into(),
            Self::PolicyNoSourceOwner => "no statement of the topic policy lets ElastiCache publish with the aws:SourceOwner condition key, which ElastiCache needs".into(),
            Self::PolicyUnreadable { reason } => format!("the topic policy does not read as a policy document ({reason})"),
            Self::TopicEncrypted { kms_master_key_id } => format!("the topic is encrypted with the KMS key {kms_master_key_id}: ElastiCache cannot publish to an encrypted topic (the clusters show it inactive); remove the key (SetTopicAttributes KmsMasterKeyId to empty)"),
            Self::IngestNotSubscribed { endpoint: Some(endpoint) } => format!("the ingest function {endpoint} is not subscribed to the topic: nothing reads what ElastiCache publishes"),
            Self::IngestNotSubscribed { endpoint: None } => "no function is subscribed to the topic: nothing reads what ElastiCache publishes (give --ingest ARN to subscribe it)".into(),
            Self::IngestPendingConfirmation { endpoint } => format!("the subscription of {endpoint} is not confirmed (PendingConfirmation): SNS delivers nothing to it yet"),
            Self::DeadLetters { queue, messages } => format!("{messages} notification{} could not be processed and wait in the dead-letter queue {queue}: read them, ingest them, then purge the queue", if *messages == 1 { "" } else { "s" }),
        }
    }

    /// The AWS page the claim comes from, for the problems about what ElastiCache needs.
    pub fn source(&self) -> Option<&'static str> {
        match self {
            Self::PolicySourceAccountOnly
            | Self::PolicyNoSourceOwner
            | Self::TopicEncrypted { .. } => Some(ELASTICACHE_SNS_DOC),
            _ => None,
        }
    }
}

/// A change `--fix` makes past the clusters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "fix", rename_all = "snake_case")]
pub enum PathFix {
    /// `SetTopicAttributes Policy`: the policy with the statement ElastiCache needs added, every
    /// other statement kept.
    Policy {
        /// The statement added (or replacing the one of the same `Sid`).
        statement: Value,
        /// The whole new policy, as sent.
        policy: String,
    },
    /// `Subscribe`: the ingest endpoint to the topic (again, when it waits for a confirmation:
    /// SNS then asks the endpoint again).
    Subscribe {
        /// `lambda`, `https` or `http`.
        protocol: String,
        /// The function ARN or URL.
        endpoint: String,
    },
}

impl PathFix {
    /// The change, in words: the SNS call and what it changes.
    pub fn describe(&self, topic_arn: &str) -> String {
        match self {
            Self::Policy { statement, .. } => format!(
                "SetTopicAttributes Policy on {topic_arn}: adds the statement {statement}, keeping the others"
            ),
            Self::Subscribe { protocol, endpoint } => {
                format!("Subscribe {protocol} {endpoint} to {topic_arn}")
            }
        }
    }
}

/// The whole path: the clusters' topics and every link after them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathAudit {
    /// Which clusters publish to the topic.
    #[serde(flatten)]
    pub coverage: CoverageAudit,
    /// What is broken past them.
    pub problems: Vec<PathProblem>,
    /// What `--fix` would change past them.
    pub fixes: Vec<PathFix>,
    /// Links that were not checked, and why.
    pub unchecked: Vec<String>,
}

impl PathAudit {
    /// Whether every link is sound.
    pub fn is_clean(&self) -> bool {
        self.coverage.gaps().is_empty() && self.problems.is_empty()
    }
}

/// Audits every link past the clusters of `coverage`, from `facts`.
pub fn audit_path(coverage: CoverageAudit, facts: &PathFacts) -> PathAudit {
    let topic = coverage.topic_arn.clone();
    let mut problems = Vec::new();
    let mut fixes = Vec::new();
    let mut unchecked = Vec::new();
    if let Some(problem) = policy_problem(facts.policy.as_deref()) {
        // A policy that does not read is not rewritten: its statements would be lost.
        if !matches!(problem, PathProblem::PolicyUnreadable { .. }) {
            fixes.push(policy_fix(facts.policy.as_deref(), &topic));
        }
        problems.push(problem);
    }
    if let Some(key) = facts
        .kms_master_key_id
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
    {
        problems.push(PathProblem::TopicEncrypted {
            kms_master_key_id: key.to_owned(),
        });
    }
    let (problem, fix) = subscription_problem(facts);
    problems.extend(problem);
    fixes.extend(fix);
    match &facts.dead_letters {
        Some(d) if d.messages > 0 => problems.push(PathProblem::DeadLetters {
            queue: d.queue.clone(),
            messages: d.messages,
        }),
        Some(_) => {}
        None => unchecked.push(
            "the dead-letter queue (give --dead-letter-queue URL, the stack's DeadLetterQueueUrl output)"
                .to_owned(),
        ),
    }
    PathAudit {
        coverage,
        problems,
        fixes,
        unchecked,
    }
}

/// What is wrong with the ingest subscription, and the subscription that fixes it.
fn subscription_problem(facts: &PathFacts) -> (Option<PathProblem>, Option<PathFix>) {
    let wanted = facts
        .ingest_endpoint
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty());
    let candidates: Vec<&TopicSubscription> = match wanted {
        Some(endpoint) => facts
            .subscriptions
            .iter()
            .filter(|s| s.endpoint == endpoint)
            .collect(),
        None => facts
            .subscriptions
            .iter()
            .filter(|s| s.protocol == "lambda")
            .collect(),
    };
    if candidates.iter().any(|s| s.is_confirmed()) {
        return (None, None);
    }
    let fix = wanted.map(|endpoint| PathFix::Subscribe {
        protocol: protocol_of(endpoint).to_owned(),
        endpoint: endpoint.to_owned(),
    });
    let problem = match candidates.first() {
        Some(pending) => PathProblem::IngestPendingConfirmation {
            endpoint: pending.endpoint.clone(),
        },
        None => PathProblem::IngestNotSubscribed {
            endpoint: wanted.map(str::to_owned),
        },
    };
    (Some(problem), fix)
}

/// The SNS protocol that delivers to `endpoint`.
pub fn protocol_of(endpoint: &str) -> &'static str {
    if endpoint.starts_with("https://") {
        "https"
    } else if endpoint.starts_with("http://") {
        "http"
    } else {
        "lambda"
    }
}

/// What is wrong with the topic's policy for ElastiCache, if anything.
pub fn policy_problem(policy: Option<&str>) -> Option<PathProblem> {
    let Some(text) = policy.map(str::trim).filter(|p| !p.is_empty()) else {
        return Some(PathProblem::PolicyNoSourceOwner);
    };
    let document: Value = match serde_json::from_str(text) {
        Ok(Value::Object(document)) => Value::Object(document),
        Ok(_) => {
            return Some(PathProblem::PolicyUnreadable {
                reason: "not a JSON object".into(),
            });
        }
        Err(e) => {
            return Some(PathProblem::PolicyUnreadable {
                reason: e.to_string(),
            });
        }
    };
    let publishing: Vec<&Value> = statements(&document)
        .into_iter()
        .filter(|s| lets_elasticache_publish(s))
        .collect();
    let keys = |s: &Value| condition_keys(s);
    if publishing
        .iter()
        .any(|s| keys(s).iter().any(|k| k == "aws:sourceowner"))
    {
        return None;
    }
    if publishing
        .iter()
        .any(|s| keys(s).iter().any(|k| k == "aws:sourceaccount"))
    {
        return Some(PathProblem::PolicySourceAccountOnly);
    }
    Some(PathProblem::PolicyNoSourceOwner)
}

/// The statements of a policy document (`Statement` is an array or one object).
fn statements(document: &Value) -> Vec<&Value> {
    match document.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    }
}

/// Whether a statement allows `sns:Publish` to a principal ElastiCache publishes as: everyone
/// (`*`, `{"AWS": "*"}`) or the ElastiCache service.
fn lets_elasticache_publish(statement: &Value) -> bool {
    let allows = statement
        .get("Effect")
        .and_then(Value::as_str)
        .is_some_and(|e| e.eq_ignore_ascii_case("allow"));
    let publish = strings(statement.get("Action")).iter().any(|a| {
        let a = a.to_ascii_lowercase();
        a == "sns:publish" || a == "sns:*" || a == "*"
    });
    let principal = match statement.get("Principal") {
        Some(Value::String(p)) => p == "*",
        Some(Value::Object(p)) => {
            strings(p.get("AWS")).contains(&"*")
                || strings(p.get("Service"))
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case("elasticache.amazonaws.com"))
        }
        _ => false,
    };
    allows && publish && principal
}

/// The condition keys of a statement, lower-cased (IAM compares them without case).
fn condition_keys(statement: &Value) -> Vec<String> {
    statement
        .get("Condition")
        .and_then(Value::as_object)
        .map(|operators| {
            operators
                .values()
                .filter_map(Value::as_object)
                .flat_map(|keys| keys.keys().map(|k| k.to_ascii_lowercase()))
                .collect()
        })
        .unwrap_or_default()
}

/// A string or an array of strings, as policies write them.
fn strings(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// The statement ElastiCache needs, as the stack writes it: publishing allowed to any principal
/// acting for a resource this account owns (`AWS:SourceOwner`, which only AWS services set).
pub fn publish_statement(topic_arn: &str) -> Value {
    let account = topic_arn.split(':').nth(4).unwrap_or_default();
    json!({
        "Sid": PUBLISH_STATEMENT_SID,
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "sns:Publish",
        "Resource": topic_arn,
        "Condition": {"StringEquals": {"AWS:SourceOwner": account}},
    })
}

/// The policy `--fix` sets: `current` with [`publish_statement`] added (replacing a statement of
/// the same `Sid`), every other statement kept.
fn policy_fix(current: Option<&str>, topic_arn: &str) -> PathFix {
    let statement = publish_statement(topic_arn);
    let mut document = current
        .and_then(|p| serde_json::from_str::<Map<String, Value>>(p).ok())
        .unwrap_or_else(|| {
            let mut fresh = Map::new();
            fresh.insert("Version".into(), json!("2012-10-17"));
            fresh
        });
    let mut list: Vec<Value> = statements(&Value::Object(document.clone()))
        .into_iter()
        .filter(|s| s.get("Sid").and_then(Value::as_str) != Some(PUBLISH_STATEMENT_SID))
        .cloned()
        .collect();
    list.push(statement.clone());
    document.insert("Statement".into(), Value::Array(list));
    PathFix::Policy {
        statement,
        policy: Value::Object(document).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOPIC: &str = "arn:aws:sns:eu-west-1:123456789012:cachewatch";
    const FUNCTION: &str = "arn:aws:lambda:eu-west-1:123456789012:function:cachewatch-ingest";

    fn policy(condition_key: &str) -> String {
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "__default_statement_ID",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["SNS:GetTopicAttributes", "SNS:Publish"],
                "Resource": TOPIC,
                "Condition": {"StringEquals": {condition_key: "123456789012"}},
            }]
        })
        .to_string()
    }

    fn sound() -> PathFacts {
        PathFacts {
            policy: Some(policy("AWS:SourceOwner")),
            kms_master_key_id: None,
            subscriptions: vec![TopicSubscription {
                protocol: "lambda".into(),
                endpoint: FUNCTION.into(),
                subscription_arn: format!("{TOPIC}:1b2c"),
            }],
            ingest_endpoint: Some(FUNCTION.into()),
            dead_letters: Some(DeadLetters {
                queue: "https://sqs/dlq".into(),
                messages: 0,
            }),
        }
    }

    fn audit(facts: &PathFacts) -> PathAudit {
        audit_path(
            CoverageAudit {
                topic_arn: TOPIC.into(),
                resources: Vec::new(),
            },
            facts,
        )
    }

    #[test]
    fn a_sound_path_has_no_problem_and_nothing_to_fix() {
        let audit = audit(&sound());
        assert!(audit.is_clean(), "{audit:?}");
        assert!(audit.fixes.is_empty() && audit.unchecked.is_empty());
    }

    #[test]
    fn each_policy_is_judged_by_the_condition_key_elasticache_needs() {
        let cases = [
            (policy("AWS:SourceOwner"), None),
            (policy("aws:sourceowner"), None),
            (
                policy("aws:SourceAccount"),
                Some(PathProblem::PolicySourceAccountOnly),
            ),
            (
                json!({"Statement": {"Effect": "Deny", "Principal": "*", "Action": "sns:Publish",
                    "Condition": {"StringEquals": {"AWS:SourceOwner": "1"}}}})
                .to_string(),
                Some(PathProblem::PolicyNoSourceOwner),
            ),
            (
                json!({"Statement": {"Effect": "Allow", "Principal": {"Service": "elasticache.amazonaws.com"},
                    "Action": "sns:*", "Condition": {"StringEquals": {"aws:SourceOwner": "1"}}}})
                .to_string(),
                None,
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                    "Action": "sns:Subscribe", "Condition": {"StringEquals": {"AWS:SourceOwner": "1"}}}]})
                .to_string(),
                Some(PathProblem::PolicyNoSourceOwner),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(policy_problem(Some(&text)), expected, "{text}");
        }
        assert!(matches!(
            policy_problem(Some("{not json")),
            Some(PathProblem::PolicyUnreadable { .. })
        ));
    }

    #[test]
    fn the_policy_fix_adds_the_source_owner_statement_and_keeps_the_others() {
        let mut facts = sound();
        facts.policy = Some(policy("aws:SourceAccount"));
        let audit = audit(&facts);
        let [PathFix::Policy { statement, policy }] = audit.fixes.as_slice() else {
            panic!("{:?}", audit.fixes);
        };
        assert_eq!(
            statement["Condition"]["StringEquals"]["AWS:SourceOwner"],
            "123456789012"
        );
        let fixed: Value = serde_json::from_str(policy).unwrap();
        let sids: Vec<&str> = fixed["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["Sid"].as_str())
            .collect();
        assert_eq!(sids, ["__default_statement_ID", PUBLISH_STATEMENT_SID]);
        assert_eq!(policy_problem(Some(policy)), None);
        assert_eq!(
            audit.problems[0].source(),
            Some(ELASTICACHE_SNS_DOC),
            "the claim cites AWS"
        );
    }

    #[test]
    fn an_encrypted_topic_is_flagged_and_not_fixed() {
        let mut facts = sound();
        facts.kms_master_key_id = Some("alias/aws/sns".into());
        let audit = audit(&facts);
        assert_eq!(
            audit.problems,
            [PathProblem::TopicEncrypted {
                kms_master_key_id: "alias/aws/sns".into()
            }]
        );
        assert!(audit.fixes.is_empty());
    }

    #[test]
    fn a_missing_or_unconfirmed_subscription_is_fixed_by_subscribing_the_ingest_endpoint() {
        let mut missing = sound();
        missing.subscriptions.clear();
        let mut pending = sound();
        pending.subscriptions[0].subscription_arn = "PendingConfirmation".into();
        let subscribe = PathFix::Subscribe {
            protocol: "lambda".into(),
            endpoint: FUNCTION.into(),
        };
        assert_eq!(
            audit(&missing).problems,
            [PathProblem::IngestNotSubscribed {
                endpoint: Some(FUNCTION.into())
            }]
        );
        assert_eq!(audit(&missing).fixes, std::slice::from_ref(&subscribe));
        assert_eq!(
            audit(&pending).problems,
            [PathProblem::IngestPendingConfirmation {
                endpoint: FUNCTION.into()
            }]
        );
        assert_eq!(audit(&pending).fixes, [subscribe]);
    }

    #[test]
    fn without_a_named_function_any_confirmed_lambda_subscription_counts() {
        let mut facts = sound();
        facts.ingest_endpoint = None;
        assert!(audit(&facts).is_clean());
        facts.subscriptions[0].protocol = "email".into();
        let audit = audit(&facts);
        assert_eq!(
            audit.problems,
            [PathProblem::IngestNotSubscribed { endpoint: None }]
        );
        assert!(
            audit.fixes.is_empty(),
            "nothing to subscribe without a name"
        );
    }

    #[test]
    fn dead_letters_are_a_problem_and_an_unread_queue_is_said_unchecked() {
        let mut facts = sound();
        facts.dead_letters = Some(DeadLetters {
            queue: "https://sqs/dlq".into(),
            messages: 3,
        });
        assert!(
            audit(&facts).problems[0]
                .describe()
                .starts_with("3 notifications")
        );
        facts.dead_letters = None;
        let audit = audit(&facts);
        assert!(audit.is_clean());
        assert_eq!(audit.unchecked.len(), 1);
    }
}
