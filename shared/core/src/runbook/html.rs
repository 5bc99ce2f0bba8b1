//! A runbook as HTML, the one way it is written: the printable page of the `html` format and the
//! runbook page the HTTP door serves both come from here. Texts are inline Markdown already
//! escaped by the template; every character that came from a text is escaped for HTML.
//!
//! Each step is a checkbox with its number, its owner and its commands in a `pre`. A reader of
//! the page may have recorded steps already: those are ticked, with who did them and when
//! ([`DoneStep`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::document::{ParagraphStyle, Runbook, Section, Step};
use super::escape;
use super::format::DRILL_NOTICE;
use super::inline::{self, Span};

/// A step already done, as a page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoneStep {
    /// Who did it.
    pub by: String,
    /// When, as shown to the reader.
    pub at: String,
}

/// Inline Markdown of a runbook text as HTML: code spans, strong emphasis and links become
/// elements, every character of the text is escaped.
pub fn inline_html(markdown: &str) -> String {
    let mut out = String::new();
    spans(&mut out, &inline::parse(markdown));
    out
}

fn spans(out: &mut String, list: &[Span]) {
    for span in list {
        match span {
            Span::Text(t) => out.push_str(&escape::html(t)),
            Span::Code(c) => {
                let _ = write!(out, "<code>{}</code>", escape::html(c));
            }
            Span::Strong(inner) => {
                out.push_str("<strong>");
                spans(out, inner);
                out.push_str("</strong>");
            }
            // A page's own address may carry its signature: never send it on.
            Span::Link { text, url } => {
                let _ = write!(
                    out,
                    "<a rel=\"noreferrer\" href=\"{}\">{}</a>",
                    escape::html(url),
                    escape::html(text)
                );
            }
        }
    }
}

/// The top of a runbook: the drill banner when `drill` is set, then the title.
pub fn heading_html(runbook: &Runbook, drill: bool) -> String {
    let mut out = String::new();
    if drill {
        let _ = writeln!(
            out,
            "<p class=\"drill\" role=\"note\">{}</p>",
            escape::html(DRILL_NOTICE)
        );
    }
    let _ = writeln!(out, "<h1>{}</h1>", inline_html(&runbook.title));
    out
}

/// The runbook's sections, steps in `done` (by number) ticked.
pub fn sections_html(runbook: &Runbook, done: &BTreeMap<usize, DoneStep>) -> String {
    let mut out = String::new();
    for section in &runbook.sections {
        write_section(&mut out, section, done);
    }
    out
}

fn write_section(out: &mut String, section: &Section, done: &BTreeMap<usize, DoneStep>) {
    out.push_str("<section>\n");
    if !section.heading.is_empty() {
        let _ = writeln!(out, "<h2>{}</h2>", inline_html(&section.heading));
    }
    let mut in_list = false;
    for p in &section.paragraphs {
        let bullet = p.style == ParagraphStyle::Bullet;
        if bullet != in_list {
            out.push_str(if bullet { "<ul>\n" } else { "</ul>\n" });
            in_list = bullet;
        }
        let _ = match p.style {
            ParagraphStyle::Text => writeln!(out, "<p>{}</p>", inline_html(&p.text)),
            ParagraphStyle::Bullet => writeln!(out, "<li>{}</li>", inline_html(&p.text)),
            ParagraphStyle::Quote => writeln!(
                out,
                "<blockquote><p>{}</p></blockquote>",
                inline_html(&p.text)
            ),
            ParagraphStyle::Verbatim => writeln!(out, "<pre>{}</pre>", escape::html(&p.text)),
        };
    }
    if in_list {
        out.push_str("</ul>\n");
    }
    if !section.steps.is_empty() {
        out.push_str("<ol class=\"steps\">\n");
        for step in &section.steps {
            write_step(out, step, done.get(&step.number));
        }
        out.push_str("</ol>\n");
    }
    out.push_str("</section>\n");
}

fn write_step(out: &mut String, step: &Step, done: Option<&DoneStep>) {
    let n = step.number;
    let (class, checked) = match done {
        Some(_) => (" class=\"done\"", " checked data-done"),
        None => ("", ""),
    };
    let _ = write!(
        out,
        "<li id=\"step-{n}\"{class}>\n<div class=\"step-head\"><input type=\"checkbox\" id=\"step-{n}-box\" data-step=\"{n}\"{checked}><label for=\"step-{n}-box\"><span class=\"num\">{n}.</span> <span class=\"owner o-{}\">{}</span> {}</label></div>\n",
        step.owner.as_str(),
        escape::html(&step.owner_label),
        inline_html(&step.text),
    );
    if let Some(done) = done {
        let _ = writeln!(
            out,
            "<p class=\"done-by\">Done by {}, {}</p>",
            escape::html(&done.by),
            escape::html(&done.at)
        );
    }
    if !step.commands.is_empty() {
        let _ = writeln!(
            out,
            "<div class=\"cmd\"><pre><code>{}</code></pre></div>",
            escape::html(&step.commands.join("\n"))
        );
    }
    out.push_str("</li>\n");
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,\"Segoe UI\",sans-serif;line-height:1.5;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}\
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}\
.drill{border:3px solid #b00020;color:#b00020;font-weight:bold;padding:.5rem 1rem}\
ol.steps{list-style:none;padding-left:0}ol.steps li{margin:.75rem 0;break-inside:avoid}\
.owner{font-weight:bold}.owner::after{content:\":\"}.num{font-variant-numeric:tabular-nums}\
.cmd{margin:.4rem 0 0 1.5rem}\
pre{background:#f4f4f4;padding:.5rem .75rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}\
blockquote{border-left:4px solid #ccc;margin-left:0;padding-left:1rem;color:#444}\
@media print{body{margin:0;max-width:none}pre{background:none;border:1px solid #999}a{color:inherit}}";

/// The `html` format: a standalone, printable page with a checkbox per step.
pub(super) fn document(runbook: &Runbook) -> String {
    let title = escape::html(&runbook.plain_title());
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{}{}</main>\n</body>\n</html>\n",
        heading_html(runbook, runbook.drill),
        sections_html(runbook, &BTreeMap::new()),
    )
}
