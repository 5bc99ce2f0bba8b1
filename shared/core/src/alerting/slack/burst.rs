//! A region-wide burst in few messages. Under the grouped message, the maintenances that are the
//! same (engine, node role, runbook and window) are announced together: one message names each
//! of them, with a picker that posts any one's own checklist, and their one shared checklist
//! follows it.

use super::blockkit::{Block, Element, OptionObject, StaticSelect, Text};
use super::blocks;
use super::limits;
use super::mrkdwn;
use super::situation::Situation;
use super::{ACTION_CHECKLIST, AlertContext, SlackMessage};

/// Most maintenances one announcement names: each carries its delivery key in the message's
/// metadata, and a picker holds at most 100 options.
pub const ANNOUNCED_PER_MESSAGE: usize = 100;
/// Most characters of one announced maintenance's line.
const LINE: usize = 160;
/// Most characters of the listed lines and picker options of one announcement, so that the
/// message stays within [`limits::BLOCKS_TEXT`] with its header, fields and context.
const LIST_TEXT: usize = 6600;

/// The announcements of one set of identical maintenances, in as many messages as they need,
/// each with the range of `ctxs` it names (in `ctxs`' order). `runbook` is the title of the
/// runbook they share, when there is one.
pub fn announcements(
    ctxs: &[AlertContext<'_>],
    runbook: Option<&str>,
    shared_checklist: bool,
) -> Vec<(SlackMessage, std::ops::Range<usize>)> {
    let situations: Vec<Situation<'_>> = ctxs.iter().map(Situation::of).collect();
    let lines: Vec<String> = situations.iter().map(line).collect();
    // What each one adds to the message: its line, and its option in the picker.
    let cost: Vec<usize> = situations
        .iter()
        .zip(&lines)
        .map(|(s, l)| mrkdwn::len(l) + 1 + option(s).map_or(0, |(text, _)| mrkdwn::len(&text)))
        .collect();
    let mut out = Vec::new();
    let mut start = 0;
    while start < lines.len() {
        let mut end = start;
        let mut used = 0;
        while end < lines.len()
            && end - start < ANNOUNCED_PER_MESSAGE
            && (end == start || used + cost[end] <= LIST_TEXT)
        {
            used += cost[end];
            end += 1;
        }
        let part = Part {
            situations: &situations[start..end],
            lines: &lines[start..end],
            all: situations.len(),
            first: &situations[0],
            runbook,
            shared_checklist,
        };
        out.push((part.message(), start..end));
        start = end;
    }
    out
}

/// One announcement: some of a set's maintenances.
struct Part<'s, 'a> {
    situations: &'s [Situation<'a>],
    lines: &'s [String],
    all: usize,
    first: &'s Situation<'a>,
    runbook: Option<&'s str>,
    shared_checklist: bool,
}

impl Part<'_, '_> {
    fn message(&self) -> SlackMessage {
        let s = self.first;
        let n = self.situations.len();
        let what = if self.all == 1 {
            "1 node replacement".to_owned()
        } else {
            format!("{} node replacements", self.all)
        };
        let kind = s.engine_role();
        let mut out = vec![blocks::header(&format!("🗓️ {what}: {kind}"))];
        let mut fields = vec![format!("*Engine and role*\n{}", mrkdwn::escape_line(&kind))];
        if let Some(w) = s.window {
            fields.push(format!("*Window*\n{}", s.window_md(w)));
            if s.upcoming() {
                fields.push(format!(
                    "*Deadline*\n{}, {}",
                    s.at(w.start),
                    s.relative(w.start)
                ));
            }
        }
        if let Some(title) = self.runbook {
            fields.push(format!("*Runbook*\n{}", mrkdwn::escape_line(title)));
        }
        out.push(blocks::fields(&fields));
        out.extend(list_sections(self.lines));
        if let Some(picker) = self.picker() {
            out.push(picker);
        }
        out.push(blocks::context(&[self.note()]));
        let text = format!(
            "{what}: {kind}, {n} named here{}",
            s.window
                .map(|w| format!(", window {}", s.window_plain(w)))
                .unwrap_or_default()
        );
        blocks::message(&text, out)
    }

    /// Where each one's own runbook and checklist are.
    fn note(&self) -> String {
        let linked = self
            .situations
            .iter()
            .any(|s| s.ctx.runbook_url.as_deref().is_some_and(linkable));
        let actions = self.situations.iter().any(|s| s.ctx.actions);
        let mut own = Vec::new();
        if linked {
            own.push("its runbook page: the link beside it");
        }
        own.push(if actions {
            "its own checklist in this thread: pick it above, or `/cachewatch runbook ID`"
        } else {
            "its own checklist: `cachewatch runbook ID`"
        });
        let own = format!("For each one, {}.", own.join("; "));
        if self.shared_checklist {
            format!(
                "Their one checklist follows in this thread, filled in for {}. {own}",
                self.first.subject_md()
            )
        } else {
            own
        }
    }

    /// A picker that posts one maintenance's own checklist in this thread.
    fn picker(&self) -> Option<Block> {
        let options: Vec<OptionObject> = self
            .situations
            .iter()
            .filter_map(option)
            .take(limits::SELECT_OPTIONS)
            .map(|(text, value)| OptionObject::new(text, value))
            .collect();
        if options.is_empty() {
            return None;
        }
        Some(blocks::actions(vec![Element::StaticSelect(StaticSelect {
            action_id: ACTION_CHECKLIST.to_owned(),
            placeholder: Some(Text::plain("Post one's own checklist")),
            options,
        })]))
    }
}

/// The picker's option for `s` (its text and value), where alerts carry buttons.
fn option(s: &Situation<'_>) -> Option<(String, String)> {
    s.ctx.actions.then(|| {
        (
            mrkdwn::truncate_plain(&blocks::defang(&s.subject()), limits::OPTION_TEXT),
            mrkdwn::truncate_plain(id_of(s), limits::OPTION_VALUE),
        )
    })
}

/// The maintenance's id (what `/cachewatch runbook` and the buttons take), else the event's.
fn id_of<'s>(s: &'s Situation<'_>) -> &'s str {
    s.ctx
        .maintenance
        .map_or_else(|| s.ctx.event.id.as_str(), |m| m.id.as_str())
}

/// Whether a runbook address can be a link in mrkdwn: `https`, nothing that would end the link.
fn linkable(url: &str) -> bool {
    url.starts_with("https://") && !url.contains(['<', '>', '|', ' '])
}

/// `• 3f9a2c71 · orders-0001-001 node 0001 (orders)`, linked to its runbook page when there is one.
fn line(s: &Situation<'_>) -> String {
    let id = id_of(s);
    let short = &id[..id.len().min(8)];
    let link = match s.ctx.runbook_url.as_deref() {
        Some(url) if linkable(url) => {
            format!(" · <{url}|runbook>")
        }
        _ => String::new(),
    };
    // The id first: a long name is cut, never the id that names it.
    let text = format!(
        "• {} · {}{}{}",
        mrkdwn::code(short),
        s.drill_mark(),
        s.subject_md(),
        s.group_suffix(),
    );
    // The link is kept whole: cut, it would be broken markup.
    let room = LINE.saturating_sub(mrkdwn::len(&link));
    format!("{}{link}", mrkdwn::truncate(&text, room))
}

/// The lines over as many sections as they need.
fn list_sections(lines: &[String]) -> Vec<Block> {
    // The lines were chosen to fit `LIST_TEXT`: every one is listed.
    let mut sections = blocks::list_sections("", lines, usize::MAX, "");
    // Room for the header, the fields, the picker and the context.
    sections.truncate(limits::BLOCKS - 4);
    sections
}

/// The line that opens a shared checklist: the maintenances it covers, named up to a length.
pub fn shared_checklist_intro(ctxs: &[AlertContext<'_>]) -> String {
    const NAMES: usize = 1500;
    let situations: Vec<Situation<'_>> = ctxs.iter().map(Situation::of).collect();
    let mut names = String::new();
    let mut named = 0;
    for s in &situations {
        let name = mrkdwn::code(&s.cluster.clone().unwrap_or_else(|| s.subject()));
        if mrkdwn::len(&names) + mrkdwn::len(&name) + 2 > NAMES {
            break;
        }
        if !names.is_empty() {
            names.push_str(", ");
        }
        names.push_str(&name);
        named += 1;
    }
    let more = match situations.len() - named {
        0 => String::new(),
        n => format!(" and {n} more, all named above"),
    };
    let first = situations
        .first()
        .map(Situation::subject_md)
        .unwrap_or_default();
    format!(
        "One checklist for {} maintenance{}: {names}{more}. Filled in for {first}: the steps are the same for each, with its own names.",
        situations.len(),
        if situations.len() == 1 { "" } else { "s" },
    )
}
