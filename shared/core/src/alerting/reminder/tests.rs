use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::model::event::Window;
use crate::model::ids::{ClusterId, NodeId, SourceId};
use crate::model::kind::EventKind;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

const DEADLINE: &str = "2026-06-25T19:00:00Z";

/// A planned replacement of `orders-0001-002` whose window opens at [`DEADLINE`], first heard
/// of `heard_before` it.
fn planned(heard_before: Duration) -> Maintenance {
    let first = at(DEADLINE) - heard_before;
    let id = EventId::derive(
        &SourceId::parse("orders-0001-002").unwrap(),
        &EventKind::new(EventKind::NODE_REPLACEMENT_SCHEDULED),
        None,
        first,
    );
    Maintenance {
        id: id.clone(),
        group_key: "orders".to_owned(),
        kind: MaintenanceKind::Planned,
        state: MaintenanceState::Scheduled,
        cluster_id: Some(ClusterId::parse("orders-0001-002").unwrap()),
        node_id: Some(NodeId::parse("0001").unwrap()),
        replication_group_id: None,
        window: Some(Window {
            start: at(DEADLINE),
            end: at(DEADLINE) + Duration::hours(8),
        }),
        previous_windows: vec![],
        first_event_at: first,
        last_event_at: first,
        started_at: None,
        completed_at: None,
        canceled_at: None,
        failovers: vec![],
        notices: 1,
        repeat_of: None,
        event_ids: vec![id],
        region: None,
        account_id: None,
        drill: false,
    }
}

fn leads() -> Vec<Duration> {
    Config::default().reminder_leads()
}

/// The lead of the step due `before` the deadline, in hours.
fn due_lead(m: &Maintenance, acknowledged: bool, before: Duration) -> Option<i64> {
    due_step(m, acknowledged, &leads(), at(DEADLINE) - before).map(|s| s.lead.num_hours())
}

#[test]
fn the_default_steps_are_72_24_and_2_hours_before_the_deadline() {
    let hours: Vec<i64> = leads().iter().map(|d| d.num_hours()).collect();
    assert_eq!(hours, vec![72, 24, 2]);
}

#[test]
fn each_step_is_due_from_its_time_until_the_next_steps_time() {
    let m = planned(Duration::days(10));
    let h = Duration::hours;
    let cases = [
        (h(100), None),
        (h(72) + Duration::seconds(1), None),
        (h(72), Some(72)),
        (h(30), Some(72)),
        (h(24) + Duration::seconds(1), Some(72)),
        (h(24), Some(24)),
        (h(3), Some(24)),
        (h(2), Some(2)),
        (Duration::minutes(1), Some(2)),
        (Duration::zero(), None),
        (h(-1), None),
    ];
    for (before, want) in cases {
        assert_eq!(due_lead(&m, false, before), want, "{before} before");
    }
}

#[test]
fn a_step_whose_time_came_before_the_maintenance_was_known_is_not_sent() {
    let h = Duration::hours;
    // (heard of before the deadline, now before the deadline, step due)
    let cases = [
        (h(10), h(10), None),
        (h(10), h(5), None),
        (h(10), h(2), Some(2)),
        (h(30), h(30), None),
        (h(30), h(24), Some(24)),
        (h(72), h(72), Some(72)),
        (h(1), Duration::minutes(30), None),
    ];
    for (heard, before, want) in cases {
        assert_eq!(
            due_lead(&planned(heard), false, before),
            want,
            "heard {heard} before, now {before} before"
        );
    }
}

#[test]
fn nothing_is_due_once_acknowledged_canceled_completed_or_under_way() {
    let before = Duration::hours(24);
    assert_eq!(due_lead(&planned(Duration::days(5)), true, before), None);
    for state in [
        MaintenanceState::Canceled,
        MaintenanceState::Completed,
        MaintenanceState::InProgress,
    ] {
        let m = Maintenance {
            state,
            ..planned(Duration::days(5))
        };
        assert_eq!(due_lead(&m, false, before), None, "{state:?}");
    }
    let drill = Maintenance {
        drill: true,
        ..planned(Duration::days(5))
    };
    assert_eq!(due_lead(&drill, false, before), None);
    let unplanned = Maintenance {
        kind: MaintenanceKind::Unplanned,
        ..planned(Duration::days(5))
    };
    assert_eq!(due_lead(&unplanned, false, before), None);
    let no_window = Maintenance {
        window: None,
        ..planned(Duration::days(5))
    };
    assert_eq!(due_step(&no_window, false, &leads(), at(DEADLINE)), None);
}

#[test]
fn a_reschedule_starts_the_steps_again_for_the_new_deadline() {
    // Arrange: known 5 days ahead; its 24 h step was due; then moved a week later, the move
    // heard of 4 days before the new deadline.
    let old = planned(Duration::days(5));
    let before_move = due_step(&old, false, &leads(), at(DEADLINE) - Duration::hours(24)).unwrap();
    let new_start = at(DEADLINE) + Duration::days(7);
    let moved = Maintenance {
        state: MaintenanceState::Rescheduled,
        previous_windows: vec![old.window.unwrap()],
        window: Some(Window {
            start: new_start,
            end: new_start + Duration::hours(8),
        }),
        last_event_at: new_start - Duration::days(4),
        ..old.clone()
    };

    // Act
    let after_move = due_step(&moved, false, &leads(), new_start - Duration::hours(72)).unwrap();

    // Assert: same lead, another step.
    assert_eq!(after_move.lead, Duration::hours(72));
    assert_eq!(after_move.deadline, new_start);
    assert_ne!(after_move.key(), before_move.key());
    assert_eq!(
        due_step(&moved, false, &leads(), new_start - Duration::hours(100)),
        None
    );
}

#[test]
fn a_step_is_named_by_its_maintenance_deadline_and_lead() {
    let step = ReminderStep {
        maintenance: EventId::parse("0123456789abcdef0123").unwrap(),
        deadline: at(DEADLINE),
        lead: Duration::hours(24),
    };
    assert_eq!(
        step.key(),
        format!(
            "reminder:0123456789abcdef0123:{}:1440m",
            at(DEADLINE).timestamp()
        )
    );
    assert_eq!(step.due_at(), at("2026-06-24T19:00:00Z"));
}

#[test]
fn configured_steps_are_read_longest_first_and_bad_ones_refused() {
    let config = Config::from_toml(
        "[reminders]\nbefore = [\"2h\", \"3d\", \"90m\", \"72h\"]\nmention = \"<!subteam^S0PLATFORM>\"",
    )
    .unwrap();
    let minutes: Vec<i64> = config
        .reminder_leads()
        .iter()
        .map(|d| d.num_minutes())
        .collect();
    assert_eq!(minutes, vec![4320, 120, 90]);
    let none = Config::from_toml("[reminders]\nbefore = []").unwrap();
    assert!(none.reminder_leads().is_empty());
    for bad in [
        "[reminders]\nbefore = [\"72\"]",
        "[reminders]\nbefore = [\"-2h\"]",
        "[reminders]\nbefore = [\"0h\"]",
        "[reminders]\nbefore = [\"31d\"]",
        "[reminders]\nbefore = [\"5w\"]",
        "[reminders]\nmention = \"@platform\"",
        "[reminders]\nmention = \"<!channel>\"",
        "[reminders]\nmention = \"<@U0X> <!everyone>\"",
        "[[routes]]\nclusters = \"orders-*\"\nchannel = \"#o\"\nmention = \"<!subteam^s0lower>\"",
    ] {
        assert!(Config::from_toml(bad).is_err(), "{bad}");
    }
}

#[test]
fn the_route_that_sends_the_alerts_names_whom_reminders_mention() {
    let config = Config::from_toml(
        r##"
        [reminders]
        mention = "<!subteam^S0PLATFORM>"

        [[routes]]
        clusters = "payments-*"
        channel = "#payments"
        mention = "<@U0PAYMENTS>"

        [[routes]]
        clusters = "orders-*"
        channel = "#orders"
        "##,
    )
    .unwrap();
    let event = |cluster: &str| {
        let input = format!(
            r#"{{"SourceIdentifier":"{cluster}","SourceType":"cache-cluster","Date":"2026-06-10T00:00:00Z","Message":"Cache node 0001 restarted"}}"#
        );
        crate::intake::parse::parse_document(
            &input,
            &crate::intake::parse::ParseContext::received_at(at("2026-06-11T00:00:00Z")),
        )
        .unwrap()
        .remove(0)
    };
    assert_eq!(
        config.mention_for(&event("payments-0001-001")),
        Some("<@U0PAYMENTS>")
    );
    assert_eq!(
        config.mention_for(&event("orders-0001-001")),
        Some("<!subteam^S0PLATFORM>")
    );
    assert_eq!(
        Config::default().mention_for(&event("orders-0001-001")),
        None
    );
}

#[test]
fn the_reminder_mentions_its_owners_in_the_thread_and_escapes_the_rest() {
    let m = Maintenance {
        group_key: "<!channel>".to_owned(),
        cluster_id: None,
        ..planned(Duration::days(5))
    };
    let text = ReminderText {
        maintenance: &m,
        deadline: at(DEADLINE),
        mention: Some("<!subteam^S0PLATFORM>"),
        key: "reminder:k",
        thread_ts: "1750000000.000100",
        now: at(DEADLINE) - Duration::hours(24),
    };
    let message = slack::reminder(&text, crate::model::timefmt::Zone::Utc);
    assert!(
        message.text.starts_with("<!subteam^S0PLATFORM> "),
        "{}",
        message.text
    );
    assert!(message.text.contains("in 1 day"), "{}", message.text);
    assert!(!message.text.contains("<!channel>"), "{}", message.text);
    assert_eq!(message.thread_ts.as_deref(), Some("1750000000.000100"));
    assert_eq!(
        message.metadata.as_ref().and_then(|m| m.delivery_key()),
        Some("reminder:k")
    );
    let violations = crate::alerting::slack::limits::check(&message);
    assert!(violations.is_empty(), "{violations:?}");
}

#[test]
fn only_a_user_group_or_user_mention_passes_the_message_check() {
    use crate::alerting::slack::limits::markup_problems;
    assert!(markup_problems("<!subteam^S0PLATFORM> and <@U0ONCALL>").is_empty());
    for refused in [
        "<!channel>",
        "<!here>",
        "<!everyone>",
        "<@U0X|x>",
        "<!subteam^S1|@all>",
    ] {
        assert_eq!(markup_problems(refused).len(), 1, "{refused}");
    }
}
