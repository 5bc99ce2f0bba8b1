//! One call's allowance of retries: how long to wait after a passing failure, and when to stop
//! and hand the failure back to the caller.

use std::time::Duration;

use cachewatch_core::alerting::delivery::DeliveryError;

use super::answer::{Class, Failure};
use super::settings::RetryPolicy;

/// The failures one call (a post, an update, a search through history) may still absorb.
#[derive(Debug)]
pub(crate) struct RetryBudget {
    policy: RetryPolicy,
    failures: u32,
    last_retry_after: Option<Duration>,
}

impl RetryBudget {
    pub(crate) fn new(policy: RetryPolicy) -> Self {
        Self {
            policy,
            failures: 0,
            last_retry_after: None,
        }
    }

    /// Requests tried so far that failed.
    pub(crate) fn failures(&self) -> u32 {
        self.failures
    }

    /// After a failed request: the wait before trying again, or the error that ends the call
    /// (a final refusal; the attempts spent; a `Retry-After` longer than the policy's longest
    /// wait, returned at once rather than slept through).
    pub(crate) fn wait_after(&mut self, failure: &Failure) -> Result<Duration, DeliveryError> {
        self.failures += 1;
        if let Some(wait) = failure.retry_after() {
            self.last_retry_after = Some(wait);
        }
        let end = || failure.to_delivery_error(self.failures, self.last_retry_after);
        if failure.class() == Class::Permanent || self.failures >= self.policy.attempts.max(1) {
            return Err(end());
        }
        match failure.retry_after() {
            Some(wait) if wait > self.policy.max_delay => Err(end()),
            Some(wait) => Ok(wait),
            None => Ok(self.policy.backoff(self.failures)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            attempts: 3,
            first_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
        }
    }

    fn server_error() -> Failure {
        Failure::Status {
            method: "chat.postMessage",
            status: 500,
            body: String::new(),
        }
    }

    fn rate_limited(secs: u64) -> Failure {
        Failure::RateLimited {
            method: "chat.postMessage",
            retry_after: Some(Duration::from_secs(secs)),
        }
    }

    #[test]
    fn waits_grow_until_the_attempts_are_spent() {
        let mut budget = RetryBudget::new(policy());
        assert_eq!(
            budget.wait_after(&server_error()),
            Ok(Duration::from_millis(100))
        );
        assert_eq!(
            budget.wait_after(&server_error()),
            Ok(Duration::from_millis(200))
        );
        let end = budget.wait_after(&server_error()).unwrap_err();
        assert!(end.is_retryable());
        assert_eq!(budget.failures(), 3);
    }

    #[test]
    fn retry_after_is_waited_and_kept_for_the_end() {
        let mut budget = RetryBudget::new(policy());
        assert_eq!(
            budget.wait_after(&rate_limited(2)),
            Ok(Duration::from_secs(2))
        );
        assert_eq!(
            budget.wait_after(&server_error()),
            Ok(Duration::from_millis(200))
        );
        let DeliveryError::Retryable { retry_after, .. } =
            budget.wait_after(&server_error()).unwrap_err()
        else {
            panic!("spent attempts are retryable");
        };
        assert_eq!(retry_after, Some(Duration::from_secs(2)));
    }

    #[test]
    fn a_retry_after_beyond_the_longest_wait_ends_the_call_at_once() {
        let mut budget = RetryBudget::new(policy());
        let DeliveryError::Retryable { retry_after, .. } =
            budget.wait_after(&rate_limited(30)).unwrap_err()
        else {
            panic!("a long Retry-After is retryable");
        };
        assert_eq!(retry_after, Some(Duration::from_secs(30)));
    }

    #[test]
    fn a_refusal_ends_the_call_with_its_code() {
        let mut budget = RetryBudget::new(policy());
        let refusal = Failure::Refused {
            method: "chat.postMessage",
            code: "channel_not_found".to_owned(),
            detail: String::new(),
            retry_after: None,
        };
        assert_eq!(
            budget.wait_after(&refusal),
            Err(DeliveryError::Permanent {
                code: "channel_not_found".to_owned(),
                detail: String::new(),
            })
        );
    }
}
