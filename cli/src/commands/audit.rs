//! `cachewatch audit [--fix]`: every link of the alert path. Which replication groups and
//! clusters do not send their events to cachewatch's topic; whether the topic's policy lets
//! ElastiCache publish, whether the topic is encrypted, whether the ingest function is subscribed
//! and confirmed, whether the dead-letter queue is empty. With `--fix`, setting the topic, the
//! policy statement and the subscription, after saying exactly what changes.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::anyhow;
use cachewatch_adapters::alert_path::{AlertPath, PathSettings};
use cachewatch_adapters::elasticache::ElastiCache;
use cachewatch_core::alerting::alert_path::PathAudit;
use cachewatch_core::fleet::TopicFix;

use super::{Failure, write_json};
use crate::args::AuditArgs;
use crate::render;

pub async fn run(args: &AuditArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let settings = settings(args)?;
    let sdk = cachewatch_adapters::aws::load().await;
    let (elasticache, path) = (
        ElastiCache::from_sdk_config(&sdk),
        AlertPath::from_sdk_config(&sdk),
    );
    let audit = read(&elasticache, &path, &settings).await?;
    if args.json && !args.fix {
        return write_json(out, &audit);
    }
    render::path_audit(&audit, out)?;
    let clusters = audit.coverage.fix_plan();
    let changes = clusters.len() + audit.fixes.len();
    if !args.fix {
        if changes > 0 {
            writeln!(
                out,
                "`cachewatch audit --fix` makes {changes} change{}.",
                plural(changes)
            )?;
        }
        return Ok(());
    }
    if changes == 0 {
        writeln!(out, "Nothing to fix.")?;
        return Ok(());
    }
    show_plan(&audit, &clusters, out)?;
    if !args.yes && !confirm(out)? {
        return Err(Failure::Input(anyhow!("nothing was changed")));
    }
    let mut failed = 0;
    for fix in &clusters {
        match elasticache
            .set_notification_topic(&fix.resource, &fix.topic_arn)
            .await
        {
            Ok(()) => writeln!(out, "  set on {}", fix.resource)?,
            Err(e) => {
                failed += 1;
                writeln!(out, "  NOT set on {}: {e}", fix.resource)?;
            }
        }
    }
    for fix in &audit.fixes {
        let what = fix.describe(&settings.topic_arn);
        match path.apply(&settings.topic_arn, fix).await {
            Ok(()) => writeln!(out, "  done: {what}")?,
            Err(e) => {
                failed += 1;
                writeln!(out, "  NOT done: {what}: {e}")?;
            }
        }
    }
    let after = read(&elasticache, &path, &settings).await?;
    report_after(&after, args.json, out)?;
    if failed > 0 {
        return Err(Failure::Other(anyhow!(
            "{failed} change{} failed (see above)",
            plural(failed)
        )));
    }
    Ok(())
}

/// The links to check, from the arguments.
fn settings(args: &AuditArgs) -> Result<PathSettings, Failure> {
    let given = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    };
    let topic_arn = given(&args.topic).ok_or_else(|| {
        Failure::Input(anyhow!(
            "which topic? --topic ARN or CACHEWATCH_TOPIC_ARN (the stack's TopicArn output)"
        ))
    })?;
    Ok(PathSettings {
        topic_arn,
        ingest_endpoint: given(&args.ingest),
        dead_letter_queue: given(&args.dead_letter_queue),
    })
}

/// What `--fix` will change, every call and its effect.
fn show_plan(audit: &PathAudit, clusters: &[TopicFix], out: &mut dyn Write) -> Result<(), Failure> {
    if !clusters.is_empty() {
        writeln!(
            out,
            "\n--fix will set the topic, active, on {}:",
            count(clusters.len())
        )?;
        for fix in clusters {
            writeln!(out, "  {}", describe(fix))?;
        }
    }
    if !audit.fixes.is_empty() {
        writeln!(out, "\n--fix will change the topic:")?;
        for fix in &audit.fixes {
            writeln!(out, "  {}", fix.describe(&audit.coverage.topic_arn))?;
        }
    }
    Ok(())
}

/// The path after the changes.
fn report_after(after: &PathAudit, json: bool, out: &mut dyn Write) -> Result<(), Failure> {
    writeln!(
        out,
        "\nNow {} of {} send their events to cachewatch.",
        after.coverage.covered(),
        after.coverage.resources.len()
    )?;
    if after.problems.is_empty() {
        writeln!(out, "No broken link past the clusters.")?;
    } else {
        writeln!(out, "Still broken (not repaired by --fix):")?;
        for problem in &after.problems {
            writeln!(out, "  {}", problem.describe())?;
        }
    }
    if json {
        write_json(out, after)?;
    }
    Ok(())
}

async fn read(
    elasticache: &ElastiCache,
    path: &AlertPath,
    settings: &PathSettings,
) -> Result<PathAudit, Failure> {
    path.audit(elasticache, settings)
        .await
        .map_err(|e| Failure::Other(anyhow!(e).context("cannot audit the alert path")))
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn count(n: usize) -> String {
    format!(
        "{n} replication group{} or cluster{}",
        if n == 1 { "" } else { "s" },
        if n == 1 { "" } else { "s" }
    )
}

/// One change, in words: what it calls, on what, and whose topic it replaces.
fn describe(fix: &TopicFix) -> String {
    let mut line = format!("{} {}", fix.operation(), fix.resource);
    if !fix.replaces.is_empty() {
        line.push_str(&format!(
            " (replaces {}: whoever reads it stops receiving these events)",
            fix.replaces.join(", ")
        ));
    }
    line
}

/// Asks on the terminal; refuses when nobody can answer.
fn confirm(out: &mut dyn Write) -> Result<bool, Failure> {
    if !std::io::stdin().is_terminal() {
        return Err(Failure::Input(anyhow!(
            "--fix changes clusters: confirm on a terminal, or add --yes; nothing was changed"
        )));
    }
    write!(out, "Apply? [y/N] ")?;
    out.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}
