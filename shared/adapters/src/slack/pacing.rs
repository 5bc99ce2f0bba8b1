//! Slack's posting pace: at most one message per interval to each channel, however many
//! concurrent callers post through one client (its clones share the pace). A `Retry-After`
//! Slack gave holds the channel for everyone.
//!
//! Each post reserves the channel's next free slot under a short lock and then sleeps until it,
//! so concurrent posts to one channel go out one interval apart in the order they asked, and a
//! busy channel never holds back another.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// Above this many channels, slots already in the past are forgotten.
const FORGET_ABOVE: usize = 1024;

#[derive(Debug)]
pub(crate) struct Pacer {
    interval: Duration,
    next_free: Mutex<HashMap<String, Instant>>,
}

impl Pacer {
    pub(crate) fn new(interval: Duration) -> Self {
        Self {
            interval,
            next_free: Mutex::new(HashMap::new()),
        }
    }

    /// Waits until `channel` may be posted to, and takes that turn. With a zero interval only
    /// holds ([`Pacer::hold`]) make it wait.
    pub(crate) async fn wait_turn(&self, channel: &str) {
        let turn = {
            let mut next_free = self
                .next_free
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let now = Instant::now();
            if next_free.len() > FORGET_ABOVE {
                next_free.retain(|_, free| *free > now);
            }
            let turn = next_free.get(channel).map_or(now, |free| (*free).max(now));
            next_free.insert(channel.to_owned(), turn + self.interval);
            turn
        };
        if turn > Instant::now() {
            tokio::time::sleep_until(turn).await;
        }
    }

    /// Keeps everyone off `channel` for `wait` (Slack said so with a `Retry-After`).
    pub(crate) fn hold(&self, channel: &str, wait: Duration) {
        let until = Instant::now() + wait;
        let mut next_free = self
            .next_free
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let free = next_free.entry(channel.to_owned()).or_insert(until);
        *free = (*free).max(until);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn turns_on_one_channel_are_an_interval_apart_and_channels_are_independent() {
        let pacer = Pacer::new(Duration::from_millis(80));
        let start = Instant::now();
        pacer.wait_turn("C1").await;
        pacer.wait_turn("C2").await;
        assert!(
            start.elapsed() < Duration::from_millis(60),
            "C2 waited for C1"
        );
        pacer.wait_turn("C1").await;
        assert!(start.elapsed() >= Duration::from_millis(80));
    }

    #[tokio::test]
    async fn a_hold_delays_the_next_turn_even_without_pacing() {
        let pacer = Pacer::new(Duration::ZERO);
        let start = Instant::now();
        pacer.hold("C1", Duration::from_millis(100));
        pacer.wait_turn("C1").await;
        assert!(start.elapsed() >= Duration::from_millis(100));
    }
}
