//! The search filters people give, named like the CLI's (`cluster`, `node`, `kind`, `category`,
//! `since`, `until`, `text`, `account`, `region`, `limit`), read into one [`EventQuery`] for the API, the history page
//! and `/cachewatch search` alike. A filter that does not read is refused by its name.

use std::collections::BTreeMap;

use super::query::{EventQuery, parse_when};
use crate::model::kind::{Category, EventKind};
use chrono::{DateTime, Utc};

/// The filters, in the order they are shown.
pub const NAMES: [&str; 10] = [
    "cluster", "node", "kind", "category", "since", "until", "text", "account", "region", "limit",
];

/// The longest value a filter takes.
pub const MAX_VALUE: usize = 256;

/// A filter that does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{parameter}: {message}")]
pub struct BadFilter {
    /// The filter's name, as given.
    pub parameter: String,
    /// What is wrong with it.
    pub message: String,
}

impl BadFilter {
    fn new(parameter: &str, message: impl Into<String>) -> Self {
        Self {
            parameter: parameter.to_owned(),
            message: message.into(),
        }
    }
}

/// How a set of filters is read.
#[derive(Debug, Clone, Copy)]
pub struct Reading {
    /// The limit when none is given.
    pub default_limit: usize,
    /// The largest limit accepted.
    pub max_limit: usize,
    /// Whether a name that is not a filter is refused (the API) or ignored (a page's form may
    /// send other fields).
    pub strict: bool,
}

/// The query `pairs` (name and value, as given) ask for, at `now`, and the filters that were
/// given (names known, values not empty), to show back.
pub fn read(
    pairs: &[(String, String)],
    now: DateTime<Utc>,
    reading: Reading,
) -> Result<(EventQuery, BTreeMap<String, String>), BadFilter> {
    let given = given(pairs, reading.strict)?;
    let get = |name: &str| given.get(name).map(String::as_str);
    let when = |name: &str| {
        get(name)
            .map(|raw| parse_when(raw, now).map_err(|e| BadFilter::new(name, e.to_string())))
            .transpose()
    };
    let kind = get("kind")
        .map(|raw| {
            EventKind::from_event_name(raw).ok_or_else(|| {
                BadFilter::new(
                    "kind",
                    format!("{raw:?} is not an event kind (node_replacement_scheduled, failover_complete, ...)"),
                )
            })
        })
        .transpose()?;
    let category = get("category")
        .map(|raw| {
            Category::parse(raw).ok_or_else(|| {
                BadFilter::new(
                    "category",
                    format!("{raw:?} is not a category: node_replacement, failover or other"),
                )
            })
        })
        .transpose()?;
    let limit = limit_of(get("limit"), reading)?;
    let account = checked(
        get("account"),
        "account",
        is_account,
        "an AWS account id (12 digits, like 111122223333)",
    )?;
    let region = checked(
        get("region"),
        "region",
        is_region,
        "an AWS Region code (like eu-west-1)",
    )?;
    let since = when("since")?;
    let until = when("until")?;
    if let (Some(s), Some(u)) = (since, until)
        && u <= s
    {
        return Err(BadFilter::new("until", "comes before since"));
    }
    let query = EventQuery {
        cluster: get("cluster").map(str::to_owned),
        node: get("node").map(str::to_owned),
        kind,
        category,
        since,
        until,
        text: get("text").map(str::to_owned),
        account,
        region,
        limit,
        ..EventQuery::default()
    };
    Ok((query, given))
}

/// The filters given, by name: each known name once, with a value that is not empty and not too
/// long. An unknown name is refused when `strict`, else ignored.
fn given(pairs: &[(String, String)], strict: bool) -> Result<BTreeMap<String, String>, BadFilter> {
    let mut given: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in pairs {
        if !NAMES.contains(&name.as_str()) {
            if strict {
                return Err(BadFilter::new(
                    name,
                    format!("not a filter: use {}", NAMES.join(", ")),
                ));
            }
            continue;
        }
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        if value.chars().count() > MAX_VALUE {
            return Err(BadFilter::new(
                name,
                format!("longer than {MAX_VALUE} characters"),
            ));
        }
        if given.insert(name.clone(), value.to_owned()).is_some() {
            return Err(BadFilter::new(name, "given more than once"));
        }
    }
    Ok(given)
}

/// The limit given, or the default; at most `reading.max_limit`.
fn limit_of(raw: Option<&str>, reading: Reading) -> Result<usize, BadFilter> {
    Ok(match raw {
        None => reading.default_limit,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=reading.max_limit).contains(n))
            .ok_or_else(|| {
                BadFilter::new(
                    "limit",
                    format!(
                        "{raw:?} is not a whole number from 1 to {}",
                        reading.max_limit
                    ),
                )
            })?,
    })
}

/// `raw` when `valid` says it is one, else why not: it is not `what`.
fn checked(
    raw: Option<&str>,
    name: &str,
    valid: fn(&str) -> bool,
    what: &str,
) -> Result<Option<String>, BadFilter> {
    raw.map(|raw| {
        valid(raw)
            .then(|| raw.to_owned())
            .ok_or_else(|| BadFilter::new(name, format!("{raw:?} is not {what}")))
    })
    .transpose()
}

/// Whether `raw` is an AWS account id: 12 digits.
pub fn is_account(raw: &str) -> bool {
    raw.len() == 12 && raw.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `raw` reads as an AWS Region code: lowercase words joined by hyphens, the last a
/// number (`eu-west-1`, `us-gov-west-1`, `ap-southeast-5`).
pub fn is_region(raw: &str) -> bool {
    let parts: Vec<&str> = raw.split('-').collect();
    let Some((last, words)) = parts.split_last() else {
        return false;
    };
    raw.len() <= 32
        && words.len() >= 2
        && words
            .iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
        && !last.is_empty()
        && last.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    const STRICT: Reading = Reading {
        default_limit: 50,
        max_limit: 1000,
        strict: true,
    };

    #[test]
    fn every_filter_reads_into_the_query() {
        let now = at("2026-11-22T12:00:00Z");
        let (query, given) = read(
            &pairs(&[
                ("cluster", "payments"),
                ("node", "0001"),
                ("kind", "ElastiCache:NodeReplacementScheduled"),
                ("category", "node_replacement"),
                ("since", "7d"),
                ("until", "2026-11-22"),
                ("text", "scheduled replacement"),
                ("account", "111122223333"),
                ("region", "eu-west-1"),
                ("limit", "20"),
            ]),
            now,
            STRICT,
        )
        .unwrap();
        assert_eq!(query.cluster.as_deref(), Some("payments"));
        assert_eq!(query.node.as_deref(), Some("0001"));
        assert_eq!(query.kind.unwrap().as_str(), "node_replacement_scheduled");
        assert_eq!(query.category, Some(Category::NodeReplacement));
        assert_eq!(query.since, Some(at("2026-11-15T12:00:00Z")));
        assert_eq!(query.until, Some(at("2026-11-22T00:00:00Z")));
        assert_eq!(query.account.as_deref(), Some("111122223333"));
        assert_eq!(query.region.as_deref(), Some("eu-west-1"));
        assert_eq!(query.limit, 20);
        assert_eq!(given.len(), 10);
    }

    #[test]
    fn a_filter_that_does_not_read_is_named() {
        let now = at("2026-11-22T12:00:00Z");
        let cases = [
            (vec![("since", "yesterday")], "since"),
            (vec![("until", "soon")], "until"),
            (vec![("since", "1d"), ("until", "2d")], "until"),
            (vec![("category", "maintenance")], "category"),
            (vec![("kind", "::")], "kind"),
            (vec![("limit", "0")], "limit"),
            (vec![("limit", "5000")], "limit"),
            (vec![("limit", "ten")], "limit"),
            (vec![("cluster", "a"), ("cluster", "b")], "cluster"),
            (vec![("colour", "blue")], "colour"),
            (vec![("account", "payments-prod")], "account"),
            (vec![("account", "1111222233334")], "account"),
            (vec![("region", "EU-WEST-1")], "region"),
            (vec![("region", "eu-west")], "region"),
            (vec![("region", "eu west 1")], "region"),
        ];
        for (list, name) in cases {
            let err = read(&pairs(&list), now, STRICT).unwrap_err();
            assert_eq!(err.parameter, name, "{list:?}: {err}");
        }
        let long = "x".repeat(MAX_VALUE + 1);
        assert_eq!(
            read(&pairs(&[("text", &long)]), now, STRICT)
                .unwrap_err()
                .parameter,
            "text"
        );
    }

    #[test]
    fn a_page_ignores_fields_that_are_not_filters_and_empty_ones() {
        let now = at("2026-11-22T12:00:00Z");
        let (query, given) = read(
            &pairs(&[("submit", "Search"), ("cluster", " "), ("text", "failover")]),
            now,
            Reading {
                strict: false,
                ..STRICT
            },
        )
        .unwrap();
        assert_eq!(query.cluster, None);
        assert_eq!(query.limit, 50);
        assert_eq!(given.keys().collect::<Vec<_>>(), ["text"]);
    }
}
