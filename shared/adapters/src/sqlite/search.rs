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
    let mut clauses: Vec<String> = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    let bind = |value: Value, values: &mut Vec<Value>| -> String {
        values.push(value);
        format!("?{}", values.len())
    };

    let mut words = q.words();
    if let Some(cluster) = &q.cluster {
        let group = EventQuery::cluster_search_group(cluster);
        let g = bind(Value::Text(group.clone()), &mut values);
        clauses.push(format!("e.cluster_group = {g}"));
        if &group != cluster {
            let c = bind(Value::Text(cluster.clone()), &mut values);
            clauses.push(format!("(e.cluster_id = {c} OR e.cluster_group = {c})"));
        }
        if !words.is_empty() {
            words.extend(word_parts(&group));
        }
    }
    if let Some(node) = &q.node {
        let n = bind(Value::Text(node.clone()), &mut values);
        clauses.push(format!("e.node_id = {n}"));
    }
    if let Some(kind) = &q.kind {
        let k = bind(Value::Text(kind.to_string()), &mut values);
        clauses.push(format!("e.kind = {k}"));
        if !words.is_empty() {
            words.extend(word_parts(kind.as_str()));
        }
    }
    if let Some(category) = q.category {
        let c = bind(Value::Text(category.as_str().to_owned()), &mut values);
        clauses.push(format!("e.category = {c}"));
    }
    if let Some(account) = &q.account {
        let a = bind(Value::Text(account.clone()), &mut values);
        clauses.push(format!("e.account_id = {a}"));
    }
    if let Some(region) = &q.region {
        let r = bind(Value::Text(region.clone()), &mut values);
        clauses.push(format!("e.region = {r}"));
    }
    if let Some(since) = q.since {
        let s = bind(Value::Integer(seq_floor(since)), &mut values);
        clauses.push(format!("e.seq >= {s}"));
    }
    if let Some(until) = q.until {
        let u = bind(Value::Integer(seq_floor(until)), &mut values);
        clauses.push(format!("e.seq < {u}"));
    }
    if !q.include_drills {
        clauses.push("e.drill = 0".to_owned());
    }
    if q.actionable_only {
        clauses.push("e.actionable = 1".to_owned());
    }

    let mut sql = if words.is_empty() {
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
        let m = bind(Value::Text(matching), &mut values);
        clauses.insert(0, format!("events_fts MATCH {m}"));
        format!(
            "SELECT {COLUMNS} FROM events_fts JOIN events e ON e.seq = events_fts.rowid {WITH_MAINTENANCE}"
        )
    };
    for (i, clause) in clauses.iter().enumerate() {
        sql.push_str(if i == 0 { " WHERE " } else { " AND " });
        sql.push_str(clause);
    }
    let order = if words.is_empty() {
        "e.seq"
    } else {
        "events_fts.rowid"
    };
    let limit = bind(Value::Integer(q.limit as i64), &mut values);
    sql.push_str(&format!(" ORDER BY {order} DESC LIMIT {limit}"));
    (sql, values)
}

/// The words of an identifier as the full-text index splits it.
fn word_parts(id: &str) -> impl Iterator<Item = String> + '_ {
    id.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}
