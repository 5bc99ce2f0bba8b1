//! Look-alike names: invisible and bidirectional characters are refused in identifiers, and kept
//! but written out (`[U+202E]`) in free text wherever it is shown.

use cachewatch_core::alerting::slack::mrkdwn;
use cachewatch_core::intake::parse::{ParseContext, parse_document};
use cachewatch_core::runbook::escape;
use chrono::{DateTime, Utc};

fn ctx() -> ParseContext {
    ParseContext::received_at(
        DateTime::parse_from_rfc3339("2026-06-11T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc),
    )
}

fn record(source: &str, message: &str) -> String {
    serde_json::json!({
        "SourceIdentifier": source, "SourceType": "cache-cluster",
        "Date": "2026-06-10T00:00:00Z", "Message": message
    })
    .to_string()
}

#[test]
fn a_cluster_id_with_a_zero_width_space_is_refused_by_name() {
    let err = parse_document(
        &record("orders\u{200B}-001", "Cache node 0001 restarted"),
        &ctx(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("`SourceIdentifier`"), "{err}");
    assert!(err.contains("U+200B"), "{err}");
}

#[test]
fn a_cluster_named_in_a_text_with_a_bidi_override_is_refused() {
    let text = "The node with Cache Cluster ID: \u{202E}100-sredro, Node ID: 0001 is scheduled for replacement during the maintenance window from Start Time: Jun 25 19:00 UTC, End Time: Jun 25 20:00 UTC";
    let err = parse_document(&record("orders-001", text), &ctx())
        .unwrap_err()
        .to_string();
    assert!(err.contains("U+202E"), "{err}");
}

#[test]
fn a_message_keeps_its_bidi_controls_and_shows_them_written_out() {
    let text = "Cache node 0001 restarted \u{202E}detratser\u{202C} \u{2066}x\u{2069}";
    let events = parse_document(&record("orders-001", text), &ctx()).unwrap();
    let message = events[0].message.as_deref().unwrap();
    assert_eq!(message, text, "kept as written");
    for shown in [
        mrkdwn::escape(message),
        escape::html(message),
        escape::markdown_text(message),
    ] {
        // Markdown escapes the brackets: `\[U+202E\]` renders as `[U+202E]`.
        assert!(
            shown
                .replace('\\', "")
                .contains("[U+202E]detratser[U+202C]"),
            "{shown}"
        );
        assert!(
            !shown.contains('\u{202E}') && !shown.contains('\u{2066}'),
            "{shown}"
        );
    }
}
