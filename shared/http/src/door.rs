//! The router and what its handlers share: the [`Door`] a host builds, and the checks every
//! request passes (its `Host`, its body's size and how long the body takes to arrive, Slack's
//! signature on Slack's routes, headers on every answer).

use std::sync::Arc;
use std::time::Duration as StdDuration;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cachewatch_app::lookup::{FactsFrom, RunbookFailure, Subject};
use cachewatch_app::search::{self, SearchError, SearchRequest, Searched};
use cachewatch_core::alerting::delivery::{ChatSink, SlackViews};
use cachewatch_core::alerting::notify::NotifySettings;
use cachewatch_core::cluster::source::FactsSource;
use cachewatch_core::config::Config;
use cachewatch_core::history::filters::Reading;
use cachewatch_core::links;
use cachewatch_core::runbook::{Runbook, Runbooks};
use chrono::{DateTime, Utc};

use crate::settings::HttpSettings;
use crate::sns::{SnsFetcher, SnsVerifier};
use crate::{api, browser, commands, interactions, slack_auth, sns};

/// Everything the door works with, built by its host once at start-up.
///
/// - `S`, the store: the history, the outbox of alerts, what people did;
/// - `C`, the chat: posts and updates messages, opens modals (`None` when Slack is not
///   configured: commands still answer, buttons record but cannot update messages);
/// - `F`, where facts about clusters come from (ElastiCache on AWS, nothing on a laptop);
/// - `K`, what fetches SNS's certificates and confirms subscriptions.
#[derive(Debug)]
pub struct Door<S, C, F, K> {
    /// The store.
    pub store: S,
    /// The chat, when Slack is configured.
    pub chat: Option<C>,
    /// Facts about clusters, for alerts and runbooks.
    pub facts: F,
    /// Fetches SNS's signing certificates and confirms subscriptions
    /// ([`crate::sns::HttpsFetcher`] in production).
    pub sns_fetcher: K,
    /// The runbook templates.
    pub runbooks: Runbooks,
    /// The team's configuration (`cachewatch.toml`); the mutes set in Slack are added to it
    /// whenever alerts are decided.
    pub config: Config,
    /// How alerts are sent (for notifications arriving on `/sns`, and the parents updated by
    /// Acknowledge).
    pub notify: NotifySettings,
    /// What the door checks and how it writes links.
    pub settings: HttpSettings,
}

/// The parts a host plugs into the door, named once for every handler: [`Door`]'s four type
/// parameters, as one type ([`Door`]'s own tuple implements it).
pub trait Parts: 'static {
    /// The store.
    type Store: cachewatch_app::Store + 'static;
    /// The chat.
    type Chat: ChatSink + SlackViews + 'static;
    /// Where facts about clusters come from.
    type Facts: FactsSource + 'static;
    /// What fetches SNS's certificates.
    type Fetcher: SnsFetcher + 'static;
}

impl<S, C, F, K> Parts for (S, C, F, K)
where
    S: cachewatch_app::Store + 'static,
    C: ChatSink + SlackViews + 'static,
    F: FactsSource + 'static,
    K: SnsFetcher + 'static,
{
    type Store = S;
    type Chat = C;
    type Facts = F;
    type Fetcher = K;
}

/// The shared state of the handlers.
pub(crate) struct App<P: Parts> {
    pub store: P::Store,
    pub chat: Option<P::Chat>,
    pub facts: P::Facts,
    pub sns: SnsVerifier<P::Fetcher>,
    pub runbooks: Runbooks,
    pub config: Config,
    pub notify: NotifySettings,
    pub settings: HttpSettings,
}

impl<P: Parts> App<P> {
    /// A link to `path`: under the base URL when there is one, signed when links are.
    pub fn link(&self, path: &str, now: DateTime<Utc>) -> String {
        links::link(
            self.settings.base_url.as_deref(),
            path,
            self.settings.links.as_ref(),
            now,
        )
    }

    /// The ports the use cases reach the outside through.
    pub fn ports(&self) -> cachewatch_app::Ports<'_, P::Store, P::Chat, P::Facts> {
        cachewatch_app::Ports {
            store: &self.store,
            chat: self.chat.as_ref(),
            facts: &self.facts,
            runbooks: &self.runbooks,
        }
    }

    /// The team's configuration and how alerts are sent, at `now`: what a use case that draws
    /// alerts goes by.
    pub fn rules(&self, now: DateTime<Utc>) -> cachewatch_app::Rules<'_> {
        cachewatch_app::Rules {
            config: &self.config,
            settings: &self.notify,
            now,
        }
    }

    /// The history's events that `filters` ask for (read as `reading` says; drills left out),
    /// for a search page or the API.
    pub async fn search(
        &self,
        filters: &[(String, String)],
        reading: Reading,
        now: DateTime<Utc>,
    ) -> Result<Searched, SearchError> {
        let request = SearchRequest {
            filters,
            reading,
            include_drills: false,
            now,
        };
        search::search(&self.store, &self.config, &request).await
    }

    /// A link to `path` for Slack, which needs a whole URL: `None` without a base URL.
    pub fn slack_link(&self, path: &str, now: DateTime<Utc>) -> Option<String> {
        self.settings.base_url.as_ref()?;
        Some(self.link(path, now))
    }

    /// The runbook of `subject` as every door shows it, with the team's owners at `now`.
    pub async fn runbook_of(
        &self,
        subject: &Subject,
        now: DateTime<Utc>,
    ) -> Result<Runbook, RunbookFailure> {
        let config = self.config_now(now).await;
        subject
            .runbook(
                &self.store,
                &self.runbooks,
                FactsFrom::source(&self.facts),
                &config.owners(),
                now,
            )
            .await
    }

    /// The configuration at `now`, with the mutes people set in Slack. When those cannot be read,
    /// the file's alone: a mute missed is one alert too many, better than none.
    pub async fn config_now(&self, now: DateTime<Utc>) -> Config {
        cachewatch_app::config_at(&self.store, &self.config, now).await
    }
}

/// The door's routes, over `door`.
pub fn router<S, C, F, K>(door: Door<S, C, F, K>) -> Router
where
    (S, C, F, K): Parts<Store = S, Chat = C, Facts = F, Fetcher = K>,
{
    router_of::<(S, C, F, K)>(door)
}

/// The routes over the parts `P`.
fn router_of<P: Parts>(door: Door<P::Store, P::Chat, P::Facts, P::Fetcher>) -> Router {
    let limit = door.settings.body_limit;
    let app = Arc::new(App::<P> {
        sns: SnsVerifier::new(door.sns_fetcher, door.settings.topic_arns.clone()),
        store: door.store,
        chat: door.chat,
        facts: door.facts,
        runbooks: door.runbooks,
        config: door.config,
        notify: door.notify,
        settings: door.settings,
    });
    let slack = Router::new()
        .route("/slack/commands", post(commands::receive::<P>))
        .route("/slack/interactions", post(interactions::receive::<P>))
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&app),
            slack_only::<P>,
        ));
    Router::new()
        .merge(slack)
        .route("/runbooks/{id}", get(browser::runbook::<P>))
        .route("/runbooks/{id}/steps", post(browser::step::<P>))
        .route("/events", get(browser::history::<P>))
        .route("/api/events", get(api::events::<P>))
        .route("/sns", post(sns::receive::<P>))
        .route("/healthz", get(healthz))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&app),
            guard_request::<P>,
        ))
        .layer(middleware::map_response(guard_headers))
        .with_state(app)
}

/// How long a request's body may take to arrive once its headers have.
pub const BODY_TIMEOUT: StdDuration = StdDuration::from_secs(10);

/// Checks every request before any handler sees it:
/// - its `Host` is one the door answers ([`HttpSettings::accepts_host`]): 421 otherwise;
/// - a `Content-Length` over the limit is refused at once, before a byte of the body is waited
///   for (413);
/// - the body arrives whole within [`BODY_TIMEOUT`] (408) and within the limit (413), and is
///   handed on read.
async fn guard_request<P: Parts>(
    State(app): State<Arc<App<P>>>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()));
    if !app.settings.accepts_host(host) {
        tracing::warn!(
            host = host.unwrap_or_default(),
            path = parts.uri.path(),
            "a request for a host this door does not answer"
        );
        return (
            StatusCode::MISDIRECTED_REQUEST,
            "this door does not answer that host name",
        )
            .into_response();
    }
    let limit = app.settings.body_limit;
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        tracing::warn!(
            length = declared,
            limit,
            path = parts.uri.path(),
            "a request body over the limit, refused before reading it"
        );
        return too_large();
    }
    let bytes = match tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => return too_large(),
        Err(_) => {
            tracing::warn!(
                path = parts.uri.path(),
                "a request body did not arrive in time"
            );
            return (
                StatusCode::REQUEST_TIMEOUT,
                "the request body did not arrive in time",
            )
                .into_response();
        }
    };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn too_large() -> Response {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        "the request body is too large",
    )
        .into_response()
}

async fn healthz() -> &'static str {
    "ok"
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found").into_response()
}

/// Lets through only requests Slack signed: the body is read (within the limit), checked, and
/// handed on unchanged. Anything else is a 401 that reached no handler.
async fn slack_only<P: Parts>(
    State(app): State<Arc<App<P>>>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, app.settings.body_limit).await else {
        return too_large();
    };
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    if let Err(e) = slack_auth::verify(
        app.settings.signing_secret.as_ref(),
        header(slack_auth::TIMESTAMP_HEADER),
        header(slack_auth::SIGNATURE_HEADER),
        &bytes,
        Utc::now(),
    ) {
        tracing::warn!(error = %e, path = parts.uri.path(), "a request to a Slack route is not Slack's");
        return (StatusCode::UNAUTHORIZED, "not a signed request from Slack").into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Headers every answer carries: nothing is sniffed, framed, cached, or told where a signed link
/// came from.
async fn guard_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
        // Pages send their own policy; everything else (JSON, short notices) loads nothing.
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ),
    ] {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    response
}
