//! How items and index entries are named: the key values of the table design in the module
//! header, in one place.

use cachewatch_core::alerting::delivery::DeliveryState;
use cachewatch_core::lifecycle::Maintenance;
use cachewatch_core::model::event::EventId;
use chrono::{DateTime, NaiveDate, Utc};

/// The sort key of an event item.
pub(crate) const EVENT_SK: &str = "E";
/// The sort key of an alias item (the id of a report merged into another event).
pub(crate) const ALIAS_SK: &str = "A";
/// The sort key of a delivery item: Slack's; an output's adds its lane (see [`delivery_sk`]).
pub(crate) const DELIVERY_SK: &str = "D";
/// The sort key of a lease item.
pub(crate) const LEASE_SK: &str = "L";
/// The `by_key` partition of the maintenances that may not be over.
pub(crate) const OPEN: &str = "OPEN";
/// What stands for the window end of an open maintenance without a window: after every time.
const NO_WINDOW_END: &str = "9999";
/// Sorts after every `#{event id}` that follows a time in a sort key.
pub(crate) const AFTER_IDS: &str = "#~";

/// A time as keys write it: RFC 3339 UTC, milliseconds, `Z`, fixed width, so that string order
/// is time order (`2026-06-11T03:10:02.000Z`).
pub(crate) fn time_key(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The partition key of an event and of its aliases.
pub(crate) fn event_pk(id: &EventId) -> String {
    format!("E#{id}")
}

/// The `by_time` partition of a UTC day.
pub(crate) fn day_partition(day: NaiveDate) -> String {
    format!("T#{}", day.format("%Y-%m-%d"))
}

/// The `by_group` partition of a cluster group.
pub(crate) fn group_partition(cluster_group: &str) -> String {
    format!("G#{cluster_group}")
}

/// The `by_kind` partition of a kind.
pub(crate) fn kind_partition(kind: &str) -> String {
    format!("K#{kind}")
}

/// The `by_lifecycle` partition of a lifecycle group.
pub(crate) fn lifecycle_partition(group_key: &str) -> String {
    format!("L#{group_key}")
}

/// The `by_key` partition of the ids that start like `id_or_prefix` (its first two hex digits).
pub(crate) fn prefix_partition(id_or_prefix: &str) -> String {
    format!("P#{}", id_or_prefix.get(..2).unwrap_or(id_or_prefix))
}

/// The sort key of an event in the time-ordered indexes.
pub(crate) fn event_time_sort(at: DateTime<Utc>, id: &EventId) -> String {
    format!("{}#{id}", time_key(at))
}

/// The partition key of a lifecycle group's maintenances.
pub(crate) fn maintenance_pk(group_key: &str) -> String {
    format!("M#{group_key}")
}

/// The sort key of a maintenance.
pub(crate) fn maintenance_sk(id: &EventId) -> String {
    format!("M#{id}")
}

/// The `by_key` sort key of an open maintenance: its window's end, then its id.
pub(crate) fn open_sort(m: &Maintenance) -> String {
    let end = m
        .window
        .map_or_else(|| NO_WINDOW_END.to_owned(), |w| time_key(w.end));
    format!("{end}#{}", m.id)
}

/// The partition key of an event's delivery.
pub(crate) fn delivery_pk(event: &EventId) -> String {
    format!("D#{event}")
}

/// The sort key of an event's delivery in `lane` (`""` for Slack's, else an output's name).
pub(crate) fn delivery_sk(lane: &str) -> String {
    match lane {
        "" => DELIVERY_SK.to_owned(),
        lane => format!("{DELIVERY_SK}#{lane}"),
    }
}

/// The `by_key` partition of the deliveries in a state.
pub(crate) fn delivery_state_partition(state: DeliveryState) -> String {
    format!("D#{}", state.as_str())
}

/// The partition key of a channel's threads.
pub(crate) fn thread_pk(channel: &str) -> String {
    format!("H#{channel}")
}

/// The sort key of a thread.
pub(crate) fn thread_sk(anchor: &EventId) -> String {
    format!("H#{anchor}")
}

/// The sort key of a channel's pending mark, in the partition of its threads: an alert was
/// written pending in the channel since a claim there last cleared it.
pub(crate) const PENDING_MARK_SK: &str = "PENDING";

/// The partition key of a lease.
pub(crate) fn lease_pk(name: &str) -> String {
    format!("L#{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn times_in_keys_are_fixed_width_so_text_order_is_time_order() {
        assert_eq!(
            time_key(at("2026-06-11T03:10:02Z")),
            "2026-06-11T03:10:02.000Z"
        );
        assert_eq!(
            time_key(at("2026-06-11T03:10:02.5+02:00")),
            "2026-06-11T01:10:02.500Z"
        );
        let times = [
            "2026-06-11T03:10:02.999Z",
            "2026-06-11T03:10:03Z",
            "2026-06-11T03:10:03.001Z",
            "2026-12-01T00:00:00Z",
        ];
        for pair in times.windows(2) {
            assert!(time_key(at(pair[0])) < time_key(at(pair[1])), "{pair:?}");
        }
    }

    #[test]
    fn an_id_after_a_time_sorts_before_the_next_millisecond() {
        let id = EventId::parse("ffffffffffffffffffff").unwrap();
        let t = at("2026-06-11T03:10:02Z");
        let sort = event_time_sort(t, &id);
        assert!(sort < time_key(t + chrono::Duration::milliseconds(1)));
        assert!(sort < format!("{}{AFTER_IDS}", time_key(t)));
        assert!(sort > time_key(t));
    }
}
