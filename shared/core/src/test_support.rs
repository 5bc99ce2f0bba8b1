//! What the crate's unit tests share: times written as RFC 3339, futures that never wait, and
//! clusters' tags written as pairs.

use chrono::{DateTime, Utc};

use crate::config::tags::Tags;

/// The time `s` (RFC 3339) names.
pub(crate) fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// The output of `future`, which finishes at its first poll: the memory store, the facts
/// sources and the sinks of the tests never wait. One that does fails the test.
pub(crate) fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match std::pin::pin!(future).as_mut().poll(&mut context) {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => panic!("a future of the tests waited"),
    }
}

/// The tags `pairs` (key, value) name.
pub(crate) fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}
