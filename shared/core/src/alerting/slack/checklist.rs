//! A rendered runbook as a checklist for a maintenance's thread: one section per step, with its
//! owner and its commands, over as many messages as Slack's limits need.

use super::SlackMessage;
use super::blockkit::Block;
use super::blocks;
use super::limits;
use super::mrkdwn;
use crate::runbook::inline::{self, Span};
use crate::runbook::{DRILL_NOTICE, ParagraphStyle, Runbook, Section, Step};

/// Most characters of one section of the checklist: under Slack's 3,000, so a cut never lands
/// in the middle of a code block.
const SECTION: usize = 2900;
/// Room kept in each message for the line that says which part it is.
const PART_LINE: usize = 400;

/// Inline Markdown of a runbook as mrkdwn: text escaped, code spans as code, strong as bold.
fn inline_mrkdwn(spans: &[Span]) -> String {
    let mut out = String::new();
    for span in spans {
        match span {
            Span::Text(t) => out.push_str(&mrkdwn::escape_line(t)),
            Span::Code(c) => out.push_str(&mrkdwn::code(c)),
            Span::Strong(inner) => {
                let text = inline_mrkdwn(inner);
                if text.trim().is_empty() {
                    out.push_str(&text);
                } else {
                    out.push('*');
                    out.push_str(&text);
                    out.push('*');
                }
            }
            // The address holds no `<`, `>` or `|` (see `inline`): only the text is escaped.
            Span::Link { text, url } => {
                out.push('<');
                out.push_str(url);
                out.push('|');
                out.push_str(&mrkdwn::escape_line(&text.replace('|', "¦")));
                out.push('>');
            }
        }
    }
    out
}

fn md(markdown: &str) -> String {
    inline_mrkdwn(&inline::parse(markdown))
}

/// The texts of a section's heading and paragraphs, each at most [`SECTION`].
fn section_texts(section: &Section) -> Vec<String> {
    let mut parts = Vec::new();
    if !section.heading.is_empty() {
        parts.push(format!("*{}*", md(&section.heading)));
    }
    for p in &section.paragraphs {
        parts.push(match p.style {
            ParagraphStyle::Text => md(&p.text),
            ParagraphStyle::Bullet => format!("• {}", md(&p.text)),
            ParagraphStyle::Quote => format!("> {}", md(&p.text)),
            ParagraphStyle::Verbatim => mrkdwn::code_block(&p.text),
        });
    }
    join_within(parts, "\n")
}

/// The texts of a step: its line, then its commands, each text at most [`SECTION`].
fn step_texts(step: &Step) -> Vec<String> {
    let line = format!(
        "☐ *{}.* _{}:_ {}",
        step.number,
        mrkdwn::escape_line(&step.owner_label),
        md(&step.text)
    );
    let mut parts = vec![line];
    parts.extend(step.commands.iter().map(|c| mrkdwn::code_block(c)));
    join_within(parts, "\n")
}

/// `parts` joined by `sep` into as few texts as keep each within [`SECTION`]; a part longer
/// than that on its own is cut.
fn join_within(parts: Vec<String>, sep: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for part in parts {
        let part = mrkdwn::truncate(&part, SECTION);
        if !current.is_empty()
            && mrkdwn::len(&current) + mrkdwn::len(sep) + mrkdwn::len(&part) > SECTION
        {
            out.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push_str(sep);
        }
        current.push_str(&part);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The runbook as checklist messages for a thread, in order. Each stays within Slack's limits;
/// a long runbook takes several, each saying which part it is.
pub fn checklist(runbook: &Runbook) -> Vec<SlackMessage> {
    checklist_with(runbook, None)
}

/// The checklist of a runbook shared by several maintenances, opening with `intro` (mrkdwn: the
/// maintenances it covers).
pub fn shared_checklist(runbook: &Runbook, intro: &str) -> Vec<SlackMessage> {
    checklist_with(runbook, Some(intro))
}

/// The blocks packed into messages within Slack's limits, keeping room in each for the part
/// line; a divider separates sections within a message, never a message from the next.
fn packed(all: Vec<Block>) -> Vec<Vec<Block>> {
    let mut packs: Vec<Vec<Block>> = Vec::new();
    let mut current: Vec<Block> = Vec::new();
    let mut used = 0;
    for block in all {
        let l = blocks::text_len(&block);
        let full =
            current.len() + 1 > limits::BLOCKS - 1 || used + l > limits::BLOCKS_TEXT - PART_LINE;
        if full && !current.is_empty() {
            packs.push(std::mem::take(&mut current));
            used = 0;
        }
        used += l;
        current.push(block);
    }
    if !current.is_empty() {
        packs.push(current);
    }
    let is_divider = |b: &Block| *b == Block::Divider;
    for pack in &mut packs {
        while pack.last().is_some_and(is_divider) {
            pack.pop();
        }
        while pack.first().is_some_and(is_divider) {
            pack.remove(0);
        }
    }

    packs
}

fn checklist_with(runbook: &Runbook, intro: Option<&str>) -> Vec<SlackMessage> {
    let title = inline::plain(&inline::parse(&runbook.title));
    let mut all: Vec<Block> = Vec::new();
    let drill = if runbook.drill { "🧪 DRILL · " } else { "" };
    all.push(blocks::header(&format!("{drill}☑️ Checklist: {title}")));
    if let Some(intro) = intro {
        all.push(blocks::context(&[mrkdwn::truncate(
            intro,
            limits::SECTION_TEXT,
        )]));
    }
    if runbook.drill {
        all.push(blocks::section(&format!(
            "🧪 *{}*",
            mrkdwn::escape(DRILL_NOTICE)
        )));
    }
    for (i, section) in runbook.sections.iter().enumerate() {
        if i > 0 && !section.heading.is_empty() {
            all.push(Block::Divider);
        }
        all.extend(section_texts(section).iter().map(|t| blocks::section(t)));
        for step in &section.steps {
            all.extend(step_texts(step).iter().map(|t| blocks::section(t)));
        }
    }
    let steps = runbook.steps().count();
    all.push(blocks::context(&[format!(
        "{steps} steps. Say in this thread what is done as you go; *Record outcome* on the alert keeps the result."
    )]));

    let packs = packed(all);
    let n = packs.len();
    packs
        .into_iter()
        .enumerate()
        .map(|(i, mut blocks)| {
            let text = if n == 1 {
                format!("{drill}Checklist: {title}")
            } else {
                format!("{drill}Checklist: {title} (part {} of {n})", i + 1)
            };
            if i > 0 {
                blocks.insert(
                    0,
                    blocks::context(&[mrkdwn::truncate(
                        &format!(
                            "{drill}☑️ *Checklist: {}*, part {} of {n}",
                            mrkdwn::escape_line(&title),
                            i + 1
                        ),
                        PART_LINE,
                    )]),
                );
            }
            blocks::message(&text, blocks)
        })
        .collect()
}
