//! What `/sns` fetches from AWS: the signing certificate a message names, and the `SubscribeURL`
//! that confirms a subscription. Behind the [`SnsFetcher`] trait so that tests sign with their own
//! key and confirm against a local stub; [`HttpsFetcher`] is the real one.
//!
//! Callers hand a fetcher only URLs they checked (HTTPS, an SNS host: see
//! [`super::verify::check_certificate_url`]); the real fetcher refuses plain HTTP and redirects
//! all the same, and reads at most [`MAX_ANSWER`] bytes.

use std::future::Future;
use std::time::Duration;

use reqwest::Url;

/// The most bytes read from an answer (a certificate is about 2 KiB).
pub const MAX_ANSWER: usize = 64 * 1024;
/// How long one fetch may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// An error from a fetcher's transport, with its cause kept.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a fetch failed. Every one may pass: SNS retries a delivery that failed on our side.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// No answer: connection, TLS, timeout.
    #[error("{what}: the request failed")]
    Transport {
        /// What was fetched.
        what: &'static str,
        /// The transport's error (without the URL).
        #[source]
        source: BoxError,
    },
    /// An answer that is not a success.
    #[error("{what}: HTTP {status}")]
    Status {
        /// What was fetched.
        what: &'static str,
        /// The status.
        status: u16,
    },
    /// An answer larger than [`MAX_ANSWER`].
    #[error("{what}: the answer is larger than {MAX_ANSWER} bytes")]
    TooLarge {
        /// What was fetched.
        what: &'static str,
    },
}

/// Fetches from SNS.
pub trait SnsFetcher: Send + Sync {
    /// The PEM text of the X.509 certificate at `url` (a `SigningCertURL`).
    fn certificate(&self, url: &Url) -> impl Future<Output = Result<String, FetchError>> + Send;

    /// Visits `url` (a `SubscribeURL`), which confirms the subscription.
    fn confirm_subscription(
        &self,
        url: &Url,
    ) -> impl Future<Output = Result<(), FetchError>> + Send;
}

/// The real fetcher: HTTPS only, no redirects, a timeout, a size cap.
#[derive(Debug, Clone)]
pub struct HttpsFetcher {
    http: reqwest::Client,
}

impl HttpsFetcher {
    /// A fetcher with its own HTTP client.
    pub fn new() -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .https_only(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(FETCH_TIMEOUT)
            .user_agent(concat!("cachewatch/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { http })
    }

    async fn get(&self, what: &'static str, url: &Url) -> Result<Vec<u8>, FetchError> {
        let transport = |e: reqwest::Error| FetchError::Transport {
            what,
            source: Box::new(e.without_url()),
        };
        let mut response = self.http.get(url.clone()).send().await.map_err(transport)?;
        if !response.status().is_success() {
            return Err(FetchError::Status {
                what,
                status: response.status().as_u16(),
            });
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_ANSWER as u64)
        {
            return Err(FetchError::TooLarge { what });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_ANSWER {
                return Err(FetchError::TooLarge { what });
            }
        }
        Ok(body)
    }
}

impl SnsFetcher for HttpsFetcher {
    async fn certificate(&self, url: &Url) -> Result<String, FetchError> {
        let body = self.get("the signing certificate", url).await?;
        Ok(String::from_utf8_lossy(&body).into_owned())
    }

    async fn confirm_subscription(&self, url: &Url) -> Result<(), FetchError> {
        self.get("the subscription confirmation", url)
            .await
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_real_fetcher_refuses_plain_http_before_sending_anything() {
        let fetcher = HttpsFetcher::new().unwrap();
        // Nothing listens there: a refusal that came from the network would be a transport
        // error with a connection cause; this one is reqwest's HTTPS-only rule.
        let url = Url::parse("http://127.0.0.1:9/SimpleNotificationService-x.pem").unwrap();
        let err = fetcher.certificate(&url).await.unwrap_err();
        let FetchError::Transport { source, .. } = err else {
            panic!("plain HTTP is refused as a transport error: {err}");
        };
        let reqwest = source.downcast_ref::<reqwest::Error>().unwrap();
        assert!(reqwest.is_builder(), "{reqwest:?}");
    }
}
