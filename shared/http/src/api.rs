//! `GET /api/events`: the history searched with the CLI's filters as query parameters
//! (`cluster`, `node`, `kind`, `category`, `since`, `until`, `text`, `limit`), answered as a JSON
//! list of normalized events, newest first (the contract of `cachewatch events --json`).
//!
//! A filter that does not read, or a parameter that is not a filter, is a 400 whose JSON names
//! it: `{"error": "since: \"yesterday\" is not a date: …", "parameter": "since"}`. Like the pages,
//! the API needs a signed link unless the door's pages are public.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use cachewatch_core::history::query::{DEFAULT_LIMIT, MAX_LIMIT};
use chrono::Utc;
use serde_json::json;

use crate::access;
use crate::browser::query_pairs;
use crate::door::{App, Parts};
use cachewatch_app::search::SearchError;
use cachewatch_core::history::filters::Reading;

/// `GET /api/events`.
pub(crate) async fn events<P: Parts>(State(app): State<Arc<App<P>>>, uri: Uri) -> Response {
    let now = Utc::now();
    let pairs = query_pairs(&uri);
    if let Err(e) = access::check(&app.settings, uri.path(), &pairs, now) {
        return (StatusCode::FORBIDDEN, Json(json!({"error": e.to_string()}))).into_response();
    }
    let reading = Reading {
        default_limit: DEFAULT_LIMIT,
        max_limit: MAX_LIMIT,
        strict: true,
    };
    match app
        .search(&access::without_signature(&pairs), reading, now)
        .await
    {
        Ok(found) => Json(found.events).into_response(),
        Err(SearchError::Filter(bad)) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": bad.to_string(), "parameter": bad.parameter})),
        )
            .into_response(),
        Err(SearchError::Store(e)) => {
            tracing::error!(error = %e, source = ?std::error::Error::source(&e), "the store failed");
            let status = if e.is_retryable() {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            };
            (status, Json(json!({"error": "the history is unavailable"}))).into_response()
        }
    }
}
