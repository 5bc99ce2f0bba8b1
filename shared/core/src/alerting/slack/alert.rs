//! The thread parent of a maintenance ([`alert`]) and the replies in its thread ([`update`]).
//!
//! The parent tells the maintenance's *current* state and is rebuilt whenever it changes (the
//! sender puts it in place with `chat.update`); a reply tells only what one event changed.

use super::blockkit::Block;
use super::blocks;
use super::mrkdwn;
use super::situation::Situation;
use super::{
    ACTION_ACKNOWLEDGE, ACTION_CHECKLIST, ACTION_OUTCOME, ACTION_RUNBOOK, AlertContext,
    SlackMessage,
};
use crate::cluster::facts::{Engine, NodeRole};
use crate::cluster::impact;
use crate::lifecycle::MaintenanceState;
use crate::model::event::{MaintenanceEvent, Window};
use crate::model::kind::EventKind;
use crate::model::timefmt;

/// What starts the header of a drill's messages.
const DRILL_MARK: &str = "🧪 DRILL";
/// What a drill's messages say first.
const DRILL_LINE: &str = "🧪 *DRILL: this is an exercise. Nothing is happening to a real cluster.*";

/// The thread parent: the maintenance as it stands now, with what happens, where, when, the
/// risks, the runbook and (with `ctx.actions`) the buttons. Also what replaces the parent when
/// the maintenance changes.
pub fn alert(ctx: &AlertContext<'_>) -> SlackMessage {
    let s = Situation::of(ctx);
    let (emoji, mut words) = s.headline();
    if s.upcoming() && ctx.maintenance.is_some_and(|m| m.repeat_of.is_some()) {
        words.push_str(" again");
    }
    let subject = s.subject();
    let header = if s.drill {
        format!("{DRILL_MARK} · {words}: {subject}")
    } else {
        format!("{emoji} {words}: {subject}")
    };

    let mut out = vec![blocks::header(&header)];
    if s.drill {
        out.push(blocks::section(DRILL_LINE));
    }
    out.push(blocks::fields(&fields(&s)));
    out.push(blocks::section(&s.what_happens()));
    if let Some(repeat) = s.repeat_warning() {
        out.push(blocks::section(&repeat));
    }
    if let Some(risks) = s.risks() {
        out.push(blocks::section(&risks));
    }
    if ctx
        .event
        .attributes
        .get("window_unreadable")
        .is_some_and(|v| v == "true")
    {
        out.push(blocks::section(
            "⚠️ The window in the notice could not be read: check it in the ElastiCache event log.",
        ));
    }
    out.push(runbook_section(ctx));
    if let Some(ack) = &ctx.acknowledged {
        out.push(blocks::context(&[format!(
            "👀 Acknowledged by *{}* {}",
            mrkdwn::escape_line(&ack.by),
            s.at(ack.at)
        )]));
    }
    if ctx.actions {
        out.push(actions(ctx));
    }
    out.push(blocks::context(&[ids_line(&s, true)]));

    let timing = s
        .timing_plain()
        .map(|t| format!(" — {t}"))
        .unwrap_or_default();
    let drill = if s.drill { "DRILL: " } else { "" };
    let text = format!("{drill}{words}: {subject} ({}){timing}", s.engine_role());
    blocks::message(&text, out)
}

/// A reply in the maintenance's thread: what `ctx.event` changed, with the current deadline.
pub fn update(ctx: &AlertContext<'_>) -> SlackMessage {
    let s = Situation::of(ctx);
    let (line, summary) = change(&s);
    let mut body = Vec::new();
    if s.drill {
        body.push(DRILL_LINE.to_owned());
    }
    body.push(line);
    if s.upcoming()
        && let Some(w) = s.window
    {
        body.push(format!(
            "*Deadline:* {}, {}",
            s.at(w.start),
            s.relative(w.start)
        ));
    }
    let out = vec![
        blocks::section(&body.join("\n")),
        blocks::context(&[ids_line(&s, false)]),
    ];
    let drill = if s.drill { "DRILL: " } else { "" };
    blocks::message(&format!("{drill}{summary}"), out)
}

/// The fields of the parent: where, what, when.
fn fields(s: &Situation<'_>) -> Vec<String> {
    let f = s.ctx.facts;
    let mut out = Vec::new();
    if let Some(cluster) = &s.cluster {
        out.push(format!("*Cache cluster*\n{}", mrkdwn::code(cluster)));
    }
    if let Some(node) = &s.node {
        let failed_over = s
            .failovers
            .iter()
            .any(|f| f.from.is_some() && f.from == s.cluster);
        let role = match (s.engine(), s.role()) {
            (Some(crate::cluster::facts::Engine::Memcached), _) => "Memcached node".to_owned(),
            (_, Some(NodeRole::Primary)) if failed_over => "primary before the failover".to_owned(),
            (_, Some(role)) => role.to_string(),
            (_, None) => "role not known".to_owned(),
        };
        out.push(format!("*Node*\n{} · {role}", mrkdwn::code(node)));
    }
    if let Some(group) = &s.group {
        out.push(format!("*Replication group*\n{}", mrkdwn::code(group)));
    }
    let engine = match (s.engine(), &f.engine_version) {
        (Some(e), Some(v)) => format!("{} {}", e.display_name(), mrkdwn::escape_line(v)),
        (Some(e), None) => e.display_name().to_owned(),
        (None, _) => "not known".to_owned(),
    };
    let production = if f.production == Some(true) {
        " · production"
    } else {
        ""
    };
    out.push(format!("*Engine*\n{engine}{production}"));
    if s.failover_episode
        && let Some(last) = s.failovers.last()
    {
        let from = last.from.as_deref().map_or("?".to_owned(), mrkdwn::code);
        let to = last.to.as_deref().map_or("?".to_owned(), mrkdwn::code);
        out.push(format!("*Failover*\n{from} → {to}"));
    }
    if let Some(w) = s.window {
        let label = if s.state == Some(MaintenanceState::Canceled) {
            "Canceled window"
        } else {
            "Window"
        };
        out.push(format!("*{label}*\n{}", s.window_md(w)));
    }
    if let Some(w) = s.moved_from {
        out.push(format!("*Moved from*\n{}", s.window_md(w)));
    }
    match s.timing() {
        Some((label, value)) => out.push(format!("*{label}*\n{value}")),
        None if s.state.is_none() => {
            out.push(format!("*Reported*\n{}", s.at(s.ctx.event.occurred_at)))
        }
        None => {}
    }
    let place: Vec<String> = [
        s.region.as_deref().map(mrkdwn::escape_line),
        s.account_label()
            .map(|a| format!("account {}", mrkdwn::escape_line(&a))),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !place.is_empty() {
        out.push(format!("*Where*\n{}", place.join(" · ")));
    }
    out
}

/// The runbook: a button to its page when there is one, else where the checklist will be.
fn runbook_section(ctx: &AlertContext<'_>) -> Block {
    let teams = format!(
        "the {} and the {}",
        mrkdwn::escape_line(&ctx.owners.app),
        mrkdwn::escape_line(&ctx.owners.infra)
    );
    let link = ctx
        .runbook_url
        .as_deref()
        .and_then(|url| blocks::link_button("Open runbook", ACTION_RUNBOOK, url));
    match link {
        Some(button) => blocks::section_with(
            &format!("📋 *Runbook:* what {teams} do, step by step, filled in for this node."),
            button,
        ),
        None => blocks::section(&format!(
            "📋 *Runbook:* the checklist for {teams} follows in this thread."
        )),
    }
}

/// The buttons: acknowledge (unless someone has), post the checklist, record the outcome.
fn actions(ctx: &AlertContext<'_>) -> Block {
    let value = ctx
        .maintenance
        .map_or_else(|| ctx.event.id.to_string(), |m| m.id.to_string());
    let mut buttons = Vec::new();
    if ctx.acknowledged.is_none() {
        buttons.push(blocks::button(
            "Acknowledge",
            ACTION_ACKNOWLEDGE,
            &value,
            true,
        ));
    }
    buttons.push(blocks::button(
        "Post checklist",
        ACTION_CHECKLIST,
        &value,
        false,
    ));
    buttons.push(blocks::button(
        "Record outcome",
        ACTION_OUTCOME,
        &value,
        false,
    ));
    blocks::actions(buttons)
}

/// `Event 3f9a2c71 · maintenance 3f9a2c71… · as of …`.
fn ids_line(s: &Situation<'_>, as_of: bool) -> String {
    let mut parts = vec![format!("Event {}", mrkdwn::code(s.ctx.event.id.short()))];
    if let Some(m) = s.ctx.maintenance {
        parts.push(format!("maintenance {}", mrkdwn::code(m.id.as_str())));
    }
    if as_of {
        parts.push(format!("as of {}", s.at(s.ctx.now)));
    }
    parts.join(" · ")
}

/// What the event of `s` changed: an mrkdwn line and a plain summary.
fn change(s: &Situation<'_>) -> (String, String) {
    let c = Change::of(s);
    match s.ctx.event.kind.as_str() {
        EventKind::NODE_REPLACEMENT_SCHEDULED => c.scheduled(),
        EventKind::NODE_REPLACEMENT_RESCHEDULED => c.rescheduled(),
        EventKind::NODE_REPLACEMENT_CANCELED => c.canceled(),
        EventKind::CACHE_NODE_REPLACE_STARTED => c.replacement_started(),
        EventKind::CACHE_NODE_REPLACE_COMPLETE => c.replaced(),
        EventKind::FAILOVER_COMPLETE => c.failover(),
        _ => c.other(),
    }
}

/// The change line of one event: what it is about, in mrkdwn and in plain text.
struct Change<'s, 'a> {
    s: &'s Situation<'a>,
    e: &'a MaintenanceEvent,
    subject: String,
    subject_md: String,
}

impl<'s, 'a> Change<'s, 'a> {
    fn of(s: &'s Situation<'a>) -> Self {
        Change {
            s,
            e: s.ctx.event,
            subject: s.subject(),
            subject_md: s.subject_md(),
        }
    }

    fn window_md(&self, w: Option<Window>) -> String {
        w.map_or_else(|| "a window not given".to_owned(), |w| self.s.window_md(w))
    }

    fn window_plain(&self, w: Option<Window>) -> String {
        w.map_or_else(
            || "a window not given".to_owned(),
            |w| self.s.window_plain(w),
        )
    }

    /// A first notice (or a repeat of an earlier maintenance), a moved window, or the same
    /// notice again.
    fn scheduled(&self) -> (String, String) {
        let (s, e, subject, subject_md) = (self.s, self.e, &self.subject, &self.subject_md);
        let first = s
            .ctx
            .maintenance
            .is_none_or(|m| m.event_ids.first() == Some(&e.id));
        let window_md = self.window_md(e.window);
        let window_plain = self.window_plain(e.window);
        if first && let Some(repeat) = s.repeat_warning() {
            (
                format!(
                    "🗓️ *Scheduled again:* {subject_md}, for the window {window_md}.\n{repeat}"
                ),
                format!("Scheduled again: {subject}, {window_plain}"),
            )
        } else if first {
            (
                format!("🗓️ *Scheduled:* {subject_md}, for the window {window_md}."),
                format!("Scheduled: {subject}, {window_plain}"),
            )
        } else if let Some(before) = s.window_before_event()
            && e.window.is_some_and(|w| w != before)
        {
            (
                format!(
                    "📆 *Window moved* from {} to {window_md}.",
                    self.window_md(Some(before))
                ),
                format!("Window moved: {subject}, now {window_plain}"),
            )
        } else {
            (
                format!("🗓️ *Notice repeated:* same window, {window_md}."),
                format!("Notice repeated: {subject}, {window_plain}"),
            )
        }
    }

    fn rescheduled(&self) -> (String, String) {
        let (s, e) = (self.s, self.e);
        let from = e
            .previous_window
            .or_else(|| s.window_before_event())
            .or(s.moved_from);
        let to = e.window.or(s.window);
        let shift = match (from, to) {
            (Some(a), Some(b)) if b.start > a.start => {
                format!(" ({} later)", timefmt::human_duration(b.start - a.start))
            }
            (Some(a), Some(b)) if b.start < a.start => {
                format!(" ({} earlier)", timefmt::human_duration(a.start - b.start))
            }
            _ => String::new(),
        };
        (
            format!(
                "📆 *Rescheduled:* from {} to {}{shift}.",
                self.window_md(from),
                self.window_md(to)
            ),
            format!(
                "Rescheduled: {} moves to {}",
                self.subject,
                self.window_plain(to)
            ),
        )
    }

    fn canceled(&self) -> (String, String) {
        let w = self.e.window.or(self.s.window);
        (
            format!(
                "🚫 *Canceled:* the replacement of {} planned for {} will not happen.",
                self.subject_md,
                self.window_md(w)
            ),
            format!(
                "Canceled: {}, was due {}",
                self.subject,
                self.window_plain(w)
            ),
        )
    }

    /// The replacement has begun: what it does to this node's clients, as AWS documents it for
    /// the node's engine, role and configuration.
    fn replacement_started(&self) -> (String, String) {
        let (s, e) = (self.s, self.e);
        let effect = match (s.engine(), s.role()) {
            (Some(Engine::Memcached), _) => " The node comes back empty.".to_owned(),
            (_, Some(NodeRole::Replica)) => " Writers see nothing.".to_owned(),
            (_, Some(NodeRole::Primary)) => {
                let impact = impact::primary_impact(s.ctx.facts);
                format!(
                    " {} (<{}|AWS>)",
                    mrkdwn::escape_line(impact.summary()),
                    impact.source()
                )
            }
            _ => String::new(),
        };
        (
            format!("🔧 *Replacement started* {}.{effect}", s.at(e.occurred_at)),
            format!(
                "Replacement started: {}, {}",
                self.subject,
                s.at_plain(e.occurred_at)
            ),
        )
    }

    /// The replacement is done: how long it took, and the failovers it caused.
    fn replaced(&self) -> (String, String) {
        let (s, e) = (self.s, self.e);
        let took = s
            .ctx
            .maintenance
            .and_then(|m| m.started_at)
            .filter(|st| *st <= e.occurred_at)
            .map(|st| {
                format!(
                    ", {} after it started",
                    timefmt::human_duration(e.occurred_at - st)
                )
            })
            .unwrap_or_default();
        let failovers: Vec<String> = s
            .failovers
            .iter()
            .map(|f| match (&f.from, &f.to) {
                (Some(a), Some(b)) => format!("{} → {}", mrkdwn::code(a), mrkdwn::code(b)),
                (_, Some(b)) => format!("to {}", mrkdwn::code(b)),
                _ => "a replica was promoted".to_owned(),
            })
            .collect();
        let failover = if failovers.is_empty() {
            String::new()
        } else {
            format!(" Failover: {}.", failovers.join("; "))
        };
        (
            format!(
                "✅ *Replaced* {}{took}.{failover} Next: the after-checks of the runbook.",
                s.at(e.occurred_at)
            ),
            format!("Replaced: {}, {}", self.subject, s.at_plain(e.occurred_at)),
        )
    }

    fn failover(&self) -> (String, String) {
        let (s, e) = (self.s, self.e);
        let from = e.failover.as_ref().and_then(|f| f.from.as_deref());
        let to = e.failover.as_ref().and_then(|f| f.to.as_deref());
        let pair_md = match (from, to) {
            (Some(a), Some(b)) => format!("{} → {}", mrkdwn::code(a), mrkdwn::code(b)),
            (None, Some(b)) => format!("to {}", mrkdwn::code(b)),
            (Some(a), None) => format!("from {}", mrkdwn::code(a)),
            (None, None) => "a replica was promoted".to_owned(),
        };
        let pair = match (from, to) {
            (Some(a), Some(b)) => format!("{a} → {b}"),
            (None, Some(b)) => format!("to {b}"),
            (Some(a), None) => format!("from {a}"),
            (None, None) => self.subject.clone(),
        };
        let now_primary = to
            .map(|b| format!(" {} is the primary now.", mrkdwn::code(b)))
            .unwrap_or_default();
        (
            format!(
                "🔀 *Failover:* {pair_md} ({}).{now_primary}",
                s.at(e.occurred_at)
            ),
            format!("Failover: {pair}, {}", s.at_plain(e.occurred_at)),
        )
    }

    /// Any other event: its kind, and its text quoted.
    fn other(&self) -> (String, String) {
        let (s, e) = (self.s, self.e);
        let kind = e.kind.describe();
        let mut line = format!(
            "ℹ️ *{}* ({}).",
            mrkdwn::escape_line(&kind),
            s.at(e.occurred_at)
        );
        if let Some(quoted) = s.quoted_message() {
            line.push('\n');
            line.push_str(&quoted);
        }
        (line, format!("{kind}: {}", self.subject))
    }
}
