//! SNS played by the tests, over the network: messages signed with a key of the tests' own, and
//! [`SnsHost`], which stands for SNS's certificate host (`sns.<region>.amazonaws.com`) to a
//! process that fetches certificates the way production does.
//!
//! A `cachewatch serve` process fetches the certificate a message names over HTTPS, from an SNS
//! host only, with the platform's trust roots. [`SnsHost`] is an HTTPS proxy on `127.0.0.1`
//! (give the process `HTTPS_PROXY`): it answers every `CONNECT` itself, with a certificate for the
//! host asked that a certificate authority made for the test signed (give the process
//! `SSL_CERT_FILE`, which then holds that authority alone), and serves the signing certificate at
//! [`CERT_URL`]'s path. Nothing leaves the machine, and the process under test runs unchanged.
//!
//! The host runs on its own thread and stops when dropped.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use base64::Engine;
use cachewatch_http::sns::SnsMessage;
use chrono::{DateTime, Utc};
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::signature::{SignatureEncoding, Signer};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::der::Encode;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::Validity;

/// The topic the tests' messages come from.
pub const TOPIC: &str = "arn:aws:sns:eu-west-1:111122223333:cachewatch";
/// SNS's host in the topic's Region.
pub const SNS_HOST: &str = "sns.eu-west-1.amazonaws.com";
/// Where the tests' messages say their signing certificate is.
pub const CERT_URL: &str = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000000000000000000000000000test.pem";

/// The key SNS signs with, and its certificate (PEM).
pub struct SnsKey {
    private: RsaPrivateKey,
    /// The signing certificate, as SNS serves it.
    pub pem: String,
}

/// The tests' SNS key, made once per run (1024 bits: key generation in a debug build is slow,
/// and what is tested is how messages are checked, not the key's strength).
pub fn key() -> &'static SnsKey {
    static KEY: OnceLock<SnsKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).expect("an RSA key");
        let signer = SigningKey::<sha2::Sha256>::new(private.clone());
        let spki =
            SubjectPublicKeyInfoOwned::from_key(private.to_public_key()).expect("its public key");
        let certificate = CertificateBuilder::new(
            Profile::Root,
            SerialNumber::from(7u32),
            Validity::from_now(Duration::from_secs(30 * 24 * 3600)).expect("a validity"),
            Name::from_str(&format!("CN={SNS_HOST}")).expect("a name"),
            spki,
            &signer,
        )
        .expect("a certificate builder")
        .build::<rsa::pkcs1v15::Signature>()
        .expect("a certificate");
        let der = certificate.to_der().expect("DER");
        SnsKey {
            private,
            pem: pem("CERTIFICATE", &der),
        }
    })
}

fn pem(label: &str, der: &[u8]) -> String {
    let base64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = base64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// `message` signed with [`key`] as SNS signs it (SHA256withRSA for version 2, SHA1withRSA for 1).
pub fn sign(mut message: Value) -> Value {
    message["Signature"] = json!("");
    let text = SnsMessage::parse(message.to_string().as_bytes())
        .expect("a message SNS could send")
        .string_to_sign();
    let private = &key().private;
    let signature = if message["SignatureVersion"] == "1" {
        SigningKey::<sha1::Sha1>::new(private.clone())
            .sign(text.as_bytes())
            .to_vec()
    } else {
        SigningKey::<sha2::Sha256>::new(private.clone())
            .sign(text.as_bytes())
            .to_vec()
    };
    message["Signature"] = json!(base64::engine::general_purpose::STANDARD.encode(signature));
    message
}

/// A notification of [`TOPIC`] carrying `body` (an ElastiCache body), published at `at`, signed.
pub fn notification(body: &Value, at: DateTime<Utc>, version: &str) -> Value {
    sign(json!({
        "Type": "Notification",
        "MessageId": format!("msg-{}", at.timestamp_nanos_opt().unwrap_or_default()),
        "TopicArn": TOPIC,
        "Subject": "ElastiCache notification",
        "Message": body.to_string(),
        "Timestamp": at.to_rfc3339(),
        "SignatureVersion": version,
        "SigningCertURL": CERT_URL,
        "UnsubscribeURL": format!("https://{SNS_HOST}/?Action=Unsubscribe&SubscriptionArn={TOPIC}:1"),
    }))
}

/// A Lambda SNS event (as SNS hands it to a subscribed function) of one notification of `topic`
/// with `body` (an ElastiCache body) as its message, published at `at`. Lambda's records carry
/// a signature the function does not check (SNS checked it before invoking).
pub fn lambda_event(topic: &str, message_id: &str, body: &Value, at: DateTime<Utc>) -> Value {
    json!({
        "Records": [{
            "EventVersion": "1.0",
            "EventSubscriptionArn": format!("{topic}:5c1d7e02-93a4-4f6b-b8e2-0d6a41c9f735"),
            "EventSource": "aws:sns",
            "Sns": {
                "Type": "Notification",
                "MessageId": message_id,
                "TopicArn": topic,
                "Subject": "ElastiCache notification",
                "Message": body.to_string(),
                "Timestamp": at.to_rfc3339(),
                "SignatureVersion": "1",
                "Signature": "EXAMPLE",
                "SigningCertUrl": "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-example.pem",
                "UnsubscribeUrl": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe",
                "MessageAttributes": {}
            }
        }]
    })
}

/// SNS's certificate host, behind an HTTPS proxy on `127.0.0.1`.
pub struct SnsHost {
    address: SocketAddr,
    ca_file: PathBuf,
    fetched: Arc<Mutex<Vec<String>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl SnsHost {
    /// Starts the host, serving `certificate_pem` at [`CERT_URL`].
    pub fn start(certificate_pem: &str) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (ca_pem, tls) = authority_and_server_config();
        let ca_file = dir.path().join("ca.pem");
        std::fs::File::create(&ca_file)
            .and_then(|mut f| f.write_all(ca_pem.as_bytes()))
            .expect("the authority's certificate written");
        let fetched = Arc::new(Mutex::new(Vec::new()));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready, address) = std::sync::mpsc::channel();
        let served = Arc::clone(&fetched);
        let certificate = certificate_pem.to_owned();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
                ready
                    .send(listener.local_addr().expect("its address"))
                    .expect("the test waits");
                let acceptor = TlsAcceptor::from(Arc::new(tls));
                let serve = async {
                    loop {
                        let Ok((stream, _)) = listener.accept().await else {
                            continue;
                        };
                        let acceptor = acceptor.clone();
                        let served = Arc::clone(&served);
                        let certificate = certificate.clone();
                        tokio::spawn(async move {
                            let _ = tunnel(stream, acceptor, &served, &certificate).await;
                        });
                    }
                };
                tokio::select! {
                    () = serve => {}
                    _ = stopped => {}
                }
            });
        });
        let address = address
            .recv_timeout(Duration::from_secs(10))
            .expect("the SNS host started");
        Self {
            address,
            ca_file,
            fetched,
            stop: Some(stop),
            thread: Some(thread),
            _dir: dir,
        }
    }

    /// The proxy, for `HTTPS_PROXY`.
    pub fn proxy_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The authority's certificate, for `SSL_CERT_FILE`.
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// The URLs fetched through the host, in order.
    pub fn fetched(&self) -> Vec<String> {
        self.fetched.lock().expect("not poisoned").clone()
    }
}

impl Drop for SnsHost {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A certificate authority of the test's own (PEM), and a server configuration whose certificate
/// it signed for [`SNS_HOST`].
fn authority_and_server_config() -> (String, rustls::ServerConfig) {
    let ca_key = rcgen::KeyPair::generate().expect("a key for the authority");
    let mut ca_params =
        rcgen::CertificateParams::new(Vec::<String>::new()).expect("the authority's parameters");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "cachewatch test authority");
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let authority = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).expect("the authority");
    let server_key = rcgen::KeyPair::generate().expect("a key for the host");
    let server = rcgen::CertificateParams::new(vec![SNS_HOST.to_owned()])
        .expect("the host's parameters")
        .signed_by(&server_key, &authority)
        .expect("the host's certificate");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![server.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into()),
        )
        .expect("a server configuration");
    (authority.pem(), config)
}

/// One proxied connection: `CONNECT host:443`, then TLS as that host, then one `GET`.
async fn tunnel(
    mut stream: tokio::net::TcpStream,
    acceptor: TlsAcceptor,
    served: &Mutex<Vec<String>>,
    certificate: &str,
) -> std::io::Result<()> {
    let head = read_head(&mut stream).await?;
    let target = head
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("CONNECT "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_default()
        .to_owned();
    let host = target.split(':').next().unwrap_or_default().to_owned();
    if host != SNS_HOST {
        stream
            .write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            .await?;
        return Ok(());
    }
    stream
        .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        .await?;
    let mut tls = acceptor.accept(stream).await?;
    let request = read_head(&mut tls).await?;
    let path = request
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("GET "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_default()
        .to_owned();
    let url = format!("https://{host}{path}");
    served.lock().expect("not poisoned").push(url.clone());
    let answer = if url == CERT_URL {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/x-pem-file\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{certificate}",
            certificate.len()
        )
    } else {
        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned()
    };
    tls.write_all(answer.as_bytes()).await?;
    tls.shutdown().await
}

/// An HTTP request's head, up to the blank line (at most 16 KiB).
async fn read_head(stream: &mut (impl AsyncRead + Unpin)) -> std::io::Result<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 || stream.read(&mut byte).await? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "no request head",
            ));
        }
        head.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}
