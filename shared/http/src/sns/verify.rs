//! Whether an SNS message comes from SNS, for a topic we expect.
//!
//! In this order, the cheap refusals first, so that a stranger's message costs no fetch:
//! 1. the topic is in the allowlist (`CACHEWATCH_TOPIC_ARNS`);
//! 2. `Timestamp` is recent: SNS stops retrying a delivery to an HTTP(S) endpoint after at most
//!    3,600 seconds ("The total policy retry time for an HTTP/S endpoint cannot be greater than
//!    3,600 seconds", <https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html>),
//!    so a message published longer ago than that (give or take [`CLOCK_SKEW`]), or in the
//!    future, is a replay;
//! 3. `SigningCertURL` is `https://sns.<region>.amazonaws.com/….pem` (or `.amazonaws.com.cn` in
//!    China): HTTPS, an SNS host and nothing else (no user, no port but 443, no query), a path
//!    ending in `.pem`, as AWS's own validators check it (aws-php-sns-message-validator: host
//!    `^sns\.[a-zA-Z0-9\-]{3,}\.amazonaws\.com(\.cn)?$`, `.pem`);
//! 4. the certificate (fetched once per URL and kept while it is valid) is an X.509 certificate
//!    with an RSA key, within its validity period;
//! 5. `Signature` is that key's SHA1withRSA (version 1) or SHA256withRSA (version 2) signature of
//!    the message's string to sign (see [`super::message`]);
//! 6. a `MessageId` seen before comes with the same fields (SNS reuses it for the retries of one
//!    message): the same id with other fields is a replay and is refused. Ids are remembered by
//!    this process as long as step 2 would let their message in.
//!
//! A `SubscribeURL` is visited only after the confirmation passed all of this, and only if it too
//! is HTTPS on an SNS host and asks `Action=ConfirmSubscription`.
//!
//! Sources: <https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html>
//! and its page "Verifying the signature of an Amazon SNS message when using HTTP query-based
//! requests" ("Ensure the SigningCertURL is from a trusted AWS domain"; "Reject any message with
//! an unexpected TopicArn").

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine;
use chrono::{DateTime, Utc};
use reqwest::Url;
use rsa::RsaPublicKey;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use x509_cert::Certificate;
use x509_cert::der::{Decode, Encode};

use super::fetch::{FetchError, SnsFetcher};
use super::message::{SignatureVersion, SnsMessage};

/// Certificates kept at most; past this the cache starts afresh (SNS uses a handful).
const CACHE_SIZE: usize = 32;

/// The longest SNS retries a delivery to an HTTP(S) endpoint: 3,600 seconds.
pub const SNS_RETRY_LIMIT: chrono::TimeDelta = chrono::TimeDelta::seconds(3600);

/// How far this machine's clock and SNS's may disagree.
pub const CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// Message ids remembered before the ones too old to matter are forgotten.
const REMEMBERED: usize = 4096;

/// Why a message is refused.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The topic is not one we accept.
    #[error("topic {0} is not in CACHEWATCH_TOPIC_ARNS")]
    TopicNotAllowed(String),
    /// `SigningCertURL` is not an SNS certificate's.
    #[error("SigningCertURL is not an SNS certificate URL: {0}")]
    CertificateUrl(&'static str),
    /// `SubscribeURL` is not SNS's confirmation URL.
    #[error("SubscribeURL is not an SNS confirmation URL: {0}")]
    SubscribeUrl(&'static str),
    /// The certificate could not be fetched (may pass).
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// What was fetched is not a usable certificate.
    #[error("the signing certificate is not usable: {0}")]
    Certificate(String),
    /// `Signature` is not base64 of a signature.
    #[error("the signature is not base64")]
    SignatureEncoding,
    /// The signature does not match the message.
    #[error("the signature does not match the message")]
    Mismatch,
    /// `Timestamp` is not an RFC 3339 time.
    #[error("Timestamp {0:?} is not a time")]
    Timestamp(String),
    /// Published too long ago for SNS to be still delivering it, or in the future.
    #[error("published at {published}, outside the hour SNS retries in: a replay")]
    Stale {
        /// The message's `Timestamp`.
        published: DateTime<Utc>,
    },
    /// A `MessageId` seen before, with other fields.
    #[error("MessageId {0} was delivered before with other fields: a replay")]
    Replayed(String),
}

impl VerifyError {
    /// Whether the same message may pass later (the certificate could not be fetched now).
    pub fn is_retryable(&self) -> bool {
        matches!(self, VerifyError::Fetch(_))
    }
}

/// A certificate's key, and until when it may be used.
#[derive(Clone)]
struct Key {
    key: RsaPublicKey,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
}

/// A message that passed: its fingerprint, and when it was published.
type Seen = ([u8; 32], DateTime<Utc>);

/// Checks messages against the allowlist and SNS's certificates, which it fetches with `F` and
/// keeps.
pub struct SnsVerifier<F> {
    fetcher: F,
    topics: Vec<String>,
    keys: Mutex<HashMap<String, Key>>,
    /// Message ids that passed.
    seen: Mutex<HashMap<String, Seen>>,
}

impl<F> std::fmt::Debug for SnsVerifier<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnsVerifier")
            .field("topics", &self.topics)
            .finish_non_exhaustive()
    }
}

impl<F: SnsFetcher> SnsVerifier<F> {
    /// A verifier accepting the topics `topics`, fetching certificates with `fetcher`.
    pub fn new(fetcher: F, topics: Vec<String>) -> Self {
        Self {
            fetcher,
            topics,
            keys: Mutex::new(HashMap::new()),
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// The fetcher (to visit a verified `SubscribeURL`).
    pub fn fetcher(&self) -> &F {
        &self.fetcher
    }

    /// Checks `message` at `now` (see the module's documentation for the order).
    pub async fn verify(
        &self,
        message: &SnsMessage,
        now: DateTime<Utc>,
    ) -> Result<(), VerifyError> {
        if !self.topics.contains(&message.topic_arn) {
            return Err(VerifyError::TopicNotAllowed(message.topic_arn.clone()));
        }
        let published = check_freshness(&message.timestamp, now)?;
        let url = check_certificate_url(&message.signing_cert_url)?;
        let key = self.key(&url, now).await?;
        let signature = base64::engine::general_purpose::STANDARD
            .decode(message.signature.trim())
            .map_err(|_| VerifyError::SignatureEncoding)?;
        let signature =
            Signature::try_from(signature.as_slice()).map_err(|_| VerifyError::Mismatch)?;
        let signed = message.string_to_sign();
        let verified = match message.signature_version {
            SignatureVersion::V1 => {
                VerifyingKey::<sha1::Sha1>::new(key).verify(signed.as_bytes(), &signature)
            }
            SignatureVersion::V2 => {
                VerifyingKey::<sha2::Sha256>::new(key).verify(signed.as_bytes(), &signature)
            }
        };
        verified.map_err(|_| VerifyError::Mismatch)?;
        self.remember(message, published, now)
    }

    /// Step 6: remembers a verified message's id, refusing it when the id came before with
    /// other fields.
    fn remember(
        &self,
        message: &SnsMessage,
        published: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), VerifyError> {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((fingerprint, _)) = seen.get(&message.message_id) {
            return if *fingerprint == message.fingerprint {
                Ok(())
            } else {
                Err(VerifyError::Replayed(message.message_id.clone()))
            };
        }
        if seen.len() >= REMEMBERED {
            let oldest = now - SNS_RETRY_LIMIT - CLOCK_SKEW;
            seen.retain(|_, (_, at)| *at >= oldest);
        }
        seen.insert(message.message_id.clone(), (message.fingerprint, published));
        Ok(())
    }

    /// The key of the certificate at `url`: kept, or fetched and kept.
    async fn key(&self, url: &Url, now: DateTime<Utc>) -> Result<RsaPublicKey, VerifyError> {
        let cached = self
            .lock()
            .get(url.as_str())
            .filter(|k| k.not_before <= now && now <= k.not_after)
            .map(|k| k.key.clone());
        if let Some(key) = cached {
            return Ok(key);
        }
        let pem = self.fetcher.certificate(url).await?;
        let key = read_certificate(&pem)?;
        if now < key.not_before || key.not_after < now {
            return Err(VerifyError::Certificate(format!(
                "valid from {} to {}, not now",
                key.not_before, key.not_after
            )));
        }
        let mut keys = self.lock();
        if keys.len() >= CACHE_SIZE {
            keys.clear();
        }
        keys.insert(url.to_string(), key.clone());
        Ok(key.key)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Key>> {
        // A cache of plain data survives a panic of another holder.
        self.keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Step 2: when the message was published, if that is recent enough for SNS to be delivering it.
pub fn check_freshness(timestamp: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, VerifyError> {
    let published = DateTime::parse_from_rfc3339(timestamp)
        .map_err(|_| VerifyError::Timestamp(timestamp.chars().take(64).collect()))?
        .with_timezone(&Utc);
    if published < now - SNS_RETRY_LIMIT - CLOCK_SKEW || published > now + CLOCK_SKEW {
        return Err(VerifyError::Stale { published });
    }
    Ok(published)
}

/// Whether `host` is an SNS endpoint: `sns.<region>.amazonaws.com`, or `.amazonaws.com.cn` in
/// China.
pub fn is_sns_host(host: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    let region_ok =
        |r: &str| r.len() >= 3 && r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    match labels.as_slice() {
        ["sns", region, "amazonaws", "com"] | ["sns", region, "amazonaws", "com", "cn"] => {
            region_ok(region)
        }
        _ => false,
    }
}

/// An HTTPS URL on an SNS host, with nothing that could send the request elsewhere.
fn sns_url(raw: &str) -> Result<Url, &'static str> {
    let url = Url::parse(raw.trim()).map_err(|_| "not a URL")?;
    if url.scheme() != "https" {
        return Err("not HTTPS");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("it carries credentials");
    }
    if url.port().is_some_and(|p| p != 443) {
        return Err("not on port 443");
    }
    let host = url.host_str().ok_or("no host")?;
    if !is_sns_host(host) {
        return Err("not an sns.<region>.amazonaws.com host");
    }
    if url.fragment().is_some() {
        return Err("it has a fragment");
    }
    Ok(url)
}

/// `SigningCertURL` checked: an SNS host over HTTPS, a `.pem` path, no query.
pub fn check_certificate_url(raw: &str) -> Result<Url, VerifyError> {
    let url = sns_url(raw).map_err(VerifyError::CertificateUrl)?;
    if url.query().is_some() {
        return Err(VerifyError::CertificateUrl("it has a query"));
    }
    if !url.path().ends_with(".pem") {
        return Err(VerifyError::CertificateUrl("its path does not end in .pem"));
    }
    Ok(url)
}

/// `SubscribeURL` checked: an SNS host over HTTPS asking `Action=ConfirmSubscription` for the
/// message's own topic.
pub fn check_subscribe_url(raw: &str, topic_arn: &str) -> Result<Url, VerifyError> {
    let url = sns_url(raw).map_err(VerifyError::SubscribeUrl)?;
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if value("Action") != Some("ConfirmSubscription") {
        return Err(VerifyError::SubscribeUrl(
            "it does not ask ConfirmSubscription",
        ));
    }
    if value("TopicArn") != Some(topic_arn) {
        return Err(VerifyError::SubscribeUrl("it names another topic"));
    }
    Ok(url)
}

/// The RSA key and validity of a PEM certificate.
fn read_certificate(pem: &str) -> Result<Key, VerifyError> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let bad = |why: &str| VerifyError::Certificate(why.to_owned());
    let start = pem.find(BEGIN).ok_or_else(|| bad("no PEM certificate"))? + BEGIN.len();
    let end = pem[start..]
        .find(END)
        .ok_or_else(|| bad("an unterminated PEM certificate"))?
        + start;
    let base64: String = pem[start..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(base64)
        .map_err(|_| bad("the PEM is not base64"))?;
    let certificate = Certificate::from_der(&der).map_err(|e| bad(&e.to_string()))?;
    let tbs = &certificate.tbs_certificate;
    let spki = tbs
        .subject_public_key_info
        .to_der()
        .map_err(|e| bad(&e.to_string()))?;
    let key = RsaPublicKey::from_public_key_der(&spki).map_err(|_| bad("not an RSA key"))?;
    let time = |t: x509_cert::time::Time| {
        let d = t.to_unix_duration();
        DateTime::from_timestamp(i64::try_from(d.as_secs()).unwrap_or(i64::MAX), 0)
            .ok_or_else(|| bad("a validity date out of range"))
    };
    Ok(Key {
        key,
        not_before: time(tbs.validity.not_before)?,
        not_after: time(tbs.validity.not_after)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_urls_must_be_sns_pem_files_over_https() {
        let ok = [
            "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem",
            "https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-x.pem",
            "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-x.pem",
            "https://sns.eu-west-1.amazonaws.com:443/SimpleNotificationService-x.pem",
        ];
        for url in ok {
            assert!(check_certificate_url(url).is_ok(), "{url}");
        }
        let refused = [
            ("http://sns.eu-west-1.amazonaws.com/x.pem", "not HTTPS"),
            (
                "https://sns.eu-west-1.amazonaws.com.evil.example/x.pem",
                "host",
            ),
            (
                "https://evil.example/sns.eu-west-1.amazonaws.com/x.pem",
                "host",
            ),
            ("https://s3.eu-west-1.amazonaws.com/bucket/x.pem", "host"),
            ("https://sns.amazonaws.com/x.pem", "host"),
            ("https://sns.eu.west.amazonaws.com/x.pem", "host"),
            (
                "https://sns.eu-west-1.amazonaws.com/x.pem?download=1",
                "query",
            ),
            ("https://sns.eu-west-1.amazonaws.com/x.crt", ".pem"),
            ("https://sns.eu-west-1.amazonaws.com:8443/x.pem", "port"),
            (
                "https://user:pw@sns.eu-west-1.amazonaws.com/x.pem",
                "credentials",
            ),
            ("https://sns.eu-west-1.amazonaws.com/x.pem#f", "fragment"),
            ("sns.eu-west-1.amazonaws.com/x.pem", "not a URL"),
        ];
        for (url, says) in refused {
            let err = check_certificate_url(url).unwrap_err();
            assert!(err.to_string().contains(says), "{url}: {err}");
        }
    }

    #[test]
    fn subscribe_urls_must_confirm_the_messages_own_topic_on_sns() {
        let topic = "arn:aws:sns:eu-west-1:111122223333:cache";
        let ok = format!(
            "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={topic}&Token=2336"
        );
        assert!(check_subscribe_url(&ok, topic).is_ok());
        let refused = [
            (ok.replace("https://", "http://"), "not HTTPS"),
            (
                ok.replace("sns.eu-west-1.amazonaws.com", "sns.eu-west-1.example.com"),
                "host",
            ),
            (
                ok.replace("ConfirmSubscription", "Unsubscribe"),
                "ConfirmSubscription",
            ),
            (ok.replace(":cache", ":other"), "another topic"),
        ];
        for (url, says) in refused {
            let err = check_subscribe_url(&url, topic).unwrap_err();
            assert!(err.to_string().contains(says), "{url}: {err}");
        }
    }

    #[test]
    fn what_is_not_a_pem_certificate_is_refused() {
        for pem in [
            "",
            "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
            "-----BEGIN CERTIFICATE-----\nAAAA",
        ] {
            assert!(
                matches!(read_certificate(pem), Err(VerifyError::Certificate(_))),
                "{pem:?}"
            );
        }
    }
}
