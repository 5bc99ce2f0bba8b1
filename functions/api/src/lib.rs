//! The API function: the HTTP door ([`cachewatch_http::router`]) behind a Lambda Function URL.
//!
//! The function's own URL cannot be in its environment (the stack would refer to itself), so
//! unless `CACHEWATCH_BASE_URL` says otherwise, the door learns it from the first request: the
//! Function URL's domain, over HTTPS. Links in the pages and in the alerts the buttons update
//! point there.

use std::sync::Mutex;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, header};
use cachewatch_adapters::chat::Chat;
use cachewatch_adapters::deployment::Deployment;
use cachewatch_adapters::dynamo::DynamoStore;
use cachewatch_adapters::placed_facts::PlacedFacts;
use cachewatch_http::sns::HttpsFetcher;
use cachewatch_http::{Door, HttpSettings, SettingsError, router};
use lambda_http::request::RequestContext;
use lambda_http::{Error, RequestExt};
use tokio::sync::OnceCell;
use tower::ServiceExt;

/// The door as the function hosts it.
pub type ApiDoor = Door<DynamoStore, Chat, PlacedFacts, HttpsFetcher>;

/// Why the function cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A setting of the door is wrong.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The HTTP client for SNS's certificates cannot be built.
    #[error("cannot set up the client that fetches SNS's certificates: {0}")]
    Fetcher(#[source] reqwest::Error),
}

/// The door, built on the first request.
pub struct Api {
    door: Mutex<Option<ApiDoor>>,
    router: OnceCell<Router>,
}

impl Api {
    /// The door of `deployment`, with its settings from `env` and the stack's secret (the Slack
    /// signing secret and the link secret live there, not in the environment).
    pub fn from_deployment(
        deployment: Deployment,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, StartError> {
        let settings = HttpSettings::from_lookup(deployment.secrets.lookup(&env))?;
        let mut notify = deployment.notify;
        notify.links.clone_from(&settings.links);
        let door = Door {
            store: deployment.store,
            chat: deployment.chat,
            facts: deployment.facts,
            sns_fetcher: HttpsFetcher::new().map_err(StartError::Fetcher)?,
            runbooks: deployment.runbooks,
            config: deployment.config,
            notify,
            settings,
        };
        Ok(Self::new(door))
    }

    /// The function over `door`.
    pub fn new(door: ApiDoor) -> Self {
        Self {
            door: Mutex::new(Some(door)),
            router: OnceCell::new(),
        }
    }

    /// Answers one request.
    pub async fn handle(&self, request: lambda_http::Request) -> Result<Response<Body>, Error> {
        let router = self
            .router
            .get_or_try_init(|| async {
                let mut door = self
                    .door
                    .lock()
                    .map_err(|_| "the door was poisoned by an earlier panic")?
                    .take()
                    .ok_or("the door was taken by a request that failed to build it")?;
                if door.settings.base_url.is_none()
                    && let Some(base) = base_url(&request)
                {
                    tracing::info!(base_url = %base, "links point at this function's URL");
                    learn_base_url(&mut door, base);
                }
                Ok::<_, Error>(router(door))
            })
            .await?;
        let (parts, body) = request.into_parts();
        let request = Request::from_parts(parts, Body::from(body.to_vec()));
        Ok(router.clone().oneshot(request).await?)
    }
}

/// Links and buttons from now on point at `base`.
pub fn learn_base_url(door: &mut ApiDoor, base: String) {
    door.notify.actions = door.settings.signing_secret.is_some();
    door.notify.base_url = Some(base.clone());
    door.settings.base_url = Some(base);
}

/// `https://{domain}` of the Function URL the request came through (its Host header otherwise).
pub fn base_url<B>(request: &Request<B>) -> Option<String> {
    let domain = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.domain_name.clone(),
        _ => None,
    }
    .or_else(|| {
        request
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned)
    })?;
    let valid = !domain.is_empty()
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
    valid.then(|| format!("https://{domain}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_url_is_the_domain_of_the_function_url_over_https() {
        let request = Request::builder()
            .uri("/healthz")
            .header(header::HOST, "abc123.lambda-url.eu-west-1.on.aws")
            .body(())
            .unwrap();
        assert_eq!(
            base_url(&request).as_deref(),
            Some("https://abc123.lambda-url.eu-west-1.on.aws")
        );
    }

    #[test]
    fn a_host_that_is_not_a_domain_gives_no_base_url() {
        for host in ["", "evil.example/path", "a b", "x\"><script>"] {
            let request = Request::builder()
                .uri("/healthz")
                .header(header::HOST, host)
                .body(())
                .unwrap();
            assert_eq!(base_url(&request), None, "{host:?}");
        }
    }
}
