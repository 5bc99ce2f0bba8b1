//! Searches as SQL. Two plans, chosen by the query's shape:
//!
//! - without words, the table is read newest first through the most selective index (the group's
//!   or the kind's, both time-ordered because `seq` is), and the other filters test each row;
//! - with words, the full-text index yields matching rows newest first (its rowid is `seq`), the
//!   other filters test each row, and the scan stops at the limit. A cluster or kind filter adds
//!   its words to the full-text match, so that a rare cluster is not found by scanning every match
//!   of a common word.
//!
//! Words match whole words of the message or identifiers (`fail` does not match `failover`).

use cachewatch_core::history::query::EventQuery;
use rusqlite::types::Value;

use super::rows::{COLUMNS, seq_floor};

/// The join that gives each event its maintenance.
const WITH_MAINTENANCE: &str = "LEFT JOIN maintenance_events m ON m.event_id = e.id";

/// The SQL and parameters of a search.
pub fn search_sql(q: &EventQuery) -> (String, Vec<Value>) {
    let mut sql = Sql::default();
    let mut words = q.words();
    sql.filters(q, &mut words);
    let mut text = if words.is_empty() {
        format!("SELECT {COLUMNS} FROM events e {WITH_MAINTENANCE}")
    } else {
        words.sort();
        words.dedup();
        // Each word is letters and digits only (see EventQuery::words): quoted, it is a plain term,
        // never search syntax. Whole words, not prefixes: FTS5 intersects whole-word lists lazily,
        // newest first, and stops at the limit, where a prefix term first merges every matching
        // word's list (a hundred milliseconds for a common word in a million events).
        let matching = words
            .iter()
            .map(|w| format!("\"{w}\""))
            .collect::<Vec<_>>()
            .join(" AND ");
        let m = sql.bind(Value::Text(matching));
        sql.clauses.insert(0, format!("events_fts MATCH {m}"));
        format!(
            "SELECT {COLUMNS} FROM events_fts JOIN events e ON e.seq = events_fts.rowid {WITH_MAINTENANCE}"
        )
    };
    for (i, clause) in sql.clauses.iter().enumerate() {
        text.push_str(if i == 0 { " WHERE " } else { " AND " });
        text.push_str(clause);
    }
    let order = if words.is_empty() {
        "e.seq"
    } else {
        "events_fts.rowid"
    };
    let limit = sql.bind(Value::Integer(q.limit as i64));
    text.push_str(&format!(" ORDER BY {order} DESC LIMIT {limit}"));
    (text, sql.values)
}

/// A search's conditions and the values bound to them.
#[derive(Default)]
struct Sql {
    clauses: Vec<String>,
    values: Vec<Value>,
}

impl Sql {
    /// Binds `value`, answering its placeholder.
    fn bind(&mut self, value: Value) -> String {
        self.values.push(value);
        format!("?{}", self.values.len())
    }

    /// `column = value`.
    fn equal(&mut self, column: &str, value: Value) {
        let placeholder = self.bind(value);
        self.clauses.push(format!("{column} = {placeholder}"));
    }

    /// The conditions of `q`'s filters; the words of the cluster and kind asked for join the
    /// full-text `words` when there are any.
    fn filters(&mut self, q: &EventQuery, words: &mut Vec<String>) {
        let text = |s: &str| Value::Text(s.to_owned());
        if let Some(cluster) = &q.cluster {
            let group = EventQuery::cluster_search_group(cluster);
            self.equal("e.cluster_group", text(&group));
            if &group != cluster {
                let c = self.bind(text(cluster));
                self.clauses
                    .push(format!("(e.cluster_id = {c} OR e.cluster_group = {c})"));
            }
            if !words.is_empty() {
                words.extend(word_parts(&group));
            }
        }
        if let Some(node) = &q.node {
            self.equal("e.node_id", text(node));
        }
        if let Some(kind) = &q.kind {
            self.equal("e.kind", text(kind.as_str()));
            if !words.is_empty() {
                words.extend(word_parts(kind.as_str()));
            }
        }
        if let Some(category) = q.category {
            self.equal("e.category", text(category.as_str()));
        }
        if let Some(account) = &q.account {
            self.equal("e.account_id", text(account));
        }
        if let Some(region) = &q.region {
            self.equal("e.region", text(region));
        }
        if let Some(since) = q.since {
            let s = self.bind(Value::Integer(seq_floor(since)));
            self.clauses.push(format!("e.seq >= {s}"));
        }
        if let Some(until) = q.until {
            let u = self.bind(Value::Integer(seq_floor(until)));
            self.clauses.push(format!("e.seq < {u}"));
        }
        if !q.include_drills {
            self.clauses.push("e.drill = 0".to_owned());
        }
        if q.actionable_only {
            self.clauses.push("e.actionable = 1".to_owned());
        }
    }
}

/// The words of an identifier as the full-text index splits it.
fn word_parts(id: &str) -> impl Iterator<Item = String> + '_ {
    id.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}
