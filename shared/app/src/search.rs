//! Searching the history, by the same rules from every door: the filters people give (the CLI's
//! arguments, the API's and the page's query, the words of `/cachewatch search`) read by
//! `history::filters`, an account named by its name in `[accounts]` as well as by its id, and
//! the page of events the query finds, newest first.

use std::collections::BTreeMap;

use cachewatch_core::MaintenanceEvent;
use cachewatch_core::config::Config;
use cachewatch_core::history::filters::{self, BadFilter, Reading};
use cachewatch_core::history::query::EventQuery;
use cachewatch_core::history::store::{EventStore, StoreError};
use chrono::{DateTime, Utc};

/// One search.
#[derive(Debug, Clone, Copy)]
pub struct SearchRequest<'a> {
    /// The filters as given, by name (`cluster`, `since`, `account`, ...).
    pub filters: &'a [(String, String)],
    /// The door's limits, and whether a name that is not a filter is refused.
    pub reading: Reading,
    /// Whether drills' events are found too.
    pub include_drills: bool,
    /// The time `since` and `until` are read at.
    pub now: DateTime<Utc>,
}

/// What a search found.
#[derive(Debug, Clone)]
pub struct Searched {
    /// The query the filters asked for.
    pub query: EventQuery,
    /// The filters given, by name (known names, values not empty), to show back.
    pub given: BTreeMap<String, String>,
    /// The events, newest first.
    pub events: Vec<MaintenanceEvent>,
}

/// Why a search found nothing to show.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// A filter does not read: nothing was searched.
    #[error(transparent)]
    Filter(#[from] BadFilter),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The query `request`'s filters ask for with the team's `config` (an account may be named as
/// `[accounts]` names it), and the filters given: for a door that reads the events itself, a
/// page at a time (an export).
pub fn query_of(
    config: &Config,
    request: &SearchRequest<'_>,
) -> Result<(EventQuery, BTreeMap<String, String>), BadFilter> {
    let pairs: Vec<(String, String)> = request
        .filters
        .iter()
        .map(|(name, value)| match name.as_str() {
            "account" => {
                let value = value.trim();
                let id = config.account_id_of(value).unwrap_or(value);
                (name.clone(), id.to_owned())
            }
            _ => (name.clone(), value.clone()),
        })
        .collect();
    let (mut query, mut given) = filters::read(&pairs, request.now, request.reading)?;
    query.include_drills = request.include_drills;
    // Shown back as it was given: the name, when it was named.
    let typed = request.filters.iter().find(|(name, _)| name == "account");
    if let (Some(shown), Some((_, typed))) = (given.get_mut("account"), typed) {
        typed.trim().clone_into(shown);
    }
    Ok((query, given))
}

/// The events `request`'s filters find in `store`, with the query and the filters given.
pub async fn search<S: EventStore>(
    store: &S,
    config: &Config,
    request: &SearchRequest<'_>,
) -> Result<Searched, SearchError> {
    let (query, given) = query_of(config, request)?;
    let events = store.search(&query).await?;
    Ok(Searched {
        query,
        given,
        events,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::tests::{SNS_EVENT, World, at};
    use crate::{Door, Input};

    fn pairs(given: &[(&str, &str)]) -> Vec<(String, String)> {
        given
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[tokio::test]
    async fn an_account_is_found_by_its_name_as_by_its_id_and_a_bad_filter_searches_nothing() {
        let mut world = World::new();
        world
            .config
            .accounts
            .insert("482917365510".to_owned(), "ledger-prod".to_owned());
        world
            .ingest(Door::Sns, Input::Document(SNS_EVENT), false)
            .await
            .unwrap();
        let reading = Reading {
            default_limit: 50,
            max_limit: 100,
            strict: true,
        };
        let ask = |account: &str| {
            let filters = pairs(&[("account", account)]);
            let world = &world;
            async move {
                let request = SearchRequest {
                    filters: &filters,
                    reading,
                    include_drills: false,
                    now: at("2026-06-10T16:00:00Z"),
                };
                search(&world.store, &world.config, &request).await
            }
        };

        let by_name = ask("ledger-prod").await.unwrap();
        let by_id = ask("482917365510").await.unwrap();
        let other = ask("111122223333").await.unwrap();
        let bad = ask("ledger-test").await.unwrap_err();

        assert!(!by_name.events.is_empty());
        let ids = |f: &Searched| f.events.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&by_name), ids(&by_id));
        assert_eq!(by_name.query.account.as_deref(), Some("482917365510"));
        assert_eq!(
            by_name.given["account"], "ledger-prod",
            "shown back as given"
        );
        assert!(other.events.is_empty());
        assert!(
            matches!(&bad, SearchError::Filter(f) if f.parameter == "account"),
            "{bad:?}"
        );
    }
}
