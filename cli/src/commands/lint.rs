//! `cachewatch lint`: the repository's Redis clients checked against the lint rules.

use std::io::Write;

use anyhow::anyhow;
use cachewatch_lint::{Format, Request, Target, Threshold};

use super::Failure;
use crate::args::{FailOn, LintArgs};

/// Lints the repository (or every repository of `--org-report`), prints the report, and fails
/// (exit 1) when findings reach `--fail-on`.
pub fn run(args: &LintArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let fail_on = match args.fail_on {
        FailOn::Error => Threshold::AtLeast(cachewatch_lint::Severity::Error),
        FailOn::Warning => Threshold::AtLeast(cachewatch_lint::Severity::Warning),
        FailOn::Note => Threshold::AtLeast(cachewatch_lint::Severity::Note),
        FailOn::Never => Threshold::Never,
    };
    let request = Request {
        target: match &args.org_report {
            Some(dir) => Target::Organisation(dir.clone()),
            None => Target::Repository(args.path.clone()),
        },
        rules_dir: args.rules.clone(),
        format: match (args.json, args.sarif) {
            (true, _) => Format::Json,
            (_, true) => Format::Sarif,
            _ => Format::Text,
        },
        fail_on,
    };
    let outcome = cachewatch_lint::run(&request).map_err(|e| Failure::Input(e.into()))?;
    out.write_all(outcome.output.as_bytes())?;
    out.flush()?;
    if outcome.failing > 0 {
        return Err(Failure::Other(anyhow!(
            "{} finding{} at or above --fail-on {}",
            outcome.failing,
            if outcome.failing == 1 { "" } else { "s" },
            format!("{:?}", args.fail_on).to_lowercase()
        )));
    }
    Ok(())
}
