//! Golden tests: every case's messages, compared with `tests/golden/slack/{case}.json` (the
//! messages as Slack receives them) and `{case}.txt` (as the CLI prints them).
//!
//! `CACHEWATCH_UPDATE_GOLDEN=1 cargo test -p cachewatch-core --test slack` rewrites the files;
//! without it, a difference fails with a line diff.

use std::path::PathBuf;

use cachewatch_core::alerting::slack::{self, SlackMessage};
use cachewatch_core::cluster::facts::NodeRole;
use serde_json::json;

use crate::cases;
use crate::diff::{assert_no_failures, check_golden, updating};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/slack")
}

/// The messages of every golden case, by case name.
fn rendered() -> Vec<(String, Vec<(String, SlackMessage)>)> {
    let mut out: Vec<(String, Vec<(String, SlackMessage)>)> = cases::all()
        .iter()
        .map(|c| (c.name.to_owned(), c.messages()))
        .collect();
    let region = cases::region_wide();
    let contexts: Vec<_> = region.iter().map(cases::Case::context).collect();
    out.push((
        "grouped-12".to_owned(),
        vec![("grouped".to_owned(), slack::grouped(&contexts))],
    ));
    // A burst's announcement of the Redis OSS primaries: linked to their runbook pages, and
    // with the picker and their shared checklist.
    let primaries: Vec<slack::AlertContext<'_>> = contexts
        .iter()
        .filter(|c| c.facts.node_role == Some(NodeRole::Primary))
        .cloned()
        .collect();
    let labelled = |messages: Vec<(SlackMessage, std::ops::Range<usize>)>| {
        messages
            .into_iter()
            .map(|(m, range)| (format!("announcement of {range:?}"), m))
            .collect::<Vec<_>>()
    };
    out.push((
        "announced-linked".to_owned(),
        labelled(slack::announcements(
            &primaries,
            Some("redis-primary.md"),
            false,
        )),
    ));
    let picker: Vec<slack::AlertContext<'_>> = primaries
        .iter()
        .cloned()
        .map(|mut c| {
            c.runbook_url = None;
            c.actions = true;
            c
        })
        .collect();
    out.push((
        "announced-picker".to_owned(),
        labelled(slack::announcements(
            &picker,
            Some("redis-primary.md"),
            true,
        )),
    ));
    let shared = slack::shared_checklist(
        &cases::named("redis-primary").runbook(),
        &slack::shared_checklist_intro(&picker),
    );
    let n = shared.len();
    out.push((
        "checklist-shared".to_owned(),
        shared
            .into_iter()
            .enumerate()
            .map(|(i, m)| (format!("checklist {} of {n}", i + 1), m))
            .collect(),
    ));
    for name in ["redis-primary", "drill"] {
        let case = cases::named(name);
        let parts = slack::checklist(&case.runbook());
        let n = parts.len();
        out.push((
            format!("checklist-{name}"),
            parts
                .into_iter()
                .enumerate()
                .map(|(i, m)| (format!("checklist {} of {n}", i + 1), m))
                .collect(),
        ));
    }
    out
}

fn as_json(messages: &[(String, SlackMessage)]) -> String {
    let value: Vec<serde_json::Value> = messages
        .iter()
        .map(|(label, m)| json!({"message": label, "text": m.text, "blocks": m.blocks}))
        .collect();
    let mut out = serde_json::to_string_pretty(&value).unwrap();
    out.push('\n');
    out
}

fn as_text(messages: &[(String, SlackMessage)]) -> String {
    messages
        .iter()
        .map(|(label, m)| format!("~~~~~ {label} ~~~~~\n{}", slack::to_text(m)))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_case_renders_as_its_golden_files() {
    // Arrange
    let update = updating();
    if update {
        std::fs::create_dir_all(golden_dir()).unwrap();
    }
    let mut failures = Vec::new();

    for (name, messages) in rendered() {
        // Act
        let files = [
            (format!("{name}.json"), as_json(&messages)),
            (format!("{name}.txt"), as_text(&messages)),
        ];

        // Assert
        for (file, actual) in files {
            check_golden(&golden_dir().join(file), &actual, update, &mut failures);
        }
    }
    assert_no_failures(&failures, "messages");
}

#[test]
fn every_golden_message_is_within_slacks_limits() {
    for (name, messages) in rendered() {
        for (label, message) in messages {
            let problems = slack::limits::check(&message);
            assert!(problems.is_empty(), "{name} {label}: {problems:#?}");
        }
    }
}

#[test]
fn no_golden_file_is_left_without_a_case() {
    let names: Vec<String> = rendered().into_iter().map(|(name, _)| name).collect();
    for entry in std::fs::read_dir(golden_dir()).unwrap() {
        let file = entry.unwrap().file_name().to_string_lossy().into_owned();
        let case = file
            .rsplit_once('.')
            .map_or(file.as_str(), |(stem, _)| stem)
            .to_owned();
        assert!(names.contains(&case), "{file} belongs to no case");
    }
}
