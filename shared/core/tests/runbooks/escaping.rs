//! What text from an event can and cannot do to a runbook: it is shown as written, and never
//! becomes template code, Markdown structure, a Slack mention, HTML or a second shell command.

use cachewatch_core::runbook::{
    DRILL_NOTICE, Owners, ParagraphStyle, Runbook, RunbookFormat, Runbooks,
};

use crate::cases;

fn hostile() -> Runbook {
    let case = cases::named("hostile-names");
    let owners = Owners::default();
    Runbooks::embedded().render(&case.input(&owners)).unwrap()
}

fn calm() -> Runbook {
    let case = cases::named("redis-primary");
    let owners = Owners::default();
    Runbooks::embedded().render(&case.input(&owners)).unwrap()
}

#[test]
fn event_text_is_never_run_as_template_code() {
    // Act
    let runbook = hostile();

    // Assert
    let message = runbook
        .sections
        .iter()
        .flat_map(|s| &s.paragraphs)
        .filter(|p| p.style == ParagraphStyle::Verbatim)
        .find(|p| p.text.contains("forged step"))
        .expect("the message is shown");
    assert!(
        message
            .text
            .contains("{{ 7 * 7 }} {% if true %}x{% endif %}")
    );
}

#[test]
fn event_text_adds_no_step_and_no_section() {
    // Act
    let hostile = hostile();
    let calm = calm();

    // Assert
    let headings = |rb: &Runbook| {
        rb.sections
            .iter()
            .map(|s| s.heading.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(headings(&hostile), headings(&calm));
    assert_eq!(hostile.steps().count(), calm.steps().count());
    assert!(hostile.steps().all(|s| !s.text.contains("forged")));
}

#[test]
fn a_cluster_named_like_a_slack_mention_pings_nobody() {
    // Act
    let slack = hostile().render(RunbookFormat::Slack);

    // Assert
    assert!(!slack.contains("<!channel>"), "{slack}");
    assert!(!slack.contains("<@U0123>"), "{slack}");
    // The only angle brackets left are the template's own links to AWS's documentation.
    let mut rest = slack.clone();
    while let Some(start) = rest.find("<https://docs.aws.amazon.com/") {
        let end = start + rest[start..].find('>').expect("a closed link");
        rest.replace_range(start..=end, "");
    }
    assert!(!rest.contains('<') && !rest.contains('>'), "{rest}");
    assert!(slack.contains("&lt;!channel&gt;"), "{slack}");
}

#[test]
fn the_html_page_carries_no_markup_from_events() {
    let html = hostile().render(RunbookFormat::Html);
    assert!(!html.contains("<script>"), "{html}");
    assert!(!html.contains("<!channel>"), "{html}");
    assert!(!html.contains("<b>"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
}

#[test]
fn every_value_in_a_command_is_one_quoted_shell_word() {
    // Act
    let runbook = hostile();

    // Assert
    let commands: Vec<&str> = runbook.commands().collect();
    assert!(
        commands
            .iter()
            .any(|c| c.contains("--source-identifier '<!channel> `x` *y* $(reboot)'")),
        "{commands:#?}"
    );
    assert!(
        commands
            .iter()
            .any(|c| c.contains("--replication-group-id 'grp;rm -rf ~'")),
        "{commands:#?}"
    );
    for command in commands {
        let mut quoted = false;
        let mut chars = command.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' if !quoted => {
                    chars.next();
                }
                '\'' => quoted = !quoted,
                ';' | '$' | '`' | '&' | '|' | '<' | '>' | '(' | ')' | '"' => {
                    assert!(quoted, "unquoted `{c}` in {command}");
                }
                _ => {}
            }
        }
        assert!(!quoted, "unbalanced quotes in {command}");
    }
}

#[test]
fn a_drill_says_so_first_in_every_format() {
    // Arrange
    let case = cases::named("drill");
    let owners = Owners::default();

    // Act
    let runbook = Runbooks::embedded().render(&case.input(&owners)).unwrap();

    // Assert
    assert!(runbook.drill);
    for format in RunbookFormat::ALL {
        let out = runbook.render(format);
        let head: String = out.lines().take(12).collect::<Vec<_>>().join("\n");
        assert!(head.contains("DRILL"), "{format}: {head}");
    }
    assert!(DRILL_NOTICE.starts_with("DRILL"));
    assert!(!calm().render(RunbookFormat::Markdown).contains("DRILL"));
}
