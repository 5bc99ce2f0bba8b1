//! SNS played by the tests: an RSA key made once per test run, a self-signed certificate for it,
//! messages signed with it as SNS signs them, and a fetcher that serves the certificate.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use base64::Engine;
use reqwest::Url;
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::signature::{SignatureEncoding, Signer};
use serde_json::{Value, json};
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::der::Encode;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::Validity;

use super::fetch::{FetchError, SnsFetcher};
use super::message::SnsMessage;

/// The topic the tests' messages come from.
pub const TOPIC: &str = "arn:aws:sns:eu-west-1:111122223333:cachewatch";
/// Where the tests' messages say their certificate is.
pub const CERT_URL: &str = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000000000000000000000000000test.pem";

/// A key and its certificate.
pub struct TestKey {
    pub private: RsaPrivateKey,
    pub pem: String,
}

/// A key of its own, made once per run. 1024 bits (SNS's are 2048): key generation in a debug
/// build is slow, and what is tested is how messages are checked, not the key's strength.
pub fn key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| make_key("CN=sns.eu-west-1.amazonaws.com"))
}

/// Another key, to sign what SNS did not.
pub fn other_key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| make_key("CN=someone.example"))
}

fn make_key(subject: &str) -> TestKey {
    let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).expect("an RSA key");
    let signer = SigningKey::<sha2::Sha256>::new(private.clone());
    let spki = SubjectPublicKeyInfoOwned::from_key(private.to_public_key()).expect("its SPKI");
    let builder = CertificateBuilder::new(
        Profile::Root,
        SerialNumber::from(1u32),
        Validity::from_now(Duration::from_secs(365 * 24 * 3600)).expect("a validity"),
        Name::from_str(subject).expect("a name"),
        spki,
        &signer,
    )
    .expect("a certificate builder");
    let certificate = builder
        .build::<rsa::pkcs1v15::Signature>()
        .expect("a certificate");
    let der = certificate.to_der().expect("its DER");
    let base64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = base64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
        .collect();
    TestKey {
        private,
        pem: format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            lines.join("\n")
        ),
    }
}

/// When the test's messages were published: a minute before the tests started (the test
/// certificate is valid from their start; a message is let in only within the hour after).
pub fn published() -> &'static str {
    static PUBLISHED: OnceLock<String> = OnceLock::new();
    PUBLISHED.get_or_init(|| {
        (chrono::Utc::now() - chrono::Duration::minutes(1))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    })
}

/// A notification from [`TOPIC`] carrying `body`, signed with `key` in `version` (1 or 2).
pub fn notification(body: &Value, version: &str, key: &TestKey) -> Value {
    let message = json!({
        "Type": "Notification",
        "MessageId": "6b1e6a4b-4ee3-4ca3-b361-4e5442f04d6e",
        "TopicArn": TOPIC,
        "Subject": "ElastiCache notification",
        "Message": body.to_string(),
        "Timestamp": published(),
        "SignatureVersion": version,
        "Signature": "",
        "SigningCertURL": CERT_URL,
        "UnsubscribeURL": format!("https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={TOPIC}:7e3f"),
    });
    sign(message, key)
}

/// A subscription confirmation from [`TOPIC`], signed with `key` in `version`.
pub fn confirmation(version: &str, key: &TestKey) -> Value {
    let message = json!({
        "Type": "SubscriptionConfirmation",
        "MessageId": "a5544098-f8c9-4589-81b2-d8b719f21e3c",
        "Token": "2336412f37fb687f5d51e6e2425a8a58",
        "TopicArn": TOPIC,
        "Message": format!("You have chosen to subscribe to the topic {TOPIC}.\nTo confirm the subscription, visit the SubscribeURL included in this message."),
        "SubscribeURL": format!("https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=2336412f37fb687f5d51e6e2425a8a58"),
        "Timestamp": published(),
        "SignatureVersion": version,
        "Signature": "",
        "SigningCertURL": CERT_URL,
    });
    sign(message, key)
}

/// `message` with its `Signature` made by `key`, as its `SignatureVersion` says.
pub fn sign(mut message: Value, key: &TestKey) -> Value {
    let parsed = SnsMessage::parse(message.to_string().as_bytes()).expect("a well-formed message");
    let text = parsed.string_to_sign();
    let signature = match message["SignatureVersion"].as_str() {
        Some("1") => SigningKey::<sha1::Sha1>::new(key.private.clone())
            .sign(text.as_bytes())
            .to_vec(),
        _ => SigningKey::<sha2::Sha256>::new(key.private.clone())
            .sign(text.as_bytes())
            .to_vec(),
    };
    message["Signature"] = json!(base64::engine::general_purpose::STANDARD.encode(signature));
    message
}

/// Serves certificates by URL and records every fetch and confirmation.
#[derive(Default)]
pub struct Fetcher {
    pub certificates: BTreeMap<String, String>,
    pub fetched: Mutex<Vec<String>>,
    pub confirmed: Mutex<Vec<String>>,
}

impl Fetcher {
    /// Serves the certificate of `key` at [`CERT_URL`].
    pub fn serving(key: &TestKey) -> Self {
        Self {
            certificates: [(CERT_URL.to_owned(), key.pem.clone())].into(),
            ..Self::default()
        }
    }

    pub fn fetches(&self) -> usize {
        self.fetched.lock().unwrap().len()
    }
}

impl SnsFetcher for Fetcher {
    async fn certificate(&self, url: &Url) -> Result<String, FetchError> {
        self.fetched.lock().unwrap().push(url.to_string());
        self.certificates
            .get(url.as_str())
            .cloned()
            .ok_or(FetchError::Status {
                what: "the signing certificate",
                status: 404,
            })
    }

    async fn confirm_subscription(&self, url: &Url) -> Result<(), FetchError> {
        self.confirmed.lock().unwrap().push(url.to_string());
        Ok(())
    }
}
