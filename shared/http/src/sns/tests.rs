//! SNS verification as a table: what passes, and why each forgery does not.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::message::SnsMessage;
use super::test_signer::{
    self, CERT_URL, Fetcher, TOPIC, confirmation, key, notification, other_key, sign,
};
use super::verify::{SnsVerifier, VerifyError};

fn body() -> Value {
    json!({"ElastiCache:NodeReplacementScheduled": "orders-0001-001"})
}

/// A minute after `message` says it was published.
fn soon_after(message: &Value) -> DateTime<Utc> {
    message["Timestamp"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map_or_else(Utc::now, |t| t.with_timezone(&Utc))
        + Duration::minutes(1)
}

/// What happened to a message received a minute after it was published: `ok`, or the name of
/// the refusal.
async fn outcome(verifier: &SnsVerifier<Fetcher>, message: &Value) -> String {
    outcome_at(verifier, message, soon_after(message)).await
}

/// What happened to a message received at `now`.
async fn outcome_at(
    verifier: &SnsVerifier<Fetcher>,
    message: &Value,
    now: DateTime<Utc>,
) -> String {
    let parsed = match SnsMessage::parse(message.to_string().as_bytes()) {
        Ok(parsed) => parsed,
        Err(e) => return format!("unreadable: {e}"),
    };
    match verifier.verify(&parsed, now).await {
        Ok(()) => "ok".to_owned(),
        Err(VerifyError::TopicNotAllowed(_)) => "topic not allowed".to_owned(),
        Err(VerifyError::CertificateUrl(why)) => format!("certificate url: {why}"),
        Err(VerifyError::Mismatch) => "mismatch".to_owned(),
        Err(VerifyError::SignatureEncoding) => "not base64".to_owned(),
        Err(e @ VerifyError::Fetch(_)) => format!("fetch, retryable {}", e.is_retryable()),
        Err(VerifyError::Stale { .. }) => "stale".to_owned(),
        Err(VerifyError::Replayed(_)) => "replayed".to_owned(),
        Err(e) => format!("other: {e}"),
    }
}

fn changed(mut message: Value, field: &str, value: Value) -> Value {
    message[field] = value;
    message
}

#[tokio::test(flavor = "multi_thread")]
async fn only_messages_sns_signed_for_an_allowed_topic_pass() {
    let verifier = SnsVerifier::new(Fetcher::serving(key()), vec![TOPIC.to_owned()]);
    let v1 = notification(&body(), "1", key());
    let v2 = notification(&body(), "2", key());
    let cases: Vec<(&str, Value, &str)> = vec![
        ("valid, version 1 (SHA1withRSA)", v1.clone(), "ok"),
        ("valid, version 2 (SHA256withRSA)", v2.clone(), "ok"),
        (
            "valid confirmation, version 1",
            confirmation("1", key()),
            "ok",
        ),
        (
            "valid confirmation, version 2",
            confirmation("2", key()),
            "ok",
        ),
        (
            "valid, without a subject",
            sign(
                changed(
                    changed(v2.clone(), "Subject", Value::Null),
                    "MessageId",
                    json!("0d5f8d1e-6c53-4f45-9c7b-9a0c5f0e2b11"),
                ),
                key(),
            ),
            "ok",
        ),
        (
            "a Lambda `Records` array added to a genuine notification",
            changed(
                v2.clone(),
                "Records",
                json!([{"EventSource": "aws:sns", "Sns": {"Message": "{}"}}]),
            ),
            "unreadable: `Records` is not a field of SNS's messages",
        ),
        (
            "any other field added",
            changed(v1.clone(), "Region", json!("us-east-1")),
            "unreadable: `Region` is not a field of SNS's messages",
        ),
        (
            "certificate on another host, signed by its owner",
            sign(
                changed(
                    v2.clone(),
                    "SigningCertURL",
                    json!(
                        "https://sns.eu-west-1.amazonaws.com.evil.example/SimpleNotificationService-x.pem"
                    ),
                ),
                other_key(),
            ),
            "certificate url: not an sns.<region>.amazonaws.com host",
        ),
        (
            "certificate in an S3 bucket",
            sign(
                changed(
                    v2.clone(),
                    "SigningCertURL",
                    json!(
                        "https://s3.eu-west-1.amazonaws.com/bucket/SimpleNotificationService-x.pem"
                    ),
                ),
                other_key(),
            ),
            "certificate url: not an sns.<region>.amazonaws.com host",
        ),
        (
            "certificate over plain HTTP",
            changed(
                v2.clone(),
                "SigningCertURL",
                json!(CERT_URL.replace("https://", "http://")),
            ),
            "certificate url: not HTTPS",
        ),
        (
            "certificate that is not a .pem",
            changed(
                v2.clone(),
                "SigningCertURL",
                json!(CERT_URL.replace(".pem", ".html")),
            ),
            "certificate url: its path does not end in .pem",
        ),
        (
            "another topic, genuinely signed",
            sign(
                changed(
                    v2.clone(),
                    "TopicArn",
                    json!("arn:aws:sns:eu-west-1:999999999999:elsewhere"),
                ),
                key(),
            ),
            "topic not allowed",
        ),
        (
            "message tampered with",
            changed(
                v1.clone(),
                "Message",
                json!(
                    json!({"ElastiCache:NodeReplacementCanceled": "orders-0001-001"}).to_string()
                ),
            ),
            "mismatch",
        ),
        (
            "subject tampered with",
            changed(v2.clone(), "Subject", json!("Hello")),
            "mismatch",
        ),
        (
            "subject removed",
            changed(v2.clone(), "Subject", Value::Null),
            "mismatch",
        ),
        (
            "timestamp tampered with",
            changed(
                v2.clone(),
                "Timestamp",
                json!((soon_after(&v2) + Duration::seconds(1)).to_rfc3339()),
            ),
            "mismatch",
        ),
        (
            "version 1 called version 2",
            changed(v1.clone(), "SignatureVersion", json!("2")),
            "mismatch",
        ),
        (
            "signed with another key",
            notification(&body(), "2", other_key()),
            "mismatch",
        ),
        (
            "signature not base64",
            changed(v2.clone(), "Signature", json!("%%%")),
            "not base64",
        ),
        (
            "unknown type",
            changed(v2.clone(), "Type", json!("Notice")),
            "unreadable: `Type` \"Notice\" is not an SNS message type",
        ),
        (
            "unknown signature version",
            changed(v2.clone(), "SignatureVersion", json!("3")),
            "unreadable: `SignatureVersion` \"3\" is not 1 or 2",
        ),
        (
            "certificate that cannot be fetched",
            sign(
                changed(
                    v2.clone(),
                    "SigningCertURL",
                    json!(CERT_URL.replace("test.pem", "gone.pem")),
                ),
                key(),
            ),
            "fetch, retryable true",
        ),
    ];
    for (name, message, want) in cases {
        assert_eq!(outcome(&verifier, &message).await, want, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_certificate_is_fetched_once_and_only_for_allowed_topics() {
    let verifier = SnsVerifier::new(Fetcher::serving(key()), vec![TOPIC.to_owned()]);
    for _ in 0..5 {
        assert_eq!(
            outcome(&verifier, &notification(&body(), "2", key())).await,
            "ok"
        );
    }
    assert_eq!(verifier.fetcher().fetches(), 1);
    let stranger = sign(
        changed(
            notification(&body(), "2", key()),
            "TopicArn",
            json!("arn:aws:sns:eu-west-1:1:x"),
        ),
        key(),
    );
    let before = verifier.fetcher().fetches();
    assert_eq!(outcome(&verifier, &stranger).await, "topic not allowed");
    assert_eq!(verifier.fetcher().fetches(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_verifier_with_no_allowed_topic_refuses_everything() {
    let verifier = SnsVerifier::new(Fetcher::serving(key()), Vec::new());
    assert_eq!(
        outcome(&verifier, &notification(&body(), "2", key())).await,
        "topic not allowed"
    );
    assert_eq!(verifier.fetcher().fetches(), 0);
    assert!(
        test_signer::key()
            .pem
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_is_let_in_only_within_the_hour_sns_retries_it() {
    let verifier = SnsVerifier::new(Fetcher::serving(key()), vec![TOPIC.to_owned()]);
    let message = notification(&body(), "2", key());
    let published = soon_after(&message) - Duration::minutes(1);
    let cases = [
        ("two minutes later", Duration::minutes(2), "ok"),
        ("a retry 59 minutes later", Duration::minutes(59), "ok"),
        (
            "an hour and a few minutes later (clocks may disagree)",
            Duration::minutes(64),
            "ok",
        ),
        ("replayed 66 minutes later", Duration::minutes(66), "stale"),
        ("replayed a week later", Duration::days(7), "stale"),
        (
            "published ten minutes in the future",
            Duration::minutes(-10),
            "stale",
        ),
    ];
    for (name, after, want) in cases {
        assert_eq!(
            outcome_at(&verifier, &message, published + after).await,
            want,
            "{name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_id_delivered_again_must_carry_the_same_fields() {
    let verifier = SnsVerifier::new(Fetcher::serving(key()), vec![TOPIC.to_owned()]);
    let first = notification(&body(), "2", key());
    let other_body = json!({"ElastiCache:NodeReplacementCanceled": "orders-0001-001"});
    let same_id_other_message = sign(
        changed(first.clone(), "Message", json!(other_body.to_string())),
        key(),
    );
    assert_eq!(outcome(&verifier, &first).await, "ok");
    assert_eq!(
        outcome(&verifier, &first).await,
        "ok",
        "SNS's retry of the same message"
    );
    assert_eq!(
        outcome(&verifier, &notification(&body(), "1", key())).await,
        "ok",
        "the same message signed the other way"
    );
    assert_eq!(outcome(&verifier, &same_id_other_message).await, "replayed");
    let with_attributes = sign(
        changed(
            first.clone(),
            "MessageAttributes",
            json!({"origin": {"Type": "String", "Value": "forged"}}),
        ),
        key(),
    );
    assert_eq!(outcome(&verifier, &with_attributes).await, "replayed");
}
