//! Reading Slack's answers: what one request came back with, and whether trying again can help.
//!
//! Sources for the classification:
//! - Rate limits (<https://docs.slack.dev/apis/web-api/rate-limits>): a limited call answers
//!   HTTP 429 with a `Retry-After` header in seconds; posting allows about one message a second
//!   per channel. Incoming webhooks answer 429 the same way.
//! - `chat.postMessage` and the errors every method shares
//!   (<https://docs.slack.dev/reference/methods/chat.postMessage>): `internal_error` and
//!   `fatal_error` are Slack's own trouble ("it's possible some aspect of the operation
//!   succeeded before the error was raised"); `ratelimited`, `service_unavailable`, `request_timeout` (the request body
//!   arrived truncated), `team_added_to_org` and `org_login_required` (a workspace migration)
//!   pass; the others (`channel_not_found`, `not_in_channel`, `is_archived`, `msg_too_long`,
//!   `no_text`, `invalid_blocks`, `invalid_auth`, `not_authed`, `account_inactive`,
//!   `token_revoked`, `missing_scope`, ...) need someone to change something.
//! - Incoming webhooks
//!   (<https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks>):
//!   the answer is plain text, `ok` or a code, with 400 (`invalid_payload`, `no_text`, ...), 403
//!   (`action_prohibited`, `invalid_token`, ...), 404 (`channel_not_found`, `no_service`),
//!   410 (`channel_is_archived`) or 500 (`rollup_error`).
//!
//! Unknown codes are final: a code Slack adds later most likely names a refusal, and retrying a
//! refusal only delays the report that someone must act.

use std::error::Error as StdError;
use std::time::Duration;

use cachewatch_core::alerting::delivery::DeliveryError;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde_json::Value;

/// Whether a failed request may succeed if tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// It may. `outcome_unknown`: Slack may have carried the request out (a post may be in the
    /// channel) although the answer says otherwise or never came.
    Retryable { outcome_unknown: bool },
    /// It will not, until someone changes the configuration or the message.
    Permanent,
}

/// Slack error codes that pass, and whether the request may nevertheless have been carried out.
pub(crate) fn classify_code(code: &str) -> Class {
    match code {
        // Slack's own trouble: "it's possible some aspect of the operation succeeded".
        "internal_error" | "fatal_error" | "service_unavailable" | "rollup_error" => {
            Class::Retryable {
                outcome_unknown: true,
            }
        }
        // Refused before anything was done.
        "ratelimited" | "rate_limited" | "request_timeout" | "team_added_to_org"
        | "org_login_required" => Class::Retryable {
            outcome_unknown: false,
        },
        _ => Class::Permanent,
    }
}

/// What a person can do about a final refusal, when there is something to say.
fn hint(code: &str) -> Option<&'static str> {
    Some(match code {
        "channel_not_found" => {
            "the channel does not exist or the app cannot see it: use the channel's ID, and invite the app to private channels"
        }
        "not_in_channel" => "invite the app to the channel",
        "is_archived" | "channel_is_archived" => "the channel is archived",
        "invalid_auth" | "not_authed" | "account_inactive" | "token_revoked" | "invalid_token" => {
            "check the Slack token (SLACK_BOT_TOKEN) or webhook URL (SLACK_WEBHOOK_URL)"
        }
        "missing_scope" => "add the scope named in `needed` to the app and reinstall it",
        "no_service" => "the webhook does not exist any more (SLACK_WEBHOOK_URL)",
        "action_prohibited" | "posting_to_general_channel_denied" | "restricted_action" => {
            "a workspace setting forbids the app to post there"
        }
        "msg_too_long"
        | "msg_blocks_too_long"
        | "invalid_blocks"
        | "no_text"
        | "invalid_payload"
        | "invalid_metadata_format"
        | "invalid_metadata_schema"
        | "metadata_too_large" => "Slack refused the message itself",
        "message_not_found" | "cant_update_message" | "edit_window_closed" => {
            "the message cannot be updated"
        }
        _ => return None,
    })
}

/// Why one request to Slack did not succeed. The variants keep the transport error as their
/// source; none of them holds a URL (the webhook's is a secret) or the token.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Failure {
    /// HTTP 429.
    #[error("{method}: Slack is rate limiting (HTTP 429{})", after_text(*retry_after))]
    RateLimited {
        method: &'static str,
        retry_after: Option<Duration>,
    },
    /// No (complete) answer within the timeout.
    #[error("{method}: no answer from Slack within {timeout:?}")]
    Timeout {
        method: &'static str,
        timeout: Duration,
        #[source]
        source: reqwest::Error,
    },
    /// No connection: the request never left.
    #[error("{method}: could not connect to Slack")]
    Connect {
        method: &'static str,
        #[source]
        source: reqwest::Error,
    },
    /// The exchange broke off after the connection was made.
    #[error("{method}: the exchange with Slack broke off")]
    Transport {
        method: &'static str,
        #[source]
        source: reqwest::Error,
    },
    /// An HTTP status that is not a success, without a code Slack documents.
    #[error("{method}: Slack answered HTTP {status}{}", body_text(body))]
    Status {
        method: &'static str,
        status: u16,
        body: String,
    },
    /// Slack answered with an error code (`ok: false`, or a webhook's text).
    #[error("{method}: Slack answered {code}")]
    Refused {
        method: &'static str,
        code: String,
        detail: String,
        retry_after: Option<Duration>,
    },
    /// A success status whose body is not the JSON the API documents.
    #[error("{method}: Slack's answer (HTTP {status}) is not the JSON the API documents")]
    Unreadable {
        method: &'static str,
        status: u16,
        #[source]
        source: Option<serde_json::Error>,
    },
}

fn after_text(retry_after: Option<Duration>) -> String {
    retry_after.map_or_else(String::new, |wait| {
        format!(", Retry-After {} s", wait.as_secs())
    })
}

fn body_text(body: &str) -> String {
    if body.is_empty() {
        String::new()
    } else {
        format!(": {body}")
    }
}

impl Failure {
    /// A failure of the transport (reqwest), without the URL it would otherwise name.
    pub(crate) fn transport(method: &'static str, timeout: Duration, err: reqwest::Error) -> Self {
        let source = err.without_url();
        if source.is_connect() {
            Failure::Connect { method, source }
        } else if source.is_timeout() {
            Failure::Timeout {
                method,
                timeout,
                source,
            }
        } else {
            Failure::Transport { method, source }
        }
    }

    /// Whether trying again may help, and whether Slack may have done what was asked.
    pub(crate) fn class(&self) -> Class {
        let unknown = Class::Retryable {
            outcome_unknown: true,
        };
        match self {
            Failure::RateLimited { .. } | Failure::Connect { .. } => Class::Retryable {
                outcome_unknown: false,
            },
            Failure::Timeout { .. } | Failure::Transport { .. } | Failure::Unreadable { .. } => {
                unknown
            }
            Failure::Status { status, .. } if *status >= 500 || *status == 408 => unknown,
            Failure::Status { .. } => Class::Permanent,
            Failure::Refused { code, .. } => classify_code(code),
        }
    }

    /// How long Slack asked us to wait, if it said.
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self {
            Failure::RateLimited { retry_after, .. } | Failure::Refused { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }

    /// This failure and its sources, one after the other.
    pub(crate) fn describe(&self) -> String {
        let mut text = self.to_string();
        let mut source = self.source();
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    }

    /// The error a caller sees when this failure ends the call: final refusals as
    /// [`DeliveryError::Permanent`] with Slack's code, everything else as
    /// [`DeliveryError::Retryable`] with `retry_after` (the last wait Slack asked for).
    pub(crate) fn to_delivery_error(
        &self,
        attempts: u32,
        retry_after: Option<Duration>,
    ) -> DeliveryError {
        match (self.class(), self) {
            (Class::Permanent, Failure::Refused { code, detail, .. }) => DeliveryError::Permanent {
                code: code.clone(),
                detail: detail.clone(),
            },
            (Class::Permanent, Failure::Status { status, .. }) => DeliveryError::Permanent {
                code: format!("http_{status}"),
                detail: self.describe(),
            },
            _ => DeliveryError::Retryable {
                reason: if attempts > 1 {
                    format!("{} (after {attempts} attempts)", self.describe())
                } else {
                    self.describe()
                },
                retry_after: retry_after.or(self.retry_after()),
            },
        }
    }
}

/// The `Retry-After` of an answer, in seconds as Slack sends it.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let raw = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    raw.parse::<u64>()
        .ok()
        .map(Duration::from_secs)
        .or_else(|| {
            raw.parse::<f64>()
                .ok()
                .filter(|secs| secs.is_finite() && *secs >= 0.0)
                .map(Duration::from_secs_f64)
        })
}

/// At most this much of an unexpected body is kept in an error.
const BODY_EXCERPT: usize = 200;

fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(BODY_EXCERPT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// An answer's status, its `Retry-After`, and its whole body.
async fn read_answer(
    method: &'static str,
    timeout: Duration,
    response: reqwest::Response,
) -> Result<(StatusCode, Option<Duration>, Vec<u8>), Failure> {
    let status = response.status();
    let retry_after = retry_after(response.headers());
    let body = response
        .bytes()
        .await
        .map_err(|err| Failure::transport(method, timeout, err))?;
    Ok((status, retry_after, body.to_vec()))
}

/// Reads a Web API answer: the JSON body when `ok` is true, the failure otherwise.
pub(crate) async fn read_api_answer(
    method: &'static str,
    timeout: Duration,
    response: reqwest::Response,
) -> Result<Value, Failure> {
    let (status, retry_after, body) = read_answer(method, timeout, response).await?;
    if status == StatusCode::TOO_MANY_REQUESTS {
        return Err(Failure::RateLimited {
            method,
            retry_after,
        });
    }
    let parsed = serde_json::from_slice::<Value>(&body);
    let ok = parsed
        .as_ref()
        .ok()
        .and_then(|json| json.get("ok"))
        .and_then(Value::as_bool);
    match (parsed, ok) {
        (Ok(json), Some(true)) => Ok(json),
        (Ok(json), Some(false)) => Err(Failure::Refused {
            method,
            code: json
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("unknown_error")
                .to_owned(),
            detail: detail_of(&json),
            retry_after,
        }),
        _ if !status.is_success() => Err(Failure::Status {
            method,
            status: status.as_u16(),
            body: excerpt(&body),
        }),
        (parsed, _) => Err(Failure::Unreadable {
            method,
            status: status.as_u16(),
            source: parsed.err(),
        }),
    }
}

/// What an `ok: false` answer says besides its code (the scopes `missing_scope` wants, the
/// problems `invalid_blocks` found), and what a person can do about it.
fn detail_of(json: &Value) -> String {
    let mut parts = Vec::new();
    for field in ["needed", "provided"] {
        if let Some(value) = json.get(field).and_then(Value::as_str) {
            parts.push(format!("{field}: {value}"));
        }
    }
    let messages = json
        .get("errors")
        .into_iter()
        .chain(json.pointer("/response_metadata/messages"))
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(Value::as_str);
    parts.extend(messages.map(str::to_owned));
    if let Some(hint) = json.get("error").and_then(Value::as_str).and_then(hint) {
        parts.push(hint.to_owned());
    }
    parts.join("; ")
}

/// Reads an incoming webhook's answer: plain text, `ok` with a success status, or a code.
pub(crate) async fn read_webhook_answer(
    method: &'static str,
    timeout: Duration,
    response: reqwest::Response,
) -> Result<(), Failure> {
    let (status, retry_after, body) = read_answer(method, timeout, response).await?;
    if status.is_success() {
        return Ok(());
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        return Err(Failure::RateLimited {
            method,
            retry_after,
        });
    }
    let text = excerpt(&body);
    let is_code = !text.is_empty()
        && text.len() <= 64
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if is_code && status.is_client_error() && status != StatusCode::REQUEST_TIMEOUT {
        let detail = hint(&text).map(str::to_owned).unwrap_or_default();
        return Err(Failure::Refused {
            method,
            code: text,
            detail: match detail.is_empty() {
                true => format!("HTTP {}", status.as_u16()),
                false => format!("HTTP {}; {detail}", status.as_u16()),
            },
            retry_after,
        });
    }
    Err(Failure::Status {
        method,
        status: status.as_u16(),
        body: text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passing_codes_are_retryable_and_refusals_are_not() {
        for code in [
            "ratelimited",
            "rate_limited",
            "request_timeout",
            "team_added_to_org",
        ] {
            assert_eq!(
                classify_code(code),
                Class::Retryable {
                    outcome_unknown: false
                },
                "{code}"
            );
        }
        for code in [
            "internal_error",
            "fatal_error",
            "service_unavailable",
            "rollup_error",
        ] {
            assert_eq!(
                classify_code(code),
                Class::Retryable {
                    outcome_unknown: true
                },
                "{code}"
            );
        }
        for code in [
            "channel_not_found",
            "not_in_channel",
            "invalid_auth",
            "not_authed",
            "account_inactive",
            "token_revoked",
            "missing_scope",
            "is_archived",
            "msg_too_long",
            "invalid_blocks",
            "no_text",
            "invalid_payload",
            "channel_is_archived",
            "action_prohibited",
            "posting_to_general_channel_denied",
            "no_service",
            "invalid_token",
            "a_code_slack_adds_next_year",
        ] {
            assert_eq!(classify_code(code), Class::Permanent, "{code}");
        }
    }

    #[test]
    fn a_refusal_keeps_its_code_and_says_what_to_do() {
        let json = serde_json::json!({
            "ok": false,
            "error": "missing_scope",
            "needed": "chat:write",
            "provided": "channels:history",
        });
        let failure = Failure::Refused {
            method: "chat.postMessage",
            code: "missing_scope".to_owned(),
            detail: detail_of(&json),
            retry_after: None,
        };
        let DeliveryError::Permanent { code, detail } = failure.to_delivery_error(1, None) else {
            panic!("missing_scope is final");
        };
        assert_eq!(code, "missing_scope");
        assert!(
            detail.starts_with("needed: chat:write; provided: channels:history; "),
            "{detail}"
        );
    }

    #[test]
    fn invalid_blocks_lists_what_slack_found() {
        let json = serde_json::json!({
            "ok": false,
            "error": "invalid_blocks",
            "errors": ["must be less than 3001 characters [json-pointer:/blocks/0/text/text]"],
            "response_metadata": {"messages": ["[ERROR] must be less than 3001 characters"]},
        });
        let detail = detail_of(&json);
        assert!(
            detail.contains("json-pointer:/blocks/0/text/text"),
            "{detail}"
        );
        assert!(detail.contains("[ERROR]"), "{detail}");
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(RETRY_AFTER, "30".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(30)));
        headers.insert(RETRY_AFTER, "1.5".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(1500)));
        headers.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn a_spent_rate_limit_is_retryable_with_its_wait() {
        let failure = Failure::RateLimited {
            method: "chat.postMessage",
            retry_after: Some(Duration::from_secs(30)),
        };
        assert_eq!(
            failure.to_delivery_error(4, None),
            DeliveryError::Retryable {
                reason: "chat.postMessage: Slack is rate limiting (HTTP 429, Retry-After 30 s) (after 4 attempts)"
                    .to_owned(),
                retry_after: Some(Duration::from_secs(30)),
            }
        );
    }

    #[test]
    fn server_errors_retry_and_other_statuses_are_final() {
        let status = |status| Failure::Status {
            method: "webhook",
            status,
            body: String::new(),
        };
        assert!(matches!(
            status(500).class(),
            Class::Retryable {
                outcome_unknown: true
            }
        ));
        assert!(matches!(status(503).class(), Class::Retryable { .. }));
        assert_eq!(status(404).class(), Class::Permanent);
        assert_eq!(
            status(404).to_delivery_error(1, None),
            DeliveryError::Permanent {
                code: "http_404".to_owned(),
                detail: "webhook: Slack answered HTTP 404".to_owned(),
            }
        );
    }
}
