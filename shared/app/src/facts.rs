//! The facts of a cluster wherever a runbook or an alert is rendered: those read from
//! ElastiCache are kept in the history with the time they were read; when a lookup cannot be
//! made or fails, the last facts kept stand in, with their age and why they were not read now.
//!
//! [`known_facts`] is the rule; [`KeptFacts`] is the same rule as a [`FactsSource`], for the
//! alerts of an ingest.

use cachewatch_core::cluster::facts::ClusterFacts;
use cachewatch_core::cluster::kept::{FactsRecord, FactsStore, facts_key, worth_keeping};
use cachewatch_core::cluster::source::FactsSource;
use cachewatch_core::config::tags::Tags;
use cachewatch_core::model::event::EventId;
use cachewatch_core::model::timefmt::relative;
use cachewatch_core::operations::drill::DrillFacts;
use cachewatch_core::{Maintenance, MaintenanceEvent};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::sync::{Mutex, PoisonError};

/// Why the facts were not read now, when the source cannot say better.
pub const NOT_LOOKED_UP: &str = "not looked up now";

/// What is known of a cluster, and where it comes from.
#[derive(Debug, Clone, Serialize)]
pub struct Known {
    /// The cluster or group looked up.
    pub cluster: String,
    /// The facts.
    pub facts: ClusterFacts,
    /// When they were read from ElastiCache.
    pub read_at: Option<DateTime<Utc>>,
    /// Whether they were read now (rather than kept from an earlier lookup).
    pub fresh: bool,
    /// Whether the lookup reused an earlier answer of ElastiCache within its reuse window
    /// (then `read_at` is when that answer was given).
    pub reused: bool,
    /// Why they were not read now.
    pub why_not_now: Option<String>,
}

impl Known {
    /// How a runbook names where the facts come from.
    pub fn read_text(&self, now: DateTime<Utc>) -> Option<String> {
        let at = self.read_at?;
        Some(match (&self.why_not_now, self.fresh) {
            (Some(why), false) => format!(
                "read {} from ElastiCache, {} (kept from the last lookup; {why})",
                at.format("%a %d %b %Y %H:%M UTC"),
                relative(now, at)
            ),
            _ if self.reused => format!(
                "read {} from ElastiCache, {} (an answer reused by this lookup)",
                at.format("%a %d %b %Y %H:%M UTC"),
                relative(now, at)
            ),
            _ => format!(
                "read {} from ElastiCache (now)",
                at.format("%a %d %b %Y %H:%M UTC")
            ),
        })
    }

    /// The facts to render: when they were kept from an earlier lookup, `unavailable` says why
    /// they were not read now and when they were read, so that an alert says it too.
    pub fn facts_to_render(&self, now: DateTime<Utc>) -> ClusterFacts {
        let mut facts = self.facts.clone();
        if let (Some(_), false, Some(read)) = (&self.why_not_now, self.fresh, self.read_text(now)) {
            facts.unavailable = Some(format!("the facts shown were {read}"));
        }
        facts
    }
}

/// The facts `source` gives for `event`; those read from ElastiCache are kept in `store`, and
/// when none could be read the last ones kept stand in, with why they were not read now. A
/// drill's facts are never kept, and never stand in.
pub async fn known_facts<S: FactsStore, F: FactsSource>(
    store: &S,
    source: &F,
    event: &MaintenanceEvent,
    maintenance: Option<&Maintenance>,
    now: DateTime<Utc>,
    why_not: &str,
) -> Known {
    let key = facts_key(event);
    let mut looked = source.facts_for(event, maintenance).await;
    // An answer the source reused is kept with the time it was given, not as a new reading.
    let reused_from = looked.reused_from.take();
    let mut known = Known {
        cluster: event.source_id.to_string(),
        facts: looked,
        read_at: None,
        fresh: false,
        reused: false,
        why_not_now: None,
    };
    if worth_keeping(&known.facts) {
        if source.looks_up() && !event.drill {
            let read_at = reused_from.unwrap_or(now);
            let record = FactsRecord {
                cluster_id: key,
                read_at,
                facts: known.facts.clone(),
            };
            if let Err(e) = store.record_facts(&record).await {
                tracing::warn!(error = %e, "the facts read are not kept in the history");
            }
            known.read_at = Some(read_at);
            known.fresh = true;
            known.reused = reused_from.is_some();
        }
        return known;
    }
    known.why_not_now = Some(match (source.looks_up(), &known.facts.unavailable) {
        (true, Some(why)) => format!("looking it up again failed: {why}"),
        (true, None) => "looking it up again found nothing".to_owned(),
        (false, _) => why_not.to_owned(),
    });
    if event.drill {
        return known;
    }
    match store.latest_facts(&key).await {
        Ok(Some(kept)) => {
            known.facts = kept.facts;
            known.read_at = Some(kept.read_at);
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "the facts kept cannot be read"),
    }
    known
}

/// A [`FactsSource`] that keeps what `source` reads in `store` and falls back on the facts
/// kept when a lookup fails, saying when they were read (see [`Known::facts_to_render`]). It
/// answers for one moment (one run of alerts): a cluster's facts are looked up, kept or read
/// back once, however many messages show them.
#[derive(Debug)]
pub struct KeptFacts<'a, S, F> {
    store: &'a S,
    source: &'a F,
    now: DateTime<Utc>,
    answered: Mutex<Vec<(String, Option<EventId>, ClusterFacts)>>,
}

impl<'a, S, F> KeptFacts<'a, S, F> {
    /// Facts read from `source` and kept in `store` at `now`.
    pub fn new(store: &'a S, source: &'a F, now: DateTime<Utc>) -> Self {
        Self {
            store,
            source,
            now,
            answered: Mutex::new(Vec::new()),
        }
    }

    fn answered(&self) -> std::sync::MutexGuard<'_, Vec<(String, Option<EventId>, ClusterFacts)>> {
        // Only ever pushed to: a panic cannot leave it inconsistent.
        self.answered.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<S: FactsStore, F: FactsSource> FactsSource for KeptFacts<'_, S, F> {
    async fn facts_for(
        &self,
        event: &MaintenanceEvent,
        maintenance: Option<&Maintenance>,
    ) -> ClusterFacts {
        let cluster = facts_key(event);
        let of = maintenance.map(|m| m.id.clone());
        let earlier = self
            .answered()
            .iter()
            .find(|(c, m, _)| *c == cluster && *m == of)
            .map(|(_, _, facts)| facts.clone());
        if let Some(facts) = earlier {
            return facts;
        }
        let facts = known_facts(
            self.store,
            self.source,
            event,
            maintenance,
            self.now,
            NOT_LOOKED_UP,
        )
        .await
        .facts_to_render(self.now);
        self.answered().push((cluster, of, facts.clone()));
        facts
    }

    /// The cluster's tags as [`facts_for`](Self::facts_for) knows them; when it described the
    /// cluster but could not read its tags (ElastiCache answers `ListTagsForResource` with an
    /// error while a cluster is not available), the tags of the facts kept before stand in.
    async fn tags_for(
        &self,
        event: &MaintenanceEvent,
        maintenance: Option<&Maintenance>,
    ) -> Option<Tags> {
        let cluster = facts_key(event);
        let of = maintenance.map(|m| m.id.clone());
        let asked = self
            .answered()
            .iter()
            .any(|(c, m, _)| *c == cluster && *m == of);
        // Read before this lookup keeps its own reading over them.
        let before = match asked || event.drill {
            true => None,
            false => self.store.latest_facts(&cluster).await.ok().flatten(),
        };
        let facts = self.facts_for(event, maintenance).await;
        if facts.tags.is_some() {
            return facts.tags;
        }
        let kept = before.and_then(|kept| kept.facts.tags)?;
        // Later questions of this run get the same answer.
        if let Some(answer) = self
            .answered()
            .iter_mut()
            .find(|(c, m, _)| *c == cluster && *m == of)
        {
            answer.2.tags = Some(kept.clone());
        }
        Some(kept)
    }

    fn looks_up(&self) -> bool {
        self.source.looks_up()
    }
}

/// The facts an alert or a thread's parent is drawn with: ElastiCache's, kept with the time they
/// were read (or the last kept, when a lookup fails; see [`KeptFacts`]), with those a drill's
/// scenario takes for granted.
#[derive(Debug)]
pub struct AlertFacts<'a, S, F> {
    kept: KeptFacts<'a, S, F>,
}

impl<'a, S, F> AlertFacts<'a, S, F> {
    /// The facts `source` reads at `now`, kept in `store`.
    pub fn new(store: &'a S, source: &'a F, now: DateTime<Utc>) -> Self {
        Self {
            kept: KeptFacts::new(store, source, now),
        }
    }
}

impl<S: FactsStore, F: FactsSource> FactsSource for AlertFacts<'_, S, F> {
    async fn facts_for(
        &self,
        event: &MaintenanceEvent,
        maintenance: Option<&Maintenance>,
    ) -> ClusterFacts {
        DrillFacts { source: &self.kept }
            .facts_for(event, maintenance)
            .await
    }

    async fn tags_for(
        &self,
        event: &MaintenanceEvent,
        maintenance: Option<&Maintenance>,
    ) -> Option<Tags> {
        self.kept.tags_for(event, maintenance).await
    }
}

#[cfg(test)]
mod tests {
    use cachewatch_adapters::sqlite::SqliteStore;
    use cachewatch_core::cluster::facts::Engine;
    use cachewatch_core::intake::parse::{ParseContext, parse_document};

    use super::*;
    use crate::ingest::tests::at;

    /// A source that describes every cluster as `facts`, or fails to when they are `None`.
    struct Described(Option<ClusterFacts>);

    impl FactsSource for Described {
        async fn facts_for(&self, _: &MaintenanceEvent, _: Option<&Maintenance>) -> ClusterFacts {
            self.0.clone().unwrap_or_else(|| ClusterFacts {
                unavailable: Some("AccessDenied".to_owned()),
                ..ClusterFacts::default()
            })
        }

        fn looks_up(&self) -> bool {
            true
        }
    }

    /// A replacement notice of `orders-0001-001` from `account` (none: pasted without one).
    fn notice(account: Option<&str>) -> MaintenanceEvent {
        let record = r#"{"Events": [{"SourceIdentifier": "orders-0001-001", "SourceType": "cache-cluster", "Date": "2026-06-10T09:00:00Z", "Message": "The node with Cache Cluster ID: orders-0001-001, Node ID: 0001 is scheduled for replacement during the maintenance window from Start Time: Jun 20 02:00 UTC, End Time: Jun 20 03:00 UTC"}]}"#;
        let ctx = ParseContext {
            received_at: at("2026-06-10T09:01:00Z"),
            drill: false,
        };
        let mut event = parse_document(record, &ctx).unwrap().remove(0);
        event.account_id = account.map(str::to_owned);
        event.region = account.map(|_| "eu-west-1".to_owned());
        event
    }

    #[tokio::test]
    async fn tags_last_kept_stand_in_when_the_cluster_is_described_but_its_tags_are_not_read() {
        // Arrange: orders-0001-001 described with its tags and kept.
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("history.db")).unwrap();
        let now = at("2026-06-10T10:00:00Z");
        let team = Tags::from([("team".to_owned(), "payments".to_owned())]);
        let tagged = ClusterFacts {
            engine: Some(Engine::Redis),
            tags: Some(team.clone()),
            ..ClusterFacts::default()
        };
        let event = notice(Some("111111111111"));
        let described = Described(Some(tagged.clone()));
        let first = KeptFacts::new(&store, &described, now);
        assert_eq!(first.tags_for(&event, None).await, Some(team.clone()));

        // Act: described again an hour later, its tags not read this time.
        let untagged = Described(Some(ClusterFacts {
            tags: None,
            ..tagged
        }));
        let later = KeptFacts::new(&store, &untagged, now + chrono::Duration::hours(1));
        let standing_in = later.tags_for(&event, None).await;
        let again = later.facts_for(&event, None).await;
        let elsewhere = KeptFacts::new(&store, &untagged, now)
            .tags_for(&notice(Some("222222222222")), None)
            .await;

        // Assert
        assert_eq!(standing_in, Some(team.clone()));
        assert_eq!(again.tags, Some(team), "the run answers alike");
        assert_eq!(elsewhere, None, "another account's cluster: not known");
    }

    #[tokio::test]
    async fn the_facts_kept_for_one_accounts_cluster_never_stand_in_for_anothers_of_the_same_name()
    {
        // Arrange: production's orders-0001-001 described (Multi-AZ) and kept.
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("history.db")).unwrap();
        let now = at("2026-06-10T10:00:00Z");
        let production = ClusterFacts {
            engine: Some(Engine::Redis),
            multi_az: Some(true),
            ..ClusterFacts::default()
        };
        let (prod, staging) = (notice(Some("111111111111")), notice(Some("222222222222")));
        let read = Described(Some(production.clone()));
        known_facts(&store, &read, &prod, None, now, NOT_LOOKED_UP).await;

        // Act: the lookups fail now.
        let failing = Described(None);
        let later = now + chrono::Duration::hours(1);
        let for_prod = known_facts(&store, &failing, &prod, None, later, NOT_LOOKED_UP).await;
        let for_staging = known_facts(&store, &failing, &staging, None, later, NOT_LOOKED_UP).await;
        let unplaced =
            known_facts(&store, &failing, &notice(None), None, later, NOT_LOOKED_UP).await;

        // Assert: production gets its own facts back, with when they were read; staging and a
        // notice that names no account get none of them.
        assert_eq!(for_prod.facts.multi_az, Some(true));
        assert_eq!(for_prod.read_at, Some(now));
        assert_eq!(for_staging.facts.multi_az, None, "{for_staging:?}");
        assert_eq!(for_staging.read_at, None);
        assert_eq!(unplaced.facts.multi_az, None, "{unplaced:?}");
        assert_eq!(for_staging.cluster, "orders-0001-001", "shown by its name");
    }
}
