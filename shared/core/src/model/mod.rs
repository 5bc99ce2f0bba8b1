//! The event model: what ElastiCache tells us about one occurrence ([`event`]), the names of
//! events and their categories ([`kind`]), the identifiers of what they are about ([`ids`]),
//! the characters that may not hide in them ([`invisible`]), and times as people read them
//! ([`timefmt`]). Everything else in the crate is written in these terms.

pub mod event;
pub mod ids;
pub mod invisible;
pub mod kind;
pub mod timefmt;

/// The methods of a context drawn about one event (`event`) and, when the event belongs to one,
/// its maintenance (`maintenance`, with its `events`): an alert's and a runbook's contexts carry
/// these three fields alike. Used inside the context's `impl<'a>` block, given `'a`.
macro_rules! about_a_maintenance {
    ($a:lifetime) => {
        /// The same context, for `maintenance` and its `events`.
        pub fn with_maintenance(
            self,
            maintenance: &$a Maintenance,
            events: &$a [MaintenanceEvent],
        ) -> Self {
            Self {
                maintenance: Some(maintenance),
                events,
                ..self
            }
        }

        /// Whether it is about a drill: the event's or its maintenance's.
        pub fn drill(&self) -> bool {
            self.event.drill || self.maintenance.is_some_and(|m| m.drill)
        }
    };
}
pub(crate) use about_a_maintenance;
