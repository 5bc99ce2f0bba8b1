//! Overriding the built-in templates file by file, and what is refused.

use cachewatch_core::runbook::{Owners, RunbookError, Runbooks, TemplateOrigin};

use crate::cases;

const SMALL: &str = "---\ncategories: node_replacement\nstates: scheduled\nengines: redis\npriority: 20\n---\n# Our own runbook: {{ subject }}\n\n## Steps\n\n- [infra] Page the on-call engineer for {{ target.cluster | code }}.\n";

fn render(runbooks: &Runbooks, case: &str) -> cachewatch_core::runbook::Runbook {
    let case = cases::named(case);
    let owners = Owners::default();
    runbooks.render(&case.input(&owners)).unwrap()
}

#[test]
fn a_file_with_a_built_in_name_replaces_only_that_template() {
    // Arrange
    let runbooks = Runbooks::with_overrides([("redis-node-replacement.md", SMALL)]).unwrap();

    // Act
    let redis = render(&runbooks, "redis-primary");
    let memcached = render(&runbooks, "memcached");

    // Assert
    assert_eq!(redis.title, "Our own runbook: orders-0001-001 node 0001");
    assert_eq!(redis.steps().count(), 1);
    assert_eq!(
        redis.steps().next().unwrap().text,
        "Page the on-call engineer for `orders-0001-001`."
    );
    assert_eq!(memcached.template, "memcached-node-replacement.md");
    assert!(memcached.steps().count() > 5);
    let origin = |name: &str| {
        runbooks
            .templates()
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.origin)
    };
    assert_eq!(
        origin("redis-node-replacement.md"),
        Some(TemplateOrigin::Override)
    );
    assert_eq!(origin("generic.md"), Some(TemplateOrigin::Embedded));
}

#[test]
fn a_file_with_a_new_name_adds_a_template_that_can_win_by_priority() {
    // Arrange
    let valkey_only = SMALL
        .replace("engines: redis", "engines: valkey")
        .replace("priority: 20", "priority: 25");
    let runbooks = Runbooks::with_overrides([("valkey-team.md", valkey_only.as_str())]).unwrap();

    // Act
    let valkey = render(&runbooks, "valkey-primary");
    let redis = render(&runbooks, "redis-primary");

    // Assert
    assert_eq!(valkey.template, "valkey-team.md");
    assert_eq!(redis.template, "redis-node-replacement.md");
}

#[test]
fn overriding_a_partial_changes_every_template_that_includes_it() {
    // Arrange
    let plan = "## Our plan\n\n- [app] Follow the wiki page for {{ subject }}.\n";
    let runbooks = Runbooks::with_overrides([("_redis-plan.md", plan)]).unwrap();

    // Act
    let scheduled = render(&runbooks, "redis-primary");
    let rescheduled = render(&runbooks, "rescheduled");

    // Assert
    assert_eq!(scheduled.sections.len(), 1);
    assert_eq!(scheduled.sections[0].heading, "Our plan");
    assert!(rescheduled.sections.iter().any(|s| s.heading == "Our plan"));
    assert!(
        rescheduled
            .sections
            .iter()
            .any(|s| s.heading == "Update the plan")
    );
}

#[test]
fn a_readme_in_the_directory_is_not_a_template() {
    let runbooks = Runbooks::with_overrides([("README.md", "# Our runbooks\n")]).unwrap();
    assert!(runbooks.templates().iter().all(|t| t.name != "README.md"));
}

#[test]
fn broken_files_are_refused_with_the_file_and_the_reason() {
    let cases: Vec<(&str, &str, &str)> = vec![
        ("notes.txt", SMALL, "ends in `.md`"),
        ("../generic.md", SMALL, "bare file name"),
        (
            "generic.md",
            "# no front matter\n",
            "generic.md: front matter",
        ),
        (
            "generic.md",
            "---\nflavour: x\n---\n# t\n",
            "unknown key `flavour`",
        ),
        ("generic.md", "---\n---\n# {% if %}\n", "generic.md: "),
        ("_redis-plan.md", "{% include %}", "_redis-plan.md: "),
    ];
    for (name, content, reason) in cases {
        let err = Runbooks::with_overrides([(name, content)]).unwrap_err();
        assert!(err.to_string().contains(reason), "{name}: {err}");
    }
}

#[test]
fn rendering_reports_templates_that_break_at_render_time_or_leave_the_layout() {
    let cases: Vec<(&str, &str)> = vec![
        ("{{ no_such_value }}", "undefined value"),
        ("## Steps\n\n- [ops] Do it.\n", "unknown owner `[ops]`"),
        ("### Too deep\n", "only `# ` and `## `"),
    ];
    for (body, reason) in cases {
        // Arrange
        let source = format!("---\nkinds: snapshot_failed\npriority: 50\n---\n# Title\n{body}");
        let runbooks = Runbooks::with_overrides([("broken.md", source.as_str())]).unwrap();
        let case = cases::named("generic");
        let owners = Owners::default();

        // Act
        let err = runbooks.render(&case.input(&owners)).unwrap_err();

        // Assert
        assert!(err.to_string().contains("broken.md"), "{err}");
        assert!(err.to_string().contains(reason), "{body}: {err}");
    }
}

#[test]
fn narrowing_every_template_leaves_no_runbook_and_says_so() {
    // Arrange
    let narrow = "---\nkinds: node_replacement_scheduled\n---\n# Only replacements\n";
    let runbooks = Runbooks::with_overrides([("generic.md", narrow)]).unwrap();
    let case = cases::named("generic");
    let owners = Owners::default();

    // Act
    let err = runbooks.render(&case.input(&owners)).unwrap_err();

    // Assert
    assert!(matches!(err, RunbookError::NoTemplate { .. }), "{err}");
    assert!(err.to_string().contains("snapshot_failed"), "{err}");
}

#[test]
fn the_owner_labels_are_the_configured_ones() {
    // Arrange
    let owners = Owners {
        app: "Payments developers".into(),
        infra: "Platform SRE".into(),
    };
    let case = cases::named("redis-primary");

    // Act
    let runbook = Runbooks::embedded().render(&case.input(&owners)).unwrap();

    // Assert
    let labels: std::collections::BTreeSet<&str> =
        runbook.steps().map(|s| s.owner_label.as_str()).collect();
    assert_eq!(labels, ["Payments developers", "Platform SRE"].into());
}
