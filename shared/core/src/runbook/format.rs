//! A runbook in each output format: Markdown, a GitHub checklist grouped by owner, Slack
//! mrkdwn, plain text and a printable HTML page.
//!
//! Texts are inline Markdown already escaped by the template; here they are read into spans
//! ([`inline`]) and written out in each format's own syntax, with that format's escaping applied
//! to every character that came from the text, so an event's value stays inert everywhere.

use std::fmt;
use std::fmt::Write as _;

use super::document::{ParagraphStyle, Runbook, Section, Step};
use super::escape;
use super::inline::{self, Span};

/// The line every format puts first for a drill.
pub const DRILL_NOTICE: &str =
    "DRILL: this runbook is for an exercise. Nothing is happening to a real cluster.";

/// The formats a runbook is rendered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunbookFormat {
    /// Markdown, in the runbook's order.
    Markdown,
    /// A `- [ ]` checklist in the runbook's order, with its explanations, to paste into a
    /// GitHub issue.
    Github,
    /// Slack mrkdwn, every text escaped for Slack.
    Slack,
    /// Plain text.
    Text,
    /// A standalone, printable HTML page with checkboxes.
    Html,
}

impl RunbookFormat {
    /// Every format, in the order the CLI lists them.
    pub const ALL: [RunbookFormat; 5] = [
        RunbookFormat::Markdown,
        RunbookFormat::Github,
        RunbookFormat::Slack,
        RunbookFormat::Text,
        RunbookFormat::Html,
    ];

    /// The format's name (`markdown`, `github`, `slack`, `text`, `html`).
    pub fn as_str(self) -> &'static str {
        match self {
            RunbookFormat::Markdown => "markdown",
            RunbookFormat::Github => "github",
            RunbookFormat::Slack => "slack",
            RunbookFormat::Text => "text",
            RunbookFormat::Html => "html",
        }
    }

    /// Reads a format name, in any case (`md` and `txt` too).
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "markdown" | "md" => Some(RunbookFormat::Markdown),
            "github" | "gh" => Some(RunbookFormat::Github),
            "slack" => Some(RunbookFormat::Slack),
            "text" | "txt" | "plain" => Some(RunbookFormat::Text),
            "html" => Some(RunbookFormat::Html),
            _ => None,
        }
    }

    /// The usual file extension of the format.
    pub fn extension(self) -> &'static str {
        match self {
            RunbookFormat::Markdown | RunbookFormat::Github => "md",
            RunbookFormat::Slack | RunbookFormat::Text => "txt",
            RunbookFormat::Html => "html",
        }
    }
}

impl fmt::Display for RunbookFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Runbook {
    /// The runbook in `format`.
    pub fn render(&self, format: RunbookFormat) -> String {
        match format {
            RunbookFormat::Markdown => markdown(self),
            RunbookFormat::Github => github(self),
            RunbookFormat::Slack => slack(self),
            RunbookFormat::Text => text(self),
            RunbookFormat::Html => super::html::document(self),
        }
    }
}

/// Writes `s` to `out`; writing to a `String` cannot fail.
fn put(out: &mut String, s: impl fmt::Display) {
    let _ = write!(out, "{s}");
}

/// A fenced block of `commands` for Markdown, indented by `indent` spaces.
fn markdown_commands(out: &mut String, commands: &[String], indent: usize) {
    if commands.is_empty() {
        return;
    }
    let pad = " ".repeat(indent);
    let all = commands.join("\n");
    let longest = all.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat((longest + 1).max(3));
    put(out, format_args!("{pad}{fence}sh\n"));
    for line in all.lines() {
        put(out, format_args!("{pad}{line}\n"));
    }
    put(out, format_args!("{pad}{fence}\n"));
}

fn markdown_paragraphs(out: &mut String, section: &Section) {
    let mut previous: Option<ParagraphStyle> = None;
    for p in &section.paragraphs {
        let tight = previous == Some(ParagraphStyle::Bullet) && p.style == ParagraphStyle::Bullet;
        if !tight && previous.is_some() {
            out.push('\n');
        }
        match p.style {
            ParagraphStyle::Text => put(out, format_args!("{}\n", p.text)),
            ParagraphStyle::Bullet => put(out, format_args!("- {}\n", p.text)),
            ParagraphStyle::Quote => put(out, format_args!("> {}\n", p.text)),
            ParagraphStyle::Verbatim => out.push_str(&escape::fenced_block(&p.text, "text")),
        }
        previous = Some(p.style);
    }
}

fn owner_markdown(step: &Step) -> String {
    format!("**{}:**", escape::markdown_text(&step.owner_label))
}

fn markdown(rb: &Runbook) -> String {
    let mut out = String::new();
    put(&mut out, format_args!("# {}\n", rb.title));
    if rb.drill {
        put(&mut out, format_args!("\n> **{DRILL_NOTICE}**\n"));
    }
    for section in &rb.sections {
        out.push('\n');
        if !section.heading.is_empty() {
            put(&mut out, format_args!("## {}\n\n", section.heading));
        }
        markdown_paragraphs(&mut out, section);
        if !section.paragraphs.is_empty() && !section.steps.is_empty() {
            out.push('\n');
        }
        for step in &section.steps {
            let marker = format!("{}. ", step.number);
            put(
                &mut out,
                format_args!("{marker}{} {}\n", owner_markdown(step), step.text),
            );
            markdown_commands(&mut out, &step.commands, marker.len());
        }
    }
    out
}

/// A GitHub issue body: the runbook in its own order (so the order between the teams stays
/// visible), every section's explanations kept (the deadline, the impact, the risks, the
/// decision), and each step a checkbox naming its team. A step's condition is part of its text.
fn github(rb: &Runbook) -> String {
    let mut out = String::new();
    put(&mut out, format_args!("## {}\n", rb.title));
    if rb.drill {
        put(&mut out, format_args!("\n> **{DRILL_NOTICE}**\n"));
    }
    for section in &rb.sections {
        out.push('\n');
        if !section.heading.is_empty() {
            put(&mut out, format_args!("### {}\n\n", section.heading));
        }
        markdown_paragraphs(&mut out, section);
        if !section.paragraphs.is_empty() && !section.steps.is_empty() {
            out.push('\n');
        }
        for step in &section.steps {
            put(
                &mut out,
                format_args!(
                    "- [ ] **{}.** {} {}\n",
                    step.number,
                    owner_markdown(step),
                    step.text
                ),
            );
            markdown_commands(&mut out, &step.commands, 2);
        }
    }
    out
}

/// Inline spans as Slack mrkdwn.
fn slack_inline(spans: &[Span]) -> String {
    let mut out = String::new();
    for span in spans {
        match span {
            Span::Text(t) => out.push_str(&escape::slack(t)),
            // Slack has no escape for a backtick inside code: show a look-alike instead.
            Span::Code(c) => put(
                &mut out,
                format_args!("`{}`", escape::slack(&c.replace('`', "ˋ"))),
            ),
            Span::Strong(inner) => {
                let text = slack_inline(inner);
                if text.trim().is_empty() {
                    out.push_str(&text);
                } else {
                    put(&mut out, format_args!("*{text}*"));
                }
            }
            // The address holds no `<`, `>` or `|` (see `inline`): only the text needs escaping.
            Span::Link { text, url } => put(
                &mut out,
                format_args!("<{url}|{}>", escape::slack(&text.replace('|', "¦"))),
            ),
        }
    }
    out
}

fn slack_md(markdown: &str) -> String {
    slack_inline(&inline::parse(markdown))
}

fn slack(rb: &Runbook) -> String {
    let mut out = String::new();
    if rb.drill {
        put(
            &mut out,
            format_args!("*{}*\n\n", escape::slack(DRILL_NOTICE)),
        );
    }
    put(&mut out, format_args!("*{}*\n", slack_md(&rb.title)));
    for section in &rb.sections {
        out.push('\n');
        if !section.heading.is_empty() {
            put(&mut out, format_args!("*{}*\n", slack_md(&section.heading)));
        }
        for p in &section.paragraphs {
            match p.style {
                ParagraphStyle::Text => put(&mut out, format_args!("{}\n", slack_md(&p.text))),
                ParagraphStyle::Bullet => put(&mut out, format_args!("• {}\n", slack_md(&p.text))),
                ParagraphStyle::Quote => put(&mut out, format_args!("> {}\n", slack_md(&p.text))),
                ParagraphStyle::Verbatim => put(
                    &mut out,
                    format_args!("```{}```\n", escape::slack(&p.text.replace('`', "ˋ"))),
                ),
            }
        }
        for step in &section.steps {
            put(
                &mut out,
                format_args!(
                    "☐ *{}.* _{}:_ {}\n",
                    step.number,
                    escape::slack(&step.owner_label),
                    slack_md(&step.text)
                ),
            );
            if !step.commands.is_empty() {
                let code = escape::slack(&step.commands.join("\n").replace('`', "ˋ"));
                put(&mut out, format_args!("```{code}```\n"));
            }
        }
    }
    out
}

fn plain_md(markdown: &str) -> String {
    inline::plain(&inline::parse(markdown))
}

fn underline(out: &mut String, text: &str, mark: char) {
    put(out, format_args!("{text}\n"));
    let width = text.chars().count().max(3);
    put(out, format_args!("{}\n", mark.to_string().repeat(width)));
}

fn text(rb: &Runbook) -> String {
    let mut out = String::new();
    if rb.drill {
        put(&mut out, format_args!("{DRILL_NOTICE}\n\n"));
    }
    underline(&mut out, &plain_md(&rb.title), '=');
    for section in &rb.sections {
        out.push('\n');
        if !section.heading.is_empty() {
            underline(&mut out, &plain_md(&section.heading), '-');
        }
        let mut previous: Option<ParagraphStyle> = None;
        for p in &section.paragraphs {
            let tight =
                previous == Some(ParagraphStyle::Bullet) && p.style == ParagraphStyle::Bullet;
            if previous.is_some() && !tight {
                out.push('\n');
            }
            match p.style {
                ParagraphStyle::Text => put(&mut out, format_args!("{}\n", plain_md(&p.text))),
                ParagraphStyle::Bullet => {
                    put(&mut out, format_args!("  * {}\n", plain_md(&p.text)))
                }
                ParagraphStyle::Quote => put(&mut out, format_args!("  | {}\n", plain_md(&p.text))),
                ParagraphStyle::Verbatim => {
                    for line in p.text.lines() {
                        put(&mut out, format_args!("    {line}\n"));
                    }
                }
            }
            previous = Some(p.style);
        }
        if previous.is_some() && !section.steps.is_empty() {
            out.push('\n');
        }
        for step in &section.steps {
            put(
                &mut out,
                format_args!(
                    "[ ] {}. {}: {}\n",
                    step.number,
                    step.owner_label,
                    plain_md(&step.text)
                ),
            );
            for command in &step.commands {
                for line in command.lines() {
                    put(&mut out, format_args!("      {line}\n"));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runbook::document::{Owner, Paragraph};

    fn hostile() -> Runbook {
        Runbook {
            template: "x.md".into(),
            title: r"Node replacement: `<!channel>` \<!here\>".into(),
            drill: true,
            sections: vec![Section {
                heading: "Understand & decide".into(),
                paragraphs: vec![
                    Paragraph {
                        style: ParagraphStyle::Text,
                        text: r"Cluster \<\!channel\> & `a``b`".into(),
                    },
                    Paragraph {
                        style: ParagraphStyle::Verbatim,
                        text: "raw <@U123> ```".into(),
                    },
                ],
                steps: vec![Step {
                    number: 1,
                    owner: Owner::Infra,
                    owner_label: "Infra <team>".into(),
                    text: "Run it".into(),
                    commands: vec![
                        "aws elasticache describe-events --source-identifier '<!channel>'".into(),
                    ],
                }],
            }],
        }
    }

    #[test]
    fn format_names_read_in_any_case() {
        for format in RunbookFormat::ALL {
            assert_eq!(RunbookFormat::parse(format.as_str()), Some(format));
            assert_eq!(
                RunbookFormat::parse(&format.as_str().to_uppercase()),
                Some(format)
            );
        }
        assert_eq!(RunbookFormat::parse("pdf"), None);
    }

    #[test]
    fn slack_output_pings_nobody() {
        // Act
        let out = hostile().render(RunbookFormat::Slack);

        // Assert
        assert!(!out.contains('<') && !out.contains('>'), "{out}");
        assert!(out.contains("&lt;!channel&gt;"), "{out}");
        assert!(out.contains("&lt;@U123&gt;"), "{out}");
        assert!(out.starts_with("*DRILL"), "{out}");
    }

    #[test]
    fn html_output_has_no_markup_from_the_texts() {
        let out = hostile().render(RunbookFormat::Html);
        assert!(!out.contains("<!channel>"), "{out}");
        assert!(!out.contains("<@U123>"), "{out}");
        assert!(!out.contains("<team>"), "{out}");
        assert!(out.contains("&lt;!channel&gt;"), "{out}");
        assert!(
            out.contains("<input type=\"checkbox\" id=\"step-1-box\""),
            "{out}"
        );
        assert!(out.contains("class=\"drill\""), "{out}");
    }

    #[test]
    fn markdown_fences_outlast_the_backticks_they_hold() {
        let mut rb = hostile();
        rb.sections[0].steps[0].commands = vec!["echo '```'".into()];
        let out = rb.render(RunbookFormat::Markdown);
        assert!(out.contains("   ````sh\n   echo '```'\n   ````\n"), "{out}");
        assert!(out.contains("````text\nraw <@U123> ```\n````\n"), "{out}");
    }

    #[test]
    fn github_checklists_keep_the_order_and_the_explanations() {
        let mut rb = hostile();
        rb.sections[0].steps.push(Step {
            number: 2,
            owner: Owner::App,
            owner_label: "Application team".into(),
            text: "**Only if you chose it:** stop the jobs".into(),
            commands: vec![],
        });
        let out = rb.render(RunbookFormat::Github);
        let first = out
            .find("- [ ] **1.** **Infra \\<team\\>:** Run it")
            .unwrap();
        let second = out
            .find("- [ ] **2.** **Application team:** **Only if you chose it:** stop the jobs")
            .unwrap();
        assert!(first < second, "{out}");
        assert!(out.contains("### Understand & decide"), "{out}");
        assert!(out.contains(r"Cluster \<\!channel\> & `a``b`"), "{out}");
    }
}
