//! A rendered runbook as structure: a title, sections, and in each section paragraphs and steps,
//! every step with its owner and its commands. The structure is read back from the Markdown a
//! template renders, following the layout described in `runbooks/README.md`:
//!
//! - `# Title` once; `## Heading` opens a section (no deeper headings);
//! - `- [app] text` or `- [infra] text` is a step owned by that team; lines indented under it
//!   continue its text, and a fenced block indented under it holds its commands, one per line
//!   (a line ending in `\` continues on the next);
//! - any other `- item`, `> quote`, fenced block or text line is a paragraph (blank lines
//!   separate paragraphs).

use serde::{Deserialize, Serialize};

use super::inline;

/// The team a step belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Owner {
    /// The application team (`[app]` in a template).
    App,
    /// The infrastructure team (`[infra]` in a template).
    Infra,
}

impl Owner {
    /// The marker that names the owner in a template (`app`, `infra`).
    pub fn as_str(self) -> &'static str {
        match self {
            Owner::App => "app",
            Owner::Infra => "infra",
        }
    }

    /// Reads an owner marker.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "app" => Some(Owner::App),
            "infra" => Some(Owner::Infra),
            _ => None,
        }
    }
}

/// How a paragraph is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParagraphStyle {
    /// Running text.
    Text,
    /// An item of a bulleted list.
    Bullet,
    /// A quotation.
    Quote,
    /// Verbatim text (an event's original message): shown as is, never as Markdown.
    Verbatim,
}

/// A paragraph of a section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paragraph {
    /// How it is shown.
    pub style: ParagraphStyle,
    /// Inline Markdown (see [`inline`]), or the verbatim text.
    pub text: String,
}

/// One thing one team does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Its number in the whole runbook, from 1.
    pub number: usize,
    /// Who does it.
    pub owner: Owner,
    /// The owner as people call it (from [`Owners`](super::Owners)).
    pub owner_label: String,
    /// What to do, as inline Markdown.
    pub text: String,
    /// The shell commands that do it, each as written (a long one continues over lines ending
    /// in `\`).
    pub commands: Vec<String>,
}

/// A part of a runbook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    /// Its heading (inline Markdown); empty for text before the first heading.
    pub heading: String,
    /// Its explanations, in order.
    pub paragraphs: Vec<Paragraph>,
    /// Its steps, in order (shown after the paragraphs).
    pub steps: Vec<Step>,
}

/// A runbook rendered for one event or maintenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Runbook {
    /// The template file it was rendered from.
    pub template: String,
    /// Its title (inline Markdown).
    pub title: String,
    /// Whether it is for a drill (every format then says so first).
    pub drill: bool,
    /// Its sections.
    pub sections: Vec<Section>,
}

impl Runbook {
    /// Every step, in order.
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        self.sections.iter().flat_map(|s| s.steps.iter())
    }

    /// Every command, in order.
    pub fn commands(&self) -> impl Iterator<Item = &str> {
        self.steps()
            .flat_map(|s| s.commands.iter().map(String::as_str))
    }

    /// The title without markup.
    pub fn plain_title(&self) -> String {
        inline::plain(&inline::parse(&self.title))
    }
}

/// Why rendered Markdown does not follow the runbook layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutError {
    /// The 1-based line of the rendered text.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

/// A fence opening: its indentation, its backtick count and its info string.
fn fence_open(line: &str) -> Option<(usize, usize, &str)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let rest = &line[indent..];
    let ticks = rest.chars().take_while(|&c| c == '`').count();
    (ticks >= 3 && !rest[ticks..].contains('`')).then(|| (indent, ticks, rest[ticks..].trim()))
}

fn fence_closes(line: &str, ticks: usize) -> bool {
    let rest = line.trim();
    rest.len() >= ticks && rest.chars().all(|c| c == '`')
}

/// A step marker at the start of a list item: `[app] ` -> (owner word, rest).
fn step_marker(item: &str) -> Option<(&str, &str)> {
    let inner = item.strip_prefix('[')?;
    let (word, rest) = inner.split_once(']')?;
    (!word.is_empty() && word.chars().all(|c| c.is_ascii_lowercase()) && rest.starts_with(' '))
        .then(|| (word, rest.trim_start()))
}

enum Open {
    Nothing,
    Paragraph(ParagraphStyle),
    Step,
}

struct Reader {
    title: Option<String>,
    sections: Vec<Section>,
    open: Open,
    steps: usize,
}

impl Reader {
    fn section(&mut self) -> &mut Section {
        if self.sections.is_empty() {
            self.sections.push(Section {
                heading: String::new(),
                paragraphs: Vec::new(),
                steps: Vec::new(),
            });
        }
        let last = self.sections.len() - 1;
        &mut self.sections[last]
    }

    fn paragraph(&mut self, style: ParagraphStyle, text: &str) {
        self.section().paragraphs.push(Paragraph {
            style,
            text: text.to_owned(),
        });
        self.open = Open::Paragraph(style);
    }

    /// Adds `text` to the open paragraph or step, if it continues it.
    fn continue_with(&mut self, text: &str, style: Option<ParagraphStyle>) -> bool {
        let target = match (&self.open, style) {
            (Open::Step, None) => self.section().steps.last_mut().map(|s| &mut s.text),
            (Open::Paragraph(open), Some(style)) if *open == style => {
                self.section().paragraphs.last_mut().map(|p| &mut p.text)
            }
            _ => None,
        };
        match target {
            Some(existing) => {
                existing.push(' ');
                existing.push_str(text);
                true
            }
            None => false,
        }
    }
}

/// Reads rendered Markdown into a runbook. Owner labels are filled in by the caller.
pub fn read(markdown: &str, template: &str) -> Result<Runbook, LayoutError> {
    let lines: Vec<&str> = markdown.lines().collect();
    let mut r = Reader {
        title: None,
        sections: Vec::new(),
        open: Open::Nothing,
        steps: 0,
    };
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_end();
        if line.is_empty() {
            if !matches!(r.open, Open::Step) {
                r.open = Open::Nothing;
            }
            i += 1;
        } else if let Some((fence_indent, ticks, _info)) = fence_open(line) {
            i = r.fenced_block(&lines, i, fence_indent, ticks)?;
        } else {
            r.line(line, i)?;
            i += 1;
        }
    }
    r.finish(template)
}

/// A layout error at the 0-based line `line`.
fn layout_error(line: usize, reason: &str) -> LayoutError {
    LayoutError {
        line: line + 1,
        reason: reason.to_owned(),
    }
}

impl Reader {
    /// The fenced block opening at `start`: a step's commands when indented under a step, a
    /// verbatim paragraph at the margin. Returns the line after its closing fence.
    fn fenced_block(
        &mut self,
        lines: &[&str],
        start: usize,
        fence_indent: usize,
        ticks: usize,
    ) -> Result<usize, LayoutError> {
        let mut body = Vec::new();
        let mut i = start + 1;
        loop {
            let Some(inner) = lines.get(i) else {
                return Err(layout_error(start, "a fenced block is never closed"));
            };
            if fence_closes(inner, ticks) {
                break;
            }
            let cut = inner.len() - inner.trim_start_matches(' ').len();
            body.push(&inner[cut.min(fence_indent)..]);
            i += 1;
        }
        if fence_indent > 0 && matches!(self.open, Open::Step) {
            let commands = commands_of(&body).map_err(|reason| layout_error(start, &reason))?;
            if let Some(step) = self.section().steps.last_mut() {
                step.commands.extend(commands);
            }
        } else if fence_indent == 0 {
            let text = body.join("\n");
            self.paragraph(ParagraphStyle::Verbatim, &text);
            self.open = Open::Nothing;
        } else {
            return Err(layout_error(
                start,
                "an indented fenced block must belong to a step",
            ));
        }
        Ok(i + 1)
    }

    /// One line that is neither empty nor part of a fenced block: a heading, a step or list
    /// item, a quote, or text continuing what is open.
    fn line(&mut self, line: &str, i: usize) -> Result<(), LayoutError> {
        let indent = line.len() - line.trim_start().len();
        if let Some(title) = line.strip_prefix("# ") {
            if self.title.is_some() {
                return Err(layout_error(i, "a runbook has one `# ` title"));
            }
            self.title = Some(title.trim().to_owned());
            self.open = Open::Nothing;
        } else if let Some(heading) = line.strip_prefix("## ") {
            self.sections.push(Section {
                heading: heading.trim().to_owned(),
                paragraphs: Vec::new(),
                steps: Vec::new(),
            });
            self.open = Open::Nothing;
        } else if line.starts_with('#') && line.trim_start_matches('#').starts_with(' ') {
            return Err(layout_error(
                i,
                "only `# ` and `## ` headings are part of the layout",
            ));
        } else if indent == 0
            && let Some(item) = line.strip_prefix("- ").or_else(|| line.strip_prefix("* "))
        {
            self.item(item, i)?;
        } else if indent == 0 && (line == ">" || line.starts_with("> ")) {
            let text = line.trim_start_matches('>').trim();
            if !self.continue_with(text, Some(ParagraphStyle::Quote)) {
                self.paragraph(ParagraphStyle::Quote, text);
            }
        } else if indent > 0 {
            let text = line.trim();
            if !self.continue_with(text, None)
                && !self.continue_with(text, Some(ParagraphStyle::Bullet))
            {
                return Err(layout_error(
                    i,
                    "an indented line must continue a step or a list item",
                ));
            }
        } else if !self.continue_with(line, Some(ParagraphStyle::Text)) {
            self.paragraph(ParagraphStyle::Text, line);
        }
        Ok(())
    }

    /// A list item at the margin: a step when it opens with an owner (`[app]`), else a bullet.
    fn item(&mut self, item: &str, i: usize) -> Result<(), LayoutError> {
        match step_marker(item) {
            Some((word, text)) => {
                let owner = Owner::parse(word).ok_or_else(|| {
                    layout_error(
                        i,
                        &format!("unknown owner `[{word}]`: use `[app]` or `[infra]`"),
                    )
                })?;
                self.steps += 1;
                let number = self.steps;
                self.section().steps.push(Step {
                    number,
                    owner,
                    owner_label: String::new(),
                    text: text.to_owned(),
                    commands: Vec::new(),
                });
                self.open = Open::Step;
            }
            None => self.paragraph(ParagraphStyle::Bullet, item.trim()),
        }
        Ok(())
    }

    /// The runbook read: its title, and the sections that hold something.
    fn finish(self, template: &str) -> Result<Runbook, LayoutError> {
        let title = self
            .title
            .ok_or_else(|| layout_error(0, "the runbook has no `# ` title"))?;
        let sections = self
            .sections
            .into_iter()
            .filter(|s| !(s.heading.is_empty() && s.paragraphs.is_empty() && s.steps.is_empty()))
            .collect();
        Ok(Runbook {
            template: template.to_owned(),
            title,
            drill: false,
            sections,
        })
    }
}

/// The commands of a step's fenced block: one per line, `\` at the end of a line continuing it.
fn commands_of(body: &[&str]) -> Result<Vec<String>, String> {
    let mut commands = Vec::new();
    let mut current: Option<String> = None;
    for line in body {
        let line = line.trim_end();
        if line.trim().is_empty() {
            if current.is_some() {
                return Err("a command continued with `\\` is followed by an empty line".into());
            }
            continue;
        }
        if current.is_none() && line.trim_start().starts_with('#') {
            return Err("a command block holds commands only, not comments".into());
        }
        let command = current.get_or_insert_with(String::new);
        if !command.is_empty() {
            command.push('\n');
        }
        command.push_str(line);
        if !line.ends_with('\\')
            && let Some(done) = current.take()
        {
            commands.push(done);
        }
    }
    if current.is_some() {
        return Err("the last command ends with `\\`".into());
    }
    Ok(commands)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\n\n# Node replacement: `orders`\n\nIntro line one\nline two.\n\n## Understand\n\nSome text.\n\n- a bullet\n  continued\n> quoted\n\n- [infra] Confirm the notice\n  in the log:\n  ```sh\n  aws elasticache describe-events \\\n    --duration 60\n  aws elasticache describe-cache-clusters\n  ```\n- [app] Stop the jobs.\n\n```text\nraw <message>\n```\n\n## Decide\n\n* [app] Choose.\n";

    #[test]
    fn the_layout_is_read_into_sections_paragraphs_and_steps() {
        // Act
        let rb = read(SAMPLE, "x.md").unwrap();

        // Assert
        assert_eq!(rb.title, "Node replacement: `orders`");
        assert_eq!(rb.sections.len(), 3);
        assert_eq!(rb.sections[0].heading, "");
        assert_eq!(
            rb.sections[0].paragraphs[0].text,
            "Intro line one line two."
        );
        let understand = &rb.sections[1];
        assert_eq!(understand.heading, "Understand");
        let styles: Vec<(ParagraphStyle, &str)> = understand
            .paragraphs
            .iter()
            .map(|p| (p.style, p.text.as_str()))
            .collect();
        assert_eq!(
            styles,
            vec![
                (ParagraphStyle::Text, "Some text."),
                (ParagraphStyle::Bullet, "a bullet continued"),
                (ParagraphStyle::Quote, "quoted"),
                (ParagraphStyle::Verbatim, "raw <message>"),
            ]
        );
        assert_eq!(understand.steps.len(), 2);
        assert_eq!(understand.steps[0].owner, Owner::Infra);
        assert_eq!(understand.steps[0].text, "Confirm the notice in the log:");
        assert_eq!(
            understand.steps[0].commands,
            vec![
                "aws elasticache describe-events \\\n  --duration 60".to_owned(),
                "aws elasticache describe-cache-clusters".to_owned(),
            ]
        );
        assert_eq!(understand.steps[1].owner, Owner::App);
        assert_eq!(rb.sections[2].steps[0].number, 3);
        assert_eq!(rb.commands().count(), 2);
    }

    #[test]
    fn text_outside_the_layout_is_refused_with_its_line() {
        let cases = [
            ("no title\n", 1, "no `# ` title"),
            ("# A\n# B\n", 2, "one `# ` title"),
            ("# A\n### deep\n", 2, "only `# ` and `## `"),
            ("# A\n- [ops] do\n", 2, "unknown owner `[ops]`"),
            ("# A\n  stray\n", 2, "must continue"),
            ("# A\n- [app] x\n  ```sh\n  cmd\n", 3, "never closed"),
            (
                "# A\n- [app] x\n  ```sh\n  # comment\n  ```\n",
                3,
                "commands only",
            ),
            ("# A\n- [app] x\n  ```sh\n  cmd \\\n  ```\n", 3, "ends with"),
            ("# A\ntext\n  ```sh\n  cmd\n  ```\n", 3, "belong to a step"),
        ];
        for (markdown, line, reason) in cases {
            let e = read(markdown, "x.md").unwrap_err();
            assert_eq!(e.line, line, "{markdown:?}: {}", e.reason);
            assert!(e.reason.contains(reason), "{markdown:?}: {}", e.reason);
        }
    }

    #[test]
    fn an_escaped_marker_is_text_not_a_step() {
        let rb = read("# A\n- \\[app\\] not a step\n", "x.md").unwrap();
        assert_eq!(rb.steps().count(), 0);
        assert_eq!(rb.sections[0].paragraphs[0].style, ParagraphStyle::Bullet);
    }
}
