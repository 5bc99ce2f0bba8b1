//! Which events need people: the alert policy.
//!
//! By default node replacements, failovers and AWS Health notices about ElastiCache (service
//! updates due, engine end of support) are actionable and everything else is history. A
//! team can add kinds (a failed snapshot, say) or quiet some (node replacement completions).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::model::kind::{Category, EventKind};

/// Which categories and kinds alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertPolicy {
    /// Categories whose events alert.
    pub categories: BTreeSet<Category>,
    /// Further kinds that alert, whatever their category.
    pub kinds: BTreeSet<String>,
    /// Kinds that never alert, whatever their category.
    pub quiet_kinds: BTreeSet<String>,
}

impl Default for AlertPolicy {
    fn default() -> Self {
        Self {
            categories: [
                Category::NodeReplacement,
                Category::Failover,
                Category::Health,
            ]
            .into(),
            kinds: BTreeSet::new(),
            quiet_kinds: BTreeSet::new(),
        }
    }
}

impl AlertPolicy {
    /// Whether events of `kind` need people.
    pub fn is_actionable(&self, kind: &EventKind) -> bool {
        if self.quiet_kinds.contains(kind.as_str()) {
            return false;
        }
        self.kinds.contains(kind.as_str()) || self.categories.contains(&kind.category())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_default_replacements_and_failovers_need_people() {
        let policy = AlertPolicy::default();
        for (kind, actionable) in [
            ("node_replacement_scheduled", true),
            ("cache_node_replace_complete", true),
            ("failover_complete", true),
            ("aws_elasticache_before_update_due_notification", true),
            ("snapshot_failed", false),
            ("some_future_event", false),
        ] {
            assert_eq!(
                policy.is_actionable(&EventKind::new(kind)),
                actionable,
                "{kind}"
            );
        }
    }

    #[test]
    fn teams_add_and_quiet_kinds() {
        let policy = AlertPolicy {
            kinds: ["snapshot_failed".to_owned()].into(),
            quiet_kinds: ["cache_node_replace_complete".to_owned()].into(),
            ..AlertPolicy::default()
        };
        assert!(policy.is_actionable(&EventKind::new("snapshot_failed")));
        assert!(!policy.is_actionable(&EventKind::new("cache_node_replace_complete")));
        assert!(policy.is_actionable(&EventKind::new("node_replacement_scheduled")));
    }
}
