//! DynamoDB's errors as the domain's [`StoreError`]: what may pass (throttling, 5xx answers,
//! timeouts, a connection that failed) is [`StoreError::Unavailable`], everything else (a
//! validation error, access denied, a missing table) is [`StoreError::Failed`]. The SDK's error
//! is kept whole as the source, so its code, message and request id reach the logs.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use cachewatch_core::history::store::StoreError;

/// Error codes of answers that say "not now" rather than "no".
const PASSING_CODES: &[&str] = &[
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionConflictException",
];

/// Reasons of a canceled transaction that say "not now".
const PASSING_CANCELLATIONS: &[&str] = &[
    "TransactionConflict",
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
    "RequestLimitExceeded",
];

/// Maps an SDK error, keeping it as the source.
pub(crate) fn sdk_error<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let passing = is_passing(&err);
    classified(operation, err, passing)
}

/// Maps the error of a `TransactWriteItems`: a transaction canceled because another one touched
/// the same items, or by throttling, may succeed later.
pub(crate) fn transaction_error(
    operation: &'static str,
    err: SdkError<TransactWriteItemsError, HttpResponse>,
) -> StoreError {
    let canceled_in_passing = match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(canceled)) => canceled
            .cancellation_reasons()
            .iter()
            .filter_map(|reason| reason.code())
            .any(|code| PASSING_CANCELLATIONS.contains(&code)),
        _ => false,
    };
    let passing = canceled_in_passing || is_passing(&err);
    classified(operation, err, passing)
}

fn classified<E>(
    operation: &'static str,
    err: SdkError<E, HttpResponse>,
    passing: bool,
) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if passing {
        StoreError::Unavailable {
            operation,
            source: Box::new(err),
        }
    } else {
        StoreError::Failed {
            operation,
            source: Box::new(err),
        }
    }
}

/// Whether the same request may succeed later.
fn is_passing<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    let server_side = |raw: &HttpResponse| {
        let status = raw.status().as_u16();
        status >= 500 || status == 429
    };
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => true,
        SdkError::ResponseError(e) => server_side(e.raw()),
        SdkError::ServiceError(e) => {
            server_side(e.raw()) || err.code().is_some_and(|code| PASSING_CODES.contains(&code))
        }
        _ => false,
    }
}

/// Whether an error is DynamoDB's "the condition was not met" for a conditional write.
pub(crate) fn is_condition_failed<E: ProvideErrorMetadata>(
    err: &SdkError<E, HttpResponse>,
) -> bool {
    matches!(err, SdkError::ServiceError(_))
        && err.code() == Some("ConditionalCheckFailedException")
}

/// Whether a transaction was canceled only because a condition was not met (and nothing else
/// stood in its way): an item it was not to overwrite is there.
pub(crate) fn is_transaction_condition_failed(
    err: &SdkError<TransactWriteItemsError, HttpResponse>,
) -> bool {
    match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(canceled)) => {
            let codes: Vec<&str> = canceled
                .cancellation_reasons()
                .iter()
                .filter_map(|reason| reason.code())
                .filter(|code| *code != "None")
                .collect();
            !codes.is_empty() && codes.iter().all(|code| *code == "ConditionalCheckFailed")
        }
        _ => false,
    }
}

/// Keys or writes DynamoDB left unprocessed through every retry of a batch (it does so when the
/// table is throttled).
#[derive(Debug, thiserror::Error)]
#[error("{count} item(s) were still unprocessed after {attempts} attempts")]
pub(crate) struct Unprocessed {
    /// How many.
    pub(crate) count: usize,
    /// How many times the batch was sent.
    pub(crate) attempts: u32,
}

/// A value that cannot be written as an attribute.
pub(crate) fn encode_error(operation: &'static str, err: serde_json::Error) -> StoreError {
    StoreError::Failed {
        operation,
        source: Box::new(err),
    }
}

/// An item that does not read back.
pub(crate) fn corrupt(what: &'static str, detail: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        what,
        detail: detail.into(),
    }
}
