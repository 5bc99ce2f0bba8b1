//! `cachewatch notify`, and what `ingest` does after storing: send what is due to Slack, or, with
//! no Slack configured, print what would be posted.

use std::io::Write;

use anyhow::anyhow;
use cachewatch_adapters::chat::{Chat, chat_with_outputs};
use cachewatch_adapters::files::read_runbooks;
use cachewatch_adapters::outbound::Outputs;
use cachewatch_app::{
    Alerting, Alerts, Door, ImportError, ImportRequest, Imported, IngestError, IngestRequest,
    Ingested, Input, LineRuns, Ports, Rules,
};
use cachewatch_core::IngestOutcome;
use cachewatch_core::alerting::delivery::DeliveryState;
use cachewatch_core::alerting::notify::{NotifyReport, NotifySettings, Preview};
use cachewatch_core::alerting::outbound::{Output, is_output_channel};
use cachewatch_core::alerting::reminder::ReminderReport;
use cachewatch_core::alerting::slack;
use cachewatch_core::alerting::tags_for;
use cachewatch_core::cluster::source::FactsSource;
use cachewatch_core::links::LinkSigner;
use cachewatch_core::runbook::Runbooks;

use super::{Context, Failure};
use crate::args::NotifyArgs;

/// The chat the environment configures, and its default channel, with the outputs beyond Slack
/// `cachewatch.toml` names (their keys from the environment too): the outputs alone without
/// Slack.
pub async fn configured_chat<S>(
    ctx: &Context<S>,
) -> Result<Option<(Chat, Option<String>)>, Failure> {
    let env = |name: &str| std::env::var(name).ok();
    let sdk = match Outputs::needs_aws(&ctx.config) {
        true => Some(cachewatch_adapters::aws::load().await),
        false => None,
    };
    chat_with_outputs(env, &ctx.config, sdk.as_ref()).map_err(|e| Failure::Input(e.into()))
}

/// How alerts are sent from this machine: the channel, links and zone the environment gives.
pub fn notify_settings<S>(
    ctx: &Context<S>,
    channel: Option<String>,
) -> Result<NotifySettings, Failure> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let links = LinkSigner::from_lookup(env).map_err(|e| Failure::Input(e.into()))?;
    Ok(NotifySettings {
        channel,
        base_url: env("CACHEWATCH_BASE_URL"),
        zone: ctx.zone,
        // Buttons only work where the HTTP door verifies Slack's requests.
        actions: env("CACHEWATCH_BASE_URL").is_some() && env("SLACK_SIGNING_SECRET").is_some(),
        holder: format!(
            "cachewatch-cli-{}-{}",
            std::process::id(),
            ctx.now.timestamp_nanos_opt().unwrap_or_default()
        ),
        ignore_backoff: false,
        links,
    })
}

pub async fn run<S: cachewatch_app::Store>(
    ctx: &Context<S>,
    args: &NotifyArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let Some((chat, channel)) = configured_chat(ctx).await? else {
        return Err(Failure::Input(anyhow!(
            "nothing to send to: set SLACK_BOT_TOKEN and SLACK_CHANNEL, or SLACK_WEBHOOK_URL, or configure [webhook] or [q_developer] in cachewatch.toml"
        )));
    };
    if args.retry_failed {
        let failed = ctx
            .store
            .deliveries_in(DeliveryState::Failed, 10_000)
            .await?;
        let facts = cachewatch_app::AlertFacts::new(&ctx.store, &ctx.facts, ctx.now);
        for mut d in failed {
            // Sent where the configuration says now: the fix was often the channel. An output's
            // alert stays with its output.
            if !is_output_channel(&d.channel)
                && let Some(event) = ctx.store.event(&d.event_id).await?
            {
                let tags = tags_for(&ctx.config, &facts, &event, None).await;
                if let Some(to) =
                    ctx.config
                        .channel_for_tagged(&event, tags.as_ref(), channel.as_deref())
                {
                    d.channel = to.to_owned();
                }
            }
            d.state = DeliveryState::Pending;
            d.attempts = 0;
            d.reason = None;
            d.next_attempt_at = ctx.now;
            d.updated_at = ctx.now;
            ctx.store.save_delivery(&d).await?;
        }
    }
    let runbooks =
        read_runbooks(ctx.runbook_dir.as_deref()).map_err(|e| Failure::Input(e.into()))?;
    let settings = NotifySettings {
        // A person asked: every pending alert now, whatever its backoff says.
        ignore_backoff: true,
        ..notify_settings(ctx, channel)?
    };
    let ports = Ports {
        store: &ctx.store,
        chat: Some(&chat),
        facts: &ctx.facts,
        runbooks: &runbooks,
    };
    let rules = Rules {
        config: &ctx.config,
        settings: &settings,
        now: ctx.now,
    };
    let sent = cachewatch_app::send_pending(ports, rules)
        .await
        .map_err(|e| Failure::Other(e.into()))?
        .unwrap_or_default();
    writeln!(out, "{}", summary(&sent.alerts))?;
    if let Some(line) = reminders_summary(&sent.reminders) {
        writeln!(out, "{line}")?;
    }
    outcome(&sent.alerts)
}

/// `reminded 2 maintenances, …`: one line about the reminders of a run, when there was any to
/// send.
pub fn reminders_summary(report: &ReminderReport) -> Option<String> {
    let mut parts = Vec::new();
    if !report.sent.is_empty() {
        parts.push(format!(
            "reminded {} maintenance{} nobody has acknowledged",
            report.sent.len(),
            if report.sent.len() == 1 { "" } else { "s" }
        ));
    }
    if report.recovered > 0 {
        parts.push(format!(
            "{} reminder(s) found already posted",
            report.recovered
        ));
    }
    if !report.waiting.is_empty() {
        parts.push(format!(
            "{} reminder(s) waiting for Slack",
            report.waiting.len()
        ));
    }
    if let Some((key, reason)) = report.failed.first() {
        parts.push(format!(
            "{} reminder(s) refused by Slack, first {key}: {reason}",
            report.failed.len()
        ));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// How this machine sends alerts: the chat the environment configures (none: what would be
/// posted is shown instead), the runbooks of its threads and the settings.
pub struct Sending {
    chat: Option<Chat>,
    runbooks: Runbooks,
    settings: NotifySettings,
}

impl Sending {
    /// Reads the chat, the runbooks and the settings from the environment.
    pub async fn from_env<S>(ctx: &Context<S>) -> Result<Self, Failure> {
        let Some((chat, channel)) = configured_chat(ctx).await? else {
            return Ok(Sending {
                chat: None,
                runbooks: Runbooks::embedded(),
                settings: notify_settings(ctx, Some("#(your alerts channel)".to_owned()))?,
            });
        };
        Ok(Sending {
            runbooks: read_runbooks(ctx.runbook_dir.as_deref())
                .map_err(|e| Failure::Input(e.into()))?,
            settings: notify_settings(ctx, channel)?,
            chat: Some(chat),
        })
    }

    fn request<'a, S>(
        &'a self,
        ctx: &'a Context<S>,
        door: Door,
        input: Input<'a>,
        alerting: Alerting,
        progress: Option<&'a mut (dyn FnMut(usize, usize) + Send + 'a)>,
    ) -> IngestRequest<'a> {
        IngestRequest {
            door,
            input,
            config: &ctx.config,
            settings: &self.settings,
            alerting,
            progress,
            now: ctx.now,
        }
    }

    fn ports<'a, S, F>(&'a self, ctx: &'a Context<S>, facts: &'a F) -> Ports<'a, S, Chat, F> {
        Ports::new(&ctx.store, self.chat.as_ref(), facts, &self.runbooks)
    }

    fn rules<'a, S>(&'a self, ctx: &'a Context<S>) -> Rules<'a> {
        Rules {
            config: &ctx.config,
            settings: &self.settings,
            now: ctx.now,
        }
    }

    /// Ingests `input` through the one entry, alerting when Slack is configured; `progress`
    /// hears `(stored, of)`.
    pub async fn ingest<'a, S: cachewatch_app::Store, F: FactsSource>(
        &'a self,
        ctx: &'a Context<S>,
        facts: &'a F,
        door: Door,
        input: Input<'a>,
        progress: Option<&'a mut (dyn FnMut(usize, usize) + Send + 'a)>,
    ) -> Result<Ingested, IngestError> {
        let request = self.request(ctx, door, input, Alerting::Now, progress);
        cachewatch_app::ingest(self.ports(ctx, facts), request).await
    }

    /// Imports JSON Lines a run at a time, alerting when Slack is configured.
    pub async fn import<S: cachewatch_app::Store, F: FactsSource>(
        &self,
        ctx: &Context<S>,
        facts: &F,
        door: Door,
        runs: &mut dyn LineRuns,
    ) -> Result<Imported, ImportError> {
        let request = ImportRequest {
            door,
            config: &ctx.config,
            settings: &self.settings,
            alerting: Alerting::Now,
            now: ctx.now,
        };
        cachewatch_app::import_lines(self.ports(ctx, facts), request, runs).await
    }

    /// Stores `input` through the one entry without alerting: for events stored in steps and
    /// alerted once, by [`Sending::alert`].
    pub async fn store<S: cachewatch_app::Store, F: FactsSource>(
        &self,
        ctx: &Context<S>,
        facts: &F,
        door: Door,
        input: Input<'_>,
    ) -> Result<IngestOutcome, IngestError> {
        let request = self.request(ctx, door, input, Alerting::Later, None);
        let ingested = cachewatch_app::ingest(self.ports(ctx, facts), request).await?;
        Ok(ingested.outcome)
    }

    /// What every command that stores events says last: how its alerts went (on standard error
    /// when standard output is JSON), or, with no Slack configured, what would be posted.
    pub async fn report<S: cachewatch_app::Store, F: FactsSource>(
        &self,
        ctx: &Context<S>,
        facts: &F,
        outcome: &IngestOutcome,
        alerts: Alerts,
        json: bool,
        out: &mut dyn Write,
    ) -> Result<(), Failure> {
        match alerts {
            Alerts::Sent(report) => report_sent(&report, json, out),
            Alerts::Failed(e) => Err(Failure::Other(e.into())),
            Alerts::NotSent if self.chat.is_none() && !json && !crate::output::quiet() => {
                let previews =
                    cachewatch_app::preview(self.ports(ctx, facts), outcome, self.rules(ctx))
                        .await?;
                print_preview(previews, out)
            }
            Alerts::NotSent => Ok(()),
        }
    }

    /// Sends the alerts of what was stored in steps (the events of a failover being followed),
    /// or shows what would be posted; then says how it went.
    pub async fn alert<S: cachewatch_app::Store, F: FactsSource>(
        &self,
        ctx: &Context<S>,
        facts: &F,
        outcome: &IngestOutcome,
        out: &mut dyn Write,
    ) -> Result<(), Failure> {
        let ports = self.ports(ctx, facts);
        let alerts = Alerts::from(cachewatch_app::alert(ports, outcome, self.rules(ctx)).await);
        self.report(ctx, facts, outcome, alerts, false, out).await
    }
}

/// Prints what would be posted for an ingest's new events, when Slack is not configured.
fn print_preview(previews: Vec<Preview>, out: &mut dyn Write) -> Result<(), Failure> {
    if previews.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "\nSlack is not configured (SLACK_BOT_TOKEN and SLACK_CHANNEL, or SLACK_WEBHOOK_URL); it would post:"
    )?;
    for p in previews {
        let place = if p.reply {
            "in the maintenance's thread"
        } else {
            "a new alert"
        };
        writeln!(out, "\n── {} · {place} ──", p.channel)?;
        writeln!(out, "{}", slack::to_text(&p.message).trim_end())?;
    }
    Ok(())
}

/// The one line about the alerts sent (on standard error when standard output is JSON), and
/// whether any was left unsent.
fn report_sent(report: &NotifyReport, json: bool, out: &mut dyn Write) -> Result<(), Failure> {
    let line = summary(report);
    if crate::output::quiet() {
    } else if json {
        eprintln!("{line}");
    } else {
        writeln!(out, "{line}")?;
    }
    outcome(report)
}

/// `sent 3, updated 1, …`: one line about a run.
pub fn summary(report: &NotifyReport) -> String {
    let mut parts = vec![format!(
        "sent {} message{}",
        report.sent.len(),
        if report.sent.len() == 1 { "" } else { "s" }
    )];
    if report.grouped > 0 {
        parts.push(format!("{} grouped", report.grouped));
    }
    if report.updated > 0 {
        parts.push(format!(
            "updated {} thread{}",
            report.updated,
            if report.updated == 1 { "" } else { "s" }
        ));
    }
    if report.checklists > 0 {
        parts.push(format!(
            "{} checklist{}",
            report.checklists,
            if report.checklists == 1 { "" } else { "s" }
        ));
    }
    if report.recovered > 0 {
        parts.push(format!("{} found already delivered", report.recovered));
    }
    if report.waiting > 0 {
        parts.push(format!("{} waiting for Slack", report.waiting));
    }
    for output in Output::ALL {
        let n = report
            .outputs_sent
            .iter()
            .filter(|(o, _)| *o == output)
            .count();
        if n > 0 {
            parts.push(format!("{n} to {}", output.name()));
        }
    }
    if report.outputs_waiting > 0 {
        parts.push(format!(
            "{} waiting for an output beyond Slack",
            report.outputs_waiting
        ));
    }
    if !report.failed.is_empty() {
        parts.push(format!("{} failed", report.failed.len()));
    }
    if !report.busy.is_empty() {
        parts.push(format!("busy elsewhere: {}", report.busy.join(", ")));
    }
    format!("alerts: {}", parts.join(", "))
}

/// A run that left alerts unsent is an error the caller should see.
pub fn outcome(report: &NotifyReport) -> Result<(), Failure> {
    if let Some((id, reason)) = report.failed.first() {
        return Err(Failure::Other(anyhow!(
            "{} alert{} refused, first {}: {reason} (fix the configuration, then `cachewatch notify --retry-failed`)",
            report.failed.len(),
            if report.failed.len() == 1 {
                " was"
            } else {
                "s were"
            },
            id.short()
        )));
    }
    if report.waiting > 0 {
        return Err(Failure::Other(anyhow!(
            "{} alert{} still pending: Slack is unavailable; `cachewatch notify` sends {} later",
            report.waiting,
            if report.waiting == 1 { " is" } else { "s are" },
            if report.waiting == 1 { "it" } else { "them" }
        )));
    }
    if report.outputs_waiting > 0 {
        return Err(Failure::Other(anyhow!(
            "{} alert{} still pending for an output beyond Slack (the webhook or Amazon Q Developer is unavailable); `cachewatch notify` sends {} later",
            report.outputs_waiting,
            if report.outputs_waiting == 1 {
                " is"
            } else {
                "s are"
            },
            if report.outputs_waiting == 1 {
                "it"
            } else {
                "them"
            }
        )));
    }
    Ok(())
}
