//! `cachewatch ack`, `step` and `outcome`: what people did about a maintenance, recorded from the
//! command line as Slack's buttons record it, so that drill reports and the yearly log see both.
//!
//! After an acknowledgement or an outcome, the maintenance's Slack thread parent is rebuilt to show
//! it, when Slack's Web API is configured (a webhook cannot change a message it posted).

use std::io::Write;

use anyhow::anyhow;
use cachewatch_core::alerting::delivery::ChatSink;
use cachewatch_core::alerting::slack;
use cachewatch_core::cluster::kept::FactsStore;
use cachewatch_core::history::query::parse_duration;
use cachewatch_core::history::response::{Outcome, ResponseStore, StepDone, first_acknowledgement};
use cachewatch_core::history::store::EventStore;
use cachewatch_core::operations::drill::report::run_of;

use cachewatch_app::Ports;
use cachewatch_app::lookup::{self, Subject};
use cachewatch_core::runbook::Runbooks;

use super::notify::{configured_chat, notify_settings};
use super::runbook::runbook_of;
use super::{Context, Failure, resolve_id};
use crate::args::{AckArgs, OutcomeArgs, StepArgs, YesNo};

/// The longest note kept (as the Slack form allows).
pub const MAX_NOTE: usize = 3000;
/// The longest name of a person kept.
const MAX_NAME: usize = 100;

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

/// The person: `--by`, else `$USER`; a name, not a mention or a paragraph.
fn who(by: Option<&str>) -> Result<String, Failure> {
    let name = match by {
        Some(given) => given.trim().to_owned(),
        None => std::env::var("USER")
            .ok()
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty())
            .ok_or_else(|| Failure::Input(anyhow!("say who with --by NAME ($USER is not set)")))?,
    };
    if name.is_empty() {
        return Err(Failure::Input(anyhow!("--by is empty")));
    }
    if name.chars().count() > MAX_NAME {
        return Err(Failure::Input(anyhow!(
            "--by is longer than {MAX_NAME} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(Failure::Input(anyhow!("--by contains a control character")));
    }
    Ok(name)
}

/// `cachewatch ack`.
pub async fn ack<S: cachewatch_app::Store>(
    ctx: &Context<S>,
    args: &AckArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let by = who(args.by.as_deref())?;
    let subject = subject_of(ctx, &args.id).await?;
    let acked = cachewatch_app::acknowledge(&ctx.store, &subject, &by, ctx.now).await?;
    match &acked.earlier {
        Some(first) => writeln!(
            out,
            "{} acknowledged by {by} (already taken on by {} at {})",
            describe(&subject),
            first.by,
            ctx.zone.format(first.at)
        )?,
        None => writeln!(out, "{} acknowledged by {by}", describe(&subject))?,
    }
    let first = acked.first();
    let shown = slack::Acknowledgement {
        by: first.by.clone(),
        at: first.at,
    };
    refresh_thread(ctx, &subject, shown, out).await
}

/// `cachewatch step`.
pub async fn step<S: EventStore + ResponseStore + FactsStore>(
    ctx: &Context<S>,
    args: &StepArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let by = who(args.by.as_deref())?;
    let subject = subject_of(ctx, &args.id).await?;
    let target = subject
        .maintenance
        .as_ref()
        .map_or(&subject.event.id, |m| &m.id);
    let runbook = runbook_of(ctx, target, &ctx.elasticache).await?;
    let steps: Vec<_> = runbook.steps().collect();
    let Some(done) = steps.iter().find(|s| s.number == args.step as usize) else {
        return Err(Failure::Input(anyhow!(
            "the runbook of {} has {} step{}, not {} (see `cachewatch runbook {}`)",
            describe(&subject),
            steps.len(),
            if steps.len() == 1 { "" } else { "s" },
            args.step,
            target.short()
        )));
    };
    ctx.store
        .record_step(&StepDone {
            event_id: subject.event.id.clone(),
            step: args.step,
            by: by.clone(),
            at: ctx.now,
        })
        .await?;
    writeln!(
        out,
        "{}: step {} done by {by} ({}: {})",
        describe(&subject),
        args.step,
        done.owner_label,
        plain_line(&done.text).trim_end_matches(':')
    )?;
    Ok(())
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
    let note = args
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    if note.as_ref().is_some_and(|n| n.chars().count() > MAX_NOTE) {
        return Err(Failure::Input(anyhow!(
            "--note is longer than {MAX_NOTE} characters"
        )));
    }
    let subject = subject_of(ctx, &args.id).await?;
    let outcome = Outcome {
        event_id: subject.event.id.clone(),
        handled: args.handled.as_str().to_owned(),
        site_maintenance: args.site_maintenance == YesNo::Yes,
        downtime,
        note,
        by,
        at: ctx.now,
    };
    ctx.store.record_outcome(&outcome).await?;
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
    let acks = ctx.store.acknowledgements(&subject.event_ids()).await?;
    let shown = first_acknowledgement(&acks).map(|a| slack::Acknowledgement {
        by: a.by.clone(),
        at: a.at,
    });
    match shown {
        Some(shown) => refresh_thread(ctx, &subject, shown, out).await,
        None => Ok(()),
    }
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

/// Rebuilds the Slack thread parents of the subject's maintenance to show who acknowledged it.
/// Failing to is a warning, not a failure: the response is recorded either way.
async fn refresh_thread<S: cachewatch_app::Store>(
    ctx: &Context<S>,
    subject: &Subject,
    shown: slack::Acknowledgement,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let Some((chat, channel)) = configured_chat(ctx).await?.filter(|(c, _)| c.is_api()) else {
        return Ok(());
    };
    let ids = subject.event_ids();
    let settings = notify_settings(ctx, channel)?;
    let runbooks = Runbooks::embedded();
    let ports = Ports {
        store: &ctx.store,
        chat: Some(&chat),
        facts: &ctx.elasticache,
        runbooks: &runbooks,
    };
    let mut channels: Vec<String> = ctx
        .store
        .deliveries(&ids)
        .await?
        .into_iter()
        .filter(|d| d.ts.is_some())
        .map(|d| d.channel)
        .collect();
    channels.sort();
    channels.dedup();
    let mut updated = 0;
    for channel in channels {
        for thread in ctx.store.threads(&channel, &ids).await? {
            let Some(anchor) = ctx.store.event(&thread.anchor).await? else {
                continue;
            };
            let message = cachewatch_app::redrawn_parent(
                ports,
                &ctx.config,
                &settings,
                &anchor,
                shown.clone(),
                ctx.now,
            )
            .await?;
            match chat
                .update(&thread.channel_id, &thread.message_ts, &message)
                .await
            {
                Ok(()) => updated += 1,
                Err(e) => eprintln!(
                    "cachewatch: warning: the Slack message in {channel} was not updated: {e}"
                ),
            }
        }
    }
    if updated > 0 {
        writeln!(
            out,
            "Slack: updated {updated} alert{}",
            if updated == 1 { "" } else { "s" }
        )?;
    }
    Ok(())
}
