//! `cachewatch ack`, `step` and `outcome`: what people did about a maintenance, recorded from the
//! command line as Slack's buttons record it, so that drill reports and the yearly log see both.
//! The rules (who, the step, the note, the threads drawn again) are `cachewatch_app::respond`'s.
//!
//! After a response, the maintenance's Slack thread parents are drawn again to show who took it
//! on, when Slack's Web API is configured (a webhook cannot change a message it posted).

use std::io::Write;

use anyhow::anyhow;
use cachewatch_adapters::chat::Chat;
use cachewatch_adapters::files::read_runbooks;
use cachewatch_app::lookup::{self, Subject};
use cachewatch_app::respond::{
    self, OutcomeRequest, Redrawn, Refused, RespondError, StepRequest, Who,
};
use cachewatch_app::{Ports, Rules};
use cachewatch_core::alerting::notify::NotifySettings;
use cachewatch_core::history::query::parse_duration;
use cachewatch_core::history::store::EventStore;
use cachewatch_core::operations::drill::report::run_of;
use cachewatch_core::runbook::Runbooks;

use super::notify::{configured_chat, notify_settings};
use super::{Context, Failure, resolve_id};
use crate::args::{AckArgs, OutcomeArgs, StepArgs, YesNo};

/// `maintenance 3f9a2c71 (node 0001 of orders-0001-001)`, with DRILL first for a drill's.
fn describe(subject: &Subject) -> String {
    let what = match &subject.maintenance {
        Some(m) => format!("maintenance {}", m.id.short()),
        None => format!("event {}", subject.event.id.short()),
    };
    let node = subject
        .event
        .node_id
        .as_ref()
        .map(|n| format!("node {n} of "))
        .unwrap_or_default();
    let drill = if subject.event.drill { "DRILL " } else { "" };
    format!("{drill}{what} ({node}{})", subject.event.cluster_label())
}

/// What a response is recorded against: the event named, with its maintenance.
async fn subject_of<S: EventStore>(ctx: &Context<S>, raw: &str) -> Result<Subject, Failure> {
    let id = resolve_id(&ctx.store, raw).await?;
    lookup::subject(&ctx.store, &id)
        .await?
        .ok_or_else(|| Failure::Other(anyhow!("event {id} disappeared while reading it")))
}

/// The person: `--by`, else `$USER`.
fn who(by: Option<&str>) -> Result<Who, Failure> {
    let name = match by {
        Some(given) => given.to_owned(),
        None => std::env::var("USER")
            .ok()
            .filter(|u| !u.trim().is_empty())
            .ok_or_else(|| Failure::Input(anyhow!("say who with --by NAME ($USER is not set)")))?,
    };
    Who::named(&name).map_err(|e| Failure::Input(anyhow!("--by: {e}")))
}

/// A response not recorded: what was given is wrong (exit 2), or something failed.
pub(super) fn not_recorded(e: RespondError) -> Failure {
    match e {
        RespondError::Refused(refused) => Failure::Input(anyhow!(refused)),
        RespondError::Store(e) => e.into(),
        RespondError::Runbook(e) => Failure::Input(e.into()),
    }
}

/// What a response reaches: the history, the chat when Slack's Web API is configured, the
/// runbooks and ElastiCache.
pub(super) struct Reach {
    chat: Option<Chat>,
    pub(super) settings: NotifySettings,
    runbooks: Runbooks,
}

impl Reach {
    pub(super) async fn of<S>(ctx: &Context<S>) -> Result<Self, Failure> {
        let runbooks =
            read_runbooks(ctx.runbook_dir.as_deref()).map_err(|e| Failure::Input(e.into()))?;
        let (chat, channel) = match configured_chat(ctx).await?.filter(|(c, _)| c.is_api()) {
            Some((chat, channel)) => (Some(chat), channel),
            None => (None, None),
        };
        let settings = notify_settings(ctx, channel)?;
        Ok(Reach {
            chat,
            settings,
            runbooks,
        })
    }

    pub(super) fn ports<'a, S>(
        &'a self,
        ctx: &'a Context<S>,
    ) -> Ports<'a, S, Chat, Option<cachewatch_adapters::placed_facts::PlacedFacts>> {
        Ports {
            store: &ctx.store,
            chat: self.chat.as_ref(),
            facts: &ctx.facts,
            runbooks: &self.runbooks,
        }
    }

    /// The team's configuration and these settings, at the command's moment.
    pub(super) fn rules<'a, S>(&'a self, ctx: &'a Context<S>) -> Rules<'a> {
        Rules {
            config: &ctx.config,
            settings: &self.settings,
            now: ctx.now,
        }
    }
}

/// Says how many alerts were drawn again, and warns of those that were not.
pub(super) fn tell_redrawn(redrawn: &Redrawn, out: &mut dyn Write) -> Result<(), Failure> {
    for failed in &redrawn.failed {
        eprintln!("cachewatch: warning: {failed}");
    }
    if redrawn.updated > 0 {
        writeln!(
            out,
            "Slack: updated {} alert{}",
            redrawn.updated,
            if redrawn.updated == 1 { "" } else { "s" }
        )?;
    }
    Ok(())
}

/// `cachewatch ack`.
pub async fn ack<S: cachewatch_app::Store>(
    ctx: &Context<S>,
    args: &AckArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let by = who(args.by.as_deref())?;
    let subject = subject_of(ctx, &args.id).await?;
    let acked = cachewatch_app::acknowledge(&ctx.store, &subject, by.by(), ctx.now).await?;
    match &acked.earlier {
        Some(first) => writeln!(
            out,
            "{} acknowledged by {} (already taken on by {} at {})",
            describe(&subject),
            by.by(),
            first.by,
            ctx.zone.format(first.at)
        )?,
        None => writeln!(out, "{} acknowledged by {}", describe(&subject), by.by())?,
    }
    let reach = Reach::of(ctx).await?;
    let redrawn =
        respond::redraw_threads(reach.ports(ctx), reach.rules(ctx), &subject, Some(&by)).await?;
    tell_redrawn(&redrawn, out)
}

/// `cachewatch step`.
pub async fn step<S: cachewatch_app::Store>(
    ctx: &Context<S>,
    args: &StepArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let by = who(args.by.as_deref())?;
    let subject = subject_of(ctx, &args.id).await?;
    let reach = Reach::of(ctx).await?;
    let request = StepRequest {
        subject: &subject,
        step: args.step,
        by,
    };
    let done = respond::record_step(reach.ports(ctx), reach.rules(ctx), request)
        .await
        .map_err(|e| match e {
            RespondError::Refused(why @ Refused::NoSuchStep { .. }) => Failure::Input(anyhow!(
                "{}: {why} (see `cachewatch runbook {}`)",
                describe(&subject),
                subject.link_id().short()
            )),
            e => not_recorded(e),
        })?;
    writeln!(
        out,
        "{}: step {} done by {} ({}: {})",
        describe(&subject),
        done.recorded.step,
        done.recorded.by,
        done.step.owner_label,
        plain_line(&done.step.text).trim_end_matches(':')
    )?;
    tell_redrawn(&done.threads, out)
}

/// `cachewatch outcome`.
pub async fn outcome<S: cachewatch_app::Store>(
    ctx: &Context<S>,
    args: &OutcomeArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let by = who(args.by.as_deref())?;
    let downtime = args
        .downtime
        .as_deref()
        .map(|raw| {
            parse_duration(raw).ok_or_else(|| {
                Failure::Input(anyhow!(
                    "--downtime {raw:?} is not a duration: write it like 90s, 2m or 1h30m"
                ))
            })
        })
        .transpose()?;
    let subject = subject_of(ctx, &args.id).await?;
    let reach = Reach::of(ctx).await?;
    let request = OutcomeRequest {
        subject: &subject,
        handled: args.handled.as_str().to_owned(),
        site_maintenance: args.site_maintenance == YesNo::Yes,
        downtime,
        note: args.note.clone(),
        by,
    };
    let done = respond::record_outcome(reach.ports(ctx), reach.rules(ctx), request)
        .await
        .map_err(not_recorded)?;
    let outcome = &done.recorded;
    writeln!(
        out,
        "{}: recorded as {}, {}{}",
        describe(&subject),
        outcome.handled,
        if outcome.site_maintenance {
            "with a site maintenance"
        } else {
            "no site maintenance"
        },
        outcome
            .downtime
            .map(|d| format!(
                ", {} of downtime",
                cachewatch_core::model::timefmt::human_duration(d)
            ))
            .unwrap_or_default()
    )?;
    if let Some(run) = run_of(&subject.event) {
        writeln!(out, "How the drill went: cachewatch drill report {run}")?;
    }
    tell_redrawn(&done.threads, out)
}

/// A step's inline Markdown as one plain line.
fn plain_line(text: &str) -> String {
    let flat: String = text
        .chars()
        .filter(|c| !matches!(c, '*' | '`' | '_'))
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    flat.split_whitespace().collect::<Vec<_>>().join(" ")
}
