//! Muting clusters from Slack: a pattern and how long, checked against the bounds once (a
//! pattern of cluster-name characters, not nearly everything, from a minute to 90 days), compared
//! with the clusters the history has seen, and recorded. Longer or wider mutes belong in
//! `cachewatch.toml`, where they are reviewed.

use cachewatch_core::config::{PatternReach, pattern_reach, too_broad};
use cachewatch_core::history::query::EventQuery;
use cachewatch_core::history::response::{MuteRecord, ResponseStore};
use cachewatch_core::history::store::{EventStore, StoreError};
use chrono::{DateTime, Duration, Utc};

/// The longest mute set from Slack; longer ones belong in `cachewatch.toml`.
pub const MAX_MUTE: Duration = Duration::days(90);
/// The longest cluster pattern.
pub const MAX_PATTERN: usize = 128;
/// How far back a mute's pattern is compared with the clusters of the history.
pub const REACH_HISTORY: Duration = Duration::days(90);
/// The most events read for that.
const REACH_EVENTS: usize = 2000;

/// What is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    /// Which clusters the pattern reaches, muting nothing (a pattern given without a duration).
    Preview,
    /// To mute them for this long (`None`: a duration was given that does not read).
    Mute(Option<Duration>),
}

/// One mute asked for.
#[derive(Debug, Clone)]
pub struct MuteRequest<'a> {
    /// The cluster pattern (`staging-*`).
    pub pattern: &'a str,
    /// A preview, or a mute for how long.
    pub asked: Asked,
    /// Who asks (a Slack user id; empty when the request does not say).
    pub by: &'a str,
    /// When.
    pub now: DateTime<Utc>,
}

/// Why a mute is refused: nothing was recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MuteRefused {
    /// No pattern.
    #[error("no cluster pattern was given")]
    NoPattern,
    /// Not made of the characters of cluster names and wildcards, or too long.
    #[error("{0:?} is not a cluster pattern")]
    NotAPattern(String),
    /// Wildcards with fewer than three other characters.
    #[error("{0:?} reaches nearly every cluster")]
    TooBroad(String),
    /// No duration, or one that does not read.
    #[error("no duration was given")]
    NoDuration,
    /// Not from a minute to [`MAX_MUTE`].
    #[error("a mute lasts from a minute to 90 days")]
    OutOfBounds,
    /// The pattern reaches every cluster the history has seen lately (`known` of them).
    #[error("the pattern reaches every one of the {known} clusters seen lately")]
    Everything {
        /// How many clusters the history has seen.
        known: usize,
    },
}

/// What a mute did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Muted {
    /// A preview: what the pattern reaches; nothing recorded.
    Preview(PatternReach),
    /// Recorded, with what the pattern reaches.
    Recorded {
        /// The mute.
        record: MuteRecord,
        /// The clusters of the history it reaches.
        reach: PatternReach,
    },
}

/// Why `pattern` cannot be muted for `asked`, before the history is read.
pub fn refusal(pattern: &str, asked: Asked) -> Option<MuteRefused> {
    if pattern.is_empty() {
        return Some(MuteRefused::NoPattern);
    }
    if pattern.chars().count() > MAX_PATTERN
        || !pattern
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.*?:/".contains(c))
    {
        return Some(MuteRefused::NotAPattern(pattern.to_owned()));
    }
    if too_broad(pattern) {
        return Some(MuteRefused::TooBroad(pattern.to_owned()));
    }
    match asked {
        Asked::Preview => None,
        Asked::Mute(None) => Some(MuteRefused::NoDuration),
        Asked::Mute(Some(d)) if d < Duration::minutes(1) || d > MAX_MUTE => {
            Some(MuteRefused::OutOfBounds)
        }
        Asked::Mute(Some(_)) => None,
    }
}

/// Mutes the clusters `request.pattern` names for as long as asked, or previews what it
/// reaches; a pattern that reaches every cluster seen in the last 90 days is refused.
pub async fn mute<S: EventStore + ResponseStore>(
    store: &S,
    request: &MuteRequest<'_>,
) -> Result<Result<Muted, MuteRefused>, StoreError> {
    if let Some(refused) = refusal(request.pattern, request.asked) {
        return Ok(Err(refused));
    }
    let history = store
        .search(&EventQuery {
            since: Some(request.now - REACH_HISTORY),
            limit: REACH_EVENTS,
            include_drills: true,
            ..EventQuery::default()
        })
        .await?;
    let reach = pattern_reach(request.pattern, &history);
    if reach.is_everything() {
        return Ok(Err(MuteRefused::Everything { known: reach.known }));
    }
    let Asked::Mute(Some(duration)) = request.asked else {
        return Ok(Ok(Muted::Preview(reach)));
    };
    let record = MuteRecord {
        clusters: request.pattern.to_owned(),
        until: request.now + duration,
        by: match request.by.trim() {
            "" => "someone".to_owned(),
            by => by.to_owned(),
        },
        at: request.now,
    };
    store.record_mute(&record).await?;
    Ok(Ok(Muted::Recorded { record, reach }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::tests::{SNS_EVENT, World, at};
    use crate::{Door, Input};

    #[test]
    fn mutes_are_bounded_and_never_everything() {
        let day = Asked::Mute(Some(Duration::days(1)));
        assert_eq!(refusal("staging-*", day), None);
        assert_eq!(refusal("staging-*", Asked::Preview), None);
        assert_eq!(
            refusal("payments-0001-001", Asked::Mute(Some(MAX_MUTE))),
            None
        );
        for (pattern, asked) in [
            ("", day),
            ("*", day),
            ("**?", day),
            ("*-*", day),
            ("a*", day),
            ("staging <!channel>", day),
            ("staging-*", Asked::Mute(None)),
            ("staging-*", Asked::Mute(Some(Duration::days(91)))),
            ("staging-*", Asked::Mute(Some(Duration::zero()))),
            ("staging-*", Asked::Mute(Some(Duration::seconds(30)))),
        ] {
            assert!(refusal(pattern, asked).is_some(), "{pattern:?} {asked:?}");
        }
        assert!(refusal(&"a".repeat(MAX_PATTERN + 1), day).is_some());
    }

    #[tokio::test]
    async fn a_preview_records_nothing_and_a_mute_is_recorded_with_its_reach() {
        let world = World::new();
        world
            .ingest(Door::Sns, Input::Document(SNS_EVENT), false)
            .await
            .unwrap();
        let now = at("2026-06-10T16:00:00Z");
        let ask = |asked| MuteRequest {
            pattern: "ledger-*",
            asked,
            by: "U0ANA",
            now,
        };

        let preview = mute(&world.store, &ask(Asked::Preview)).await.unwrap();
        assert!(world.store.mutes(now).await.unwrap().is_empty());
        let muted = mute(&world.store, &ask(Asked::Mute(Some(Duration::days(3)))))
            .await
            .unwrap();

        let Ok(Muted::Preview(reach)) = preview else {
            panic!("{preview:?}")
        };
        assert_eq!(reach.matched, ["ledger"]);
        let Ok(Muted::Recorded { record, .. }) = muted else {
            panic!("{muted:?}")
        };
        assert_eq!(record.until, now + Duration::days(3));
        assert_eq!(world.store.mutes(now).await.unwrap(), [record]);
    }
}
