//! The rules that make a runbook safe to follow at 5 a.m., checked on every case: the impact
//! and the plan are what AWS documents, no pasted block runs two actions, no restore follows a
//! count, no command names a field or flag that does not apply, and every format keeps the
//! deadline, the risks, the decision, each step's condition and the AWS pages cited.

use cachewatch_core::runbook::{Owners, Runbook, RunbookFormat, Runbooks, Step, escape};

use crate::cases::{self, Case};

fn render(case: &Case) -> Runbook {
    Runbooks::embedded()
        .render(&case.input(&Owners::default()))
        .unwrap_or_else(|e| panic!("{}: {e}", case.name))
}

fn rendered() -> Vec<(Case, Runbook)> {
    cases::all()
        .into_iter()
        .map(|c| {
            let rb = render(&c);
            (c, rb)
        })
        .collect()
}

fn section_text(rb: &Runbook, heading_starts: &str) -> String {
    rb.sections
        .iter()
        .filter(|s| s.heading.starts_with(heading_starts))
        .flat_map(|s| s.paragraphs.iter().map(|p| p.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether an `aws` command changes anything (anything but describe, list, wait and reads of
/// metrics).
fn is_action(command: &str) -> bool {
    let words: Vec<&str> = command.split_whitespace().collect();
    if words.first() != Some(&"aws") || words.len() < 3 {
        return false;
    }
    let verb = words[2];
    !(verb.starts_with("describe-")
        || verb.starts_with("list-")
        || verb == "wait"
        || verb.starts_with("get-"))
}

#[test]
fn no_impact_speaks_of_minutes_someone_measured() {
    for (case, rb) in rendered() {
        let impact = section_text(&rb, "Impact");
        assert!(
            !impact.contains("minute"),
            "{}: the impact speaks of minutes:\n{impact}",
            case.name
        );
    }
}

#[test]
fn the_impact_on_a_primary_is_what_aws_documents_for_its_configuration() {
    let cases = [
        ("redis-primary", "**Writes continue.**"),
        ("redis-cluster-mode-enabled", "with cluster mode enabled"),
        ("valkey-primary", "**Writes continue.**"),
        (
            "redis-automatic-failover-off",
            "Automatic failover is **off**",
        ),
        (
            "redis-no-replica",
            "**Reads and writes fail until it is back**",
        ),
        ("redis-5-0-3", "Engine 5.0.3 is in neither statement"),
        (
            "redis-role-unknown",
            "cluster mode enabled, or disabled with Multi-AZ",
        ),
    ];
    for (name, expected) in cases {
        let rb = render(&cases::named(name));
        let impact = section_text(&rb, "Impact");
        assert!(impact.contains(expected), "{name}:\n{impact}");
        assert!(
            impact.contains("https://docs.aws.amazon.com/"),
            "{name} cites no AWS page:\n{impact}"
        );
    }
}

#[test]
fn test_failover_is_only_a_rehearsal_on_another_cluster() {
    for (case, rb) in rendered() {
        for step in rb.steps() {
            if !step.commands.iter().any(|c| c.contains("test-failover")) {
                continue;
            }
            assert!(
                step.commands
                    .iter()
                    .all(|c| !c.contains("test-failover")
                        || c.contains("STAGING_REPLICATION_GROUP_ID")),
                "{}: test-failover aimed at the cluster itself: {:?}",
                case.name,
                step.commands
            );
            assert!(
                step.text.contains("non-production") && step.text.contains("15 node groups"),
                "{}: {}",
                case.name,
                step.text
            );
        }
        let decide = section_text(&rb, "Decide");
        if !decide.is_empty() && case.template == "redis-node-replacement.md" {
            assert!(
                decide.contains("not designed to be an operational tool"),
                "{}: {decide}",
                case.name
            );
        }
    }
}

#[test]
fn a_command_block_holds_one_action_at_most() {
    for (case, rb) in rendered() {
        for step in rb.steps() {
            let actions: Vec<&String> = step.commands.iter().filter(|c| is_action(c)).collect();
            assert!(
                actions.len() <= 1,
                "{} step {}: more than one action in one block: {actions:#?}",
                case.name,
                step.number
            );
        }
    }
}

#[test]
fn no_waiter_stands_in_for_the_events_of_a_failover() {
    for (case, rb) in rendered() {
        for step in rb.steps() {
            let waits = step.commands.iter().any(|c| c.contains(" wait "));
            assert!(
                !(waits && step.commands.iter().any(|c| c.contains("test-failover"))),
                "{}: a waiter after test-failover",
                case.name
            );
            assert!(
                !(waits && step.text.contains("Failover from")),
                "{}: a waiter to confirm a failover: {}",
                case.name,
                step.text
            );
        }
    }
}

#[test]
fn no_restore_follows_a_key_count() {
    for (case, rb) in rendered() {
        for step in rb.steps() {
            let counts = step.commands.iter().any(|c| c.contains("DBSIZE"));
            let restores = step.text.to_lowercase().contains("restore from");
            assert!(
                !(counts && restores),
                "{} step {}: a restore tied to key counts: {}",
                case.name,
                step.number,
                step.text
            );
            assert!(
                !step.text.contains("If the counts differ"),
                "{}: {}",
                case.name,
                step.text
            );
        }
    }
}

#[test]
fn a_restore_is_a_separate_decision_that_says_what_it_costs() {
    let rb = render(&cases::named("redis-primary"));
    let section = section_text(&rb, "If data was lost");
    assert!(section.contains("**new** cluster"), "{section}");
    assert!(section.contains("new endpoints"), "{section}");
    assert!(
        section.contains("every write made after the backup"),
        "{section}"
    );
    let step = rb
        .sections
        .iter()
        .find(|s| s.heading.starts_with("If data was lost"))
        .and_then(|s| s.steps.first())
        .expect("a step under the restore decision");
    assert!(step.text.starts_with("**Only if"), "{}", step.text);
    assert!(step.commands.iter().all(|c| !is_action(c)), "{step:?}");
}

#[test]
fn no_command_names_a_field_that_does_not_exist() {
    for (case, rb) in rendered() {
        for command in rb.commands() {
            assert!(
                !command.contains("ReplicationGroups[0].PreferredMaintenanceWindow"),
                "{}: {command}",
                case.name
            );
        }
    }
}

#[test]
fn cluster_mode_enabled_gets_no_node_level_commands() {
    for (case, rb) in rendered() {
        if case.facts.cluster_mode_enabled != Some(true) {
            continue;
        }
        for command in rb.commands() {
            assert!(
                !command.contains("--primary-cluster-id"),
                "{}: {command}",
                case.name
            );
            assert!(
                !command.contains("create-snapshot --cache-cluster-id"),
                "{}: {command}",
                case.name
            );
            if command.contains("--cluster call") && command.contains("DBSIZE") {
                assert!(
                    command.contains("--cluster-only-masters"),
                    "{}: DBSIZE counts replicas too: {command}",
                    case.name
                );
            }
        }
    }
}

fn step_with<'a>(rb: &'a Runbook, fragment: &str) -> Vec<&'a Step> {
    rb.steps()
        .filter(|s| s.commands.iter().any(|c| c.contains(fragment)))
        .collect()
}

#[test]
fn when_cluster_mode_is_unknown_each_backup_is_its_own_conditional_step() {
    let rb = render(&cases::named("redis-role-unknown"));
    let by_node = step_with(&rb, "create-snapshot --cache-cluster-id");
    let by_group = step_with(&rb, "create-snapshot --replication-group-id");
    assert_eq!((by_node.len(), by_group.len()), (1, 1));
    assert!(
        by_node[0]
            .text
            .starts_with("**Only if cluster mode is disabled:**")
    );
    assert!(
        by_group[0]
            .text
            .starts_with("**Only if cluster mode is enabled:**")
    );
}

#[test]
fn cloudwatch_periods_follow_the_age_of_the_data() {
    let rb = render(&cases::named("failover-19-days-ago"));
    let periods: Vec<i64> = rb
        .commands()
        .filter_map(|c| {
            let words: Vec<&str> = c.split_whitespace().collect();
            let at = words.iter().position(|w| *w == "--period")?;
            words.get(at + 1)?.trim_matches('\'').parse().ok()
        })
        .collect();
    assert!(!periods.is_empty());
    assert!(
        periods.iter().all(|p| p % 300 == 0),
        "60-second data is kept 15 days: {periods:?}"
    );
}

#[test]
fn a_node_past_0001_gets_the_memcached_runbook_when_nothing_is_known() {
    let case = cases::named("memcached-inferred");
    let rb = render(&case);
    assert_eq!(rb.template, "memcached-node-replacement.md");
    let markdown = rb.render(RunbookFormat::Markdown);
    assert!(markdown.contains("comes back empty"), "{markdown}");
    assert!(markdown.contains("inferred from the node id"), "{markdown}");
    assert!(
        rb.commands()
            .all(|c| !c.starts_with("redis-cli") && !c.contains("test-failover")),
        "{markdown}"
    );
}

#[test]
fn the_only_replica_is_not_read_through_the_reader_endpoint() {
    let rb = render(&cases::named("redis-replica"));
    for step in rb.steps() {
        assert!(
            !step.text.contains("to the reader endpoint"),
            "{}",
            step.text
        );
    }
    let impact = section_text(&rb, "Impact");
    assert!(impact.contains("only replica"), "{impact}");
    assert!(impact.contains("reading from the primary"), "{impact}");
}

#[test]
fn a_cancellation_is_explained_by_what_aws_documents() {
    let rb = render(&cases::named("canceled"));
    let markdown = rb.render(RunbookFormat::Markdown);
    assert!(
        markdown.contains("a failover alone is not documented to"),
        "{markdown}"
    );
    assert!(!markdown.contains("(a failover by hand"), "{markdown}");
}

#[test]
fn the_backup_keeps_its_name_when_the_window_moves() {
    let name = |case: &str| -> Vec<String> {
        render(&cases::named(case))
            .commands()
            .filter(|c| c.contains("--snapshot-name"))
            .map(|c| {
                let words: Vec<&str> = c.split_whitespace().collect();
                let at = words.iter().position(|w| *w == "--snapshot-name").unwrap();
                words[at + 1].to_owned()
            })
            .collect()
    };
    for case in ["redis-primary", "rescheduled", "canceled"] {
        let names = name(case);
        assert!(!names.is_empty(), "{case}");
        assert!(
            names.iter().all(|n| n == "orders-before-20260625"),
            "{case}: {names:?}"
        );
    }
}

/// The `**Only if …:**` conditions of the runbook's steps, up to their first code span.
fn conditions(rb: &Runbook) -> Vec<String> {
    rb.steps()
        .filter_map(|s| {
            let rest = s.text.strip_prefix("**")?;
            let end = rest.find("**")?;
            let condition = &rest[..end];
            // Up to the first code span: each format marks code its own way.
            condition
                .starts_with("Only if")
                .then(|| condition.split('`').next().unwrap_or_default().to_owned())
        })
        .collect()
}

#[test]
fn every_format_keeps_the_deadline_the_risks_the_decision_and_the_conditions() {
    for (case, rb) in rendered() {
        if case.name == "hostile-names" {
            continue;
        }
        let markdown = rb.render(RunbookFormat::Markdown);
        let mut expected: Vec<String> = conditions(&rb);
        if let Some(w) = case
            .maintenance
            .as_ref()
            .and_then(|m| m.window)
            .or(case.event.window)
            && markdown.contains("**Deadline: ")
        {
            expected.push(format!(
                "Deadline: {}",
                w.start.format("%a %d %b %Y %H:%M UTC")
            ));
        }
        for risk in cachewatch_core::cluster::facts::risks(
            &case.facts,
            &case.event,
            case.maintenance.as_ref(),
            cases::now(),
        ) {
            if markdown.contains(&risk.text) {
                expected.push(risk.text.clone());
            }
        }
        if markdown.contains("**Do nothing.**") {
            expected.push("Do nothing.".into());
        }
        for format in RunbookFormat::ALL {
            let out = rb.render(format);
            for text in &expected {
                let text = match format {
                    RunbookFormat::Html => escape::html(text),
                    RunbookFormat::Slack => escape::slack(text),
                    _ => text.clone(),
                };
                assert!(
                    out.contains(text.as_str()),
                    "{} in {format}: `{text}` is missing",
                    case.name
                );
            }
        }
    }
}

#[test]
fn every_format_links_the_aws_pages_it_cites() {
    for (case, rb) in rendered() {
        let markdown = rb.render(RunbookFormat::Markdown);
        if !markdown.contains("](https://docs.aws.amazon.com/") {
            continue;
        }
        let marks = [
            (RunbookFormat::Markdown, "](https://docs.aws.amazon.com/"),
            (RunbookFormat::Github, "](https://docs.aws.amazon.com/"),
            (RunbookFormat::Slack, "<https://docs.aws.amazon.com/"),
            (RunbookFormat::Text, "(https://docs.aws.amazon.com/"),
            (RunbookFormat::Html, "href=\"https://docs.aws.amazon.com/"),
        ];
        for (format, mark) in marks {
            assert!(
                rb.render(format).contains(mark),
                "{} in {format}: no link to AWS's documentation",
                case.name
            );
        }
    }
}

#[test]
fn every_template_cites_aws_where_it_describes_elasticache() {
    for (case, rb) in rendered() {
        if case.template == "generic.md" {
            continue;
        }
        let markdown = rb.render(RunbookFormat::Markdown);
        assert!(
            markdown.contains("](https://docs.aws.amazon.com/"),
            "{} cites no AWS page",
            case.name
        );
    }
}

/// Every paragraph of the runbook, in order.
fn all_paragraphs(rb: &Runbook) -> String {
    rb.sections
        .iter()
        .flat_map(|s| s.paragraphs.iter().map(|p| p.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_reserved_memory_of_the_parameter_group_is_said_with_what_aws_recommends() {
    let reserved = |name: &str| {
        let rb = render(&cases::named(name));
        let said = all_paragraphs(&rb)
            .lines()
            .find(|l| l.contains("Reserved memory"))
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("{name}: nothing said of the reserved memory"));
        let reads = step_with(&rb, "describe-cache-parameters").len();
        (said, reads)
    };
    let link =
        "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/redis-memory-management.html";

    let (default, reads) = reserved("redis-primary");
    assert!(
        default.contains("default parameter group `default.redis7` sets aside 25%"),
        "{default}"
    );
    assert!(default.contains("what AWS recommends for most cases"));
    assert!(default.contains(link));
    assert_eq!(reads, 0, "nothing left to read");

    let (none, _) = reserved("redis-automatic-failover-off");
    assert!(none.contains("Reserved memory: none."), "{none}");
    assert!(none.contains("fails if there is not enough"), "{none}");
    assert!(none.contains(link));

    let (below, _) = reserved("valkey-global-secondary");
    assert!(below.contains("10%, below AWS's recommendation"), "{below}");

    for name in ["redis-5-0-3", "redis-role-unknown"] {
        let (unknown, reads) = reserved(name);
        assert!(unknown.contains("Reserved memory: not read."), "{unknown}");
        assert!(
            unknown.contains("recommends setting aside 25%"),
            "{unknown}"
        );
        assert_eq!(reads, 1, "{name}: one step reads it");
    }
}
