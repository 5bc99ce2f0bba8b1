//! What can go wrong talking to ElastiCache, sorted by what the caller should do about it: try
//! again later ([`ErrorKind::Retryable`]: throttling, a 5xx, a timeout, a dropped connection),
//! or not ([`ErrorKind::NotFound`], [`ErrorKind::Refused`], [`ErrorKind::Failed`]).
//!
//! The SDK's error is kept as the source, as the service-wide [`aws_sdk_elasticache::Error`]
//! (whose unmodelled variant keeps the transport error in turn).

use std::fmt;

use aws_sdk_elasticache::config::http::HttpResponse;
use aws_sdk_elasticache::error::{ProvideErrorMetadata, SdkError};

/// Error codes AWS uses for throttling (the AWS SDKs' list, as far as ElastiCache can send them).
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "BandwidthLimitExceeded",
];

/// Error codes of AWS-side failures that may pass.
const TRANSIENT_CODES: &[&str] = &[
    "InternalFailure",
    "InternalError",
    "InternalServerError",
    "ServiceUnavailable",
    "RequestTimeout",
    "RequestTimeoutException",
];

/// What kind of failure it is, for deciding what to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Throttled, an AWS-side error (5xx), a timeout or a connection failure: trying again
    /// later may work.
    Retryable,
    /// The cache cluster, replication group, node group or snapshot does not exist.
    NotFound,
    /// ElastiCache answered no: access denied, an invalid parameter, a state that does not allow
    /// it, or a quota (TestFailover's 15 node groups a day is `APICallRateForCustomerExceeded`,
    /// which waiting minutes does not lift).
    Refused,
    /// The request could not be built, or the answer could not be read.
    Failed,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::Retryable => "retryable",
            ErrorKind::NotFound => "not found",
            ErrorKind::Refused => "refused",
            ErrorKind::Failed => "failed",
        })
    }
}

/// A failed ElastiCache call.
#[derive(Debug, thiserror::Error)]
pub enum ElastiCacheError {
    /// An operation failed.
    #[error("ElastiCache {operation} failed ({kind}){}", crate::aws::describe(.code, .message))]
    Call {
        /// The operation (`DescribeEvents`).
        operation: &'static str,
        /// What kind of failure.
        kind: ErrorKind,
        /// The AWS error code, when there is one (`Throttling`, `CacheClusterNotFound`).
        code: Option<String>,
        /// The AWS error message, when there is one.
        message: Option<String>,
        /// The SDK's error.
        #[source]
        source: Box<aws_sdk_elasticache::Error>,
    },
    /// A paged operation answered a marker it had answered before: paging would never end.
    #[error("ElastiCache {operation} answered the marker {marker:?} twice; stopped paging")]
    MarkerLoop {
        /// The operation.
        operation: &'static str,
        /// The repeated marker.
        marker: String,
    },
}

impl ElastiCacheError {
    /// The error of `operation`, classified, with the SDK's error kept as its source.
    pub(crate) fn call<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        aws_sdk_elasticache::Error: From<SdkError<E, HttpResponse>>,
    {
        let kind = classify(&err);
        let code = err.code().map(str::to_owned);
        let message = err.message().map(str::to_owned);
        ElastiCacheError::Call {
            operation,
            kind,
            code,
            message,
            source: Box::new(aws_sdk_elasticache::Error::from(err)),
        }
    }

    /// What kind of failure it is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ElastiCacheError::Call { kind, .. } => *kind,
            ElastiCacheError::MarkerLoop { .. } => ErrorKind::Failed,
        }
    }

    /// Whether trying again later may work.
    pub fn is_retryable(&self) -> bool {
        self.kind() == ErrorKind::Retryable
    }

    /// The AWS error code, when there is one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ElastiCacheError::Call { code, .. } => code.as_deref(),
            ElastiCacheError::MarkerLoop { .. } => None,
        }
    }

    /// The operation that failed.
    pub fn operation(&self) -> &'static str {
        match self {
            ElastiCacheError::Call { operation, .. }
            | ElastiCacheError::MarkerLoop { operation, .. } => operation,
        }
    }
}

fn classify<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> ErrorKind {
    match err {
        SdkError::TimeoutError(_) => ErrorKind::Retryable,
        SdkError::DispatchFailure(failure) if failure.is_user() => ErrorKind::Failed,
        SdkError::DispatchFailure(_) => ErrorKind::Retryable,
        SdkError::ResponseError(response) if response.raw().status().is_server_error() => {
            ErrorKind::Retryable
        }
        SdkError::ResponseError(_) => ErrorKind::Failed,
        SdkError::ServiceError(service) => {
            let status = service.raw().status();
            let code = service.err().code().unwrap_or_default();
            if THROTTLING_CODES.contains(&code)
                || TRANSIENT_CODES.contains(&code)
                || status.is_server_error()
            {
                ErrorKind::Retryable
            } else if status.as_u16() == 404
                || code.ends_with("NotFound")
                || code.ends_with("NotFoundFault")
            {
                ErrorKind::NotFound
            } else {
                ErrorKind::Refused
            }
        }
        SdkError::ConstructionFailure(_) => ErrorKind::Failed,
        _ => ErrorKind::Retryable,
    }
}
