//! `cachewatch audit [--fix]`: which replication groups and clusters do not send their events to
//! cachewatch's topic, and, with `--fix`, setting it on them after saying what changes.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::anyhow;
use cachewatch_core::fleet::{CoverageAudit, TopicFix, audit_coverage};

use super::{Failure, elasticache, write_json};
use crate::args::AuditArgs;
use crate::render;

pub async fn run(args: &AuditArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let topic = args
        .topic
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            Failure::Input(anyhow!(
                "which topic? --topic ARN or CACHEWATCH_TOPIC_ARN (the stack's TopicArn output)"
            ))
        })?;
    let elasticache = elasticache().await;
    let audit = read(&elasticache, topic).await?;
    if args.json && !args.fix {
        return write_json(out, &audit);
    }
    render::coverage_table(&audit, out)?;
    let plan = audit.fix_plan();
    if !args.fix {
        if !plan.is_empty() {
            writeln!(
                out,
                "`cachewatch audit --fix` sets the topic on {}.",
                count(plan.len())
            )?;
        }
        return Ok(());
    }
    if plan.is_empty() {
        writeln!(out, "Nothing to fix.")?;
        return Ok(());
    }
    writeln!(
        out,
        "\n--fix will set the topic, active, on {}:",
        count(plan.len())
    )?;
    for fix in &plan {
        writeln!(out, "  {}", describe(fix))?;
    }
    if !args.yes && !confirm(out)? {
        return Err(Failure::Input(anyhow!("nothing was changed")));
    }
    let mut failed = 0;
    for fix in &plan {
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
    let after = read(&elasticache, topic).await?;
    writeln!(
        out,
        "\nNow {} of {} send their events to cachewatch.",
        after.covered(),
        after.resources.len()
    )?;
    if args.json {
        write_json(out, &after)?;
    }
    if failed > 0 {
        return Err(Failure::Other(anyhow!(
            "{failed} change{} failed (see above)",
            if failed == 1 { "" } else { "s" }
        )));
    }
    Ok(())
}

async fn read(
    elasticache: &cachewatch_adapters::elasticache::ElastiCache,
    topic: &str,
) -> Result<CoverageAudit, Failure> {
    let fleet = elasticache
        .coverage()
        .await
        .map_err(|e| Failure::Other(anyhow!(e).context("cannot list the clusters")))?;
    Ok(audit_coverage(&fleet, topic))
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
