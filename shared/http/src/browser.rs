//! The pages people open in a browser, behind signed links (see [`crate::access`]):
//!
//! - `GET /runbooks/{id}`: the runbook of an event or maintenance, with who acknowledged it, the
//!   steps done and the outcome ([`crate::pages::runbook`] draws it);
//! - `POST /runbooks/{id}/steps`: a checkbox ticked on that page, recorded as a step done
//!   (`{"step": 3, "by": "…"}` as JSON, or `step=3&by=…` as a form; its link is signed like the
//!   page's);
//! - `GET /events`: the history, searched with the filters of the API
//!   ([`crate::pages::history`] draws it).
//!
//! These handlers gather what the views show; the views escape every value they print. The
//! pages are sent as the views ask ([`crate::pages`]): `text/html; charset=utf-8`, their
//! `Content-Security-Policy`, links to the door's own pages as paths (the policy lets a page
//! reach only its own origin), and the history page's filters with the link's signature, which
//! its form sends back in hidden fields.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use cachewatch_core::history::query::EventQuery;
use cachewatch_core::history::store::{EventStore, StoreError};
use cachewatch_core::lifecycle::{self, Maintenance};
use cachewatch_core::links::LinkError;
use cachewatch_core::model::event::EventId;
use cachewatch_core::runbook::escape;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use crate::access;
use crate::door::{App, Parts};
use crate::pages::{self, HistoryPage, RunbookPage};
use crate::settings::HttpSettings;
use cachewatch_app::lookup::{self, Found, RunbookFailure};
use cachewatch_app::respond::{self, RespondError, StepRequest, Who};
use cachewatch_app::search::{SearchError, Searched};
use cachewatch_core::history::filters::{self, Reading};

/// The history page's default number of events.
pub const HISTORY_LIMIT: usize = 100;
/// The most events the history page shows.
pub const HISTORY_MAX: usize = 1000;
/// The most clusters whose maintenances the timeline draws.
pub const TIMELINE_GROUPS: usize = 50;

/// The query of a request, as name-value pairs in order (a query that does not decode is empty).
pub(crate) fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map(|Query(pairs)| pairs)
        .unwrap_or_default()
}

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

/// A page drawn by [`crate::pages`], with the policy it is written for.
fn drawn(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                pages::content_security_policy(),
            ),
        ],
        body,
    )
        .into_response()
}

/// A link from a page to another of the door's pages: a path (same origin), signed when links
/// are.
fn page_link<P: Parts>(app: &App<P>, path: &str, now: DateTime<Utc>) -> String {
    cachewatch_core::links::link(None, path, app.settings.links.as_ref(), now)
}

/// A short page saying what went wrong, every value escaped.
fn problem(status: StatusCode, title: &str, detail: &str) -> Response {
    html(
        status,
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head><body><h1>{title}</h1><p>{}</p></body></html>",
            escape::html(detail),
            title = escape::html(title),
        ),
    )
}

/// The answer to a link that does not let the request in.
pub(crate) fn refused_page(error: &LinkError) -> Response {
    let detail = match error {
        LinkError::Expired { .. } => format!(
            "{error}. Open the link again from the alert in Slack, or ask for a new one with /cachewatch runbook ID."
        ),
        _ => "This page is reached through the links cachewatch posts in Slack, which are signed and expire.".to_owned(),
    };
    problem(
        StatusCode::FORBIDDEN,
        "This link does not open this page",
        &detail,
    )
}

fn unavailable(e: &StoreError) -> Response {
    tracing::error!(error = %e, source = ?std::error::Error::source(e), "the store failed");
    problem(
        StatusCode::SERVICE_UNAVAILABLE,
        "The history is unavailable",
        "The store did not answer. Try again in a moment.",
    )
}

/// What a lookup that found no single subject answers.
fn not_one(found: &Found, raw: &str) -> Response {
    match found {
        Found::NotAnId => problem(
            StatusCode::BAD_REQUEST,
            "Not an event id",
            &format!("{raw:?} is not an event id (4 to 20 hex digits)."),
        ),
        Found::Ambiguous(ids) => problem(
            StatusCode::BAD_REQUEST,
            "More than one event",
            &format!(
                "{raw} is the start of {}: give more digits.",
                ids.iter()
                    .map(EventId::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        Found::Nothing | Found::One(_) => problem(
            StatusCode::NOT_FOUND,
            "No such event",
            &format!("No event or maintenance has the id {raw}."),
        ),
    }
}

/// `GET /runbooks/{id}`.
pub(crate) async fn runbook<P: Parts>(
    State(app): State<Arc<App<P>>>,
    Path(id): Path<String>,
    uri: Uri,
) -> Response {
    let now = Utc::now();
    if let Err(e) = access::check(&app.settings, uri.path(), &query_pairs(&uri), now) {
        return refused_page(&e);
    }
    let subject = match lookup::find(&app.store, &id).await {
        Ok(Found::One(subject)) => subject,
        Ok(other) => return not_one(&other, &id),
        Err(e) => return unavailable(&e),
    };
    let runbook = match app.runbook_of(&subject, now).await {
        Ok(runbook) => runbook,
        Err(RunbookFailure::Store(e)) => return unavailable(&e),
        Err(RunbookFailure::Render(e)) => {
            tracing::error!(error = %e, id = %subject.id, "a runbook cannot be rendered");
            return problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The runbook cannot be rendered",
                &e.to_string(),
            );
        }
    };
    let responses = match subject.responses(&app.store).await {
        Ok(responses) => responses,
        Err(e) => return unavailable(&e),
    };
    let page = RunbookPage {
        runbook,
        step_url: Some(page_link(
            &app,
            &format!("/runbooks/{}/steps", subject.link_id()),
            now,
        )),
        event: subject.event.clone(),
        maintenance: subject.maintenance.clone(),
        acknowledged: responses.acknowledged,
        steps_done: responses.steps,
        outcome: responses.outcome,
        zone: app.settings.zone,
        now,
    };
    drawn(StatusCode::OK, pages::runbook(&page))
}

/// A step ticked on a runbook page.
#[derive(Debug, Deserialize)]
struct Tick {
    step: u32,
    #[serde(default)]
    by: Option<String>,
}

impl Tick {
    /// The step a request's body ticks: JSON (`{"step": 3}`) or a form (`step=3`); else the
    /// status and the error to answer. Whether the runbook has that step is the use case's to
    /// say.
    fn read(headers: &HeaderMap, body: &[u8]) -> Result<Tick, (StatusCode, String)> {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let tick: Result<Tick, String> = if content_type.starts_with("application/json") {
            serde_json::from_slice(body).map_err(|e| e.to_string())
        } else if content_type.starts_with("application/x-www-form-urlencoded") {
            let pairs = form_pairs(body);
            let field = |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
            };
            match field("step").map(|s| s.trim().parse::<u32>()) {
                Some(Ok(step)) => Ok(Tick {
                    step,
                    by: field("by"),
                }),
                Some(Err(e)) => Err(format!("step: {e}")),
                None => Err("no step".to_owned()),
            }
        } else {
            return Err((
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send the step as JSON ({\"step\": 3}) or as a form (step=3)".into(),
            ));
        };
        tick.map_err(|e| (StatusCode::BAD_REQUEST, format!("not a step: {e}")))
    }
}

/// `POST /runbooks/{id}/steps`.
pub(crate) async fn step<P: Parts>(
    State(app): State<Arc<App<P>>>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = Utc::now();
    let refuse = |status: StatusCode, error: String| {
        (status, axum::Json(json!({"error": error}))).into_response()
    };
    if let Err(e) = access::check(&app.settings, uri.path(), &query_pairs(&uri), now) {
        return refuse(StatusCode::FORBIDDEN, e.to_string());
    }
    if !same_origin(&headers, &app.settings) {
        return refuse(
            StatusCode::FORBIDDEN,
            "a step is recorded only from the runbook page itself".into(),
        );
    }
    let tick = match Tick::read(&headers, &body) {
        Ok(tick) => tick,
        Err((status, error)) => return refuse(status, error),
    };
    let subject = match lookup::find(&app.store, &id).await {
        Ok(Found::One(subject)) => subject,
        Ok(_) => return refuse(StatusCode::NOT_FOUND, format!("no event has the id {id}")),
        Err(e) => {
            tracing::error!(error = %e, "the store failed");
            return refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "the store is unavailable".into(),
            );
        }
    };
    // Whoever holds the link can type any name: it is kept as typed, saying nobody verified it.
    let request = StepRequest {
        subject: &subject,
        step: tick.step,
        by: Who::typed(tick.by.as_deref()),
    };
    match respond::record_step(app.ports(), app.rules(now), request).await {
        Ok(done) => (
            StatusCode::OK,
            axum::Json(
                json!({"recorded": true, "step": done.recorded.step, "by": done.recorded.by}),
            ),
        )
            .into_response(),
        Err(RespondError::Refused(why)) => refuse(StatusCode::BAD_REQUEST, why.to_string()),
        Err(RespondError::Runbook(e)) => {
            tracing::error!(error = %e, "the runbook cannot be rendered");
            refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the runbook cannot be rendered".into(),
            )
        }
        Err(RespondError::Store(e)) => {
            tracing::error!(error = %e, "the store failed");
            refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "the store is unavailable".into(),
            )
        }
    }
}

/// The fields of a form-encoded body.
pub(crate) fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body);
    reqwest::Url::parse(&format!("http://form.invalid/?{text}"))
        .map(|url| url.query_pairs().into_owned().collect())
        .unwrap_or_default()
}

/// Whether a browser's `Origin` (when it sends one) is the door's own: the base URL's, or one of
/// the hosts it answers ([`HttpSettings::own_origins`]). Another site's page, a page under a name
/// rebound to this machine's address included, cannot record steps in a person's name. Only a
/// door that knows neither (no base URL, any host) compares with the request's `Host`.
fn same_origin(headers: &HeaderMap, settings: &HttpSettings) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let origin = origin.trim_end_matches('/').to_ascii_lowercase();
    let own = settings.own_origins();
    if !own.is_empty() {
        return own.contains(&origin);
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    host.is_some_and(|h| origin == format!("http://{h}") || origin == format!("https://{h}"))
}

/// `GET /events`.
pub(crate) async fn history<P: Parts>(State(app): State<Arc<App<P>>>, uri: Uri) -> Response {
    let now = Utc::now();
    let pairs = query_pairs(&uri);
    if let Err(e) = access::check(&app.settings, uri.path(), &pairs, now) {
        return refused_page(&e);
    }
    // Sent back by the page's form, so that the link holds for the next search too.
    let signature = access::signature(&pairs);
    let filters_given = access::without_signature(&pairs);
    let reading = Reading {
        default_limit: HISTORY_LIMIT,
        max_limit: HISTORY_MAX,
        strict: false,
    };
    let (status, shown) = match app.search(&filters_given, reading, now).await {
        Ok(mut found) => {
            found.given.extend(signature);
            match history_page(&app, found, now).await {
                Ok(shown) => (StatusCode::OK, shown),
                Err(e) => return unavailable(&e),
            }
        }
        Err(SearchError::Store(e)) => return unavailable(&e),
        Err(SearchError::Filter(bad)) => {
            let filters = filters_given
                .into_iter()
                .filter(|(k, _)| filters::NAMES.contains(&k.as_str()))
                .chain(signature)
                .collect();
            (
                StatusCode::BAD_REQUEST,
                HistoryPage {
                    filters,
                    query: EventQuery {
                        limit: HISTORY_LIMIT,
                        ..EventQuery::default()
                    },
                    events: Vec::new(),
                    maintenances: Vec::new(),
                    runbook_links: Default::default(),
                    error: Some(bad.to_string()),
                    zone: app.settings.zone,
                    now,
                },
            )
        }
    };
    drawn(status, pages::history(&shown))
}

async fn history_page<P: Parts>(
    app: &App<P>,
    found: Searched,
    now: DateTime<Utc>,
) -> Result<HistoryPage, StoreError> {
    let Searched {
        query,
        given: filters,
        events,
    } = found;
    let groups: Vec<String> = events
        .iter()
        .filter_map(|e| e.group_key())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .take(TIMELINE_GROUPS)
        .collect();
    let maintenances: Vec<Maintenance> = app
        .store
        .group_events(&groups)
        .await?
        .values()
        .flat_map(|events| lifecycle::assemble(events))
        .collect();
    let runbook_links = events
        .iter()
        .map(|e| {
            let id = e.maintenance_id.as_ref().unwrap_or(&e.id);
            (
                e.id.clone(),
                page_link(app, &format!("/runbooks/{id}"), now),
            )
        })
        .collect();
    Ok(HistoryPage {
        filters,
        query,
        events,
        maintenances,
        runbook_links,
        error: None,
        zone: app.settings.zone,
        now,
    })
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn steps_come_only_from_the_doors_own_pages() {
        let headers = |origin: Option<&str>, host: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::HOST, HeaderValue::from_str(host).unwrap());
            if let Some(o) = origin {
                h.insert(header::ORIGIN, HeaderValue::from_str(o).unwrap());
            }
            h
        };
        let base = HttpSettings {
            base_url: Some("https://cw.example.com".into()),
            ..HttpSettings::default()
        };
        let nothing_known = HttpSettings::default();
        let local = HttpSettings {
            base_url: Some("http://127.0.0.1:8080".into()),
            allowed_hosts: vec!["127.0.0.1:8080".into(), "localhost:8080".into()],
            ..HttpSettings::default()
        };
        assert!(same_origin(&headers(None, "lambda.example"), &base));
        assert!(same_origin(
            &headers(Some("https://cw.example.com"), "lambda.example"),
            &base
        ));
        assert!(same_origin(
            &headers(Some("http://127.0.0.1:8080"), "127.0.0.1:8080"),
            &nothing_known
        ));
        assert!(same_origin(
            &headers(Some("http://localhost:8080"), "localhost:8080"),
            &local
        ));
        assert!(!same_origin(
            &headers(Some("https://evil.example"), "cw.example.com"),
            &base
        ));
        assert!(
            !same_origin(
                &headers(Some("http://rebound.example:8080"), "rebound.example:8080"),
                &local
            ),
            "a name rebound to 127.0.0.1 is not the door's origin"
        );
        assert!(!same_origin(
            &headers(Some("null"), "127.0.0.1:8080"),
            &nothing_known
        ));
    }
}
